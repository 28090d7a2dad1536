package suites

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// sqlEnv gives a fresh database and a config header whose secret dsn
// reaches it.
func sqlEnv(t *testing.T) (header string, app pgtest.App) {
	t.Helper()
	app = pgtest.NewApp(t, "suite", "CREATE SEQUENCE flaky; GRANT USAGE ON SEQUENCE flaky TO %[1]s")
	header = fmt.Sprintf("environments:\n  staging:\n    base_url: http://127.0.0.1:1\n    skip_tags: [payments]\n    secrets:\n      dsn: %q\n", app.DSN())
	return header, app
}

func runYAML(t *testing.T, yaml string, o RunOptions) (checks.Result, string) {
	t.Helper()
	cfg, err := Parse("suite.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if o.Budget == 0 {
		o.Budget = 30 * time.Second
	}
	if o.Suite == "" {
		o.Suite = "s"
	}
	if o.TimeoutState == 0 {
		o.TimeoutState = checks.Critical
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Budget)
	defer cancel()
	r := Run(ctx, cfg, o)
	return r, r.Render(checks.DefaultMaxOutput)
}

func sqlStep(query, expect string) string {
	s := fmt.Sprintf("          - sql:\n              dsn: \"{{.Vars.dsn}}\"\n              query: %q\n", query)
	if expect != "" {
		s += "              expect: " + expect + "\n"
	}
	return s
}

