package suites

// From the tenant config to a tenant.Manager: the provisioners whose
// requests are rendered at each call, the ledger, and the TenantTool of the
// `tenant` commands.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/suitecheck/suitecheck/internal/httpstep"
	"github.com/suitecheck/suitecheck/internal/pgconn"
	"github.com/suitecheck/suitecheck/internal/proc"
	"github.com/suitecheck/suitecheck/internal/statedir"
	"github.com/suitecheck/suitecheck/tenant"
)

// TenantOptions locate the ledger and bound the teardown.
type TenantOptions struct {
	StateDir string // --state-dir; empty: statedir.Default
	// LedgerDSN, when set (--ledger-dsn, else $SUITECHECK_LEDGER_DSN),
	// keeps the ledger in PostgreSQL instead of the state dir, over the
	// config's tenant.ledger.dsn; LedgerPasswordFile holds its password.
	LedgerDSN          string
	LedgerPasswordFile string
	TeardownTimeout    time.Duration // --teardown-timeout: the delete's own bound, and the slice of the budget kept for it
	// Target, for the tenant commands: the host and vars from the command
	// line (a run has its own, RunOptions.Target).
	Target Target
}

// DefaultTeardownTimeout is --teardown-timeout's default.
const DefaultTeardownTimeout = 10 * time.Second

// TenantTool is a config environment's tenant manager, for the `tenant`
// commands.
type TenantTool struct {
	*tenant.Manager
	Mask            func(string) string // masks the environment's secrets
	Close           func()              // frees the provisioner's connections
	TeardownTimeout time.Duration       // bounds each delete

	env *runEnv
	cfg *TenantConfig
}

// Tenants returns the tenant manager of a config's environment.
func Tenants(cfg *Config, envName string, o TenantOptions) (*TenantTool, error) {
	envName, env, err := cfg.Environment(envName)
	if err != nil {
		return nil, err
	}
	if !cfg.Tenant.provisioned() {
		return nil, fmt.Errorf("%s: no tenant provisioner: add a tenant section with http, sql or command", cfg.path)
	}
	// The run's environment alone: no cases, no browser.
	r := &runEnv{mask: &Masker{}, cfgPath: cfg.path}
	if err := r.setup(envName, env, nil, RunOptions{Target: o.Target}); err != nil {
		return nil, err
	}
	m, err := r.manager(cfg, envName, o)
	if err != nil {
		r.close()
		return nil, err
	}
	return &TenantTool{Manager: m, Mask: r.mask.Mask, Close: r.close, TeardownTimeout: cmp.Or(o.TeardownTimeout, DefaultTeardownTimeout),
		env: r, cfg: cfg.Tenant}, nil
}

// Create makes the tenant's generated fields, then creates it (see
// tenant.Manager.Create); the session's tenant holds them, as secrets.
func (tt *TenantTool) Create(ctx context.Context) (*tenant.Session, error) {
	if err := tt.env.generate(tt.cfg); err != nil {
		return nil, err
	}
	s, err := tt.Manager.Create(ctx)
	if s != nil && err == nil {
		tt.env.withGenerated(&s.Tenant)
	}
	return s, err
}

// manager builds the run's tenant manager.
func (r *runEnv) manager(cfg *Config, envName string, o TenantOptions) (*tenant.Manager, error) {
	tc := cfg.Tenant
	ledger, err := r.ledger(tc, o)
	if err != nil {
		return nil, err
	}
	r.ext = append(r.ext, ledger)
	prov, err := r.provisioner(tc)
	if err != nil {
		return nil, err
	}
	path, err := filepath.Abs(cfg.path)
	if err != nil {
		path = cfg.path
	}
	scope := path + "#" + envName
	if r.targeted {
		// One config, many hosts: each host's tenants are its own, or a
		// sweep against one host would judge (and forget) another's.
		scope += "@" + r.scope.BaseURL
	}
	m := &tenant.Manager{Prov: prov, Ledger: ledger, Scope: scope, Prefix: tc.prefix(),
		DeleteChecksName: tc.DeleteChecksName, DeleteNeeds: tc.deleteNeeds(), Secret: r.mask.Contains}
	if tc.Name != "" {
		m.Name = func(random string) (string, error) {
			return r.withTenant(map[string]string{"prefix": tc.prefix(), "random": random}).Render(tc.Name)
		}
	}
	shape, err := r.nameShape(tc)
	if err != nil {
		return nil, &tenant.ConfigError{Err: fmt.Errorf("tenant name: %w", err)}
	}
	m.Shape = shape
	return m, nil
}

