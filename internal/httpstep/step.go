package httpstep

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/theory/jsonpath"

	"github.com/suitecheck/suitecheck/internal/secret"
)

// Defaults and limits.
const (
	DefaultMethod             = http.MethodGet
	DefaultTimeout            = 10 * time.Second
	DefaultMaxBodyBytes int64 = 1 << 20
	// MaxRedirects is how many redirects a step follows before it fails.
	MaxRedirects = 10
)

// Step is one HTTP request and what its response must look like. Its string
// values arrive with their templates already rendered; rendering is the
// caller's job. At most one of Body, JSON and Form is given.
type Step struct {
	Method  string            `yaml:"method"` // default GET; case-insensitive
	URL     string            `yaml:"url"`    // absolute http or https URL
	Headers map[string]string `yaml:"headers"`
	// Body is sent as it is; give a Content-Type in Headers.
	Body string `yaml:"body"`
	// JSON is encoded as the body, with Content-Type application/json
	// unless Headers give another.
	JSON any `yaml:"json"`
	// Form is encoded as the body, with Content-Type
	// application/x-www-form-urlencoded unless Headers give another.
	Form      map[string]string `yaml:"form"`
	BasicAuth *BasicAuth        `yaml:"basic_auth"`
	Bearer    string            `yaml:"bearer"` // a secret, sent as "Authorization: Bearer …"
	// FollowRedirects follows up to MaxRedirects redirects; default true.
	// When false the redirect itself is the response, so expect its status,
	// e.g. status: [302].
	FollowRedirects *bool `yaml:"follow_redirects"`
	// Timeout bounds the whole request: connect, send, and reading the
	// body. Default DefaultTimeout.
	Timeout time.Duration         `yaml:"timeout"`
	Expect  Expect                `yaml:"expect"`
	Extract map[string]Extraction `yaml:"extract"` // variable name -> where its value comes from
}

