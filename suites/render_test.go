package suites

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/checks"
)

// TestRunManyCasesKeepSummary: with 200 cases the perfdata alone would
// fill the output limit; the status line still names the failed case, and
// the labels left out are the passing cases' own, said in the long output.
func TestRunManyCasesKeepSummary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	var y strings.Builder
	fmt.Fprintf(&y, "environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    cases:\n", srv.URL)
	const n = 200
	for i := range n {
		path := "/ok"
		if i == 150 {
			path = "/broken"
		}
		fmt.Fprintf(&y, "      - name: case number %d\n        steps:\n          - http: {url: \"{{.BaseURL}}%s\"}\n", i, path)
	}
	r, out := runYAML(t, y.String(), RunOptions{Retries: -1})
	if r.State != checks.Critical {
		t.Fatalf("state %v, want CRITICAL\n%s", r.State, out)
	}
	first, long, _ := strings.Cut(out, "\n")
	text, pd, ok := strings.Cut(first, " | ")
	if !ok {
		t.Fatalf("no perfdata on the status line: %q", first)
	}
	if want := "SUITECHECK CRITICAL - s on e: 1 of 200 cases failed: case number 150 (step 1 http: GET /broken: status 503"; !strings.HasPrefix(text, want) {
		t.Errorf("status line text = %q\nwant prefix %q", text, want)
	}
	if len(out) > checks.DefaultMaxOutput {
		t.Errorf("output is %d bytes, over %d", len(out), checks.DefaultMaxOutput)
	}
	labels := map[string]bool{}
	for _, item := range strings.Fields(pd) {
		label, _, _ := strings.Cut(item, "=")
		labels[label] = true
	}
	for _, l := range []string{"time", "failed", "case_number_150", "case_number_0"} {
		if !labels[l] {
			t.Errorf("perfdata lacks %s (%d labels kept)", l, len(labels))
		}
	}
	if labels["case_number_199"] {
		t.Errorf("the last passing case's label kept while the summary was trimmed (%d labels)", len(labels))
	}
	left := n + 2 - len(labels)
	if want := fmt.Sprintf("perfdata: %d of %d labels left out to fit --max-output %d", left, n+2, checks.DefaultMaxOutput); !strings.Contains(long, want) {
		t.Errorf("long output lacks %q:\n%s", want, long)
	}
}

// An outage: 200 cases, all failed. The status line still says so, within
// the output limit: failed cases' labels go too, the last first, before
// the summary (they all stayed, and the summary became "...").
func TestRunAllCasesFailedKeepSummary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	var y strings.Builder
	fmt.Fprintf(&y, "environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    cases:\n", srv.URL)
	for i := range 200 {
		fmt.Fprintf(&y, "      - name: login check %d\n        steps:\n          - http: {url: \"{{.BaseURL}}/x\"}\n", i)
	}
	r, out := runYAML(t, y.String(), RunOptions{Retries: -1})
	first, _, _ := strings.Cut(out, "\n")
	text, pd, _ := strings.Cut(first, " | ")
	if r.State != checks.Critical || !strings.HasPrefix(text, "SUITECHECK CRITICAL - s on e: 200 of 200 cases failed: login check 0 (") {
		t.Errorf("status line %q", text)
	}
	if len(out) > checks.DefaultMaxOutput {
		t.Errorf("output is %d bytes, over %d", len(out), checks.DefaultMaxOutput)
	}
	if !strings.Contains(pd, "time=") || !strings.Contains(pd, "failed=200;") || strings.Contains(pd, "login_check_199=") {
		t.Errorf("perfdata %q: want time and failed kept, the last case's label left out", pd)
	}
}
