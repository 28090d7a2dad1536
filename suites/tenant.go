package suites

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template/parse"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/httpstep"
	"github.com/suitecheck/suitecheck/internal/pgconn"
	"github.com/suitecheck/suitecheck/internal/proc"
	"github.com/suitecheck/suitecheck/internal/statedir"
	"github.com/suitecheck/suitecheck/tenant"
)

// TenantConfig is how the suites get their tenant: provisioned fresh for
// each run by one of http, sql or command, or a fixed account (fixed).
// Its templates see the environment's .BaseURL, .Env and .Vars, and
// .Tenant: .Tenant.name in create, the fields create returned (.id…) in
// delete.
type TenantConfig struct {
	Prefix       *string           `yaml:"prefix"`        // default "sc-"
	Name         string            `yaml:"name"`          // template; default "{{.Tenant.prefix}}{{.Tenant.random}}"
	SecretFields []string          `yaml:"secret_fields"` // fields masked everywhere, besides password/secret/token names
	HTTP         *TenantHTTP       `yaml:"http"`
	SQL          *TenantSQL        `yaml:"sql"`
	Command      *TenantCommand    `yaml:"command"`
	Diagnose     []*StepConfig     `yaml:"diagnose"` // steps that say why, when create fails
	Fixed        map[string]string `yaml:"fixed"`    // no provisioning: these fields, templated
	// DeleteChecksName says the delete request carries {{.Tenant.name}}
	// and the app refuses it when the id's name is another: how a sweep
	// confirms a tenant is ours when there is no get or list request.
	DeleteChecksName bool `yaml:"delete_checks_name"`

	line int
}

// TenantHTTP provisions through the app's admin API with http steps.
type TenantHTTP struct {
	Create yaml.Node       `yaml:"create"` // an http step; its extract gives the fields (id required)
	Delete yaml.Node       `yaml:"delete"` // an http step; 404 and 410 count as deleted
	List   *TenantHTTPList `yaml:"list"`
	Get    *TenantHTTPGet  `yaml:"get"`
}

// TenantHTTPGet is the optional get request: the app's name for a
// tenant's id, so that a sweep deletes only what is provably ours.
type TenantHTTPGet struct {
	Request yaml.Node `yaml:"request"` // an http step; 404 and 410 say there is no such tenant
	Name    string    `yaml:"name"`    // JSONPath of the name in the reply; default $.name
}

// TenantHTTPList is the optional list request, for sweeps.
type TenantHTTPList struct {
	Request yaml.Node `yaml:"request"` // an http step
	Items   string    `yaml:"items"`   // JSONPath of the tenants in the reply; default $[*]
	Name    string    `yaml:"name"`    // JSONPath in an item; default $.name
	ID      string    `yaml:"id"`      // default $.id
	Created string    `yaml:"created"` // default $.created_at
}

// TenantSQL provisions with statements against the app's database.
type TenantSQL struct {
	DSN    string        `yaml:"dsn"`
	Create *SQLStatement `yaml:"create"`
	Delete *SQLStatement `yaml:"delete"`
	List   *SQLStatement `yaml:"list"`
	Get    *SQLStatement `yaml:"get"` // returns the column name for the tenant; no row: no such tenant
}

// SQLStatement is a query (not templated: values go in args) and its args
// (templated), for $1, $2…
type SQLStatement struct {
	Query string   `yaml:"query"`
	Args  []string `yaml:"args"`
}

// TenantCommand provisions with programs.
type TenantCommand struct {
	Create []string          `yaml:"create"` // prints the tenant as a JSON object
	Delete []string          `yaml:"delete"` // exits 0 once it is deleted
	List   []string          `yaml:"list"`   // prints a JSON array of {name, id, created}
	Get    []string          `yaml:"get"`    // prints {"name": …} for the tenant, or null when there is none
	Dir    string            `yaml:"dir"`
	Env    map[string]string `yaml:"env"`
}

// provisioned reports whether the config creates a tenant per run.
func (tc *TenantConfig) provisioned() bool {
	return tc != nil && (tc.HTTP != nil || tc.SQL != nil || tc.Command != nil)
}

