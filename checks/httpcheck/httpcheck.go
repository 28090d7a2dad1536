// Package httpcheck is `suitecheck check http`: it walks the layers in
// front of an app, from its name to its page — the name resolves, TCP
// connects, the TLS handshake succeeds with a certificate valid for the
// name, HTTP answers with an expected status, the body matches — timing
// each, and names the first that fails. It runs alone as a Nagios check and
// serves suites as the check_http diagnostic step.
//
// It imports the standard library and checks only.
package httpcheck

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
	"net/http/httptrace"
	"net/url"
	"os"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/checks"
)

// The defaults of the options.
const (
	// DefaultCertWarning is the days before a certificate's expiry from
	// which the check warns. ACME clients (certbot, lego) renew 30 days
	// before expiry, twice a day: a 30-day warning would flap between a
	// cert's 30th day and its renewal; 21 leaves renewal nine days of
	// retries first.
	DefaultCertWarning = 21
	// DefaultCertCritical is the days from which the check is critical.
	DefaultCertCritical = 7
	// DefaultMaxRedirects bounds the hops of -f follow, as the http step
	// (and Go's client) do.
	DefaultMaxRedirects = 10
	// MaxBody is how much of the body is read: the matches see this much.
	MaxBody = 1 << 20
	// maxHeader bounds the response's header.
	maxHeader = 64 << 10
	// maxCAFile bounds --ca-file (Debian's whole bundle is ~200 KiB).
	maxCAFile = 4 << 20
	// userAgent is sent with every request.
	userAgent = "suitecheck (check http)"
)

// The answers to a redirect (-f/--onredirect).
const (
	RedirectOK       = "ok"       // a 3xx is judged by the expected status set, not followed
	RedirectFollow   = "follow"   // follow, at most MaxRedirects hops
	RedirectWarning  = "warning"  // a 3xx is WARNING
	RedirectCritical = "critical" // a 3xx is CRITICAL
)

// Options configures Check. The target is URL, or the parts Host,
// Address, Port, Path and TLS, as check_http takes them.
type Options struct {
	URL     string // the whole target: http:// or https://
	Host    string // -H: the virtual host: Host header, TLS server name, the name the certificate must carry; may carry :port
	Address string // -I: connect to this address (or name) instead of resolving Host
	Port    int    // -p: 0 for 80, or 443 with TLS
	Path    string // -u: path and query, default /
	TLS     bool   // -S
	SNI     string // --sni: the TLS server name (and certificate name) when not Host

	Method       string // default GET
	Expect       string // -e: status codes, ranges, classes; default DefaultExpect
	String       string // -s: the body must contain this
	Regex        string // -r: the body must match this (RE2 syntax)
	OnRedirect   string // ok (default), follow, warning, critical
	MaxRedirects int    // hops followed; 0 for DefaultMaxRedirects

	CertWarning  int    // days; a certificate expiring sooner is WARNING; 0: no warning
	CertCritical int    // days; sooner is CRITICAL; 0: only an expired certificate is
	CAFile       string // PEM certificates trusted besides the system's

	Thresholds   checks.Thresholds // on the total time, in seconds
	TimeoutState checks.State      // the state when ctx's deadline passes
	Budget       time.Duration

	// Names are the options as the caller offers them, for the messages
	// of options it cannot use (a suite step's keys); an option without a
	// name is one the caller does not offer, and no message suggests it.
	// nil: FlagNames.
	Names map[Option]string
}

// Option is one of Options' fields, as a message names it.
type Option int

// The options a message may name.
const (
	OptURL Option = iota + 1
	OptHost
	OptAddress
	OptPort
	OptPath
	OptTLS
	OptSNI
	OptMethod
	OptExpect
	OptString
	OptRegex
	OptOnRedirect
	OptMaxRedirects
	OptCertWarning
	OptCertCritical
	OptCAFile
)

// FlagNames are the options as `suitecheck check http`'s flags name them
// (check_http's where it has them).
var FlagNames = map[Option]string{
	OptURL: "--url", OptHost: "-H", OptAddress: "-I/--IP-address", OptPort: "-p/--port", OptPath: "-u/--uri", OptTLS: "-S",
	OptSNI: "--sni", OptMethod: "--method", OptExpect: "-e/--expect", OptString: "-s/--string", OptRegex: "-r/--regex", OptOnRedirect: "-f/--onredirect",
	OptMaxRedirects: "--max-redirs", OptCertWarning: "--cert-warning", OptCertCritical: "--cert-critical", OptCAFile: "--ca-file",
}

