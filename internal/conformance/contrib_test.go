//go:build conformance

package conformance

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/suites/testreport"
)

// TestIcinga2ApplyRule: contrib's example apply rule makes one service per
// suite a host lists, with contrib's CheckCommand, as Icinga 2 itself
// compiles them; its check http command takes a service.
func TestIcinga2ApplyRule(t *testing.T) {
	need(t, "/usr/sbin/icinga2")
	dir := t.TempDir()
	for _, d := range []string{"data", "log", "cache", "spool", "run"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "suitecheck.conf"), []byte(contrib(t, "icinga2/suitecheck.conf")), 0o644)
	os.WriteFile(filepath.Join(dir, "suitecheck-services.conf"), []byte(contrib(t, "icinga2/suitecheck-services.conf")), 0o644)
	conf := `const PluginDir = "/usr/lib/nagios/plugins"
include <itl>
include <plugins>
include "suitecheck.conf"
include "suitecheck-services.conf"
object Host "app-staging" {
  check_command = "dummy"
  vars.suitecheck_config = "/etc/suitecheck/suitecheck.yaml"
  vars.suitecheck_env = "staging"
  vars.suitecheck_suites = [ "smoke", "uploads" ]
}
object Host "other" { check_command = "dummy" }
object Service "app-https" {
  host_name = "other"
  check_command = "suitecheck-http"
  vars.suitecheck_http_vhost = "app.example.com"
  vars.suitecheck_http_ssl = true
  vars.suitecheck_http_sni = "edge.example.com"
}
`
	os.WriteFile(filepath.Join(dir, "icinga2.conf"), []byte(conf), 0o644)
	defs := []string{"-DDataDir=" + dir + "/data", "-DLogDir=" + dir + "/log", "-DCacheDir=" + dir + "/cache",
		"-DSpoolDir=" + dir + "/spool", "-DInitRunDir=" + dir + "/run"}
	run := func(args ...string) string {
		c := exec.Command("/usr/sbin/icinga2", append(args, defs...)...)
		c.Env = append(os.Environ(), "ICINGA2_USER=root", "ICINGA2_GROUP=root")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("icinga2 %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("daemon", "-C", "-c", filepath.Join(dir, "icinga2.conf"))
	out := run("object", "list", "--type", "Service")
	for _, want := range []string{"app-staging!suitecheck-smoke", "app-staging!suitecheck-uploads", `suitecheck_suite = "smoke"`} {
		if !strings.Contains(out, want) {
			t.Errorf("object list lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "other!app-https") || !strings.Contains(out, `check_command = "suitecheck-http"`) {
		t.Errorf("object list lacks the check http service:\n%s", out)
	}
	if strings.Contains(out, "other!suitecheck-") {
		t.Errorf("a service for a host without suites:\n%s", out)
	}
}

// TestJenkinsStage: contrib's CI stage script writes the JUnit report and
// maps the check's state to the job's result.
func TestJenkinsStage(t *testing.T) {
	s := newSite(t, "root")
	script, _ := filepath.Abs("../../contrib/jenkins/suitecheck-stage.sh")
	stage := func(suite, report string, more ...string) (int, string) {
		cmd := exec.Command(script, append([]string{suite, report, "--config", s.cfg, "--state-dir", s.state}, more...)...)
		cmd.Env = append(os.Environ(), "SUITECHECK="+s.wrapper())
		out, err := cmd.CombinedOutput()
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			return xe.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	read := func(path string) []testreport.Test {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := testreport.ParseJUnit(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		return res.Tests
	}
	report := filepath.Join(s.dir, "reports", "ok.xml")
	code, out := stage("ok", report)
	tests := read(report)
	if code != 0 || len(tests) != 3 || testreport.Count(tests).Passed != 3 || !strings.Contains(out, "suitecheck: OK") {
		t.Errorf("ok: exit %d, %d tests %+v\n%s", code, len(tests), tests, out)
	}
	report = filepath.Join(s.dir, "reports", "hang.xml")
	code, out = stage("hang", report, "-t", "5")
	tests = read(report)
	if code != 2 || testreport.Count(tests).Failed == 0 || !strings.Contains(out, "suitecheck: CRITICAL") {
		t.Errorf("hang: exit %d, %+v\n%s", code, tests, out)
	}
	s.waitNoLeftovers(t)
	if ts := s.app.Tenants(t); len(ts) != 0 {
		t.Errorf("tenants left: %v", ts)
	}
}
