package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/statedir"
	"github.com/suitecheck/suitecheck/suites"
	"github.com/suitecheck/suitecheck/tenant"
)

// stateDirHelp ends --state-dir's help: the rule it is held to, its default.
const stateDirHelp = "it must be yours (or root's) and not group/world-writable (default " + statedir.System +
	" when you can write it, else $XDG_STATE_HOME/suitecheck or ~/.local/state/suitecheck)"

// tenantFlags are the ledger options of run and the tenant commands.
func tenantFlags(f *pflag.FlagSet, o *suites.TenantOptions) {
	f.StringVar(&o.StateDir, "state-dir", "", "where the tenant ledger (and, by default, artifacts) live; "+stateDirHelp)
	f.DurationVar(&o.TeardownTimeout, "teardown-timeout", suites.DefaultTeardownTimeout, "time kept from the budget for deleting the tenant, and the delete's own bound")
	ledgerFlags(f, o)
}

// LedgerDSNEnv is the environment variable --ledger-dsn defaults to.
const LedgerDSNEnv = "SUITECHECK_LEDGER_DSN"

// ledgerFlags choose the PostgreSQL ledger.
func ledgerFlags(f *pflag.FlagSet, o *suites.TenantOptions) {
	f.StringVar(&o.LedgerDSN, "ledger-dsn", "", "keep the tenant ledger in this PostgreSQL database (a libpq URL or key=value string, over the PG* variables) instead of the state dir, shared by every node that runs the check (default $"+LedgerDSNEnv+", else the config's tenant.ledger.dsn)")
	f.StringVar(&o.LedgerPasswordFile, "ledger-password-file", "", "read the ledger's password from this file's first line (keeps it out of the process list)")
}

// resolveLedger applies $SUITECHECK_LEDGER_DSN when --ledger-dsn is not
// given: the flag wins over the environment, which wins over the config.
func resolveLedger(o *suites.TenantOptions) {
	if o.LedgerDSN == "" {
		o.LedgerDSN = os.Getenv(LedgerDSNEnv)
	}
}

// tenantCmd holds what the tenant subcommands share.
type tenantCmd struct {
	g      *globals
	cf     configFlag
	env    string
	o      suites.TenantOptions
	target targetFlags
}

func (t *tenantCmd) register(cmd *cobra.Command) {
	t.cf.register(cmd)
	cmd.Flags().StringVar(&t.env, "env", "", "the environment (may be left out when the config has only one)")
	cmd.Flags().StringVar(&t.o.StateDir, "state-dir", "", "where the tenant ledger lives; "+stateDirHelp)
	cmd.Flags().DurationVar(&t.o.TeardownTimeout, "teardown-timeout", suites.DefaultTeardownTimeout, "the bound of each confirmation and delete (sweep, delete)")
	ledgerFlags(cmd.Flags(), &t.o)
	t.target.register(cmd.Flags())
}

// with runs fn with the environment's tenant manager, within the budget
// (the config is read within it too).
func (t *tenantCmd) with(cmd *cobra.Command, fn func(ctx context.Context, m *suites.TenantTool) error) error {
	if err := checkTeardownTimeout(t.o.TeardownTimeout); err != nil {
		return err
	}
	var err error
	if t.o.Target, err = t.target.resolve(); err != nil {
		return err
	}
	resolveLedger(&t.o)
	ctx, cancel := t.g.withBudget(cmd.Context())
	defer cancel()
	cfg, err := t.cf.loadWithin(ctx)
	if err != nil {
		return err
	}
	m, err := suites.Tenants(cfg, t.env, t.o)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(ctx, m)
}

// masked is err with the environment's secrets masked.
func masked(m *suites.TenantTool, err error) error {
	if err == nil {
		return nil
	}
	return maskedError{err, m.Mask(err.Error())}
}

type maskedError struct {
	err error
	msg string
}

func (e maskedError) Error() string { return e.msg }
func (e maskedError) Unwrap() error { return e.err }

func newTenant(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Sweep, create, delete and list tenants by hand",
		Long: `The tenant commands use the config's tenant provisioner and the ledger.
"tenant sweep" is a check too: run it from cron or as a service check to
catch leaked tenants.`,
		Args: unknownCommand,
		RunE: needCommand(g),
	}
	cmd.AddCommand(newTenantSweep(g, runTenantSweep), newTenantCreate(g, runTenantCreate),
		newTenantDelete(g, runTenantDelete), newTenantList(g, runTenantList))
	return cmd
}

// tenantSweepOptions are `suitecheck tenant sweep`'s options.
type tenantSweepOptions struct {
	tenantCmd
	olderThan time.Duration
}

