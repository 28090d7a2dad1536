//go:build conformance

package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The paths the package promises (README, Install).
const (
	pkgPlugin   = "/usr/lib/nagios/plugins/suitecheck"
	pkgStateDir = "/var/lib/suitecheck"
	pkgNagios   = "/etc/nagios-plugins/config/suitecheck.cfg"
	pkgMonit    = "/etc/monit/conf-available/suitecheck"
	pkgIcinga   = "/usr/share/icinga2/include/plugins-contrib.d/suitecheck.conf"
)

// webSuite signs a tenant in through the sample app's login page: a
// browser case, so that Chromium runs as the clients' user, sandboxed.
const webSuite = `  web:
    cases:
      - name: sign in
        steps:
          - goto: "{{.BaseURL}}/login"
          - fill: {selector: "#login", value: "{{.Tenant.login}}"}
          - fill: {selector: "#password", value: "{{.Tenant.password}}", secret: true}
          - click: "#sign-in"
          - wait_text: "Welcome, {{.Tenant.login}}"
`

// TestPackage: `make deb`'s package, installed with apt-get, runs a
// browser suite through its own definitions as the nagios user, with the
// state dir its postinst made: the Icinga 2 CheckCommand of
// <plugins-contrib> (the address defaulting to the host's), the Nagios
// commands of /etc/nagios-plugins/config, and the Monit snippet. Then
// remove keeps only the conffiles and the state, and purge leaves nothing.
func TestPackage(t *testing.T) {
	need(t, "/usr/sbin/icinga2", "/usr/sbin/nagios4", "/usr/bin/monit", "/usr/bin/apt-get")
	if st := pkgStatus(); st == "installed" || st == "config-files" {
		t.Fatalf("the suitecheck package is on this machine (%s): this test installs and purges it; remove it first with apt-get purge suitecheck", st)
	}
	deb := makeDeb(t)
	contents := debContents(t, deb)
	// A state dir already here (suitecheck run as root, built from source,
	// makes it) is someone's ledger: purge would delete it. It waits aside.
	if _, err := os.Lstat(pkgStateDir); err == nil {
		aside := fmt.Sprintf("%s.before-test-%d", pkgStateDir, os.Getpid())
		if err := os.Rename(pkgStateDir, aside); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			os.RemoveAll(pkgStateDir)
			if err := os.Rename(aside, pkgStateDir); err != nil {
				t.Errorf("restore %s: %v", pkgStateDir, err)
			}
		})
	}
	t.Cleanup(func() { // whatever happens
		if st := pkgStatus(); st != "" && st != "not-installed" {
			apt(t, "purge", "suitecheck")
		}
	})
	apt(t, "install", "--no-install-recommends", deb)

	t.Run("installed", func(t *testing.T) { checkInstalled(t) })

	s := newSite(t, "nagios")
	f, err := os.OpenFile(s.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(webSuite)
	f.Close()
	// The same config with a base_url whose host does not resolve: it
	// works only when the check is given the host's address (-H).
	hostCfg := filepath.Join(s.dir, "by-address.yaml")
	b, _ := os.ReadFile(s.cfg)
	if !strings.Contains(string(b), "base_url: http://127.0.0.1:") {
		t.Fatalf("the site's config has no base_url on 127.0.0.1:\n%s", b)
	}
	os.WriteFile(hostCfg, []byte(strings.Replace(string(b), "base_url: http://127.0.0.1:", "base_url: http://app.invalid:", 1)), 0o644)
	chown(t, s.dir, "nagios")

	t.Run("icinga2", func(t *testing.T) {
		ic := startIcingaWith(t, s, "icinga2-pkg", icingaSetup{user: "nagios", pluginDir: "/usr/lib/nagios/plugins",
			includes: "include <plugins-contrib>\n", hostVars: "  address = \"127.0.0.1\"\n"},
			map[string]string{"web": fmt.Sprintf("vars.suitecheck_suite = \"web\"; vars.suitecheck_config = %q; vars.suitecheck_timeout = 30", hostCfg)})
		cr := ic.result(t, "web", ic.force(t, "web"), 60*time.Second)
		if cr.State != 0 || !strings.HasPrefix(cr.Output, "SUITECHECK OK - web on staging: 1 of 1 cases passed") || !strings.Contains(cr.Output, "\n[OK] sign in") {
			t.Errorf("result %+v", cr)
		}
	})
	t.Run("nagios", func(t *testing.T) {
		n := startNagiosWith(t, s, "nagios-pkg", 40, pkgNagios, "/usr/lib/nagios/plugins", map[string]string{
			"web": "check_suitecheck_host!web!30!--config " + hostCfg + " --env staging",
		})
		st := n.result(t, "web", n.force(t, "web"), 60*time.Second)
		if st["current_state"] != "0" || !strings.HasPrefix(st["plugin_output"], "SUITECHECK OK - web on staging: 1 of 1 cases passed") {
			t.Errorf("state %s, output %q, long %q", st["current_state"], st["plugin_output"], st["long_plugin_output"])
		}
	})
	t.Run("monit", func(t *testing.T) {
		snip, err := os.ReadFile(pkgMonit)
		if err != nil {
			t.Fatal(err)
		}
		// The snippet as an admin adapts it: the suite, the config and the
		// environment. The plugin, the user and the state dir stay.
		m := startMonitWith(t, s, "monit-pkg", s.adaptMonitSnippet(t, string(snip), "web", 60))
		st := m.result(t, "web", 90*time.Second)
		if st.Status != 0 || st.Program.Status != 0 || !strings.HasPrefix(st.Program.Output, "SUITECHECK OK - web on staging: 1 of 1 cases passed") {
			t.Errorf("status %d, exit %d, output %q", st.Status, st.Program.Status, st.Program.Output)
		}
	})
	if ts := s.app.Tenants(t); len(ts) != 0 {
		t.Errorf("tenants left: %v", ts)
	}
	// The checks kept their ledger in the package's state dir.
	if fi, err := os.Stat(filepath.Join(pkgStateDir, "tenants")); err != nil || owner(fi) != "nagios" {
		t.Errorf("no ledger of the nagios user's in %s: %v", pkgStateDir, err)
	}

	t.Run("remove and purge", func(t *testing.T) {
		apt(t, "remove", "suitecheck")
		// Debian policy: remove keeps the conffiles and the state.
		for _, p := range []string{pkgNagios, pkgMonit, pkgStateDir} {
			if _, err := os.Lstat(p); err != nil {
				t.Errorf("remove took %s: %v", p, err)
			}
		}
		for _, p := range []string{pkgPlugin, "/usr/bin/suitecheck", pkgIcinga} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("remove left %s", p)
			}
		}
		apt(t, "purge", "suitecheck")
		if st := pkgStatus(); st != "" && st != "not-installed" {
			t.Errorf("after purge, dpkg says %q", st)
		}
		for _, p := range append(contents, pkgStateDir) {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("purge left %s", p)
			}
		}
	})
	// suitecheck run as root from a source build made the state dir root's:
	// the package hands it, with the ledger in it, to nagios.
	t.Run("state dir handed over", func(t *testing.T) {
		ledger := filepath.Join(pkgStateDir, "tenants", "run.json")
		if err := os.MkdirAll(filepath.Dir(ledger), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(ledger, []byte("{}"), 0o600)
		apt(t, "install", "--no-install-recommends", deb)
		for _, p := range []string{pkgStateDir, filepath.Dir(ledger), ledger} {
			if fi, err := os.Lstat(p); err != nil || owner(fi) != "nagios" {
				t.Errorf("%s: %v: not handed to nagios", p, err)
			}
		}
		if fi, _ := os.Stat(pkgStateDir); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v", pkgStateDir, fi.Mode())
		}
		apt(t, "purge", "suitecheck")
		if _, err := os.Lstat(pkgStateDir); err == nil {
			t.Errorf("purge left %s", pkgStateDir)
		}
	})
}

