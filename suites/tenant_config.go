package suites

// The tenant section of the config: its types and its load-time
// validation (which fields a delete, get or list request may use).

import (
	"crypto/rand"
	"fmt"
	"maps"
	"math/big"
	"reflect"
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
	// Ledger keeps the ledger in PostgreSQL, shared by every node that
	// runs this config (--ledger-dsn and $SUITECHECK_LEDGER_DSN win).
	Ledger *TenantLedger `yaml:"ledger"`

	line int
}

// TenantLedger is where the ledger lives when not in the state dir.
type TenantLedger struct {
	DSN          string `yaml:"dsn"`           // a libpq URL or key=value string, templated like the sql dsn
	PasswordFile string `yaml:"password_file"` // its password, the file's first line
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
// Create and delete are one http step each, or a list of them: a create
// step's extractions are tenant fields for the steps after it, and one of
// them extracts the id.
type TenantHTTP struct {
	Create yaml.Node       `yaml:"create"` // an http step (or a list); its extract gives the fields (id required)
	Delete yaml.Node       `yaml:"delete"` // an http step (or a list, run in order); 404 and 410 count as deleted
	List   *TenantHTTPList `yaml:"list"`
	Get    *TenantHTTPGet  `yaml:"get"`
	// Confirm holds, per field other than the id, the request that asks
	// the app what the field names: how a sweep confirms a field a delete
	// step uses (a user id) before it uses it.
	Confirm map[string]*TenantHTTPGet `yaml:"confirm"`
}

// stepNodes is the steps of a create or delete: the list's items, or the
// one step.
func stepNodes(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return []*yaml.Node{n}
}

// stepLabel names step i of n in messages: "tenant http create", or
// "tenant http create step 2" in a list.
func stepLabel(what string, i, n int, list bool) string {
	if !list {
		return what
	}
	return fmt.Sprintf("%s step %d", what, i+1)
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

// TenantSQL provisions with statements against the app's database. Create
// and delete are a statement each, or a list of them run in one
// transaction (all or nothing).
type TenantSQL struct {
	DSN     string                   `yaml:"dsn"`
	Create  SQLStatements            `yaml:"create"`
	Delete  SQLStatements            `yaml:"delete"`
	List    *SQLStatement            `yaml:"list"`
	Get     *SQLStatement            `yaml:"get"`     // returns the column name for the tenant; no row: no such tenant
	Confirm map[string]*SQLStatement `yaml:"confirm"` // per field: returns the column name for what it names
}

// SQLStatements is one statement or a list of them.
type SQLStatements []*SQLStatement

// UnmarshalYAML takes a statement or a list of statements.
func (ss *SQLStatements) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		var one *SQLStatement
		if err := strictNode(n, &one); err != nil {
			return err
		}
		*ss = SQLStatements{one}
		return nil
	}
	var list []*SQLStatement
	if err := strictNode(n, &list); err != nil {
		return err
	}
	*ss = list
	return nil
}

// strictNode decodes n into v (a pointer), refusing unknown keys and
// values of the wrong kind at their lines, as the config's own decoding
// does (checkShape).
func strictNode(n *yaml.Node, v any) error {
	if le := checkShape(n, reflect.TypeOf(v).Elem(), true); le != nil {
		return le
	}
	return n.Decode(v)
}

// SQLStatement is a query (not templated: values go in args) and its args
// (templated), for $1, $2…
type SQLStatement struct {
	Query string   `yaml:"query"`
	Args  []string `yaml:"args"`
}

// TenantCommand provisions with programs. Create and delete are a command
// each, or a list of commands run in order: each create command prints a
// JSON object of the fields it adds (or nothing), one of them the id.
type TenantCommand struct {
	Create  Commands            `yaml:"create"`  // prints the tenant as a JSON object
	Delete  Commands            `yaml:"delete"`  // exits 0 once it is deleted
	List    []string            `yaml:"list"`    // prints a JSON array of {name, id, created}
	Get     []string            `yaml:"get"`     // prints {"name": …} for the tenant, or null when there is none
	Confirm map[string][]string `yaml:"confirm"` // per field: prints {"name": …} for what it names, or null
	Dir     string              `yaml:"dir"`
	Env     map[string]string   `yaml:"env"`
}

// Commands is one command (a program and its arguments) or a list of
// commands.
type Commands [][]string

