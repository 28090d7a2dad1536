package checks

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/<name>, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./checks -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func sampleResult(t *testing.T) Result {
	caseTh, err := ParseThresholds("3s", "8s", true)
	if err != nil {
		t.Fatal(err)
	}
	total, err := ParseThresholds("10", "20", true)
	if err != nil {
		t.Fatal(err)
	}
	return Result{
		State:   Critical,
		Summary: `login on production: 1 of 3 cases failed: upload (no "hello.txt" after 5s)`,
		Perfdata: []Perfdata{
			Duration("time", 12310*time.Millisecond, total),
			Duration("tenant_create", 420*time.Millisecond, Thresholds{}),
			Duration("sign_in", 2100*time.Millisecond, Thresholds{}),
			Duration("upload", 5*time.Second, caseTh),
			Duration("api", 210*time.Millisecond, Thresholds{}),
			Duration("tenant_delete", 180*time.Millisecond, Thresholds{}),
			{Label: "failed", Value: 1, Crit: mustRange(t, "0"), Min: Float(0), Max: Float(3)},
		},
		Long: []string{
			"[OK] sign_in 2.10s",
			`[CRITICAL] upload 5.00s: wait_text "hello.txt" timed out after 5s (screenshot: /var/lib/suitecheck/artifacts/login/20261124T155012Z-upload.png)`,
			"[OK] api 0.21s",
			"tenant sc-7f3a2c created (id 1234) in 0.42s, deleted in 0.18s",
		},
	}
}

// manyCases is a run of 200 cases, one failed: its perfdata alone is
// longer than the default output limit.
func manyCases(t *testing.T) Result {
	r := Result{State: Critical, Summary: `shop on production: 1 of 200 cases failed: checkout 17 (wait_text "paid" not seen within 5s)`}
	r.Perfdata = append(r.Perfdata, Duration("time", 41*time.Second, Thresholds{}), Duration("tenant_create", 420*time.Millisecond, Thresholds{}))
	for i := range 200 {
		name := fmt.Sprintf("checkout %d", i)
		p := Duration(Label(name), time.Duration(100+i)*time.Millisecond, Thresholds{})
		line := fmt.Sprintf("[OK] %s %.2fs", name, p.Value)
		if i == 17 {
			p.Value = 5
			line = fmt.Sprintf(`[CRITICAL] %s 5.00s: wait_text "paid" not seen within 5s`, name)
			r.Long = append([]string{line}, r.Long...)
		} else {
			p.Keep = KeepIfRoom
			r.Long = append(r.Long, line)
		}
		r.Perfdata = append(r.Perfdata, p)
	}
	r.Perfdata = append(r.Perfdata, Duration("tenant_delete", 180*time.Millisecond, Thresholds{}),
		Perfdata{Label: "failed", Value: 1, Min: Float(0), Max: Float(200)},
		Perfdata{Label: "swept", Value: 0, Min: Float(0)})
	return r
}

func TestRenderGolden(t *testing.T) {
	long := sampleResult(t)
	for i := 0; i < 200; i++ {
		long.Long = append(long.Long, "[OK] generated case number "+strings.Repeat("x", i%40))
	}
	tests := []struct {
		name string
		r    Result
		max  int
	}{
		{"design-example", sampleResult(t), DefaultMaxOutput},
		{"ok-no-perfdata", Result{State: OK, Summary: "all good"}, DefaultMaxOutput},
		{"text-sanitised", Result{State: Warning, Summary: "a|b; c\nd\te", Long: []string{"x | y ; z", "", "two\nlines"}}, DefaultMaxOutput},
		{"long-trimmed", long, DefaultMaxOutput},
		{"small-cap", sampleResult(t), 300},
		{"uncapped", long, 0},
		{"empty-summary", Result{State: Unknown}, DefaultMaxOutput},
		{"many-cases", manyCases(t), DefaultMaxOutput},
		{"many-cases-uncapped", manyCases(t), 0},
		{"many-cases-summary-trimmed", manyCases(t), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := tt.r.Render(tt.max)
			golden(t, filepath.Join("render", tt.name+".golden"), out)
			checkContract(t, tt.r, out, tt.max)
		})
	}
}

