package suites

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/suites/testreport"
)

// runCommandSuite runs a one-case suite whose case is the given command
// section, from a config in dir.
func runCommandSuite(t *testing.T, dir, command string, budget time.Duration) checks.Result {
	t.Helper()
	return runCommandSuiteState(t, dir, command, budget, checks.Critical)
}

// runCommandSuiteState is runCommandSuite with the state of -t.
func runCommandSuiteState(t *testing.T, dir, command string, budget time.Duration, timeoutState checks.State) checks.Result {
	t.Helper()
	y := "environments:\n  e: {base_url: https://app.example.com}\nsuites:\n  s:\n    cases:\n      - name: e2e\n        command:\n" + command
	cfg, err := Parse(filepath.Join(dir, "suitecheck.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	return Run(ctx, cfg, RunOptions{Suite: "s", Budget: budget, Retries: -1, TimeoutState: timeoutState,
		Tenant: map[string]string{"login": "sc-abc@example.com", "password": "pw-secret-42"}})
}

func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testreport", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommandCases(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "reports"), 0o755)
	stale := filepath.Join(dir, "reports", "old.xml")
	os.WriteFile(stale, []byte(`<testsuite><testcase name="x"/></testsuite>`), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	writeScript(t, dir, "junit.sh", `cp "$1" reports/run.xml; exit "${2:-0}"`)

	tests := []struct {
		name    string
		command string
		state   checks.State
		parts   []string // in the rendered output
		absent  []string
	}{
		{"junit failures", fmt.Sprintf("          argv: [./junit.sh, %s, '1']\n          junit: reports/run.xml\n", fixture(t, "playwright.xml")), checks.Critical,
			[]string{"1 of 1 cases failed", "e2e (1 of 3 tests failed: login.spec.ts sign in › lists the upload (login.spec.ts:18:5 lists the upload))",
				"e2e_passed=1;;;0;3 e2e_failed=1;;;0;3 e2e_skipped=1;;;0;3", "e2e_login.spec.ts_sign_in_lists_the_upload=2.29s",
				"[CRITICAL] e2e › login.spec.ts sign in › lists the upload 2.29s: login.spec.ts:18:5 lists the upload",
				"[SKIPPED] e2e › login.spec.ts sign in › exports"}, nil},
		{"junit glob", fmt.Sprintf("          argv: [./junit.sh, %s]\n          junit: \"reports/r*.xml\"\n", fixture(t, "nested.xml")), checks.Critical,
			[]string{"2 of 4 tests failed"}, nil},
		{"stale report, exit 0", "          argv: [\"true\"]\n          junit: reports/old.xml\n", checks.Unknown,
			[]string{"true exited 0, but the JUnit report is stale, from before the command started: " + stale}, nil},
		{"stale report, exit 1", "          argv: [\"false\"]\n          junit: reports/old.xml\n", checks.Critical,
			[]string{"false: exit status 1, and the JUnit report is stale"}, nil},
		{"missing report, exit 0", "          argv: [\"true\"]\n          junit: reports/none-*.xml\n", checks.Unknown,
			[]string{"true exited 0, but no JUnit report at " + filepath.Join(dir, "reports/none-*.xml")}, nil},
		{"missing report, exit 2", "          argv: [sh, -c, 'echo cannot reach the app >&2; exit 2']\n          junit: reports/none.xml\n", checks.Critical,
			[]string{"sh: exit status 2: cannot reach the app, and no JUnit report"}, nil},
		{"malformed report", "          argv: [sh, -c, 'printf \"<testsuite><testcase name=a>\" > reports/bad.xml']\n          junit: reports/bad.xml\n", checks.Unknown,
			[]string{"malformed XML"}, nil},
		{"go test -json", fmt.Sprintf("          argv: [cat, %s]\n          format: go-test-json\n", fixture(t, "go-test.json")), checks.Critical,
			[]string{"3 of 5 tests failed: example.com/e2e TestUpload/hello.txt (upload_test.go:31: POST /files: status 500, want 201)"}, nil},
		{"tap", fmt.Sprintf("          argv: [cat, %s]\n          format: tap\n", fixture(t, "node.tap")), checks.Critical,
			[]string{"1 of 5 tests failed: upload (1 subtest failed), tap: planned 6 tests, 5 reported"}, nil},
		{"exit code, env", "          shell: true\n          argv: ['[ \"$SUITECHECK_TENANT_LOGIN\" = sc-abc@example.com ] && [ \"$SUITECHECK_BASE_URL\" = https://app.example.com ] && [ \"$X\" = sc-abc@example.com ]']\n          env: {X: \"{{.Tenant.login}}\"}\n", checks.OK,
			[]string{"1 of 1 cases passed", "| time="}, []string{"e2e_passed"}},
		{"exit code, fails, password masked", "          argv: [sh, -c, 'echo \"login failed for $SUITECHECK_TENANT_PASSWORD\" >&2; exit 1']\n", checks.Critical,
			[]string{"e2e (sh: exit status 1: login failed for ****)"}, []string{"pw-secret-42"}},
		{"not found", "          argv: [./nonexistent]\n", checks.Unknown, []string{"command: program not found"}, nil},
		{"all skipped", "          argv: [sh, -c, 'echo \"1..0 # SKIP no tests here\"']\n          format: tap\n", checks.Unknown, []string{"with no test run"}, nil},
		{"exit 1 without a failing test", "          argv: [sh, -c, 'echo 1..1; echo \"ok 1 - fine\"; exit 1']\n          format: tap\n", checks.Critical,
			[]string{"sh: exit status 1, but no test failed in its report"}, nil},
		{"flaky", fmt.Sprintf("          argv: [./junit.sh, %s]\n          junit: reports/run.xml\n", fixture(t, "surefire.xml")), checks.Critical,
			[]string{"[WARNING] e2e › com.example.LoginIT retriesFlakyThing 0.40s: timeout waiting for job"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(filepath.Join(dir, "reports", "run.xml"))
			res := runCommandSuite(t, dir, tc.command, 30*time.Second)
			out := res.Render(0)
			if res.State != tc.state {
				t.Errorf("state %v, want %v:\n%s", res.State, tc.state, out)
			}
			for _, p := range tc.parts {
				if !strings.Contains(out, p) {
					t.Errorf("output lacks %q:\n%s", p, out)
				}
			}
			for _, p := range tc.absent {
				if strings.Contains(out, p) {
					t.Errorf("output holds %q:\n%s", p, out)
				}
			}
		})
	}
}

