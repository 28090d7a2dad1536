package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/checks/httpcheck"
	"github.com/suitecheck/suitecheck/checks/postgres"
)

func newCheck(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Fine-grained checks of the infrastructure an app relies on",
		Args:  unknownCommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return &UsageError{Err: errors.New("check: name what to check: http or postgres")}
		},
	}
	cmd.AddCommand(newCheckHTTP(g, runCheckHTTP(g)), newCheckPostgres(g, runCheckPostgres(g)))
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
	return runLayered(g, "postgres", func(o *postgres.Options) (*checks.Thresholds, *checks.State, *time.Duration) {
		return &o.Thresholds, &o.TimeoutState, &o.Budget
	}, postgres.Check)
}

// runLayered runs a layered check (postgres, http) with the plugin's
// thresholds, timeout state and budget, within the budget, and leaves its
// result for main.
func runLayered[O any](g *globals, name string, plugin func(*O) (*checks.Thresholds, *checks.State, *time.Duration), check func(context.Context, O) checks.Result) func(*cobra.Command, *O) error {
	return func(cmd *cobra.Command, o *O) error {
		ctx, cancel := g.withBudget(cmd.Context())
		defer cancel()
		th, st, budget := plugin(o)
		*th, *st, *budget = g.thresholds, g.timeoutState, g.budget
		g.logf(1, "check %s: budget %s", name, g.budget)
		res := check(ctx, *o)
		g.out.Result = &res
		return nil
	}
}

// sniAsHost is what a bare --sni gives: the server name is -H's, as
// check_http's --sni (a switch there) sends it.
const sniAsHost = "-H"

// newCheckHTTP is `suitecheck check http`. runF runs it (runCheckHTTP, or
// a test's).
func newCheckHTTP(g *globals, runF func(*cobra.Command, *httpcheck.Options) error) *cobra.Command {
	o := &httpcheck.Options{}
	cmd := &cobra.Command{
		Use:   "http",
		Short: "Walk the layers in front of an app, from its name to its page, and name the first that fails",
		Long: `Checks, in order, that the name resolves, TCP connects, the TLS handshake
succeeds with a certificate valid for the name (https only; days to expiry
against --cert-warning and --cert-critical), HTTP answers with an expected
status, and the body (read up to 1 MiB) contains -s and matches -r. The first
failing layer is CRITICAL and named; every layer is timed in perfdata, with
the size and the certificate's days.

Give the target as --url, or in check_http's parts: -H (the virtual host:
Host header, TLS server name, the certificate's name), -I (connect to this
address instead of resolving -H), -p, -u and -S.`,
		Example: `  suitecheck check http --url https://app.example.com/health -s '"status":"ok"' -w 1s -c 5s
  suitecheck check http -H app.example.com -I 10.0.0.5 -S -u /login -e 200 --cert-warning 30
  suitecheck check http --url http://app.example.com/ -f follow -r 'build [0-9]+'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && o.SNI == sniAsHost {
				return &UsageError{Err: fmt.Errorf("%s: %q after --sni: give the name as --sni=NAME (a bare --sni sends -H's name)", cmd.CommandPath(), args[0])}
			}
			return noArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.SNI == sniAsHost {
				o.SNI = ""
			}
			return runF(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "the whole target, http:// or https:// (or give -H, -I, -p, -u, -S)")
	f.StringVarP(&o.Host, "hostname", "H", "", "the virtual host: Host header, TLS server name, the name the certificate must carry (host or host:port)")
	f.StringVarP(&o.Address, "IP-address", "I", "", "connect to this address (or name) instead of resolving -H; -H stays the Host header and TLS name")
	f.IntVarP(&o.Port, "port", "p", 0, "the port (default 80, 443 with -S)")
	f.StringVarP(&o.Path, "uri", "u", "", "the path and query to request (default /)")
	f.BoolVarP(&o.TLS, "ssl", "S", false, "connect with TLS (https)")
	f.StringVar(&o.SNI, "sni", "", "the TLS server name (and the certificate's name) when not -H's: --sni=NAME")
	f.Lookup("sni").NoOptDefVal = sniAsHost
	f.StringVarP(&o.Method, "method", "j", "", "the request method (default GET; HEAD reads no body)")
	f.StringVarP(&o.Expect, "expect", "e", "", "expected status codes, ranges and classes (default "+httpcheck.DefaultExpect+"): 200,301-302,2xx")
	f.StringVarP(&o.String, "string", "s", "", "the body must contain this text")
	f.StringVarP(&o.Regex, "regex", "r", "", "the body must match this regular expression (RE2 syntax)")
	f.StringVarP(&o.OnRedirect, "onredirect", "f", "", "a 3xx answer: ok (judged by -e, not followed; the default), follow, warning or critical")
	f.IntVar(&o.MaxRedirects, "max-redirs", httpcheck.DefaultMaxRedirects, "with -f follow, the most redirects followed")
	f.IntVar(&o.CertWarning, "cert-warning", httpcheck.DefaultCertWarning, "WARNING when the certificate expires within this many days (0: never)")
	f.IntVar(&o.CertCritical, "cert-critical", httpcheck.DefaultCertCritical, "CRITICAL when the certificate expires within this many days (0: only once expired)")
	f.StringVar(&o.CAFile, "ca-file", "", "PEM file of CA certificates to trust besides the system's (a private CA, or a self-signed certificate itself)")
	return cmd
}

// runCheckHTTP walks the layers within the budget and leaves the result
// for main.
func runCheckHTTP(g *globals) func(*cobra.Command, *httpcheck.Options) error {
	return runLayered(g, "http", func(o *httpcheck.Options) (*checks.Thresholds, *checks.State, *time.Duration) {
		return &o.Thresholds, &o.TimeoutState, &o.Budget
	}, httpcheck.Check)
}