// UnmarshalYAML takes [prog, arg…] or [[prog, arg…], [prog, arg…]].
func (c *Commands) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 && n.Content[0].Kind == yaml.SequenceNode {
		var list [][]string
		if err := n.Decode(&list); err != nil {
			return fmt.Errorf("line %d: give a command as [program, arguments…], or several as a list of them", n.Line)
		}
		*c = list
		return nil
	}
	var one []string
	if err := n.Decode(&one); err != nil {
		return fmt.Errorf("line %d: give a command as [program, arguments…], or several as a list of them", n.Line)
	}
	if len(one) > 0 {
		*c = Commands{one}
	}
	return nil
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
	for _, name := range slices.Sorted(maps.Keys(tc.Generate)) {
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
	for _, k := range slices.Sorted(maps.Keys(tc.Fixed)) {
		if err := checkTemplate(tc.Fixed[k]); err != nil {
			return errAt("field %q: %v", k, err)
		}
	}
	if n == 0 {
		return errAt("give a provisioner: http, sql or command (or fixed, for an account that is not created per run)")
	}
	if tc.Ledger != nil {
		switch {
		case tc.Fixed != nil:
			return errAt("ledger: a fixed tenant is not created per run, so it has no ledger: remove the ledger section")
		case tc.Ledger.DSN == "":
			return errAt("ledger: give its dsn (a libpq URL or key=value string), or remove the ledger section to keep it in the state dir")
		}
		if err := checkTemplate(tc.Ledger.DSN); err != nil {
			return errAt("ledger dsn: %v", err)
		}
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

// deleteRefs lists the tenant fields the delete steps use.
func (tc *TenantConfig) deleteRefs() []string {
	var refs []string
	for _, step := range tc.deleteNeeds() {
		refs = append(refs, step...)
	}
	return refs
}

// deleteNeeds lists, for each delete step, the tenant fields its
// templates use: what it needs to run. The sql statements are one step
// (one transaction); a command's env counts for every command.
func (tc *TenantConfig) deleteNeeds() [][]string {
	var out [][]string
	switch {
	case tc.HTTP != nil:
		for _, n := range stepNodes(&tc.HTTP.Delete) {
			var refs []string
			walkStrings(n, func(n *yaml.Node) { refs = append(refs, tenantRefs(n.Value)...) })
			out = append(out, uniq(refs))
		}
	case tc.SQL != nil:
		var refs []string
		for _, st := range tc.SQL.Delete {
			if st != nil {
				for _, a := range st.Args {
					refs = append(refs, tenantRefs(a)...)
				}
			}
		}
		out = append(out, uniq(refs))
	case tc.Command != nil:
		var env []string
		for _, v := range tc.Command.Env {
			env = append(env, tenantRefs(v)...)
		}
		for _, argv := range tc.Command.Delete {
			refs := slices.Clone(env)
			for _, a := range argv {
				refs = append(refs, tenantRefs(a)...)
			}
			out = append(out, uniq(refs))
		}
	}
	return out
}

// uniq sorts refs and drops repeats.
func uniq(refs []string) []string {
	slices.Sort(refs)
	return slices.Compact(refs)
}

func (tc *TenantConfig) validateHTTP() error {
	h := tc.HTTP
	for _, s := range []struct {
		what string
		node *yaml.Node
	}{{"create", &h.Create}, {"delete", &h.Delete}} {
		if s.node.Kind == 0 {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant http: no %s: give an http step, e.g. {method: POST, url: \"{{.BaseURL}}/admin/tenants\"}, or a list of them", s.what)}
		}
		if s.node.Kind == yaml.SequenceNode && len(s.node.Content) == 0 {
			return &LineError{Line: s.node.Line, Msg: fmt.Sprintf("tenant http %s: the list is empty: give at least one http step", s.what)}
		}
	}
	// Create: each step may use the fields the steps before it extract;
	// one of them extracts the id.
	creates := stepNodes(&h.Create)
	list := h.Create.Kind == yaml.SequenceNode
	extractedBy := map[string]int{}
	idSteps := 0
	var steps []httpstep.Step
	for i, n := range creates {
		st := &StepConfig{Kind: stepLabel("tenant http create", i, len(creates), list), Node: n, Line: n.Line}
		step, err := decodeHTTPStep(st, n)
		if err != nil {
			return err
		}
		steps = append(steps, step)
		for f := range step.Extract {
			if j, ok := extractedBy[f]; ok {
				return &LineError{Line: st.Line, Msg: fmt.Sprintf("%s: extracts %s, which step %d extracts too: give each field one step", st.Kind, f, j+1)}
			}
			extractedBy[f] = i
		}
		if _, ok := step.Extract["id"]; ok {
			idSteps++
		}
	}
	if idSteps == 0 {
		return &LineError{Line: h.Create.Line, Msg: "tenant http create: extract the tenant's id, e.g. extract: {id: {json: $.id}}"}
	}
	for i, n := range creates {
		var first error
		walkStrings(n, func(s *yaml.Node) {
			for _, f := range tenantRefs(s.Value) {
				if j, ok := extractedBy[f]; ok && j >= i && first == nil {
					first = &LineError{Line: s.Line, Msg: fmt.Sprintf("%s: uses .Tenant.%s, which step %d extracts: a step may use only what the steps before it extract", stepLabel("tenant http create", i, len(creates), list), f, j+1)}
				}
			}
		})
		if first != nil {
			return first
		}
	}
	deletes := stepNodes(&h.Delete)
	for i, n := range deletes {
		st := &StepConfig{Kind: stepLabel("tenant http delete", i, len(deletes), h.Delete.Kind == yaml.SequenceNode), Node: n, Line: n.Line}
		if _, err := decodeHTTPStep(st, n); err != nil {
			return err
		}
		if err := tc.checkRefs(st.Kind, st.Line, n, false); err != nil {
			return err
		}
		if list {
			var first error
			walkStrings(n, func(s *yaml.Node) {
				for _, f := range tenantRefs(s.Value) {
					if _, ok := extractedBy[f]; !ok && f != "name" && first == nil {
						first = &LineError{Line: s.Line, Msg: fmt.Sprintf("%s: uses .Tenant.%s, which no create step extracts", st.Kind, f)}
					}
				}
			})
			if first != nil {
				return first
			}
		}
	}
	if h.List != nil {
		if err := tc.validateHTTPGet("list request", &h.List.Request, nil); err != nil {
			return err
		}
	}
	if h.Get != nil {
		if err := tc.validateHTTPGet("get request", &h.Get.Request, []string{"id", "name"}); err != nil {
			return err
		}
	}
	for _, f := range slices.Sorted(maps.Keys(h.Confirm)) {
		g := h.Confirm[f]
		if err := tc.checkConfirmField("tenant http confirm", f); err != nil {
			return err
		}
		if g == nil {
			g = &TenantHTTPGet{}
		}
		if err := tc.validateHTTPGet("confirm "+f+" request", &g.Request, []string{f, "name"}); err != nil {
			return err
		}
	}
	return nil
}

// checkConfirmField refuses a confirm entry for the id or the name, and
// for a field no delete step uses.
func (tc *TenantConfig) checkConfirmField(what, f string) error {
	switch {
	case f == "id" || f == "name":
		return &LineError{Line: tc.line, Msg: fmt.Sprintf("%s %s: the id and the name are confirmed by the get or list request: confirm other fields here", what, f)}
	case !slices.Contains(tc.deleteRefs(), f):
		return &LineError{Line: tc.line, Msg: fmt.Sprintf("%s %s: no delete step uses .Tenant.%s: confirm only what a delete step uses", what, f, f)}
	case tc.secretField(f) || tc.httpSecret(f):
		return &LineError{Line: tc.line, Msg: fmt.Sprintf("%s %s: a secret (masked, never in the ledger) cannot be confirmed", what, f)}
	}
	return nil
}

// decodeHTTPStep decodes and checks an http step of the tenant section.
func decodeHTTPStep(st *StepConfig, n *yaml.Node) (httpstep.Step, error) {
	var step httpstep.Step
	if err := checkNodeTemplates(n); err != nil {
		return step, err
	}
	if err := decodeStrict(st, n, &step); err != nil {
		return step, err
	}
	if err := step.Validate(); err != nil {
		return step, &LineError{Line: st.Line, Msg: fmt.Sprintf("%s: %s", st.Kind, strings.ReplaceAll(err.Error(), "\n", "; "))}
	}
	return step, nil
}

// validateHTTPGet checks a list, get or confirm request: only may (nil:
// none) of the tenant's fields.
func (tc *TenantConfig) validateHTTPGet(what string, n *yaml.Node, may []string) error {
	if n.Kind == 0 {
		return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant http: no %s: give an http step, e.g. {method: POST, url: \"{{.BaseURL}}/admin/tenants\"}", what)}
	}
	st := &StepConfig{Kind: "tenant http " + what, Node: n, Line: n.Line}
	if _, err := decodeHTTPStep(st, n); err != nil {
		return err
	}
	if err := tc.checkRefs(st.Kind, st.Line, n, may == nil); err != nil {
		return err
	}
	var first error
	walkStrings(n, func(s *yaml.Node) {
		if first == nil && may != nil {
			first = checkMayRefs(st.Kind, s.Line, s.Value, may)
		}
	})
	return first
}

