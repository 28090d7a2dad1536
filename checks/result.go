package checks

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Prefix starts every status line.
const Prefix = "SUITECHECK"

// DefaultMaxOutput is the default byte cap of the whole output. Nagios 4
// reads one more 4 KB chunk after a plugin exits, so a fast plugin's output
// beyond about 4–8 KB can be lost; Icinga 2 keeps far more.
const DefaultMaxOutput = 4096

// Result is the outcome of one check run: a state, a one-line summary,
// performance data, and long output lines for humans.
type Result struct {
	State    State
	Summary  string
	Perfdata []Perfdata
	Long     []string
}

// Errorf builds a result with no perfdata from a formatted summary.
func Errorf(state State, format string, args ...any) Result {
	return Result{State: state, Summary: fmt.Sprintf(format, args...)}
}

// FromError builds an UNKNOWN result from an error: our own mistake or the
// user's, never the app's. The message becomes the one-line summary.
func FromError(err error) Result {
	if err == nil {
		return Result{State: Unknown, Summary: "no result"}
	}
	return Result{State: Unknown, Summary: err.Error()}
}

// CleanText makes text safe for the text part of plugin output: '|' would
// start performance data and Nagios turns ';' into ':', so they become '/'
// and ','; line breaks and control characters become spaces; invalid UTF-8
// is replaced.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '|':
			r = '/'
		case r == ';':
			r = ','
		case r == '\t':
			r = ' '
		case r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029':
			r = ' '
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// Render returns the plugin output: the status line
//
//	SUITECHECK <STATE> - <summary> | <perfdata>
//
// with all performance data on it (Icinga 2 reads perfdata on later lines
// only in a narrow form), then one long output line per entry, each ending
// in a newline. maxBytes caps the whole output (0 means no cap): long output
// is trimmed by whole lines with a note saying so, then the summary; the
// performance data is never cut.
func (r Result) Render(maxBytes int) string {
	head := Prefix + " " + r.State.String() + " - "
	summary := CleanText(r.Summary)
	if summary == "" {
		summary = "no summary"
	}
	var pd string
	if len(r.Perfdata) > 0 {
		items := make([]string, 0, len(r.Perfdata))
		for _, p := range r.Perfdata {
			items = append(items, p.String())
		}
		pd = " | " + strings.Join(items, " ")
	}
	if maxBytes > 0 && len(head)+len(summary)+len(pd)+1 > maxBytes {
		room := maxBytes - len(head) - len(pd) - 1 - len("...")
		summary = truncateUTF8(summary, max(room, 0)) + "..."
	}
	first := head + summary + pd + "\n"

	var lines []string
	for _, l := range r.Long {
		for part := range strings.SplitSeq(l, "\n") {
			if c := CleanText(part); c != "" {
				lines = append(lines, c)
			}
		}
	}
	var b strings.Builder
	b.WriteString(first)
	total := b.Len()
	for _, l := range lines {
		total += len(l) + 1
	}
	if maxBytes <= 0 || total <= maxBytes {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		return b.String()
	}
	// Not everything fits: keep whole lines while room remains for the note
	// about the lines that follow.
	for i, l := range lines {
		if b.Len()+len(l)+1+len(trimNote(len(lines)-i-1, maxBytes))+1 > maxBytes {
			if note := trimNote(len(lines)-i, maxBytes); b.Len()+len(note)+1 <= maxBytes {
				b.WriteString(note)
				b.WriteByte('\n')
			}
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func trimNote(n, maxBytes int) string {
	return fmt.Sprintf("(%d more lines cut by --max-output %d)", n, maxBytes)
}

// Shorten folds runs of white space (line breaks included) into single
// spaces and cuts s to at most n bytes, without splitting a character,
// marking a cut with "...".
func Shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, max(n-3, 0)) + "..."
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRight(s[:n], " ")
}
