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
	if err != nil || len(s.Cases) != 5 {
		t.Fatalf("demo suite: %v, %d cases", err, len(s.Cases))
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
