package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/suites"
)

func TestConfigIsValid(t *testing.T) {
	cfg, err := suites.Parse("demo.yaml", Config())
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.Suite("demo")
	if err != nil || len(s.Cases) != 5 || len(s.Diagnose) != 2 || len(cfg.Tenant.Diagnose) != 2 {
		t.Fatalf("demo suite: %v, %d cases, %d diagnose steps, %d of the tenant's; want 5, 2, 2", err, len(s.Cases), len(s.Diagnose), len(cfg.Tenant.Diagnose))
	}
}

// TestDemoHealthy runs the whole demo: real PostgreSQL, the sample app,
// real Chromium.
func TestDemoHealthy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var kept string
	res, err := Run(ctx, Options{
		Run:  suites.RunOptions{Retries: -1, Budget: 50 * time.Second, TimeoutState: checks.Critical, Browser: suites.BrowserOptions{Artifacts: t.TempDir()}},
		Keep: func(url, token string) { kept = url },
	})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Render(checks.DefaultMaxOutput)
	if res.State != checks.OK || !strings.HasPrefix(out, "SUITECHECK OK - demo on demo: 5 of 5 cases passed") {
		t.Fatalf("demo:\n%s", out)
	}
	for _, label := range []string{"sign_in=", "post_message=", "upload=", "api=", "file_row=", "tenant_create=", "tenant_delete="} {
		if !strings.Contains(out, " "+label) {
			t.Errorf("perfdata lacks %s:\n%s", label, out)
		}
	}
	if !strings.Contains(out, "deleted in") {
		t.Errorf("tenant not reported deleted:\n%s", out)
	}
	if !strings.HasPrefix(kept, "http://127.0.0.1:") {
		t.Errorf("Keep got URL %q", kept)
	}
}

// TestDemoBreak breaks the real infrastructure under the app and expects
// the state, the case and, through the postgres diagnostic, the layer.
func TestDemoBreak(t *testing.T) {
	tests := []struct {
		mode  string
		state checks.State
		want  []string
	}{
		{"db-readonly", checks.Critical, []string{"upload (step 3 wait_value \"hello.txt\" in \"#attachment\": the page's request failed: HTTP 500", "layer 8/8 writable: table files is not writable: no INSERT privilege"}},
		{"no-extension", checks.Critical, []string{"the app failed to create tenant", "layer 6/8 extensions: uuid-ossp not installed"}},
		{"bad-password", checks.Critical, []string{"the app failed to create tenant", "layer 3/8 authenticates: password authentication failed"}},
		{"db-down", checks.Critical, []string{"the app failed to create tenant", "layer 1/8 reachable: cannot connect: connection refused"}},
		{"app-down", checks.Critical, []string{"could not reach the app to create tenant", "diagnosis: check_http: layer 2/5 tcp connect: connection refused"}},
		{"slow", checks.Warning, []string{"5 of 5 cases passed", "upload (took ", "s, outside the warning range 3)"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			res, err := Run(ctx, Options{Break: tt.mode,
				Run: suites.RunOptions{Retries: -1, Budget: 50 * time.Second, TimeoutState: checks.Critical, Browser: suites.BrowserOptions{Artifacts: t.TempDir(), KeepRuns: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			out := res.Render(checks.DefaultMaxOutput)
			if res.State != tt.state {
				t.Errorf("state %v, want %v\n%s", res.State, tt.state, out)
			}
			first, _, _ := strings.Cut(out, "\n")
			for _, w := range tt.want {
				if !strings.Contains(first, w) {
					t.Errorf("status line lacks %q:\n%s", w, first)
				}
			}
			if tt.mode == "app-down" && !strings.Contains(out, "\n[OK] 1/5 dns") {
				t.Errorf("the name did not resolve: the break is not behind a resolving name\n%s", out)
			}
		})
	}
	if _, err := Run(context.Background(), Options{Break: "bogus"}); err == nil || !strings.Contains(err.Error(), "use one of app-down, bad-password, db-down, db-readonly, no-extension, slow") {
		t.Errorf("bogus mode: %v", err)
	}
}
