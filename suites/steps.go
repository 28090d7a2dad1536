package suites

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"

	"github.com/suitecheck/suitecheck/internal/httpstep"
	"github.com/suitecheck/suitecheck/suites/browser"
	"go.yaml.in/yaml/v3"
)

// A stepKind is one kind of step, found by the key that names it in the
// config. validate runs at load time on the raw (templated) body; run gets
// the body with its templates rendered, and the run's stepEnv.
type stepKind struct {
	validate func(st *StepConfig) error
	run      func(ctx context.Context, env stepEnv, st *StepConfig, body *yaml.Node) error
	browser  bool // a step in the run's one browser page
}

// stepEnv is what a step may use of its run: secrets to mask, variables
// to set for later steps, and the run's shared resources, each made on
// first use and closed with the run.
type stepEnv interface {
	masker() *Masker
	setVar(name, value string)
	httpClient() (*httpstep.Client, error)
	database(dsn string) (*sql.DB, error)
	page(ctx context.Context) (*browser.Page, error)
	caFile() string // the environment's extra CA certificates, or ""
}

var _ stepEnv = (*runState)(nil)

func (r *runState) masker() *Masker           { return r.mask }
func (r *runState) setVar(name, value string) { r.scope.Vars[name] = value }

func (r *runState) caFile() string {
	if r.env == nil {
		return ""
	}
	return r.env.CAFile
}

// stepKinds is every step kind, by the key that names it in the config: a
// literal table, and the browser package's actions. A new kind is a row
// here and its file.
var stepKinds = func() map[string]stepKind {
	kinds := map[string]stepKind{
		"http":           {validate: validateHTTP, run: runHTTP},
		"sql":            {validate: validateSQL, run: runSQL},
		"check_postgres": {validate: validatePostgres, run: runPostgres},
		"check_http":     {validate: validateCheckHTTP, run: runCheckHTTP},
	}
	for _, a := range browser.Actions() {
		kinds[a] = stepKind{validate: validateBrowser, run: runBrowser, browser: true}
	}
	return kinds
}()

func kindNames() []string {
	names := make([]string, 0, len(stepKinds))
	for k := range stepKinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

var unknownFieldRe = regexp.MustCompile(`field (\S+) not found in type (\S+)`)

// decodeStrict decodes a step body into v, refusing unknown keys, and
// reports problems at the line of the offending key when it can find it.
func decodeStrict(st *StepConfig, n *yaml.Node, v any) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return &LineError{Line: st.Line, Msg: fmt.Sprintf("step %s: %v", st.Kind, err)}
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
			msg = te.Errors[0]
		}
		msg = yamlLineRe.ReplaceAllString(msg, "$2")
		line := st.Line
		if m := unknownFieldRe.FindStringSubmatch(msg); m != nil {
			if kn := findKey(n, m[1]); kn != nil {
				line = kn.Line
			}
			msg = fmt.Sprintf("unknown key %q", m[1])
		} else {
			msg = explainYAML(msg)
		}
		return &LineError{Line: line, Msg: fmt.Sprintf("step %s: %s", st.Kind, msg)}
	}
	return nil
}

// findKey finds a mapping key anywhere under n.
func findKey(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i]
			}
		}
	}
	for _, c := range n.Content {
		if k := findKey(c, key); k != nil {
			return k
		}
	}
	return nil
}

// stepError is a failed step: the app did not do what the step expected.
type stepError struct {
	kind string
	err  error
}

func (e *stepError) Error() string {
	if e.kind == "" {
		return e.err.Error() // the error names its step already
	}
	return fmt.Sprintf("%s: %v", e.kind, e.err)
}
func (e *stepError) Unwrap() error { return e.err }

// configError is our own or the user's mistake found only at run time (a
// template naming a missing value): UNKNOWN, not CRITICAL.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }
