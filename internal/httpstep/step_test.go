package httpstep

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeYAML decodes steps the way the config loader does: strictly.
func decodeYAML(t *testing.T, src string) []Step {
	t.Helper()
	var items []struct {
		HTTP Step `yaml:"http"`
	}
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&items); err != nil {
		t.Fatalf("decode: %v", err)
	}
	steps := make([]Step, len(items))
	for i, it := range items {
		steps[i] = it.HTTP
	}
	return steps
}

func TestDecodeYAML(t *testing.T) {
	steps := decodeYAML(t, `
- http:
    method: POST
    url: "{{.BaseURL}}/api/messages"
    bearer: "{{.Vars.token}}"
    json: {text: "hello"}
    expect: {status: [201], json: {"$.text": "hello"}, headers: {Content-Type: application/json}}
    extract: {message_id: {json: "$.id"}}
- http:
    url: https://example.com/login
    basic_auth: {user: alice, password: pw}
    form: {a: "1"}
    follow_redirects: false
    timeout: 2s
    expect:
      status: 302
      body: Welcome
      body_regexp: 'W\w+'
      max_body_bytes: 4096
    extract:
      token: {header: X-Token, regexp: "^t-(.*)", secret: true}
- http:
    url: https://example.com/
    expect: {status: ["200", 204]}
`)
	want := []Step{{
		Method: "POST",
		URL:    "{{.BaseURL}}/api/messages",
		Bearer: "{{.Vars.token}}",
		JSON:   map[string]any{"text": "hello"},
		Expect: Expect{
			Status:  StatusList{201},
			JSON:    map[string]any{"$.text": "hello"},
			Headers: map[string]string{"Content-Type": "application/json"},
		},
		Extract: map[string]Extraction{"message_id": {JSON: "$.id"}},
	}, {
		URL:             "https://example.com/login",
		BasicAuth:       &BasicAuth{User: "alice", Password: "pw"},
		Form:            map[string]string{"a": "1"},
		FollowRedirects: new(false),
		Timeout:         2 * time.Second,
		Expect: Expect{
			Status:       StatusList{302},
			Body:         "Welcome",
			BodyRegexp:   `W\w+`,
			MaxBodyBytes: 4096,
		},
		Extract: map[string]Extraction{"token": {Header: "X-Token", Regexp: "^t-(.*)", Secret: true}},
	}, {
		URL:    "https://example.com/",
		Expect: Expect{Status: StatusList{200, 204}},
	}}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", steps, want)
	}
	for i, s := range steps {
		if err := s.Validate(); err != nil {
			t.Errorf("step %d: Validate: %v", i, err)
		}
	}
}

