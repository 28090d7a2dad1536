package suites

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/proc"
	"github.com/suitecheck/suitecheck/internal/regfile"
	"github.com/suitecheck/suitecheck/suites/testreport"
)

// CommandCase runs the app's own test suite as a case: a program, its
// results read from a JUnit XML report, from its stdout (`go test -json`,
// TAP), or from its exit code alone. Each test it reports becomes a test
// of the case in the result.
//
//   - name: e2e
//     command:
//     argv: [npx, playwright, test]
//     dir: e2e
//     junit: reports/*.xml
//     timeout: 5m
type CommandCase struct {
	Argv    []string          `yaml:"argv"`  // the program and its arguments; no shell
	Shell   bool              `yaml:"shell"` // argv is one string, run by /bin/sh -c
	Dir     string            `yaml:"dir"`   // relative to the config file's directory
	Env     map[string]string `yaml:"env"`
	Timeout time.Duration     `yaml:"timeout"` // default: the rest of the run budget
	JUnit   string            `yaml:"junit"`   // a report file or glob, relative to dir
	Format  string            `yaml:"format"`  // junit, go-test-json, tap or exit-code
	Slowest *int              `yaml:"slowest"` // tests in perfdata, slowest first (default 5)
}

// The formats a command's results come in.
const (
	FormatJUnit    = "junit"
	FormatGoTest   = "go-test-json"
	FormatTAP      = "tap"
	FormatExitCode = "exit-code"
)

// defaultSlowest is how many tests' times go into perfdata by default.
const defaultSlowest = 5

// format is the case's format, defaulted: junit with a junit report,
// else exit-code.
func (c *CommandCase) format() string {
	switch {
	case c.Format != "":
		return c.Format
	case c.JUnit != "":
		return FormatJUnit
	}
	return FormatExitCode
}

