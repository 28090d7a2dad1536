package suites

// The tenant section of the config: its types and its load-time
// validation (which fields a delete, get or list request may use).

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"text/template/parse"

	"go.yaml.in/yaml/v3"

	"github.com/suitecheck/suitecheck/internal/httpstep"
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
	// Generate makes fields before create (a password the create reply
	// does not return): random from the system's CSPRNG, secret (masked
	// everywhere, never in the ledger), {{.Tenant.NAME}} in create and in
	// every step.
	Generate map[string]*GenerateField `yaml:"generate"`

	line int
}

// GenerateField is how a generated field is made.
type GenerateField struct {
	Length   int    `yaml:"length"`   // default 24
	Alphabet string `yaml:"alphabet"` // default letters and digits
}

const (
	defaultGenerateLength = 24
	defaultAlphabet       = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

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
	_, generated := tc.Generate[name]
	return generated || slices.Contains(tc.SecretFields, name) || tenant.SecretField(name)
}

// validateGenerate checks the generated fields: a field name, a length
// that makes a real secret, an alphabet of distinct characters.
func (tc *TenantConfig) validateGenerate() error {
	for _, name := range sortedKeys(tc.Generate) {
		g := tc.Generate[name]
		if g == nil {
			g = &GenerateField{}
			tc.Generate[name] = g
		}
		errAt := func(format string, args ...any) error {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant generate %s: ", name) + fmt.Sprintf(format, args...)}
		}
		switch {
		case !fieldRe.MatchString(name):
			return errAt("use letters, digits and _ for a field name, e.g. password")
		case name == "id" || name == "name" || name == "prefix" || name == "random":
			return errAt("%s is suitecheck's own field: pick another name", name)
		case g.Length == 0:
			g.Length = defaultGenerateLength
		case g.Length < 12 || g.Length > 256:
			return errAt("length %d: give 12 to 256", g.Length)
		}
		if g.Alphabet == "" {
			g.Alphabet = defaultAlphabet
		}
		seen := map[rune]bool{}
		for _, r := range g.Alphabet {
			if seen[r] {
				return errAt("alphabet repeats %q: give each character once", r)
			}
			seen[r] = true
		}
		if len(seen) < 10 {
			return errAt("alphabet %q: give at least 10 characters", g.Alphabet)
		}
	}
	return nil
}

// fieldRe is a tenant field's name.
var fieldRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// generate makes the generated fields' values.
func (tc *TenantConfig) generate() (map[string]string, error) {
	out := map[string]string{}
	for name, g := range tc.Generate {
		alphabet := []rune(g.Alphabet)
		b := make([]rune, g.Length)
		for i := range b {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			if err != nil {
				return nil, fmt.Errorf("generate %s: %w", name, err)
			}
			b[i] = alphabet[n.Int64()]
		}
		out[name] = string(b)
	}
	return out, nil
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
	if err := validateDiagnose("tenant", tc.line, tc.Diagnose); err != nil {
		return err
	}
	if err := tc.validateGenerate(); err != nil {
		return err
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
		if s.what == "get request" {
			var first error
			walkStrings(s.node, func(n *yaml.Node) {
				if first == nil {
					first = checkGetRefs(st.Kind, n.Line, n.Value)
				}
			})
			if first != nil {
				return first
			}
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
			if what == "get" {
				if err := checkGetRefs("tenant sql get", tc.line, a); err != nil {
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
			if what == "get" {
				if err := checkGetRefs("tenant command get", tc.line, a); err != nil {
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
			return &LineError{Line: line, Msg: fmt.Sprintf("%s: uses .Tenant.%s, a secret (masked, never in the ledger): use .Tenant.id or .Tenant.name", what, f)}
		}
	}
	return nil
}

// validateDiagnose checks diagnose steps: any kind but the browser's (a
// diagnostic must not depend on the page that failed).
func validateDiagnose(what string, line int, steps []*StepConfig) error {
	for _, st := range steps {
		if st == nil {
			return &LineError{Line: line, Msg: what + ": diagnose has an empty step"}
		}
		if err := st.load(); err != nil {
			return err
		}
		if stepKinds[st.Kind].browser {
			return &LineError{Line: st.Line, Msg: what + " diagnose: use http, sql, check_http or check_postgres steps, not browser steps"}
		}
	}
	return nil
}

// checkGetRefs refuses, in a get request, tenant fields other than the id
// and the name: the get is how a sweep confirms that the ledger's id and
// name are ours, so it may not depend on what only the ledger says.
func checkGetRefs(what string, line int, s string) error {
	for _, f := range tenantRefs(s) {
		if f != "id" && f != "name" {
			return &LineError{Line: line, Msg: fmt.Sprintf("%s: uses .Tenant.%s: a get request may use only .Tenant.id and .Tenant.name, which it confirms", what, f)}
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