// namer names o's options in its messages.
type namer map[Option]string

func namesOf(o Options) namer {
	if o.Names == nil {
		return FlagNames
	}
	return o.Names
}

// httpsOnly says an option needs https, naming how to ask for it.
func (n namer) httpsOnly() string {
	if n[OptTLS] != "" {
		return fmt.Sprintf("only for https (%s or an https:// %s)", n[OptTLS], n[OptURL])
	}
	return "only for https (an https:// " + n[OptURL] + ")"
}

// layer is one of the layers Check walks, in order.
type layer int

const (
	resolve   layer = iota // the name resolves
	connect                // TCP connects
	handshake              // TLS handshake and certificate
	answer                 // an HTTP answer with an expected status
	content                // the body is read, and matches
	nLayers
)

// layers names each layer for people, and for perfdata.
var layers = [nLayers]struct{ name, label string }{
	resolve:   {"dns", "dns"},
	connect:   {"tcp connect", "connect"},
	handshake: {"tls", "tls"},
	answer:    {"http", "ttfb"},
	content:   {"body", "transfer"},
}

// String is the layer as the output names it: "2/5 tcp connect".
func (l layer) String() string { return fmt.Sprintf("%d/%d %s", l+1, nLayers, layers[l].name) }

// target is one request's destination: the start, or a redirect's.
type target struct {
	scheme string // http or https
	host   string // the name: Host header, certificate name (no brackets)
	port   string
	uri    string // path and query, as sent
	sni    string // the TLS server name; host when empty
}

// hostPort is the Host header's form: no port when it is the scheme's.
func (t target) hostPort() string {
	h := t.host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if t.port == defaultPort(t.scheme) {
		return h
	}
	return net.JoinHostPort(t.host, t.port)
}

// String is the target for people: the URL with its query hidden (a query
// may carry a token) as "?…".
func (t target) String() string {
	path, query, hasQuery := strings.Cut(t.uri, "?")
	if hasQuery && query != "" {
		path += "?…"
	}
	return t.scheme + "://" + t.hostPort() + path
}

func (t target) url() string { return t.scheme + "://" + t.hostPort() + t.uri }