func (c *CommandCase) validate(cs *Case) error {
	at := func(format string, args ...any) error {
		return &LineError{Line: cs.line, Msg: fmt.Sprintf("case %q command: ", cs.Name) + fmt.Sprintf(format, args...)}
	}
	switch {
	case len(cs.Steps) > 0:
		return &LineError{Line: cs.line, Msg: fmt.Sprintf("case %q has both steps and a command: give one", cs.Name)}
	case len(c.Argv) == 0:
		return at("no argv: give the program and its arguments, e.g. argv: [npx, playwright, test]")
	case c.Shell && len(c.Argv) != 1:
		return at("with shell: true, argv is one string, the script for /bin/sh -c")
	case c.Timeout < 0:
		return at("timeout must be positive")
	case c.Slowest != nil && (*c.Slowest < 0 || *c.Slowest > testreport.MaxSlowest):
		return at("slowest must be 0 to %d", testreport.MaxSlowest)
	case cs.Retries > 0:
		return at("retries: use the test runner's own (its report marks a test that passed on retry)")
	case cs.RetryDelay != nil:
		return at("retry_delay: a command case is not retried (its test runner retries its own tests)")
	}
	switch c.format() {
	case FormatJUnit:
		if c.JUnit == "" {
			return at("format junit needs junit: the report's path or glob, e.g. junit: reports/*.xml")
		}
		if _, err := filepath.Match(c.JUnit, ""); err != nil && !strings.Contains(c.JUnit, "{{") {
			return at("junit %q: %v", c.JUnit, err)
		}
	case FormatGoTest, FormatTAP, FormatExitCode:
		if c.JUnit != "" {
			return at("junit is for format junit, not %s", c.format())
		}
	default:
		return at("format %q: use junit, go-test-json, tap or exit-code", c.Format)
	}
	for _, s := range append(append([]string{c.Dir, c.JUnit}, c.Argv...), sortedValues(c.Env)...) {
		if err := checkTemplate(s); err != nil {
			return at("%v", err)
		}
	}
	return nil
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// commandRun is what a command case left for the result.
type commandRun struct {
	res     *testreport.Results // nil until its results were read
	slowest int
}

// tests are the tests kept of the command's results.
func (cm *commandRun) tests() []testreport.Test {
	if cm == nil || cm.res == nil {
		return nil
	}
	return cm.res.Tests
}

// failedWhenCut is a command case whose tests failed before the run was
// cut short (budget, signal): the failures stand, whatever ended the run.
type failedWhenCut struct{ err error }

func (e *failedWhenCut) Error() string { return e.err.Error() }
func (e *failedWhenCut) Unwrap() error { return e.err }

// runCommand runs a command case and judges it. The error is the case's
// failure (or a configError, or the run's end).
func (r *runState) runCommand(ctx context.Context, c *Case, suite *Suite, cr *caseResult) error {
	cc := c.Command
	render := func(what, s string) (string, error) {
		v, err := r.scope.Render(s)
		if err != nil {
			return "", &configError{fmt.Errorf("command %s: %w", what, err)}
		}
		return v, nil
	}
	cmd := proc.Cmd{}
	for _, a := range cc.Argv {
		v, err := render("argv", a)
		if err != nil {
			return err
		}
		cmd.Argv = append(cmd.Argv, v)
	}
	if cc.Shell {
		cmd.Argv = []string{"/bin/sh", "-c", cmd.Argv[0]}
	}
	dir, err := render("dir", cc.Dir)
	if err != nil {
		return err
	}
	cmd.Dir = r.relDir(dir)
	cmd.Env = r.commandEnv()
	for _, k := range slices.Sorted(maps.Keys(cc.Env)) {
		v, err := render("env "+k, cc.Env[k])
		if err != nil {
			return err
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	slowest := defaultSlowest
	if cc.Slowest != nil {
		slowest = *cc.Slowest
	}
	cr.command = &commandRun{slowest: slowest}

	var lines *testreport.Writer
	var parser testreport.LineParser
	switch cc.format() {
	case FormatGoTest:
		parser = testreport.NewGoTest()
	case FormatTAP:
		parser = testreport.NewTAP()
	}
	if parser != nil {
		lines = &testreport.Writer{P: parser}
		cmd.Stdout = lines
	}

	runCtx := ctx
	if cc.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cc.Timeout)
		defer cancel()
	}
	start := time.Now()
	_, runErr := proc.Run(runCtx, cmd)
	if lines != nil {
		lines.Flush()
	}
	var xe *proc.ExitError
	switch {
	case errors.Is(runErr, proc.ErrNotFound):
		return &configError{fmt.Errorf("command: %w", runErr)}
	case ctx.Err() != nil && parser != nil:
		// The run ended while the command wrote: what it wrote is judged,
		// and a test it was running when we stopped it is not a failure.
		parser.Cut()
		res, _ := parser.Results()
		r.keepResults(cr, res)
		return r.cutShort(ctx, res, "output")
	case ctx.Err() != nil && cc.format() == FormatJUnit:
		// The run ended while the command ran: the reports it had written
		// (a runner that writes one per class) are read, briefly, and
		// judged.
		pattern, err := render("junit", cc.JUnit)
		if err != nil {
			return stopReason(ctx)
		}
		gctx, cancel := context.WithTimeout(r.outer, min(r.resultReserve/4, 250*time.Millisecond))
		defer cancel()
		res, _ := readJUnit(gctx, cmd.Dir, pattern, start)
		if res.Total() == 0 {
			return stopReason(ctx)
		}
		r.keepResults(cr, res)
		return r.cutShort(ctx, res, "report")
	case ctx.Err() != nil:
		return stopReason(ctx)
	case runErr != nil && !errors.As(runErr, &xe):
		if runCtx.Err() != nil {
			runErr = fmt.Errorf("timed out after %s", cc.Timeout)
		}
	}
	exited := fmt.Sprintf("%s exited 0", filepath.Base(cmd.Argv[0]))
	if runErr != nil {
		exited = fmt.Sprintf("%s: %v", filepath.Base(cmd.Argv[0]), r.mask.Mask(runErr.Error()))
	}

	// The results.
	var res *testreport.Results
	var reportErr error
	switch cc.format() {
	case FormatExitCode:
		// The case is the test: its exit status and last words.
		if runErr != nil {
			return &stepError{"", errors.New(exited)}
		}
		return nil
	case FormatJUnit:
		pattern, err := render("junit", cc.JUnit)
		if err != nil {
			return err
		}
		res, reportErr = readJUnit(ctx, cmd.Dir, pattern, start)
		if ctx.Err() != nil {
			// The run ended while the report was read: what was read
			// is judged.
			r.keepResults(cr, res)
			return r.cutShort(ctx, res, "report")
		}
	default:
		res, reportErr = parser.Results()
	}
	r.keepResults(cr, res)
	if res.Counts.Failed > 0 || res.Counts.Flaky > 0 {
		saved, notes := r.keepAttachments(c, cmd.Dir, res)
		cr.artifacts = append(cr.artifacts, saved...)
		cr.notes = append(cr.notes, notes...)
	}

	counts := res.Counts
	switch {
	case counts.Failed > 0:
		msg := failedTests(res)
		if reportErr != nil {
			msg += "; " + reportErr.Error()
		}
		return &stepError{"", errors.New(msg)}
	case reportErr != nil && runErr == nil:
		return &configError{fmt.Errorf("%s, but %v", exited, reportErr)}
	case reportErr != nil:
		return &stepError{"", fmt.Errorf("%s; and %v", exited, reportErr)}
	case runErr != nil:
		return &stepError{"", fmt.Errorf("%s, but no test failed in its report", exited)}
	case counts.Total() == 0 || counts.Skipped == counts.Total():
		return &configError{fmt.Errorf("%s with no test run (%d skipped): check the command and its report", exited, counts.Skipped)}
	}
	if counts.Flaky > 0 {
		var names []string
		for _, t := range res.Tests {
			if t.Status == testreport.Flaky {
				names = append(names, t.FullName())
			}
		}
		if more := counts.Flaky - len(names); more > 0 {
			names = append(names, fmt.Sprintf("and %d more", more))
		}
		cr.flakyTests = names
	}
	return nil
}

// keepResults masks a command's results and keeps them for the result.
// Masked before shortened, so that no secret is cut with its start left;
// names too (a parametrized test can carry a value in its name).
func (r *runState) keepResults(cr *caseResult, res *testreport.Results) {
	if res == nil {
		res = &testreport.Results{}
	}
	for _, tests := range [][]testreport.Test{res.Tests, res.Slowest} {
		for i := range tests {
			t := &tests[i]
			t.Message = checks.Shorten(r.mask.Mask(t.Message), 200)
			t.Name, t.Class, t.Suite = r.mask.Mask(t.Name), r.mask.Mask(t.Class), r.mask.Mask(t.Suite)
		}
	}
	cr.command.res = res
}

// cutShort judges a command case whose output or report was cut when the
// run's context ended: the failures read so far stand (CRITICAL); without
// any, the run's end is the reason (the -t state).
func (r *runState) cutShort(ctx context.Context, res *testreport.Results, what string) error {
	if res.Counts.Failed > 0 {
		return &failedWhenCut{fmt.Errorf("%s; %s cut after %d tests (%v)", failedTests(res), what, res.Total(), stopReason(ctx))}
	}
	return fmt.Errorf("%w; %s cut after %d tests, none failed", stopReason(ctx), what, res.Total())
}

// failedTests says which tests failed: how many, their names, and the
// first one's message.
func failedTests(res *testreport.Results) string {
	failed := res.Failed()
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d tests failed", res.Counts.Failed, res.Total())
	if len(failed) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, ": %s", failed[0].FullName())
	if failed[0].Message != "" {
		fmt.Fprintf(&b, " (%s)", checks.Shorten(failed[0].Message, 100))
	}
	shown := 1
	for _, t := range failed[1:min(len(failed), 10)] {
		b.WriteString(", " + t.FullName())
		shown++
	}
	if more := res.Counts.Failed - shown; more > 0 {
		fmt.Fprintf(&b, " and %d more", more)
	}
	return b.String()
}

