package suites

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/apptest"
)

// perfValue is the value of a perfdata item of res, and whether it is there.
func perfValue(res checks.Result, label string) (float64, bool) {
	i := slices.IndexFunc(res.Perfdata, func(p checks.Perfdata) bool { return p.Label == label })
	if i < 0 {
		return 0, false
	}
	return res.Perfdata[i].Value, true
}

// TestBrowserStart: Chromium's start-up is browser_start, reported before
// the cases, and the clock of the first browser case starts only once the
// page is ready: launched at that case, or ahead of it while the tenant is
// made. A run without a browser case has no browser_start.
func TestBrowserStart(t *testing.T) {
	srv := webApp(t)
	app := apptest.Start(t)
	t.Setenv("SC_TEST_ADMIN", app.Admin)
	const cases = `      - name: api
        steps:
          - http: {url: "{{.BaseURL}}/login"}
      - name: page
        steps:
          - goto: "{{.BaseURL}}/login"
          - assert_title: Sign in
      - name: again
        steps:
          - goto: "{{.BaseURL}}/login"
`
	tests := []struct {
		name    string
		yaml    string
		browser bool
	}{
		{"launched at the first browser case", fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    cases:\n", srv.URL) + cases, true},
		{"launched ahead, while the tenant is made", fmt.Sprintf("environments:\n  e: {base_url: %s}\n%s", app.URL, apptest.ProvisionerYAML(app.URL, "SC_TEST_ADMIN")) +
			"suites:\n  s:\n    cases:\n" + cases, true},
		{"no browser case", fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    cases:\n", srv.URL) + cases[:strings.Index(cases, "      - name: page")], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("suite.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, oc := run(ctx, cfg, RunOptions{Suite: "s", Retries: -1, Budget: 30 * time.Second, TimeoutState: checks.Critical,
				Browser: BrowserOptions{Artifacts: t.TempDir()}, Tenants: TenantOptions{StateDir: t.TempDir()}})
			out := res.Render(checks.DefaultMaxOutput)
			if res.State != checks.OK || oc == nil {
				t.Fatalf("state %v\n%s", res.State, out)
			}
			v, ok := perfValue(res, "browser_start")
			if ok != tt.browser {
				t.Fatalf("browser_start present %v, want %v\n%s", ok, tt.browser, out)
			}
			if !tt.browser {
				if !oc.browserReady.IsZero() {
					t.Error("a browser was started for a run without browser cases")
				}
				return
			}
			labels := make([]string, len(res.Perfdata))
			for i, p := range res.Perfdata {
				labels[i] = p.Label
			}
			if i, j := slices.Index(labels, "browser_start"), slices.Index(labels, "api"); i < 0 || j < 0 || i > j {
				t.Errorf("browser_start is not before the cases' items: %v", labels)
			}
			if v != oc.browserTook.Round(time.Millisecond).Seconds() || oc.browserTook <= 0 {
				t.Errorf("browser_start=%v, took %s", v, oc.browserTook)
			}
			page := oc.cases[1]
			if page.c.Name != "page" || page.start.Before(oc.browserReady) {
				t.Errorf("case %s's clock started at %s, before the page was ready at %s", page.c.Name,
					page.start.Format(time.StampMicro), oc.browserReady.Format(time.StampMicro))
			}
			if api := oc.cases[0]; !api.start.Before(oc.browserReady) && oc.tenant == nil {
				t.Errorf("the browser was started before the http case (%s), not at the first browser case (%s)",
					api.start.Format(time.StampMicro), oc.browserReady.Format(time.StampMicro))
			}
		})
	}
}

// TestCutRunTime: when the budget cuts the run, time= is the run's wall
// time from its start (before the config was read: RunOptions.Start), not
// from when Run was called: at least the time until the steps were stopped,
// at most the time until the result.
func TestCutRunTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	cfg, err := Parse("suite.yaml", []byte(fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    cases:\n      - name: hang\n        steps:\n          - http: {url: \"{{.BaseURL}}/\", timeout: 1m}\n", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	const budget = 1500 * time.Millisecond
	// As if reading the config had taken 700ms of the budget.
	start := time.Now().Add(-700 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(budget))
	defer cancel()
	res := Run(ctx, cfg, RunOptions{Suite: "s", Retries: -1, Budget: budget, TimeoutState: checks.Warning, Start: start})
	wall := time.Since(start)
	got, ok := perfValue(res, "time")
	if !ok || res.State != checks.Warning || !strings.Contains(res.Summary, "timed out after 1.5s") {
		t.Fatalf("state %v, time present %v\n%s", res.State, ok, res.Render(checks.DefaultMaxOutput))
	}
	reserve := min(budget/10, 2*time.Second) // what the steps leave for the result
	if d := time.Duration(got * float64(time.Second)); d < budget-reserve-time.Millisecond || d > wall+time.Millisecond {
		t.Errorf("time=%v, want from %s (the steps' end) to %s (the result)", got, budget-reserve, wall)
	}
}