func (tc *TenantConfig) validateSQL() error {
	s := tc.SQL
	if s.DSN == "" {
		return &LineError{Line: tc.line, Msg: "tenant sql: no dsn: give a libpq connection string, e.g. dsn: \"{{.Vars.db_dsn}}\""}
	}
	if err := checkTemplate(s.DSN); err != nil {
		return &LineError{Line: tc.line, Msg: "tenant sql dsn: " + err.Error()}
	}
	type stmt struct {
		what string
		st   *SQLStatement
		may  []string // the fields it may use; nil: any non-secret
	}
	var stmts []stmt
	for _, l := range []struct {
		what string
		list SQLStatements
	}{{"create", s.Create}, {"delete", s.Delete}} {
		if len(l.list) == 0 {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant sql: no %s statement: give {query: …, args: […]}, or a list of them", l.what)}
		}
		for i, st := range l.list {
			stmts = append(stmts, stmt{stepLabel(l.what, i, len(l.list), len(l.list) > 1), st, nil})
		}
	}
	stmts = append(stmts, stmt{"list", s.List, nil}, stmt{"get", s.Get, []string{"id", "name"}})
	for _, f := range slices.Sorted(maps.Keys(s.Confirm)) {
		if err := tc.checkConfirmField("tenant sql confirm", f); err != nil {
			return err
		}
		stmts = append(stmts, stmt{"confirm " + f, s.Confirm[f], []string{f, "name"}})
	}
	for _, x := range stmts {
		st, what := x.st, x.what
		if st == nil {
			if what == "list" || what == "get" {
				continue
			}
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant sql %s: give {query: …, args: […]}", what)}
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
			if !strings.HasPrefix(what, "create") {
				if err := tc.checkRefString("tenant sql "+what, tc.line, a, what == "list"); err != nil {
					return err
				}
			}
			if x.may != nil {
				if err := checkMayRefs("tenant sql "+what, tc.line, a, x.may); err != nil {
					return err
				}
			}
		}
		if err := checkParams(st.Query, len(st.Args)); err != nil {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant sql %s: %v", what, err)}
		}
	}
	return nil
}