// errReportCut is a report whose reading stopped when the run's context
// ended.
var errReportCut = errors.New("reading stopped")

// ctxReader reads r until ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, fmt.Errorf("%w: %v", errReportCut, stopReason(c.ctx))
	}
	return c.r.Read(p)
}

// readJUnit reads the reports that match a glob, written since start: a
// report older than the command is a previous run's, not this one's. Only
// regular files are read, and only until ctx ends: a report that is still
// growing then is cut, and the results read so far come with the error.
func readJUnit(ctx context.Context, dir, pattern string, start time.Time) (*testreport.Results, error) {
	res := &testreport.Results{}
	if !filepath.IsAbs(pattern) {
		// The directory is a path, not a pattern: its [ * ? stay literal.
		pattern = filepath.Join(escapeGlob(dir), pattern)
	}
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return res, fmt.Errorf("junit %s: %w", pattern, err)
	}
	if len(paths) == 0 {
		return res, fmt.Errorf("no JUnit report at %s", pattern)
	}
	sort.Strings(paths)
	// Some file systems keep times to the second: a time without
	// nanoseconds is compared to the second. Others stamp files with the
	// kernel's coarse clock, a few milliseconds behind time.Now: 100 ms
	// of slack.
	since := start.Truncate(time.Second)
	fine := start.Add(-100 * time.Millisecond)
	var stale []string
	read := 0
	for _, p := range paths {
		f, st, err := regfile.Open(p)
		var nr *regfile.NotRegularError
		switch {
		case errors.As(err, &nr) && nr.Dir:
			continue
		case errors.As(err, &nr):
			return res, fmt.Errorf("junit report %s: %s, not a regular file", p, nr.Kind)
		case err != nil:
			return res, fmt.Errorf("junit report %s: %s", p, regfile.Problem(err))
		}
		if mt := st.ModTime(); (mt.Nanosecond() != 0 && mt.Before(fine)) || mt.Before(since) {
			f.Close()
			stale = append(stale, fmt.Sprintf("%s (written %s)", p, st.ModTime().Format(time.RFC3339)))
			continue
		}
		one, err := testreport.ParseJUnit(ctxReader{ctx, f})
		f.Close()
		if rel, err := filepath.Rel(dir, filepath.Dir(p)); err == nil {
			attachedFrom(one, rel)
		}
		res.Merge(one)
		read++
		if err != nil {
			return res, fmt.Errorf("%s: %w", p, err)
		}
	}
	if read == 0 && len(stale) > 0 {
		return res, fmt.Errorf("the JUnit report is stale, from before the command started: %s", strings.Join(stale, ", "))
	}
	return res, nil
}

