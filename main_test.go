package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/apptest"
	"github.com/suitecheck/suitecheck/internal/cli"
	"github.com/suitecheck/suitecheck/internal/pgtest"
)

var binary string // the suitecheck binary, built once by TestMain

func TestMain(m *testing.M) { os.Exit(apptest.Main(m, ".", &binary)) }

// runBinary runs the real binary and returns stdout, stderr and exit code.
func runBinary(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestBinaryExitCodes(t *testing.T) {
	closed := fmt.Sprint(pgtest.ClosedPort(t))
	tests := []struct {
		name   string
		args   []string
		code   int
		prefix string // of stdout
	}{
		{"version", []string{"version"}, 3, "suitecheck "},
		{"version ignores plugin flags", []string{"-t", "0", "version"}, 3, "suitecheck "},
		{"-V", []string{"-V"}, 3, "suitecheck "},
		{"--version after a command", []string{"check", "postgres", "--version"}, 3, "suitecheck "},
		{"bad duration", []string{"tenant", "sweep", "--older-than", "5"}, 3, `SUITECHECK UNKNOWN - --older-than "5": give a duration with its unit`},
		{"flag without value", []string{"check", "postgres", "-t"}, 3, "SUITECHECK UNKNOWN - -t/--timeout needs a value"},
		{"unknown flag", []string{"--bogus"}, 3, "SUITECHECK UNKNOWN - unknown flag: --bogus (see suitecheck --help)"},
		{"unknown command", []string{"frobnicate"}, 3, `SUITECHECK UNKNOWN - suitecheck: no command "frobnicate": use one of`},
		{"bad timeout", []string{"check", "postgres", "-t", "soon"}, 3, `SUITECHECK UNKNOWN - -t/--timeout: invalid timeout "soon": use SECONDS[:STATE]`},
		{"bad timeout state", []string{"check", "postgres", "-t", "10:MAYBE"}, 3, `SUITECHECK UNKNOWN - -t/--timeout: invalid timeout "10:MAYBE": the state after the colon`},
		{"bad warning", []string{"check", "postgres", "-w", "10:5"}, 3, `SUITECHECK UNKNOWN - -w/-c: warning: invalid threshold range "10:5": start is greater than end`},
		{"bad critical", []string{"check", "postgres", "-c", "fast"}, 3, `SUITECHECK UNKNOWN - -w/-c: critical: invalid threshold range "fast"`},
		{"bad max-output", []string{"check", "postgres", "--max-output", "-1"}, 3, "SUITECHECK UNKNOWN - --max-output -1"},
		{"extra argument", []string{"check", "postgres", "extra"}, 3, `SUITECHECK UNKNOWN - suitecheck check postgres takes no arguments, but was given "extra"`},
		{"check without probe", []string{"check"}, 3, "SUITECHECK UNKNOWN - check: name what to check: http or postgres"},
		{"flag needs value", []string{"check", "postgres", "--dsn"}, 3, "SUITECHECK UNKNOWN - --dsn needs a value"},
		{"demo", []string{"demo", "--artifacts", t.TempDir()}, 0, "SUITECHECK OK - demo on demo: 5 of 5 cases passed"},
		{"demo config", []string{"demo", "--print-config"}, 0, "# The demo's suite against the sample app."},
		{"http: closed port", []string{"check", "http", "-H", "127.0.0.1", "-p", closed}, 2, "SUITECHECK CRITICAL - http http://127.0.0.1:" + closed + "/: layer 2/5 tcp connect: connection refused | time="},
		{"http: option mistake", []string{"check", "http", "--url", "ftp://x/"}, 3, "SUITECHECK UNKNOWN - --url ftp://x/: give an http:// or https:// URL"},
		{"closed port", []string{"check", "postgres", "--dsn", "host=127.0.0.1 user=app port=" + closed}, 2, "SUITECHECK CRITICAL - postgres app@app on 127.0.0.1:" + closed + ": layer 1/8 reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s", code, tt.code, stdout)
			}
			if !strings.HasPrefix(stdout, tt.prefix) {
				t.Errorf("stdout = %q\nwant prefix %q", stdout, tt.prefix)
			}
			if tt.code == 3 && strings.Count(stdout, "\n") != 1 {
				t.Errorf("UNKNOWN is not one line: %q", stdout)
			}
			if stderr != "" {
				t.Errorf("stderr is not empty without -v: %q", stderr)
			}
			if strings.Contains(stdout+stderr, "goroutine ") || strings.Contains(stdout, "panic") {
				t.Errorf("stack trace in output: %s %s", stdout, stderr)
			}
		})
	}
}