// checkContract asserts the properties every rendering must have.
func checkContract(t *testing.T, r Result, out string, maxBytes int) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end in a newline: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	first, rest := lines[0], lines[1:]
	wantPrefix := Prefix + " " + r.State.String() + " - "
	if !strings.HasPrefix(first, wantPrefix) {
		t.Errorf("status line %q does not start with %q", first, wantPrefix)
	}
	text, pd, hasPD := strings.Cut(first, " | ")
	if strings.ContainsAny(text, "|;") {
		t.Errorf("text part holds | or ;: %q", text)
	}
	left := 0 // items left out
	if len(r.Perfdata) > 0 {
		// The items kept, in order: all but KeepIfRoom ones, which may go.
		rest := pd
		for _, p := range r.Perfdata {
			item := p.String()
			if after, ok := strings.CutPrefix(rest, item); ok && (after == "" || after[0] == ' ') {
				rest = strings.TrimPrefix(after, " ")
				continue
			}
			if p.Keep == KeepAlways {
				t.Fatalf("perfdata %s cut or changed: %q", item, pd)
			}
			left++
		}
		if rest != "" {
			t.Errorf("perfdata holds more than the items: %q", rest)
		}
		// A failed case's item goes only once every passing one has.
		for _, p := range r.Perfdata {
			if p.Keep == KeepIfRoom && strings.Contains(" "+pd+" ", " "+p.String()+" ") {
				for _, q := range r.Perfdata {
					if q.Keep == KeepIfRoomLast && !strings.Contains(" "+pd+" ", " "+q.String()+" ") {
						t.Errorf("%s left out while %s was kept", q.String(), p.String())
					}
				}
			}
		}
		if left < len(r.Perfdata) && !hasPD {
			t.Fatalf("status line has no perfdata: %q", first)
		}
	}
	note := fmt.Sprintf("perfdata: %d of %d labels left out to fit --max-output %d", left, len(r.Perfdata), maxBytes)
	switch {
	case left > 0 && (len(rest) == 0 || rest[0] != note) && len(first)+len(note)+2 <= maxBytes:
		t.Errorf("%d perfdata items left out without the note %q first in long output", left, note)
	case left > 0 && strings.HasSuffix(text, "..."):
		for _, p := range r.Perfdata {
			if p.Keep != KeepAlways && strings.Contains(" "+pd+" ", " "+p.String()+" ") {
				t.Errorf("summary trimmed while %s was kept", p.String())
			}
		}
	case left == 0 && len(rest) > 0 && strings.HasPrefix(rest[0], "perfdata: "):
		t.Errorf("a note on perfdata with none left out: %q", rest[0])
	}
	for _, l := range rest {
		if strings.ContainsAny(l, "|;") {
			t.Errorf("long output line holds | or ;: %q", l)
		}
	}
	if maxBytes > 0 && len(out) > maxBytes && len(first)+1 < maxBytes {
		t.Errorf("output is %d bytes, over the cap %d", len(out), maxBytes)
	}
	if !utf8.ValidString(out) {
		t.Errorf("output is not valid UTF-8")
	}
}

func TestRenderCaps(t *testing.T) {
	for _, tt := range []struct {
		base   Result
		stride int // every cap up to 400, then every stride-th
	}{{sampleResult(t), 1}, {manyCases(t), 7}} {
		base := tt.base
		full := base.Render(0)
		for cap := 1; cap <= len(full)+10; cap += max(1, min(cap/400*tt.stride, tt.stride)) {
			out := base.Render(cap)
			checkContract(t, base, out, cap)
			if cap >= len(full) && out != full {
				t.Fatalf("Render(%d) trimmed output that fits (%d bytes)", cap, len(full))
			}
			// Long output lines are cut with a note, unless nothing but the
			// status line (and the note on its perfdata) fits.
			longOut := strings.Count(out, "\n") - 1 - strings.Count(out, "\nperfdata: ")
			if len(out) < len(full) && !strings.Contains(out, "more lines cut by --max-output") && longOut > 0 {
				for _, l := range base.Long {
					if !strings.Contains(out, "\n"+l+"\n") {
						t.Fatalf("Render(%d) dropped line %q without a note:\n%s", cap, l, out)
					}
				}
			}
		}
	}
}

// TestRenderKeepsSummaryOverPassingCases: when the status line does not fit,
// the passing cases' items go first and the summary stays whole.
func TestRenderKeepsSummaryOverPassingCases(t *testing.T) {
	r := manyCases(t)
	out := r.Render(DefaultMaxOutput)
	first, _, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, wantLine(r)) {
		t.Errorf("status line = %.200q…\nwant the whole summary: %q", first, wantLine(r))
	}
	for _, label := range []string{"time", "tenant_create", "checkout_17", "tenant_delete", "failed", "swept", "checkout_0"} {
		if !strings.Contains(first, " "+label+"=") {
			t.Errorf("status line lacks %s: %q", label, first)
		}
	}
	if strings.Contains(first, " checkout_199=") {
		t.Errorf("the last passing case kept while items were left out")
	}
}

func wantLine(r Result) string {
	return Prefix + " " + r.State.String() + " - " + r.Summary + " | "
}

func TestRenderSummaryTrimmedNotPerfdata(t *testing.T) {
	r := Result{State: Critical, Summary: strings.Repeat("é", 3000), Perfdata: []Perfdata{{Label: "time", Value: 1, UOM: "s"}}, Long: []string{"line"}}
	out := r.Render(200)
	if len(out) > 200 {
		t.Errorf("output is %d bytes, want <= 200", len(out))
	}
	if !strings.HasSuffix(out, "... | time=1s\n") {
		t.Errorf("summary not trimmed with ... before intact perfdata: %q", out)
	}
	if !utf8.ValidString(out) {
		t.Errorf("trim split a character: %q", out)
	}
}

