package httpstep

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/suitecheck/suitecheck/internal/regfile"
)

// The kinds of error Do returns, for errors.Is. Each error also unwraps to
// its cause where there is one, e.g. context.DeadlineExceeded.
var (
	// ErrInvalidStep: the step, once rendered, cannot run; a config
	// mistake.
	ErrInvalidStep = errors.New("invalid http step")
	// ErrRequest: no complete response: connect, TLS, timeout, redirects.
	ErrRequest = errors.New("http request failed")
	// ErrExpectation: a response that is not what the step expects, or
	// that lacks a value to extract.
	ErrExpectation = errors.New("http response not as expected")
)

// errTooManyRedirects stops a redirect chain longer than MaxRedirects.
var errTooManyRedirects = errors.New("too many redirects")

// stepError is an error whose text is one masked monitoring line. Its
// causes are not masked: read them with errors.Is and errors.As, and print
// only Error().
type stepError struct {
	msg         string
	kind, cause error
}

func (e *stepError) Error() string { return e.msg }

func (e *stepError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// Options configure a Client.
type Options struct {
	// CAFile is a PEM file of CA certificates trusted besides the
	// system's, e.g. a staging environment's private CA.
	CAFile string
	// Insecure skips TLS certificate verification.
	Insecure bool
	// UserAgent is sent unless a step sets User-Agent; default "suitecheck".
	UserAgent string
	// Trace, when set, receives what the client does, for people, a line
	// at a time, masked: up to TraceLevel, TraceRequests (a line per
	// request) or TraceWire (headers and body excerpts; credential
	// headers and query parameters named like credentials replaced whole).
	Trace      func(level int, line string)
	TraceLevel int
	// ConnectTo maps a host (lower case, no port) to the address to
	// connect to instead of resolving it, directly, never through a proxy:
	// one node behind a load balancer. The host stays the request's name:
	// its Host header, TLS server name, certificate check and cookies.
	ConnectTo map[string]string
}

// pinnedDialError is a failed connection to a host's ConnectTo address.
type pinnedDialError struct {
	host, addr string
	err        error
}

func (e *pinnedDialError) Error() string {
	return "connect to " + e.addr + " for " + e.host + ": " + e.err.Error()
}
func (e *pinnedDialError) Unwrap() error { return e.err }

// Client runs the http steps of one run. Its cookie jar is shared by every
// step, so a session started by a login step carries over to the steps after
// it. It is safe for concurrent use.
type Client struct {
	hc    *http.Client
	ua    string
	trace traceLog

	mu      sync.Mutex
	secrets []string
}

// maxCAFile bounds a CA bundle (Debian's whole ca-certificates.crt is
// about 200 KiB).
const maxCAFile = 4 << 20

// NewClient returns a Client with an empty cookie jar.
func NewClient(o Options) (*Client, error) {
	tc := &tls.Config{InsecureSkipVerify: o.Insecure} // the operator asked for it
	if o.CAFile != "" {
		pem, err := regfile.ReadAll(o.CAFile, maxCAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", o.CAFile)
		}
		tc.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxResponseHeaderBytes = 1 << 20
	if len(o.ConnectTo) > 0 {
		pinned := func(host string) (string, bool) {
			to, ok := o.ConnectTo[strings.ToLower(strings.Trim(host, "[]"))]
			return to, ok
		}
		tr.Proxy = func(req *http.Request) (*url.URL, error) {
			if _, ok := pinned(req.URL.Hostname()); ok {
				return nil, nil
			}
			return http.ProxyFromEnvironment(req)
		}
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(addr); err == nil {
				if to, ok := pinned(host); ok {
					to = net.JoinHostPort(to, port)
					c, err := d.DialContext(ctx, network, to)
					if err != nil {
						return nil, &pinnedDialError{host: host, addr: to, err: err}
					}
					return c, nil
				}
			}
			return d.DialContext(ctx, network, addr)
		}
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("cookie jar: %w", err)
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "suitecheck"
	}
	return &Client{hc: &http.Client{Transport: tr, Jar: jar}, ua: ua, trace: traceLog{fn: o.Trace, level: o.TraceLevel}}, nil
}

// AddSecrets registers secrets of the run, e.g. the tenant's password, to
// be masked in the errors of every later step. Values extracted with
// secret: true are added by Do.
func (c *Client) AddSecrets(secrets ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range secrets {
		if s != "" && !slices.Contains(c.secrets, s) {
			c.secrets = append(c.secrets, s)
		}
	}
}

func (c *Client) runSecrets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.secrets)
}

