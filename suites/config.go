// Package suites holds suitecheck's suites: the config model and its
// loading, the templates that fill values in, the runner, and the step kinds
// (browser, http, sql). Loading is strict: every mistake is reported with
// file:line and what to fix, before anything runs.
package suites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/regfile"
)

// Config is a whole suitecheck.yaml.
type Config struct {
	Environments map[string]*Environment `yaml:"environments"`
	Suites       map[string]*Suite       `yaml:"suites"`
	Tenant       *TenantConfig           `yaml:"tenant"`

	path string // where it was loaded from, for messages
}

// Environment is one target: staging, production…
type Environment struct {
	BaseURL  string            `yaml:"base_url"`
	Vars     map[string]string `yaml:"vars"`
	Secrets  map[string]string `yaml:"secrets"` // like vars, but masked in all output
	SkipTags []string          `yaml:"skip_tags"`
	CAFile   string            `yaml:"ca_file"`  // extra CA certificates (PEM) for HTTP steps
	Insecure bool              `yaml:"insecure"` // skip TLS verification in HTTP steps

	line int
}

// Suite is a named, ordered list of cases.
type Suite struct {
	Description string     `yaml:"description"`
	Warning     Threshold  `yaml:"warning"`
	Critical    Threshold  `yaml:"critical"`
	Flaky       StateValue `yaml:"flaky"` // the state of a case that passed only on retry; default WARNING
	// RetryDelay is the wait before a case's retry, unless the case sets
	// its own; nil: DefaultRetryDelay.
	RetryDelay *time.Duration `yaml:"retry_delay"`
	Cases      []*Case        `yaml:"cases"`
	// Diagnose are steps that say why, run once after the cases when one
	// failed (never when all pass): fine-grained checks as diagnostics.
	Diagnose []*StepConfig `yaml:"diagnose"`

	name string
	line int
}

// Case is a list of steps that pass or fail together.
type Case struct {
	Name     string   `yaml:"name"`
	Tags     []string `yaml:"tags"`
	Required bool     `yaml:"required"` // when it fails, the cases after it do not run
	Retries  int      `yaml:"retries"`
	// RetryDelay is the wait before each retry, over the suite's.
	RetryDelay *time.Duration `yaml:"retry_delay"`
	Warning    Threshold      `yaml:"warning"`
	Critical   Threshold      `yaml:"critical"`
	Console    Policy         `yaml:"console"` // what console errors and failed requests do: ignore, warn, fail
	Steps      []*StepConfig  `yaml:"steps"`
	Command    *CommandCase   `yaml:"command"` // the app's own test suite, instead of steps

	line int
}

// MaxRetries bounds a case's retries, in the config and from --retries:
// eleven attempts of a failing case already outlast any sensible budget.
const MaxRetries = 10

// DefaultRetryDelay is the wait before a retry: a moment for what failed
// (a deploy, a connection pool) to settle. MaxRetryDelay bounds it: a
// longer wait is a mistake under a check's budget.
const (
	DefaultRetryDelay = time.Second
	MaxRetryDelay     = time.Minute
)

// retryDelay is the wait before a retry of c in suite s.
func (c *Case) retryDelay(s *Suite) time.Duration {
	switch {
	case c.RetryDelay != nil:
		return *c.RetryDelay
	case s.RetryDelay != nil:
		return *s.RetryDelay
	}
	return DefaultRetryDelay
}

// checkRetryDelay refuses a retry_delay below 0 or above MaxRetryDelay.
func checkRetryDelay(d *time.Duration, line int, who string) error {
	if d != nil && (*d < 0 || *d > MaxRetryDelay) {
		return &LineError{Line: line, Msg: fmt.Sprintf("%s: retry_delay %s: give 0 to %s, e.g. retry_delay: 1s", who, *d, MaxRetryDelay)}
	}
	return nil
}

// Threshold is a duration range (checks.ParseDurationRange) in the config.
type Threshold struct {
	Range *checks.Range
	raw   string
}

