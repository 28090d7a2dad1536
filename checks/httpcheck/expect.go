package httpcheck

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultExpect is the status set when -e is not given: any 2xx or 3xx
// answer, as check_http's users expect a page that is up (check_http
// itself warns on 4xx and is critical on 5xx; here a 4xx is as wrong as a
// 5xx: the page a check names should not be missing or forbidden).
const DefaultExpect = "200-399"

// statusSet is the set of expected status codes: ranges, inclusive.
type statusSet struct {
	ranges [][2]int
	text   string // as given, normalised: "200,301-302"
}

// maxExpectItems bounds -e: nobody lists more codes than exist.
const maxExpectItems = 500

// parseStatusSet reads -e/--expect (name, for messages): a comma-separated
// list of codes (200), ranges (301-302) and classes (2xx).
func parseStatusSet(s, name string) (statusSet, error) {
	bad := func(item, why string) (statusSet, error) {
		return statusSet{}, fmt.Errorf("%s %q: %s %s (use codes, ranges and classes: 200,301-302,2xx)", name, s, strconv.Quote(item), why)
	}
	if strings.TrimSpace(s) == "" {
		return statusSet{}, fmt.Errorf("%s is empty: give status codes, e.g. 200,301-302 or 2xx", name)
	}
	items := strings.Split(s, ",")
	if len(items) > maxExpectItems {
		return statusSet{}, fmt.Errorf("%s: %d items, at most %d", name, len(items), maxExpectItems)
	}
	var set statusSet
	var norm []string
	for _, item := range items {
		item = strings.TrimSpace(item)
		var lo, hi int
		switch {
		case item == "":
			return bad(item, "is empty")
		case len(item) == 3 && strings.HasSuffix(strings.ToLower(item), "xx"):
			c := item[0]
			if c < '1' || c > '5' {
				return bad(item, "is not a status class 1xx to 5xx")
			}
			lo = int(c-'0') * 100
			hi = lo + 99
			item = strings.ToLower(item)
		default:
			a, b, isRange := strings.Cut(item, "-")
			var err error
			if lo, err = code(a); err != nil {
				return bad(item, err.Error())
			}
			hi = lo
			if isRange {
				if hi, err = code(b); err != nil {
					return bad(item, err.Error())
				}
				if hi < lo {
					return bad(item, "runs backwards")
				}
			}
		}
		set.ranges = append(set.ranges, [2]int{lo, hi})
		norm = append(norm, item)
	}
	set.text = strings.Join(norm, ",")
	return set, nil
}

// code reads one status code, 100 to 599.
func code(s string) (int, error) {
	s = strings.TrimSpace(s)
	if len(s) != 3 {
		return 0, errors.New("is not a status code (three digits, 100 to 599)")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, errors.New("is not a status code (three digits, 100 to 599)")
	}
	return n, nil
}

// has reports whether code is in the set.
func (s statusSet) has(code int) bool {
	for _, r := range s.ranges {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

func (s statusSet) String() string { return s.text }