// Close closes the connections the Client keeps open.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Outcome is what a step saw. Do returns it even with an error, as far as
// the step got: a failed step still has its status and timings.
type Outcome struct {
	Status    int  // 0 when no response came
	Redirects int  // redirects followed
	BodyBytes int  // bytes of the body read, at most Expect.MaxBodyBytes
	Truncated bool // the body went on beyond Expect.MaxBodyBytes; the rest was not read
	Timings   Timings
	// Vars are the extracted values, set only when the step passed. They
	// are response data, not masked.
	Vars map[string]string
	// SecretVars names the Vars extracted with secret: true, sorted.
	SecretVars []string
	// Body is the body as read (at most Expect.MaxBodyBytes), set only when
	// the step passed: response data, not masked.
	Body []byte
}

// Timings of a request, for perfdata. With redirects, DNS, Connect and TLS
// add up over the connections made, and FirstByte is that of the last
// response. A phase that did not happen (a reused connection) is 0.
type Timings struct {
	DNS       time.Duration // resolving the host
	Connect   time.Duration // TCP connect
	TLS       time.Duration // TLS handshake
	FirstByte time.Duration // from the start to the first byte of the response
	Total     time.Duration // from the start until the body was read
}

// Do runs the step: sends the request, bound to ctx and the step's timeout,
// checks the response against the step's expectations and extracts its
// variables. The error is one line naming the method and path, what was
// expected and what was seen, with secrets masked, e.g.
//
//	POST /api/messages: status 500, want 201 (body "db down")
//	GET /api/me: $.login = "bob", want "alice"
//	GET /slow: timed out after 2s
func (c *Client) Do(ctx context.Context, s Step) (Outcome, error) {
	var out Outcome
	p, err := s.compile(false)
	if err != nil {
		where := strings.ToUpper(cmp.Or(strings.TrimSpace(s.Method), DefaultMethod)) + " " + pathOf(s.URL)
		m := newMasker(append(s.Secrets(), c.runSecrets()...))
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		return out, &stepError{msg: m.mask(oneLine(where + ": invalid step: " + msg)), kind: ErrInvalidStep, cause: err}
	}
	p.secrets = append(s.Secrets(), c.runSecrets()...)
	p.mask = newMasker(p.secrets)

	stepCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	tr := &tracer{}
	var body io.Reader
	if len(p.body) > 0 {
		body = bytes.NewReader(p.body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(stepCtx, tr.clientTrace()), p.method, p.url.String(), body)
	if err != nil {
		return out, p.fail(ErrInvalidStep, err, "invalid step: %v", err)
	}
	req.Header = p.header.Clone()
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.ua)
	}
	if p.host != "" {
		req.Host = p.host
	}
	hc := *c.hc
	hc.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if !p.follow {
			return http.ErrUseLastResponse
		}
		if len(via) > MaxRedirects {
			return errTooManyRedirects
		}
		out.Redirects = len(via)
		return nil
	}

	c.trace.request(p.mask, req, p.body)
	tr.begin()
	resp, err := hc.Do(req)
	if err != nil {
		out.Timings = tr.end()
		why := describe(ctx, stepCtx, p, err, out.Timings.Total)
		c.trace.response(p.mask, p.method, s.URL, nil, nil, false, out.Timings.Total, why)
		return out, p.fail(ErrRequest, err, "%s", why)
	}
	defer resp.Body.Close()
	out.Status = resp.StatusCode
	data, err := io.ReadAll(io.LimitReader(resp.Body, p.maxBody+1))
	out.Timings = tr.end()
	if int64(len(data)) > p.maxBody {
		data, out.Truncated = data[:p.maxBody], true
	} else if err != nil {
		return out, p.fail(ErrRequest, err, "reading the body after status %d: %s", resp.StatusCode, describe(ctx, stepCtx, p, err, out.Timings.Total))
	}
	out.BodyBytes = len(data)
	c.trace.response(p.mask, p.method, s.URL, resp, data, out.Truncated, out.Timings.Total, "")

	r := &response{resp: resp, body: data, truncated: out.Truncated}
	if err := p.check(r); err != nil {
		return out, err
	}
	vars, secret, err := p.extractAll(r)
	if err != nil {
		return out, err
	}
	for _, name := range secret {
		c.AddSecrets(vars[name])
	}
	out.Vars, out.SecretVars, out.Body = vars, secret, data
	return out, nil
}