// serverName is the name the TLS handshake sends and the certificate must
// carry.
func (t target) serverName() string {
	if t.sni != "" {
		return t.sni
	}
	return t.host
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// plan is Options checked and resolved.
type plan struct {
	o        Options
	n        namer // how messages name the options
	start    target
	address  string // -I, or ""
	method   string
	expect   statusSet
	re       *regexp.Regexp
	roots    *x509.CertPool // nil: the system's
	redirect string
	maxHops  int
}

// prepare checks the options. Its errors are the user's to fix (UNKNOWN).
func prepare(o Options) (*plan, error) {
	n := namesOf(o)
	p := &plan{o: o, n: n, address: strings.TrimSpace(o.Address), method: "GET", redirect: RedirectOK, maxHops: DefaultMaxRedirects}
	var err error
	if p.start, err = startTarget(o, n); err != nil {
		return nil, err
	}
	if p.address != "" {
		if p.address, err = CheckAddress(p.address); err != nil {
			return nil, fmt.Errorf("%s %q: %w", n[OptAddress], o.Address, err)
		}
	}
	if o.SNI != "" {
		if strings.ContainsAny(o.SNI, "/: ") {
			return nil, fmt.Errorf("%s %q: give a host name", n[OptSNI], o.SNI)
		}
		if p.start.scheme != "https" {
			return nil, fmt.Errorf("%s %s: %s", n[OptSNI], o.SNI, n.httpsOnly())
		}
		p.start.sni = o.SNI
	}
	if o.Method != "" {
		if !isToken(o.Method) {
			return nil, fmt.Errorf("%s %q: give an HTTP method such as GET or HEAD", n[OptMethod], o.Method)
		}
		p.method = strings.ToUpper(o.Method)
	}
	if p.expect, err = parseStatusSet(cmp.Or(o.Expect, DefaultExpect), n[OptExpect]); err != nil {
		return nil, err
	}
	if o.Regex != "" {
		if p.re, err = regexp.Compile(o.Regex); err != nil {
			var se *syntax.Error
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s %q: %s in %q (RE2 syntax)", n[OptRegex], o.Regex, se.Code, se.Expr)
			}
			return nil, fmt.Errorf("%s %q: not a regular expression (RE2 syntax)", n[OptRegex], o.Regex)
		}
	}
	switch r := strings.ToLower(strings.TrimSpace(o.OnRedirect)); r {
	case "", RedirectOK:
	case RedirectFollow, RedirectWarning, RedirectCritical:
		p.redirect = r
	case "sticky", "stickyport":
		return nil, fmt.Errorf("%s %s is not supported: follow keeps %s for hops to the same host", n[OptOnRedirect], r, short(n[OptAddress]))
	default:
		return nil, fmt.Errorf("%s %q: use ok, follow, warning or critical", n[OptOnRedirect], o.OnRedirect)
	}
	switch {
	case o.MaxRedirects < 0:
		return nil, fmt.Errorf("%s %d: give 1 or more", n[OptMaxRedirects], o.MaxRedirects)
	case o.MaxRedirects > 0:
		p.maxHops = o.MaxRedirects
	}
	switch {
	case o.CertWarning < 0 || o.CertCritical < 0:
		return nil, fmt.Errorf("%s and %s are days: give 0 or more", n[OptCertWarning], n[OptCertCritical])
	case o.CertCritical > o.CertWarning && o.CertWarning > 0:
		return nil, fmt.Errorf("%[1]s %[2]d is more days than %[3]s %[4]d: critical comes closer to expiry (lower %[1]s too)", n[OptCertCritical], o.CertCritical, n[OptCertWarning], o.CertWarning)
	}
	if o.CAFile != "" {
		if p.start.scheme != "https" {
			return nil, fmt.Errorf("%s %s: %s", n[OptCAFile], o.CAFile, n.httpsOnly())
		}
		if p.roots, err = loadRoots(o.CAFile, n[OptCAFile]); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// startTarget builds the first request's target from --url, or from -H,
// -I, -p, -u and -S.
func startTarget(o Options, n namer) (target, error) {
	if o.URL != "" {
		if o.Host != "" || o.Port != 0 || o.Path != "" || o.TLS {
			return target{}, fmt.Errorf("give either %s or %s/%s/%s/%s, not both (%s and %s go with either)", n[OptURL], n[OptHost], short(n[OptPort]), short(n[OptPath]), n[OptTLS], short(n[OptAddress]), n[OptSNI])
		}
		if strings.HasPrefix(o.URL, "/") {
			hint := ""
			if n[OptPath] != "" {
				hint = "; a path alone goes in " + n[OptPath]
			}
			return target{}, fmt.Errorf("%s %q: give a whole URL such as https://app.example.com/health%s", n[OptURL], o.URL, hint)
		}
		return urlTarget(o.URL, n[OptURL])
	}
	if n[OptHost] == "" {
		return target{}, fmt.Errorf("no %s: give a whole URL such as https://app.example.com/health", n[OptURL])
	}
	t := target{scheme: "http", uri: cmp.Or(o.Path, "/")}
	if o.TLS {
		t.scheme = "https"
	}
	if !strings.HasPrefix(t.uri, "/") {
		return target{}, fmt.Errorf("%s %q: give a path starting with /", n[OptPath], o.Path)
	}
	if strings.ContainsAny(t.uri, " \t\r\n#") {
		return target{}, fmt.Errorf("%s %q: a path holds no spaces or #: percent-encode them", n[OptPath], o.Path)
	}
	host := strings.TrimSpace(o.Host)
	if host == "" {
		host = strings.TrimSpace(o.Address) // check_http: Host is then the address
	}
	if host == "" {
		return target{}, fmt.Errorf("name the server: %s host (and %s address), or %s URL", n[OptHost], short(n[OptAddress]), n[OptURL])
	}
	if strings.Contains(host, "/") {
		return target{}, fmt.Errorf("%s %q: give a host name; a whole URL goes in %s", n[OptHost], o.Host, n[OptURL])
	}
	port := ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		host, port = h, p
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" || strings.ContainsAny(host, " []") {
		return target{}, fmt.Errorf("%s %q: give a host name or address", n[OptHost], o.Host)
	}
	switch {
	case port != "" && o.Port != 0 && port != strconv.Itoa(o.Port):
		return target{}, fmt.Errorf("%s %s and %s %d: give the port once", n[OptHost], o.Host, short(n[OptPort]), o.Port)
	case o.Port < 0 || o.Port > 65535:
		return target{}, fmt.Errorf("%s %d: give 1 to 65535", n[OptPort], o.Port)
	case o.Port != 0:
		port = strconv.Itoa(o.Port)
	case port == "":
		port = defaultPort(t.scheme)
	}
	if num, err := strconv.Atoi(port); err != nil || num < 1 || num > 65535 {
		return target{}, fmt.Errorf("%s %s: port %q: give 1 to 65535", n[OptHost], o.Host, port)
	}
	t.host, t.port = host, port
	return t, nil
}

// short is a flag's short form: "-p" of "-p/--port".
func short(name string) string {
	f, _, _ := strings.Cut(name, "/")
	return f
}

// urlTarget reads an absolute http or https URL: --url's, or a
// redirect's (what names it, for messages).
func urlTarget(raw, what string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return target{}, fmt.Errorf("%s %q: not a URL: %v", what, raw, err)
	}
	return fromURL(u, what)
}