// checkInstalled: the files where the README says, -V as a plugin's, the
// state dir the nagios user's alone, the conffiles known to dpkg, and man.
func checkInstalled(t *testing.T) {
	out, err := exec.Command(pkgPlugin, "-V").Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.HasPrefix(string(out), "suitecheck v") || !strings.Contains(string(out), "(commit ") {
		t.Errorf("%s -V: %v, %q: want exit 3 and the version", pkgPlugin, err, out)
	}
	if l, err := os.Readlink("/usr/bin/suitecheck"); err != nil || filepath.Join("/usr/bin", l) != pkgPlugin {
		t.Errorf("/usr/bin/suitecheck -> %q, %v", l, err)
	}
	fi, err := os.Lstat(pkgStateDir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || owner(fi) != "nagios" {
		t.Errorf("%s: %v, %v: want a directory 0700 of nagios", pkgStateDir, fi.Mode(), err)
	}
	conffiles, _ := exec.Command("dpkg-query", "-W", "-f", "${Conffiles}", "suitecheck").Output()
	for _, p := range []string{pkgNagios, pkgMonit} {
		if !strings.Contains(string(conffiles), p+" ") {
			t.Errorf("%s is not a conffile: %q", p, conffiles)
		}
	}
	for _, p := range []string{pkgIcinga, "/usr/share/doc/suitecheck/copyright", "/usr/share/doc/suitecheck/changelog.Debian.gz",
		"/usr/share/doc/suitecheck/examples/suitecheck.yaml", "/usr/share/doc/suitecheck/examples/systemd/suitecheck-chromium.service",
		"/usr/share/bash-completion/completions/suitecheck",
		"/usr/share/zsh/vendor-completions/_suitecheck", "/usr/share/fish/vendor_completions.d/suitecheck.fish"} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	for page, flags := range map[string][]string{
		"suitecheck":     {"--timeout", "--version", "--max-output", "suitecheck-run(1)"},
		"suitecheck-run": {"--teardown-timeout", "--state-dir", "--secret-var", "--timeout"},
	} {
		cmd := exec.Command("man", page)
		cmd.Env = append(os.Environ(), "LC_ALL=C", "MANWIDTH=200", "MANPAGER=cat", "PAGER=cat")
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("man %s: %v", page, err)
			continue
		}
		for _, f := range flags {
			if !strings.Contains(string(out), f) {
				t.Errorf("man %s lacks %s", page, f)
			}
		}
	}
	// The completion asks the plugin itself, which answers with its flags.
	out, _ = exec.Command(pkgPlugin, "__complete", "run", "x", "--teardown").Output()
	if !strings.Contains(string(out), "--teardown-timeout") {
		t.Errorf("__complete: %q", out)
	}
}