// fail builds the step's error: "METHOD /path: what went wrong", masked.
func (p *plan) fail(kind, cause error, format string, args ...any) error {
	msg := p.where + ": " + fmt.Sprintf(format, args...)
	return &stepError{msg: p.mask.mask(oneLine(msg)), kind: kind, cause: cause}
}

// describe says why a request got no complete response, briefly: the
// url.Error around it names the whole URL, whose query may carry secrets.
func describe(ctx, stepCtx context.Context, p *plan, err error, elapsed time.Duration) string {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return "canceled"
	case ctx.Err() != nil:
		return fmt.Sprintf("timed out after %s (the run's deadline)", elapsed.Round(time.Millisecond))
	case errors.Is(stepCtx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %s", p.timeout)
	case errors.Is(err, errTooManyRedirects):
		return fmt.Sprintf("stopped after %d redirects", MaxRedirects)
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		dnsErr    *net.DNSError
		opErr     *net.OpError
		sysErr    *os.SyscallError
		urlErr    *url.Error
	)
	var pinErr *pinnedDialError
	switch {
	case errors.As(err, &pinErr):
		// Which node was tried, not only why.
		why := pinErr.err.Error()
		if errors.As(pinErr.err, &sysErr) {
			why = sysErr.Err.Error()
		}
		return fmt.Sprintf("connect to %s for %s: %s", pinErr.addr, pinErr.host, why)
	case errors.As(err, &unknownCA):
		return "TLS: certificate signed by an unknown authority: trust its CA with a CA file, or skip verification with insecure"
	case errors.As(err, &hostname):
		return "TLS: " + hostname.Error()
	case errors.As(err, &invalid):
		return "TLS: " + invalid.Error()
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("DNS: %s: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		if errors.As(opErr.Err, &sysErr) {
			return sysErr.Error() // "connect: connection refused"
		}
		return "connect: " + opErr.Err.Error()
	case errors.As(err, &opErr):
		if errors.As(opErr.Err, &sysErr) {
			return opErr.Op + ": " + sysErr.Err.Error() // "read: connection reset by peer"
		}
		return opErr.Op + ": " + opErr.Err.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection before the response was complete"
	case errors.As(err, &urlErr):
		err = urlErr.Err
	}
	msg := strings.TrimPrefix(err.Error(), "net/http: ")
	return strings.TrimPrefix(msg, "http: ")
}

// tracer records a request's timings. Its callbacks may run on other
// goroutines (DNS, parallel dials), even after the request has returned.
type tracer struct {
	mu                          sync.Mutex
	start                       time.Time
	dnsStart, connStart, tlsBeg time.Time
	t                           Timings
}

func (t *tracer) begin() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start = time.Now()
}

func (t *tracer) end() Timings {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.t.Total = time.Since(t.start)
	return t.t
}

// mark notes when a phase starts; with parallel dials, the first start.
func (t *tracer) mark(at *time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at.IsZero() {
		*at = time.Now()
	}
}

// add adds the time since a phase started to d.
func (t *tracer) add(d *time.Duration, since *time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !since.IsZero() {
		*d += time.Since(*since)
		*since = time.Time{}
	}
}

func (t *tracer) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { t.mark(&t.dnsStart) },
		DNSDone:  func(httptrace.DNSDoneInfo) { t.add(&t.t.DNS, &t.dnsStart) },
		ConnectStart: func(string, string) {
			t.mark(&t.connStart)
		},
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.add(&t.t.Connect, &t.connStart)
			}
		},
		TLSHandshakeStart: func() { t.mark(&t.tlsBeg) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { t.add(&t.t.TLS, &t.tlsBeg) },
		GotFirstResponseByte: func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.t.FirstByte = time.Since(t.start)
		},
	}
}
