//go:build conformance

package conformance

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nagios is a private Nagios 4 instance.
type nagios struct {
	dir  string
	proc *exec.Cmd
}

// startNagios writes a Nagios 4 configuration with contrib's command
// definitions and one service per check (its check_command; never
// scheduled on their own: checks are forced) and starts the daemon. Nagios
// runs checks as the nagios user, with a service_check_timeout of timeout
// seconds.
func startNagios(t *testing.T, s *site, name string, timeout int, checks map[string]string) *nagios {
	t.Helper()
	commands := filepath.Join(s.dir, name+"-suitecheck.cfg")
	os.WriteFile(commands, []byte(contrib(t, "nagios4/suitecheck.cfg")), 0o644)
	return startNagiosWith(t, s, name, timeout, commands, s.plugins, checks)
}

// startNagiosWith is startNagios with the command definitions of the file
// commands and $USER1$ the directory user1.
func startNagiosWith(t *testing.T, s *site, name string, timeout int, commands, user1 string, checks map[string]string) *nagios {
	t.Helper()
	return startNagiosObjects(t, s, name, timeout, commands, user1, checks, "")
}

// startNagiosObjects is startNagiosWith with more object definitions:
// hosts, hostgroups, services of their own.
func startNagiosObjects(t *testing.T, s *site, name string, timeout int, commands, user1 string, checks map[string]string, objects string) *nagios {
	t.Helper()
	need(t, "/usr/sbin/nagios4")
	dir := filepath.Join(s.dir, name)
	os.MkdirAll(filepath.Join(dir, "checkresults"), 0o755)
	os.WriteFile(filepath.Join(dir, "resource.cfg"), []byte("$USER1$="+user1+"\n"), 0o644)
	cfg := fmt.Sprintf(`log_file=%[1]s/nagios.log
cfg_file=%[1]s/objects.cfg
cfg_file=%[3]s
resource_file=%[1]s/resource.cfg
object_cache_file=%[1]s/objects.cache
precached_object_file=%[1]s/objects.precache
status_file=%[1]s/status.dat
status_update_interval=1
nagios_user=nagios
nagios_group=nagios
check_external_commands=1
command_file=%[1]s/nagios.cmd
lock_file=%[1]s/nagios.lock
temp_file=%[1]s/nagios.tmp
temp_path=%[1]s
check_result_path=%[1]s/checkresults
retain_state_information=0
state_retention_file=%[1]s/retention.dat
service_check_timeout=%[2]d
service_check_timeout_state=c
interval_length=1
enable_notifications=0
execute_host_checks=0
check_result_reaper_frequency=1
max_service_check_spread=1
use_syslog=0
log_rotation_method=n
enable_flap_detection=0
enable_environment_macros=0
`, dir, timeout, commands)
	var obj strings.Builder
	obj.WriteString(`define timeperiod {
  timeperiod_name always
  alias always
  sunday 00:00-24:00
  monday 00:00-24:00
  tuesday 00:00-24:00
  wednesday 00:00-24:00
  thursday 00:00-24:00
  friday 00:00-24:00
  saturday 00:00-24:00
}
define command {
  command_name notify_none
  command_line /bin/true
}
define contact {
  contact_name nobody
  host_notifications_enabled 0
  service_notifications_enabled 0
  host_notification_period always
  service_notification_period always
  host_notification_options n
  service_notification_options n
  host_notification_commands notify_none
  service_notification_commands notify_none
}
define host {
  host_name local
  address 127.0.0.1
  max_check_attempts 1
  check_period always
  active_checks_enabled 0
  contacts nobody
  notification_period always
}
`)
	if example := s.nagiosServiceExample(t); name == "nagios" {
		obj.WriteString(example)
	}
	obj.WriteString(objects)
	for name, command := range checks {
		fmt.Fprintf(&obj, `define service {
  host_name local
  service_description %[1]s
  check_command %[2]s
  max_check_attempts 1
  check_interval 86400
  retry_interval 86400
  check_period always
  active_checks_enabled 1
  contacts nobody
  notification_period always
}
`, name, command)
	}
	os.WriteFile(filepath.Join(dir, "nagios.cfg"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "objects.cfg"), []byte(obj.String()), 0o644)
	chown(t, s.dir, "nagios")
	if out, err := exec.Command("/usr/sbin/nagios4", "-v", filepath.Join(dir, "nagios.cfg")).CombinedOutput(); err != nil {
		t.Fatalf("nagios4 -v: %v\n%s", err, out)
	}
	n := &nagios{dir: dir, proc: exec.Command("/usr/sbin/nagios4", filepath.Join(dir, "nagios.cfg"))}
	n.proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := n.proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopGroup(n.proc, 10*time.Second)
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "nagios.log"))
			t.Logf("nagios.log:\n%s", b)
		}
	})
	eventually(t, 20*time.Second, "nagios's command pipe", func() bool {
		st, err := os.Stat(filepath.Join(dir, "nagios.cmd"))
		return err == nil && st.Mode()&os.ModeNamedPipe != 0
	})
	return n
}