func TestRunStates(t *testing.T) {
	header, app := sqlEnv(t)
	pass := app.Password
	ok := sqlStep("SELECT 1 AS one", `{rows: 1, values: {one: "1"}}`)
	fail := sqlStep("SELECT 2 AS one", `{values: {one: "1"}}`)
	tests := []struct {
		name    string
		suite   string
		o       RunOptions
		state   checks.State
		summary string
		long    []string
	}{
		{"all pass", "    cases:\n      - name: a\n        steps:\n" + ok + "      - name: b\n        steps:\n" + ok,
			RunOptions{Retries: -1}, checks.OK, "s on staging: 2 of 2 cases passed in ", []string{"[OK] a ", "[OK] b "}},
		{"one fails", "    cases:\n      - name: a\n        steps:\n" + fail + "      - name: b\n        steps:\n" + ok,
			RunOptions{Retries: -1}, checks.Critical, `s on staging: 1 of 2 cases failed: a (step 1 sql: one = "2", want "1")`, []string{`[CRITICAL] a `, "[OK] b "}},
		{"required stops the rest", "    cases:\n      - name: a\n        required: true\n        steps:\n" + fail + "      - name: b\n        steps:\n" + ok,
			RunOptions{Retries: -1}, checks.Critical, "s on staging: 1 of 1 cases failed: a", []string{"[SKIPPED] b: not run: required case a failed"}},
		{"skipped tag", "    cases:\n      - name: pay\n        tags: [payments]\n        steps:\n" + fail + "      - name: b\n        steps:\n" + ok,
			RunOptions{Retries: -1}, checks.OK, "s on staging: 1 of 1 cases passed", []string{"[SKIPPED] pay: skipped: tag payments is skipped in staging"}},
		{"all skipped", "    cases:\n      - name: pay\n        tags: [payments]\n        steps:\n" + ok,
			RunOptions{Retries: -1}, checks.Unknown, "s on staging: no case ran", nil},
		{"case threshold warning", "    cases:\n      - name: slow\n        warning: 1ms\n        critical: 10s\n        steps:\n" + sqlStep("SELECT pg_sleep(0.05)", ""),
			RunOptions{Retries: -1}, checks.Warning, ", warning: slow (took ", []string{"[WARNING] slow ", "outside the warning range 0.001"}},
		{"case threshold critical", "    cases:\n      - name: slow\n        critical: 1ms\n        steps:\n" + sqlStep("SELECT pg_sleep(0.05)", ""),
			RunOptions{Retries: -1}, checks.Critical, "s on staging: 1 of 1 cases failed: slow (took ", nil},
		{"suite threshold", "    critical: 1ms\n    cases:\n      - name: a\n        steps:\n" + sqlStep("SELECT pg_sleep(0.05)", ""),
			RunOptions{Retries: -1}, checks.Critical, "s, outside the critical range 0.001)", nil},
		{"flaky is warning", "    cases:\n      - name: f\n        retries: 2\n        steps:\n" + sqlStep("SELECT nextval('flaky') AS n", `{values: {n: "2"}}`),
			RunOptions{Retries: -1}, checks.Warning, "s on staging: 1 of 1 cases passed in", []string{`[WARNING] f `, `flaky: passed on attempt 2 of 3 after: step 1 sql: n = "1", want "2"`}},
		{"flaky can be ok", "    flaky: OK\n    cases:\n      - name: f\n        retries: 2\n        steps:\n" + sqlStep("SELECT nextval('flaky') AS n", `{values: {n: "4"}}`),
			RunOptions{Retries: -1}, checks.OK, ", flaky: f", nil},
		{"--retries 0 overrides", "    cases:\n      - name: f\n        retries: 5\n        steps:\n" + sqlStep("SELECT nextval('flaky') AS n", `{values: {n: "100"}}`),
			RunOptions{Retries: 0}, checks.Critical, "1 of 1 cases failed: f", nil},
		{"sql error", "    cases:\n      - name: e\n        steps:\n" + sqlStep("SELECT * FROM missing_table", ""),
			RunOptions{Retries: -1}, checks.Critical, `e (step 1 sql: relation "missing_table" does not exist (SQLSTATE 42P01))`, nil},
		{"missing template value is unknown", "    cases:\n      - name: t\n        steps:\n" + sqlStep("SELECT '{{.Vars.nope}}'", "") + "      - name: b\n        steps:\n" + ok,
			RunOptions{Retries: -1}, checks.Unknown, `s on staging: step 1 sql (line `, []string{"[SKIPPED] b: not run: a config error"}},
		{"extract then use", "    cases:\n      - name: x\n        steps:\n          - sql:\n              dsn: \"{{.Vars.dsn}}\"\n              query: SELECT 'hello' AS greeting\n              extract: {g: greeting}\n" + sqlStep("SELECT '{{.Vars.g}}' AS v", `{values: {v: hello}}`),
			RunOptions{Retries: -1}, checks.OK, "1 of 1 cases passed", nil},
		{"missing column is ours", "    cases:\n      - name: mc\n        steps:\n" + sqlStep("SELECT 1 AS a", `{values: {b: "1"}}`),
			RunOptions{Retries: -1}, checks.Unknown, `expect names column "b", which the query does not return (columns: a)`, nil},
		// A count that fits but a parameter the server cannot type ($1
		// unused): the load-time check passes, the server says 42P18.
		{"args mismatch is ours", "    cases:\n      - name: am\n        steps:\n" + strings.TrimSuffix(sqlStep("SELECT $2::int", ""), "\n") + "\n              args: [x, \"1\"]\n",
			RunOptions{Retries: -1}, checks.Unknown, "the query's $N placeholders and args differ", nil},
		{"row count", "    cases:\n      - name: rc\n        steps:\n" + sqlStep("SELECT generate_series(1,3)", `{rows: 2}`),
			RunOptions{Retries: -1}, checks.Critical, "rc (step 1 sql: 3 rows, want 2)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, out := runYAML(t, header+"suites:\n  s:\n"+tt.suite, tt.o)
			if r.State != tt.state {
				t.Errorf("state = %v, want %v\n%s", r.State, tt.state, out)
			}
			if !strings.Contains(r.Summary, tt.summary) {
				t.Errorf("summary = %q\nwant it to contain %q", r.Summary, tt.summary)
			}
			for _, l := range tt.long {
				if !strings.Contains(out, l) {
					t.Errorf("output lacks %q:\n%s", l, out)
				}
			}
			if strings.Contains(out, pass) {
				t.Errorf("the dsn's password leaked into the output:\n%s", out)
			}
			if !strings.Contains(out, " | time=") || !strings.Contains(out, " failed=") {
				t.Errorf("perfdata lacks time or failed:\n%s", out)
			}
		})
	}
}

