package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/suitecheck/suitecheck/internal/demo"
	"github.com/suitecheck/suitecheck/suites"
)

// demoOptions are `suitecheck demo`'s options, from its flags.
type demoOptions struct {
	g           *globals
	demo        demo.Options
	printConfig bool
	keep        bool
}

// newDemo is `suitecheck demo`. runF runs it (runDemo, or a test's).
func newDemo(g *globals, runF func(*cobra.Command, *demoOptions) error) *cobra.Command {
	o := &demoOptions{g: g, demo: demo.Options{Run: suites.RunOptions{Retries: -1}}}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the demo suite against the embedded sample app on a throwaway PostgreSQL",
		Long: `Starts a throwaway PostgreSQL cluster and the sample app (a multi-tenant chat
with file upload) on it, creates a fresh tenant, runs the demo suite (browser,
HTTP and SQL steps) against it, deletes the tenant, stops everything and
prints the Nagios result. Needs PostgreSQL's server binaries and Chromium
(make deps installs both).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.printConfig {
				return runF(cmd, o) // prints, runs nothing: the run's flags do not matter
			}
			if err := checkTeardownTimeout(o.demo.Run.Tenants.TeardownTimeout); err != nil {
				return err
			}
			return runF(cmd, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.printConfig, "print-config", false, "print the demo's suite config, a start for your own, and exit")
	f.BoolVar(&o.keep, "keep", false, "after the run, keep the app running (printing its URL and admin token on stderr) until Ctrl-C")
	f.StringVar(&o.demo.Break, "break", "", "break the infrastructure under the app first, to see what the check catches: "+strings.Join(slices.Sorted(maps.Keys(demo.BreakModes)), ", "))
	browserFlags(f, &o.demo.Run.Browser)
	f.DurationVar(&o.demo.Run.Tenants.TeardownTimeout, "teardown-timeout", suites.DefaultTeardownTimeout, "time kept from the budget for deleting the tenant, and the delete's own bound")
	return cmd
}

// runDemo runs the demo within the budget and leaves its result for main.
func runDemo(cmd *cobra.Command, o *demoOptions) error {
	g, do := o.g, o.demo
	if o.printConfig {
		_, err := cmd.OutOrStdout().Write(demo.Config())
		return err
	}
	ctx, cancel := g.withBudget(cmd.Context())
	defer cancel()
	do.Run.Thresholds, do.Run.TimeoutState, do.Run.Budget = g.thresholds, g.timeoutState, g.budget
	defer g.diagnostics(&do.Run)()
	do.Logf = func(format string, args ...any) { g.logf(1, "demo: "+format, args...) }
	if o.keep {
		// --keep outlives the budget: the app stays up until Ctrl-C.
		base := cmd.Context()
		do.Keep = func(url, token string) {
			fmt.Fprintf(g.stderr, "suitecheck demo: the sample app runs at %s (admin token %s); Ctrl-C to stop\n", url, token)
			<-base.Done()
		}
	}
	res, err := demo.Run(ctx, do)
	if err != nil {
		return err
	}
	g.out.Result = &res
	return nil
}
