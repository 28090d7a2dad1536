package proc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether a process with this pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

func TestRunOutcomes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		argv     []string
		code     int
		stdout   string
		errParts []string
	}{
		{"ok", []string{"sh", "-c", "echo hello"}, 0, "hello\n", nil},
		{"exit 3", []string{"sh", "-c", "echo out; echo 'first' >&2; echo 'why it failed' >&2; exit 3"}, 3, "out\n", []string{"exit status 3", "why it failed"}},
		{"killed by a signal", []string{"sh", "-c", "kill -9 $$"}, -1, "", []string{"killed by killed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(ctx, Cmd{Argv: tc.argv})
			if res.ExitCode != tc.code || string(res.Stdout) != tc.stdout {
				t.Errorf("exit %d stdout %q, want %d %q", res.ExitCode, res.Stdout, tc.code, tc.stdout)
			}
			if tc.errParts == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var xe *ExitError
			if !errors.As(err, &xe) {
				t.Fatalf("err = %v (%T), want an *ExitError", err, err)
			}
			for _, p := range tc.errParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("err %q lacks %q", err, p)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	for _, argv := range [][]string{nil, {""}, {"/nonexistent/program"}, {"no-such-program-suitecheck"}} {
		_, err := Run(context.Background(), Cmd{Argv: argv})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%q: err = %v, want ErrNotFound", argv, err)
		}
	}
}

func TestEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	res, err := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", `echo "$SC_X $(pwd)"`}, Dir: dir, Env: []string{"SC_X=42"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.Stdout)); got != "42 "+dir {
		t.Errorf("stdout %q, want %q", got, "42 "+dir)
	}
}

// A cancelled program's whole group goes, grandchildren included.
func TestCancelKillsTheGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	ready := filepath.Join(dir, "ready")
	ctx, cancel := context.WithCancelCause(context.Background())
	type out struct {
		res Result
		err error
	}
	ch := make(chan out, 1)
	go func() {
		res, err := Run(ctx, Cmd{Argv: []string{"sh", "-c", `sleep 300 & echo $! > "$1"; touch "$2"; wait`, "sh", pidFile, ready}})
		ch <- out{res, err}
	}()
	waitFile(t, ready)
	grandchild := readPid(t, pidFile)
	cancel(errors.New("received terminated"))
	o := <-ch
	if o.err == nil || !strings.Contains(o.err.Error(), "received terminated") {
		t.Errorf("err = %v, want the cancel cause", o.err)
	}
	waitGone(t, grandchild)
}

// A program that exits but leaves a background child: the child is killed.
func TestBackgroundChildKilledAfterExit(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "bg")
	_, err := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", `sleep 300 & echo $! > "$1"`, "sh", pidFile}})
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, readPid(t, pidFile))
}

// Output that never ends is capped, and the program still ends with ctx.
func TestEndlessOutputCapped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r, err := Run(ctx, Cmd{Argv: []string{"yes"}, MaxOutput: 4096})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
	if len(r.Stdout) != 4096 {
		t.Errorf("kept %d bytes, want the cap of 4096", len(r.Stdout))
	}
}

func TestLastLine(t *testing.T) {
	for in, want := range map[string]string{"": "", "a\nb\n\n": "b", "  only  ": "only", strings.Repeat("x", 1100): strings.Repeat("x", 1000) + "…"} {
		if got := LastLine([]byte(in)); got != want {
			t.Errorf("LastLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	waitFor(t, func() bool { _, err := os.Stat(path); return err == nil })
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	waitFor(t, func() bool { return !alive(pid) })
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("process %d outlived its group", pid)
	}
}

// waitFor polls cond for up to 10 s: a condition, not a sleep, decides.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
