package suites

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/suitecheck/suitecheck/checks"
)

// The suite's diagnose steps run once, after the first failed case; never
// when every case passes; their finding is named after the failures and
// never changes the state.
func TestRunDiagnose(t *testing.T) {
	var diags atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/diag":
			diags.Add(1)
			http.Error(w, "database down", http.StatusServiceUnavailable)
		case "/fail":
			http.Error(w, "upload failed", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	suite := func(paths ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    diagnose:\n      - http: {url: \"{{.BaseURL}}/diag\"}\n    cases:\n", srv.URL)
		for i, p := range paths {
			fmt.Fprintf(&b, "      - name: c%d\n        steps: [{http: {url: \"{{.BaseURL}}%s\"}}]\n", i, p)
		}
		return b.String()
	}
	for _, tt := range []struct {
		name  string
		paths []string
		runs  int32
		state checks.State
	}{
		{"all pass", []string{"/ok", "/ok"}, 0, checks.OK},
		{"two fail", []string{"/ok", "/fail", "/fail"}, 1, checks.Critical},
	} {
		t.Run(tt.name, func(t *testing.T) {
			diags.Store(0)
			res, out := runYAML(t, suite(tt.paths...), RunOptions{Retries: -1})
			if diags.Load() != tt.runs || res.State != tt.state {
				t.Fatalf("diagnose ran %d times, state %v; want %d, %v\n%s", diags.Load(), res.State, tt.runs, tt.state, out)
			}
			if tt.runs == 0 {
				if strings.Contains(out, "diagnos") {
					t.Errorf("a diagnosis without a failure:\n%s", out)
				}
				return
			}
			first, _, _ := strings.Cut(out, "\n")
			if want := "2 of 3 cases failed: c1 ("; !strings.Contains(first, want) || !strings.Contains(first, ", diagnosis: http: GET /diag: status 503") {
				t.Errorf("status line %q", first)
			}
		})
	}
}

// A diagnose step that cannot run is a note in the long output, not a
// finding: the next step's finding is the diagnosis, and the steps after
// the first finding do not run.
func TestDiagnoseNotes(t *testing.T) {
	var after atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/lb":
			http.Error(w, "no backend", http.StatusBadGateway)
		case "/after":
			after.Add(1)
		case "/fail":
			http.Error(w, "upload failed", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	cfg := fmt.Sprintf(`environments:
  e: {base_url: %s}
suites:
  s:
    diagnose:
      - http: {url: "{{.BaseURL}}/{{.Vars.missing}}"}
      - http: {url: "{{.BaseURL}}/ok"}
      - http: {url: "{{.BaseURL}}/lb"}
      - http: {url: "{{.BaseURL}}/after"}
    cases:
      - name: upload
        steps: [{http: {url: "{{.BaseURL}}/fail"}}]
`, srv.URL)
	res, out := runYAML(t, cfg, RunOptions{Retries: -1})
	if res.State != checks.Critical {
		t.Fatalf("state %v, want CRITICAL (a diagnosis never changes it)\n%s", res.State, out)
	}
	first, _, _ := strings.Cut(out, "\n")
	if !strings.Contains(first, ", diagnosis: http: GET /lb: status 502") {
		t.Errorf("status line %q, want the first broken layer", first)
	}
	for _, want := range []string{
		"diagnose step 1 http (line 6): could not run: ",
		"diagnose step 2 http: passed",
		"diagnose step 3 http: GET /lb: status 502",
	} {
		if !strings.Contains(out, "\n"+want) {
			t.Errorf("long output lacks %q:\n%s", want, out)
		}
	}
	if after.Load() != 0 || strings.Contains(out, "diagnose step 4") {
		t.Errorf("a step after the finding ran (%d requests):\n%s", after.Load(), out)
	}
}

func TestDiagnoseConfigErrors(t *testing.T) {
	head := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps: [{sql: {dsn: x, query: SELECT 1}}]\n"
	if _, err := Parse("c.yaml", []byte(head+"    diagnose: [{goto: https://x}]\n")); err == nil || !strings.Contains(err.Error(), "suite s diagnose: use http, sql, check_http or check_postgres steps, not browser steps") {
		t.Errorf("browser diagnose: %v", err)
	}
}