func fromURL(u *url.URL, what string) (target, error) {
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return target{}, fmt.Errorf("%s %s: give an http:// or https:// URL", what, shown(u))
	case u.Hostname() == "":
		return target{}, fmt.Errorf("%s %s: no host in the URL", what, shown(u))
	case u.User != nil:
		return target{}, fmt.Errorf("%s %s: a user or password in the URL is not supported (it would be shown and sent in the clear)", what, shown(u))
	}
	t := target{scheme: scheme, host: u.Hostname(), port: u.Port(), uri: u.RequestURI()}
	if t.port == "" {
		t.port = defaultPort(scheme)
	}
	if n, err := strconv.Atoi(t.port); err != nil || n < 1 || n > 65535 {
		return target{}, fmt.Errorf("%s %s: port %q: give 1 to 65535", what, shown(u), t.port)
	}
	return t, nil
}

// shown is a URL for a message: no user, no password, no query.
func shown(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}

// isToken reports whether s is an HTTP token (a method name).
func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// loadRoots reads --ca-file (name) into the system's pool, bounded.
func loadRoots(path, name string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s %s: %v", name, path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s: not a regular file", name, path)
	}
	pem, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s %s: %v", name, path, err)
	case len(pem) > maxCAFile:
		return nil, fmt.Errorf("%s %s: larger than %d MiB: not a CA bundle", name, path, maxCAFile>>20)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s: no PEM certificate in it", name, path)
	}
	return pool, nil
}

// Validate reports what is wrong with the options, as Check would report
// it (UNKNOWN), without connecting anywhere.
func Validate(o Options) error {
	_, err := prepare(o)
	return err
}

// pastDeadline reports whether ctx's deadline, if any, has passed.
func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// Check walks the layers in front of an app in order — the name resolves,
// TCP connects, the TLS handshake and certificate (https only), an HTTP
// answer with an expected status, the body — timing each, and names the
// first that fails. A certificate close to expiry is a WARNING (or
// CRITICAL) that does not stop the walk. With -f follow, each hop walks
// layers 1 to 4 again and the layers' times add up.
func Check(ctx context.Context, o Options) checks.Result {
	start := time.Now()
	pl, err := prepare(o)
	if err != nil {
		return checks.FromError(err)
	}
	p := &probe{plan: pl, tgt: pl.start}
	err = p.run(ctx)
	total := time.Since(start)

	res := checks.Result{}
	res.Perfdata = p.perfdata(total)
	for l := range nLayers {
		res.Parts = append(res.Parts, p.part(l, err))
	}
	res.Long = p.hops

	head := "http " + pl.start.String()
	if pl.address != "" {
		head += " via " + pl.address
	}
	w := checks.Walk{Head: head, Layers: int(nLayers), Passed: p.count(), Total: total, Current: p.current.String(),
		Thresholds: o.Thresholds, TimeoutState: o.TimeoutState, Budget: o.Budget}
	res.State, res.Summary = w.End(ctx, err)
	if soft := p.softest(); err == nil && p.state[soft] != checks.OK {
		// Every layer passed, one with a warning (a certificate close to
		// its end): that layer is the news, with the time's verdict.
		st := res.State
		res.State = checks.Worst(st, p.state[soft])
		res.Summary = fmt.Sprintf("%s: layer %s: %s", head, soft, p.detail[soft]) + checks.TotalNote(st, o.Thresholds)
	}
	return res
}

