// Package cli holds suitecheck's cobra commands. Each command only turns
// flags into options and calls the package that does the work; a check
// command hands back a checks.Result, which main alone renders to stdout
// and turns into the exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/suitecheck/suitecheck/checks"
)

// DefaultTimeout is the run budget: below the 60 s that Nagios and Icinga 2
// give a check by default, as the monitoring-plugins do.
const DefaultTimeout = "50"

// Build describes the binary, for `suitecheck version`.
type Build struct {
	Version, Commit, GoVersion string
}

// Outcome is what a command invocation leaves for main.
type Outcome struct {
	// Result is the check's result; nil for commands that are not checks,
	// which wrote their output already.
	Result    *checks.Result
	MaxOutput int // byte cap for Result's rendering
	// Informational says the output was help or the version, not a check:
	// UNKNOWN's exit code 3, as every monitoring-plugins binary exits for
	// --help and -V, so that a command definition that ends up asking for
	// help never shows as OK.
	Informational bool
}

// globals are the plugin options every check shares.
type globals struct {
	timeout   string
	warning   string
	critical  string
	verbose   int
	maxOutput int
	version   bool // -V/--version

	// parsed in PersistentPreRunE
	budget       time.Duration
	timeoutState checks.State
	thresholds   checks.Thresholds

	stderr io.Writer
	out    *Outcome
}

// logf writes a diagnostic to stderr when -v is at least level. Icinga 2
// merges stderr into the plugin output, so nothing is written by default.
func (g *globals) logf(level int, format string, args ...any) {
	if g.verbose >= level {
		fmt.Fprintf(g.stderr, "suitecheck: "+format+"\n", args...)
	}
}

// UsageError is a mistake in the command line: UNKNOWN, with a hint.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() + " (see suitecheck --help)" }
func (e *UsageError) Unwrap() error { return e.Err }

// Execute runs the command line args. ctx carries the cancellation from
// signals; Execute adds the run budget (-t) to it. stdout receives the output
// of informational commands only; check results come back in the Outcome.
func Execute(ctx context.Context, args []string, build Build, stdout, stderr io.Writer) (Outcome, error) {
	out := Outcome{MaxOutput: checks.DefaultMaxOutput}
	g := &globals{stderr: stderr, out: &out}
	root := newRoot(g, build)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	out.MaxOutput = g.maxOutput
	if out.Informational {
		return out, nil // the help was asked for, and written
	}
	if g.version {
		// -V wins over whatever else the command line says, as in the
		// monitoring-plugins: it was parsed, and nothing ran.
		out.Informational = true
		_, err := fmt.Fprintln(stdout, build.line())
		return out, err
	}
	if err != nil {
		// Flag errors come through the flag error func, argument errors
		// through our Args: both are UsageErrors already, and no error text
		// is matched to tell.
		return out, err
	}
	return out, nil
}

// flagError says what is wrong with a flag or its value in our words:
// pflag's carry Go's ("strconv.ParseInt: parsing \"x\": invalid syntax")
// or quote runes ("flag needs an argument: 't' in -t").
func flagError(err error) error {
	var (
		ive *pflag.InvalidValueError
		vre *pflag.ValueRequiredError
		nee *pflag.NotExistError
		ise *pflag.InvalidSyntaxError
	)
	switch {
	case errors.As(err, &ive):
	case errors.As(err, &vre):
		return fmt.Errorf("%s needs a value", flagName(vre.GetFlag()))
	case errors.As(err, &nee):
		if nee.GetSpecifiedShortnames() != "" {
			return fmt.Errorf("unknown flag: -%s", nee.GetSpecifiedName()[:1])
		}
		return fmt.Errorf("unknown flag: --%s", nee.GetSpecifiedName())
	case errors.As(err, &ise):
		return fmt.Errorf("%q is not a flag: flags are -x or --name", ise.GetSpecifiedFlag())
	default:
		return err
	}
	f := ive.GetFlag()
	name := flagName(f)
	want := "a valid value"
	switch f.Value.Type() {
	case "int", "count", "uint":
		want = "a whole number"
	case "float64":
		want = "a number"
	case "duration":
		want = "a duration with its unit, e.g. 10s, 1m30s or 500ms"
	case "bool":
		want = "true or false"
	}
	return fmt.Errorf("%s %q: give %s", name, ive.GetValue(), want)
}

// flagName is a flag as the help shows it: -t/--timeout, or --dsn.
func flagName(f *pflag.Flag) string {
	if f.Shorthand != "" {
		return "-" + f.Shorthand + "/--" + f.Name
	}
	return "--" + f.Name
}

// needCommand is the run of a command that only groups others (suitecheck
// itself, tenant): called without one, it is UNKNOWN, naming the commands
// it has, with a short usage as long output.
func needCommand(g *globals) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		var names, usage []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
				usage = append(usage, fmt.Sprintf("%s %s: %s", cmd.CommandPath(), c.Use, c.Short))
			}
		}
		usage = append(usage, fmt.Sprintf("%s COMMAND --help lists a command's flags", cmd.CommandPath()))
		g.out.Result = &checks.Result{
			State:   checks.Unknown,
			Summary: fmt.Sprintf("%s: give a command: %s%s (%s --help says more)", cmd.CommandPath(), strings.Join(names, ", "), exampleOf(cmd), cmd.CommandPath()),
			Long:    usage,
		}
		return nil
	}
}