// TestBinaryNotACheck: help and a bare call exit 3 (UNKNOWN) as the
// monitoring-plugins do, so that a command definition that only gets help
// never shows as OK; help is on stdout, nothing on stderr.
func TestBinaryNotACheck(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		prefix string
		has    string
	}{
		{"help", []string{"--help"}, "suitecheck is a Nagios/Icinga-compatible check plugin.", "-V, --version"},
		{"-h", []string{"run", "-h"}, "Run a named suite from the config as a check", "--teardown-timeout duration"},
		{"help command", []string{"help", "check", "postgres"}, "Checks, in order,", "--password-file"},
		{"bare", nil, "SUITECHECK UNKNOWN - suitecheck: give a command: check, demo, list, run, tenant, validate, version, e.g. suitecheck run SUITE --config FILE (suitecheck --help says more)\n", "\nsuitecheck run SUITE: Run a named suite"},
		{"bare tenant", []string{"tenant"}, "SUITECHECK UNKNOWN - suitecheck tenant: give a command: create, delete, list, sweep", "\nsuitecheck tenant sweep: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, nil, tt.args...)
			if code != 3 || !strings.HasPrefix(stdout, tt.prefix) || !strings.Contains(stdout, tt.has) || stderr != "" {
				t.Errorf("exit %d, want 3\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
		})
	}
}

func TestBinaryCheckPostgres(t *testing.T) {
	app := pgtest.NewApp(t, "main", `CREATE EXTENSION "uuid-ossp"; CREATE TABLE t (x int); GRANT SELECT, INSERT ON t TO %[1]s`)
	c, db, user, pass := app.Cluster, app.DB, app.User, app.Password
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(pass), 0o600); err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", c.Port, user, db)
	args := []string{"check", "postgres", "--dsn", dsn, "--password-file", pwFile,
		"--extension", "uuid-ossp", "--table", "t", "--writable", "t", "--write-probe", "INSERT INTO t VALUES (1)", "-w", "5s", "-c", "10s"}

	stdout, stderr, code := runBinary(t, nil, args...)
	if code != 0 || !strings.HasPrefix(stdout, "SUITECHECK OK - postgres "+user+"@"+db) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, " | time=") || !strings.Contains(stdout, ";5;10;0 ") {
		t.Errorf("status line lacks the total time with -w/-c:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, pass) {
		t.Errorf("password in output")
	}

	// The same from the environment, with the password there, and -vvv.
	stdout, stderr, code = runBinary(t, []string{"PGHOST=127.0.0.1", "PGPORT=" + fmt.Sprint(c.Port), "PGUSER=" + user,
		"PGPASSWORD=wrong", "PGDATABASE=" + db, "PGSSLMODE=disable"}, "check", "postgres", "-vvv")
	if code != 2 || !strings.Contains(stdout, "layer 3/8 authenticates: password authentication failed") {
		t.Errorf("wrong PGPASSWORD: exit %d\n%s", code, stdout)
	}
	if !strings.Contains(stderr, "budget 50s") {
		t.Errorf("-vvv wrote no diagnostics to stderr: %q", stderr)
	}
}

// TestBinarySignal: a signal in the middle of a check still prints a result.
func TestBinarySignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			port, answered := pgtest.FakeServer(t, "N")
			cmd := exec.Command(binary, "check", "postgres", "--dsn", fmt.Sprintf("host=127.0.0.1 port=%d user=app", port))
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Layer 2's probe answered, then the login sent on the same
			// connection: the check now waits in layer 3.
			<-answered
			<-answered
			_ = cmd.Process.Signal(sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("exit %v, want 3\n%s", err, stdout.String())
			}
			if want := "SUITECHECK UNKNOWN - postgres app@app on 127.0.0.1:" + fmt.Sprint(port) + ": interrupted at layer 3/8 authenticates (received " + sig.String(); !strings.HasPrefix(stdout.String(), want) {
				t.Errorf("stdout = %q\nwant prefix %q", stdout.String(), want)
			}
		})
	}
}