// UnmarshalYAML parses the range at load time.
func (t *Threshold) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineErr(n, "a threshold is a duration range such as 3s, 500ms:2s or @1:2")
	}
	r, err := checks.ParseDurationRange(n.Value)
	if err != nil {
		return lineErr(n, "%v", err)
	}
	t.Range, t.raw = &r, n.Value
	return nil
}

// StateValue is a service state named in the config.
type StateValue struct {
	State checks.State
	Set   bool
}

// UnmarshalYAML parses OK, WARNING, CRITICAL or UNKNOWN.
func (s *StateValue) UnmarshalYAML(n *yaml.Node) error {
	st, err := checks.ParseState(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return lineErr(n, "state %q: use OK, WARNING, CRITICAL or UNKNOWN", n.Value)
	}
	s.State, s.Set = st, true
	return nil
}

// Policy says what console errors, uncaught exceptions and failed requests
// seen during a case do to its state.
type Policy string

// The policies; the default is warn.
const (
	PolicyIgnore Policy = "ignore"
	PolicyWarn   Policy = "warn"
	PolicyFail   Policy = "fail"
)

// UnmarshalYAML accepts ignore, warn or fail.
func (p *Policy) UnmarshalYAML(n *yaml.Node) error {
	switch Policy(n.Value) {
	case PolicyIgnore, PolicyWarn, PolicyFail:
		*p = Policy(n.Value)
		return nil
	}
	return lineErr(n, "console policy %q: use ignore, warn or fail", n.Value)
}

// StepConfig is one step as written: a mapping with exactly one key, the
// step's kind, e.g. `goto: "{{.BaseURL}}/login"` or `http: {url: …}`. Its
// values stay templates until the step runs.
type StepConfig struct {
	Kind string
	Node *yaml.Node // the value under the kind's key
	Line int
	step step // Node decoded into the kind's config, by load
}

// UnmarshalYAML checks the step's shape and kind; its body is checked by
// the kind's validator after the whole file is read.
func (s *StepConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return lineErr(n, "a step is a mapping with one key naming its kind (%s)", strings.Join(kindNames(), ", "))
	}
	s.Kind, s.Node, s.Line = n.Content[0].Value, n.Content[1], n.Line
	if _, ok := stepKinds[s.Kind]; !ok {
		return lineErr(n.Content[0], "unknown step %q: use one of %s", s.Kind, strings.Join(kindNames(), ", "))
	}
	return nil
}

// LineError is a config mistake at a place in a file.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// lineErr is an error at node n; Load adds the file name.
func lineErr(n *yaml.Node, format string, args ...any) error {
	return &LineError{Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

var yamlLineRe = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

// MaxConfigSize bounds a config file. A suite config is hand-written YAML:
// 1 MiB holds some ten thousand cases, and reading it costs under a second
// and some 80 MB; a larger file is a mistake (a log, an image, a device),
// refused before it is read.
const MaxConfigSize = 1 << 20

// Load reads and validates a config file.
func Load(path string) (*Config, error) { return LoadContext(context.Background(), path) }

// LoadContext reads and validates a config file within ctx (the run's
// budget): when ctx ends first, it returns at once with an error; the
// parsing it leaves behind is bounded by MaxConfigSize.
func LoadContext(ctx context.Context, path string) (*Config, error) {
	data, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		// Over before it began: say so, rather than race the parse.
		return nil, loadStopped(ctx, path, data)
	}
	type parsed struct {
		cfg *Config
		err error
	}
	done := make(chan parsed, 1)
	go func() {
		cfg, err := Parse(path, data)
		done <- parsed{cfg, err}
	}()
	select {
	case p := <-done:
		return p.cfg, p.err
	case <-ctx.Done():
		return nil, loadStopped(ctx, path, data)
	}
}

// loadStopped says why a config was not read: the run's budget, or a signal.
func loadStopped(ctx context.Context, path string, data []byte) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("config %s: not read within the run budget (%d KiB of YAML): give -t more time, or split the config", path, (len(data)+1023)>>10)
	}
	return fmt.Errorf("config %s: interrupted while reading it (%v)", path, context.Cause(ctx))
}

