//go:build conformance

package conformance

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// icinga is a private Icinga 2 instance with its REST API and a
// GraphiteWriter pointed at a listener of ours: Icinga's own parse of the
// performance data arrives there as metrics.
type icinga struct {
	dir, port, log string
	proc           *exec.Cmd
	client         *http.Client

	mu      sync.Mutex
	metrics []string // "path value" as Icinga sent them

	// graphiteUp is closed once the GraphiteWriter has connected: Icinga
	// drops the metrics of a check result it gets before that.
	graphiteUp chan struct{}
}

const icingaUser, icingaPass = "conformance", "conformance-pw"

// icingaSetup says where an Icinga 2 instance gets suitecheck's
// CheckCommand from and as whom it runs the checks.
type icingaSetup struct {
	user      string // runs the checks; owns the instance's files
	pluginDir string // PluginDir, where the command finds suitecheck
	includes  string // the config lines that bring the CheckCommand in
	hostVars  string // more of the host's attributes
	objects   string // more objects: hosts, apply rules
}

// startIcinga starts Icinga 2 with contrib's CheckCommand and one service
// per entry of services, whose value is the service's own attributes (its
// vars), and the host's vars pointing the command at the site. The checks
// run as root, as Debian's nagios user would need the site's files;
// Chromium gets --no-sandbox as root.
func startIcinga(t *testing.T, s *site, name string, services map[string]string) *icinga {
	t.Helper()
	conf := filepath.Join(s.dir, name+"-suitecheck.conf")
	os.WriteFile(conf, []byte(contrib(t, "icinga2/suitecheck.conf")), 0o644)
	return startIcingaWith(t, s, name, icingaSetup{user: "root", pluginDir: s.plugins, includes: fmt.Sprintf("include %q\n", conf),
		hostVars: fmt.Sprintf("  vars.suitecheck_state_dir = %q\n", s.state)}, services)
}

// startIcingaWith starts Icinga 2 as setup says, with a host "site" whose
// vars point the command at the site's config, and one service per entry
// of services.
func startIcingaWith(t *testing.T, s *site, name string, setup icingaSetup, services map[string]string) *icinga {
	t.Helper()
	need(t, "/usr/sbin/icinga2")
	ic := &icinga{dir: filepath.Join(s.dir, name), graphiteUp: make(chan struct{})}
	for _, d := range []string{"data/certs", "log", "cache", "spool", "run"} {
		os.MkdirAll(filepath.Join(ic.dir, d), 0o755)
	}
	// Graphite's plaintext protocol, one metric a line.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var up sync.Once
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up.Do(func() { close(ic.graphiteUp) })
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					ic.mu.Lock()
					ic.metrics = append(ic.metrics, sc.Text())
					ic.mu.Unlock()
				}
			}()
		}
	}()
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, ic.port, _ = net.SplitHostPort(apiLn.Addr().String())
	apiLn.Close()
	_, graphitePort, _ := net.SplitHostPort(ln.Addr().String())

	var conf strings.Builder
	fmt.Fprintf(&conf, `const PluginDir = %q
const PluginContribDir = PluginDir
include <itl>
include <plugins>
object CheckerComponent "checker" {}
object ApiUser %q { password = %q; permissions = [ "*" ] }
object ApiListener "api" { bind_host = "127.0.0.1"; bind_port = %s }
object Endpoint NodeName {}
object Zone ZoneName { endpoints = [ NodeName ] }
object GraphiteWriter "graphite" { host = "127.0.0.1"; port = %s }
`, setup.pluginDir, icingaUser, icingaPass, ic.port, graphitePort)
	conf.WriteString(setup.includes)
	fmt.Fprintf(&conf, `object Host "site" {
  check_command = "dummy"
  enable_active_checks = false
  vars.suitecheck_config = %q
  vars.suitecheck_env = "staging"
%s}
`, s.cfg, setup.hostVars)
	conf.WriteString(setup.objects)
	for name, attrs := range services {
		fmt.Fprintf(&conf, "object Service %q {\n  host_name = \"site\"\n  check_command = \"suitecheck\"\n  check_interval = 1d\n  retry_interval = 1d\n  max_check_attempts = 1\n%s\n}\n", name, attrs)
	}
	os.WriteFile(filepath.Join(ic.dir, "icinga2.conf"), []byte(conf.String()), 0o644)
	chown(t, ic.dir, setup.user)
	defs := []string{"-DDataDir=" + ic.dir + "/data", "-DLogDir=" + ic.dir + "/log", "-DCacheDir=" + ic.dir + "/cache",
		"-DSpoolDir=" + ic.dir + "/spool", "-DInitRunDir=" + ic.dir + "/run", "-DNodeName=conformance", "-DZoneName=conformance"}
	icinga2 := func(args ...string) *exec.Cmd {
		c := exec.Command("/usr/sbin/icinga2", append(args, defs...)...)
		c.Env = append(os.Environ(), "ICINGA2_USER="+setup.user, "ICINGA2_GROUP="+setup.user)
		return c
	}
	certs := filepath.Join(ic.dir, "data", "certs")
	for _, args := range [][]string{
		{"pki", "new-ca"},
		{"pki", "new-cert", "--cn", "conformance", "--key", certs + "/conformance.key", "--csr", certs + "/conformance.csr"},
		{"pki", "sign-csr", "--csr", certs + "/conformance.csr", "--cert", certs + "/conformance.crt"},
		{"daemon", "-C", "-c", ic.dir + "/icinga2.conf"},
	} {
		if out, err := icinga2(args...).CombinedOutput(); err != nil {
			t.Fatalf("icinga2 %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[1] == "new-ca" {
			b, _ := os.ReadFile(filepath.Join(ic.dir, "data", "ca", "ca.crt"))
			os.WriteFile(filepath.Join(certs, "ca.crt"), b, 0o644)
		}
	}
	chown(t, ic.dir, setup.user) // what the pki commands made as root
	ic.log = filepath.Join(ic.dir, "daemon.log")
	logf, err := os.Create(ic.log)
	if err != nil {
		t.Fatal(err)
	}
	ic.proc = icinga2("daemon", "-c", ic.dir+"/icinga2.conf")
	ic.proc.Stdout, ic.proc.Stderr = logf, logf
	ic.proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := ic.proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopGroup(ic.proc, 10*time.Second)
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(ic.log)
			t.Logf("icinga2 log:\n%s", b)
		}
	})
	ic.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the test's own CA
	eventually(t, 30*time.Second, "icinga2's API", func() bool {
		_, err := ic.api("GET", "/v1/status", "")
		return err == nil
	})
	// The writer connects at start, or after its 10 s reconnect timer.
	select {
	case <-ic.graphiteUp:
	case <-time.After(30 * time.Second):
		t.Fatal("icinga2's GraphiteWriter never connected")
	}
	return ic
}

