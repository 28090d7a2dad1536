package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/suitecheck/suitecheck/checks/postgres"
)

func newCheck(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Fine-grained checks of the infrastructure an app relies on",
		Args:  unknownCommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return &UsageError{Err: errors.New("check: name what to check: postgres")}
		},
	}
	cmd.AddCommand(newCheckPostgres(g, runCheckPostgres(g)))
	return cmd
}

// newCheckPostgres is `suitecheck check postgres`. runF runs it
// (runCheckPostgres, or a test's).
func newCheckPostgres(g *globals, runF func(*cobra.Command, *postgres.Options) error) *cobra.Command {
	o := &postgres.Options{}
	cmd := &cobra.Command{
		Use:   "postgres",
		Short: "Walk the layers between an app and its PostgreSQL database and name the first that fails",
		Long: `Checks, in order, that the server is reachable (DNS + TCP), accepts
connections, authenticates the user, has the database, is a writable primary
(when anything writable is asked), has the required extensions, shows the
tables, and takes writes (in a transaction that is rolled back). The first
failing layer is CRITICAL and named; every layer is timed in perfdata.

Connection settings come from --dsn and the libpq environment variables
(PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGPASSFILE,
PGCONNECT_TIMEOUT, PGAPPNAME, PGSERVICE).`,
		Example: `  suitecheck check postgres --dsn 'host=db1 user=app dbname=appdb' --password-file /etc/suitecheck/app.pw \
    --extension uuid-ossp --table files --writable files -w 0.5s -c 2s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runF(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.DSN, "dsn", "", "libpq connection string or URL (key=value or postgres://…); the PG* environment variables fill in the rest")
	f.StringVar(&o.PasswordFile, "password-file", "", "read the password from this file's first line (keeps it out of the process list)")
	f.StringArrayVar(&o.Extensions, "extension", nil, "layer 6: this extension must be installed (repeatable)")
	f.StringArrayVar(&o.Tables, "table", nil, "layer 7: this table must be visible and readable (repeatable; schema.table allowed)")
	f.StringArrayVar(&o.Writable, "writable", nil, "layer 8: this table must have the INSERT privilege (repeatable); also enables layer 5")
	f.StringVar(&o.WriteProbe, "write-probe", "", "layer 8: SQL run in a transaction that is always rolled back; also enables layer 5")
	return cmd
}

// runCheckPostgres walks the layers within the budget and leaves the
// result for main.
func runCheckPostgres(g *globals) func(*cobra.Command, *postgres.Options) error {
	return func(cmd *cobra.Command, o *postgres.Options) error {
		ctx, cancel := g.withBudget(cmd.Context())
		defer cancel()
		o.Thresholds, o.TimeoutState, o.Budget = g.thresholds, g.timeoutState, g.budget
		g.logf(1, "check postgres: budget %s", g.budget)
		res := postgres.Check(ctx, *o)
		g.out.Result = &res
		return nil
	}
}
