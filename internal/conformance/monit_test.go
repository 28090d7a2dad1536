//go:build conformance

package conformance

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// monit is a private Monit daemon checking programs every second.
type monit struct {
	rc string
}

// startMonit writes a control file with one `check program` per check and
// starts Monit (as root, as its Debian service does). Each check is either
// a command line, or contrib's snippet (whose program is then the key).
func startMonit(t *testing.T, s *site, name string, timeout int, checks map[string][]string) *monit {
	t.Helper()
	var rc strings.Builder
	for name, argv := range checks {
		// Once started, a program is not started again for a long time:
		// each test reads one run.
		if argv == nil {
			rc.WriteString(s.monitSnippet(t, name, timeout))
			continue
		}
		fmt.Fprintf(&rc, "check program %s with path %q timeout %d seconds every 100000 cycles\n  if status != 0 then alert\n",
			name, quote(argv), timeout)
	}
	return startMonitWith(t, s, name, rc.String())
}

// startMonitWith starts Monit with checks, control file statements.
func startMonitWith(t *testing.T, s *site, name, checks string) *monit {
	t.Helper()
	need(t, "/usr/bin/monit")
	dir := filepath.Join(s.dir, name)
	os.MkdirAll(dir, 0o755)
	var rc strings.Builder
	fmt.Fprintf(&rc, `set daemon 1
set logfile %[1]s/monit.log
set pidfile %[1]s/monit.pid
set idfile %[1]s/monit.id
set statefile %[1]s/monit.state
set httpd unixsocket %[1]s/monit.sock
  allow conformance:pw
`, dir)
	rc.WriteString(checks)
	m := &monit{rc: filepath.Join(dir, "monitrc")}
	if err := os.WriteFile(m.rc, []byte(rc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/bin/monit", "-c", m.rc, "-t").CombinedOutput(); err != nil {
		t.Fatalf("monit -t: %v\n%s", err, out)
	}
	if out, err := exec.Command("/usr/bin/monit", "-c", m.rc).CombinedOutput(); err != nil {
		t.Fatalf("monit: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("/usr/bin/monit", "-c", m.rc, "quit").Run()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "monit.log"))
			t.Logf("monit.log:\n%s", b)
		}
	})
	return m
}

// monitSnippet is contrib's Monit snippet for a suite of the site, run as
// root (the site's files are root's) with the site's wrapper.
func (s *site) monitSnippet(t *testing.T, suite string, timeout int) string {
	t.Helper()
	return s.adaptMonitSnippet(t, contrib(t, "monit/suitecheck"), suite, timeout,
		[2]string{"/usr/lib/nagios/plugins/suitecheck", s.wrapper()}, [2]string{"  as uid nagios and gid nagios\n", ""},
		[2]string{"/var/lib/suitecheck", s.state})
}

// adaptMonitSnippet is a Monit snippet as shipped, for a suite of the site:
// the names, the config and the environment the site's, its
// timeout set, a cycle count that keeps Monit from starting it twice in a
// test, and more replacements.
func (s *site) adaptMonitSnippet(t *testing.T, snip, suite string, timeout int, more ...[2]string) string {
	t.Helper()
	for _, r := range append(more, [][2]string{
		{"suitecheck_smoke", suite},
		{"run smoke", "run " + suite},
		{"/etc/suitecheck/suitecheck.yaml", s.cfg},
		{"--env production", "--env staging"},
		{"timeout 60 seconds", fmt.Sprintf("timeout %d seconds", timeout)},
		{"every 5 cycles", "every 100000 cycles"},
	}...) {
		if !strings.Contains(snip, r[0]) {
			t.Fatalf("the Monit snippet lacks %q:\n%s", r[0], snip)
		}
		snip = strings.ReplaceAll(snip, r[0], r[1])
	}
	return snip
}

// monitService is a service in Monit's XML status, as Monit stores it.
type monitService struct {
	Name    string `xml:"name"`
	Status  int    `xml:"status"` // 0: ok; else the failed events' bits
	Program *struct {
		Started int64  `xml:"started"`
		Status  int    `xml:"status"` // the exit value
		Output  string `xml:"output"`
	} `xml:"program"`
}

