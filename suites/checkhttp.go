package suites

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/checks/httpcheck"
)

// HTTPCheckStep runs `check http` as a step: a diagnostic that names the
// first broken layer in front of the app — name, TCP, TLS and its
// certificate, HTTP status, body.
//
//   - check_http: {url: "{{.BaseURL}}/health", address: 10.0.0.5, expect: "200", string: ok, cert_warning: 21, cert_critical: 7}
type HTTPCheckStep struct {
	URL          string        `yaml:"url"`
	Address      string        `yaml:"address"` // -I: connect here instead of resolving the URL's host
	SNI          string        `yaml:"sni"`
	Method       string        `yaml:"method"`
	Expect       string        `yaml:"expect"`
	String       string        `yaml:"string"`
	Regex        string        `yaml:"regex"`
	OnRedirect   string        `yaml:"onredirect"`
	MaxRedirects int           `yaml:"max_redirects"`
	CertWarning  *int          `yaml:"cert_warning"`
	CertCritical *int          `yaml:"cert_critical"`
	CAFile       string        `yaml:"ca_file"` // default: the environment's
	Timeout      time.Duration `yaml:"timeout"`
}

// checkHTTPKeys name the check's options as the step's keys in its
// messages; the command's -H, -p, -u and -S are not keys of the step.
var checkHTTPKeys = map[httpcheck.Option]string{
	httpcheck.OptURL: "url", httpcheck.OptAddress: "address", httpcheck.OptSNI: "sni", httpcheck.OptMethod: "method",
	httpcheck.OptExpect: "expect", httpcheck.OptString: "string", httpcheck.OptRegex: "regex", httpcheck.OptOnRedirect: "onredirect",
	httpcheck.OptMaxRedirects: "max_redirects", httpcheck.OptCertWarning: "cert_warning",
	httpcheck.OptCertCritical: "cert_critical", httpcheck.OptCAFile: "ca_file",
}

// options are the check's options for the step; the step's defaults are
// the command's.
func (s HTTPCheckStep) options() httpcheck.Options {
	o := httpcheck.Options{URL: s.URL, Address: s.Address, SNI: s.SNI, Method: s.Method, Expect: s.Expect,
		String: s.String, Regex: s.Regex, OnRedirect: s.OnRedirect, MaxRedirects: s.MaxRedirects, CAFile: s.CAFile,
		CertWarning: httpcheck.DefaultCertWarning, CertCritical: httpcheck.DefaultCertCritical, Names: checkHTTPKeys}
	if s.CertWarning != nil {
		o.CertWarning = *s.CertWarning
	}
	if s.CertCritical != nil {
		o.CertCritical = *s.CertCritical
	}
	return o
}

func decodeCheckHTTP(st *StepConfig) (HTTPCheckStep, error) {
	var s HTTPCheckStep
	if err := decodeStrict(st, st.Node, &s); err != nil {
		return s, err
	}
	if s.URL == "" {
		return s, &LineError{Line: st.Line, Msg: "step check_http: no url"}
	}
	// What holds no template can be checked now; the CA file is read when
	// the step runs.
	o := s.options()
	o.CAFile = ""
	if strings.Contains(o.URL, "{{") {
		o.URL = "https://templated.invalid/"
	}
	for _, f := range []*string{&o.Address, &o.SNI, &o.Method, &o.Expect, &o.Regex, &o.OnRedirect} {
		if strings.Contains(*f, "{{") {
			*f = ""
		}
	}
	if err := httpcheck.Validate(o); err != nil {
		return s, &LineError{Line: st.Line, Msg: "step check_http: " + err.Error()}
	}
	return s, nil
}

func runCheckHTTP(ctx context.Context, env stepEnv, _ *StepConfig, s HTTPCheckStep) error {
	o := s.options()
	if strings.TrimSpace(o.URL) == "" {
		// The check would take the address for the server.
		return &configError{errors.New("check_http: url is empty once its templates are rendered")}
	}
	if o.Address == "" {
		// -I reaches the base URL's host here too: the diagnosis is of
		// the node the run used.
		if u, err := url.Parse(o.URL); err == nil {
			o.Address = env.connectTo(u.Hostname())
		}
	}
	if o.CAFile == "" && strings.HasPrefix(strings.ToLower(o.URL), "https:") {
		o.CAFile = env.caFile() // the environment's private CA, as for http steps
	}
	timeout := s.Timeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	o.TimeoutState, o.Budget = checks.Critical, timeout
	res := httpcheck.Check(ctx, o)
	for _, p := range res.Parts {
		env.detail(p.Line())
	}
	switch res.State {
	case checks.OK, checks.Warning:
		// A step passes or fails: a certificate within cert_warning (or a
		// redirect with onredirect: warning) passes; the command says
		// WARNING.
		return nil
	case checks.Unknown:
		return &configError{errors.New("check_http: " + res.Summary)}
	}
	// "http https://app/health: layer …": the layer is the news.
	msg := res.Summary
	if i := strings.Index(msg, ": layer "); i >= 0 {
		msg = msg[i+2:]
	} else if i := strings.Index(msg, ": timed out "); i >= 0 {
		msg = msg[i+2:]
	}
	return &stepError{"check_http", errors.New(msg)}
}

// Describe says what the step does, for diagnostics: its URL.
func (s HTTPCheckStep) Describe() string { return s.URL }
