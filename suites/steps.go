package suites

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/internal/httpstep"
	"github.com/suitecheck/suitecheck/suites/browser"
	"go.yaml.in/yaml/v3"
)

// A stepKind is one kind of step, found by the key that names it in the
// config. load decodes a step's body into the kind's typed config once, at
// load time, and refuses there what could never run; the step it returns
// runs with the text values of that config rendered.
type stepKind struct {
	load    func(st *StepConfig) (step, error)
	browser bool // a step in the run's one browser page
}

// A step is a step's typed config, decoded at load time.
type step interface {
	run(ctx context.Context, env stepEnv, sc *Scope) error
}

// kind makes the stepKind of a typed config T: decode reads and checks a
// body at load time; run gets a copy of it with its templates rendered
// (renderValue), so that a step runs the same on every attempt.
func kind[T any](decode func(st *StepConfig) (T, error), run func(ctx context.Context, env stepEnv, st *StepConfig, v T) error) stepKind {
	return stepKind{load: func(st *StepConfig) (step, error) {
		if err := checkNodeTemplates(st.Node); err != nil {
			return nil, err
		}
		v, err := decode(st)
		if err != nil {
			return nil, err
		}
		withDefaultTimeout(&v)
		return &typedStep[T]{st: st, v: v, runF: run}, nil
	}}
}

// defaultStepTimeout is the time of a step that sets none: every kind's,
// given at load (withDefaultTimeout), so that no package below decides it.
const defaultStepTimeout = 10 * time.Second

// withDefaultTimeout gives a step config's Timeout field, when it has one
// and it is not set, defaultStepTimeout.
func withDefaultTimeout[T any](v *T) {
	f := reflect.ValueOf(v).Elem()
	if f.Kind() != reflect.Struct {
		return
	}
	if t := f.FieldByName("Timeout"); t.IsValid() && t.Type() == durationType && t.Int() == 0 {
		t.SetInt(int64(defaultStepTimeout))
	}
}

type typedStep[T any] struct {
	st   *StepConfig
	v    T
	runF func(ctx context.Context, env stepEnv, st *StepConfig, v T) error
}

func (s *typedStep[T]) run(ctx context.Context, env stepEnv, sc *Scope) error {
	v, err := renderValue(sc, s.v)
	if err != nil {
		return &configError{err}
	}
	what := ""
	switch d := any(v).(type) {
	case interface{ Describe() string }:
		what = d.Describe()
	case fmt.Stringer:
		what = d.String()
	}
	env.started(what)
	return s.runF(ctx, env, s.st, v)
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
	// detail records what a fine-grained check found, layer by layer,
	// for the long output of a diagnosis.
	detail(lines ...string)
	// started says what the step does, once its templates are rendered:
	// for -vv and the terminal's live line.
	started(what string)
	caFile() string // the environment's extra CA certificates, or ""
	// connectTo is -I's address for host, or "" when host is not the
	// base URL's or there is no -I.
	connectTo(host string) string
}

var _ stepEnv = (*runState)(nil)

func (r *runState) masker() *Masker           { return r.mask }
func (r *runState) setVar(name, value string) { r.scope.Vars[name] = value }
func (r *runState) detail(lines ...string)    { r.details = append(r.details, lines...) }

func (r *runState) started(what string) {
	// A browser step describes itself with its kind: click "#send".
	if !strings.HasPrefix(what, r.stepKind+" ") && what != r.stepKind {
		what = strings.TrimSpace(r.stepKind + " " + what)
	}
	r.stepName += " " + what
	r.logf(LogSteps, "%s", r.stepName)
	r.status(r.stepName)
}

func (r *runState) connectTo(host string) string { return r.pins[strings.ToLower(host)] }

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
		"http":           kind(decodeHTTP, runHTTP),
		"sql":            kind(decodeSQL, runSQL),
		"check_postgres": kind(decodePostgres, runPostgres),
		"check_http":     kind(decodeCheckHTTP, runCheckHTTP),
	}
	for _, a := range browser.Actions() {
		k := kind(decodeBrowser, runBrowser)
		k.browser = true
		kinds[a] = k
	}
	return kinds
}()

// load decodes and checks the step's body: at load time, once.
func (s *StepConfig) load() error {
	st, err := stepKinds[s.Kind].load(s)
	if err != nil {
		return err
	}
	s.step = st
	return nil
}

func kindNames() []string {
	names := make([]string, 0, len(stepKinds))
	for k := range stepKinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// decodeStrict decodes a step body into v (a pointer), refusing unknown
// keys and values of the wrong kind at their lines, in the config's words
// (checkShape).
func decodeStrict(st *StepConfig, n *yaml.Node, v any) error {
	if le := checkShape(n, reflect.TypeOf(v).Elem(), false); le != nil {
		le.Msg = fmt.Sprintf("step %s: %s", st.Kind, le.Msg)
		return le
	}
	if err := n.Decode(v); err != nil {
		var le *LineError
		if errors.As(err, &le) {
			le.Msg = fmt.Sprintf("step %s: %s", st.Kind, le.Msg)
			return le
		}
		return &LineError{Line: st.Line, Msg: fmt.Sprintf("step %s: %v", st.Kind, err)}
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
