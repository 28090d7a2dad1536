package checks

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Range is a threshold range in the monitoring-plugins format
// [@]start:end. A value outside start..end (endpoints included) raises an
// alert; with a leading @ a value inside start..end does. start may be ~ for
// negative infinity, an empty end is positive infinity, and a range without a
// colon is 0:end.
//
//	10      alert if < 0 or > 10
//	10:     alert if < 10
//	~:10    alert if > 10
//	10:20   alert if < 10 or > 20
//	@10:20  alert if >= 10 and <= 20
//
// The zero Range is 0:0.
type Range struct {
	Start, End float64 // -Inf and +Inf stand for ~ and an empty end
	Inside     bool    // the @ form: alert inside the range
}

// ParseRange parses a threshold range of plain numbers.
func ParseRange(s string) (Range, error) {
	return parseRange(s, parseNumber, "a number")
}

// ParseDurationRange parses a threshold range whose endpoints are durations:
// plain seconds (1.5) or Go-style with a unit (1.5s, 500ms, 2m, 250us). The
// endpoints are stored in seconds, the unit perfdata uses for times.
func ParseDurationRange(s string) (Range, error) {
	return parseRange(s, parseSeconds, "a duration such as 1.5s, 500ms or 2 (seconds)")
}

func parseRange(s string, num func(string) (float64, error), what string) (Range, error) {
	bad := func(why string) (Range, error) {
		return Range{}, fmt.Errorf("invalid threshold range %q: %s (forms: 10, 10:, ~:10, 10:20, @10:20)", s, why)
	}
	body := strings.TrimSpace(s)
	if body == "" {
		return bad("it is empty")
	}
	var r Range
	if strings.HasPrefix(body, "@") {
		r.Inside = true
		body = body[1:]
	}
	start, end, hasColon := strings.Cut(body, ":")
	if !hasColon {
		start, end = "0", body
	}
	if strings.Contains(end, ":") {
		return bad("more than one colon")
	}
	switch start {
	case "~":
		r.Start = math.Inf(-1)
	case "":
		if hasColon {
			return bad("no start before the colon (use ~ for negative infinity)")
		}
	default:
		v, err := num(start)
		if err != nil {
			return bad(fmt.Sprintf("start %q is not %s", start, what))
		}
		r.Start = v
	}
	if end == "" {
		if !hasColon {
			return bad("no end")
		}
		r.End = math.Inf(1)
	} else {
		v, err := num(end)
		if err != nil {
			return bad(fmt.Sprintf("end %q is not %s", end, what))
		}
		r.End = v
	}
	if r.Start > r.End {
		return bad("start is greater than end")
	}
	return r, nil
}

// Alert reports whether v raises an alert against the range. NaN, a value
// that could not be determined, always does.
func (r Range) Alert(v float64) bool {
	if math.IsNaN(v) {
		return true
	}
	inside := v >= r.Start && v <= r.End
	if r.Inside {
		return inside
	}
	return !inside
}

// String renders the range in the guidelines' format, as perfdata carries it.
func (r Range) String() string {
	var b strings.Builder
	if r.Inside {
		b.WriteByte('@')
	}
	switch {
	case math.IsInf(r.Start, -1):
		b.WriteString("~:")
	case r.Start != 0 || r.Inside || math.IsInf(r.End, 1):
		b.WriteString(FormatNumber(r.Start))
		b.WriteByte(':')
	}
	if !math.IsInf(r.End, 1) {
		b.WriteString(FormatNumber(r.End))
	}
	return b.String()
}

// Thresholds pairs an optional warning and an optional critical range.
type Thresholds struct {
	Warning, Critical *Range
}

// Evaluate returns CRITICAL when v alerts against the critical range, else
// WARNING when it alerts against the warning range, else OK.
func (t Thresholds) Evaluate(v float64) State {
	switch {
	case t.Critical != nil && t.Critical.Alert(v):
		return Critical
	case t.Warning != nil && t.Warning.Alert(v):
		return Warning
	}
	return OK
}

// ParseThresholds parses a warning and a critical range, either of which may
// be empty (no threshold). durations selects ParseDurationRange.
func ParseThresholds(warning, critical string, durations bool) (Thresholds, error) {
	parse := ParseRange
	if durations {
		parse = ParseDurationRange
	}
	var t Thresholds
	if warning != "" {
		r, err := parse(warning)
		if err != nil {
			return t, fmt.Errorf("warning: %w", err)
		}
		t.Warning = &r
	}
	if critical != "" {
		r, err := parse(critical)
		if err != nil {
			return t, fmt.Errorf("critical: %w", err)
		}
		t.Critical = &r
	}
	return t, nil
}

// parseNumber accepts the guidelines' number class: an optional sign, digits
// and at most one decimal point. No exponents, hex, NaN or Inf.
func parseNumber(s string) (float64, error) {
	digits, dot := 0, 0
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dot++
		case (c == '-' || c == '+') && i == 0:
		default:
			return 0, errors.New("not a number")
		}
	}
	if digits == 0 || dot > 1 {
		return 0, errors.New("not a number")
	}
	return strconv.ParseFloat(s, 64)
}

// parseSeconds reads plain seconds or a duration with a unit, in seconds.
func parseSeconds(s string) (float64, error) {
	if v, err := parseNumber(s); err == nil {
		return v, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d.Seconds(), nil
}

// ParseDuration reads a positive duration given as plain seconds ("50",
// "1.5") or with a unit ("1.5s", "500ms", "2m").
func ParseDuration(s string) (time.Duration, error) {
	v, err := parseSeconds(strings.TrimSpace(s))
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid duration %q: use seconds (50, 1.5) or a unit (1.5s, 500ms, 2m)", s)
	}
	if v <= 0 {
		return 0, fmt.Errorf("invalid duration %q: it must be greater than zero", s)
	}
	if v > float64(math.MaxInt64)/float64(time.Second) {
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	return time.Duration(math.Round(v * float64(time.Second))), nil
}

// ParseTimeout reads the -t/--timeout value SECONDS[:STATE]: the run budget
// and the state to report when it runs out (CRITICAL when not given, as the
// monitoring-plugins do).
func ParseTimeout(s string) (time.Duration, State, error) {
	d, st, hasState := strings.Cut(s, ":")
	budget, err := ParseDuration(d)
	if err != nil {
		return 0, Unknown, fmt.Errorf("invalid timeout %q: use SECONDS[:STATE], e.g. 50, 1.5s or 50:UNKNOWN", s)
	}
	state := Critical
	if hasState {
		if state, err = ParseState(st); err != nil {
			return 0, Unknown, fmt.Errorf("invalid timeout %q: the state after the colon must be OK, WARNING, CRITICAL or UNKNOWN", s)
		}
	}
	return budget, state, nil
}
