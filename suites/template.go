package suites

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"text/template"
	"text/template/parse"

	"go.yaml.in/yaml/v3"

	"github.com/suitecheck/suitecheck/internal/regfile"
	"github.com/suitecheck/suitecheck/internal/secret"
)

// Scope is what templates see: {{.BaseURL}}, {{.Env}}, {{.Vars.x}} (the
// environment's vars and secrets, and values extracted by earlier steps),
// {{.Tenant.x}}.
type Scope struct {
	BaseURL string
	Env     string
	Vars    map[string]string
	Tenant  map[string]string
}

// maxFileBytes caps what {{file "path"}} reads.
const maxFileBytes = 1 << 20

var templateFuncs = template.FuncMap{
	"env": func(name string) (string, error) {
		v, ok := os.LookupEnv(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		return v, nil
	},
	"file": func(path string) (string, error) {
		b, err := regfile.ReadAll(path, maxFileBytes) // a FIFO or a device would block or never end
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	},
}

func parseTemplate(s string) (*template.Template, error) {
	return template.New("value").Option("missingkey=error").Funcs(templateFuncs).Parse(s)
}

// checkTemplate reports a template's syntax errors at load time.
func checkTemplate(s string) error {
	if !strings.Contains(s, "{{") {
		return nil
	}
	t, err := parseTemplate(s)
	if err != nil {
		return fmt.Errorf("bad template %q: %s", s, strings.TrimPrefix(err.Error(), "template: value:"))
	}
	if f := unknownField(t.Tree.Root); f != "" {
		return fmt.Errorf("template %q: unknown field .%s: use .BaseURL, .Env, .Vars.NAME or .Tenant.NAME", s, f)
	}
	return nil
}

// unknownField finds a {{.Field}} that Scope does not have.
func unknownField(n parse.Node) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if f := unknownField(c); f != "" {
				return f
			}
		}
	case *parse.ActionNode:
		return unknownField(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Cmds {
			if f := unknownField(c); f != "" {
				return f
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if f := unknownField(a); f != "" {
				return f
			}
		}
	case *parse.FieldNode:
		switch n.Ident[0] {
		case "BaseURL", "Env", "Vars", "Tenant":
			if (n.Ident[0] == "Vars" || n.Ident[0] == "Tenant") && len(n.Ident) == 1 {
				return n.Ident[0] + " needs a name"
			}
			return ""
		}
		return n.Ident[0]
	case *parse.IfNode:
		return firstOf(unknownField(n.Pipe), unknownField(n.List), unknownField(n.ElseList))
	case *parse.RangeNode:
		return firstOf(unknownField(n.Pipe), unknownField(n.List), unknownField(n.ElseList))
	case *parse.WithNode:
		return firstOf(unknownField(n.Pipe), unknownField(n.List), unknownField(n.ElseList))
	}
	return ""
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Render fills a template with the scope.
func (sc *Scope) Render(s string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	t, err := parseTemplate(s)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, sc); err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "template: ") {
			msg = msg[i+2:]
		}
		return "", fmt.Errorf("template %q: %s", s, msg)
	}
	return b.String(), nil
}

// checkNodeTemplates checks every string in a step's body.
func checkNodeTemplates(n *yaml.Node) error {
	var first error
	walkStrings(n, func(s *yaml.Node) {
		if first == nil {
			if err := checkTemplate(s.Value); err != nil {
				first = &LineError{Line: s.Line, Msg: err.Error()}
			}
		}
	})
	return first
}

// renderNode returns a copy of n with every string value rendered.
func (sc *Scope) renderNode(n *yaml.Node) (*yaml.Node, error) {
	c := deepCopy(n)
	var first error
	walkStrings(c, func(s *yaml.Node) {
		if first != nil {
			return
		}
		v, err := sc.Render(s.Value)
		if err != nil {
			first = err
			return
		}
		s.Value = v
	})
	return c, first
}

// renderValue returns a copy of v with every text value rendered: strings
// in fields, lists, map values and untyped (any) values, never map keys
// (JSONPaths, header and variable names), as in the YAML they came from.
// v is left as it was: a step's config is rendered anew on every run.
func renderValue[T any](sc *Scope, v T) (T, error) {
	out, err := sc.renderReflect(reflect.ValueOf(&v).Elem())
	if err != nil {
		return v, err
	}
	return out.Interface().(T), nil
}

func (sc *Scope) renderReflect(v reflect.Value) (reflect.Value, error) {
	switch v.Kind() {
	case reflect.String:
		s, err := sc.Render(v.String())
		if err != nil {
			return v, err
		}
		out := reflect.New(v.Type()).Elem()
		out.SetString(s)
		return out, nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return v, nil
		}
		e, err := sc.renderReflect(v.Elem())
		if err != nil {
			return v, err
		}
		if v.Kind() == reflect.Pointer {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(e)
			return p, nil
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(e)
		return out, nil
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			f, err := sc.renderReflect(v.Field(i))
			if err != nil {
				return v, err
			}
			out.Field(i).Set(f)
		}
		return out, nil
	case reflect.Slice:
		if v.IsNil() {
			return v, nil
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			e, err := sc.renderReflect(v.Index(i))
			if err != nil {
				return v, err
			}
			out.Index(i).Set(e)
		}
		return out, nil
	case reflect.Map:
		if v.IsNil() {
			return v, nil
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			e, err := sc.renderReflect(it.Value())
			if err != nil {
				return v, err
			}
			out.SetMapIndex(it.Key(), e)
		}
		return out, nil
	}
	return v, nil
}

// walkStrings calls fn for every string scalar that is a value, not a key.
func walkStrings(n *yaml.Node, fn func(*yaml.Node)) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" || n.Tag == "" {
			fn(n)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			walkStrings(n.Content[i], fn)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			walkStrings(c, fn)
		}
	case yaml.AliasNode:
		// Aliases point into nodes walked elsewhere.
	}
}

func deepCopy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = deepCopy(ch)
	}
	return &c
}

// Masker replaces the run's secrets with ****, in every form they take in
// output (URL-, JSON-, Go-, HTML-escaped, base64…): see package
// internal/secret. Secrets shorter than three bytes are not masked: they
// would blank out ordinary text.
type Masker = secret.Masker