func TestCommandConfigErrors(t *testing.T) {
	head := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n"
	tests := []struct{ name, yaml, want string }{
		{"no argv", "        command: {junit: r.xml}\n", "no argv"},
		{"steps and command", "        command: {argv: [x]}\n        steps: [{goto: https://x}]\n", "both steps and a command"},
		{"shell with many", "        command: {argv: [a, b], shell: true}\n", "argv is one string"},
		{"bad format", "        command: {argv: [x], format: xunit}\n", `format "xunit"`},
		{"junit without path", "        command: {argv: [x], format: junit}\n", "needs junit"},
		{"junit with tap", "        command: {argv: [x], format: tap, junit: r.xml}\n", "junit is for format junit"},
		{"retries", "        retries: 2\n        command: {argv: [x]}\n", "use the test runner's own"},
		{"bad glob", "        command: {argv: [x], junit: \"r[.xml\"}\n", "syntax error in pattern"},
		{"bad template", "        command: {argv: [\"{{.Nope}}\"]}\n", "unknown field .Nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(head+tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// A command that outlives its timeout is killed with its whole group, and
// output that never ends does not stop that.
func TestCommandTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	res := runCommandSuite(t, dir, fmt.Sprintf("          shell: true\n          argv: ['sleep 300 & echo $! > %s; yes']\n          format: tap\n          timeout: 1s\n", pids), 30*time.Second)
	if res.State != checks.Critical || !strings.Contains(res.Summary, "timed out after 1s") {
		t.Errorf("result:\n%s", res.Render(0))
	}
	b, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(5 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the background child %d outlived the command", pid)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

// A 10,000-test report: every failure listed first, perfdata bounded.
func TestCommandBigReport(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "big.xml"), bigJUnit(10000), 0o644)
	res := runCommandSuite(t, dir, "          argv: [touch, big.xml]\n          junit: big.xml\n", 60*time.Second)
	if res.State != checks.Critical || !strings.Contains(res.Summary, "1000 of 10000 tests failed") {
		t.Errorf("summary: %s", res.Summary)
	}
	if n := len(res.Perfdata); n > 15 {
		t.Errorf("%d perfdata items, want totals and the 5 slowest", n)
	}
	out := res.Render(checks.DefaultMaxOutput)
	if len(out) > checks.DefaultMaxOutput || !strings.Contains(out, "[CRITICAL] e2e › pkg.Class0 test_0") {
		t.Errorf("output (%d bytes):\n%s", len(out), out)
	}
}

func bigJUnit(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<testsuite name="big">`)
	for i := range n {
		fmt.Fprintf(&b, `<testcase classname="pkg.Class%d" name="test_%d" time="0.%03d">`, i%50, i, i%1000)
		if i%10 == 0 {
			fmt.Fprintf(&b, `<failure message="assertion %d failed"/>`, i)
		}
		b.WriteString(`</testcase>`)
	}
	b.WriteString(`</testsuite>`)
	return b.Bytes()
}

func BenchmarkCommandBigReport(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "big.xml"), bigJUnit(10000), 0o644)
	b.ReportAllocs()
	for b.Loop() {
		tests, err := readJUnit(context.Background(), dir, "big.xml", time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		cm := &commandRun{res: tests, slowest: defaultSlowest}
		bad, good, unlisted := cm.parts("e2e")
		res := checks.Result{State: checks.Critical, Summary: failedTests(tests), Parts: append(bad, good...), Long: unlisted, Perfdata: cm.perfdata("e2e")}
		_ = res.Render(checks.DefaultMaxOutput)
	}
}

// --junit: the run as JUnit XML, read back with the parser CI servers'
// dialects are tested against.
func TestRunJUnitReport(t *testing.T) {
	dir := t.TempDir()
	y := fmt.Sprintf(`environments:
  e: {base_url: https://app.example.com, skip_tags: [slow]}
suites:
  s:
    cases:
      - name: passes
        command: {argv: ["true"]}
      - name: skipped one
        tags: [slow]
        command: {argv: ["true"]}
      - name: own tests
        command: {argv: [cat, %s], format: tap}
      - name: fails
        command: {argv: [sh, -c, 'echo "the secret pw-secret-42 leaked" >&2; exit 1']}
`, fixture(t, "node.tap"))
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	res := Run(context.Background(), cfg, RunOptions{Suite: "s", Budget: time.Minute, Retries: -1, Report: &rep,
		Secrets: map[string]string{"pw": "pw-secret-42"}})
	path := filepath.Join(dir, "out", "junit.xml")
	if err := rep.WriteJUnit(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte("pw-secret-42")) {
		t.Errorf("a secret in the report:\n%s", b)
	}
	tests, err := testreport.ParseJUnit(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]testreport.Status{}
	for _, tc := range tests.Tests {
		got[tc.Class+"/"+tc.Name] = tc.Status
	}
	want := map[string]testreport.Status{
		"s/passes": testreport.Passed, "s/skipped one": testreport.Skipped, "s/own tests": testreport.Failed, "s/fails": testreport.Failed,
		"s.own tests/sign in": testreport.Passed, "s.own tests/upload": testreport.Failed, "s.own tests/export": testreport.Skipped,
	}
	for k, st := range want {
		if got[k] != st {
			t.Errorf("%s: %v, want %v (all: %v)", k, got[k], st, got)
		}
	}
	if res.State != checks.Critical || !bytes.Contains(b, []byte(`<property name="state" value="CRITICAL">`)) ||
		!bytes.Contains(b, []byte(`<testsuite name="s on e" tests="9" failures="3" errors="0" skipped="3"`)) {
		t.Errorf("report:\n%s", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "out", ".suitecheck-junit-*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// The config's directory is a path, not a pattern; test names and
// messages are masked; a WARNING only the total time explains is a
// testcase of its own in --junit.
func TestCommandGlobDirMaskingAndTimeWarning(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proj[1]")
	os.MkdirAll(filepath.Join(dir, "reports"), 0o755)
	report := `<testsuite><testcase name="login[pw-secret-42]" time="0.1"><failure message="bad pw-secret-42 given"/></testcase></testsuite>`
	res := runCommandSuite(t, dir, fmt.Sprintf("          argv: [sh, -c, 'printf %%s \"$0\" > reports/r.xml', %q]\n          junit: \"reports/*.xml\"\n", report), 30*time.Second)
	out := res.Render(0)
	if res.State != checks.Critical || !strings.Contains(out, "1 of 1 tests failed: login[****] (bad **** given)") || strings.Contains(out, "pw-secret-42") {
		t.Errorf("result:\n%s", out)
	}

	y := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n        command: {argv: [\"true\"]}\n"
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	crit, _ := checks.ParseDurationRange("0.000001")
	res = Run(context.Background(), cfg, RunOptions{Suite: "s", Budget: time.Minute, Retries: -1, Report: &rep, Thresholds: checks.Thresholds{Warning: &crit}})
	b, _ := rep.JUnit()
	if res.State != checks.Warning || !bytes.Contains(b, []byte(`<testcase name="run" classname="s"`)) || !bytes.Contains(b, []byte(`type="WARNING"`)) {
		t.Errorf("state %v, report:\n%s", res.State, b)
	}
}

// TestCommandCutByBudget: output that never ends, or a report too long to
// read, is cut when the run's budget ends and judged on what was read: the
// failures read so far stand (CRITICAL), and without any the state is
// -t's (UNKNOWN here), with a note that the output was cut.
func TestCommandCutByBudget(t *testing.T) {
	dir := t.TempDir()
	head := `<testsuite name="big"><testcase name="first" time="0.5"/><testcase name="second"><failure message="boom"/></testcase>`
	tests := []struct {
		name    string
		command string
		state   checks.State
		parts   []string
	}{
		{"endless tap", "          argv: [yes, ok]\n          format: tap\n", checks.Unknown,
			[]string{"s on e: timed out after 1.5s in e2e (stopped: the run budget ran out, output cut after ", " tests, none failed)", "e2e_passed="}},
		{"endless tap, a failure first", "          shell: true\n          argv: ['echo \"not ok 1 - broken # because\"; yes ok']\n          format: tap\n", checks.Critical,
			[]string{"s on e: timed out after 1.5s in e2e (1 of ", " tests failed: broken, output cut after ", "tests (stopped: the run budget ran out))", "e2e_failed=1;"}},
		{"endless go test -json", "          argv: [yes, '{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"TestX\",\"Elapsed\":0.01}']\n          format: go-test-json\n", checks.Unknown,
			[]string{"output cut after ", " tests, none failed)", "e2e_p_testx=0.01s"}},
		{"go test -json cut while a test runs", "          argv: [sh, -c, 'echo {\\\"Action\\\":\\\"pass\\\",\\\"Package\\\":\\\"p\\\",\\\"Test\\\":\\\"TestB\\\",\\\"Elapsed\\\":0.1}; echo {\\\"Action\\\":\\\"run\\\",\\\"Package\\\":\\\"p\\\",\\\"Test\\\":\\\"TestA\\\"}; exec sleep 60']\n          format: go-test-json\n", checks.Unknown,
			[]string{"output cut after 1 tests, none failed"}},
		{"endless junit report", fmt.Sprintf("          argv: [sh, -c, 'printf %%s \"$0\" > r.xml && truncate -s 100G r.xml', %q]\n          junit: r.xml\n", head), checks.Critical,
			[]string{"s on e: timed out after 1.5s in e2e (1 of 2 tests failed: second (boom), report cut after 2 tests (stopped: the run budget ran out))", "[CRITICAL] e2e › second: boom", "[OK] e2e › first 0.50s"}},
		{"junit report written, the command still running", fmt.Sprintf("          argv: [sh, -c, 'printf %%s \"$0\" > r.xml && exec sleep 60', %q]\n          junit: r.xml\n", head+"</testsuite>"), checks.Critical,
			[]string{"s on e: timed out after 1.5s in e2e (1 of 2 tests failed: second (boom), report cut after 2 tests (stopped: the run budget ran out))"}},
		{"no junit report yet, the command still running", "          argv: [sleep, '60']\n          junit: r-none.xml\n", checks.Unknown,
			[]string{"s on e: timed out after 1.5s in e2e (stopped: the run budget ran out)"}},
		{"endless junit report, no failure", fmt.Sprintf("          argv: [sh, -c, 'printf %%s \"$0\" > r.xml && truncate -s 100G r.xml', %q]\n          junit: r.xml\n", `<testsuite name="big"><testcase name="first" time="0.5"/>`), checks.Unknown,
			[]string{"timed out after 1.5s in e2e (stopped: the run budget ran out, report cut after 1 tests, none failed)", "[OK] e2e › first 0.50s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCommandSuiteState(t, dir, tc.command, 1500*time.Millisecond, checks.Unknown)
			out := res.Render(0)
			if res.State != tc.state {
				t.Errorf("state %v, want %v:\n%s", res.State, tc.state, out)
			}
			for _, p := range tc.parts {
				if !strings.Contains(out, p) {
					t.Errorf("output lacks %q:\n%.2000s", p, out)
				}
			}
		})
	}
}

// TestCommandReports: reports that are not regular files are refused,
// never opened to block; TAP that breaks its plan is malformed.
func TestCommandReports(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.xml"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		command string
		state   checks.State
		parts   []string
	}{
		{"fifo report", "          argv: [touch, -h, fifo.xml]\n          junit: fifo.xml\n", checks.Unknown,
			[]string{"touch exited 0, but junit report " + filepath.Join(dir, "fifo.xml") + ": a FIFO (named pipe), not a regular file"}},
		{"device report", "          argv: [\"true\"]\n          junit: /dev/zero\n", checks.Unknown,
			[]string{"true exited 0, but junit report /dev/zero: a device, not a regular file"}},
		{"tap without a plan", "          argv: [sh, -c, 'echo \"ok 1 - a\"']\n          format: tap\n", checks.Unknown,
			[]string{"sh exited 0, but tap: no plan (1..N) in the output, after 1 tests"}},
		{"tap beyond its plan", "          argv: [sh, -c, 'printf \"1..1\\nok 1 - a\\nok 2 - b\\n\"']\n          format: tap\n", checks.Unknown,
			[]string{"sh exited 0, but tap: planned 1 tests, 2 reported"}},
		{"tap short of its plan, failing", "          argv: [sh, -c, 'printf \"1..3\\nok 1 - a\\n\"; exit 1']\n          format: tap\n", checks.Critical,
			[]string{"sh: exit status 1, and tap: planned 3 tests, 1 reported"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCommandSuite(t, dir, tc.command, 30*time.Second)
			out := res.Render(0)
			if res.State != tc.state {
				t.Errorf("state %v, want %v:\n%s", res.State, tc.state, out)
			}
			for _, p := range tc.parts {
				if !strings.Contains(out, p) {
					t.Errorf("output lacks %q:\n%s", p, out)
				}
			}
		})
	}
}

// --retries does not re-run a command case: its runner retries its own
// tests (a whole suite ran up to N+1 times).
func TestCommandNotRetriedByFlag(t *testing.T) {
	dir := t.TempDir()
	y := "environments:\n  e: {base_url: https://app.example.com}\nsuites:\n  s:\n    cases:\n      - name: e2e\n        command:\n          argv: [sh, -c, 'echo run >> runs; exit 1']\n"
	cfg, err := Parse(filepath.Join(dir, "suitecheck.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), cfg, RunOptions{Suite: "s", Retries: 3})
	b, _ := os.ReadFile(filepath.Join(dir, "runs"))
	if res.State != checks.Critical || strings.Count(string(b), "run") != 1 {
		t.Errorf("state %v, the command ran %d times: want CRITICAL, once", res.State, strings.Count(string(b), "run"))
	}
}
