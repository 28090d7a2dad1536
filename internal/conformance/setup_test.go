//go:build conformance

// Package conformance runs suitecheck under the real monitoring clients,
// Nagios 4, Icinga 2 and Monit from Debian's packages, each with a private
// configuration on 127.0.0.1, and asserts what each client itself stored:
// the state, the plugin output, the performance data, and what is left
// behind when the client's own timeout kills the check. `make conformance`
// runs it (go test -tags conformance ./internal/conformance).
package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/apptest"
)

// binary is suitecheck, built once into a directory every user can read.
var binary string

func TestMain(m *testing.M) { os.Exit(apptest.Main(m, "../..", &binary)) }

// site is one client's world: a sample app that stores tenants, a config
// with a hanging suite and a quick one, a state dir, and a TMPDIR that
// marks every process a check starts.
type site struct {
	dir     string // short: Chromium's socket paths live under its tmp/
	plugins string // holds "suitecheck": a wrapper that marks the check's processes
	app     apptest.App
	cfg     string
	state   string
	tmp     string
	art     string
	owner   string // the user the client runs checks as
}

// newSite prepares a site whose files the user owner can use.
func newSite(t *testing.T, owner string) *site {
	t.Helper()
	s := newBareSite(t, owner)
	s.app = apptest.Start(t)
	token := filepath.Join(s.dir, "admin-token")
	if err := os.WriteFile(token, []byte(s.app.Admin), 0o644); err != nil {
		t.Fatal(err)
	}
	prov := strings.ReplaceAll(apptest.ProvisionerYAML(s.app.URL, "X"), `{{env "X"}}`, `{{file "`+token+`"}}`)
	y := fmt.Sprintf("environments:\n  staging: {base_url: %s}\n%s", s.app.URL, prov) + apptest.SuitesYAML
	if err := os.WriteFile(s.cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	chown(t, s.dir, owner)
	return s
}

// newBareSite prepares a site's directories and wrapper, with no app and
// no config yet: the caller writes s.cfg (and chowns what it adds).
func newBareSite(t *testing.T, owner string) *site {
	t.Helper()
	dir, err := os.MkdirTemp("", "scc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &site{dir: dir, owner: owner}
	s.cfg, s.state, s.tmp, s.art = filepath.Join(dir, "suitecheck.yaml"), filepath.Join(dir, "state"), filepath.Join(dir, "tmp"), filepath.Join(dir, "art")
	s.plugins = filepath.Join(dir, "plugins")
	for _, d := range []string{s.state, s.tmp, s.art, s.plugins} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The clients run the contrib definitions' "suitecheck": this wrapper
	// gives the check's processes the site's TMPDIR, their mark.
	wrapper := fmt.Sprintf("#!/bin/sh\nexport TMPDIR=%s HOME=%s\nexec %s \"$@\"\n", s.tmp, dir, binary)
	if err := os.WriteFile(s.wrapper(), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	chown(t, dir, owner)
	return s
}

// wrapper is the site's suitecheck.
func (s *site) wrapper() string { return filepath.Join(s.plugins, "suitecheck") }

// contrib reads a file of the repository's contrib/ directory.
func contrib(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "contrib", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// chown gives a tree to a user (the clients drop root for their checks).
func chown(t *testing.T, dir, owner string) {
	t.Helper()
	if owner == "root" {
		return
	}
	u, err := user.Lookup(owner)
	if err != nil {
		t.Fatalf("user %s: %v (is the client's package installed?)", owner, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			os.Lchown(p, uid, gid)
		}
		return nil
	})
}

// argv is a check's command line: suitecheck with the site's TMPDIR (the
// mark of its processes) and args.
func (s *site) argv(args ...string) []string {
	return append([]string{"/usr/bin/env", "TMPDIR=" + s.tmp, "HOME=" + s.dir, binary}, args...)
}

// demo is the demo as a check command of the site.
func (s *site) demo(more ...string) []string {
	return s.argv(append([]string{"demo", "--artifacts", s.art}, more...)...)
}

// leftovers are the live processes a check of this site started: their
// environment holds the site's TMPDIR, or one below it.
func (s *site) leftovers() []string { return marked(s.tmp) }

// marked are the live processes whose environment holds TMPDIR=tmp, or a
// TMPDIR below it, as "PID CMDLINE".
func marked(tmp string) []string {
	var out []string
	// Chromium gets a TMPDIR inside the run's own temporary directory,
	// itself under the site's: a prefix match finds both.
	mark := []byte("TMPDIR=" + tmp)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, mark) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out = append(out, e.Name()+" "+string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
	}
	return out
}

// waitNoLeftovers polls until no process of the site's checks is left.
func (s *site) waitNoLeftovers(t *testing.T) {
	t.Helper()
	eventually(t, 15*time.Second, "no process of the check left", func() bool { return len(s.leftovers()) == 0 })
	if left := s.leftovers(); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
}

// eventually polls cond until it holds or the bound passes.
func eventually(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, bound)
		}
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
}

// quote makes a shell-safe word (Monit takes a command line as a string).
func quote(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if regexp.MustCompile(`^[-A-Za-z0-9_./=:,@]+$`).MatchString(a) {
			b.WriteString(a)
		} else {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
		}
	}
	return b.String()
}

// perfLabels are the labels of a perfdata string, in order.
func perfLabels(perf string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(perf))
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		label, _, _ := strings.Cut(sc.Text(), "=")
		out = append(out, strings.Trim(label, "'"))
	}
	return out
}

func need(t *testing.T, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%s missing: run make deps-conformance (it installs nagios4, icinga2 and monit)", b)
		}
	}
}

// stopGroup stops a client daemon started in a process group of its own:
// SIGTERM, and SIGKILL when it has not exited within grace (Icinga 2 was
// seen to miss a SIGTERM during its start-up).
func stopGroup(cmd *exec.Cmd, grace time.Duration) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}