// probe is one walk: what each layer found, over every hop.
type probe struct {
	*plan
	tgt     target // the hop being walked
	hop     int    // redirects followed so far
	times   [nLayers]time.Duration
	ran     [nLayers]bool
	state   [nLayers]checks.State // of a layer that ran: OK, or a WARNING (CRITICAL) that does not stop the walk
	detail  [nLayers]string       // what a layer that ran found
	skipped [nLayers]string       // why a layer did not run
	current layer                 // the layer being walked
	hops    []string              // the redirects followed, for the long output

	ttfb     time.Duration
	read     bool  // the body was read
	size     int64 // of the body read
	certDays *int
}

func (p *probe) count() int {
	n := 0
	for _, r := range p.ran {
		if r {
			n++
		}
	}
	return n
}

// softest is the first layer with the worst state among those that ran.
func (p *probe) softest() layer {
	w := layer(0)
	for l := range nLayers {
		if p.ran[l] && p.state[l].Worse(p.state[w]) {
			w = l
		}
	}
	return w
}

// part is layer i as a part of the result.
func (p *probe) part(i layer, err error) checks.Part {
	part := checks.Part{Name: i.String()}
	var le *checks.LayerError
	switch {
	case err != nil && i == p.current:
		part.Time, part.Timed = p.times[i], true
		switch {
		case errors.As(err, &le):
			part.State, part.Detail = checks.Critical, le.Msg
		case errors.Is(err, context.DeadlineExceeded):
			part.State, part.Detail = p.o.TimeoutState, "timed out"
		case errors.Is(err, context.Canceled):
			part.State, part.Detail = checks.Unknown, "interrupted"
		default:
			part.State, part.Detail = checks.Unknown, err.Error()
		}
	case p.ran[i]:
		part.State, part.Time, part.Timed, part.Detail = p.state[i], p.times[i], true, p.detail[i]
	case p.skipped[i] != "":
		part.Mark, part.Detail = checks.Skipped, p.skipped[i]
	default:
		part.Mark = checks.NotRun
	}
	return part
}

// perfdata is the total time, each layer's that ran, the size, the
// certificate's days and the redirects followed.
func (p *probe) perfdata(total time.Duration) []checks.Perfdata {
	pd := []checks.Perfdata{checks.Duration("time", total, p.o.Thresholds)}
	for l := range nLayers {
		if !p.ran[l] {
			continue
		}
		d := p.times[l]
		if l == answer {
			d = p.ttfb
		}
		pd = append(pd, checks.Duration(layers[l].label, d, checks.Thresholds{}))
	}
	if p.read {
		pd = append(pd, checks.Perfdata{Label: "size", Value: float64(p.size), UOM: checks.UOMBytes, Min: checks.Float(0)})
	}
	if p.certDays != nil {
		item := checks.Perfdata{Label: "cert_days", Value: float64(*p.certDays)}
		if p.o.CertWarning > 0 {
			item.Warn = &checks.Range{Start: float64(p.o.CertWarning), End: inf}
		}
		if p.o.CertCritical > 0 {
			item.Crit = &checks.Range{Start: float64(p.o.CertCritical), End: inf}
		}
		pd = append(pd, item)
	}
	if p.redirect == RedirectFollow {
		pd = append(pd, checks.Perfdata{Label: "redirects", Value: float64(p.hop), Min: checks.Float(0), Max: checks.Float(float64(p.maxHops))})
	}
	return pd
}

// layer times fn as layer i, adding to the time of the hops before.
func (p *probe) layer(i layer, fn func() error) error {
	p.current = i
	t0 := time.Now()
	err := fn()
	p.times[i] += time.Since(t0)
	if err == nil {
		p.ran[i] = true
		p.skipped[i] = ""
	}
	return err
}

// skip marks layer i as not needed for this hop; a layer an earlier hop
// ran stays run.
func (p *probe) skip(i layer, why string) {
	if !p.ran[i] {
		p.skipped[i] = why
	}
}