func TestStatusListYAMLErrors(t *testing.T) {
	for _, src := range []string{`status: abc`, `status: [200, {a: 1}]`, `status: 2.5`} {
		var e Expect
		err := yaml.Unmarshal([]byte(src), &e)
		if err == nil || !strings.Contains(err.Error(), "give a status code such as 200") {
			t.Errorf("%s: error %v, want a hint", src, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := "https://example.com/api"
	tests := []struct {
		name string
		step Step
		want string
	}{
		{"no url", Step{}, `url is required, e.g. url: "{{.BaseURL}}/api/health"`},
		{"bad method", Step{Method: "GE T", URL: ok},
			`method "GE T" is not an HTTP method: use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS`},
		{"relative url", Step{URL: "/api/x"},
			`url "/api/x" is not absolute: start it with http:// or https://, e.g. "{{.BaseURL}}/api/x"`},
		{"host without scheme", Step{URL: "example.com/x"},
			`url "example.com/x" is not absolute: start it with http:// or https://, e.g. "http://host/path"`},
		{"scheme", Step{URL: "ftp://h/x"}, `url "ftp://h/x": scheme "ftp" is not supported: use http or https`},
		{"no host", Step{URL: "http:///x"}, `url "http:///x" has no host`},
		{"bad escape", Step{URL: "http://h/%zz"}, `url "http://h/%zz": invalid URL escape "%zz"`},
		{"password in url is masked", Step{URL: "ftp://u:hunter22@h/"},
			`url "ftp://u:****@h/": scheme "ftp" is not supported: use http or https`},
		{"two bodies", Step{URL: ok, Body: "x", Form: map[string]string{"a": "b"}}, `give only one of body, json and form`},
		{"json not encodable", Step{URL: ok, JSON: map[string]any{"a": math.NaN()}}, `json: NaN cannot be written in JSON`},
		{"basic and bearer", Step{URL: ok, BasicAuth: &BasicAuth{User: "u"}, Bearer: "token"},
			`give basic_auth or bearer, not both`},
		{"bearer and header", Step{URL: ok, Bearer: "token", Headers: map[string]string{"authorization": "x"}},
			`headers: Authorization is set by basic_auth or bearer: give only one of them`},
		{"basic without user", Step{URL: ok, BasicAuth: &BasicAuth{Password: "secret"}}, `basic_auth: user is required`},
		{"basic user with colon", Step{URL: ok, BasicAuth: &BasicAuth{User: "a:b"}}, `basic_auth: the user cannot contain a colon`},
		{"header name", Step{URL: ok, Headers: map[string]string{"Bad Name": "x"}}, `headers: "Bad Name" is not a valid header name`},
		{"header value", Step{URL: ok, Headers: map[string]string{"X-A": "a\nb"}}, `headers: the value of X-A has a line break`},
		{"negative timeout", Step{URL: ok, Timeout: -time.Second}, `timeout -1s: must be positive, e.g. timeout: 10s`},
		{"timeout without unit", Step{URL: ok, Timeout: 10}, `timeout 10ns is too short: give a unit, e.g. timeout: 10s`},
		{"status too big", Step{URL: ok, Expect: Expect{Status: StatusList{200, 600}}},
			`expect.status: 600 is not an HTTP status code (100-599)`},
		{"status too small", Step{URL: ok, Expect: Expect{Status: StatusList{99}}},
			`expect.status: 99 is not an HTTP status code (100-599)`},
		{"expect header name", Step{URL: ok, Expect: Expect{Headers: map[string]string{"A B": "x"}}},
			`expect.headers: "A B" is not a valid header name`},
		{"expect header regexp", Step{URL: ok, Expect: Expect{Headers: map[string]string{"X-A": "/(/"}}},
			`expect.headers.X-A: bad regexp /(/: missing closing ) in "("`},
		{"body regexp", Step{URL: ok, Expect: Expect{BodyRegexp: "[a-"}},
			`expect.body_regexp: bad regexp "[a-": missing closing ] in "[a-"`},
		{"json path without root", Step{URL: ok, Expect: Expect{JSON: map[string]any{"id": 1}}},
			`expect.json: bad JSONPath "id": unexpected identifier at position 1: a JSONPath starts at the root, e.g. "$.id"`},
		{"json path syntax", Step{URL: ok, Expect: Expect{JSON: map[string]any{"$.[": 1}}},
			`expect.json: bad JSONPath "$.[": unexpected '[' at position 3`},
		{"json regexp", Step{URL: ok, Expect: Expect{JSON: map[string]any{"$.a": "/(/"}}},
			`expect.json $.a: bad regexp /(/: missing closing ) in "("`},
		{"json value", Step{URL: ok, Expect: Expect{JSON: map[string]any{"$.a": math.Inf(1)}}},
			`expect.json $.a: +Inf cannot be written in JSON`},
		{"max body", Step{URL: ok, Expect: Expect{MaxBodyBytes: -1}},
			`expect.max_body_bytes -1: must be 0 (for the default, 1 MiB) or more`},
		{"extract name", Step{URL: ok, Extract: map[string]Extraction{"message-id": {JSON: "$.id"}}},
			`extract: name "message-id": use letters, digits and _ only, not starting with a digit, so that {{.Vars.NAME}} can use it`},
		{"extract nothing", Step{URL: ok, Extract: map[string]Extraction{"x": {}}},
			`extract.x: give one of json, header, html or regexp`},
		{"extract two sources", Step{URL: ok, Extract: map[string]Extraction{"x": {JSON: "$.a", Header: "X-A"}}},
			`extract.x: give one of json, header or html, not several (a regexp may go with any)`},
		{"extract json path", Step{URL: ok, Extract: map[string]Extraction{"x": {JSON: "a"}}},
			`extract.x.json: bad JSONPath "a": unexpected identifier at position 1: a JSONPath starts at the root, e.g. "$.id"`},
		{"extract header", Step{URL: ok, Extract: map[string]Extraction{"x": {Header: "Bad Name"}}},
			`extract.x.header: "Bad Name" is not a valid header name`},
		{"extract regexp", Step{URL: ok, Extract: map[string]Extraction{"x": {Regexp: "("}}},
			`extract.x.regexp: bad regexp "(": missing closing ) in "("`},
		{"every problem, one a line", Step{Method: "A B", URL: ok, Expect: Expect{Status: StatusList{1}}},
			"method \"A B\" is not an HTTP method: use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS\n" +
				"expect.status: 1 is not an HTTP status code (100-599)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.step.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Validate() =\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestValidateLeavesTemplatesForRunTime(t *testing.T) {
	s := Step{
		Method:  "{{.Vars.method}}",
		URL:     "{{.BaseURL}}/api/messages/{{.Vars.id}}",
		Headers: map[string]string{"{{.Vars.h}}": "x"},
		Expect: Expect{
			BodyRegexp: "{{.Vars.re}}(",
			Headers:    map[string]string{"X-Id": "/{{.Vars.id}}(/"},
			JSON:       map[string]any{"{{.Vars.path}}": 1, "$.id": "/^{{.Vars.id}}($/"},
		},
		Extract: map[string]Extraction{"x": {JSON: "{{.Vars.p}}", Regexp: "{{.Vars.re}}("}},
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil: templates are checked once rendered", err)
	}
	// Do gets the rendered step; a template left in it is an error there.
	c := newTestClient(t, Options{})
	_, err := c.Do(t.Context(), Step{URL: "{{.BaseURL}}/api"})
	want := `GET {{.BaseURL}}/api: invalid step: url "{{.BaseURL}}/api" is not absolute: start it with http:// or https://, e.g. "http://host/path"`
	if err == nil || err.Error() != want {
		t.Errorf("Do() error =\n%v\nwant\n%s", err, want)
	}
	if !errors.Is(err, ErrInvalidStep) {
		t.Errorf("errors.Is(err, ErrInvalidStep) = false")
	}
}

func TestSecrets(t *testing.T) {
	s := Step{
		URL:       "https://u:url-pass@example.com/?api_key=query-key&page=2",
		BasicAuth: &BasicAuth{User: "alice", Password: "basic-pass"},
		Headers: map[string]string{
			"Authorization": "Token header-token",
			"Cookie":        "session=cookie-value; theme=dark",
			"X-Api-Key":     "api-key-value",
			"Accept":        "application/json",
		},
		Form: map[string]string{"password": "form-pass", "user": "alice"},
		JSON: map[string]any{"user": "bob", "auth": map[string]any{"token": "json-token", "n": 1}, "list": []any{map[string]any{"secret": "json-secret"}}},
	}
	got := s.Secrets()
	for _, want := range []string{
		"url-pass", "query-key", "basic-pass", "YWxpY2U6YmFzaWMtcGFzcw==", // base64("alice:basic-pass")
		"Token header-token", "header-token", "session=cookie-value; theme=dark", "cookie-value",
		"api-key-value", "form-pass", "json-token", "json-secret",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets() lacks %q: %q", want, got)
		}
	}
	for _, not := range []string{"alice", "bob", "application/json", "2", ""} {
		if slices.Contains(got, not) {
			t.Errorf("Secrets() has %q, not a secret: %q", not, got)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("Secrets() not sorted: %q", got)
	}
	if b := (Step{Bearer: "tok"}).Secrets(); !slices.Equal(b, []string{"tok"}) {
		t.Errorf("bearer Secrets() = %q", b)
	}
}
