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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/pgtest"
)

// TestIcinga2HA: a real Icinga 2 master and two satellites in one HA zone,
// three private instances on 127.0.0.1 with their own CA, certificates and
// ports, on contrib's zones.conf and its zones.d/satellite/ apply rule (the
// master syncs the zone's config to the satellites). The suitecheck services
// run on the satellites, their results reach the master through the
// cluster; the satellites share one ledger, in PostgreSQL.
//
// The gate suite holds its run at an HTTP request to the test's gate (after
// the tenant is created) until the test lets it go: the test knows which
// satellite runs a check, and when it is mid-run, without a sleep.
//
//   - the demo, healthy and broken, as the master stores it;
//   - a satellite killed (SIGKILL to its daemon and to its plugin's process
//     group) mid-run: the other takes the zone's checks over, and its next
//     run sweeps the dead run's tenant (swept=1), leaving none;
//   - a satellite frozen (SIGSTOP) mid-run: the other's run does not delete
//     the frozen run's tenant (swept=0); after SIGCONT the frozen run ends
//     and deletes it itself.
func TestIcinga2HA(t *testing.T) {
	s := newSite(t, "root")
	g := startGate(t)
	// Two gate suites whose services Icinga gives to different satellites.
	gates := splitSuites("site", []string{"sat-1", "sat-2"})
	var y strings.Builder
	for _, name := range gates {
		fmt.Fprintf(&y, `  %s:
    cases:
      - name: gate
        steps:
          - http: {url: '%s/{{env "SC_NODE"}}/{{.Tenant.name}}', timeout: 40s, expect: {status: 200}}
`, name, g.url)
	}
	f, err := os.OpenFile(s.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(y.String()) // the suites mapping is the config's last
	f.Close()

	// The ledger both satellites share: a database of a throwaway
	// PostgreSQL, its password in a file (as contrib advises); each
	// satellite has a state dir of its own (NodeName is the satellite's
	// when it compiles the synced config).
	db := pgtest.NewApp(t, "ledger", "GRANT CREATE ON SCHEMA public TO %[1]s")
	dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable connect_timeout=10", db.Cluster.Host, db.Cluster.Port, db.User, db.DB)
	pwFile := filepath.Join(s.dir, "ledger.pw")
	if err := os.WriteFile(pwFile, []byte(db.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ledgerFlags := []string{"--ledger-dsn", dsn, "--ledger-password-file", pwFile}

	// The zone's host, in the master's zones.d/satellite/ next to contrib's
	// apply rule.
	host := fmt.Sprintf(`object Host "site" {
  check_command = "dummy"
  enable_active_checks = false
  address = "127.0.0.1"
  vars.suitecheck_config = %[1]q
  vars.suitecheck_env = "staging"
  vars.suitecheck_state_dir = %[2]q + NodeName
  vars.suitecheck_suites = [ %[4]q, %[5]q ]
  vars.suitecheck_ledger_dsn = %[6]q
  vars.suitecheck_ledger_password_file = %[7]q
}
template Service "demo-check" {
  host_name = "site"
  check_command = "suitecheck"
  enable_active_checks = false
  check_interval = 10s
  retry_interval = 10s
  max_check_attempts = 1
  vars.suitecheck_command = "demo"
  vars.suitecheck_timeout = 40
  vars.suitecheck_artifacts = %[3]q
}
object Service "demo" {
  import "demo-check"
}
object Service "broken" {
  import "demo-check"
  vars.suitecheck_break = "db-readonly"
}
`, s.cfg, filepath.Join(s.dir, "state-"), s.art, gates[0], gates[1], dsn, pwFile)
	c := startHA(t, s, host)
	gateSvc := []string{"suitecheck-" + gates[0], "suitecheck-" + gates[1]}
	owners := c.owners(t, gateSvc)
	if owners[gateSvc[0]] == owners[gateSvc[1]] {
		t.Fatalf("both gate services on %s: the zone's checks are not balanced", owners[gateSvc[0]].name)
	}
	g.why = func() string {
		b, _ := c.master.api("GET", "/v1/objects/services?attrs=last_check_result&host=site", "")
		return "; the master's services: " + string(b)
	}
	ledger := func() map[string]string { return ledgerEntries(t, s, ledgerFlags...) }
	tenantNames := func() []string {
		var out []string
		for _, tn := range s.app.Tenants(t) {
			out = append(out, tn.Name)
		}
		return out
	}

	t.Run("healthy and broken", func(t *testing.T) {
		since := c.master.force(t, "demo")
		c.master.force(t, "broken")
		cr := c.master.result(t, "demo", since, 90*time.Second)
		if cr.State != 0 || !strings.HasPrefix(cr.Output, "SUITECHECK OK - demo on demo: 5 of 5 cases passed") || !c.isSatellite(cr.CheckSource) {
			t.Errorf("demo at the master: %+v", cr)
		}
		cr = c.master.result(t, "broken", since, 90*time.Second)
		if cr.State != 2 || !strings.Contains(cr.Output, "layer 8/8 writable") || !c.isSatellite(cr.CheckSource) {
			t.Errorf("broken demo at the master: %+v", cr)
		}
	})

	killed := t.Run("killed satellite", func(t *testing.T) {
		svc := gateSvc[0]
		dead, other := owners[svc], c.other(owners[svc])
		c.master.force(t, svc)
		first := g.next(t, dead.name, 40*time.Second)
		if !slices.Contains(tenantNames(), first) {
			t.Fatalf("the run on %s is at the gate, its tenant %s is not in the app: %v", dead.name, first, tenantNames())
		}
		dead.kill(t)
		// Icinga sees the connection close, and gives the service to the
		// other satellite at its next authority update (every 10 s).
		eventually(t, 30*time.Second, other.name+" taking "+svc+" over", func() bool { return other.runs(svc) })
		if l := ledger(); l[first] != "dead" {
			t.Errorf("the shared ledger after the kill: %v: want %s dead", l, first)
		}
		since := c.master.force(t, svc)
		second := g.next(t, other.name, 40*time.Second)
		// The sweep runs before the new tenant is made.
		if names := tenantNames(); !slices.Equal(names, []string{second}) {
			t.Errorf("tenants while %s's run is at the gate: %v: want only its own %s (%s swept)", other.name, names, second, first)
		}
		g.open(second)
		cr := c.master.result(t, svc, since, 60*time.Second)
		if cr.State != 0 || cr.CheckSource != other.name || perfValue(cr, "swept") != "1" {
			t.Errorf("the run after the kill at the master: %+v: want OK from %s with swept=1", cr, other.name)
		}
		eventually(t, 15*time.Second, "no tenant and no ledger entry left", func() bool {
			return len(tenantNames()) == 0 && len(ledger()) == 0
		})
		if n := marked(dead.tmp); len(n) != 0 {
			t.Errorf("processes of the killed satellite's checks left: %v", n)
		}
		dead.restart(t)
		owners = c.owners(t, gateSvc)
	})

	t.Run("frozen satellite", func(t *testing.T) {
		if !killed {
			t.Skip("the killed satellite's part failed: the cluster may not be whole")
		}
		// The master relays a message for a child zone through one of
		// its endpoints, the first connected in the zone's list: sat-1
		// (ApiListener::RelayMessageOne). Frozen, sat-1 would keep the
		// master's "check now" from sat-2 until Icinga drops it after
		// 60 to 90 s of silence; sat-2 is frozen here, and the master's
		// commands reach sat-1 directly.
		frozen, other := c.sats[1], c.sats[0]
		svc, otherSvc := gateSvc[0], gateSvc[1]
		if owners[svc] != frozen {
			svc, otherSvc = otherSvc, svc
		}
		if owners[svc] != frozen || owners[otherSvc] != other {
			t.Fatalf("the gate services on %s and %s after the restart: want one each", owners[svc].name, owners[otherSvc].name)
		}
		sinceFrozen := c.master.force(t, svc)
		held := g.next(t, frozen.name, 40*time.Second)
		frozen.signal(t, syscall.SIGSTOP)
		t.Cleanup(frozen.thaw) // when the test stops half-way
		since := c.master.force(t, otherSvc)
		mine := g.next(t, other.name, 40*time.Second)
		if names := tenantNames(); !slices.Contains(names, held) {
			t.Errorf("tenants while %s is frozen: %v: %s's %s was deleted", frozen.name, names, frozen.name, held)
		}
		if l := ledger(); l[held] != "running" {
			t.Errorf("ledger while %s is frozen: %v: want %s running", frozen.name, l, held)
		}
		g.open(mine)
		cr := c.master.result(t, otherSvc, since, 60*time.Second)
		if cr.State != 0 || cr.CheckSource != other.name || perfValue(cr, "swept") != "0" {
			t.Errorf("%s's run while %s is frozen, at the master: %+v: want OK with swept=0", other.name, frozen.name, cr)
		}
		if names := tenantNames(); !slices.Equal(names, []string{held}) {
			t.Errorf("tenants after %s's run: %v: want the frozen run's %s alone", other.name, names, held)
		}
		frozen.thaw()
		g.open(held)
		cr = c.master.result(t, svc, sinceFrozen, 60*time.Second)
		if cr.State != 0 || cr.CheckSource != frozen.name || perfValue(cr, "swept") != "0" {
			t.Errorf("the frozen run after SIGCONT, at the master: %+v: want OK from %s", cr, frozen.name)
		}
		eventually(t, 15*time.Second, "no tenant and no ledger entry left", func() bool {
			return len(tenantNames()) == 0 && len(ledger()) == 0
		})
	})

	for _, sat := range c.sats {
		eventually(t, 15*time.Second, "no process of "+sat.name+"'s checks left", func() bool { return len(marked(sat.tmp)) == 0 })
	}
	s.waitNoLeftovers(t)
}

// haCluster is the master and the two satellites.
type haCluster struct {
	master *haNode
	sats   []*haNode
}

// haNode is one Icinga 2 instance of the cluster.
type haNode struct {
	*icinga
	name string
	tmp  string   // the TMPDIR of its checks: the mark of their processes
	argv []string // the daemon's command line
	env  []string
	logf *os.File

	mu     sync.Mutex
	exited chan struct{} // closed when the daemon's process has been waited for
}

func (c *haCluster) isSatellite(name string) bool {
	return slices.ContainsFunc(c.sats, func(n *haNode) bool { return n.name == name })
}

func (c *haCluster) other(n *haNode) *haNode {
	if c.sats[0] == n {
		return c.sats[1]
	}
	return c.sats[0]
}

// startHA starts the master and the satellites sat-1 and sat-2 of the zone
// "satellite", with contrib's zones.conf (its endpoints renamed, on
// 127.0.0.1 and free ports), contrib's CheckCommand on every node, and on
// the master zones.d/satellite/ with contrib's apply rule (active checks
// off: the test forces each check) and zoneObjects. It returns once the
// satellites run the config the master synced.
func startHA(t *testing.T, s *site, zoneObjects string) *haCluster {
	t.Helper()
	need(t, "/usr/sbin/icinga2")
	names := []string{"master", "sat-1", "sat-2"}
	ports := freePorts(t, len(names))
	rename := map[string]string{"master.example.com": "master", "satellite-1.example.com": "sat-1", "satellite-2.example.com": "sat-2"}
	zones := contrib(t, "icinga2/zones.conf")
	zones = regexp.MustCompile(`(?s)object Endpoint "([^"]+)" \{.*?\n\}`).ReplaceAllStringFunc(zones, func(block string) string {
		name := regexp.MustCompile(`"([^"]+)"`).FindStringSubmatch(block)[1]
		i := slices.Index(names, rename[name])
		if i < 0 {
			t.Fatalf("contrib's zones.conf: unknown endpoint %s", name)
		}
		return fmt.Sprintf("object Endpoint %q {\n\thost = \"127.0.0.1\"\n\tport = %d\n}", names[i], ports[i])
	})
	for from, to := range rename {
		zones = strings.ReplaceAll(zones, `"`+from+`"`, `"`+to+`"`)
	}
	if strings.Contains(zones, "example.com\"") {
		t.Fatalf("contrib's zones.conf: names left after the renames:\n%s", zones)
	}
	rule := contrib(t, "icinga2/zones.d/satellite/suitecheck.conf")
	// Forced checks only, and a short interval: a satellite ignores a new
	// next check time from the cluster within 60 s of its start, and runs
	// a forced check at the time it had (ClusterEvents::
	// NextCheckChangedAPIHandler); with checks disabled, that time moves on
	// by check_interval, so a forced check starts within 10 s.
	for _, r := range [][2]string{
		{"\tcheck_interval = 5m\n", "\tenable_active_checks = false\n\tcheck_interval = 10s\n"},
		{"\tretry_interval = 5m\n", "\tretry_interval = 10s\n"},
		{"vars.suitecheck_ledger_dsn = host.vars.suitecheck_ledger_dsn", ""},
	} {
		if !strings.Contains(rule, r[0]) {
			t.Fatalf("contrib's zone apply rule lacks %q:\n%s", r[0], rule)
		}
		if r[1] != "" {
			rule = strings.Replace(rule, r[0], r[1], 1)
		}
	}

	base := filepath.Join(s.dir, "ha")
	command := filepath.Join(base, "suitecheck.conf")
	zonesConf := filepath.Join(base, "zones.conf")
	os.MkdirAll(base, 0o755)
	os.WriteFile(command, []byte(contrib(t, "icinga2/suitecheck.conf")), 0o644)
	os.WriteFile(zonesConf, []byte(zones), 0o644)

	c := &haCluster{}
	nodes := make([]*haNode, len(names))
	for i, name := range names {
		dir := filepath.Join(base, name)
		for _, d := range []string{"data/certs", "log", "cache", "spool", "run", "plugins", "tmp"} {
			os.MkdirAll(filepath.Join(dir, d), 0o755)
		}
		n := &haNode{icinga: &icinga{dir: dir, port: strconv.Itoa(ports[i]), log: filepath.Join(dir, "daemon.log")},
			name: name, tmp: filepath.Join(dir, "tmp")}
		n.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the test's own CA
		// The node's suitecheck: its checks' processes carry its TMPDIR,
		// and SC_NODE names it in the gate suite's request.
		wrapper := fmt.Sprintf("#!/bin/sh\nexport TMPDIR=%s HOME=%s SC_NODE=%s\nexec %s \"$@\"\n", n.tmp, s.dir, name, binary)
		os.WriteFile(filepath.Join(dir, "plugins", "suitecheck"), []byte(wrapper), 0o755)
		accept := ""
		if name != "master" {
			accept = "accept_config = true; accept_commands = true; "
		}
		conf := fmt.Sprintf(`const PluginDir = %q
const PluginContribDir = PluginDir
include <itl>
include <plugins>
include %q
include %q
object CheckerComponent "checker" {}
object ApiUser %q { password = %q; permissions = [ "*" ] }
object ApiListener "api" { bind_host = "127.0.0.1"; bind_port = %d; %s}
`, filepath.Join(dir, "plugins"), command, zonesConf, icingaUser, icingaPass, ports[i], accept)
		os.WriteFile(filepath.Join(dir, "icinga2.conf"), []byte(conf), 0o644)
		n.argv = []string{"/usr/sbin/icinga2", "daemon", "-c", filepath.Join(dir, "icinga2.conf"),
			"-DDataDir=" + dir + "/data", "-DLogDir=" + dir + "/log", "-DCacheDir=" + dir + "/cache",
			"-DSpoolDir=" + dir + "/spool", "-DInitRunDir=" + dir + "/run", "-DNodeName=" + name,
			"-DZonesDir=" + dir + "/zones.d"}
		n.env = append(os.Environ(), "ICINGA2_USER=root", "ICINGA2_GROUP=root")
		nodes[i] = n
	}
	c.master, c.sats = nodes[0], nodes[1:]
	// The master's zones.d: what it syncs to the satellite zone.
	zoneDir := filepath.Join(c.master.dir, "zones.d", "satellite")
	os.MkdirAll(zoneDir, 0o755)
	os.WriteFile(filepath.Join(zoneDir, "suitecheck.conf"), []byte(rule), 0o644)
	os.WriteFile(filepath.Join(zoneDir, "site.conf"), []byte(zoneObjects), 0o644)

	// One CA, the master's; every node's certificate signed by it.
	ca := c.master
	pki := func(n *haNode, args ...string) {
		cmd := exec.Command("/usr/sbin/icinga2", append(append([]string{"pki"}, args...), "-DDataDir="+n.dir+"/data")...)
		cmd.Env = n.env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("icinga2 pki %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	pki(ca, "new-ca")
	caCert, err := os.ReadFile(filepath.Join(ca.dir, "data", "ca", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		certs := filepath.Join(n.dir, "data", "certs")
		pki(n, "new-cert", "--cn", n.name, "--key", certs+"/"+n.name+".key", "--csr", certs+"/"+n.name+".csr")
		pki(ca, "sign-csr", "--csr", certs+"/"+n.name+".csr", "--cert", certs+"/"+n.name+".crt")
		os.WriteFile(filepath.Join(certs, "ca.crt"), caCert, 0o644)
	}
	validate := exec.Command(c.master.argv[0], append([]string{"daemon", "-C"}, c.master.argv[2:]...)...)
	validate.Env = c.master.env
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("icinga2 daemon -C on the master: %v\n%s", err, out)
	}
	for _, n := range nodes {
		n.start(t)
		t.Cleanup(func() { n.stop(t) })
	}
	for _, n := range nodes {
		eventually(t, 30*time.Second, n.name+"'s API", func() bool {
			_, err := n.api("GET", "/v1/status", "")
			return err == nil
		})
	}
	// The satellites take the synced config with a restart of their own.
	for _, n := range c.sats {
		eventually(t, 60*time.Second, n.name+" running the zone's config from the master", func() bool {
			_, err := n.api("GET", "/v1/objects/services/"+url.PathEscape("site!demo"), "")
			return err == nil
		})
	}
	return c
}

// start starts the node's daemon in a process group of its own.
func (n *haNode) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(n.argv[0], n.argv[1:]...)
	cmd.Env = n.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	n.mu.Lock()
	n.proc, n.logf, n.exited = cmd, logf, exited
	n.mu.Unlock()
}

// stop ends the daemon (SIGCONT first: a frozen one takes no SIGTERM) and
// its checks' processes, and logs its log when the test failed.
func (n *haNode) stop(t *testing.T) {
	n.mu.Lock()
	cmd, logf, exited := n.proc, n.logf, n.exited
	n.mu.Unlock()
	for _, pg := range n.checkGroups() {
		syscall.Kill(-pg, syscall.SIGCONT)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	for _, pg := range n.checkGroups() {
		syscall.Kill(-pg, syscall.SIGKILL)
	}
	logf.Close()
	if t.Failed() {
		b, _ := os.ReadFile(n.log)
		t.Logf("%s's icinga2 log (the end):\n%s", n.name, tail(string(b), 60))
	}
}

// checkGroups are the process groups of the node's running checks.
func (n *haNode) checkGroups() []int {
	var out []int
	for _, p := range marked(n.tmp) {
		pid, _ := strconv.Atoi(strings.Fields(p)[0])
		if pg, err := syscall.Getpgid(pid); err == nil && pg > 1 && !slices.Contains(out, pg) {
			out = append(out, pg)
		}
	}
	return out
}

// kill is the node dying at once: SIGKILL to the daemon's process group
// and to its checks' (Icinga 2 starts each plugin in a session of its own).
func (n *haNode) kill(t *testing.T) {
	t.Helper()
	groups := n.checkGroups()
	if len(groups) == 0 {
		t.Fatalf("%s: no check running to kill", n.name)
	}
	n.mu.Lock()
	cmd, exited := n.proc, n.exited
	n.mu.Unlock()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	for _, pg := range groups {
		syscall.Kill(-pg, syscall.SIGKILL)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s's daemon still there 10 s after SIGKILL", n.name)
	}
	eventually(t, 10*time.Second, n.name+"'s checks gone", func() bool { return len(marked(n.tmp)) == 0 })
}

// signal sends sig to the daemon's process group and its checks'.
func (n *haNode) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	groups := n.checkGroups()
	if len(groups) == 0 {
		t.Fatalf("%s: no check running to signal", n.name)
	}
	n.mu.Lock()
	pid := n.proc.Process.Pid
	n.mu.Unlock()
	syscall.Kill(-pid, sig)
	for _, pg := range groups {
		syscall.Kill(-pg, sig)
	}
}

// thaw sends SIGCONT to the daemon's process group and its checks'.
func (n *haNode) thaw() {
	n.mu.Lock()
	pid := n.proc.Process.Pid
	n.mu.Unlock()
	for _, pg := range n.checkGroups() {
		syscall.Kill(-pg, syscall.SIGCONT)
	}
	syscall.Kill(-pid, syscall.SIGCONT)
}

// restart starts a killed node again and waits for its API.
func (n *haNode) restart(t *testing.T) {
	t.Helper()
	n.logf.Close()
	n.start(t)
	eventually(t, 30*time.Second, n.name+"'s API after the restart", func() bool {
		_, err := n.api("GET", "/v1/objects/services/"+url.PathEscape("site!demo"), "")
		return err == nil
	})
}

// runs says the node has the service's authority: Icinga 2 has not paused
// it there.
func (n *haNode) runs(service string) bool {
	var paused *bool
	return n.serviceAttr("site", service, "paused", &paused) && paused != nil && !*paused
}

// owners waits until each service runs on exactly one satellite, both
// satellites connected to each other and to the master, and says which.
func (c *haCluster) owners(t *testing.T, services []string) map[string]*haNode {
	t.Helper()
	var out map[string]*haNode
	eventually(t, 60*time.Second, "the zone's services shared by both satellites", func() bool {
		for _, n := range append([]*haNode{c.master}, c.sats...) {
			if !n.connected(t) {
				return false
			}
		}
		out = map[string]*haNode{}
		for _, svc := range services {
			for _, n := range c.sats {
				if n.runs(svc) {
					if out[svc] != nil {
						return false
					}
					out[svc] = n
				}
			}
			if out[svc] == nil {
				return false
			}
		}
		return len(services) < 2 || out[services[0]] != out[services[1]]
	})
	return out
}

// connected says the node is connected to every other endpoint it knows.
func (n *haNode) connected(t *testing.T) bool {
	b, err := n.api("GET", "/v1/objects/endpoints?attrs=connected", "")
	if err != nil {
		return false
	}
	var reply struct {
		Results []struct {
			Name  string `json:"name"`
			Attrs struct {
				Connected bool `json:"connected"`
			} `json:"attrs"`
		} `json:"results"`
	}
	if json.Unmarshal(b, &reply) != nil || len(reply.Results) < 3 {
		return false
	}
	for _, r := range reply.Results {
		if r.Name != n.name && !r.Attrs.Connected {
			return false
		}
	}
	return true
}

// splitSuites are two suite names whose services ("suitecheck-NAME" of
// host) Icinga 2 gives to different endpoints of a zone of these, all
// connected: it takes the endpoints in name order and a service's is the
// one at SDBM(service's full name) modulo their number
// (lib/remote/apilistener-authority.cpp). The test reads who runs what from
// the satellites all the same.
func splitSuites(host string, endpoints []string) []string {
	slices.Sort(endpoints)
	var out []string
	seen := map[int]bool{}
	for i := 1; len(out) < 2; i++ {
		name := fmt.Sprintf("gate-%d", i)
		var h uint64
		for _, c := range []byte(host + "!suitecheck-" + name) {
			h = uint64(c) + (h << 6) + (h << 16) - h
		}
		if e := int(h % uint64(len(endpoints))); !seen[e] {
			seen[e] = true
			out = append(out, name)
		}
	}
	return out
}

// gate is the HTTP server the gate suites' runs wait at: a request
// /NODE/TENANT is held until the test opens the gate for that tenant, or
// the client goes away.
type gate struct {
	url      string
	arrivals chan [2]string // node, tenant
	mu       sync.Mutex
	opened   map[string]chan struct{}
	why      func() string // what to say when no run comes
}

func startGate(t *testing.T) *gate {
	t.Helper()
	g := &gate{arrivals: make(chan [2]string, 16), opened: map[string]chan struct{}{}, why: func() string { return "" }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.url = "http://" + ln.Addr().String()
	done := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		node, tenant, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		ch := g.gateOf(tenant)
		g.arrivals <- [2]string{node, tenant}
		select {
		case <-ch:
			fmt.Fprintln(w, "open")
		case <-r.Context().Done():
		case <-done:
			http.Error(w, "the test ended", http.StatusServiceUnavailable)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { close(done); srv.Close() })
	return g
}

func (g *gate) gateOf(tenant string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.opened[tenant]
	if !ok {
		ch = make(chan struct{})
		g.opened[tenant] = ch
	}
	return ch
}

// next waits for the next run at the gate, which must come from node, and
// returns its tenant's name.
func (g *gate) next(t *testing.T, node string, bound time.Duration) string {
	t.Helper()
	select {
	case a := <-g.arrivals:
		if a[0] != node {
			t.Fatalf("a run of %s at the gate (tenant %s): want one of %s", a[0], a[1], node)
		}
		return a[1]
	case <-time.After(bound):
		t.Fatalf("no run of %s at the gate within %s%s", node, bound, g.why())
		return ""
	}
}

// open lets the run of tenant through.
func (g *gate) open(tenant string) { close(g.gateOf(tenant)) }

// ledgerEntries are the ledger's entries as `suitecheck tenant list` shows
// them: name → "running" or "dead".
func ledgerEntries(t *testing.T, s *site, ledger ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"tenant", "list", "--config", s.cfg, "--env", "staging", "--state-dir", s.state, "-H", "127.0.0.1"}, ledger...)...)
	cmd.Env = append(os.Environ(), "TMPDIR="+s.tmp)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("suitecheck tenant list: %v\n%s", err, out)
	}
	entries := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "NAME ") && strings.Contains(line, " RUN "):
			in = true
		case strings.TrimSpace(line) == "":
			in = false
		case in:
			f := strings.Fields(line)
			state := "dead"
			if slices.Contains(f, "running") {
				state = "running"
			}
			entries[f[0]] = state
		}
	}
	return entries
}

// perfValue is the value of a label in a check result's performance data.
func perfValue(cr checkResult, label string) string {
	for _, p := range cr.PerformanceData {
		l, v, _ := strings.Cut(p, "=")
		if strings.Trim(l, "'") == label {
			v, _, _ = strings.Cut(v, ";")
			return v
		}
	}
	return ""
}

// freePorts are n ports of 127.0.0.1 free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
