package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
)

// execute runs a command line as main does.
func execute(t *testing.T, args ...string) (Outcome, string, error) {
	t.Helper()
	return executeBuild(t, Build{Version: "test"}, args...)
}

// executeBuild runs a command line of the binary build.
func executeBuild(t *testing.T, build Build, args ...string) (Outcome, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	out, err := Execute(context.Background(), args, build, &stdout, &stderr)
	return out, stdout.String(), err
}

// Mistakes on the command line are UsageErrors in our words, never cobra's
// or Go's ("accepts 1 arg(s)", "strconv.ParseInt", "time: missing unit").
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "suitecheck run: give the name of the suite to run"},
		{[]string{"run", "a", "b"}, "give only the name of the suite to run, not 2 arguments (a b)"},
		{[]string{"tenant", "delete"}, "suitecheck tenant delete: give the tenant's id"},
		{[]string{"version", "x"}, `suitecheck version takes no arguments, but was given "x"`},
		{[]string{"check", "postgres", "x"}, `suitecheck check postgres takes no arguments`},
		{[]string{"check", "http", "x"}, `suitecheck check http takes no arguments`},
		{[]string{"check", "http", "-p", "x"}, `-p/--port "x": give a whole number`},
		{[]string{"check", "http", "--cert-warning", "soon"}, `--cert-warning "soon": give a whole number`},
		{[]string{"check"}, "check: name what to check: http or postgres"},
		{[]string{"run", "s", "--retries", "abc"}, `--retries "abc": give a whole number`},
		{[]string{"run", "s", "--teardown-timeout", "5"}, `--teardown-timeout "5": give a duration with its unit`},
		{[]string{"run", "s", "--retries", "11"}, "--retries 11: give 0 to 10"},
		{[]string{"run", "s", "--retries", "-2"}, "--retries -2: give 0 to 10"},
		{[]string{"run", "s", "--teardown-timeout", "0s"}, "--teardown-timeout 0s: give a positive duration such as 10s"},
		{[]string{"run", "s", "--teardown-timeout", "-5s"}, "--teardown-timeout -5s: give a positive duration such as 10s"},
		{[]string{"demo", "--teardown-timeout", "0s"}, "--teardown-timeout 0s: give a positive duration such as 10s"},
		{[]string{"tenant", "sweep", "--older-than", "3x"}, `--older-than "3x": give a duration with its unit`},
		{[]string{"-v=abc", "run", "s"}, `-v/--verbose "abc": give a whole number`},
		{[]string{"-t", "abc", "run", "s"}, `-t/--timeout: invalid timeout "abc"`},
		{[]string{"-w", "x", "run", "s"}, "-w/-c:"},
		{[]string{"--max-output", "-1", "run", "s"}, "--max-output -1: use a byte count"},
		{[]string{"run", "s", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"bogus"}, `suitecheck: no command "bogus": use one of check, demo, list, run, tenant, validate, version`},
		{[]string{"check", "bogus"}, `suitecheck check: no command "bogus": use one of http, postgres`},
		{[]string{"tenant", "bogus"}, `suitecheck tenant: no command "bogus": use one of create, delete, list, sweep`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := execute(t, tt.args...)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a UsageError with %q", err, tt.want)
			}
			for _, lib := range []string{"accepts ", "arg(s)", "strconv.", "time: ", "invalid syntax", "for \"suitecheck"} {
				if strings.Contains(err.Error(), lib) {
					t.Errorf("err = %q: a library's wording (%q)", err, lib)
				}
			}
		})
	}
}

// The plugin options every check shares reach the command.
func TestGlobalFlags(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps: [{sql: {dsn: x, query: SELECT 1}}]\n"), 0o600)
	out, _, err := execute(t, "-t", "7:CRITICAL", "--max-output", "700", "validate", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out.MaxOutput != 700 {
		t.Errorf("outcome = %+v", out)
	}
	g := &globals{timeout: "7:CRITICAL", maxOutput: 1}
	if err := g.parse(); err != nil || g.budget != 7*time.Second || g.timeoutState != checks.Critical {
		t.Errorf("parse -t 7:CRITICAL = %v %v %v", g.budget, g.timeoutState, err)
	}
}

// check http runs through the command line with the run's budget and
// thresholds, and leaves its result for main.
func TestCheckHTTPCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	defer srv.Close()
	out, stdout, err := execute(t, "-t", "7", "-w", "5s", "check", "http", "--url", srv.URL+"/", "-s", "hello")
	if err != nil || out.Result == nil || stdout != "" {
		t.Fatalf("outcome %+v, stdout %q, err %v", out, stdout, err)
	}
	res := out.Result.Render(0)
	if out.Result.State != checks.OK || !strings.Contains(res, "http "+srv.URL+"/: 3 of 5 layers OK") || !strings.Contains(res, " time=") || !strings.Contains(res, ";5;;0 ") {
		t.Errorf("result:\n%s", res)
	}
	out, _, err = execute(t, "check", "http", "--url", "/health")
	if err != nil || out.Result == nil || out.Result.State != checks.Unknown || !strings.Contains(out.Result.Summary, "a path alone goes in -u/--uri") {
		t.Errorf("a path as --url: %+v, %v", out.Result, err)
	}
}