func (tc *TenantConfig) prefix() string {
	if tc.Prefix != nil {
		return *tc.Prefix
	}
	return tenant.DefaultPrefix
}

// secretField reports whether a tenant field is a secret.
func (tc *TenantConfig) secretField(name string) bool {
	return slices.Contains(tc.SecretFields, name) || tenant.SecretField(name)
}

// validate checks the tenant section at load time.
func (tc *TenantConfig) validate() error {
	errAt := func(format string, args ...any) error {
		return &LineError{Line: tc.line, Msg: "tenant: " + fmt.Sprintf(format, args...)}
	}
	n := 0
	for _, set := range []bool{tc.HTTP != nil, tc.SQL != nil, tc.Command != nil, tc.Fixed != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errAt("give one of http, sql, command or fixed")
	}
	for _, k := range sortedKeys(tc.Fixed) {
		if err := checkTemplate(tc.Fixed[k]); err != nil {
			return errAt("field %q: %v", k, err)
		}
	}
	if n == 0 {
		return errAt("give a provisioner: http, sql or command (or fixed, for an account that is not created per run)")
	}
	if tc.Fixed != nil {
		return nil
	}
	p := tc.prefix()
	if !nameRe.MatchString(p) {
		return errAt("prefix %q: use letters, digits and - or _, e.g. sc-: it is how sweeps recognise strays", p)
	}
	if tc.Name != "" {
		if err := checkTemplate(tc.Name); err != nil {
			return errAt("name: %v", err)
		}
		if !strings.Contains(tc.Name, ".Tenant.random") {
			return errAt("name %q: include {{.Tenant.random}}, so that overlapping runs never collide", tc.Name)
		}
	}
	for _, st := range tc.Diagnose {
		if st == nil {
			return errAt("diagnose has an empty step")
		}
		if err := stepKinds[st.Kind].validate(st); err != nil {
			return err
		}
		if stepKinds[st.Kind].browser {
			return &LineError{Line: st.Line, Msg: "tenant diagnose: use http, sql or check_postgres steps, not browser steps"}
		}
	}
	if tc.DeleteChecksName && !slices.Contains(tc.deleteRefs(), "name") {
		return errAt("delete_checks_name: the delete request does not use {{.Tenant.name}}: the app can only check a name it is sent")
	}
	switch {
	case tc.HTTP != nil:
		return tc.validateHTTP()
	case tc.SQL != nil:
		return tc.validateSQL()
	}
	return tc.validateCommand()
}

// deleteRefs lists the tenant fields the delete request uses.
func (tc *TenantConfig) deleteRefs() []string {
	var refs []string
	switch {
	case tc.HTTP != nil:
		walkStrings(&tc.HTTP.Delete, func(n *yaml.Node) { refs = append(refs, tenantRefs(n.Value)...) })
	case tc.SQL != nil && tc.SQL.Delete != nil:
		for _, a := range tc.SQL.Delete.Args {
			refs = append(refs, tenantRefs(a)...)
		}
	case tc.Command != nil:
		for _, a := range tc.Command.Delete {
			refs = append(refs, tenantRefs(a)...)
		}
		for _, v := range tc.Command.Env {
			refs = append(refs, tenantRefs(v)...)
		}
	}
	return refs
}