func (tc *TenantConfig) validateCommand() error {
	c := tc.Command
	type command struct {
		what string
		argv []string
		may  []string
	}
	var cmds []command
	for _, l := range []struct {
		what string
		list Commands
	}{{"create", c.Create}, {"delete", c.Delete}} {
		if len(l.list) == 0 {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant command: no %s command: give the program and its arguments as a list, e.g. [./tenants, %s, \"{{.Tenant.name}}\"] (or a list of such lists)", l.what, l.what)}
		}
		for i, argv := range l.list {
			if len(argv) == 0 {
				return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant command %s: an empty command: give the program and its arguments", stepLabel(l.what, i, len(l.list), true))}
			}
			cmds = append(cmds, command{stepLabel(l.what, i, len(l.list), len(l.list) > 1), argv, nil})
		}
	}
	cmds = append(cmds, command{"list", c.List, nil}, command{"get", c.Get, []string{"id", "name"}})
	for _, f := range slices.Sorted(maps.Keys(c.Confirm)) {
		if err := tc.checkConfirmField("tenant command confirm", f); err != nil {
			return err
		}
		if len(c.Confirm[f]) == 0 {
			return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant command confirm %s: give the program and its arguments", f)}
		}
		cmds = append(cmds, command{"confirm " + f, c.Confirm[f], []string{f, "name"}})
	}
	for _, x := range cmds {
		for _, a := range x.argv {
			if err := checkTemplate(a); err != nil {
				return &LineError{Line: tc.line, Msg: fmt.Sprintf("tenant command %s: %v", x.what, err)}
			}
			if !strings.HasPrefix(x.what, "create") {
				if err := tc.checkRefString("tenant command "+x.what, tc.line, a, x.what == "list"); err != nil {
					return err
				}
			}
			if x.may != nil {
				if err := checkMayRefs("tenant command "+x.what, tc.line, a, x.may); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
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

// checkMayRefs refuses, in a get or confirm request, tenant fields other
// than may: the get is how a sweep confirms that the ledger's id and name
// are ours (a confirm, a field and the name), so it may not depend on what
// only the ledger says.
func checkMayRefs(what string, line int, s string, may []string) error {
	for _, f := range tenantRefs(s) {
		if !slices.Contains(may, f) {
			uses := ".Tenant." + strings.Join(may, " and .Tenant.")
			kind := "a confirm request"
			if slices.Equal(may, []string{"id", "name"}) {
				kind = "a get request"
			}
			return &LineError{Line: line, Msg: fmt.Sprintf("%s: uses .Tenant.%s: %s may use only %s, which it confirms", what, f, kind, uses)}
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
	for _, n := range stepNodes(&tc.HTTP.Create) {
		var step httpstep.Step
		if err := n.Decode(&step); err != nil {
			continue
		}
		if x, ok := step.Extract[field]; ok && x.Secret {
			return true
		}
	}
	return false
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