// ledger opens the run's ledger: in PostgreSQL when a DSN is given (the
// flag or $SUITECHECK_LEDGER_DSN, else the config's tenant.ledger.dsn),
// else in the state dir.
func (r *runEnv) ledger(tc *TenantConfig, o TenantOptions) (tenant.Ledger, error) {
	dsn, pwFile := o.LedgerDSN, o.LedgerPasswordFile
	if dsn == "" && tc.Ledger != nil && tc.Ledger.DSN != "" {
		var err error
		if dsn, err = r.scope.Render(tc.Ledger.DSN); err != nil {
			return nil, &tenant.ConfigError{Err: fmt.Errorf("tenant ledger dsn: %w", err)}
		}
		if pwFile == "" {
			pwFile = tc.Ledger.PasswordFile
		}
	}
	if dsn != "" {
		l, err := tenant.OpenPGLedger(tenant.PGOptions{DSN: dsn, PasswordFile: pwFile})
		if err != nil {
			return nil, &tenant.ConfigError{Err: err}
		}
		r.mask.Add(l.Secrets()...)
		return l, nil
	}
	if pwFile != "" {
		return nil, &tenant.ConfigError{Err: errors.New("--ledger-password-file without a ledger DSN: give --ledger-dsn (or $SUITECHECK_LEDGER_DSN, or tenant.ledger.dsn)")}
	}
	dir := o.StateDir
	if dir == "" {
		var err error
		if dir, err = statedir.Default(); err != nil {
			return nil, err
		}
	}
	return tenant.OpenLedger(dir)
}

// nameShape is the pattern of every name the config makes: the name
// template (default prefix + random) with its random part as 10 letters
// or digits.
func (r *runEnv) nameShape(tc *TenantConfig) (*regexp.Regexp, error) {
	const marker = "\x00random\x00"
	name := regexp.QuoteMeta(tc.prefix()) + marker
	if tc.Name != "" {
		var err error
		if name, err = r.withTenant(map[string]string{"prefix": tc.prefix(), "random": marker}).Render(tc.Name); err != nil {
			return nil, err
		}
		name = regexp.QuoteMeta(name)
	}
	return regexp.Compile("^" + strings.ReplaceAll(name, marker, "[a-z0-9]{10}") + "$")
}

// withTenant is the run's scope with these tenant fields.
func (r *runEnv) withTenant(fields map[string]string) *Scope {
	sc := *r.scope
	sc.Tenant = fields
	return &sc
}

// nameFields are what create's templates see.
func (r *runEnv) nameFields(tc *TenantConfig, name string) map[string]string {
	fields := map[string]string{"name": name, "prefix": tc.prefix()}
	for k, v := range r.generated {
		fields[k] = v
	}
	return fields
}

// stepFields are what a create step after the first sees: the name, the
// generated fields, and what the steps before it returned.
func (r *runEnv) stepFields(tc *TenantConfig, t tenant.Tenant) map[string]string {
	fields := r.nameFields(tc, t.Name)
	for k, v := range t.Fields {
		fields[k] = v
	}
	return fields
}

// generate makes the tenant's generated fields for the create to come:
// secrets from the start.
func (r *runEnv) generate(tc *TenantConfig) error {
	gen, err := tc.generate()
	if err != nil {
		return &tenant.ConfigError{Err: err}
	}
	r.generated = gen
	for _, v := range gen {
		r.mask.Add(v)
	}
	return nil
}

// withGenerated adds the generated fields to a created tenant, as secrets
// (the ledger never keeps them).
func (r *runEnv) withGenerated(t *tenant.Tenant) {
	for k, v := range r.generated {
		if _, ok := t.Fields[k]; !ok {
			t.Fields[k] = v
		}
		if !slices.Contains(t.Secret, k) {
			t.Secret = append(t.Secret, k)
		}
	}
}