func TestFromError(t *testing.T) {
	r := FromError(os.ErrNotExist)
	if r.State != Unknown || r.Summary != "file does not exist" {
		t.Errorf("FromError = %+v", r)
	}
	if got := FromError(nil); got.State != Unknown {
		t.Errorf("FromError(nil).State = %v, want UNKNOWN", got.State)
	}
	if got := Errorf(Warning, "x=%d", 1); got.State != Warning || got.Summary != "x=1" {
		t.Errorf("Errorf = %+v", got)
	}
}

func TestShorten(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"a  b\nc", 10, "a b c"},
		{"hello world", 8, "hello..."},
		{"ééééé", 6, "é..."},
		{"abc", 2, "..."},
	} {
		if got := Shorten(tt.in, tt.n); got != tt.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// Every "[STATE] name time: detail" line of the product is a Part's Line:
// one set of words, one precision.
func TestPartLine(t *testing.T) {
	tests := []struct {
		p    Part
		want string
	}{
		{Part{Name: "sign in", State: OK, Time: 2100 * time.Millisecond, Timed: true}, "[OK] sign in 2.10s"},
		{Part{Name: "upload", State: Critical, Time: 5 * time.Second, Timed: true, Detail: "not seen within 5s"}, "[CRITICAL] upload 5.00s: not seen within 5s"},
		{Part{Name: "1/8 reachable", State: OK, Time: 1500 * time.Microsecond, Timed: true}, "[OK] 1/8 reachable 0.002s"},
		{Part{Name: "a", State: OK, Time: 99 * time.Millisecond, Timed: true}, "[OK] a 0.099s"},
		{Part{Name: "a", State: OK, Time: 100 * time.Millisecond, Timed: true}, "[OK] a 0.10s"},
		{Part{Name: "a", State: OK, Timed: true}, "[OK] a 0.000s"},
		{Part{Name: "pay", Mark: Skipped, Detail: "tag payments is skipped"}, "[SKIPPED] pay: tag payments is skipped"},
		{Part{Name: "5/8 extensions", Mark: NotRun}, "[NOT RUN] 5/8 extensions"},
		{Part{State: Warning, Detail: "tenant sc-x NOT deleted"}, "[WARNING] tenant sc-x NOT deleted"},
	}
	for _, tt := range tests {
		if got := tt.p.Line(); got != tt.want {
			t.Errorf("Line() = %q, want %q", got, tt.want)
		}
	}
	r := Result{State: OK, Summary: "s", Parts: []Part{{Name: "a", State: OK}}, Long: []string{"note"}}
	if got := r.Render(0); got != "SUITECHECK OK - s\n[OK] a\nnote\n" {
		t.Errorf("Render = %q: want the parts, then Long", got)
	}
}

// TestRenderKeepsTail: a summary trimmed to fit the limit keeps its tail
// (a diagnosis) whole; only when the limit leaves no room for both is the
// tail cut too, never the perfdata that must stay.
func TestRenderKeepsTail(t *testing.T) {
	r := Result{State: Critical,
		Summary:  "2 of 5 cases failed: upload (" + strings.Repeat("a long reason ", 20) + "), file row (n = 0)",
		Tail:     "diagnosis: check_postgres: layer 8/8 writable: no INSERT privilege",
		Perfdata: []Perfdata{{Label: "failed", Value: 2}}}
	tests := []struct {
		max      int
		wantTail bool
	}{
		{0, true}, {4096, true}, {300, true}, {200, true}, {120, false},
	}
	for _, tt := range tests {
		out := r.Render(tt.max)
		first, _, _ := strings.Cut(out, "\n")
		if tt.max > 0 && len(out) > tt.max {
			t.Errorf("max %d: %d bytes", tt.max, len(out))
		}
		if !strings.HasSuffix(first, " | failed=2") {
			t.Errorf("max %d: perfdata lost: %q", tt.max, first)
		}
		if got := strings.Contains(first, ", diagnosis: check_postgres: layer 8/8 writable: no INSERT privilege |"); got != tt.wantTail {
			t.Errorf("max %d: tail whole = %v, want %v: %q", tt.max, got, tt.wantTail, first)
		}
		if !strings.HasPrefix(first, "SUITECHECK CRITICAL - 2 of 5 cases failed: upload (") {
			t.Errorf("max %d: %q", tt.max, first)
		}
	}
	if got := r.Text(); !strings.HasSuffix(got, "; diagnosis: check_postgres: layer 8/8 writable: no INSERT privilege") {
		t.Errorf("Text() = %q", got)
	}
}