// exampleOf is, for suitecheck itself, the call a user is most likely
// after.
func exampleOf(cmd *cobra.Command) string {
	if cmd.HasParent() {
		return ""
	}
	return ", e.g. " + cmd.CommandPath() + " run SUITE --config FILE"
}

// unknownCommand refuses, in our words, an argument that names no
// command (cobra would say `unknown command "x" for "suitecheck"`).
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return &UsageError{Err: fmt.Errorf("%s: no command %q: use one of %s", cmd.CommandPath(), args[0], strings.Join(names, ", "))}
}

// noArgs refuses positional arguments in our words (cobra's NoArgs says
// "unknown command").
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &UsageError{Err: fmt.Errorf("%s takes no arguments, but was given %q", cmd.CommandPath(), args[0])}
	}
	return nil
}

// oneArg wants exactly one positional argument, what, shown in example.
func oneArg(what, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return &UsageError{Err: fmt.Errorf("%s: give %s, e.g. %s", cmd.CommandPath(), what, example)}
		case len(args) > 1:
			return &UsageError{Err: fmt.Errorf("%s: give only %s, not %d arguments (%s)", cmd.CommandPath(), what, len(args), strings.Join(args, " "))}
		}
		return nil
	}
}

func newRoot(g *globals, build Build) *cobra.Command {
	root := &cobra.Command{
		Use:   "suitecheck",
		Short: "Run a test suite against a fresh tenant, as a Nagios/Icinga check",
		Long: `suitecheck is a Nagios/Icinga-compatible check plugin. It creates a throwaway
tenant in the target environment, runs a named test suite against it,
deletes the tenant whatever happens, and reports one status line with
performance data, exiting 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          unknownCommand,
		// Runnable, so that cobra checks Args (an unknown command) before
		// it falls back to the help; a bare suitecheck is UNKNOWN.
		RunE: needCommand(g),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.version {
				return errVersion // Execute prints it: nothing runs
			}
			if cmd.Name() == "version" {
				return nil // nothing to check: the plugin options do not apply
			}
			return g.parse()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	f := root.PersistentFlags()
	f.StringVarP(&g.timeout, "timeout", "t", DefaultTimeout, "run budget in seconds, optionally with the state to report when it runs out: SECONDS[:STATE]")
	f.StringVarP(&g.warning, "warning", "w", "", "warning threshold range for the total time (e.g. 10, 1.5s, 500ms, ~:10, @5:10)")
	f.StringVarP(&g.critical, "critical", "c", "", "critical threshold range for the total time")
	f.CountVarP(&g.verbose, "verbose", "v", "diagnostics on stderr: -v the cases, the tenant and the sweep; -vv every step and request; -vvv the wire (all masked)")
	f.BoolVarP(&g.version, "version", "V", false, "print the version and exit 3 (UNKNOWN), as monitoring plugins do")
	f.IntVar(&g.maxOutput, "max-output", checks.DefaultMaxOutput, "cap the whole output at this many bytes: long output is trimmed, then per-case perfdata (passing cases first), then the summary; time, failed, tenant_*, swept and sweep never; 0 = no cap")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: flagError(err)} })
	// Help (--help, -h, suitecheck help CMD) goes to stdout, as the
	// monitoring-plugins print it, and exits 3: it is not a check.
	help := root.HelpFunc()
	root.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		g.out.Informational = true
		help(cmd, args)
	})
	root.PersistentFlags().BoolP("help", "h", false, "print this help and exit 3 (UNKNOWN), as monitoring plugins do")

	root.AddCommand(newVersion(g, build), newCheck(g), newRun(g, runRun), newValidate(), newList(), newDemo(g, runDemo), newTenant(g))
	return root
}

// errVersion stops a command line with -V before anything runs.
var errVersion = errors.New("-V: the version was asked for")

// Tree is suitecheck's command tree, for what is generated from it (man
// pages, shell completions), never for running: its commands are not
// wired to a run.
func Tree(build Build) *cobra.Command {
	return newRoot(&globals{stderr: io.Discard, out: &Outcome{}}, build)
}

// parse validates the shared plugin options.
func (g *globals) parse() error {
	var err error
	g.budget, g.timeoutState, err = checks.ParseTimeout(g.timeout)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("-t/--timeout: %w", err)}
	}
	if g.thresholds, err = checks.ParseThresholds(g.warning, g.critical, true); err != nil {
		return &UsageError{Err: fmt.Errorf("-w/-c: %w", err)}
	}
	if g.maxOutput < 0 {
		return &UsageError{Err: fmt.Errorf("--max-output %d: use a byte count, or 0 for no cap", g.maxOutput)}
	}
	if g.verbose > 3 {
		g.verbose = 3
	}
	return nil
}

// withBudget bounds ctx by the run budget.
func (g *globals) withBudget(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.budget)
}

// line is the version as -V and the version command print it.
func (b Build) line() string {
	return fmt.Sprintf("suitecheck %s (commit %s, %s)", b.Version, b.Commit, b.GoVersion)
}

// newVersion is `suitecheck version`: -V as a command, exiting 3 as -V does.
func newVersion(g *globals, build Build) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version (as -V/--version does), and exit 3",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.out.Informational = true
			_, err := fmt.Fprintln(cmd.OutOrStdout(), build.line())
			return err
		},
	}
}
