package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/statedir"
	"github.com/suitecheck/suitecheck/suites"
)

// configFlag is the --config flag shared by run, validate and list.
type configFlag struct{ path string }

func (c *configFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.path, "config", "", "the suites file (default $SUITECHECK_CONFIG, else ./suitecheck.yaml)")
}

func (c *configFlag) load() (*suites.Config, error) { return c.loadWithin(context.Background()) }

// loadWithin reads the config within ctx, the run's budget.
func (c *configFlag) loadWithin(ctx context.Context) (*suites.Config, error) {
	path := c.path
	if path == "" {
		path = os.Getenv("SUITECHECK_CONFIG")
	}
	if path == "" {
		path = "suitecheck.yaml"
	}
	return suites.LoadContext(ctx, path)
}

// runOptions are `suitecheck run`'s options, from its arguments and flags.
type runOptions struct {
	g      *globals
	config configFlag
	run    suites.RunOptions
	target targetFlags
	junit  string // --junit FILE
}

// newRun is `suitecheck run SUITE`. runF runs it (runRun, or a test's).
func newRun(g *globals, runF func(*cobra.Command, *runOptions) error) *cobra.Command {
	o := &runOptions{g: g, run: suites.RunOptions{Retries: -1}}
	cmd := &cobra.Command{
		Use:   "run SUITE",
		Short: "Run a named suite from the config as a check",
		Args:  oneArg("the name of the suite to run", "suitecheck run login (suitecheck list --config FILE names them)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.run.Suite = args[0]
			if cmd.Flags().Changed("retries") && o.run.Retries < 0 {
				return &UsageError{Err: fmt.Errorf("--retries %d: give 0 to %d", o.run.Retries, suites.MaxRetries)}
			}
			if err := o.check(); err != nil {
				return err
			}
			return runF(cmd, o)
		},
	}
	o.config.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.run.Env, "env", "", "the environment to run in (may be left out when the config has only one)")
	f.IntVar(&o.run.Retries, "retries", -1, "retry each failing case up to N times, overriding the config (a pass on retry is flaky: WARNING)")
	f.StringArrayVar(&o.run.Cases, "case", nil, "run only the cases whose name (or perfdata label) matches this glob (* ? [a-z], as Go's path.Match); repeatable. Required cases before them run too")
	f.StringArrayVar(&o.run.Tags, "tag", nil, "run only the cases with this tag; repeatable (with --case: cases matching both). Required cases before them run too")
	browserFlags(f, &o.run.Browser)
	tenantFlags(f, &o.run.Tenants)
	o.target.register(f)
	f.StringVar(&o.junit, "junit", "", "also write the result as JUnit XML to FILE, for CI servers (Jenkins, GitLab…)")
	return cmd
}

// check refuses flag values no run could use.
func (o *runOptions) check() error {
	if o.run.Retries < -1 || o.run.Retries > suites.MaxRetries {
		return &UsageError{Err: fmt.Errorf("--retries %d: give 0 to %d", o.run.Retries, suites.MaxRetries)}
	}
	if err := checkTeardownTimeout(o.run.Tenants.TeardownTimeout); err != nil {
		return err
	}
	for _, p := range o.run.Cases {
		if err := suites.CheckCasePattern(p); err != nil {
			return &UsageError{Err: err}
		}
	}
	for _, t := range o.run.Tags {
		if t == "" {
			return &UsageError{Err: fmt.Errorf("--tag \"\": give a tag of the suite's cases (suitecheck list shows them)")}
		}
	}
	if o.run.Browser.KeepRuns < 1 {
		return &UsageError{Err: fmt.Errorf("--keep-artifacts %d: give 1 or more", o.run.Browser.KeepRuns)}
	}
	resolveLedger(&o.run.Tenants)
	var err error
	o.run.Target, err = o.target.resolve()
	return err
}

// runRun runs the suite within the budget and leaves its result for main.
func runRun(cmd *cobra.Command, o *runOptions) error {
	g, ro := o.g, o.run
	ro.Start = time.Now() // time= counts the config's reading too
	ctx, cancel := g.withBudget(cmd.Context())
	defer cancel()
	cfg, err := o.config.loadWithin(ctx)
	if err != nil {
		return err
	}
	if ro.Browser.Artifacts == "" && ro.Tenants.StateDir != "" {
		ro.Browser.Artifacts = statedir.ArtifactsIn(ro.Tenants.StateDir)
	}
	ro.Thresholds, ro.TimeoutState, ro.Budget = g.thresholds, g.timeoutState, g.budget
	defer g.diagnostics(&ro)()
	var rep suites.Report
	if o.junit != "" {
		ro.Report = &rep
	}
	res := suites.Run(ctx, cfg, ro)
	if o.junit != "" {
		writeJUnit(&res, rep, o.junit)
	}
	g.out.Result = &res
	return nil
}

