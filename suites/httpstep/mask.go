package httpstep

import (
	"cmp"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const (
	// snippetMax bounds an excerpt of response data in a message, quotes
	// and ellipsis included.
	snippetMax = 120
	// minSecretLen is the shortest secret that is masked: shorter ones
	// would blank out ordinary text. The suites' Masker has the same rule.
	minSecretLen = 3
	maskText     = "****"
)

// masker replaces secrets, in the forms they take on the wire and in
// messages (raw, URL-escaped, JSON- and Go-escaped), with ****.
type masker struct {
	r     *strings.Replacer // nil: nothing to mask
	forms []string          // the strings masked, longest first
}

func newMasker(secrets []string) *masker {
	var forms []string
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		j, _ := json.Marshal(s)
		q := strconv.Quote(s)
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s),
			string(j[1:len(j)-1]), q[1:len(q)-1])
	}
	// Longest first, so a secret that contains another is masked whole.
	slices.SortFunc(forms, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	forms = slices.Compact(forms)
	m := &masker{}
	if len(forms) == 0 {
		return m
	}
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, maskText)
	}
	m.r, m.forms = strings.NewReplacer(pairs...), forms
	return m
}

// mask returns s with every secret replaced.
func (m *masker) mask(s string) string {
	if m.r == nil {
		return s
	}
	return m.r.Replace(s)
}

// partialTail is the length of the longest end of s that is the start of
// a secret: what cut data may show of a secret it cut off.
func (m *masker) partialTail(s string) int {
	n := 0
	for _, f := range m.forms {
		for k := min(len(f)-1, len(s)); k > n; k-- {
			if strings.HasSuffix(s, f[:k]) {
				n = k
				break
			}
		}
	}
	return n
}

// quote is an excerpt of response data for a message: masked, valid UTF-8,
// Go-quoted, at most snippetMax bytes, ending in … when cut. more says the
// data was cut before it got here (the body cap), so that its end may hold
// the start of a secret: that end is not shown.
func (m *masker) quote(b []byte, more bool) string {
	return m.excerpt(string(b), more, true)
}

// clip is like quote, for text that is already quoted or escaped, such as
// JSON text: it is not quoted again.
func (m *masker) clip(s string) string {
	return m.excerpt(s, false, false)
}

func (m *masker) excerpt(s string, more, quoted bool) string {
	s = m.mask(s)
	if more {
		s = s[:len(s)-m.partialTail(s)]
	}
	limit := snippetMax
	if quoted {
		limit -= 2
	}
	// Every rune takes at least as many bytes in the excerpt as in s, so
	// a prefix this long is enough to fill it.
	if len(s) > limit+4 {
		s, more = s[:limit+4], true
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var pieces []string
	n := 0
	for _, r := range s {
		p := string(r)
		if quoted {
			q := strconv.Quote(p)
			p = q[1 : len(q)-1]
		} else if r < ' ' || r == 0x7f {
			p = " "
		}
		pieces = append(pieces, p)
		n += len(p)
	}
	if n > limit {
		more = true
	}
	var b strings.Builder
	if quoted {
		b.WriteByte('"')
	}
	budget := limit
	if more {
		budget -= len("…")
	}
	for _, p := range pieces {
		if b.Len()-boolInt(quoted)+len(p) > budget {
			break
		}
		b.WriteString(p)
	}
	if more {
		b.WriteString("…")
	}
	if quoted {
		b.WriteByte('"')
	}
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// oneLine keeps a message on one line, as the plugin's status line needs.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