func (ic *icinga) api(method, path, body string) ([]byte, error) {
	req, err := http.NewRequest(method, "https://127.0.0.1:"+ic.port+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(icingaUser, icingaPass)
	req.Header.Set("Accept", "application/json")
	resp, err := ic.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b.String())
	}
	return []byte(b.String()), nil
}

// checkResult is a service's last check result as the API gives it.
type checkResult struct {
	ExitStatus      int      `json:"exit_status"`
	State           float64  `json:"state"`
	Output          string   `json:"output"`
	PerformanceData []string `json:"performance_data"`
	ExecutionEnd    float64  `json:"execution_end"`
	CheckSource     string   `json:"check_source"` // the endpoint that ran the check
}

// force reschedules a check now, the service of that name on every host.
func (ic *icinga) force(t *testing.T, service string) time.Time {
	t.Helper()
	now := time.Now()
	body, _ := json.Marshal(map[string]any{"type": "Service", "filter": fmt.Sprintf("service.name == %q", service), "force": true})
	if _, err := ic.api("POST", "/v1/actions/reschedule-check", string(body)); err != nil {
		t.Fatal(err)
	}
	return now
}

// result waits for a check of the host site's service that ended at or
// after since.
func (ic *icinga) result(t *testing.T, service string, since time.Time, bound time.Duration) checkResult {
	t.Helper()
	return ic.resultOn(t, "site", service, since, bound)
}

// serviceAttr reads one attribute of host's service from the API into v;
// false when the service or the attribute is not there (yet).
func (ic *icinga) serviceAttr(host, service, attr string, v any) bool {
	b, err := ic.api("GET", "/v1/objects/services?service="+url.QueryEscape(host+"!"+service)+"&attrs="+attr, "")
	if err != nil {
		return false
	}
	var reply struct {
		Results []struct {
			Attrs map[string]json.RawMessage `json:"attrs"`
		} `json:"results"`
	}
	if json.Unmarshal(b, &reply) != nil || len(reply.Results) != 1 {
		return false
	}
	raw, ok := reply.Results[0].Attrs[attr]
	return ok && json.Unmarshal(raw, v) == nil
}

// resultOn is result for the service of host.
func (ic *icinga) resultOn(t *testing.T, host, service string, since time.Time, bound time.Duration) checkResult {
	t.Helper()
	var got checkResult
	eventually(t, bound, "icinga2 result of "+host+"!"+service, func() bool {
		var cr *checkResult
		if !ic.serviceAttr(host, service, "last_check_result", &cr) || cr == nil {
			return false
		}
		if cr.ExecutionEnd < float64(since.Unix()) {
			return false
		}
		got = *cr
		return true
	})
	return got
}

