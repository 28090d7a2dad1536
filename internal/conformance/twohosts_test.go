//go:build conformance

package conformance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/apptest"
)

// TestTwoHosts: one service definition, two hosts, under the real
// clients. Two sample apps listen on the same port of two loopback
// addresses, 127.0.0.1 and 127.0.0.2, each with its own database and its
// own admin token. The one config's base_url is http://app.invalid:PORT, a
// name that never resolves (RFC 6761), and its tenant provisioner talks to
// {{.BaseURL}} with the admin token of a secret var: a check passes only
// when the client hands suitecheck the host's address (-H) and the host's
// token file (--secret-var). Each app must then have made exactly one
// tenant and deleted it: each host's check reached its own host.
//
// Monit is left out: it has no host macros, so "one definition for many
// hosts" has no meaning there (a check program names its command line).
func TestTwoHosts(t *testing.T) {
	s := newBareSite(t, "root")
	port, hosts := startTwoApps(t)
	for i, h := range hosts {
		h.name = fmt.Sprintf("app-%d", i+1)
		h.token = filepath.Join(s.dir, h.name+".token")
		if err := os.WriteFile(h.token, []byte(h.app.Admin+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	prov := strings.ReplaceAll(apptest.ProvisionerYAML("{{.BaseURL}}", "X"), `{{env "X"}}`, `{{.Vars.admin_token}}`)
	y := fmt.Sprintf("environments:\n  production: {base_url: \"http://app.invalid:%d\"}\n%s", port, prov) + apptest.SuitesYAML
	if err := os.WriteFile(s.cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	const okOutput = "SUITECHECK OK - ok on production: 1 of 1 cases passed"

	t.Run("icinga2", func(t *testing.T) {
		// contrib's CheckCommand and its example apply rule, as
		// shipped but for active checks: Icinga schedules a new
		// service's first check within a minute of its start, which
		// would make the tenants counted here two. Forced checks run
		// anyway.
		cmd := filepath.Join(s.dir, "twohosts-suitecheck.conf")
		os.WriteFile(cmd, []byte(contrib(t, "icinga2/suitecheck.conf")), 0o644)
		rule := contrib(t, "icinga2/suitecheck-services.conf")
		const interval = "\tcheck_interval = 5m\n"
		if !strings.Contains(rule, interval) {
			t.Fatalf("contrib's apply rule lacks %q:\n%s", interval, rule)
		}
		rule = strings.Replace(rule, interval, "\tenable_active_checks = false\n"+interval, 1)
		rules := filepath.Join(s.dir, "twohosts-suitecheck-services.conf")
		os.WriteFile(rules, []byte(rule), 0o644)
		var objects strings.Builder
		host := func(name, address, token, more string) {
			fmt.Fprintf(&objects, `object Host %q {
  check_command = "dummy"
  enable_active_checks = false
  address = %q
  vars.suitecheck_config = %q
  vars.suitecheck_env = "production"
  vars.suitecheck_state_dir = %q
  vars.suitecheck_suites = [ "ok" ]
  vars.suitecheck_secret_vars = [ "admin_token=@%s" ]
%s}
`, name, address, s.cfg, s.state, token, more)
		}
		for _, h := range hosts {
			host(h.name, h.addr, h.token, "")
		}
		// The counter-proof: a host that keeps the config's host
		// (suitecheck_address = "") never reaches an app.
		host("pinned", hosts[0].addr, hosts[0].token, "  vars.suitecheck_address = \"\"\n")
		ic := startIcingaWith(t, s, "icinga2-twohosts", icingaSetup{user: "root", pluginDir: s.plugins,
			includes: fmt.Sprintf("include %q\ninclude %q\n", cmd, rules), objects: objects.String()}, nil)

		marks := mark(hosts)
		since := ic.force(t, "suitecheck-ok") // on every host the rule made it for
		for _, h := range hosts {
			cr := ic.resultOn(t, h.name, "suitecheck-ok", since, 40*time.Second)
			if cr.State != 0 || !strings.HasPrefix(cr.Output, okOutput) {
				t.Errorf("%s (%s): result %+v", h.name, h.addr, cr)
			}
		}
		cr := ic.resultOn(t, "pinned", "suitecheck-ok", since, 40*time.Second)
		if cr.State == 0 || !strings.Contains(cr.Output, "app.invalid") {
			t.Errorf("pinned to the config's host: result %+v: want a failure naming app.invalid", cr)
		}
		oneTenantEach(t, hosts, marks)
		s.waitNoLeftovers(t)
		noTempLeft(t, s)
	})

	t.Run("nagios", func(t *testing.T) {
		// One service on a hostgroup of the two hosts, with contrib's
		// check_suitecheck_host; each host's token file is a custom
		// variable of the host. Active checks are off: forced checks
		// run anyway, and Nagios's own first check would count twice.
		var objects strings.Builder
		names := make([]string, len(hosts))
		for i, h := range hosts {
			names[i] = h.name
			fmt.Fprintf(&objects, `define host {
  host_name %s
  address %s
  _suitecheck_token %s
  max_check_attempts 1
  check_period always
  active_checks_enabled 0
  contacts nobody
  notification_period always
}
`, h.name, h.addr, h.token)
		}
		fmt.Fprintf(&objects, `define hostgroup {
  hostgroup_name suitecheck-apps
  alias suitecheck apps
  members %s
}
define service {
  hostgroup_name suitecheck-apps
  service_description suitecheck ok
  check_command check_suitecheck_host!ok!30!--config %s --env production --state-dir %s --secret-var admin_token=@$_HOSTSUITECHECK_TOKEN$
  max_check_attempts 1
  check_interval 86400
  retry_interval 86400
  check_period always
  active_checks_enabled 0
  contacts nobody
  notification_period always
}
`, strings.Join(names, ","), s.cfg, s.state)
		commands := filepath.Join(s.dir, "twohosts-suitecheck.cfg")
		os.WriteFile(commands, []byte(contrib(t, "nagios4/suitecheck.cfg")), 0o644)
		n := startNagiosObjects(t, s, "nagios-twohosts", 40, commands, s.plugins, nil, objects.String())

		marks := mark(hosts)
		since := make([]time.Time, len(hosts))
		for i, h := range hosts {
			since[i] = n.forceOn(t, h.name, "suitecheck ok")
		}
		for i, h := range hosts {
			st := n.resultOn(t, h.name, "suitecheck ok", since[i], 40*time.Second)
			if st["current_state"] != "0" || !strings.HasPrefix(st["plugin_output"], okOutput) {
				t.Errorf("%s (%s): state %s, output %q, long %q", h.name, h.addr, st["current_state"], st["plugin_output"], st["long_plugin_output"])
			}
		}
		oneTenantEach(t, hosts, marks)
		s.waitNoLeftovers(t)
		noTempLeft(t, s)
	})
}

// hostApp is a host of TestTwoHosts: its address, its sample app, the
// file holding the app's admin token, and what the app logged of tenants.
type hostApp struct {
	name, addr, token string
	app               apptest.App
	log               *tenantLog
}

// startTwoApps starts a sample app on 127.0.0.1:PORT and another on
// 127.0.0.2:PORT (Linux routes all of 127/8 to lo), PORT free on both.
func startTwoApps(t *testing.T) (int, []*hostApp) {
	t.Helper()
	var last error
	for range 5 { // another test may take the port between probe and start
		port, err := freeOnBoth("127.0.0.1", "127.0.0.2")
		if err != nil {
			last = err
			continue
		}
		hosts := []*hostApp{{addr: "127.0.0.1", log: &tenantLog{}}, {addr: "127.0.0.2", log: &tenantLog{}}}
		for _, h := range hosts {
			if h.app, err = apptest.StartOn(t, net.JoinHostPort(h.addr, strconv.Itoa(port)), slog.New(h.log)); err != nil {
				break
			}
		}
		if err == nil {
			return port, hosts
		}
		last = err
	}
	t.Fatalf("two sample apps on one port of 127.0.0.1 and 127.0.0.2: %v", last)
	return 0, nil
}

// freeOnBoth is a port nobody listens on at either address: one we could
// listen on at both at once.
func freeOnBoth(a, b string) (int, error) {
	la, err := net.Listen("tcp", net.JoinHostPort(a, "0"))
	if err != nil {
		return 0, err
	}
	defer la.Close()
	port := la.Addr().(*net.TCPAddr).Port
	lb, err := net.Listen("tcp", net.JoinHostPort(b, strconv.Itoa(port)))
	if err != nil {
		return 0, err
	}
	lb.Close()
	return port, nil
}

// tenantLog is a sample app's log handler keeping what it logs of
// tenants: "created ID" and "deleted ID", in order.
type tenantLog struct {
	mu     sync.Mutex
	events []string
}

func (l *tenantLog) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (l *tenantLog) Handle(_ context.Context, r slog.Record) error {
	op, ok := map[string]string{"tenant created": "created", "tenant deleted": "deleted"}[r.Message]
	if !ok {
		return nil
	}
	var id string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "tenant_id" {
			id = a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, op+" "+id)
	return nil
}

func (l *tenantLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *tenantLog) WithGroup(string) slog.Handler      { return l }

// since is what was logged after the first n events.
func (l *tenantLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events[n:]...)
}

// mark is how many tenant events each host's app has logged so far.
func mark(hosts []*hostApp) []int {
	out := make([]int, len(hosts))
	for i, h := range hosts {
		h.log.mu.Lock()
		out[i] = len(h.log.events)
		h.log.mu.Unlock()
	}
	return out
}

// oneTenantEach: since marks, each host's app made exactly one tenant and
// deleted that one, and lists none.
func oneTenantEach(t *testing.T, hosts []*hostApp, marks []int) {
	t.Helper()
	for i, h := range hosts {
		ev := h.log.since(marks[i])
		if len(ev) != 2 || !strings.HasPrefix(ev[0], "created ") || ev[1] != "deleted "+strings.TrimPrefix(ev[0], "created ") {
			t.Errorf("%s (%s): tenant events %q: want one created and that one deleted", h.name, h.addr, ev)
		}
		if ts := h.app.Tenants(t); len(ts) != 0 {
			t.Errorf("%s (%s): tenants left: %v", h.name, h.addr, ts)
		}
	}
}

// noTempLeft: the checks left nothing in the site's TMPDIR.
func noTempLeft(t *testing.T, s *site) {
	t.Helper()
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in TMPDIR: %s", e.Name())
	}
}
