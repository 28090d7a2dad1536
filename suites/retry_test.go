package suites

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/apptest"
)

// TestRetryFreshContext: against the sample app, case "chat" signs out and
// then fails on its first attempt (a probe answers 503 once). Its retry
// starts from a new browser context in which the required "sign in" was
// replayed: it is signed in again, and passes. The first failure is
// reported with the attempt count, and that attempt's screenshot is kept.
// Without a fresh start, the retry would begin on the sign-in page the
// first attempt left and fail on "Welcome" instead.
func TestRetryFreshContext(t *testing.T) {
	app := apptest.Start(t)
	t.Setenv("SC_TEST_ADMIN", app.Admin)
	tests := []struct {
		name   string
		codes  []int // the probe's answers, in turn; then 200
		state  checks.State
		detail []string // in the case's long output line, in order
		files  []string // artifacts of the case, by suffix
	}{
		{"passes on retry", []int{503}, checks.Warning,
			[]string{"[WARNING] chat ", "flaky: passed on attempt 2 of 3 after: step 5 http: GET /probe: status 503, want 2xx", "artifacts: ", "-chat-attempt1.png"},
			[]string{"-chat-attempt1.html", "-chat-attempt1.png"}},
		{"fails differently", []int{503, 500, 500}, checks.Critical,
			[]string{"[CRITICAL] chat ", "step 5 http: GET /probe: status 503, want 2xx", "failed all 3 attempts",
				"attempts 2, 3 failed differently: step 5 http: GET /probe: status 500",
				"artifacts: ", "-chat-attempt1.png", "-chat-attempt2.png", "-chat-attempt3.png"},
			[]string{"-chat-attempt1.png", "-chat-attempt2.png", "-chat-attempt3.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n := int(calls.Add(1)); n <= len(tt.codes) {
					http.Error(w, "not yet", tt.codes[n-1])
					return
				}
				fmt.Fprint(w, "ok")
			}))
			t.Cleanup(probe.Close)
			artifacts := t.TempDir()
			y := fmt.Sprintf("environments:\n  e: {base_url: %s}\n%s", app.URL, apptest.ProvisionerYAML(app.URL, "SC_TEST_ADMIN")) + `suites:
  web:
    cases:
      - name: sign in
        required: true
        steps:
          - goto: "{{.BaseURL}}/login"
          - fill: {selector: "#login", value: "{{.Tenant.login}}"}
          - fill: {selector: "#password", value: "{{.Tenant.password}}", secret: true}
          - click: "#sign-in"
          - wait_text: "Welcome, {{.Tenant.login}}"
      - name: chat
        retries: 2
        retry_delay: 10ms
        steps:
          - goto: "{{.BaseURL}}/"
          - wait_text: {value: "Welcome, {{.Tenant.login}}", timeout: 3s}
          - click: "#logout"
          - wait_text: Sign in
          - http: {url: "` + probe.URL + `/probe"}
`
			r, out := runYAML(t, y, RunOptions{Suite: "web", Retries: -1, Budget: 40 * time.Second,
				Browser: BrowserOptions{Artifacts: artifacts, KeepRuns: 3}, Tenants: TenantOptions{StateDir: t.TempDir()}})
			if r.State != tt.state {
				t.Errorf("state %v, want %v\n%s", r.State, tt.state, out)
			}
			line := ""
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "] chat ") {
					line = l
				}
			}
			at := 0
			for _, want := range tt.detail {
				i := strings.Index(line[at:], want)
				if i < 0 {
					t.Errorf("the case's line lacks %q (in order):\n%s", want, line)
					break
				}
				at += i + len(want)
			}
			if strings.Contains(out, "Welcome, ") {
				t.Errorf("a retry failed on the page the first attempt left:\n%s", out)
			}
			files, _ := filepath.Glob(filepath.Join(artifacts, "web", "*"))
			for _, suffix := range tt.files {
				if !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, suffix) }) {
					t.Errorf("no artifact *%s among %v", suffix, files)
				}
			}
			if !strings.Contains(out, " browser_start=") {
				t.Errorf("no browser_start:\n%s", out)
			}
		})
	}
}

// TestRetryWait: the back-off waits its delay, ends with the run, and is
// not begun when the run's budget ends within it.
func TestRetryWait(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	tests := []struct {
		name    string
		ctx     context.Context
		d       time.Duration
		want    string
		atLeast time.Duration
	}{
		{"waits", context.Background(), 50 * time.Millisecond, "", 50 * time.Millisecond},
		{"no delay", context.Background(), 0, "", 0},
		{"cancelled", cancelled, time.Minute, "not retried: interrupted (context canceled)", 0},
		{"budget ends within", short, time.Minute, "not retried: the run budget ends within the 1m0s retry delay", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := retryWait(tt.ctx, tt.d)
			el := time.Since(start)
			if got != tt.want {
				t.Errorf("retryWait = %q, want %q", got, tt.want)
			}
			if el < tt.atLeast || el > tt.atLeast+5*time.Second {
				t.Errorf("took %s, want at least %s and not the whole delay", el, tt.atLeast)
			}
		})
	}
}

// TestRetryDelayed: a run whose budget cannot hold the back-off does not
// retry: the first failure is the case's (CRITICAL, not the timeout state)
// and the line says why there was no retry. The case's retry_delay wins
// over the suite's.
func TestRetryDelayed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	y := fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    retry_delay: 10ms\n    cases:\n"+
		"      - name: a\n        retries: 3\n        retry_delay: 50s\n        steps:\n          - http: {url: \"{{.BaseURL}}/\"}\n", srv.URL)
	start := time.Now()
	r, out := runYAML(t, y, RunOptions{Retries: -1, Budget: 5 * time.Second, TimeoutState: checks.Warning})
	if el := time.Since(start); el > 4*time.Second {
		t.Errorf("run took %s: it waited for a retry it could not make", el)
	}
	if r.State != checks.Critical || !strings.Contains(out, "not retried: the run budget ends within the 50s retry delay") {
		t.Errorf("state %v\n%s", r.State, out)
	}
}

