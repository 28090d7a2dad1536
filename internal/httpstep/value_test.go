package httpstep

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/suitecheck/suitecheck/internal/secret"
)

func TestValueMatches(t *testing.T) {
	tests := []struct {
		want any    // as decoded from YAML
		got  string // JSON text
		ok   bool
	}{
		{42, `42`, true},
		{42, `42.0`, true},
		{42, `4.2e1`, true},
		{42.5, `42.5`, true},
		{42, `43`, false},
		{"42", `42`, true},
		{"42.0", `42`, true},
		{"4x", `4`, false},
		{"", `0`, false},
		{"-0", `0`, true},
		{0, `-0`, true},
		{"12345678901234567890", `12345678901234567890`, true},
		{"12345678901234567891", `12345678901234567890`, false},
		{42, `"42"`, false},
		{"bob", `"bob"`, true},
		{"bob", `"Bob"`, false},
		{true, `true`, true},
		{true, `false`, false},
		{"true", `true`, true},
		{"true", `"true"`, true},
		{1, `true`, false},
		{nil, `null`, true},
		{nil, `0`, false},
		{nil, `""`, false},
		{"null", `null`, true},
		{"", `null`, false},
		{[]any{1, "a"}, `[1.0,"a"]`, true},
		{[]any{1, "a"}, `["a",1]`, false},
		{[]any{}, `{}`, false},
		{map[string]any{"a": []any{nil}}, `{"a":[null]}`, true},
		{map[string]any{"a": 1}, `{"a":1,"b":2}`, false},
		{map[string]any{"a": "1"}, `{"a":1}`, false}, // leniency is for scalars at the top only
		{"[1]", `[1]`, false},
	}
	for _, tt := range tests {
		want, err := normalize(tt.want)
		if err != nil {
			t.Fatalf("normalize(%v): %v", tt.want, err)
		}
		got, err := decodeJSON([]byte(tt.got))
		if err != nil {
			t.Fatalf("decode %s: %v", tt.got, err)
		}
		if ok := valueMatches(want, got); ok != tt.ok {
			t.Errorf("valueMatches(%#v, %s) = %v, want %v", tt.want, tt.got, ok, tt.ok)
		}
	}
}