func TestRunRecoversPanic(t *testing.T) {
	panicking := func(context.Context, []string, cli.Build, io.Writer, io.Writer) (cli.Outcome, error) {
		var m map[string]int
		m["boom"]++ // a real runtime panic: assignment to entry in nil map
		return cli.Outcome{}, nil
	}
	for _, tt := range []struct {
		args       []string
		wantStderr bool
	}{{nil, false}, {[]string{"-vvv"}, true}} {
		var stdout, stderr bytes.Buffer
		code := run(panicking, tt.args, &stdout, &stderr)
		if code != 3 {
			t.Errorf("exit %d, want 3", code)
		}
		out := stdout.String()
		if !strings.HasPrefix(out, "SUITECHECK UNKNOWN - internal error: assignment to entry in nil map") || strings.Count(out, "\n") != 1 {
			t.Errorf("stdout = %q, want one UNKNOWN line", out)
		}
		if strings.Contains(out, "goroutine") {
			t.Errorf("stack trace on stdout: %q", out)
		}
		if got := strings.Contains(stderr.String(), "goroutine"); got != tt.wantStderr {
			t.Errorf("args %v: stack on stderr = %v, want %v", tt.args, got, tt.wantStderr)
		}
	}
}

func TestRunExitCodesStayInRange(t *testing.T) {
	for _, st := range []checks.State{checks.OK, checks.Warning, checks.Critical, checks.Unknown, checks.State(4), checks.State(255), checks.State(-1)} {
		exec := func(context.Context, []string, cli.Build, io.Writer, io.Writer) (cli.Outcome, error) {
			return cli.Outcome{Result: &checks.Result{State: st, Summary: "s"}, MaxOutput: 100}, nil
		}
		var stdout bytes.Buffer
		code := run(exec, nil, &stdout, io.Discard)
		if code < 0 || code > 3 {
			t.Errorf("state %d: exit %d, outside 0..3", int(st), code)
		}
	}
}