// newTenantSweep is `suitecheck tenant sweep`. runF runs it
// (runTenantSweep, or a test's).
func newTenantSweep(g *globals, runF func(*cobra.Command, *tenantSweepOptions) error) *cobra.Command {
	o := &tenantSweepOptions{tenantCmd: tenantCmd{g: g}}
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Delete the tenants of killed runs (and, with a list request, old prefixed strays)",
		Long: `Deletes the tenants that the ledger holds for runs that are no longer alive
(their lock is free), as every run does when it starts. With --older-than
and a list request in the config, also deletes the tenants the app lists
that have our names' shape, that the ledger does not know, and that were
created longer ago than that; and ledger entries of other hosts older than
that (a PostgreSQL ledger, --ledger-dsn, judges every host's runs by their
lock: no age is needed). Prints a check result: WARNING when a tenant could
not be deleted.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.olderThan < 0 {
				return &UsageError{Err: fmt.Errorf("--older-than %s: give a duration of 0 or more", o.olderThan)}
			}
			return runF(cmd, o)
		},
	}
	o.register(cmd)
	cmd.Flags().DurationVar(&o.olderThan, "older-than", 0, "also delete unknown tenants of our names' shape the app lists that are older than this (e.g. 1h); 0: only the ledger's dead runs")
	return cmd
}

// runTenantSweep sweeps and leaves the sweep's check result for main.
func runTenantSweep(cmd *cobra.Command, o *tenantSweepOptions) error {
	return o.with(cmd, func(ctx context.Context, m *suites.TenantTool) error {
		host, _ := os.Hostname()
		rep, err := m.Sweep(ctx, tenant.SweepOptions{OlderThan: o.olderThan, Host: host, DeleteTimeout: m.TeardownTimeout})
		res := sweepResult(rep, err, o.g.thresholds)
		res.Summary, res.Long = m.Mask(res.Summary), maskAll(m, res.Long)
		o.g.out.Result = &res
		return nil
	})
}

// sweepResult is the check result of a sweep.
// The sweep's time is judged against -w/-c, as any check's.
func sweepResult(rep tenant.SweepReport, err error, th checks.Thresholds) checks.Result {
	res := checks.Result{State: th.Evaluate(rep.Took.Seconds())}
	res.Summary = fmt.Sprintf("tenant sweep: %d tenant(s) deleted", len(rep.Deleted))
	if len(rep.Deleted) > 0 {
		res.Summary += ": " + strings.Join(rep.Deleted, ", ")
	}
	var problems []string
	for _, f := range rep.Failed {
		problems = append(problems, "not deleted: "+f)
	}
	for _, f := range rep.Refused {
		problems = append(problems, "refused: "+f)
	}
	if rep.Left > 0 {
		problems = append(problems, fmt.Sprintf("%d ledger entr(ies) not reached before the time ran out: kept for the next sweep", rep.Left))
	}
	for _, p := range rep.Corrupt {
		problems = append(problems, p.Error())
		if p.Moved {
			problems[len(problems)-1] += ": moved aside"
		}
	}
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		res.State = checks.Worst(res.State, checks.Warning)
		res.Summary += "; " + strings.Join(problems, "; ")
	}
	for _, d := range rep.Deleted {
		res.Long = append(res.Long, "deleted "+d)
	}
	for _, g := range rep.Gone {
		res.Long = append(res.Long, "forgot "+g+": the app no longer has it")
	}
	if rep.Others > 0 {
		res.Long = append(res.Long, fmt.Sprintf("%d dead ledger entr(ies) of other configs, environments or hosts left alone (sweep them with their --config, --env and -H/--base-url)", rep.Others))
	}
	for _, s := range rep.Skipped {
		res.Long = append(res.Long, "skipped "+s)
	}
	res.Perfdata = []checks.Perfdata{
		checks.Duration("time", rep.Took, th),
		{Label: "swept", Value: float64(len(rep.Deleted)), Min: checks.Float(0)},
		{Label: "failed", Value: float64(len(rep.Failed)), Min: checks.Float(0)},
	}
	return res
}

// newTenantCreate is `suitecheck tenant create`. runF runs it
// (runTenantCreate, or a test's).
func newTenantCreate(g *globals, runF func(*cobra.Command, *tenantCmd) error) *cobra.Command {
	o := &tenantCmd{g: g}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a tenant and print its fields as JSON (password included); it is yours to delete",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runF(cmd, o) },
	}
	o.register(cmd)
	return cmd
}

// runTenantCreate creates a tenant and prints it.
func runTenantCreate(cmd *cobra.Command, t *tenantCmd) error {
	g := t.g
	return t.with(cmd, func(ctx context.Context, m *suites.TenantTool) error {
		sess, err := m.Create(ctx)
		if err != nil {
			if sess != nil {
				// In doubt: delete it if the app made it after all.
				if derr := sess.Delete(ctx); derr != nil && !errors.Is(derr, tenant.ErrNotListed) {
					err = fmt.Errorf("%w; and %v", err, derr)
				}
			}
			return masked(m, err)
		}
		// Not a run's tenant: the ledger forgets it, so no sweep takes
		// it from under the person who asked for it.
		if err := sess.Disown(ctx); err != nil {
			return err
		}
		b, err := json.MarshalIndent(sess.Tenant.Fields, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "suitecheck: tenant %s created; delete it with: suitecheck tenant delete %s\n", sess.Tenant.Name, sess.Tenant.ID)
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
		return err
	})
}

// tenantDeleteOptions are `suitecheck tenant delete`'s options.
type tenantDeleteOptions struct {
	tenantCmd
	id string // or the name of a dead run's ledger entry
}

// newTenantDelete is `suitecheck tenant delete ID`. runF runs it
// (runTenantDelete, or a test's).
func newTenantDelete(g *globals, runF func(*cobra.Command, *tenantDeleteOptions) error) *cobra.Command {
	o := &tenantDeleteOptions{tenantCmd: tenantCmd{g: g}}
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a tenant by id (its ledger entry, if any, goes too), once the app confirms it is ours",
		Args:  oneArg("the tenant's id (or the name of a dead run's ledger entry)", "suitecheck tenant delete 812"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.id = args[0]
			return runF(cmd, o)
		},
	}
	o.register(cmd)
	return cmd
}

// runTenantDelete deletes the tenant.
func runTenantDelete(cmd *cobra.Command, o *tenantDeleteOptions) error {
	return o.with(cmd, func(ctx context.Context, m *suites.TenantTool) error {
		ctx, cancel := context.WithTimeout(ctx, m.TeardownTimeout)
		defer cancel()
		if err := m.DeleteByID(ctx, o.id); err != nil {
			return masked(m, err)
		}
		_, err := fmt.Fprintf(cmd.OutOrStdout(), "deleted tenant %s\n", o.id)
		return err
	})
}

// newTenantList is `suitecheck tenant list`. runF runs it
// (runTenantList, or a test's).
func newTenantList(g *globals, runF func(*cobra.Command, *tenantCmd) error) *cobra.Command {
	o := &tenantCmd{g: g}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the ledger's tenants and, with a list request, the app's tenants of our names' shape",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runF(cmd, o) },
	}
	o.register(cmd)
	return cmd
}

// runTenantList prints the ledger and the app's tenants of our shape.
func runTenantList(cmd *cobra.Command, t *tenantCmd) error {
	return t.with(cmd, func(ctx context.Context, m *suites.TenantTool) error {
		inv, err := m.Inventory(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "ledger %s\n", m.Ledger)
		fmt.Fprintln(w, "NAME\tID\tRUN\tSTARTED\tHOST\tPID\tSTATE\tSCOPE")
		for _, e := range inv.Ledger {
			state := "dead: swept once the app confirms it is ours"
			if e.Alive {
				state = "running"
			}
			if e.Scope != m.Scope {
				state += " (other config)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Name, cmp.Or(e.ID, "-"), e.Run, e.Started.Format(time.RFC3339), e.Host, e.PID, state, e.Scope)
		}
		for _, p := range inv.Problems {
			fmt.Fprintf(w, "unreadable: %s\n", p)
		}
		switch {
		case errors.Is(inv.AppErr, tenant.ErrNoList):
			fmt.Fprintln(w, "\nthe app: no list request configured")
		case inv.AppErr != nil:
			w.Flush()
			return masked(m, fmt.Errorf("list the app's tenants: %w", inv.AppErr))
		default:
			fmt.Fprintln(w, "\nthe app's tenants of our names' shape (prefix "+m.Prefix+")")
			fmt.Fprintln(w, "NAME\tID\tCREATED\tIN LEDGER")
			for _, f := range inv.App {
				created := "-"
				if !f.Created.IsZero() {
					created = f.Created.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", f.Name, f.ID, created, map[bool]string{true: "yes", false: "no"}[f.InLedger])
			}
		}
		return w.Flush()
	})
}

func maskAll(m *suites.TenantTool, lines []string) []string {
	for i := range lines {
		lines[i] = m.Mask(lines[i])
	}
	return lines
}