// TestRunBudget: the budget ends in the middle of a step; the result still
// comes, within the budget, with the timeout state.
func TestRunBudget(t *testing.T) {
	header, _ := sqlEnv(t)
	suite := "suites:\n  s:\n    cases:\n      - name: hang\n        steps:\n" + sqlStep("SELECT pg_sleep(30)", "") +
		"      - name: after\n        steps:\n" + sqlStep("SELECT 1", "")
	start := time.Now()
	r, out := runYAML(t, header+suite, RunOptions{Retries: -1, Budget: 700 * time.Millisecond, TimeoutState: checks.Unknown})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("run took %s for a 700ms budget", el)
	}
	if r.State != checks.Unknown || !strings.Contains(r.Summary, "s on staging: timed out after 700ms in hang (step 1 sql") {
		t.Errorf("state %v summary %q\n%s", r.State, r.Summary, out)
	}
	if !strings.Contains(out, "[SKIPPED] after: not run: the run was cut short") {
		t.Errorf("the next case is not reported as not run:\n%s", out)
	}
}

func TestRunSecretsMasked(t *testing.T) {
	header, _ := sqlEnv(t)
	// The secret appears in the failing value: it must be masked.
	y := strings.Replace(header, "    secrets:\n", "    secrets:\n      token: tok-123456\n", 1) +
		"suites:\n  s:\n    cases:\n      - name: leak\n        steps:\n" + sqlStep("SELECT '{{.Vars.token}}' AS v", `{values: {v: other}}`)
	r, out := runYAML(t, y, RunOptions{Retries: -1})
	if r.State != checks.Critical {
		t.Fatalf("state %v\n%s", r.State, out)
	}
	if strings.Contains(out, "tok-123456") || !strings.Contains(out, `v = "****"`) {
		t.Errorf("secret not masked:\n%s", out)
	}
}

func TestRunProgress(t *testing.T) {
	header, app := sqlEnv(t)
	pass := app.Password
	var progress strings.Builder
	y := header + "suites:\n  s:\n    cases:\n      - name: a\n        steps:\n" + sqlStep("SELECT 1", "") +
		"      - name: b\n        steps:\n" + sqlStep("SELECT 2 AS v", `{values: {v: "3"}}`)
	_, out := runYAML(t, y, RunOptions{Retries: -1, Progress: &progress})
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "[OK] a ") || !strings.HasPrefix(lines[1], `[CRITICAL] b `) {
		t.Errorf("progress = %q, want a line per case in order", progress.String())
	}
	if strings.Contains(progress.String(), pass) {
		t.Errorf("password in progress")
	}
	ok, crit := strings.Index(out, "[OK] a"), strings.Index(out, "[CRITICAL] b")
	if ok < 0 || crit < 0 || ok < crit {
		t.Errorf("long output does not list both cases, the failure first:\n%s", out)
	}
}

// TestRunBudgetKeepsEarlierFailure: a case that failed before the budget ran
// out keeps the run CRITICAL, whatever the timeout state.
func TestRunBudgetKeepsEarlierFailure(t *testing.T) {
	header, _ := sqlEnv(t)
	suite := "suites:\n  s:\n    cases:\n      - name: broken\n        steps:\n" + sqlStep("SELECT 2 AS v", `{values: {v: "1"}}`) +
		"      - name: hang\n        steps:\n" + sqlStep("SELECT pg_sleep(30)", "")
	r, out := runYAML(t, header+suite, RunOptions{Retries: -1, Budget: 700 * time.Millisecond, TimeoutState: checks.Unknown})
	if r.State != checks.Critical || !strings.Contains(r.Summary, "timed out after 700ms") {
		t.Errorf("state %v summary %q, want CRITICAL from the broken case\n%s", r.State, r.Summary, out)
	}
}

func TestPruneArtifacts(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"20261124T100000Z-a.png", "20261124T100000Z-a.html", "20261124T110000Z-a.png",
		"20261124T120000Z-b.png", "20261124T120000Z-b.html", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pruneArtifacts(filepath.Dir(dir), filepath.Base(dir), 2)
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := []string{"20261124T110000Z-a.png", "20261124T120000Z-b.html", "20261124T120000Z-b.png", "notes.txt"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after pruning to 2 runs: %v, want %v", got, want)
	}
}