// provisioner turns the config into a tenant.Provisioner whose requests
// are rendered at each call.
func (r *runEnv) provisioner(tc *TenantConfig) (tenant.Provisioner, error) {
	switch {
	case tc.HTTP != nil:
		return r.httpProvisioner(tc)
	case tc.SQL != nil:
		dsn, err := r.scope.Render(tc.SQL.DSN)
		if err != nil {
			return nil, fmt.Errorf("tenant sql dsn: %w", err)
		}
		if cfg, err := pgconn.Config(dsn); err == nil {
			r.mask.Add(cfg.Password)
		}
		p := &tenant.SQL{DSN: dsn, SecretField: tc.secretField}
		stmt := func(what string, s *SQLStatement, fields map[string]string) (tenant.Statement, error) {
			sc := r.withTenant(fields)
			args := make([]string, len(s.Args))
			for i, a := range s.Args {
				v, err := sc.Render(a)
				if err != nil {
					return tenant.Statement{}, fmt.Errorf("tenant sql %s arg %d: %w", what, i+1, err)
				}
				args[i] = v
			}
			return tenant.Statement{Query: s.Query, Args: args}, nil
		}
		if len(tc.SQL.Create) == 1 {
			p.CreateStmt = func(name string) (tenant.Statement, error) {
				return stmt("create", tc.SQL.Create[0], r.nameFields(tc, name))
			}
		} else {
			for i, st := range tc.SQL.Create {
				what := fmt.Sprintf("create statement %d", i+1)
				p.CreateStmts = append(p.CreateStmts, func(t tenant.Tenant) (tenant.Statement, error) {
					return stmt(what, st, r.stepFields(tc, t))
				})
			}
		}
		if len(tc.SQL.Delete) == 1 {
			p.DeleteStmt = func(t tenant.Tenant) (tenant.Statement, error) { return stmt("delete", tc.SQL.Delete[0], t.Fields) }
		} else {
			for i, st := range tc.SQL.Delete {
				what := fmt.Sprintf("delete statement %d", i+1)
				p.DeleteStmts = append(p.DeleteStmts, func(t tenant.Tenant) (tenant.Statement, error) { return stmt(what, st, t.Fields) })
			}
		}
		if tc.SQL.List != nil {
			p.ListStmt = func() (tenant.Statement, error) { return stmt("list", tc.SQL.List, nil) }
		}
		if tc.SQL.Get != nil {
			p.GetStmt = func(t tenant.Tenant) (tenant.Statement, error) { return stmt("get", tc.SQL.Get, t.Fields) }
		}
		for f, st := range tc.SQL.Confirm {
			if p.ConfirmStmts == nil {
				p.ConfirmStmts = map[string]func(tenant.Tenant) (tenant.Statement, error){}
			}
			p.ConfirmStmts[f] = func(t tenant.Tenant) (tenant.Statement, error) { return stmt("confirm "+f, st, t.Fields) }
		}
		r.ext = append(r.ext, p)
		return p, nil
	}
	c := tc.Command
	build := func(what string, argv []string, fields map[string]string) (proc.Cmd, error) {
		sc := r.withTenant(fields)
		cmd := proc.Cmd{Argv: make([]string, len(argv))}
		for i, a := range argv {
			v, err := sc.Render(a)
			if err != nil {
				return cmd, fmt.Errorf("tenant command %s: %w", what, err)
			}
			cmd.Argv[i] = v
		}
		dir, err := sc.Render(c.Dir)
		if err != nil {
			return cmd, fmt.Errorf("tenant command dir: %w", err)
		}
		cmd.Dir = dir
		cmd.Env = r.baseCommandEnv()
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			cmd.Env = append(cmd.Env, "SUITECHECK_TENANT_"+envName(k)+"="+fields[k])
		}
		for _, k := range slices.Sorted(maps.Keys(c.Env)) {
			v, err := sc.Render(c.Env[k])
			if err != nil {
				return cmd, fmt.Errorf("tenant command env %s: %w", k, err)
			}
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return cmd, nil
	}
	p := &tenant.Command{SecretField: tc.secretField}
	if len(c.Create) == 1 {
		p.CreateCmd = func(name string) (proc.Cmd, error) { return build("create", c.Create[0], r.nameFields(tc, name)) }
	} else {
		for i, argv := range c.Create {
			what := fmt.Sprintf("create step %d", i+1)
			p.CreateCmds = append(p.CreateCmds, func(t tenant.Tenant) (proc.Cmd, error) { return build(what, argv, r.stepFields(tc, t)) })
		}
	}
	if len(c.Delete) == 1 {
		p.DeleteCmd = func(t tenant.Tenant) (proc.Cmd, error) { return build("delete", c.Delete[0], t.Fields) }
	} else {
		for i, argv := range c.Delete {
			what := fmt.Sprintf("delete step %d", i+1)
			p.DeleteCmds = append(p.DeleteCmds, func(t tenant.Tenant) (proc.Cmd, error) { return build(what, argv, t.Fields) })
		}
	}
	if len(c.List) > 0 {
		p.ListCmd = func() (proc.Cmd, error) { return build("list", c.List, nil) }
	}
	if len(c.Get) > 0 {
		p.GetCmd = func(t tenant.Tenant) (proc.Cmd, error) { return build("get", c.Get, t.Fields) }
	}
	for f, argv := range c.Confirm {
		if p.ConfirmCmds == nil {
			p.ConfirmCmds = map[string]func(tenant.Tenant) (proc.Cmd, error){}
		}
		p.ConfirmCmds[f] = func(t tenant.Tenant) (proc.Cmd, error) { return build("confirm "+f, argv, t.Fields) }
	}
	return p, nil
}