// status is a program's entry in Monit's XML status (the status command
// shows each line cut to fit a terminal; this is what Monit kept).
func (m *monit) status(name string) *monitService {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", filepath.Join(filepath.Dir(m.rc), "monit.sock"))
		}}}
	req, _ := http.NewRequest("GET", "http://monit/_status?format=xml&level=full", nil)
	req.SetBasicAuth("conformance", "pw")
	resp, err := hc.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var doc struct {
		Services []monitService `xml:"service"`
	}
	dec := xml.NewDecoder(resp.Body)
	// Monit declares ISO-8859-1; our output is ASCII.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if dec.Decode(&doc) != nil {
		return nil
	}
	for i := range doc.Services {
		if doc.Services[i].Name == name {
			return &doc.Services[i]
		}
	}
	return nil
}

// result waits for a program's first result.
func (m *monit) result(t *testing.T, name string, bound time.Duration) *monitService {
	t.Helper()
	var got *monitService
	eventually(t, bound, "monit result of "+name, func() bool {
		got = m.status(name)
		return got != nil && got.Program != nil && got.Program.Output != ""
	})
	return got
}

// TestMonit: the demo under Monit with the documented --max-output 700,
// healthy and broken: the status line comes through whole in the ~765
// bytes Monit keeps. And Monit's timeout (SIGKILL to suitecheck alone, its
// children left): no browser is left; the next run sweeps the tenant.
func TestMonit(t *testing.T) {
	s := newSite(t, "root")
	m := startMonit(t, s, "monit", 40, map[string][]string{
		"demo":   s.demo("-t", "30", "--max-output", "700"),
		"broken": s.demo("-t", "30", "--max-output", "700", "--break", "db-readonly"),
	})
	t.Run("healthy", func(t *testing.T) {
		st := m.result(t, "demo", 60*time.Second)
		out := st.Program.Output
		if st.Status != 0 || st.Program.Status != 0 || !strings.HasPrefix(out, "SUITECHECK OK - demo on demo: 5 of 5 cases passed") {
			t.Errorf("status %d, exit %d, output %q", st.Status, st.Program.Status, out)
		}
		first, _, _ := strings.Cut(out, "\n")
		if !strings.Contains(first, "| time=") || !strings.Contains(first, " swept=0") {
			t.Errorf("the first line is not whole: %q", first)
		}
	})
	t.Run("broken", func(t *testing.T) {
		st := m.result(t, "broken", 60*time.Second)
		out := st.Program.Output
		first, _, _ := strings.Cut(out, "\n")
		if st.Status == 0 || st.Program.Status != 2 || !strings.HasPrefix(first, "SUITECHECK CRITICAL - demo on demo: 2 of 5 cases failed") ||
			!strings.Contains(first, " failed=2;;;0;5 swept=0") {
			t.Errorf("status %d, exit %d, output %q", st.Status, st.Program.Status, out)
		}
	})
	t.Run("client timeout", func(t *testing.T) {
		short := startMonit(t, s, "monit-short", 5, map[string][]string{"hang": nil})
		eventually(t, 30*time.Second, "the hanging check's tenant and browser", func() bool {
			return len(s.app.Tenants(t)) == 1 && len(s.leftovers()) >= 2
		})
		// Monit kills suitecheck alone; Chromium goes with it.
		s.waitNoLeftovers(t)
		if st := short.status("hang"); st != nil && st.Program != nil {
			t.Logf("monit after its timeout: status %d, exit %d, output %q", st.Status, st.Program.Status, st.Program.Output)
		}
		if ts := s.app.Tenants(t); len(ts) != 1 {
			t.Fatalf("tenants %v: SIGKILL leaves the tenant for the next run", ts)
		}
		next := startMonit(t, s, "monit-next", 60, map[string][]string{"ok": nil})
		st := next.result(t, "ok", 60*time.Second)
		if st.Status != 0 || !strings.Contains(st.Program.Output, " swept=1") {
			t.Errorf("next run: status %d, output %q", st.Status, st.Program.Output)
		}
		if ts := s.app.Tenants(t); len(ts) != 0 {
			t.Errorf("tenants left after the sweep: %v", ts)
		}
	})
}
