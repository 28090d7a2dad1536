package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/suitecheck/suitecheck/internal/apptest"
)

// A state dir, ledger dir or artifacts dir that another user could have
// written is refused before anything is created: exit 3, one line naming
// the directory and the fix.
func TestBinaryUntrustedStateDir(t *testing.T) {
	s := newTenantSetup(t, nil)
	me := os.Geteuid()
	tests := []struct {
		name  string
		root  bool
		setup func(t *testing.T) (args []string, want string)
	}{
		{"run, world-writable state dir", false, func(t *testing.T) ([]string, string) {
			state := chmodDir(t, t.TempDir(), 0o777)
			return []string{"run", "ok", "--config", s.cfg, "--state-dir", state},
				"tenant: state dir " + state + " is writable by group/others: chmod go-w " + state
		}},
		{"tenant sweep, group-writable state dir", false, func(t *testing.T) ([]string, string) {
			state := chmodDir(t, t.TempDir(), 0o770)
			return []string{"tenant", "sweep", "--config", s.cfg, "--state-dir", state},
				"state dir " + state + " is writable by group/others: chmod go-w " + state
		}},
		{"tenant list, state dir of another user", true, func(t *testing.T) ([]string, string) {
			state := t.TempDir()
			if err := os.Chown(state, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return []string{"tenant", "list", "--config", s.cfg, "--state-dir", state},
				fmt.Sprintf("state dir %s is owned by uid 65534, not you (uid %d): run as that user, chown %[2]d %[1]s, or use --state-dir", state, me)
		}},
		{"run, symlinked tenants/", false, func(t *testing.T) ([]string, string) {
			state := t.TempDir()
			if err := os.Symlink(t.TempDir(), filepath.Join(state, "tenants")); err != nil {
				t.Fatal(err)
			}
			return []string{"run", "ok", "--config", s.cfg, "--state-dir", state},
				"tenant: ledger dir " + state + "/tenants is a symlink (not followed): remove the link (suitecheck makes the directory)"
		}},
		{"run a browser suite, artifacts dir writable by others", false, func(t *testing.T) ([]string, string) {
			art := chmodDir(t, t.TempDir(), 0o757)
			return []string{"run", "hang", "--config", s.cfg, "--state-dir", t.TempDir(), "--artifacts", art, "-t", "8"},
				"artifacts dir " + art + " is writable by group/others: chmod go-w " + art
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && me != 0 {
				t.Skip("needs root to chown")
			}
			args, want := tt.setup(t)
			stdout, stderr, code := runBinary(t, s.env, args...)
			if want = "SUITECHECK UNKNOWN - " + want + "\n"; code != 3 || stdout != want {
				t.Errorf("exit %d, stdout\n%q\nwant exit 3 and\n%q", code, stdout, want)
			}
			if stderr != "" {
				t.Errorf("stderr: %s", stderr)
			}
			if ts := s.app.Tenants(t); len(ts) != 0 {
				t.Errorf("a tenant was created: %v", ts)
			}
		})
	}
}

func chmodDir(t *testing.T, dir string, m os.FileMode) string {
	t.Helper()
	if err := os.Chmod(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// With no HOME, no XDG_STATE_HOME and a /var/lib/suitecheck it cannot
// write, a user gets UNKNOWN asking for --state-dir, never a state dir in
// the shared TMPDIR, which another user could have made first.
func TestBinaryNoHomeNoStateDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the binary as another user (one that cannot write /var/lib)")
	}
	const nobody = 65534
	if fi, err := os.Stat("/var/lib/suitecheck"); err == nil {
		if st := fi.Sys().(*syscall.Stat_t); st.Uid == nobody {
			t.Skip("/var/lib/suitecheck belongs to uid 65534 here")
		}
	}
	// Readable by that user: the config, and a TMPDIR anyone may write, as
	// /tmp is.
	dir, err := os.MkdirTemp("", "nohome-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	chmodDir(t, dir, 0o755)
	chmodDir(t, tmp, 0o1777)
	const closed = "http://127.0.0.1:1"
	cfg := filepath.Join(dir, "suitecheck.yaml")
	y := "environments:\n  staging: {base_url: " + closed + "}\n" + apptest.ProvisionerYAML(closed, "SC_TEST_ADMIN") + apptest.SuitesYAML
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(binary, "run", "ok", "--config", cfg)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "TMPDIR=" + tmp, "SC_TEST_ADMIN=x"} // no HOME, no XDG_STATE_HOME
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	want := "SUITECHECK UNKNOWN - tenant: no state dir: /var/lib/suitecheck is not yours to write and neither XDG_STATE_HOME nor HOME is set: use --state-dir DIR (a directory only you can write)\n"
	if code := cmd.ProcessState.ExitCode(); code != 3 || stdout.String() != want {
		t.Errorf("exit %d, stdout\n%q\nwant exit 3 and\n%q\nstderr: %s", code, stdout.String(), want, stderr.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("state left in the shared TMPDIR: %v", strings.Join(left, " "))
	}
}
