// Package demo runs suitecheck's demo: a throwaway PostgreSQL cluster, the
// sample app on it, a fresh tenant, the demo suite against it, and
// everything cleaned up afterwards.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/pgtest"
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
}

// breakIt applies a break mode.
func breakIt(ctx context.Context, mode string, c *pgtest.Cluster, db, role string) error {
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
	cluster, err := pgtest.Start(ctx, pgtest.Options{})
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

	// A fresh tenant, deleted whatever happens, on a context of its own so
	// that a cancelled run still cleans up.
	t0 := time.Now()
	tenant, err := createTenant(ctx, url, admin, "sc-"+strings.ToLower(rand.Text()[:8]))
	if err != nil {
		// The app refused: CRITICAL, with the database diagnostic saying why.
		res = checks.Result{State: checks.Critical, Summary: "demo on demo: the app refused to create a tenant: " + err.Error()}
		diag := checks.CheckPostgres(ctx, demoLayers(appDSN))
		if diag.State != checks.OK {
			res.Summary += "; " + diag.Summary
		}
		res.Perfdata = append(res.Perfdata, checks.Duration("tenant_create", time.Since(t0), checks.Thresholds{}))
		res.Long = append(res.Long, "[CRITICAL] tenant creation: "+err.Error(), "diagnostic: "+diag.Summary)
		res.Long = append(res.Long, diag.Long...)
		return res, nil
	}
	createTime := time.Since(t0)
	logf("tenant %s created (id %s)", tenant.Name, tenant.ID)
	ro := o.Run
	ro.Suite, ro.Env = "demo", "demo"
	ro.Vars = map[string]string{"app_url": url}
	ro.Secrets = map[string]string{"db_dsn": appDSN}
	ro.Tenant = map[string]string{"id": tenant.ID, "name": tenant.Name, "login": tenant.Login, "password": tenant.Password}
	res = suites.Run(ctx, cfg, ro)

	if o.Keep != nil {
		o.Keep(url, admin)
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	t1 := time.Now()
	deleteErr := deleteTenant(dctx, url, admin, tenant.ID)
	deleteTime := time.Since(t1)

	res.Perfdata = append(res.Perfdata,
		checks.Duration("tenant_create", createTime, checks.Thresholds{}),
		checks.Duration("tenant_delete", deleteTime, checks.Thresholds{}))
	if deleteErr != nil {
		res.State = checks.Worst(res.State, checks.Warning)
		res.Long = append(res.Long, fmt.Sprintf("tenant %s (id %s) NOT deleted: %v", tenant.Name, tenant.ID, deleteErr))
	} else {
		res.Long = append(res.Long, fmt.Sprintf("tenant %s created (id %s) in %.2fs, deleted in %.2fs",
			tenant.Name, tenant.ID, createTime.Seconds(), deleteTime.Seconds()))
	}
	return res, nil
}

// demoLayers is the postgres diagnostic of the demo's database, as the
// demo suite's "database layers" case runs it.
func demoLayers(dsn string) checks.PostgresOptions {
	return checks.PostgresOptions{DSN: dsn, Extensions: []string{"uuid-ossp"}, Tables: []string{"tenants", "users", "messages", "files"},
		Writable: []string{"messages", "files"}, TimeoutState: checks.Critical}
}

type tenantInfo struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Login    string `json:"login"`
	Password string `json:"password"`
}

func adminRequest(ctx context.Context, method, url, token string, body any) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return http.DefaultClient.Do(req)
}

func createTenant(ctx context.Context, base, token, name string) (tenantInfo, error) {
	var t tenantInfo
	resp, err := adminRequest(ctx, http.MethodPost, base+"/api/tenants", token, map[string]string{"name": name})
	if err != nil {
		return t, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return t, fmt.Errorf("POST /api/tenants: status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&t); err != nil {
		return t, fmt.Errorf("POST /api/tenants: %w", err)
	}
	if t.ID == "" || t.Login == "" || t.Password == "" {
		return t, errors.New("POST /api/tenants: reply lacks id, login or password")
	}
	return t, nil
}

func deleteTenant(ctx context.Context, base, token, id string) error {
	resp, err := adminRequest(ctx, http.MethodDelete, base+"/api/tenants/"+id, token, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("DELETE /api/tenants/%s: status %d", id, resp.StatusCode)
	}
	return nil
}