// fail is a layer failure, saying on which hop when redirects were
// followed.
func (p *probe) fail(l layer, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if p.hop > 0 {
		msg += fmt.Sprintf(" (at %s, after %d redirect%s)", p.tgt, p.hop, plural(p.hop))
	}
	return &checks.LayerError{Layer: l, Msg: msg}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// run walks the layers, hop by hop.
func (p *probe) run(ctx context.Context) error {
	for {
		next, err := p.walk(ctx)
		if err != nil || next == nil {
			return err
		}
		p.tgt = *next
	}
}

// walk runs the layers for one hop, returning the redirect's target when
// there is one to follow.
func (p *probe) walk(ctx context.Context) (*target, error) {
	// Layer 1: the name, or -I's address for the start's host.
	name := p.tgt.host
	if p.address != "" && strings.EqualFold(p.tgt.host, p.start.host) {
		name = p.address
	}
	var addrs []net.IP
	if ip := net.ParseIP(name); ip != nil {
		addrs = []net.IP{ip}
		why := name + " is an address: nothing to resolve"
		if name == p.address {
			why = short(p.n[OptAddress]) + " " + name + " is an address: nothing to resolve"
		}
		p.skip(resolve, why)
	} else if err := p.layer(resolve, func() error {
		var err error
		addrs, err = p.lookup(ctx, name)
		return err
	}); err != nil {
		return nil, err
	}

	// Layer 2: TCP, to each address in turn until one connects.
	var conn net.Conn
	if err := p.layer(connect, func() error {
		var err error
		conn, err = p.dial(ctx, addrs)
		return err
	}); err != nil {
		return nil, err
	}
	defer conn.Close()

	// Layer 3: TLS, and the certificate.
	if p.tgt.scheme == "https" {
		err := p.layer(handshake, func() error {
			tc, err := p.handshake(ctx, conn)
			if err == nil {
				conn = tc
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	} else {
		p.skip(handshake, "plain http")
	}

	// Layer 4: the request, and an answer with an expected status.
	var resp *http.Response
	var next *target
	if err := p.layer(answer, func() error {
		var err error
		resp, next, err = p.request(ctx, conn)
		return err
	}); err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if next != nil {
		return next, nil
	}

	// Layer 5: the body, bounded, and the matches.
	if p.method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		why := "no body: " + p.method
		if p.method != http.MethodHead {
			why = "no body: status " + strconv.Itoa(resp.StatusCode)
		}
		if p.o.String != "" || p.re != nil {
			return nil, checks.LayerFailed(content, "%s, nothing to match %s/%s against", why, short(p.n[OptString]), short(p.n[OptRegex]))
		}
		p.skip(content, why)
		return nil, nil
	}
	return nil, p.layer(content, func() error { return p.body(ctx, resp) })
}

// lookup resolves name.
func (p *probe) lookup(ctx context.Context, name string) ([]net.IP, error) {
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var de *net.DNSError
		if errors.As(err, &de) {
			switch {
			case de.IsNotFound:
				return nil, p.fail(resolve, "cannot resolve %s: no such host", name)
			case de.IsTimeout:
				return nil, p.fail(resolve, "cannot resolve %s: the DNS server did not answer in time", name)
			}
			return nil, p.fail(resolve, "cannot resolve %s: %s", name, de.Err)
		}
		return nil, p.fail(resolve, "cannot resolve %s: %v", name, err)
	}
	if len(ips) == 0 {
		return nil, p.fail(resolve, "%s has no address", name)
	}
	addrs := make([]net.IP, len(ips))
	shown := make([]string, 0, 4)
	for i, ip := range ips {
		addrs[i] = ip.IP
		if i < 4 {
			shown = append(shown, ip.String())
		}
	}
	if len(ips) > len(shown) {
		shown = append(shown, "…")
	}
	if len(ips) == 1 {
		p.detail[resolve] = fmt.Sprintf("%s: 1 address (%s)", name, shown[0])
	} else {
		p.detail[resolve] = fmt.Sprintf("%s: %d addresses (%s)", name, len(ips), strings.Join(shown, ", "))
	}
	return addrs, nil
}

// minDialSlice is the least time an address gets when several share the
// rest of the budget, as Go's own dialer gives them.
const minDialSlice = 2 * time.Second

// dial connects to the addresses in turn. When several are left, each
// gets its share of the time left (at least minDialSlice), so one address
// that drops packets does not spend the budget of the others.
func (p *probe) dial(ctx context.Context, addrs []net.IP) (net.Conn, error) {
	var d net.Dialer
	var failed []string
	for i, ip := range addrs {
		addr := net.JoinHostPort(ip.String(), p.tgt.port)
		actx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok && len(addrs)-i > 1 {
			share := max(time.Until(dl)/time.Duration(len(addrs)-i), minDialSlice)
			actx, cancel = context.WithTimeout(ctx, share)
		}
		c, err := d.DialContext(actx, "tcp", addr)
		timedOut := actx.Err() != nil
		cancel()
		if err == nil {
			p.detail[connect] = "connected to " + addr
			if len(failed) > 0 {
				p.detail[connect] += " (" + strings.Join(failed, ", ") + ")"
			}
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		why := netCause(err)
		if timedOut {
			why = "no answer in its share of the time"
		}
		failed = append(failed, addr+": "+why)
	}
	if len(failed) == 1 {
		_, why, _ := strings.Cut(failed[0], ": ")
		return nil, p.fail(connect, "%s", why)
	}
	return nil, p.fail(connect, "no address connects: %s", strings.Join(failed, ", "))
}

// netCause shortens a net error to its cause ("connection refused").
func netCause(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err.Error()
		}
		return oe.Err.Error()
	}
	return err.Error()
}

// handshake runs the TLS handshake with the server name, verifying the
// certificate in our words.
func (p *probe) handshake(ctx context.Context, conn net.Conn) (*tls.Conn, error) {
	name := p.tgt.serverName()
	v := &verifier{name: name, roots: p.roots, now: time.Now(), caFile: p.n[OptCAFile]}
	cfg := &tls.Config{
		ServerName: name,
		// Verified in VerifyConnection, by the same rules as the default
		// (chain to a trusted root, validity, the name), so that each
		// failure is named in plain words and the days are known.
		InsecureSkipVerify: true,
		VerifyConnection:   v.verify,
		NextProtos:         []string{"http/1.1"},
	}
	tc := tls.Client(conn, cfg)
	err := tc.HandshakeContext(ctx)
	if v.days != nil {
		p.certDays = v.days
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ce *certError
		if errors.As(err, &ce) {
			return nil, p.fail(handshake, "%s", ce.msg)
		}
		return nil, p.fail(handshake, "%s", handshakeCause(err, p.n))
	}
	cs := tc.ConnectionState()
	p.detail[handshake] = fmt.Sprintf("%s, %s", tls.VersionName(cs.Version), v.summary)
	if d := *v.days; p.o.CertCritical > 0 && d < p.o.CertCritical {
		p.state[handshake] = checks.Worst(p.state[handshake], checks.Critical)
		p.detail[handshake] = fmt.Sprintf("%s, below %s %d", v.expiry, p.n[OptCertCritical], p.o.CertCritical)
	} else if p.o.CertWarning > 0 && d < p.o.CertWarning {
		p.state[handshake] = checks.Worst(p.state[handshake], checks.Warning)
		p.detail[handshake] = fmt.Sprintf("%s, below %s %d", v.expiry, p.n[OptCertWarning], p.o.CertWarning)
	}
	return tc, nil
}

// handshakeCause says why a handshake failed, other than the certificate.
func handshakeCause(err error, n namer) string {
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh):
		if rh.Conn != nil && bytes.HasPrefix(rh.RecordHeader[:], []byte("HTTP/")) {
			if n[OptTLS] != "" {
				return fmt.Sprintf("the server answered in plain HTTP, not TLS: use http (no %s) or the TLS port", n[OptTLS])
			}
			return fmt.Sprintf("the server answered in plain HTTP, not TLS: use an http:// %s or the TLS port", n[OptURL])
		}
		return "the server does not speak TLS (its first bytes are no TLS record)"
	case errors.Is(err, io.EOF):
		return "the server closed the connection during the TLS handshake"
	}
	return "TLS handshake failed: " + netCause(err)
}