// attachedFrom makes the relative attachment paths of a report's tests,
// which runners write relative to the report (Playwright: to the report
// file's directory), relative to the command's dir: "../test-results/x.png"
// in reports/junit.xml is test-results/x.png. reportDir is the report's
// directory relative to the command's.
func attachedFrom(res *testreport.Results, reportDir string) {
	for i := range res.Tests {
		for j, a := range res.Tests[i].Attachments {
			if !filepath.IsAbs(a) {
				res.Tests[i].Attachments[j] = filepath.Join(reportDir, a)
			}
		}
	}
}

// relDir resolves a command's directory against the config file's.
func (r *runState) relDir(dir string) string {
	base := filepath.Dir(r.cfgPath)
	if dir == "" {
		return base
	}
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(base, dir)
}

// escapeGlob makes a path match itself as a filepath.Glob pattern.
func escapeGlob(p string) string {
	var b strings.Builder
	for _, c := range p {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// baseCommandEnv is where the app is, for every command: the base URL, the
// environment's name and, with -I, the address to connect to for the base
// URL's host (a test runner can pin it as suitecheck does: Playwright's
// --host-resolver-rules, curl's --connect-to).
func (r *runEnv) baseCommandEnv() []string {
	env := []string{"SUITECHECK_BASE_URL=" + r.scope.BaseURL, "SUITECHECK_ENV=" + r.scope.Env}
	for _, to := range r.pins { // one at most
		env = append(env, "SUITECHECK_ADDRESS="+to)
	}
	return env
}

// commandEnv is what every command of a run gets: where the app is and
// who the tenant is.
func (r *runState) commandEnv() []string {
	env := r.baseCommandEnv()
	for _, k := range slices.Sorted(maps.Keys(r.scope.Tenant)) {
		env = append(env, "SUITECHECK_TENANT_"+envName(k)+"="+r.scope.Tenant[k])
	}
	return env
}

// perfdata is a command case's: its tests passed, failed and skipped, and
// the times of its slowest tests (all of them would not fit any client).
func (cm *commandRun) perfdata(caseName string) []checks.Perfdata {
	if cm == nil || cm.res == nil || cm.res.Total() == 0 {
		return nil
	}
	label := checks.Label(caseName)
	c := cm.res.Counts
	total := checks.Float(float64(c.Total()))
	pd := []checks.Perfdata{
		{Label: label + "_passed", Value: float64(c.Passed + c.Flaky), Min: checks.Float(0), Max: total},
		{Label: label + "_failed", Value: float64(c.Failed), Min: checks.Float(0), Max: total},
		{Label: label + "_skipped", Value: float64(c.Skipped), Min: checks.Float(0), Max: total},
	}
	for _, t := range cm.res.Slowest[:min(cm.slowest, len(cm.res.Slowest))] {
		pd = append(pd, checks.Duration(checks.Label(caseName+" "+t.FullName()), t.Time, checks.Thresholds{}))
	}
	return pd
}

// parts are a command case's tests as parts of the result: the failed
// ones and the others; unlisted is a line counting the tests not kept.
func (cm *commandRun) parts(caseName string) (bad, good []checks.Part, unlisted []string) {
	for _, t := range cm.tests() {
		p := checks.Part{Name: caseName + " › " + t.FullName(), State: checks.OK, Time: t.Time, Timed: t.HasTime, Detail: t.Message}
		switch t.Status {
		case testreport.Failed, testreport.Errored:
			p.State = checks.Critical
		case testreport.Flaky:
			p.State = checks.Warning
		case testreport.Skipped:
			p.Mark = checks.Skipped
		}
		if t.Status >= testreport.Flaky {
			bad = append(bad, p)
		} else {
			good = append(good, p)
		}
	}
	if cm != nil && cm.res != nil && cm.res.Unlisted > 0 {
		unlisted = append(unlisted, fmt.Sprintf("%s: %d more tests not listed (the first %d failures and %d others are)",
			caseName, cm.res.Unlisted, testreport.MaxProblems, testreport.MaxListed))
	}
	return bad, good, unlisted
}