// BasicAuth is HTTP basic authentication. The password is a secret.
type BasicAuth struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// Expect is what a response must look like. The checks run in the order of
// the fields, and the first that fails is the step's error.
//
// Where a value is a "pattern" (Headers, and strings in JSON), a string
// written between slashes, "/…/", is a Go (RE2) regexp; any other string is
// a literal. To compare with a literal that starts and ends with a slash,
// write it as a regexp, e.g. "/^\/api\/$/".
type Expect struct {
	// Status lists the status codes that pass; default any 2xx. In YAML
	// it is a list or a single code.
	Status StatusList `yaml:"status"`
	// Headers maps a header name to a pattern: the header's value must
	// contain the literal (case-sensitively) or match the regexp. When the
	// header is repeated, one of its values must.
	Headers map[string]string `yaml:"headers"`
	// Body is a literal the body must contain.
	Body string `yaml:"body"`
	// BodyRegexp is a Go (RE2) regexp, without slashes, the body must match.
	BodyRegexp string `yaml:"body_regexp"`
	// JSON maps an RFC 9535 JSONPath, e.g. "$.user.login", to the value it
	// must select from the body parsed as JSON. Values are compared as
	// JSON values: numbers by value (1 equals 1.0), objects and arrays
	// deeply. Because rendered templates are strings, an expected string
	// also equals a number, boolean or null whose JSON text it is ("17"
	// equals 17, "true" equals true); an expected number never equals a
	// string. A "/re/" string matches the text of the value (a string's
	// content, or the JSON text of any other value). When the path selects
	// several values, one of them must match.
	JSON map[string]any `yaml:"json"`
	// MaxBodyBytes is how much of the body is read, at most; default
	// DefaultMaxBodyBytes. Bodies are never read unbounded.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Extraction says where a variable's value comes from: JSON, Header or HTML
// picks the source (give at most one); Regexp alone searches the body, and
// with one of them it is applied to that value. The value is the regexp's
// first capture group, or its whole match when it has none.
type Extraction struct {
	JSON   string `yaml:"json"`   // RFC 9535 JSONPath selecting exactly one value
	Header string `yaml:"header"` // response header name; its first value
	// HTML is a CSS selector over the body parsed as HTML: the first
	// element it matches gives Attribute, or by default an input's,
	// option's or button's value, a meta tag's content, or else the
	// element's text, trimmed. The way to a form's CSRF token:
	// html: 'input[name="csrf_token"]', or html: 'meta[name="csrf-token"]'.
	HTML      string `yaml:"html"`
	Attribute string `yaml:"attribute"` // with HTML: the attribute to read
	Regexp    string `yaml:"regexp"`    // Go (RE2) regexp, without slashes
	// Secret marks the value as a secret, e.g. a session token: the Client
	// masks it in the errors of later steps, and Outcome.SecretVars names
	// it so that the caller can mask it too.
	Secret bool `yaml:"secret"`
}

// StatusList is a list of HTTP status codes. It decodes from a YAML list or
// a single value; codes may be written as numbers or as strings of digits
// ("200"). A suite's config cannot template them: suites refuses a
// template in a value that is not text, at load.
type StatusList []int

// UnmarshalYAML implements the func-based unmarshaler interface that
// go.yaml.in/yaml/v3, gopkg.in/yaml.v2 and github.com/goccy/go-yaml all
// support, so this package needs none of them.
func (l *StatusList) UnmarshalYAML(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil {
		return err
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	out := make(StatusList, 0, len(items))
	for _, it := range items {
		code, err := statusCode(it)
		if err != nil {
			return err
		}
		out = append(out, code)
	}
	*l = out
	return nil
}

func statusCode(v any) (int, error) {
	switch c := v.(type) {
	case int:
		return c, nil
	case int64:
		return int(c), nil
	case uint64:
		return int(min(c, 1<<31)), nil
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(c)); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("status %v: give a status code such as 200, or a list such as [200, 204]", v)
}

// Validate checks the step when the config is loaded and says what to fix.
// It reports every problem it finds, one per line. A field that still holds
// a template action ("{{…}}") is checked only once rendered, when the step
// runs: Do validates the rendered step again.
func (s Step) Validate() error {
	_, err := s.compile(true)
	return err
}

// Secrets returns the secret values the step carries, for the caller to
// mask in its output: the basic auth password and the credentials built
// from it, the bearer token, the values of headers that carry credentials
// (Authorization, Cookie, X-Api-Key, names with "token", "secret",
// "password"…), the URL's password, and the values of form fields, query
// parameters and JSON body strings under such names. Errors from this
// package already have them masked.
func (s Step) Secrets() []string {
	var out []string
	add := func(v string) {
		if v != "" {
			out = append(out, v)
		}
	}
	if s.BasicAuth != nil && s.BasicAuth.Password != "" {
		add(s.BasicAuth.Password)
		add(base64.StdEncoding.EncodeToString([]byte(s.BasicAuth.User + ":" + s.BasicAuth.Password)))
	}
	add(s.Bearer)
	for name, v := range s.Headers {
		if !SensitiveName(name) {
			continue
		}
		add(v)
		// "Bearer xyz", "Basic xyz": the credentials alone, too.
		if f := strings.Fields(v); len(f) == 2 {
			add(f[1])
		}
		if strings.EqualFold(name, "Cookie") {
			if cookies, err := http.ParseCookie(v); err == nil {
				for _, c := range cookies {
					add(c.Value)
				}
			}
		}
	}
	if u, err := url.Parse(s.URL); err == nil {
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				add(p)
			}
		}
		for k, vs := range u.Query() {
			if SensitiveName(k) {
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	for k, v := range s.Form {
		if SensitiveName(k) {
			add(v)
		}
	}
	jsonSecrets(s.JSON, false, add)
	slices.Sort(out)
	return slices.Compact(out)
}

// SensitiveName reports whether a header, form field, query parameter,
// JSON key or tenant field of this name carries a credential. It is
// secret.SensitiveName, the one rule.
func SensitiveName(name string) bool { return secret.SensitiveName(name) }

// jsonSecrets calls add for the strings under sensitive keys of a JSON body.
func jsonSecrets(v any, sensitive bool, add func(string)) {
	switch v := v.(type) {
	case string:
		if sensitive {
			add(v)
		}
	case map[string]any:
		for k, e := range v {
			jsonSecrets(e, sensitive || SensitiveName(k), add)
		}
	case map[any]any:
		for k, e := range v {
			jsonSecrets(e, sensitive || SensitiveName(fmt.Sprint(k)), add)
		}
	case []any:
		for _, e := range v {
			jsonSecrets(e, sensitive, add)
		}
	}
}

// plan is a step checked and compiled, ready to run.
type plan struct {
	method   string
	url      *url.URL
	where    string // "POST /api/messages": how messages name the request
	header   http.Header
	host     string // a Host header, which Go sends from Request.Host
	body     []byte
	timeout  time.Duration
	follow   bool
	maxBody  int64
	status   []int
	headers  []headerCheck
	contains string
	bodyRe   *regexp.Regexp
	json     []jsonCheck
	extract  []extractor
	mask     *masker
	secrets  []string // what mask masks
}

type headerCheck struct {
	name string // canonical
	want pattern
}

type extractor struct {
	name    string
	json    *jsonpath.Path
	jsonSrc string // the JSONPath as written
	header  string // canonical
	html    cascadia.Selector
	htmlSrc string // the selector as written
	attr    string
	re      *regexp.Regexp
	secret  bool
}

// checker gathers the problems of a step.
type checker struct {
	load     bool // at load time: skip fields that still hold templates
	problems []string
}

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// skip reports whether a value can be checked only once rendered.
func (c *checker) skip(s string) bool { return c.load && strings.Contains(s, "{{") }

// regexp compiles a regexp for field, or records why it does not.
func (c *checker) regexp(field, src string) *regexp.Regexp {
	if c.skip(src) {
		return nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		c.addf("%s: bad regexp %s: %s", field, strconv.Quote(src), regexpProblem(err))
		return nil
	}
	return re
}

// pattern parses a pattern for field, or records why it does not.
func (c *checker) pattern(field, src string) pattern {
	if c.skip(src) {
		return pattern{src: src}
	}
	p, err := parsePattern(src)
	if err != nil {
		c.addf("%s: %v", field, err)
	}
	return p
}

// jsonPath parses a JSONPath for field, or records why it does not.
func (c *checker) jsonPath(field, src string) *jsonpath.Path {
	if c.skip(src) {
		return nil
	}
	p, err := jsonpath.Parse(src)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "jsonpath: ")
		if !strings.HasPrefix(strings.TrimSpace(src), "$") {
			msg += `: a JSONPath starts at the root, e.g. "$.id"`
		}
		c.addf("%s: bad JSONPath %s: %s", field, strconv.Quote(src), msg)
		return nil
	}
	return p
}

func (c *checker) headerName(field, name string) bool {
	if c.skip(name) {
		return false
	}
	if !isToken(name) {
		c.addf("%s: %s is not a valid header name", field, strconv.Quote(name))
		return false
	}
	return true
}

var varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// compile checks the step and prepares it to run. With load set, fields
// that still hold templates are not checked.
func (s Step) compile(load bool) (*plan, error) {
	c := &checker{load: load}
	p := &plan{
		method:  strings.ToUpper(strings.TrimSpace(s.Method)),
		header:  http.Header{},
		timeout: s.Timeout,
		follow:  s.FollowRedirects == nil || *s.FollowRedirects,
		maxBody: s.Expect.MaxBodyBytes,
		status:  s.Expect.Status,
		mask:    newMasker(s.Secrets()),
	}
	if p.method == "" {
		p.method = DefaultMethod
	}
	if !c.skip(p.method) && !isToken(p.method) {
		c.addf("method %s is not an HTTP method: use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", strconv.Quote(s.Method))
	}
	p.url = c.url(s.URL)
	p.where = p.method + " " + pathOf(s.URL)

	// The body.
	n := 0
	for _, given := range []bool{s.Body != "", s.JSON != nil, len(s.Form) > 0} {
		if given {
			n++
		}
	}
	if n > 1 {
		c.addf("give only one of body, json and form")
	}
	contentType := ""
	switch {
	case s.JSON != nil:
		b, err := encodeJSON(s.JSON)
		if err != nil {
			c.addf("json: %v", err)
		}
		p.body, contentType = b, "application/json"
	case len(s.Form) > 0:
		f := url.Values{}
		for k, v := range s.Form {
			f.Set(k, v)
		}
		p.body, contentType = []byte(f.Encode()), "application/x-www-form-urlencoded"
	case s.Body != "":
		p.body = []byte(s.Body)
	}

	// The headers, and credentials.
	for _, name := range slices.Sorted(maps.Keys(s.Headers)) {
		v := s.Headers[name]
		if !c.headerName("headers", name) {
			continue
		}
		if strings.ContainsAny(v, "\r\n") {
			c.addf("headers: the value of %s has a line break", name)
			continue
		}
		if strings.EqualFold(name, "Host") {
			p.host = v
			continue
		}
		p.header.Add(name, v)
	}
	if contentType != "" && p.header.Get("Content-Type") == "" {
		p.header.Set("Content-Type", contentType)
	}
	switch {
	case s.BasicAuth != nil && s.Bearer != "":
		c.addf("give basic_auth or bearer, not both")
	case (s.BasicAuth != nil || s.Bearer != "") && p.header.Get("Authorization") != "":
		c.addf("headers: Authorization is set by basic_auth or bearer: give only one of them")
	case s.BasicAuth != nil:
		if s.BasicAuth.User == "" {
			c.addf("basic_auth: user is required")
		}
		if strings.Contains(s.BasicAuth.User, ":") {
			c.addf("basic_auth: the user cannot contain a colon")
		}
		cred := base64.StdEncoding.EncodeToString([]byte(s.BasicAuth.User + ":" + s.BasicAuth.Password))
		p.header.Set("Authorization", "Basic "+cred)
	case s.Bearer != "":
		if strings.ContainsAny(s.Bearer, "\r\n") {
			c.addf("bearer: the token has a line break")
		}
		p.header.Set("Authorization", "Bearer "+s.Bearer)
	}

	switch {
	case s.Timeout < 0:
		c.addf("timeout %s: must be positive, e.g. timeout: 10s", s.Timeout)
	case s.Timeout == 0:
		p.timeout = DefaultTimeout
	case s.Timeout < time.Millisecond:
		c.addf("timeout %s is too short: give a unit, e.g. timeout: 10s", s.Timeout)
	}

	c.expect(p, s.Expect)
	c.extractions(p, s.Extract)

	if len(c.problems) > 0 {
		errs := make([]error, len(c.problems))
		for i, m := range c.problems {
			errs[i] = errors.New(p.mask.mask(m))
		}
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// url checks the step's URL.
func (c *checker) url(raw string) *url.URL {
	switch {
	case strings.TrimSpace(raw) == "":
		c.addf(`url is required, e.g. url: "{{.BaseURL}}/api/health"`)
		return nil
	case c.skip(raw):
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		c.addf("url %s: %v", strconv.Quote(raw), err)
		return nil
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		hint := "http://host/path"
		if strings.HasPrefix(raw, "/") {
			hint = "{{.BaseURL}}" + raw
		}
		c.addf("url %s is not absolute: start it with http:// or https://, e.g. %s", strconv.Quote(raw), strconv.Quote(hint))
		return nil
	default:
		c.addf("url %s: scheme %s is not supported: use http or https", strconv.Quote(raw), strconv.Quote(u.Scheme))
		return nil
	}
	if u.Host == "" {
		c.addf("url %s has no host", strconv.Quote(raw))
		return nil
	}
	return u
}

// expect checks and compiles the expectations.
func (c *checker) expect(p *plan, e Expect) {
	for _, code := range e.Status {
		if code < 100 || code > 599 {
			c.addf("expect.status: %d is not an HTTP status code (100-599)", code)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(e.Headers)) {
		ok := c.headerName("expect.headers", name)
		want := c.pattern("expect.headers."+name, e.Headers[name])
		if ok {
			p.headers = append(p.headers, headerCheck{name: http.CanonicalHeaderKey(name), want: want})
		}
	}
	p.contains = e.Body
	if e.BodyRegexp != "" {
		p.bodyRe = c.regexp("expect.body_regexp", e.BodyRegexp)
	}
	for _, src := range slices.Sorted(maps.Keys(e.JSON)) {
		path := c.jsonPath("expect.json", src)
		if w, ok := e.JSON[src].(string); ok && c.skip(w) {
			continue
		}
		jc, err := newJSONCheck(src, path, e.JSON[src])
		if err != nil {
			c.addf("expect.json %s: %v", src, err)
			continue
		}
		if path != nil {
			p.json = append(p.json, jc)
		}
	}
	switch {
	case e.MaxBodyBytes < 0:
		c.addf("expect.max_body_bytes %d: must be 0 (for the default, %s) or more", e.MaxBodyBytes, byteSize(DefaultMaxBodyBytes))
	case e.MaxBodyBytes == 0:
		p.maxBody = DefaultMaxBodyBytes
	}
}

// extractions checks and compiles the extractions.
func (c *checker) extractions(p *plan, ex map[string]Extraction) {
	for _, name := range slices.Sorted(maps.Keys(ex)) {
		e := ex[name]
		field := "extract." + name
		if !varNameRe.MatchString(name) {
			c.addf("extract: name %s: use letters, digits and _ only, not starting with a digit, so that {{.Vars.NAME}} can use it", strconv.Quote(name))
			continue
		}
		x := extractor{name: name, secret: e.Secret, attr: e.Attribute}
		sources := 0
		for _, s := range []string{e.JSON, e.Header, e.HTML} {
			if s != "" {
				sources++
			}
		}
		switch {
		case sources > 1:
			c.addf("%s: give one of json, header or html, not several (a regexp may go with any)", field)
			continue
		case sources == 0 && e.Regexp == "":
			c.addf("%s: give one of json, header, html or regexp", field)
			continue
		case e.Attribute != "" && e.HTML == "":
			c.addf("%s: attribute goes with html", field)
			continue
		case e.HTML != "":
			if c.skip(e.HTML) {
				break
			}
			sel, err := cascadia.Compile(e.HTML)
			if err != nil {
				c.addf("%s.html: %s is not a CSS selector: %v", field, strconv.Quote(e.HTML), err)
				continue
			}
			x.html, x.htmlSrc = sel, e.HTML
		case e.JSON != "":
			x.json, x.jsonSrc = c.jsonPath(field+".json", e.JSON), e.JSON
			if x.json == nil {
				continue
			}
		case e.Header != "":
			if !c.headerName(field+".header", e.Header) {
				continue
			}
			x.header = http.CanonicalHeaderKey(e.Header)
		}
		if e.Regexp != "" {
			x.re = c.regexp(field+".regexp", e.Regexp)
			if x.re == nil {
				continue
			}
		}
		p.extract = append(p.extract, x)
	}
}

// regexpProblem is a regexp compile error without the "error parsing
// regexp" prefix and the repeated expression.
func regexpProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		if se.Expr != "" {
			return fmt.Sprintf("%s in %s", se.Code, strconv.Quote(se.Expr))
		}
		return se.Code.String()
	}
	return err.Error()
}

// pathOf is the escaped path of a URL, without host, query or fragment,
// which may carry secrets: how messages name the request.
func pathOf(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		// Not a URL (yet): as written, up to its query.
		raw, _, _ = strings.Cut(raw, "?")
		raw, _, _ = strings.Cut(raw, "#")
		return cmp.Or(strings.TrimSpace(raw), "/")
	case u.EscapedPath() == "":
		return "/"
	}
	return u.EscapedPath()
}

// isToken reports whether s is an RFC 9110 token, as header names and
// methods are.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// byteSize names a size for messages: "1 MiB", "64 KiB", "1000 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Describe says what the step does, for diagnostics: "POST /api/tenants"
// (the path alone: a query may carry secrets).
func (s Step) Describe() string {
	return strings.ToUpper(cmp.Or(strings.TrimSpace(s.Method), DefaultMethod)) + " " + pathOf(s.URL)
}