// request sends the request over conn and reads the answer's header. It
// returns the target of a redirect to follow.
func (p *probe) request(ctx context.Context, conn net.Conn) (*http.Response, *target, error) {
	used := false
	give := func(context.Context, string, string) (net.Conn, error) {
		if used {
			return nil, errors.New("the connection was used already")
		}
		used = true
		return conn, nil
	}
	tr := &http.Transport{
		DialContext:            give,
		DialTLSContext:         give,
		DisableKeepAlives:      true,
		DisableCompression:     true, // the body as sent; its size is the wire's
		MaxResponseHeaderBytes: maxHeader,
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 only
	}
	defer tr.CloseIdleConnections()
	t0 := time.Now()
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { p.ttfb += time.Since(t0) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), p.method, p.tgt.url(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("build the request for %s: %w", p.tgt, err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil, nil, p.fail(answer, "the server closed the connection without an answer")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, nil, p.fail(answer, "the server closed the connection in the middle of its answer's header")
		}
		// The transport wraps the read's error in its own words.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, nil, p.fail(answer, "no HTTP answer: %s", netCause(err))
	}
	status := resp.Status
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" {
		loc, err := resp.Location()
		if err != nil {
			resp.Body.Close()
			return nil, nil, p.fail(answer, "%s with an unreadable Location", status)
		}
		to, terr := fromURL(loc, "redirect to")
		where := to.String()
		if terr != nil {
			where = shown(loc)
		}
		switch p.redirect {
		case RedirectFollow:
			resp.Body.Close()
			switch {
			case terr != nil:
				return nil, nil, p.fail(answer, "%s to %s: not an http or https URL to follow", status, where)
			case p.hop >= p.maxHops:
				return nil, nil, p.fail(answer, "%s to %s: more than %d redirects (%s)", status, where, p.maxHops, p.n[OptMaxRedirects])
			}
			p.hop++
			p.hops = append(p.hops, fmt.Sprintf("redirect %d: %s from %s to %s", p.hop, status, p.tgt, where))
			if resp.StatusCode == http.StatusSeeOther && p.method != http.MethodHead {
				p.method = http.MethodGet
			}
			if !strings.EqualFold(to.host, p.tgt.host) || to.scheme != p.tgt.scheme {
				to.sni = "" // --sni names the start's server only
			} else {
				to.sni = p.tgt.sni
			}
			return resp, &to, nil
		case RedirectCritical:
			resp.Body.Close()
			return nil, nil, p.fail(answer, "%s to %s (%s critical)", status, where, short(p.n[OptOnRedirect]))
		case RedirectWarning:
			p.state[answer] = checks.Warning
			p.detail[answer] = fmt.Sprintf("%s to %s (%s warning)", status, where, short(p.n[OptOnRedirect]))
			return resp, nil, nil
		}
		if !p.expect.has(resp.StatusCode) {
			resp.Body.Close()
			return nil, nil, p.fail(answer, "status %s to %s, expected %s", status, where, p.expect)
		}
		p.detail[answer] = fmt.Sprintf("%s to %s (not followed)", status, where)
		return resp, nil, nil
	}
	if !p.expect.has(resp.StatusCode) {
		resp.Body.Close()
		return nil, nil, p.fail(answer, "status %s, expected %s", status, p.expect)
	}
	p.detail[answer] = status
	if p.hop > 0 {
		p.detail[answer] += fmt.Sprintf(" (after %d redirect%s)", p.hop, plural(p.hop))
	}
	return resp, nil, nil
}

// body reads the body, at most MaxBody bytes, and matches it.
func (p *probe) body(ctx context.Context, resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	capped := len(data) > MaxBody
	if capped {
		data = data[:MaxBody]
	}
	p.size, p.read = int64(len(data)), true
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return p.fail(content, "the body broke off after %d bytes: %s", len(data), netCause(err))
	}
	read := fmt.Sprintf("%d bytes", len(data))
	if capped {
		read = fmt.Sprintf("the first %d bytes (of a longer body)", len(data))
	}
	if p.o.String != "" && !bytes.Contains(data, []byte(p.o.String)) {
		return p.fail(content, "%q not found in %s", checks.Shorten(p.o.String, 60), read)
	}
	if p.re != nil && !p.re.Match(data) {
		return p.fail(content, "regex %q does not match %s", checks.Shorten(p.re.String(), 60), read)
	}
	found := []string{read}
	if p.o.String != "" {
		found = append(found, fmt.Sprintf("%q found", checks.Shorten(p.o.String, 60)))
	}
	if p.re != nil {
		found = append(found, fmt.Sprintf("regex %q matches", checks.Shorten(p.re.String(), 60)))
	}
	p.detail[content] = strings.Join(found, ", ")
	return nil
}