func TestBinaryRunValidateList(t *testing.T) {
	app := pgtest.NewApp(t, "run", "")
	pass := app.Password
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "suitecheck.yaml")
	cfg := fmt.Sprintf(`environments:
  staging:
    base_url: http://127.0.0.1:1
    secrets: {dsn: %q}
suites:
  db:
    description: the database answers
    cases:
      - name: select
        tags: [db]
        steps:
          - sql: {dsn: "{{.Vars.dsn}}", query: "SELECT 1 AS one", expect: {values: {one: "1"}}}
      - name: fails
        steps:
          - sql: {dsn: "{{.Vars.dsn}}", query: "SELECT 2 AS one", expect: {values: {one: "1"}}}
  good:
    cases:
      - name: select
        steps:
          - sql: {dsn: "{{.Vars.dsn}}", query: "SELECT 1"}
`, app.DSN())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n          - sqll: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		prefix string
		has    []string
	}{
		{"run ok", nil, []string{"run", "good", "--config", cfgPath}, 0, "SUITECHECK OK - good on staging: 1 of 1 cases passed", []string{"| time="}},
		{"run critical", nil, []string{"run", "db", "--config", cfgPath}, 2, `SUITECHECK CRITICAL - db on staging: 1 of 2 cases failed: fails (step 1 sql: one = "2", want "1")`, []string{"[CRITICAL] fails", "[OK] select"}},
		{"config from env", []string{"SUITECHECK_CONFIG=" + cfgPath}, []string{"run", "good"}, 0, "SUITECHECK OK - good on staging", nil},
		{"no such suite", nil, []string{"run", "nope", "--config", cfgPath}, 3, `SUITECHECK UNKNOWN - ` + cfgPath + `: no suite "nope": use one of db, good`, nil},
		{"no such env", nil, []string{"run", "db", "--env", "prod", "--config", cfgPath}, 3, `SUITECHECK UNKNOWN - ` + cfgPath + `: no environment "prod"`, nil},
		{"negative retries", nil, []string{"run", "db", "--config", cfgPath, "--retries", "-5"}, 3, "SUITECHECK UNKNOWN - --retries -5: give 0 to 10", nil},
		{"keep no artifacts", nil, []string{"run", "db", "--config", cfgPath, "--keep-artifacts", "0"}, 3, "SUITECHECK UNKNOWN - --keep-artifacts 0: give 1 or more", nil},
		{"run one case", nil, []string{"run", "db", "--config", cfgPath, "--case", "sel*"}, 0, "SUITECHECK OK - db on staging: 1 of 1 cases passed", []string{"[SKIPPED] fails: not selected (--case)"}},
		{"run a tag", nil, []string{"run", "db", "--config", cfgPath, "--tag", "db"}, 0, "SUITECHECK OK - db on staging: 1 of 1 cases passed", []string{"[SKIPPED] fails: not selected (--tag)"}},
		{"no such case", nil, []string{"run", "db", "--config", cfgPath, "--case", "selekt"}, 3, `SUITECHECK UNKNOWN - --case "selekt": no case of suite db matches it: its cases are "select", "fails"`, nil},
		{"bad case glob", nil, []string{"run", "db", "--config", cfgPath, "--case", "[x"}, 3, `SUITECHECK UNKNOWN - --case "[x": not a glob`, nil},
		{"run without suite", nil, []string{"run", "--config", cfgPath}, 3, "SUITECHECK UNKNOWN - suitecheck run: give the name of the suite to run", nil},
		{"missing config", nil, []string{"run", "db", "--config", filepath.Join(dir, "none.yaml")}, 3, "SUITECHECK UNKNOWN - config " + filepath.Join(dir, "none.yaml") + ": no such file", []string{"give --config FILE or set SUITECHECK_CONFIG"}},
		{"run broken config", nil, []string{"run", "s", "--config", broken}, 3, "SUITECHECK UNKNOWN - " + broken + `:8: unknown step "sqll"`, nil},
		{"validate ok", nil, []string{"validate", "--config", cfgPath}, 0, cfgPath + ": OK: 1 environments (staging), 2 suites (db, good), 3 cases", nil},
		{"validate broken", nil, []string{"validate", "--config", broken}, 3, "SUITECHECK UNKNOWN - " + broken + `:8: unknown step "sqll"`, nil},
		{"list", nil, []string{"list", "--config", cfgPath}, 0, "db - the database answers\n  select (1 steps) [tags: db]\n  fails (1 steps)\ngood\n", []string{"environments: staging"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			if !strings.HasPrefix(stdout, tt.prefix) {
				t.Errorf("stdout = %q\nwant prefix %q", stdout, tt.prefix)
			}
			for _, h := range tt.has {
				if !strings.Contains(stdout, h) {
					t.Errorf("stdout lacks %q:\n%s", h, stdout)
				}
			}
			if strings.Contains(stdout+stderr, pass) {
				t.Errorf("password leaked")
			}
		})
	}
}

// markedProcesses lists the pids whose environment holds mark: the
// processes a suitecheck run started with that mark in its environment.
func markedProcesses(mark string) []int {
	var pids []int
	for _, pid := range livePIDs() {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err == nil && bytes.Contains(env, []byte(mark)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// livePIDs lists the processes that have not exited: a zombie has, and
// this machine's init may not reap it.
func livePIDs() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, _, ok := procStatus(pid); ok && state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStatus reads a process's state and parent from /proc/PID/stat.
func procStatus(pid int) (state byte, ppid int, ok bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(stat, ')')
	if err != nil || i < 0 {
		return 0, 0, false
	}
	// After the command: " S ppid …".
	fs := strings.Fields(string(stat[i+1:]))
	if len(fs) < 2 || len(fs[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(fs[1])
	return fs[0][0], ppid, err == nil
}

// waitNoMarked polls, within a bound, until no marked process is left.
func waitNoMarked(t *testing.T, mark string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := markedProcesses(mark)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of the run still alive after 10s: %v", left)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not synchronising
	}
}

// TestBinaryBrowserKilled: whether suitecheck is stopped by a signal it can
// catch (and still prints a result) or killed outright, no browser process
// outlives it.
func TestBinaryBrowserKilled(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			loaded := make(chan struct{}, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "<html><body>waiting forever</body></html>")
				select {
				case loaded <- struct{}{}:
				default:
				}
			}))
			defer srv.Close()
			cfg := filepath.Join(t.TempDir(), "suitecheck.yaml")
			y := fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  web:\n    cases:\n      - name: hang\n        steps:\n          - goto: \"{{.BaseURL}}/\"\n          - wait_text: {value: never, timeout: 60s}\n", srv.URL)
			if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
				t.Fatal(err)
			}
			mark := fmt.Sprintf("SUITECHECK_TEST_MARK=%d-%s", os.Getpid(), sig)
			cmd := exec.Command(binary, "run", "web", "--config", cfg, "--artifacts", t.TempDir(), "-t", "55")
			cmd.Env = append(os.Environ(), mark)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-loaded:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("the browser never loaded the page")
			}
			if n := len(markedProcesses(mark)); n < 2 {
				t.Fatalf("found %d processes of the run, want suitecheck and its browser", n)
			}
			_ = cmd.Process.Signal(sig)
			err := cmd.Wait()
			if sig == syscall.SIGTERM {
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 3 {
					t.Errorf("exit %v, want 3", err)
				}
				if !strings.HasPrefix(stdout.String(), "SUITECHECK UNKNOWN - web on e: interrupted (received terminated)") {
					t.Errorf("stdout = %q", stdout.String())
				}
			}
			waitNoMarked(t, mark)
		})
	}
}