// nagiosServiceExample is contrib's commented service definition, made
// real for the site: its suite "ok", its paths the site's, its host ours,
// on a template like Debian's generic-service.
func (s *site) nagiosServiceExample(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`define service {
  name generic-service
  register 0
  max_check_attempts 1
  check_interval 86400
  retry_interval 86400
  check_period always
  contacts nobody
  notification_period always
}
`)
	in := false
	for _, line := range strings.Split(contrib(t, "nagios4/suitecheck.cfg"), "\n") {
		if strings.HasPrefix(line, "# define service {") {
			in = true
		}
		if in {
			b.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ") + "\n")
		}
		if in && strings.HasPrefix(line, "# }") {
			break
		}
	}
	ex := b.String()
	for _, r := range [][2]string{
		{"app-staging", "local"},
		{"check_suitecheck!smoke!50!", "check_suitecheck!ok!30!"},
		{"/etc/suitecheck/suitecheck.yaml", s.cfg},
		{"/var/lib/suitecheck", s.state},
		{"check_interval          5", "check_interval          86400"},
		{"retry_interval          5", "retry_interval          86400"},
	} {
		if !strings.Contains(ex, r[0]) {
			t.Fatalf("contrib's service example lacks %q:\n%s", r[0], ex)
		}
		ex = strings.ReplaceAll(ex, r[0], r[1])
	}
	return ex
}

// force runs a service's check of the host local now.
func (n *nagios) force(t *testing.T, service string) time.Time {
	t.Helper()
	return n.forceOn(t, "local", service)
}

// forceOn runs the check of host's service now.
func (n *nagios) forceOn(t *testing.T, host, service string) time.Time {
	t.Helper()
	now := time.Now()
	f, err := os.OpenFile(filepath.Join(n.dir, "nagios.cmd"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "[%d] SCHEDULE_FORCED_SVC_CHECK;%s;%s;%d\n", now.Unix(), host, service, now.Unix())
	return now
}

// result waits for a check of the host local's service that ran at or
// after since, and returns its servicestatus block as Nagios stored it in
// status.dat.
func (n *nagios) result(t *testing.T, service string, since time.Time, bound time.Duration) map[string]string {
	t.Helper()
	return n.resultOn(t, "local", service, since, bound)
}

// resultOn is result for host's service.
func (n *nagios) resultOn(t *testing.T, host, service string, since time.Time, bound time.Duration) map[string]string {
	t.Helper()
	var got map[string]string
	eventually(t, bound, "nagios result of "+host+";"+service, func() bool {
		st := n.status(host, service)
		var last int64
		fmt.Sscan(st["last_check"], &last)
		if st["has_been_checked"] == "1" && last >= since.Unix() {
			got = st
			return true
		}
		return false
	})
	return got
}

func (n *nagios) status(host, service string) map[string]string {
	f, err := os.Open(filepath.Join(n.dir, "status.dat"))
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var block map[string]string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "servicestatus {":
			block = map[string]string{}
		case line == "}":
			if block != nil && block["host_name"] == host && block["service_description"] == service {
				return block
			}
			block = nil
		case block != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				block[k] = v
			}
		}
	}
	return nil
}