// makeDeb runs make deb and returns the package's absolute path.
func makeDeb(t *testing.T) string {
	t.Helper()
	root, _ := filepath.Abs("../..")
	cmd := exec.Command("make", "-s", "deb")
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make deb: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	deb := filepath.Join(root, lines[len(lines)-1])
	if !strings.HasPrefix(filepath.Base(deb), "suitecheck_") || !strings.HasSuffix(deb, ".deb") {
		t.Fatalf("make deb printed %q, not the package", out)
	}
	if strings.Contains(stderr.String(), "\nE: ") || strings.HasPrefix(stderr.String(), "E: ") {
		t.Errorf("lintian errors:\n%s", stderr.String())
	}
	return deb
}

// debContents are the files and links a package holds, and its own
// directories (those named for suitecheck).
func debContents(t *testing.T, deb string) []string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "--fsys-tarfile", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(t.TempDir(), "data.tar")
	os.WriteFile(tf, out, 0o600)
	list, err := exec.Command("tar", "-tvf", tf).Output()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	sc := bufio.NewScanner(strings.NewReader(string(list)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 {
			continue
		}
		path := strings.TrimPrefix(f[5], ".")
		if strings.HasPrefix(f[0], "d") && !strings.Contains(path, "suitecheck") {
			continue // /usr, /etc/monit: shared with other packages
		}
		paths = append(paths, strings.TrimSuffix(path, "/"))
	}
	if len(paths) < 20 {
		t.Fatalf("the package holds only %v", paths)
	}
	return paths
}

// apt runs apt-get non-interactively (waiting for another apt's lock).
func apt(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("apt-get", append([]string{"-y", "-q", "-o", "DPkg::Lock::Timeout=120"}, args...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// pkgStatus is dpkg's status of the suitecheck package: installed,
// config-files (removed, not purged), or "" when dpkg knows nothing of it.
func pkgStatus() string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Status}", "suitecheck").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// owner is the name of a file's owner.
func owner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	u, err := user.LookupId(strconv.Itoa(int(st.Uid)))
	if err != nil {
		return strconv.Itoa(int(st.Uid))
	}
	return u.Username
}