// TestBinaryDemoLeavesNothing: after the demo, whether it ends by itself or
// by SIGTERM in the middle, no postgres or chromium process of it is left
// and its temp dirs are gone.
func TestBinaryDemoLeavesNothing(t *testing.T) {
	for _, sig := range []syscall.Signal{0, syscall.SIGTERM} {
		t.Run(fmt.Sprint(sig), func(t *testing.T) {
			// A TMPDIR of its own (the postgres user must be able to enter it).
			tmp, err := os.MkdirTemp("", "demo-tmp-")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(tmp)
			if err := os.Chmod(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			mark := fmt.Sprintf("SUITECHECK_TEST_MARK=demo-%d-%d", os.Getpid(), sig)
			cmd := exec.Command(binary, "demo", "--artifacts", filepath.Join(tmp, "artifacts"), "-v")
			cmd.Env = append(os.Environ(), mark, "TMPDIR="+tmp)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// -v reports each case on stderr: signal after the first one.
			buf := make([]byte, 4096)
			var seen strings.Builder
			for sig != 0 && !strings.Contains(seen.String(), "[OK] sign in") {
				n, err := stderr.Read(buf)
				seen.Write(buf[:n])
				if err != nil {
					t.Fatalf("demo ended before its first case: %v\n%s%s", err, seen.String(), stdout.String())
				}
			}
			if sig != 0 {
				_ = cmd.Process.Signal(sig)
			}
			_, _ = io.Copy(io.Discard, stderr)
			err = cmd.Wait()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			switch {
			case sig == 0 && (code != 0 || !strings.HasPrefix(stdout.String(), "SUITECHECK OK - demo")):
				t.Errorf("demo: exit %d\n%s", code, stdout.String())
			case sig != 0 && (code != 3 || !strings.Contains(stdout.String(), "interrupted (received terminated)")):
				t.Errorf("demo after SIGTERM: exit %d\n%s", code, stdout.String())
			}
			waitNoMarked(t, mark)
			left, _ := os.ReadDir(tmp)
			for _, e := range left {
				if e.Name() != "artifacts" {
					t.Errorf("left in TMPDIR: %s", e.Name())
				}
			}
		})
	}
}

// A browser started while the tenant is made is stopped when create is
// refused and no browser step runs.
func TestBinaryPrelaunchedBrowserStopped(t *testing.T) {
	tmp, err := os.MkdirTemp("", "prelaunch-tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755)
	mark := fmt.Sprintf("SUITECHECK_TEST_MARK=prelaunch-%d", os.Getpid())
	stdout, _, code := runBinary(t, []string{mark, "TMPDIR=" + tmp}, "demo", "--break", "no-extension", "--artifacts", filepath.Join(tmp, "artifacts"))
	if code != 2 || !strings.Contains(stdout, "the app failed to create tenant") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	waitNoMarked(t, mark)
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		for _, e := range left {
			t.Errorf("left in TMPDIR: %s", e.Name())
		}
	}
}