func TestParsePattern(t *testing.T) {
	tests := []struct {
		src, value string
		re, ok     bool
		err        string
	}{
		{src: "json", value: "application/json", ok: true},
		{src: "JSON", value: "application/json"},
		{src: "/", value: "a/b", ok: true},
		{src: "//", value: "a//b", ok: true}, // too short for a regexp
		{src: "/^a/", value: "abc", re: true, ok: true},
		{src: "/^a/", value: "bac", re: true},
		{src: "/(?i)JSON/", value: "application/json", re: true, ok: true},
		{src: "/(/", err: `bad regexp /(/: missing closing ) in "("`},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.src)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parsePattern(%q) error = %v, want %s", tt.src, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("parsePattern(%q): %v", tt.src, err)
		}
		if (p.re != nil) != tt.re || p.contains(tt.value) != tt.ok {
			t.Errorf("parsePattern(%q): regexp %v, contains(%q) = %v; want %v, %v", tt.src, p.re != nil, tt.value, p.contains(tt.value), tt.re, tt.ok)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	for in, want := range map[string]string{
		``:          "empty",
		`   `:       "empty",
		`{"a":1} x`: "invalid character 'x' looking for beginning of value",
		`{"a":1}{}`: "more than one JSON value (offset 7)",
		`{"a":`:     "unexpected EOF",
	} {
		if _, err := decodeJSON([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("decodeJSON(%q) error = %v, want %s", in, err, want)
		}
	}
	v, err := decodeJSON([]byte(` {"n": 12345678901234567890} `))
	if err != nil || valueText(v.(map[string]any)["n"]) != "12345678901234567890" {
		t.Errorf("decodeJSON keeps big numbers exact: %v, %v", v, err)
	}
}

func TestExcerpt(t *testing.T) {
	m := newMasker([]string{"hunter22", `q"uote`, "ab"})
	tests := []struct {
		in   string
		more bool
		want string
	}{
		{"plain", false, `"plain"`},
		{"line\nbreak\t\x00", false, `"line\nbreak\t\x00"`},
		{"bad \xff utf8", false, `"bad ` + "\uFFFD" + ` utf8"`},
		{"pw=hunter22&x=hunter22", false, `"pw=****&x=****"`},
		{"pw=hunter22", true, `"pw=****…"`},
		{`{"p":"q\"uote"}`, false, `"{\"p\":\"****\"}"`},
		{"pw=hunter%32%32", false, `"pw=****"`}, // percent-encoded: a form of the secret
		{"ab is too short to mask", false, `"ab is too short to mask"`},
		{"start of a secret at the cut: hunt", true, `"start of a secret at the cut: …"`},
		{"not the start of a secret: hunk", true, `"not the start of a secret: hunk…"`},
		{"the start of its base64: xInV", true, `"the start of its base64: …"`}, // of q"uote after two other bytes
		{strings.Repeat("é", 100), false, `"` + strings.Repeat("é", 57) + `…"`},
		{strings.Repeat("\x01", 100), false, `"` + strings.Repeat(`\x01`, 28) + `…"`},
		{strings.Repeat("x", 118), false, `"` + strings.Repeat("x", 118) + `"`},
		{strings.Repeat("x", 119), false, `"` + strings.Repeat("x", 115) + `…"`},
	}
	for _, tt := range tests {
		got := m.quote([]byte(tt.in), tt.more)
		if got != tt.want {
			t.Errorf("quote(%q, %v) =\n%s\nwant\n%s", tt.in, tt.more, got, tt.want)
		}
		if len(got) > snippetMax || !utf8.ValidString(got) {
			t.Errorf("quote(%q) = %q: %d bytes or not UTF-8", tt.in, got, len(got))
		}
	}
	if got := m.clip(`{"a":"` + strings.Repeat("x", 200) + `"}`); len(got) > snippetMax || !strings.HasSuffix(got, "…") {
		t.Errorf("clip = %q", got)
	}
}

func TestDescribe(t *testing.T) {
	p := &plan{timeout: 2 * time.Second}
	bg := context.Background()
	opErr := func(op string, err error) error {
		return &url.Error{Op: "Get", URL: "http://h/?token=x", Err: &net.OpError{Op: op, Net: "tcp", Err: err}}
	}
	tests := []struct {
		err  error
		want string
	}{
		{opErr("dial", os.NewSyscallError("connect", syscall.ECONNREFUSED)), "connect: connection refused"},
		{opErr("dial", errors.New("i/o timeout")), "connect: i/o timeout"},
		{opErr("read", os.NewSyscallError("read", syscall.ECONNRESET)), "read: connection reset by peer"},
		{&url.Error{Err: &net.DNSError{Err: "no such host", Name: "app.invalid", IsNotFound: true}}, "DNS: app.invalid: no such host"},
		{&url.Error{Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}}, "TLS: x509: certificate is not valid for any names, but wanted to match h"},
		{&url.Error{Err: io.EOF}, "the server closed the connection before the response was complete"},
		{&url.Error{Err: errors.New("net/http: HTTP/1.x transport connection broken: x")}, "HTTP/1.x transport connection broken: x"},
		{&url.Error{Err: errTooManyRedirects}, "stopped after 10 redirects"},
	}
	for _, tt := range tests {
		if got := describe(bg, bg, p, tt.err, time.Second); got != tt.want {
			t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// FuzzPattern: any expected string parses without panic, and a "/re/" that
// parses is a regexp.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"", "/", "//", "/a/", "/(/", "a/b/", `/^\d+$/`, "/[/]/", "/\xff/"} {
		f.Add(s, "value")
	}
	f.Fuzz(func(t *testing.T, src, value string) {
		p, err := parsePattern(src)
		if err != nil {
			if !isRegexpLiteral(src) || !strings.HasPrefix(err.Error(), "bad regexp ") {
				t.Fatalf("parsePattern(%q): unexpected error %v", src, err)
			}
			return
		}
		if isRegexpLiteral(src) != (p.re != nil) {
			t.Fatalf("parsePattern(%q): regexp = %v", src, p.re)
		}
		if p.re == nil && !p.contains(src) {
			t.Fatalf("literal %q does not contain itself", src)
		}
		p.contains(value)
		_ = p.want()
	})
}

// FuzzJSONCompare: comparison of JSON values is reflexive and symmetric,
// survives normalizing, and never panics.
func FuzzJSONCompare(f *testing.F) {
	for _, s := range [][2]string{
		{`1`, `1.0`}, {`-0`, `0`}, {`1e400`, `1e400`}, {`{"a":[1,"x",null]}`, `{"a":[1,"x",null]}`},
		{`"42"`, `42`}, {`true`, `"true"`}, {`12345678901234567890`, `12345678901234567891`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x, errx := decodeJSON([]byte(a))
		y, erry := decodeJSON([]byte(b))
		if errx != nil || erry != nil {
			return
		}
		if !jsonEqual(x, x) || !valueMatches(x, x) {
			t.Fatalf("%s does not equal itself", a)
		}
		if jsonEqual(x, y) != jsonEqual(y, x) {
			t.Fatalf("jsonEqual(%s, %s) is not symmetric", a, b)
		}
		if jsonEqual(x, y) && !valueMatches(x, y) {
			t.Fatalf("%s equals %s but does not match it", a, b)
		}
		n, err := normalize(x)
		if err != nil || !jsonEqual(n, x) {
			t.Fatalf("normalize(%s) = %v, %v", a, n, err)
		}
		if s, ok := x.(string); ok && isJSONNumber(s) {
			if _, err := strconv.ParseFloat(s, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
				t.Fatalf("isJSONNumber(%q) but ParseFloat: %v", s, err)
			}
		}
		_ = valueMatches(x, y)
		_ = jsonText(x)
	})
}

// FuzzExcerpt: a snippet of any response is short, valid UTF-8, quoted,
// and shows no secret.
func FuzzExcerpt(f *testing.F) {
	f.Add([]byte("error: token tok-123 expired"), "tok-123", false)
	f.Add([]byte(strings.Repeat("x", 200)+"secret"), "secret", true)
	f.Add([]byte("\xff\xfe\x00 é"), "abc", false)
	f.Fuzz(func(t *testing.T, body []byte, sec string, more bool) {
		m := newMasker([]string{sec})
		q := m.quote(body, more)
		if len(q) > snippetMax || !utf8.ValidString(q) {
			t.Fatalf("quote = %q: %d bytes, valid UTF-8 %v", q, len(q), utf8.ValidString(q))
		}
		if _, err := strconv.Unquote(strings.Replace(q, "…", "", 1)); err != nil {
			t.Fatalf("quote = %s: not a quoted string: %v", q, err)
		}
		// Where quoting leaves text as it is, the secret cannot show.
		if len(sec) >= secret.MinLen && plainASCII(sec) && plainASCII(string(body)) && strings.Contains(q, sec) {
			t.Fatalf("quote(%q) = %s shows the secret %q", body, q, sec)
		}
		if c := m.clip(string(body)); len(c) > snippetMax || !utf8.ValidString(c) {
			t.Fatalf("clip = %q", c)
		}
	})
}

// plainASCII: printable ASCII that Go quoting leaves alone.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\' {
			return false
		}
	}
	return true
}

