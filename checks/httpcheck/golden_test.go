package httpcheck

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The numbers that change from run to run: times, ports, dates.
var (
	timeRe = regexp.MustCompile(`\b\d+(\.\d+)?s\b`)
	portRe = regexp.MustCompile(`(127\.0\.0\.1|app\.invalid|localhost):\d+`)
	dateRe = regexp.MustCompile(`\b\d{4}-\d\d-\d\d\b`)
)

// mask replaces what changes between runs: times by T, ports by PORT,
// dates by DATE.
func mask(out string) string {
	out = timeRe.ReplaceAllString(out, "Ts")
	out = portRe.ReplaceAllString(out, "${1}:PORT")
	return dateRe.ReplaceAllString(out, "DATE")
}

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
		t.Fatalf("read golden file (run go test ./checks/httpcheck -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestRenderGolden pins the whole output — status line, perfdata, every
// layer's line — of a few walks.
func TestRenderGolden(t *testing.T) {
	ca := newCA(t, "Test CA")
	good, _ := ca.issue(t, valid(200).For("app.invalid"))
	soon, _ := ca.issue(t, valid(12).For("app.invalid"))
	warn, err := checks.ParseDurationRange("2s")
	if err != nil {
		t.Fatal(err)
	}
	crit, err := checks.ParseDurationRange("5s")
	if err != nil {
		t.Fatal(err)
	}
	th := checks.Thresholds{Warning: &warn, Critical: &crit}
	tests := []struct {
		name string
		o    func(t *testing.T) Options
	}{
		{"ok-https.golden", func(t *testing.T) Options {
			a, _ := newTLSApp(t, good)
			return Options{Host: "app.invalid", Address: "127.0.0.1", Port: a.port(t), TLS: true, Path: "/old", OnRedirect: "follow",
				String: "Welcome", CAFile: ca.file(t), CertWarning: DefaultCertWarning, CertCritical: DefaultCertCritical, Thresholds: th}
		}},
		{"warning-cert.golden", func(t *testing.T) Options {
			a, _ := newTLSApp(t, soon)
			return Options{URL: fmt.Sprintf("https://app.invalid:%d/", a.port(t)), Address: "127.0.0.1", CAFile: ca.file(t),
				CertWarning: DefaultCertWarning, CertCritical: DefaultCertCritical, Thresholds: th}
		}},
		{"critical-closed-port.golden", func(t *testing.T) Options {
			return Options{Host: "127.0.0.1", Port: closedPort(t), Thresholds: th}
		}},
		{"critical-status.golden", func(t *testing.T) Options {
			a := newApp(t)
			return Options{Host: "localhost", Port: a.port(t), Path: "/down?key=s3cret", Thresholds: th}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out := runCheck(t, tt.o(t), 10*time.Second)
			golden(t, tt.name, mask(out))
		})
	}
}