func (tc *TenantConfig) validateHTTP() error {
	h := tc.HTTP
	steps := []struct {
		what string
		node *yaml.Node
	}{{"create", &h.Create}, {"delete", &h.Delete}}
	if h.List != nil {
		steps = append(steps, struct {
			what string
			node *yaml.Node
		}{"list request", &h.List.Request})
	}
	if h.Get != nil {
		steps = append(steps, struct {
			what string
			node *yaml.Node
		}{"get request", &h.Get.Request})
	}
	for _, s := range steps {
		if s.node.Kind == 0 {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant http: no %s: give an http step, e.g. {method: POST, url: \"{{.BaseURL}}/admin/tenants\"}", s.what)}
		}
		st := &StepConfig{Kind: "tenant http " + s.what, Node: s.node, Line: s.node.Line}
		if err := checkNodeTemplates(s.node); err != nil {
			return err
		}
		var step httpstep.Step
		if err := decodeStrict(st, s.node, &step); err != nil {
			return err
		}
		if err := step.Validate(); err != nil {
			return &LineError{Line: st.Line, Msg: fmt.Sprintf("%s: %s", st.Kind, strings.ReplaceAll(err.Error(), "\n", "; "))}
		}
		if s.what == "create" {
			if _, ok := step.Extract["id"]; !ok {
				return &LineError{Line: st.Line, Msg: "tenant http create: extract the tenant's id, e.g. extract: {id: {json: $.id}}"}
			}
			continue
		}
		if err := tc.checkRefs(st.Kind, st.Line, s.node, s.what == "list request"); err != nil {
			return err
		}
	}
	return nil
}

