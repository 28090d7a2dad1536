package checks

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Units of measure allowed in performance data by the guidelines.
const (
	UOMNone         = ""
	UOMSeconds      = "s"
	UOMMilliseconds = "ms"
	UOMMicroseconds = "us"
	UOMPercent      = "%"
	UOMBytes        = "B"
	UOMKilobytes    = "KB"
	UOMMegabytes    = "MB"
	UOMTerabytes    = "TB"
	UOMCounter      = "c"
)

var validUOM = map[string]bool{
	UOMNone: true, UOMSeconds: true, UOMMilliseconds: true, UOMMicroseconds: true,
	UOMPercent: true, UOMBytes: true, UOMKilobytes: true, UOMMegabytes: true,
	UOMTerabytes: true, UOMCounter: true,
}

// Perfdata is one item of performance data:
//
//	'label'=value[UOM];[warn];[crit];[min];[max]
type Perfdata struct {
	Label string
	Value float64 // NaN renders as U: the value could not be determined
	UOM   string
	Warn  *Range
	Crit  *Range
	Min   *float64
	Max   *float64
	// Keep says whether Render may leave the item out of a status line
	// that would not fit the output limit otherwise.
	Keep Keep
}

// Keep ranks an item of performance data for a status line that cannot
// hold everything within the output limit.
type Keep int

const (
	// KeepAlways items are never left out: totals, counts, the items of
	// what failed. The zero value.
	KeepAlways Keep = iota
	// KeepIfRoom items (a passing case's time) are left out, the last
	// first, before the summary is trimmed.
	KeepIfRoom
	// KeepIfRoomLast items (a failed case's time) are left out after every
	// KeepIfRoom item, the last first, and still before the summary is
	// trimmed: the summary names what failed.
	KeepIfRoomLast
)

// Float returns a pointer to v, for Perfdata's Min and Max.
func Float(v float64) *float64 { return &v }

// Duration builds a time item in seconds with min 0 and the given thresholds.
func Duration(label string, d time.Duration, t Thresholds) Perfdata {
	return Perfdata{Label: label, Value: RoundSeconds(d), UOM: UOMSeconds, Warn: t.Warning, Crit: t.Critical, Min: Float(0)}
}

// RoundSeconds returns d in seconds, rounded to the millisecond: the
// precision a monitoring graph can use, without float noise in the output.
func RoundSeconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1000) / 1000
}

// Validate reports what makes the item unrenderable: an empty label, an
// unknown UOM, or an infinite min or max.
func (p Perfdata) Validate() error {
	if CleanLabel(p.Label) == "" {
		return fmt.Errorf("perfdata label %q is empty", p.Label)
	}
	if !validUOM[p.UOM] {
		return fmt.Errorf("perfdata %q: unit %q is not one of s, ms, us, %%, B, KB, MB, TB, c", p.Label, p.UOM)
	}
	for _, f := range []*float64{p.Min, p.Max} {
		if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
			return fmt.Errorf("perfdata %q: min and max must be finite numbers", p.Label)
		}
	}
	return nil
}

// String renders the item. Empty trailing fields are dropped, numbers never
// use exponent notation, and the label is cleaned and quoted as needed.
func (p Perfdata) String() string {
	var b strings.Builder
	b.WriteString(QuoteLabel(p.Label))
	b.WriteByte('=')
	if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
		b.WriteByte('U')
	} else {
		b.WriteString(FormatNumber(p.Value))
		b.WriteString(p.UOM)
	}
	fields := [4]string{}
	if p.Warn != nil {
		fields[0] = p.Warn.String()
	}
	if p.Crit != nil {
		fields[1] = p.Crit.String()
	}
	if p.Min != nil && !math.IsNaN(*p.Min) && !math.IsInf(*p.Min, 0) {
		fields[2] = FormatNumber(*p.Min)
	}
	if p.Max != nil && !math.IsNaN(*p.Max) && !math.IsInf(*p.Max, 0) {
		fields[3] = FormatNumber(*p.Max)
	}
	last := -1
	for i, f := range fields {
		if f != "" {
			last = i
		}
	}
	for _, f := range fields[:last+1] {
		b.WriteByte(';')
		b.WriteString(f)
	}
	return b.String()
}

// FormatNumber renders v in plain decimal notation, never with an exponent,
// with no more digits than needed.
func FormatNumber(v float64) string {
	if v == 0 {
		return "0" // also for -0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// CleanLabel makes a name safe as a perfdata label: '=' (which ends a label)
// becomes '_', control characters and line breaks become spaces, and runs of
// spaces are folded. The result may still need quoting (QuoteLabel).
func CleanLabel(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '=':
			r = '_'
		case r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '|':
			r = ' '
		}
		if r == ' ' {
			if space || b.Len() == 0 {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

// QuoteLabel cleans a label and wraps it in single quotes when it holds
// anything beyond letters, digits, '_', '-', '.' and '/'. A quote inside a
// quoted label is doubled, as the guidelines ask.
func QuoteLabel(s string) string {
	s = CleanLabel(s)
	if s == "" {
		s = "_"
	}
	plain := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' || r == '/') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Label builds a perfdata label from a free-form name (a case, a test): lower
// case, with every run of characters outside [a-z0-9_.-] turned into one '_'.
// Unlike QuoteLabel it never needs quotes, which keeps labels easy to use in
// graphing tools.
func Label(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
			under = false
			continue
		}
		if !under && b.Len() > 0 {
			b.WriteByte('_')
		}
		under = true
	}
	out := strings.TrimRight(b.String(), "_")
	if out == "" {
		return "_"
	}
	return out
}
