package httpstep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/theory/jsonpath"
)

// pattern is an expected string: a literal, or a regexp written "/re/".
type pattern struct {
	src string
	re  *regexp.Regexp // nil for a literal
}

// isRegexpLiteral reports whether s is written as a regexp: "/re/", with a
// non-empty re.
func isRegexpLiteral(s string) bool {
	return len(s) >= 3 && s[0] == '/' && s[len(s)-1] == '/'
}

// parsePattern parses an expected string.
func parsePattern(s string) (pattern, error) {
	if !isRegexpLiteral(s) {
		return pattern{src: s}, nil
	}
	re, err := regexp.Compile(s[1 : len(s)-1])
	if err != nil {
		return pattern{src: s}, fmt.Errorf("bad regexp %s: %s", s, regexpProblem(err))
	}
	return pattern{src: s, re: re}, nil
}

// contains reports whether v contains the literal or matches the regexp.
func (p pattern) contains(v string) bool {
	if p.re != nil {
		return p.re.MatchString(v)
	}
	return strings.Contains(v, p.src)
}

// want says what the pattern wants, for messages.
func (p pattern) want() string {
	if p.re != nil {
		return "match " + p.src
	}
	return "it to contain " + strconv.Quote(p.src)
}

// normalize turns a value decoded from YAML into the JSON data model:
// map[string]any, []any, string, json.Number, bool and nil. YAML mappings
// with non-string keys (gopkg.in/yaml.v2 decodes map[any]any) get their
// keys as text.
func normalize(v any) (any, error) {
	b, err := encodeJSON(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b)
}

// encodeJSON encodes a value decoded from YAML as JSON, without escaping
// HTML characters.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(stringKeys(v)); err != nil {
		var ue *json.UnsupportedValueError
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("%s cannot be written in JSON", ue.Str)
		}
		return nil, fmt.Errorf("cannot be written in JSON: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// stringKeys copies v with every map[any]any turned into map[string]any.
func stringKeys(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = stringKeys(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = stringKeys(e)
		}
		return s
	}
	return v
}

// decodeJSON decodes one JSON value, numbers as json.Number so that they
// keep their exact text (ids beyond 2^53 stay exact).
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty")
		}
		return nil, err
	}
	end := dec.InputOffset()
	switch _, err := dec.Token(); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("more than one JSON value (offset %d)", end)
	}
	return v, nil
}

// jsonText is the compact JSON text of a value in the JSON data model.
func jsonText(v any) string {
	b, err := encodeJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// valueText is a value as a variable holds it, and as a regexp sees it: a
// string's content, or the JSON text of any other value.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonText(v)
}

// jsonCheck is one expect.json entry.
type jsonCheck struct {
	src   string // the JSONPath as written
	path  *jsonpath.Path
	want  any            // in the JSON data model; unused with re
	re    *regexp.Regexp // a "/re/" string
	reSrc string
}

func newJSONCheck(src string, path *jsonpath.Path, want any) (jsonCheck, error) {
	jc := jsonCheck{src: src, path: path}
	if s, ok := want.(string); ok && isRegexpLiteral(s) {
		p, err := parsePattern(s)
		if err != nil {
			return jc, err
		}
		jc.re, jc.reSrc = p.re, s
		return jc, nil
	}
	w, err := normalize(want)
	if err != nil {
		return jc, err
	}
	jc.want = w
	return jc, nil
}

// matches reports whether a selected value meets the check.
func (jc jsonCheck) matches(got any) bool {
	if jc.re != nil {
		return jc.re.MatchString(valueText(got))
	}
	return valueMatches(jc.want, got)
}

// wantText says what the check wants, for messages.
func (jc jsonCheck) wantText() string {
	if jc.re != nil {
		return "match " + jc.reSrc
	}
	return jsonText(jc.want)
}

// valueMatches compares an expected and an actual value, both in the JSON
// data model: by JSON value, except that an expected string also equals a
// number, boolean or null whose JSON text it is.
func valueMatches(want, got any) bool {
	if s, ok := want.(string); ok {
		switch g := got.(type) {
		case string:
			return s == g
		case json.Number:
			return isJSONNumber(s) && numbersEqual(s, string(g))
		case bool:
			return s == strconv.FormatBool(g)
		case nil:
			return s == "null"
		}
		return false
	}
	return jsonEqual(want, got)
}

// jsonEqual compares two values of the JSON data model, numbers by value.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case json.Number:
		bn, ok := b.(json.Number)
		return ok && numbersEqual(string(a), string(bn))
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], bs[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, av := range a {
			bv, ok := bm[k]
			if !ok || !jsonEqual(av, bv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// isJSONNumber reports whether s is a number in JSON syntax.
func isJSONNumber(s string) bool {
	// A number starts with - or a digit and ends with a digit: no
	// whitespace around it, which json.Unmarshal would allow.
	if s == "" || (s[0] != '-' && !isDigit(s[0])) || !isDigit(s[len(s)-1]) {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// numbersEqual compares two numbers in JSON syntax by value: integers
// exactly, others as float64. Numbers beyond float64's range are equal only
// when written alike.
func numbersEqual(a, b string) bool {
	if a == b {
		return true
	}
	if isInteger(a) && isInteger(b) {
		// JSON writes an integer one way only (no leading zeros, no
		// plus sign), but for the sign of zero.
		return strings.TrimPrefix(a, "-") == "0" && strings.TrimPrefix(b, "-") == "0"
	}
	x, errx := strconv.ParseFloat(a, 64)
	y, erry := strconv.ParseFloat(b, 64)
	if errx != nil || erry != nil || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return false
	}
	return x == y
}

func isInteger(s string) bool {
	return !strings.ContainsAny(s, ".eE")
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
