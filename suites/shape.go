package suites

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checkShape checks that the YAML node n fits a value of type t before it is
// decoded, and says what does not in the config's own words, at the line of
// the offending key or value: an unknown key, a list where a mapping
// belongs, a duration without a unit, a template in a value that is not
// text. The YAML library's own messages name Go types and tags, and carry
// no structure to reword them by; decoding a node that passed this check
// fails only in a type's own UnmarshalYAML, whose words are ours.
//
// named says whether an unknown key names its section ("unknown key "x"
// in case", by sectionName); a step's body leaves it out, since the
// caller names the step.
func checkShape(n *yaml.Node, t reflect.Type, named bool) *LineError {
	return shapeOf(n, t, named)
}

// sectionNames names the config's sections for messages; other structs go
// by their type's name in lower case.
var sectionNames = map[reflect.Type]string{
	reflect.TypeFor[CommandCase]():    "command",
	reflect.TypeFor[TenantConfig]():   "tenant",
	reflect.TypeFor[TenantHTTP]():     "tenant http",
	reflect.TypeFor[TenantHTTPList](): "tenant http list",
	reflect.TypeFor[TenantHTTPGet]():  "tenant http get",
	reflect.TypeFor[TenantSQL]():      "tenant sql",
	reflect.TypeFor[SQLStatement]():   "tenant sql statement",
	reflect.TypeFor[TenantCommand]():  "tenant command",
	reflect.TypeFor[GenerateField]():  "generate",
}

func sectionName(t reflect.Type) string {
	if s, ok := sectionNames[t]; ok {
		return s
	}
	return strings.ToLower(t.Name())
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	nodeType     = reflect.TypeFor[yaml.Node]()
	// A type with either UnmarshalYAML checks its own shape.
	unmarshalerType    = reflect.TypeFor[yaml.Unmarshaler]()
	funcUnmarshalerTyp = reflect.TypeFor[interface {
		UnmarshalYAML(func(any) error) error
	}]()
)

func shapeOf(n *yaml.Node, t reflect.Type, named bool) *LineError {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return shapeOf(n.Alias, t, named)
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return shapeOf(n.Content[0], t, named)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // the zero value, whatever the type
	}
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "{{") &&
		t.Kind() != reflect.String && t.Kind() != reflect.Interface && t != nodeType {
		return &LineError{Line: n.Line, Msg: fmt.Sprintf("%q: a template can fill a text value only; give %s here", n.Value, describeType(t))}
	}
	if t == nodeType || t.Kind() == reflect.Interface ||
		reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(funcUnmarshalerTyp) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return wrongShape(n, t)
		}
		return shapeOfMapping(n, t, named)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return wrongShape(n, t)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Kind != yaml.ScalarNode {
				return &LineError{Line: n.Content[i].Line, Msg: "a key must be a plain value, not a list or mapping"}
			}
			if err := shapeOf(n.Content[i+1], t.Elem(), named); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return wrongShape(n, t)
		}
		for _, c := range n.Content {
			if err := shapeOf(c, t.Elem(), named); err != nil {
				return err
			}
		}
		return nil
	}
	// A scalar type: a string, a number, true or false, a duration.
	if n.Kind != yaml.ScalarNode {
		return wrongShape(n, t)
	}
	if t == durationType {
		if _, err := time.ParseDuration(n.Value); err != nil {
			return wrongShape(n, t)
		}
		return nil
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return wrongShape(n, t)
	}
	return nil
}

// shapeOfMapping checks a mapping against a struct's fields, by their yaml
// names; merge keys (<<) bring in mappings checked the same way.
func shapeOfMapping(n *yaml.Node, t reflect.Type, named bool) *LineError {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					if err := shapeOf(m, t, named); err != nil {
						return err
					}
				}
				continue
			}
			if err := shapeOf(v, t, named); err != nil {
				return err
			}
			continue
		}
		ft, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if named {
				msg += " in " + sectionName(t)
			}
			return &LineError{Line: k.Line, Msg: msg}
		}
		if err := shapeOf(v, ft, named); err != nil {
			return err
		}
	}
	return nil
}

// yamlFields maps a struct's yaml keys to their types, as go.yaml.in/yaml
// names them: the tag's name, else the field's name in lower case; "-" and
// unexported fields are not keys; ",inline" structs bring in theirs.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// wrongShape says what a value is and what was wanted:
// `"5x" is a string, want a duration such as 30s, 1m30s or 500ms`.
func wrongShape(n *yaml.Node, t reflect.Type) *LineError {
	tag := n.ShortTag()
	if n.Kind == yaml.ScalarNode {
		return &LineError{Line: n.Line, Msg: fmt.Sprintf("%q is %s, want %s", n.Value, yamlKind(tag), describeType(t))}
	}
	return &LineError{Line: n.Line, Msg: fmt.Sprintf("%s, want %s", yamlKind(tag), describeType(t))}
}

// describeType names a kind of config value as a person would.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "a duration such as 30s, 1m30s or 500ms"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "a value of another kind"
}