// metricsOf are the perfdata labels Icinga parsed for a service: what its
// GraphiteWriter sent as icinga2.local.services.SERVICE.*.perfdata.LABEL.value.
func (ic *icinga) metricsOf(service string) map[string]string {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	out := map[string]string{}
	prefix := "icinga2.site.services." + service + "."
	for _, m := range ic.metrics {
		path, value, _ := strings.Cut(m, " ")
		if !strings.HasPrefix(path, prefix) || !strings.HasSuffix(path, ".value") {
			continue
		}
		i := strings.Index(path, ".perfdata.")
		if i < 0 {
			continue
		}
		label := strings.TrimSuffix(path[i+len(".perfdata."):], ".value")
		v, _, _ := strings.Cut(value, " ")
		out[label] = v
	}
	return out
}

// TestIcinga2: the demo's result through Icinga 2's API and its own parse
// of the performance data (nothing logged as invalid), healthy and broken;
// and Icinga's timeout (SIGTERM to the plugin, UNKNOWN whatever it
// prints): the tenant is deleted in the run, no browser is left.
func TestIcinga2(t *testing.T) {
	s := newSite(t, "root")
	ic := startIcinga(t, s, "icinga2", map[string]string{
		"demo":   `vars.suitecheck_command = "demo"; vars.suitecheck_timeout = 30`,
		"broken": `vars.suitecheck_command = "demo"; vars.suitecheck_timeout = 30; vars.suitecheck_break = "db-readonly"`,
	})
	// -t above the service's check_timeout: Icinga stops the check.
	short := startIcinga(t, s, "icinga2-short", map[string]string{"hang": `vars.suitecheck_suite = "hang"; check_timeout = 8s`})

	t.Run("healthy", func(t *testing.T) {
		cr := ic.result(t, "demo", ic.force(t, "demo"), 40*time.Second)
		if cr.ExitStatus != 0 || cr.State != 0 || !strings.HasPrefix(cr.Output, "SUITECHECK OK - demo on demo: 5 of 5 cases passed") ||
			!strings.Contains(cr.Output, "\n[OK] sign in") {
			t.Errorf("result %+v", cr)
		}
		want := []string{"time", "tenant_create", "browser_start", "sign_in", "post_message", "upload", "api", "file_row", "tenant_delete", "failed", "swept", "sweep"}
		if len(cr.PerformanceData) != len(want) {
			t.Errorf("performance_data %q", cr.PerformanceData)
		}
		eventually(t, 15*time.Second, "the parsed perfdata at the graphite listener", func() bool { return len(ic.metricsOf("demo")) >= len(want) })
		parsed := ic.metricsOf("demo")
		for _, l := range want {
			if _, ok := parsed[l]; !ok {
				t.Errorf("icinga did not parse %s: %v", l, parsed)
			}
		}
		if parsed["failed"] != "0" || parsed["swept"] != "0" {
			t.Errorf("parsed values %v", parsed)
		}
	})
	t.Run("broken", func(t *testing.T) {
		cr := ic.result(t, "broken", ic.force(t, "broken"), 40*time.Second)
		if cr.State != 2 || !strings.Contains(cr.Output, "layer 8/8 writable") {
			t.Errorf("result %+v", cr)
		}
		eventually(t, 15*time.Second, "the broken run's parsed perfdata", func() bool { return ic.metricsOf("broken")["failed"] == "2" })
	})
	t.Run("client timeout", func(t *testing.T) {
		since := short.force(t, "hang")
		eventually(t, 20*time.Second, "the hanging check's tenant and browser", func() bool {
			return len(s.app.Tenants(t)) == 1 && len(s.leftovers()) >= 2
		})
		cr := short.result(t, "hang", since, 30*time.Second)
		if cr.State != 3 {
			t.Errorf("result %+v: want Icinga's UNKNOWN after its timeout", cr)
		}
		// SIGTERM reached suitecheck: the tenant went in the run itself.
		if ts := s.app.Tenants(t); len(ts) != 0 {
			t.Errorf("tenants left: %v", ts)
		}
		s.waitNoLeftovers(t)
	})
	for _, c := range []*icinga{ic, short} {
		b, _ := os.ReadFile(c.log)
		if strings.Contains(string(b), "nvalid perfdata") || strings.Contains(string(b), "Ignoring") {
			t.Errorf("icinga2 logged invalid perfdata:\n%s", grepLines(string(b), "perfdata"))
		}
	}
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