func (tc *TenantConfig) validateSQL() error {
	s := tc.SQL
	if s.DSN == "" {
		return &LineError{Line: tc.line, Msg: "tenant sql: no dsn: give a libpq connection string, e.g. dsn: \"{{.Vars.db_dsn}}\""}
	}
	if err := checkTemplate(s.DSN); err != nil {
		return &LineError{Line: tc.line, Msg: "tenant sql dsn: " + err.Error()}
	}
	stmts := map[string]*SQLStatement{"create": s.Create, "delete": s.Delete, "list": s.List, "get": s.Get}
	for _, what := range []string{"create", "delete", "list", "get"} {
		st := stmts[what]
		if st == nil {
			if what == "list" || what == "get" {
				continue
			}
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant sql: no %s statement: give {query: …, args: […]}", what)}
		}
		if strings.TrimSpace(st.Query) == "" {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant sql %s: no query", what)}
		}
		if strings.Contains(st.Query, "{{") {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant sql %s: the query is not templated: pass values as args and use $1, $2…", what)}
		}
		for _, a := range st.Args {
			if err := checkTemplate(a); err != nil {
				return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant sql %s arg: %v", what, err)}
			}
			if what != "create" {
				if err := tc.checkRefString("tenant sql "+what, tc.line, a, what == "list"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (tc *TenantConfig) validateCommand() error {
	c := tc.Command
	argvs := map[string][]string{"create": c.Create, "delete": c.Delete, "list": c.List, "get": c.Get}
	for _, what := range []string{"create", "delete", "list", "get"} {
		argv := argvs[what]
		if len(argv) == 0 {
			if what == "list" || what == "get" {
				continue
			}
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant command: no %s command: give the program and its arguments as a list, e.g. [./tenants, %s, \"{{.Tenant.name}}\"]", what, what)}
		}
		for _, a := range argv {
			if err := checkTemplate(a); err != nil {
				return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant command %s: %v", what, err)}
			}
			if what != "create" {
				if err := tc.checkRefString("tenant command "+what, tc.line, a, what == "list"); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range sortedKeys(c.Env) {
		if err := checkTemplate(c.Env[k]); err != nil {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant command env %s: %v", k, err)}
		}
	}
	return checkTemplate(c.Dir)
}

// checkRefs refuses, in a delete or list request, the tenant fields the
// ledger does not keep: a sweep after a kill could not fill them in.
func (tc *TenantConfig) checkRefs(what string, line int, n *yaml.Node, list bool) error {
	var first error
	walkStrings(n, func(s *yaml.Node) {
		if first == nil {
			first = tc.checkRefString(what, s.Line, s.Value, list)
		}
	})
	return first
}

func (tc *TenantConfig) checkRefString(what string, line int, s string, list bool) error {
	for _, f := range tenantRefs(s) {
		switch {
		case list:
			return &LineError{Line: line, Msg: fmt.Sprintf("%s: uses .Tenant.%s, but a list is not about one tenant", what, f)}
		case tc.secretField(f) || tc.httpSecret(f):
			return &LineError{Line: line, Msg: fmt.Sprintf("%s: uses .Tenant.%s, a secret the ledger does not keep, so a sweep could not delete with it: use .Tenant.id or .Tenant.name", what, f)}
		}
	}
	return nil
}

// httpSecret reports whether the http create step extracts field as a
// secret.
func (tc *TenantConfig) httpSecret(field string) bool {
	if tc.HTTP == nil || tc.HTTP.Create.Kind == 0 {
		return false
	}
	var step httpstep.Step
	if err := tc.HTTP.Create.Decode(&step); err != nil {
		return false
	}
	x, ok := step.Extract[field]
	return ok && x.Secret
}

// tenantRefs lists the X of every {{.Tenant.X}} in a template.
func tenantRefs(s string) []string {
	if !strings.Contains(s, "{{") {
		return nil
	}
	t, err := parseTemplate(s)
	if err != nil {
		return nil
	}
	var out []string
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			if len(n.Ident) > 1 && n.Ident[0] == "Tenant" {
				out = append(out, n.Ident[1])
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	walk(t.Tree.Root)
	return out
}

// TenantOptions locate the ledger and bound the teardown.
type TenantOptions struct {
	StateDir        string        // --state-dir; empty: statedir.Default
	TeardownTimeout time.Duration // --teardown-timeout: the delete's own bound, and the slice of the budget kept for it
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
	r := &runState{mask: &Masker{}, dbs: map[string]*sql.DB{}, cfgPath: cfg.path}
	if err := r.setup(envName, env, nil, RunOptions{}); err != nil {
		return nil, err
	}
	m, err := r.manager(cfg, envName, o)
	if err != nil {
		r.close()
		return nil, err
	}
	return &TenantTool{Manager: m, Mask: r.mask.Mask, Close: r.close, TeardownTimeout: cmp.Or(o.TeardownTimeout, DefaultTeardownTimeout)}, nil
}

// manager builds the run's tenant manager.
func (r *runState) manager(cfg *Config, envName string, o TenantOptions) (*tenant.Manager, error) {
	tc := cfg.Tenant
	dir := o.StateDir
	if dir == "" {
		var err error
		if dir, err = statedir.Default(); err != nil {
			return nil, err
		}
	}
	ledger, err := tenant.OpenLedger(dir)
	if err != nil {
		return nil, err
	}
	prov, err := r.provisioner(tc)
	if err != nil {
		return nil, err
	}
	path, err := filepath.Abs(cfg.path)
	if err != nil {
		path = cfg.path
	}
	m := &tenant.Manager{Prov: prov, Ledger: ledger, Scope: path + "#" + envName, Prefix: tc.prefix(), DeleteChecksName: tc.DeleteChecksName}
	if tc.Name != "" {
		m.Name = func(random string) (string, error) {
			return r.withTenant(map[string]string{"prefix": tc.prefix(), "random": random}).Render(tc.Name)
		}
	}
	return m, nil
}

// withTenant is the run's scope with these tenant fields.
func (r *runState) withTenant(fields map[string]string) *Scope {
	sc := *r.scope
	sc.Tenant = fields
	return &sc
}

// nameFields are what create's templates see.
func (r *runState) nameFields(tc *TenantConfig, name string) map[string]string {
	return map[string]string{"name": name, "prefix": tc.prefix()}
}

// provisioner turns the config into a tenant.Provisioner whose requests
// are rendered at each call.
func (r *runState) provisioner(tc *TenantConfig) (tenant.Provisioner, error) {
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
		p.CreateStmt = func(name string) (tenant.Statement, error) {
			return stmt("create", tc.SQL.Create, r.nameFields(tc, name))
		}
		p.DeleteStmt = func(t tenant.Tenant) (tenant.Statement, error) { return stmt("delete", tc.SQL.Delete, t.Fields) }
		if tc.SQL.List != nil {
			p.ListStmt = func() (tenant.Statement, error) { return stmt("list", tc.SQL.List, nil) }
		}
		if tc.SQL.Get != nil {
			p.GetStmt = func(t tenant.Tenant) (tenant.Statement, error) { return stmt("get", tc.SQL.Get, t.Fields) }
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
		cmd.Env = []string{"SUITECHECK_BASE_URL=" + r.scope.BaseURL, "SUITECHECK_ENV=" + r.scope.Env}
		for _, k := range sortedKeys(fields) {
			cmd.Env = append(cmd.Env, "SUITECHECK_TENANT_"+envName(k)+"="+fields[k])
		}
		for _, k := range sortedKeys(c.Env) {
			v, err := sc.Render(c.Env[k])
			if err != nil {
				return cmd, fmt.Errorf("tenant command env %s: %w", k, err)
			}
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return cmd, nil
	}
	p := &tenant.Command{SecretField: tc.secretField}
	p.CreateCmd = func(name string) (proc.Cmd, error) { return build("create", c.Create, r.nameFields(tc, name)) }
	p.DeleteCmd = func(t tenant.Tenant) (proc.Cmd, error) { return build("delete", c.Delete, t.Fields) }
	if len(c.List) > 0 {
		p.ListCmd = func() (proc.Cmd, error) { return build("list", c.List, nil) }
	}
	if len(c.Get) > 0 {
		p.GetCmd = func(t tenant.Tenant) (proc.Cmd, error) { return build("get", c.Get, t.Fields) }
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

func (r *runState) httpProvisioner(tc *TenantConfig) (*tenant.HTTP, error) {
	// A client of its own: the admin API's cookies stay out of the
	// suite's http steps.
	client, err := httpstep.NewClient(httpstep.Options{CAFile: r.env.CAFile, Insecure: r.env.Insecure})
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
	p.CreateReq = func(name string) (httpstep.Step, error) { return step("create", &h.Create, r.nameFields(tc, name)) }
	p.DeleteReq = func(t tenant.Tenant) (httpstep.Step, error) { return step("delete", &h.Delete, t.Fields) }
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

// tenantRun is the tenant side of one run, for the result.
type tenantRun struct {
	sweep     tenant.SweepReport
	sweepErr  error
	sess      *tenant.Session
	createDur time.Duration
	deleteDur time.Duration
	tornDown  bool
	deleteErr error
	// createErr is why create failed, and createState the state it gave.
	createErr   error
	createState checks.State
	swept       bool // the sweep ran (its time is perfdata)
}

// teardownReserve is the slice of the budget kept for deleting the tenant.
func teardownReserve(budget, timeout time.Duration) time.Duration {
	if timeout <= 0 {
		timeout = DefaultTeardownTimeout
	}
	return min(timeout, budget/4)
}

// teardownContext bounds the delete: its own timeout, and the end of the
// budget less the reserve kept for the result, but at least half a second
// when artifacts used that up; not cancelled by a signal, which is why it
// runs.
func teardownContext(outer context.Context, timeout, reserve time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = DefaultTeardownTimeout
	}
	now := time.Now()
	end := now.Add(timeout)
	if dl, ok := outer.Deadline(); ok {
		limit := dl.Add(-reserve)
		if floor := now.Add(500 * time.Millisecond); limit.Before(floor) {
			limit = floor
		}
		if limit.Before(end) {
			end = limit
		}
	}
	return context.WithDeadline(context.WithoutCancel(outer), end)
}

// provision sweeps the leftovers of dead runs, then creates the run's
// tenant and puts its fields in the scope. When create fails, it returns
// the run's result and true.
func (r *runState) provision(ctx context.Context, cfg *Config, suite *Suite, envName string, tr *tenantRun, o RunOptions) (checks.Result, bool) {
	m, err := r.manager(cfg, envName, o.Tenants)
	if err != nil {
		return checks.FromError(fmt.Errorf("tenant: %w", err)), true
	}
	host, _ := os.Hostname()
	timeout := cmp.Or(o.Tenants.TeardownTimeout, DefaultTeardownTimeout)
	sctx, cancel := context.WithTimeout(ctx, sweepSlice(ctx, timeout))
	tr.sweep, tr.sweepErr = m.Sweep(sctx, tenant.SweepOptions{Host: host, DeleteTimeout: timeout})
	tr.swept = true
	cancel()
	t0 := time.Now()
	sess, err := m.Create(ctx)
	tr.createDur = time.Since(t0)
	if err == nil {
		tr.sess = sess
		t := sess.Tenant
		for _, k := range t.Secret {
			r.mask.Add(t.Fields[k])
		}
		for k, v := range t.Fields {
			r.scope.Tenant[k] = v
			if cfg.Tenant.secretField(k) {
				r.mask.Add(v)
			}
		}
		return checks.Result{}, false
	}

	head := fmt.Sprintf("%s on %s: ", suite.name, envName)
	var res checks.Result
	msg := r.mask.Mask(err.Error())
	switch {
	case tenant.IsConfigError(err):
		res.State, res.Summary = checks.Unknown, head+msg
	case errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.State, res.Summary = o.TimeoutState, head+fmt.Sprintf("timed out after %s: %s", o.Budget, msg)
	case ctx.Err() != nil:
		res.State, res.Summary = checks.Unknown, head+fmt.Sprintf("interrupted (%v): %s", context.Cause(ctx), msg)
	default:
		// The app refused (or failed: a 5xx): CRITICAL, and the diagnose
		// steps say why.
		verb := "the app refused to "
		if sess != nil {
			verb = "the app failed to "
		}
		res.State, res.Summary = checks.Critical, head+verb+msg
		res.Long = append(res.Long, "[CRITICAL] "+msg)
		if len(cfg.Tenant.Diagnose) > 0 {
			derr := r.runSteps(ctx, &Case{Name: "diagnose", Steps: cfg.Tenant.Diagnose})
			if derr != nil {
				d := r.mask.Mask(derr.Error())
				res.Summary += "; diagnose: " + d
				res.Long = append(res.Long, "diagnose: "+d)
			} else {
				res.Long = append(res.Long, "diagnose: every diagnose step passed")
			}
		}
	}
	tr.createErr, tr.createState = errors.New(msg), res.State
	if sess != nil {
		// The tenant may exist: find it by name and delete it now.
		tr.sess = sess
		r.teardown(tr, o)
	}
	res.Perfdata = append(res.Perfdata, checks.Duration("time", time.Since(r.start), checks.Thresholds{}),
		checks.Duration("tenant_create", tr.createDur, checks.Thresholds{}))
	tr.apply(r, &res)
	return res, true
}

// sweepSlice is the part of the run's time the sweep may take: at most the
// teardown timeout, and at most a quarter of what is left, so that a
// hanging app leaves the run its time to judge it.
func sweepSlice(ctx context.Context, timeout time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return min(timeout, time.Until(dl)/4)
	}
	return timeout
}

// teardown deletes the run's tenant, once, whatever ended the run.
func (r *runState) teardown(tr *tenantRun, o RunOptions) {
	if tr.sess == nil || tr.tornDown {
		return
	}
	tr.tornDown = true
	ctx, cancel := teardownContext(r.outer, o.Tenants.TeardownTimeout, r.resultReserve)
	defer cancel()
	t0 := time.Now()
	tr.deleteErr = tr.sess.Delete(ctx)
	tr.deleteDur = time.Since(t0)
}

// apply adds the tenant's part to the run's result: perfdata tenant_create
// (after time), tenant_delete (before failed) and swept (last), and a
// WARNING for every tenant that could not be deleted and every unreadable
// ledger file.
func (tr *tenantRun) apply(r *runState, res *checks.Result) {
	if tr == nil {
		return
	}
	var warnings, notes []string
	rep := tr.sweep
	if len(rep.Deleted) > 0 {
		notes = append(notes, fmt.Sprintf("swept %d leftover tenant(s) of killed runs: %s", len(rep.Deleted), strings.Join(rep.Deleted, ", ")))
	}
	for _, f := range rep.Failed {
		warnings = append(warnings, fmt.Sprintf("leftover tenant %s not deleted (kept in the ledger)", f))
	}
	for _, f := range rep.Refused {
		warnings = append(warnings, "ledger entry "+f)
	}
	if rep.Left > 0 {
		warnings = append(warnings, fmt.Sprintf("the sweep ran out of its %.1fs: %d leftover(s) not reached, kept in the ledger for the next run", rep.Took.Seconds(), rep.Left))
	}
	if len(rep.Gone) > 0 {
		notes = append(notes, fmt.Sprintf("forgot %d ledger entr(ies) whose tenant the app no longer has: %s", len(rep.Gone), strings.Join(rep.Gone, ", ")))
	}
	for _, p := range rep.Corrupt {
		warnings = append(warnings, ledgerProblem(p))
	}
	if rep.Others > 0 {
		notes = append(notes, fmt.Sprintf("%d dead ledger entr(ies) of other configs, environments or hosts left alone (suitecheck tenant sweep with their --config and --env sweeps them)", rep.Others))
	}
	if tr.sweepErr != nil {
		warnings = append(warnings, "sweep: "+tr.sweepErr.Error())
	}
	if tr.sess != nil {
		pd := res.Perfdata
		if len(pd) > 0 && pd[0].Label == "time" && !slices.ContainsFunc(pd, func(p checks.Perfdata) bool { return p.Label == "tenant_create" }) {
			pd = slices.Insert(pd, 1, checks.Duration("tenant_create", tr.createDur, checks.Thresholds{}))
		}
		at := len(pd)
		if at > 0 && pd[at-1].Label == "failed" {
			at--
		}
		res.Perfdata = slices.Insert(pd, at, checks.Duration("tenant_delete", tr.deleteDur, checks.Thresholds{}))
		t := tr.sess.Tenant
		switch {
		case tr.sess.InDoubt() && errors.Is(tr.deleteErr, tenant.ErrNotListed):
			notes = append(notes, fmt.Sprintf("tenant %s: the app does not list it (most likely never created); kept in the ledger for the sweep", t.Name))
		case tr.deleteErr != nil && t.ID == "":
			warnings = append(warnings, fmt.Sprintf("tenant %s (create in doubt) NOT deleted: %v", t.Name, tr.deleteErr))
		case tr.deleteErr != nil:
			warnings = append(warnings, fmt.Sprintf("tenant %s (id %s) NOT deleted: %v (kept in the ledger for the next sweep)", t.Name, t.ID, tr.deleteErr))
		case tr.createErr != nil:
			notes = append(notes, fmt.Sprintf("tenant %s: its create was in doubt; the app listed it (id %s) and it was deleted in %.2fs", t.Name, t.ID, tr.deleteDur.Seconds()))
		default:
			notes = append(notes, fmt.Sprintf("tenant %s created (id %s) in %.2fs, deleted in %.2fs", t.Name, t.ID, tr.createDur.Seconds(), tr.deleteDur.Seconds()))
		}
	}
	res.Perfdata = append(res.Perfdata, checks.Perfdata{Label: "swept", Value: float64(len(rep.Deleted)), Min: checks.Float(0)})
	if tr.swept {
		res.Perfdata = append(res.Perfdata, checks.Duration("sweep", rep.Took, checks.Thresholds{}))
	}
	for i := range warnings {
		warnings[i] = r.mask.Mask(warnings[i])
	}
	if len(warnings) > 0 {
		res.State = checks.Worst(res.State, checks.Warning)
		res.Summary += "; " + strings.Join(warnings, "; ")
		for _, w := range warnings {
			res.Long = append([]string{"[WARNING] " + w}, res.Long...)
		}
	}
	for _, n := range notes {
		res.Long = append(res.Long, r.mask.Mask(n))
	}
}

// ledgerProblem says what is wrong with a ledger file, and what was done.
func ledgerProblem(p tenant.Problem) string {
	if p.Moved {
		return fmt.Sprintf("ledger file %s is unreadable (%v): moved aside; check its tenant by hand", p.File, p.Err)
	}
	return fmt.Sprintf("ledger file %s: %v", p.File, p.Err)
}