// TestSelectCases: --case globs (a name or its label) and --tag choose the
// cases; the others are listed as not selected and have no perfdata;
// required cases before a chosen one run; a pattern or tag that chooses
// nothing is UNKNOWN naming what there is.
func TestSelectCases(t *testing.T) {
	var hits pathLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	step := func(name string) string {
		return fmt.Sprintf("        steps:\n          - http: {url: \"{{.BaseURL}}/%s\"}\n", checks.Label(name))
	}
	y := fmt.Sprintf("environments:\n  e: {base_url: %s, skip_tags: [payments]}\nsuites:\n  s:\n    cases:\n", srv.URL) +
		"      - name: sign in\n        required: true\n" + step("sign in") +
		"      - name: upload file\n        tags: [files]\n" + step("upload file") +
		"      - name: download file\n        tags: [files, slow]\n" + step("download file") +
		"      - name: pay\n        tags: [payments]\n" + step("pay") +
		"      - name: sign out\n" + step("sign out")
	tests := []struct {
		name         string
		cases, tags  []string
		state        checks.State
		summary      string
		ran          []string // paths hit, in order
		long, absent []string
	}{
		{"one case", []string{"upload file"}, nil, checks.OK, "s on e: 2 of 2 cases passed in", []string{"/sign_in", "/upload_file"},
			[]string{"[OK] sign in ", "required: runs before the cases chosen", "[SKIPPED] download file: not selected (--case)", "[SKIPPED] sign out: not selected (--case)", "(3 not selected)"},
			[]string{"download_file=", "sign_out="}},
		{"glob on labels", []string{"*_file"}, nil, checks.OK, "3 of 3 cases passed", []string{"/sign_in", "/upload_file", "/download_file"}, []string{"[SKIPPED] sign out: not selected (--case)"}, nil},
		{"glob on names, repeated", []string{"sign ou?", "upload*"}, nil, checks.OK, "3 of 3 cases passed", []string{"/sign_in", "/upload_file", "/sign_out"}, []string{"required: runs"}, nil},
		{"first case only", []string{"sign in"}, nil, checks.OK, "1 of 1 cases passed", []string{"/sign_in"}, nil, []string{"required: runs"}},
		{"tag", nil, []string{"slow"}, checks.OK, "2 of 2 cases passed", []string{"/sign_in", "/download_file"}, []string{"[SKIPPED] upload file: not selected (--tag)"}, nil},
		{"case and tag", []string{"*file"}, []string{"slow"}, checks.OK, "2 of 2 cases passed", []string{"/sign_in", "/download_file"},
			[]string{"[SKIPPED] upload file: not selected (--tag)", "[SKIPPED] sign out: not selected (--case)"}, nil},
		{"chosen but skipped here", []string{"pay"}, nil, checks.OK, "1 of 1 cases passed", []string{"/sign_in"}, []string{"[SKIPPED] pay: skipped: tag payments is skipped in e"}, nil},
		{"no such case", []string{"uplod"}, nil, checks.Unknown, `--case "uplod": no case of suite s matches it: its cases are "sign in", "upload file", "download file", "pay", "sign out"`, nil, nil, nil},
		{"no such tag", nil, []string{"fast"}, checks.Unknown, `--tag "fast": no case of suite s has it: its tags are "files", "slow", "payments"`, nil, nil, nil},
		{"bad glob", []string{"sign["}, nil, checks.Unknown, `--case "sign[": not a glob`, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.reset()
			r, out := runYAML(t, y, RunOptions{Retries: -1, Cases: tt.cases, Tags: tt.tags})
			if r.State != tt.state || !strings.Contains(r.Summary, tt.summary) {
				t.Errorf("state %v, summary %q\nwant %v, %q\n%s", r.State, r.Summary, tt.state, tt.summary, out)
			}
			if got := hits.list(); !slices.Equal(got, tt.ran) {
				t.Errorf("ran %v, want %v", got, tt.ran)
			}
			for _, l := range tt.long {
				if !strings.Contains(out, l) {
					t.Errorf("output lacks %q:\n%s", l, out)
				}
			}
			for _, l := range tt.absent {
				if strings.Contains(out, l) {
					t.Errorf("output has %q:\n%s", l, out)
				}
			}
		})
	}
}

// TestSelectCasesBounded: the list of cases an unknown --case names is cut.
func TestSelectCasesBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("environments:\n  e: {base_url: http://127.0.0.1:1}\nsuites:\n  s:\n    cases:\n")
	for i := range 200 {
		fmt.Fprintf(&b, "      - {name: case %d, steps: [{http: {url: \"{{.BaseURL}}/\"}}]}\n", i)
	}
	r, _ := runYAML(t, b.String(), RunOptions{Retries: -1, Cases: []string{"nope"}})
	if r.State != checks.Unknown || !strings.HasSuffix(r.Summary, `"case 11" and 188 more (suitecheck list names them all)`) || len(r.Summary) > 400 {
		t.Errorf("state %v, summary (%d bytes) %q", r.State, len(r.Summary), r.Summary)
	}
}

// pathLog records the paths a test server was asked for, in order.
type pathLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *pathLog) add(p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths = append(l.paths, p)
}

func (l *pathLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths = nil
}

func (l *pathLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.paths)
}