// FuzzValidate: any step strings validate or fail with a message, never
// panic; a step that validates compiles for Do.
func FuzzValidate(f *testing.F) {
	f.Add("GET", "http://h/x", "X-A", "/a/", `\d+`, "$.id", "id")
	f.Add("", "{{.BaseURL}}/x", "", "", "(", "id", "1x")
	f.Fuzz(func(t *testing.T, method, rawURL, header, pattern, re, path, name string) {
		s := Step{
			Method: method, URL: rawURL,
			Expect:  Expect{Headers: map[string]string{header: pattern}, BodyRegexp: re, JSON: map[string]any{path: pattern}},
			Extract: map[string]Extraction{name: {JSON: path, Regexp: re}},
		}
		err := s.Validate()
		if err != nil && strings.TrimSpace(err.Error()) == "" {
			t.Fatal("empty message")
		}
		if err == nil && !strings.Contains(fmt.Sprint(method, rawURL, header, pattern, re, path), "{{") {
			if _, err := s.compile(false); err != nil {
				t.Fatalf("Validate passed but compile: %v", err)
			}
		}
	})
}

func TestNormalizeErrors(t *testing.T) {
	if _, err := normalize(map[string]any{"f": func() {}}); err == nil {
		t.Error("normalize(func) = nil error")
	}
	b, _ := json.Marshal(nil)
	if v, err := normalize(nil); err != nil || v != nil || string(b) != "null" {
		t.Errorf("normalize(nil) = %v, %v", v, err)
	}
}