// readConfig reads a config file: a regular file (a symlink to one is
// fine) of at most MaxConfigSize. It is opened without blocking, so that a
// FIFO is refused instead of waiting for a writer, and its type is checked
// on the open file.
func readConfig(path string) ([]byte, error) {
	data, err := regfile.ReadAll(path, MaxConfigSize)
	var nr *regfile.NotRegularError
	switch {
	case err == nil:
		return data, nil
	case errors.As(err, &nr):
		return nil, fmt.Errorf("config %s: %s, not a regular file: give --config the path of a YAML file", path, nr.Kind)
	case errors.Is(err, regfile.ErrTooBig):
		return nil, fmt.Errorf("config %s: larger than %d MiB: a config is YAML text (is --config the right file?)", path, MaxConfigSize>>20)
	}
	return nil, fmt.Errorf("config %s (give --config FILE or set SUITECHECK_CONFIG)", err)
}

// Parse validates a config read from path. The file holds one YAML
// document: a second one (after ---) is an error at its line, not ignored.
func Parse(path string, data []byte) (*Config, error) {
	cfg := &Config{path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		return nil, syntaxErr(path, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &LineError{File: path, Line: next.Line, Msg: "a second YAML document starts here (---): put everything in one document"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxErr(path, err)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode && doc.ShortTag() != "!!null" {
		return nil, &LineError{File: path, Line: doc.Line, Msg: fmt.Sprintf("the config is %s, want a mapping with environments: and suites:", yamlKind(doc.ShortTag()))}
	}
	if le := checkShape(doc, reflect.TypeFor[Config](), true); le != nil {
		le.File = path
		return nil, le
	}
	if err := doc.Decode(cfg); err != nil {
		return nil, fileErr(path, err)
	}
	// The line numbers of environments, suites and cases, for messages.
	cfg.recordLines(doc)
	if err := cfg.validate(); err != nil {
		return nil, fileErr(path, err)
	}
	return cfg, nil
}

// syntaxErr reports a file that is not YAML, at the line the parser gives.
// The parser's errors carry no structure: the line is read from the text,
// the one place the config's messages depend on the library's wording.
func syntaxErr(path string, err error) error {
	if errors.Is(err, io.EOF) {
		return &LineError{File: path, Msg: "the file is empty: it needs environments and suites"}
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return &LineError{File: path, Line: line, Msg: m[2]}
	}
	return &LineError{File: path, Msg: msg}
}

// fileErr puts the file name first. The errors of a decode come from the
// config's own UnmarshalYAML methods, at their lines (checkShape caught
// every other kind of mistake before).
func fileErr(path string, err error) error {
	var le *LineError
	if errors.As(err, &le) {
		le.File = path
		return le
	}
	return &LineError{File: path, Msg: err.Error()}
}

// yamlKind names a YAML tag (!!str, !!seq, !!map…) as a person would.
func yamlKind(tag string) string {
	if !strings.HasPrefix(tag, "!!") {
		return fmt.Sprintf("a value tagged %q", tag)
	}
	switch strings.TrimPrefix(tag, "!!") {
	case "str":
		return "a string"
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "int", "float":
		return "a number"
	case "bool":
		return "true or false"
	case "null":
		return "empty"
	case "timestamp":
		return "a date"
	}
	return "a value of another kind"
}

// recordLines notes where each environment, suite and case starts.
func (c *Config) recordLines(doc *yaml.Node) {
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, val := doc.Content[i], doc.Content[i+1]
		switch key.Value {
		case "environments":
			for j := 0; j+1 < len(val.Content); j += 2 {
				if e := c.Environments[val.Content[j].Value]; e != nil {
					e.line = val.Content[j].Line
				}
			}
		case "suites":
			for j := 0; j+1 < len(val.Content); j += 2 {
				s := c.Suites[val.Content[j].Value]
				if s == nil {
					continue
				}
				s.line = val.Content[j].Line
				for k := 0; k+1 < len(val.Content[j+1].Content); k += 2 {
					if val.Content[j+1].Content[k].Value != "cases" {
						continue
					}
					for ci, cn := range val.Content[j+1].Content[k+1].Content {
						if ci < len(s.Cases) && s.Cases[ci] != nil {
							s.Cases[ci].line = cn.Line
						}
					}
				}
			}
		case "tenant":
			if c.Tenant != nil {
				c.Tenant.line = key.Line
			}
		}
	}
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (c *Config) validate() error {
	if len(c.Environments) == 0 {
		return &LineError{Msg: "no environments: add one, e.g. environments: {staging: {base_url: https://staging.example.com}}"}
	}
	if len(c.Suites) == 0 {
		return &LineError{Msg: "no suites: add one under suites:"}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Environments)) {
		e := c.Environments[name]
		if e == nil {
			return &LineError{Msg: fmt.Sprintf("environment %q is empty: give it a base_url", name)}
		}
		if e.BaseURL == "" {
			return &LineError{Line: e.line, Msg: fmt.Sprintf("environment %q has no base_url", name)}
		}
		for _, k := range slices.Sorted(maps.Keys(e.Vars)) {
			v := e.Vars[k]
			if _, ok := e.Secrets[k]; ok {
				return &LineError{Line: e.line, Msg: fmt.Sprintf("environment %q: %q is both a var and a secret", name, k)}
			}
			if err := checkTemplate(v); err != nil {
				return &LineError{Line: e.line, Msg: fmt.Sprintf("environment %q var %q: %v", name, k, err)}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(e.Secrets)) {
			if err := checkTemplate(e.Secrets[k]); err != nil {
				return &LineError{Line: e.line, Msg: fmt.Sprintf("environment %q secret %q: %v", name, k, err)}
			}
		}
		if err := checkTemplate(e.BaseURL); err != nil {
			return &LineError{Line: e.line, Msg: fmt.Sprintf("environment %q base_url: %v", name, err)}
		}
	}
	if c.Tenant != nil {
		if err := c.Tenant.validate(); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Suites)) {
		s := c.Suites[name]
		if s == nil || len(s.Cases) == 0 {
			line := 0
			if s != nil {
				line = s.line
			}
			return &LineError{Line: line, Msg: fmt.Sprintf("suite %q has no cases", name)}
		}
		if !nameRe.MatchString(name) {
			return &LineError{Line: s.line, Msg: fmt.Sprintf("suite name %q: use letters, digits, _ . -", name)}
		}
		if err := validateDiagnose("suite "+name, s.line, s.Diagnose); err != nil {
			return err
		}
		s.name = name
		if !s.Flaky.Set {
			s.Flaky = StateValue{State: checks.Warning, Set: true}
		}
		if err := checkRetryDelay(s.RetryDelay, s.line, fmt.Sprintf("suite %q", name)); err != nil {
			return err
		}
		labels := caseLabels{}
		for i, cs := range s.Cases {
			if cs == nil {
				return &LineError{Line: s.line, Msg: fmt.Sprintf("suite %q case %d is empty", name, i+1)}
			}
			if cs.Name == "" {
				return &LineError{Line: cs.line, Msg: fmt.Sprintf("suite %q case %d has no name", name, i+1)}
			}
			if strings.ContainsFunc(cs.Name, unicode.IsControl) {
				return &LineError{Line: cs.line, Msg: fmt.Sprintf("suite %q case %d: the name %q holds a line break or control character", name, i+1, cs.Name)}
			}
			if msg := labels.add(cs); msg != "" {
				return &LineError{Line: cs.line, Msg: fmt.Sprintf("suite %q: %s", name, msg)}
			}
			if cs.Retries < 0 || cs.Retries > MaxRetries {
				return &LineError{Line: cs.line, Msg: fmt.Sprintf("case %q: retries must be 0 to %d", cs.Name, MaxRetries)}
			}
			if err := checkRetryDelay(cs.RetryDelay, cs.line, fmt.Sprintf("case %q", cs.Name)); err != nil {
				return err
			}
			if cs.Console == "" {
				cs.Console = PolicyWarn
			}
			if cs.Command != nil {
				if err := cs.Command.validate(cs); err != nil {
					return err
				}
				continue
			}
			if len(cs.Steps) == 0 {
				return &LineError{Line: cs.line, Msg: fmt.Sprintf("case %q has no steps (or command)", cs.Name)}
			}
			for _, st := range cs.Steps {
				if st == nil {
					return &LineError{Line: cs.line, Msg: fmt.Sprintf("case %q has an empty step", cs.Name)}
				}
				if err := st.load(); err != nil {
					var le *LineError
					if errors.As(err, &le) {
						return le
					}
					return &LineError{Line: st.Line, Msg: fmt.Sprintf("case %q step %s: %v", cs.Name, st.Kind, err)}
				}
			}
			failFast(cs)
		}
	}
	return nil
}

// caseLabels are the perfdata labels a suite's cases emit so far, each
// with what emits it.
type caseLabels map[string]labelOwner

// labelOwner is what emits a perfdata label: a case's time, or a command
// case's count of tests.
type labelOwner struct{ caseName, what string }

// add checks the labels case cs emits — its time, and a command case's
// counts of tests — against the run's own (builtinLabels) and the other
// cases', and records them. It returns what collides, or "".
func (l caseLabels) add(cs *Case) string {
	own := checks.Label(cs.Name)
	emits := map[string]labelOwner{own: {cs.Name, "time"}}
	if cs.Command != nil {
		for _, k := range []string{"passed", "failed", "skipped"} {
			emits[own+"_"+k] = labelOwner{cs.Name, "count of " + k + " tests"}
		}
	}
	for _, label := range slices.Sorted(maps.Keys(emits)) {
		if what, ok := builtinLabels[label]; ok {
			return fmt.Sprintf("case %q: its perfdata label %q is the run's own (%s): rename the case", cs.Name, label, what)
		}
		other, ok := l[label]
		switch {
		case !ok:
		case emits[label].what == "time" && other.what == "time":
			return fmt.Sprintf("two cases are named %q (names must differ as perfdata labels)", cs.Name)
		default:
			return fmt.Sprintf("case %q: the perfdata label %q of its %s is also that of case %q's %s: rename one", cs.Name, label, emits[label].what, other.caseName, other.what)
		}
	}
	for label, o := range emits {
		l[label] = o
	}
	return ""
}

// SuiteNames lists the suites, sorted.
func (c *Config) SuiteNames() []string { return slices.Sorted(maps.Keys(c.Suites)) }

// EnvNames lists the environments, sorted.
func (c *Config) EnvNames() []string { return slices.Sorted(maps.Keys(c.Environments)) }

// Path is the file the config came from.
func (c *Config) Path() string { return c.path }

// Name is the suite's name in the config.
func (s *Suite) Name() string { return s.name }

// Environment picks the environment to run in: the one named, or the only
// one there is.
func (c *Config) Environment(name string) (string, *Environment, error) {
	if name == "" {
		if len(c.Environments) == 1 {
			for n, e := range c.Environments {
				return n, e, nil
			}
		}
		return "", nil, fmt.Errorf("%s: several environments: pick one with --env (%s)", c.path, strings.Join(c.EnvNames(), ", "))
	}
	e, ok := c.Environments[name]
	if !ok {
		return "", nil, fmt.Errorf("%s: no environment %q: use one of %s", c.path, name, strings.Join(c.EnvNames(), ", "))
	}
	return name, e, nil
}

// Suite finds a suite by name.
func (c *Config) Suite(name string) (*Suite, error) {
	s, ok := c.Suites[name]
	if !ok {
		return nil, fmt.Errorf("%s: no suite %q: use one of %s", c.path, name, strings.Join(c.SuiteNames(), ", "))
	}
	return s, nil
}