// envName is a field's name as an environment variable: FIELD, with
// anything but letters and digits as _.
func envName(field string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, field)
}

func (r *runEnv) httpProvisioner(tc *TenantConfig) (*tenant.HTTP, error) {
	// A client of its own: the admin API's cookies stay out of the
	// suite's http steps.
	trace, level := r.httpTrace()
	client, err := httpstep.NewClient(r.httpOptions(trace, level))
	if err != nil {
		return nil, &tenant.ConfigError{Err: err}
	}
	r.ext = append(r.ext, closerFunc(func() error { client.Close(); return nil }))
	step := func(what string, n *yaml.Node, fields map[string]string) (httpstep.Step, error) {
		var s httpstep.Step
		body, err := r.withTenant(fields).renderNode(n)
		if err != nil {
			return s, fmt.Errorf("tenant http %s: %w", what, err)
		}
		if err := decodeStrict(&StepConfig{Kind: "tenant http " + what, Line: n.Line}, body, &s); err != nil {
			return s, err
		}
		r.mask.Add(s.Secrets()...)
		client.AddSecrets(r.mask.Secrets()...)
		return s, nil
	}
	h := tc.HTTP
	p := &tenant.HTTP{Client: client, SecretField: tc.secretField}
	if h.Create.Kind != yaml.SequenceNode {
		p.CreateReq = func(name string) (httpstep.Step, error) { return step("create", &h.Create, r.nameFields(tc, name)) }
	} else {
		for i, n := range h.Create.Content {
			what := fmt.Sprintf("create step %d", i+1)
			p.CreateSteps = append(p.CreateSteps, func(t tenant.Tenant) (httpstep.Step, error) { return step(what, n, r.stepFields(tc, t)) })
		}
	}
	if h.Delete.Kind != yaml.SequenceNode {
		p.DeleteReq = func(t tenant.Tenant) (httpstep.Step, error) { return step("delete", &h.Delete, t.Fields) }
	} else {
		for i, n := range h.Delete.Content {
			what := fmt.Sprintf("delete step %d", i+1)
			p.DeleteSteps = append(p.DeleteSteps, func(t tenant.Tenant) (httpstep.Step, error) { return step(what, n, t.Fields) })
		}
	}
	for f, g := range h.Confirm {
		if p.Confirm == nil {
			p.Confirm = map[string]tenant.HTTPGet{}
		}
		p.Confirm[f] = tenant.HTTPGet{Name: cmp.Or(g.Name, "$.name"), Req: func(t tenant.Tenant) (httpstep.Step, error) {
			s, err := step("confirm "+f, &g.Request, t.Fields)
			if err == nil && s.Expect.MaxBodyBytes == 0 {
				s.Expect.MaxBodyBytes = 1 << 20
			}
			return s, err
		}}
	}
	if h.List != nil {
		l := h.List
		p.ListReq = func() (httpstep.Step, error) {
			s, err := step("list", &l.Request, nil)
			if err == nil && s.Expect.MaxBodyBytes == 0 {
				s.Expect.MaxBodyBytes = 16 << 20
			}
			return s, err
		}
		p.Items, p.NameAt, p.IDAt, p.CreatedAt = cmp.Or(l.Items, "$[*]"), cmp.Or(l.Name, "$.name"), cmp.Or(l.ID, "$.id"), cmp.Or(l.Created, "$.created_at")
	}
	if h.Get != nil {
		g := h.Get
		p.GetReq = func(t tenant.Tenant) (httpstep.Step, error) {
			s, err := step("get", &g.Request, t.Fields)
			if err == nil && s.Expect.MaxBodyBytes == 0 {
				s.Expect.MaxBodyBytes = 1 << 20
			}
			return s, err
		}
		p.GetName = cmp.Or(g.Name, "$.name")
	}
	return p, nil
}
