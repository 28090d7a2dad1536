// Package demo runs suitecheck's demo: a throwaway PostgreSQL cluster, the
// sample app on it, a fresh tenant, the demo suite against it, and
// everything cleaned up afterwards.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/lib/pq"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/pgcluster"
	"github.com/suitecheck/suitecheck/internal/sampleapp"
	"github.com/suitecheck/suitecheck/suites"
)

//go:embed demo.yaml
var config []byte

// Config is the demo's suite config, for --print-config.
func Config() []byte { return bytes.Clone(config) }

// Options configure a demo run.
type Options struct {
	Run  suites.RunOptions // the suite's run options (budget, browser…)
	Logf func(format string, args ...any)
	// Keep, when set, is called with the app's URL and admin token once the
	// suite has run; the app stays up until it returns.
	Keep func(url, adminToken string)
	// Break breaks the infrastructure under the app before the run: one of
	// BreakModes.
	Break string
}

// BreakModes are the ways --break can break the demo's infrastructure.
var BreakModes = map[string]string{
	"db-readonly":  "REVOKE INSERT on the files table from the app's role",
	"no-extension": "drop the uuid-ossp extension the app's ids come from",
	"bad-password": "change the app role's password and end its sessions",
	"db-down":      "stop PostgreSQL",
	"slow":         "a 3 s delay in the upload path, in the database (a trigger on files)",
	"app-down":     "stop the app's HTTP listener; its name (localhost) still resolves",
}

// breakIt applies a break mode.
func breakIt(ctx context.Context, mode string, c *pgcluster.Cluster, db, role string) error {
	q := pq.QuoteIdentifier(role)
	var sql string
	switch mode {
	case "":
		return nil
	case "db-readonly":
		sql = "REVOKE INSERT ON files FROM " + q
	case "no-extension":
		sql = `DROP EXTENSION "uuid-ossp" CASCADE`
	case "bad-password":
		sql = fmt.Sprintf("ALTER ROLE %s PASSWORD %s; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
			q, pq.QuoteLiteral(rand.Text()), pq.QuoteLiteral(role))
	case "db-down":
		return c.Stop()
	case "app-down":
		return nil // Run stops the app
	case "slow":
		sql = `CREATE FUNCTION suitecheck_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
			CREATE TRIGGER suitecheck_slow BEFORE INSERT ON files FOR EACH ROW EXECUTE FUNCTION suitecheck_slow()`
	default:
		return fmt.Errorf("--break %q: use one of %s", mode, strings.Join(breakNames(), ", "))
	}
	return c.Exec(ctx, db, sql)
}

func breakNames() []string {
	names := make([]string, 0, len(BreakModes))
	for n := range BreakModes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Run runs the demo. Errors setting up the demo (no PostgreSQL, say) are
// returned: they are UNKNOWN, not the app's failure.
func Run(ctx context.Context, o Options) (res checks.Result, err error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	cfg, err := suites.Parse("demo.yaml", config)
	if err != nil {
		return res, fmt.Errorf("demo config: %w", err)
	}

	logf("starting a throwaway PostgreSQL cluster")
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{})
	if err != nil {
		return res, fmt.Errorf("demo database: %w", err)
	}
	defer func() {
		if serr := cluster.Stop(); serr != nil && err == nil {
			err = fmt.Errorf("stop the demo database: %w", serr)
		}
	}()
	db, err := cluster.CreateDatabase(ctx, "sampleapp")
	if err != nil {
		return res, fmt.Errorf("demo database: %w", err)
	}
	role, pass, err := cluster.CreateRole(ctx, "sampleapp")
	if err != nil {
		return res, fmt.Errorf("demo database role: %w", err)
	}
	if err := sampleapp.Setup(ctx, cluster.SuperDSN(db), role); err != nil {
		return res, fmt.Errorf("demo schema: %w", err)
	}
	appDSN := cluster.DSN(role, pass, db)
	admin := rand.Text()
	url, stop, err := sampleapp.Serve(ctx, sampleapp.Options{DSN: appDSN, AdminToken: admin}, "")
	if err != nil {
		return res, fmt.Errorf("demo app: %w", err)
	}
	defer stop()
	logf("sample app at %s", url)
	if err := breakIt(ctx, o.Break, cluster, db, role); err != nil {
		return res, fmt.Errorf("demo --break %s: %w", o.Break, err)
	}
	if o.Break == "app-down" {
		// The app's port is closed behind a name that resolves: the layer
		// that breaks is TCP, not DNS.
		if err := stop(); err != nil {
			return res, fmt.Errorf("demo --break app-down: %w", err)
		}
		url = strings.Replace(url, "://127.0.0.1:", "://localhost:", 1)
	}

	// The demo's ledger lives and dies with its app: a leftover of a
	// killed demo belongs to an app that is gone.
	stateDir, err := os.MkdirTemp("", "suitecheck-demo-state-")
	if err != nil {
		return res, fmt.Errorf("demo state dir: %w", err)
	}
	defer os.RemoveAll(stateDir)
	ro := o.Run
	ro.Suite, ro.Env = "demo", "demo"
	ro.Vars = map[string]string{"app_url": url}
	ro.Secrets = map[string]string{"db_dsn": appDSN, "admin_token": admin}
	ro.Tenants.StateDir = stateDir
	res = suites.Run(ctx, cfg, ro)
	if o.Keep != nil {
		o.Keep(url, admin)
	}
	return res, nil
}
