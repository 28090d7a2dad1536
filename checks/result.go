package checks

import (
	"cmp"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Prefix starts every status line.
const Prefix = "SUITECHECK"

// DefaultMaxOutput is the default byte cap of the whole output. Nagios 4
// reads one more 4 KB chunk after a plugin exits, so a fast plugin's output
// beyond about 4–8 KB can be lost; Icinga 2 keeps far more.
const DefaultMaxOutput = 4096

// Result is the outcome of one check run: a state, a one-line summary,
// performance data, and for humans its named parts (cases, layers, tests)
// and more long output lines. Render shows the parts first, in order, then
// Long.
type Result struct {
	State   State
	Summary string
	// Tail ends the status line after the summary ("; " between them) and
	// stays whole when the summary is trimmed to fit the output limit: what
	// the reader must not lose, such as the layer a diagnosis found.
	Tail     string
	Perfdata []Perfdata
	Parts    []Part
	Long     []string
}

// Part is one named part of a result — a case, a layer, a test, the
// tenant — with its own state. Every "[STATE] name time: detail" line of
// the output is a Part's Line.
type Part struct {
	Name  string
	State State
	// Mark, when set, stands for a part that was not judged: Skipped or
	// NotRun (its State is then not shown).
	Mark   string
	Time   time.Duration
	Timed  bool   // show Time
	Detail string // why it failed, was skipped, or is flaky; or what it found
}

// The marks of parts that were not judged.
const (
	Skipped = "SKIPPED"
	NotRun  = "NOT RUN"
)

// Line is the part as a long output line: "[OK] sign in 2.10s",
// "[CRITICAL] upload 5.00s: not seen within 5s", "[SKIPPED] pay: tag…".
func (p Part) Line() string {
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(cmp.Or(p.Mark, p.State.String()))
	b.WriteByte(']')
	if p.Name != "" {
		b.WriteByte(' ')
		b.WriteString(p.Name)
	}
	if p.Timed {
		b.WriteByte(' ')
		b.WriteString(Seconds(p.Time))
	}
	if p.Detail != "" {
		if p.Name != "" || p.Timed {
			b.WriteByte(':')
		}
		b.WriteByte(' ')
		b.WriteString(p.Detail)
	}
	return b.String()
}

// Seconds is a duration as long output shows it: two decimals ("2.10s"),
// three below a tenth of a second ("0.004s"), where two would say 0.00s.
func Seconds(d time.Duration) string {
	if d < 100*time.Millisecond {
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
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
// in a newline. maxBytes caps the whole output (0 means no cap). When the
// status line would not leave room for the first long output line (and a
// note on the lines after it), the KeepIfRoom items of performance data are
// left out, the last first, then the KeepIfRoomLast ones, and a first long
// output line says how many;
// if the status line still does not fit, the summary is trimmed. Other
// items are never cut. Long output is trimmed by whole lines, with a note.
// minSummary is how much of a summary a trimmed status line keeps before
// its Tail is trimmed too.
const minSummary = 40

// Text is the summary and its tail as the status line shows them, untrimmed.
func (r Result) Text() string {
	if r.Tail == "" {
		return r.Summary
	}
	return r.Summary + "; " + r.Tail
}

func (r Result) Render(maxBytes int) string {
	head := Prefix + " " + r.State.String() + " - "
	summary := CleanText(r.Summary)
	if summary == "" {
		summary = "no summary"
	}
	tail := ""
	if r.Tail != "" {
		tail = CleanText("; " + r.Tail)
	}
	var lines []string
	long := make([]string, 0, len(r.Parts)+len(r.Long))
	for _, p := range r.Parts {
		long = append(long, p.Line())
	}
	for _, l := range append(long, r.Long...) {
		for part := range strings.SplitSeq(l, "\n") {
			if c := CleanText(part); c != "" {
				lines = append(lines, c)
			}
		}
	}
	items := make([]string, len(r.Perfdata))
	kept := make([]bool, len(r.Perfdata))
	pdLen := 0 // of " |" and the kept items, each after a space
	for i, p := range r.Perfdata {
		items[i], kept[i] = p.String(), true
		pdLen += len(items[i]) + 1
	}
	if len(items) > 0 {
		pdLen += len(" |")
	}
	// Items that may go make room for the whole summary, and for the first
	// line of long output (failures come first) with the note on the lines
	// cut after it.
	reserve := 0
	if len(lines) > 0 {
		all := 0
		for _, l := range lines {
			all += len(l) + 1
		}
		reserve = min(all, len(lines[0])+1+len(trimNote(len(lines)-1, maxBytes))+1)
	}
	var note string // on the items left out, the first long output line
	firstLen := func() int { return len(head) + len(summary) + len(tail) + pdLen + 1 + len(note) }
	left := 0
	for _, level := range []Keep{KeepIfRoom, KeepIfRoomLast} {
		for i := len(items) - 1; i >= 0 && maxBytes > 0 && firstLen()+reserve > maxBytes; i-- {
			if r.Perfdata[i].Keep != level {
				continue
			}
			kept[i] = false
			pdLen -= len(items[i]) + 1
			if left++; left == len(items) {
				pdLen = 0
			}
			note = fmt.Sprintf("perfdata: %d of %d labels left out to fit --max-output %d\n", left, len(items), maxBytes)
		}
	}
	var pd strings.Builder
	for i, item := range items {
		if !kept[i] {
			continue
		}
		if pd.Len() == 0 {
			pd.WriteString(" |")
		}
		pd.WriteByte(' ')
		pd.WriteString(item)
	}
	if maxBytes > 0 && firstLen() > maxBytes {
		if len(head)+len("...")+pd.Len()+1+len(note) > maxBytes {
			note = "" // only the status line fits, over the limit
		}
		room := maxBytes - len(head) - pd.Len() - 1 - len(note) - len("...")
		if room-len(tail) >= min(len(summary), minSummary) {
			summary = truncateUTF8(summary, room-len(tail)) + "..." + tail
		} else {
			summary = truncateUTF8(summary+tail, max(room, 0)) + "..."
		}
		tail = ""
	}
	first := head + summary + tail + pd.String() + "\n" + note

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