// diagnostics sets what a run tells people on stderr: the cases as they
// end (-v, or on a terminal), the levels of -v, -vv and -vvv, the
// browser's launch, and on a terminal a live line of what runs now. The
// function it returns ends the live line.
func (g *globals) diagnostics(ro *suites.RunOptions) func() {
	end := func() {}
	term := isTerminal(g.stderr)
	if term {
		// Every other line of stderr clears the live line first.
		live := newLiveLine(g.stderr)
		live.start()
		stderr := g.stderr
		g.stderr = live
		end = func() { live.close(); g.stderr = stderr }
		ro.Diagnostics.Status = live.set
	}
	if term || g.verbose > 0 {
		ro.Progress = g.stderr
	}
	ro.Diagnostics.Level = g.verbose
	ro.Diagnostics.Log = func(line string) { g.logf(0, "%s", line) }
	ro.Browser.Logf = func(format string, args ...any) { g.logf(1, format, args...) }
	return end
}

// writeJUnit writes the run's JUnit report; when it cannot, the result
// says so and is at least UNKNOWN: the CI server would read nothing.
func writeJUnit(res *checks.Result, rep suites.Report, path string) {
	if rep.Suite == "" {
		// The run never started (no such suite or environment): the
		// report is the result alone.
		rep = suites.Report{Suite: "suitecheck", Env: "-", State: res.State, Summary: res.Summary,
			Cases: []suites.ReportCase{{Class: "suitecheck", Name: "run", State: res.State, Detail: res.Summary}}}
	}
	if err := rep.WriteJUnit(path); err != nil {
		res.State = checks.Worst(res.State, checks.Unknown)
		res.Summary += "; " + err.Error()
	}
}

// checkTeardownTimeout refuses a --teardown-timeout that keeps no time
// for deleting the tenant.
func checkTeardownTimeout(d time.Duration) error {
	if d <= 0 {
		return &UsageError{Err: fmt.Errorf("--teardown-timeout %s: give a positive duration such as 10s", d)}
	}
	return nil
}

// browserFlags are the browser options of run and demo.
func browserFlags(f *pflag.FlagSet, b *suites.BrowserOptions) {
	f.StringVar(&b.Bin, "browser", "", "the Chromium binary for browser steps (default: the system's chromium)")
	f.StringVar(&b.RemoteURL, "browser-url", "", "use a running browser's DevTools endpoint (ws://… or http://host:port) instead of launching one")
	f.StringVar(&b.Artifacts, "artifacts", "", "where screenshots and HTML of failed browser cases go, private to you; it must be yours and not group/world-writable (default STATE-DIR/artifacts)")
	f.IntVar(&b.KeepRuns, "keep-artifacts", 10, "keep the artifacts of this many runs per suite")
}

func newValidate() *cobra.Command {
	var cf configFlag
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a config file without running anything",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load()
			if err != nil {
				return err
			}
			cases := 0
			for _, n := range cfg.SuiteNames() {
				s, _ := cfg.Suite(n)
				cases += len(s.Cases)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: OK: %d environments (%s), %d suites (%s), %d cases\n", cfg.Path(),
				len(cfg.EnvNames()), strings.Join(cfg.EnvNames(), ", "), len(cfg.SuiteNames()), strings.Join(cfg.SuiteNames(), ", "), cases)
			return err
		},
	}
	cf.register(cmd)
	return cmd
}

func newList() *cobra.Command {
	var cf configFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List suites, their cases and tags",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, n := range cfg.SuiteNames() {
				s, _ := cfg.Suite(n)
				fmt.Fprintf(w, "%s", n)
				if s.Description != "" {
					fmt.Fprintf(w, " - %s", s.Description)
				}
				fmt.Fprintln(w)
				for _, c := range s.Cases {
					var extra []string
					if c.Required {
						extra = append(extra, "required")
					}
					if len(c.Tags) > 0 {
						extra = append(extra, "tags: "+strings.Join(c.Tags, ", "))
					}
					if c.Retries > 0 {
						extra = append(extra, fmt.Sprintf("retries: %d", c.Retries))
					}
					line := fmt.Sprintf("  %s (%d steps)", c.Name, len(c.Steps))
					if c.Command != nil && len(c.Command.Argv) > 0 {
						line = fmt.Sprintf("  %s (command %s)", c.Name, c.Command.Argv[0])
					}
					if len(extra) > 0 {
						line += " [" + strings.Join(extra, "; ") + "]"
					}
					fmt.Fprintln(w, line)
				}
			}
			fmt.Fprintf(w, "environments: %s\n", strings.Join(cfg.EnvNames(), ", "))
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}

// isTerminal reports whether w is a character device (a person's terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