// TestNagios: the demo's result as Nagios 4 stores it, healthy and broken;
// and Nagios's timeout (SIGKILL to the plugin's process group, CRITICAL):
// no browser is left, and the next run sweeps the tenant.
func TestNagios(t *testing.T) {
	s := newSite(t, "nagios")
	// -t below the client's timeout, as the README says.
	site := "--config " + s.cfg + " --state-dir " + s.state
	n := startNagios(t, s, "nagios", 40, map[string]string{
		"demo":   "check_suitecheck_demo!30",
		"broken": "check_suitecheck_demo!30!--break db-readonly",
		"ok":     "check_suitecheck!ok!30!" + site,
	})
	// A check whose -t is above the client's timeout: Nagios kills it.
	short := startNagios(t, s, "nagios-short", 8, map[string]string{"hang": "check_suitecheck!hang!50!" + site})

	t.Run("healthy", func(t *testing.T) {
		st := n.result(t, "demo", n.force(t, "demo"), 30*time.Second)
		if st["current_state"] != "0" || !strings.HasPrefix(st["plugin_output"], "SUITECHECK OK - demo on demo: 5 of 5 cases passed") {
			t.Errorf("state %s, output %q", st["current_state"], st["plugin_output"])
		}
		want := "time tenant_create browser_start sign_in post_message upload api file_row tenant_delete failed swept sweep"
		if got := strings.Join(perfLabels(st["performance_data"]), " "); got != want {
			t.Errorf("perfdata labels %q, want %q (perfdata %q)", got, want, st["performance_data"])
		}
		if !strings.Contains(st["long_plugin_output"], `[OK] sign in`) || !strings.Contains(st["long_plugin_output"], "deleted in") {
			t.Errorf("long output %q", st["long_plugin_output"])
		}
	})
	t.Run("broken", func(t *testing.T) {
		st := n.result(t, "broken", n.force(t, "broken"), 30*time.Second)
		if st["current_state"] != "2" || !strings.Contains(st["plugin_output"], "diagnosis: check_postgres: layer 8/8 writable") {
			t.Errorf("state %s, output %q", st["current_state"], st["plugin_output"])
		}
		if !strings.Contains(st["performance_data"], "failed=2;;;0;5") {
			t.Errorf("perfdata %q", st["performance_data"])
		}
	})
	t.Run("contrib service example", func(t *testing.T) {
		st := n.result(t, "suitecheck smoke", n.force(t, "suitecheck smoke"), 30*time.Second)
		if st["current_state"] != "0" || !strings.HasPrefix(st["plugin_output"], "SUITECHECK OK - ok on staging") {
			t.Errorf("state %s, output %q", st["current_state"], st["plugin_output"])
		}
	})
	t.Run("client timeout", func(t *testing.T) {
		since := short.force(t, "hang")
		eventually(t, 20*time.Second, "the hanging check's tenant and browser", func() bool {
			return len(s.app.Tenants(t)) == 1 && len(s.leftovers()) >= 2
		})
		st := short.result(t, "hang", since, 30*time.Second)
		if st["current_state"] != "2" || !strings.Contains(st["plugin_output"], "timed out") {
			t.Errorf("state %s, output %q: want Nagios's own CRITICAL timeout", st["current_state"], st["plugin_output"])
		}
		s.waitNoLeftovers(t)
		if ts := s.app.Tenants(t); len(ts) != 1 {
			t.Fatalf("tenants %v: SIGKILL leaves the tenant for the next run", ts)
		}
		st = n.result(t, "ok", n.force(t, "ok"), 30*time.Second)
		if st["current_state"] != "0" || !strings.Contains(st["performance_data"], "swept=1;") {
			t.Errorf("next run: state %s, output %q, perfdata %q", st["current_state"], st["plugin_output"], st["performance_data"])
		}
		if ts := s.app.Tenants(t); len(ts) != 0 {
			t.Errorf("tenants left after the sweep: %v", ts)
		}
	})
}
