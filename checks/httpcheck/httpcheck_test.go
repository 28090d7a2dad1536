package httpcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
)

// app is a small site: its pages break the layers from 4 on.
type app struct {
	*httptest.Server
	mu      sync.Mutex
	hosts   []string // the Host headers seen
	written atomic.Int64
}

func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.hosts = append(a.hosts, r.Host)
		a.mu.Unlock()
		io.WriteString(w, "<html><title>chat</title><body>Welcome to the chat, build 4711</body></html>")
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://login.invalid/sso?token=s3cret", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			a.written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/cut", func(w http.ResponseWriter, r *http.Request) {
		// Promises more than it sends, then drops the connection.
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "only a part")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	return mux
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{}
	a.Server = httptest.NewServer(a.handler())
	t.Cleanup(a.Close)
	return a
}

func newTLSApp(t *testing.T, cert tls.Certificate) (*app, *hello) {
	t.Helper()
	a := &app{}
	srv, h := tlsServer(t, cert, a.handler())
	a.Server = srv
	return a, h
}

// port is the app's port.
func (a *app) port(t *testing.T) int {
	t.Helper()
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	var p int
	fmt.Sscan(u.Port(), &p)
	return p
}

func (a *app) seenHosts() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.hosts...)
}

// closedPort is a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

func runCheck(t *testing.T, o Options, budget time.Duration) (checks.Result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	if o.TimeoutState == 0 {
		o.TimeoutState = checks.Critical
	}
	o.Budget = budget
	r := Check(ctx, o)
	out := r.Render(checks.DefaultMaxOutput)
	checkContract(t, r, out)
	return r, out
}

// checkContract asserts what every check output keeps: the status line
// with the state and perfdata, no | or ; in the text, every layer as a
// part, exactly one CRITICAL layer when the walk stopped at one.
func checkContract(t *testing.T, r checks.Result, out string) {
	t.Helper()
	first, rest, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, checks.Prefix+" "+r.State.String()+" - ") || !strings.HasSuffix(out, "\n") {
		t.Errorf("not a status line: %q", out)
	}
	text, _, hasPD := strings.Cut(first, " | ")
	if r.State != checks.Unknown || len(r.Parts) > 0 {
		if !hasPD || strings.ContainsAny(text, "|;") || strings.ContainsAny(rest, "|;") {
			t.Errorf("perfdata missing, or | ; in text:\n%s", out)
		}
		if len(r.Parts) != int(nLayers) {
			t.Errorf("%d parts, want one per layer:\n%s", len(r.Parts), out)
		}
	}
	if len(out) > checks.DefaultMaxOutput {
		t.Errorf("output is %d bytes, over %d", len(out), checks.DefaultMaxOutput)
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("a query's secret in the output:\n%s", out)
	}
}

func TestCheckPlainHTTP(t *testing.T) {
	a := newApp(t)
	r, out := runCheck(t, Options{URL: a.URL + "/"}, 10*time.Second)
	if r.State != checks.OK {
		t.Fatalf("state %v:\n%s", r.State, out)
	}
	want := fmt.Sprintf("SUITECHECK OK - http %s/: 3 of 5 layers OK in ", a.URL)
	if !strings.HasPrefix(out, want) {
		t.Errorf("status line:\n%s\nwant prefix %q", out, want)
	}
	for _, s := range []string{"[SKIPPED] 1/5 dns: 127.0.0.1 is an address: nothing to resolve", "[OK] 2/5 tcp connect ", ": connected to " + a.Listener.Addr().String(),
		"[SKIPPED] 3/5 tls: plain http", "[OK] 4/5 http ", ": 200 OK", "[OK] 5/5 body ", ": 76 bytes"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	for _, label := range []string{" time=", " connect=", " ttfb=", " transfer=", " size=76B;;;0"} {
		if !strings.Contains(out, label) {
			t.Errorf("perfdata lacks %s:\n%s", label, out)
		}
	}
	for _, label := range []string{" dns=", " tls=", " cert_days=", " redirects="} {
		if strings.Contains(out, label) {
			t.Errorf("perfdata has %s, a layer that did not run:\n%s", label, out)
		}
	}
}

// TestCheckLayers breaks each layer for real and expects the state and
// the layer named in the summary.
func TestCheckLayers(t *testing.T) {
	a := newApp(t)
	port := a.port(t)
	tests := []struct {
		name  string
		o     Options
		state checks.State
		want  string   // in the summary, after "http …: "
		lines []string // in the output
	}{
		{"unresolvable name", Options{Host: "no-such-host.invalid", Port: port}, checks.Critical,
			"layer 1/5 dns: cannot resolve no-such-host.invalid: no such host", []string{"[NOT RUN] 2/5 tcp connect", "[NOT RUN] 5/5 body"}},
		{"closed port", Options{Host: "127.0.0.1", Port: closedPort(t)}, checks.Critical,
			"layer 2/5 tcp connect: connection refused", []string{"[CRITICAL] 2/5 tcp connect ", "[NOT RUN] 3/5 tls", "[NOT RUN] 4/5 http"}},
		{"localhost resolves", Options{Host: "localhost", Port: port}, checks.OK,
			"4 of 5 layers OK", []string{"[OK] 1/5 dns ", ": localhost: 1 address (127.0.0.1)"}},
		{"wrong status", Options{URL: a.URL + "/down"}, checks.Critical,
			"layer 4/5 http: status 503 Service Unavailable, expected 200-399", []string{"[OK] 2/5 tcp connect", "[NOT RUN] 5/5 body"}},
		{"4xx is not up", Options{URL: a.URL + "/missing"}, checks.Critical,
			"layer 4/5 http: status 404 Not Found, expected 200-399", nil},
		{"expected 404", Options{URL: a.URL + "/missing", Expect: "404"}, checks.OK, "3 of 5 layers OK", nil},
		{"expected class", Options{URL: a.URL + "/down", Expect: "2xx,500-504"}, checks.OK, "3 of 5 layers OK", nil},
		{"string found", Options{URL: a.URL + "/", String: "Welcome"}, checks.OK, "3 of 5 layers OK", []string{`: 76 bytes, "Welcome" found`}},
		{"string missing", Options{URL: a.URL + "/", String: "Logout"}, checks.Critical,
			`layer 5/5 body: "Logout" not found in 76 bytes`, []string{"[CRITICAL] 5/5 body "}},
		{"regex matches", Options{URL: a.URL + "/", Regex: `build \d+`}, checks.OK, "3 of 5 layers OK", []string{`regex "build \\d+" matches`}},
		{"regex does not match", Options{URL: a.URL + "/", Regex: `build [a-f]+$`}, checks.Critical,
			`layer 5/5 body: regex "build [a-f]+$" does not match 76 bytes`, nil},
		{"redirect not followed", Options{URL: a.URL + "/old"}, checks.OK,
			"3 of 5 layers OK", []string{": 301 Moved Permanently to " + a.URL + "/ (not followed)"}},
		{"redirect not followed, not expected", Options{URL: a.URL + "/old", Expect: "200"}, checks.Critical,
			"layer 4/5 http: status 301 Moved Permanently to " + a.URL + "/, expected 200", nil},
		{"redirect followed", Options{URL: a.URL + "/old", OnRedirect: "follow", String: "Welcome"}, checks.OK,
			"3 of 5 layers OK", []string{"redirect 1: 301 Moved Permanently from " + a.URL + "/old to " + a.URL + "/", " redirects=1;;;0;10"}},
		{"redirect is critical", Options{URL: a.URL + "/old", OnRedirect: "critical"}, checks.Critical,
			"layer 4/5 http: 301 Moved Permanently to " + a.URL + "/ (-f critical)", nil},
		{"redirect is a warning", Options{URL: a.URL + "/old", OnRedirect: "warning"}, checks.Warning,
			"layer 4/5 http: 301 Moved Permanently to " + a.URL + "/ (-f warning)", []string{"[WARNING] 4/5 http "}},
		{"redirect to a name that does not resolve", Options{URL: a.URL + "/away", OnRedirect: "follow"}, checks.Critical,
			"layer 1/5 dns: cannot resolve login.invalid: no such host (at http://login.invalid/sso?…, after 1 redirect)", nil},
		{"redirect loop", Options{URL: a.URL + "/loop", OnRedirect: "follow", MaxRedirects: 3}, checks.Critical,
			"layer 4/5 http: 302 Found to " + a.URL + "/loop: more than 3 redirects (--max-redirs) (at " + a.URL + "/loop, after 3 redirects)", nil},
		{"no content", Options{URL: a.URL + "/empty"}, checks.OK, "2 of 5 layers OK", []string{"[SKIPPED] 5/5 body: no body: status 204"}},
		{"no content to match", Options{URL: a.URL + "/empty", String: "x"}, checks.Critical, "layer 5/5 body: no body: status 204, nothing to match -s/-r against", nil},
		{"HEAD", Options{URL: a.URL + "/", Method: "head"}, checks.OK, "2 of 5 layers OK", []string{"[SKIPPED] 5/5 body: no body: HEAD"}},
		{"body cut off", Options{URL: a.URL + "/cut"}, checks.Critical, "layer 5/5 body: the body broke off after 11 bytes: unexpected EOF", nil},
		{"not HTTP", Options{Host: "127.0.0.1", Port: silentCloser(t)}, checks.Critical,
			"layer 4/5 http: the server closed the connection without an answer", nil},
		{"TLS to a plain HTTP server", Options{Host: "127.0.0.1", Port: port, TLS: true}, checks.Critical,
			"layer 3/5 tls: the server answered in plain HTTP, not TLS: use http (no -S) or the TLS port", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, out := runCheck(t, tt.o, 10*time.Second)
			if r.State != tt.state {
				t.Errorf("state = %v, want %v:\n%s", r.State, tt.state, out)
			}
			if !strings.Contains(r.Summary, ": "+tt.want) {
				t.Errorf("summary = %q\nwant it to contain %q", r.Summary, tt.want)
			}
			for _, s := range tt.lines {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			if n := strings.Count(out, "[CRITICAL] "); (tt.state == checks.Critical) != (n == 1) || n > 1 {
				t.Errorf("%d [CRITICAL] layer lines for a %v result:\n%s", n, r.State, out)
			}
		})
	}
}

// silentCloser is a port whose server accepts, reads, and closes without
// a word.
func silentCloser(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 4096))
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// An endless body is read up to MaxBody, and no further: the check ends,
// OK, having read MaxBody bytes, and the server could not write much more
// than that before the connection closed.
func TestCheckBodyCap(t *testing.T) {
	a := newApp(t)
	start := time.Now()
	r, out := runCheck(t, Options{URL: a.URL + "/endless", String: "never there"}, 20*time.Second)
	if r.State != checks.Critical || !strings.Contains(r.Summary, fmt.Sprintf(`"never there" not found in the first %d bytes (of a longer body)`, MaxBody)) {
		t.Errorf("want the string not found in the first MiB:\n%s", out)
	}
	if !strings.Contains(out, fmt.Sprintf(" size=%dB;;;0", MaxBody)) {
		t.Errorf("size is not the cap:\n%s", out)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("the check took %s on an endless body", el)
	}
	// The handler stops writing once the client closed: what it wrote is
	// the cap plus what the socket buffers held.
	a.Close()
	if w := a.written.Load(); w > 32<<20 {
		t.Errorf("the server wrote %d bytes: the body was not cut off at the cap", w)
	}
}

// -I connects to an address while -H stays the Host header, the TLS
// server name, and the name the certificate must carry.
func TestCheckAddressKeepsHostAndSNI(t *testing.T) {
	ca := newCA(t, "Test CA")
	cert, _ := ca.issue(t, valid(90).For("app.invalid"))
	a, hello := newTLSApp(t, cert)
	r, out := runCheck(t, Options{Host: "app.invalid", Address: "127.0.0.1", Port: a.port(t), TLS: true, CAFile: ca.file(t),
		CertWarning: DefaultCertWarning, CertCritical: DefaultCertCritical}, 10*time.Second)
	if r.State != checks.OK {
		t.Fatalf("state %v:\n%s", r.State, out)
	}
	host := fmt.Sprintf("app.invalid:%d", a.port(t))
	if got := a.seenHosts(); len(got) != 1 || got[0] != host {
		t.Errorf("Host headers %q, want [%s]", got, host)
	}
	if name, n := hello.get(); name != "app.invalid" || n != 1 {
		t.Errorf("SNI %q in %d handshakes, want app.invalid in 1", name, n)
	}
	want := fmt.Sprintf("SUITECHECK OK - http https://%s/ via 127.0.0.1: 4 of 5 layers OK", host)
	if !strings.HasPrefix(out, want) {
		t.Errorf("status line:\n%s\nwant prefix %q", out, want)
	}
	for _, s := range []string{"[SKIPPED] 1/5 dns: -I 127.0.0.1 is an address: nothing to resolve", "certificate for app.invalid until ", "(90 days), issued by \"Test CA\"", " cert_days=90;21:;7:"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}

	// --sni overrides the server name, and the certificate must carry it.
	r, out = runCheck(t, Options{Host: "app.invalid", Address: "127.0.0.1", Port: a.port(t), TLS: true, CAFile: ca.file(t), SNI: "other.invalid"}, 10*time.Second)
	if name, _ := hello.get(); name != "other.invalid" {
		t.Errorf("SNI %q, want the --sni other.invalid", name)
	}
	if r.State != checks.Critical || !strings.Contains(r.Summary, "layer 3/5 tls: certificate for app.invalid is not valid for other.invalid") {
		t.Errorf("want the certificate refused for the --sni name:\n%s", out)
	}
}

// TestCheckCertificates: what a browser would refuse is CRITICAL at layer
// 3, named in plain words; a certificate close to its end is WARNING, or
// CRITICAL, and the walk goes on.
func TestCheckCertificates(t *testing.T) {
	ca := newCA(t, "Test CA")
	other := newCA(t, "Other CA")
	expired := leaf{notBefore: time.Now().Add(-90 * 24 * time.Hour), notAfter: time.Now().Add(-(3*24 + 1) * time.Hour)}
	future := leaf{notBefore: time.Now().Add(48 * time.Hour), notAfter: time.Now().Add(90 * 24 * time.Hour)}
	app := []string{"app.invalid"}
	oldInter := ca.intermediate(t, "Old Intermediate", leaf{notBefore: time.Now().Add(-400 * 24 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)})
	shortInter := ca.intermediate(t, "Short Intermediate", valid(10))
	tests := []struct {
		name   string
		issuer *testCA // nil: self-signed
		cert   leaf
		o      Options
		caPEM  string // "ca", "leaf" (the server's own), or "" (none)
		state  checks.State
		want   string
		days   string // the cert_days item
	}{
		{"valid", ca, valid(200).For(app...), Options{}, "ca", checks.OK, "4 of 5 layers OK", "cert_days=200;21:;7:"},
		{"IP address certificate", ca, valid(200).For("127.0.0.1"), Options{Host: "127.0.0.1"}, "ca", checks.OK, "4 of 5 layers OK", "cert_days=200;"},
		{"expired", ca, expired.For(app...), Options{}, "ca", checks.Critical,
			"layer 3/5 tls: certificate for app.invalid expired on " + date(expired.notAfter) + " (3 days ago)", "cert_days=-4;21:;7:"},
		{"not yet valid", ca, future.For(app...), Options{}, "ca", checks.Critical,
			"layer 3/5 tls: certificate for app.invalid is not valid before " + date(future.notBefore), "cert_days=89;"},
		{"wrong name", ca, valid(90).For("www.invalid", "api.invalid"), Options{}, "ca", checks.Critical,
			"layer 3/5 tls: certificate for www.invalid, api.invalid is not valid for app.invalid", "cert_days=90;"},
		{"self-signed", nil, valid(90).For(app...), Options{}, "", checks.Critical,
			"layer 3/5 tls: certificate for app.invalid is self-signed, and not trusted (--ca-file trusts it)", "cert_days=90;"},
		{"self-signed, trusted", nil, valid(90).For(app...), Options{}, "leaf", checks.OK, "4 of 5 layers OK", "cert_days=90;"},
		{"unknown CA", other, valid(90).For(app...), Options{}, "ca", checks.Critical,
			`layer 3/5 tls: certificate for app.invalid is issued by "Other CA", which is not trusted: an unknown or private CA (--ca-file trusts it), or the server does not send the intermediate certificate`, "cert_days=90;"},
		{"expires within the warning", ca, valid(12).For(app...), Options{String: "Welcome"}, "ca", checks.Warning,
			"layer 3/5 tls: certificate for app.invalid expires in 12 days (" + date(time.Now().Add(12*24*time.Hour+12*time.Hour)) + "), below --cert-warning 21", "cert_days=12;21:;7:"},
		{"expires within the critical", ca, valid(3).For(app...), Options{}, "ca", checks.Critical,
			"layer 3/5 tls: certificate for app.invalid expires in 3 days (", "cert_days=3;21:;7:"},
		{"a later layer fails after a warning", ca, valid(12).For(app...), Options{Path: "/down"}, "ca", checks.Critical,
			"layer 4/5 http: status 503 Service Unavailable, expected 200-399", "cert_days=12;"},
		{"expired intermediate", oldInter, valid(90).For(app...), Options{}, "ca", checks.Critical,
			`layer 3/5 tls: the chain's certificate "Old Intermediate" expired on ` + date(time.Now().Add(-24*time.Hour)), "cert_days=90;"},
		{"intermediate expires first", shortInter, valid(90).For(app...), Options{}, "ca", checks.Warning,
			`layer 3/5 tls: certificate chain for app.invalid ("Short Intermediate") expires in 10 days`, "cert_days=10;21:;7:"},
		{"warnings off", ca, valid(3).For(app...), Options{CertWarning: -1}, "ca", checks.OK, "4 of 5 layers OK", "cert_days=3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, leafPEM := tt.issuer.issue(t, tt.cert)
			a, _ := newTLSApp(t, cert)
			o := tt.o
			if o.Host == "" {
				o.Host, o.Address = "app.invalid", "127.0.0.1"
			}
			o.Port, o.TLS = a.port(t), true
			switch o.CertWarning {
			case -1:
				o.CertWarning, o.CertCritical = 0, 0
			case 0:
				o.CertWarning, o.CertCritical = DefaultCertWarning, DefaultCertCritical
			}
			switch tt.caPEM {
			case "ca":
				o.CAFile = ca.file(t)
			case "leaf":
				o.CAFile = (&testCA{pem: leafPEM}).file(t)
			}
			r, out := runCheck(t, o, 10*time.Second)
			if r.State != tt.state || !strings.Contains(r.Summary, ": "+tt.want) {
				t.Errorf("got %v %q\nwant %v with %q\n%s", r.State, r.Summary, tt.state, tt.want, out)
			}
			if !strings.Contains(out, " "+tt.days) {
				t.Errorf("perfdata lacks %s:\n%s", tt.days, out)
			}
			if strings.Contains(out, "x509") || strings.Contains(out, "tls: failed") || strings.Contains(out, "remote error") {
				t.Errorf("Go's wording in the output:\n%s", out)
			}
		})
	}
}

// The run's budget ends the walk where it is, with -t's state, naming the
// layer; a signal's cancel is UNKNOWN, naming it.
func TestCheckTimeout(t *testing.T) {
	a := newApp(t)
	start := time.Now()
	r, out := runCheck(t, Options{URL: a.URL + "/hang", TimeoutState: checks.Unknown}, 300*time.Millisecond)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("check took %s with a 300ms budget", el)
	}
	if r.State != checks.Unknown || !strings.Contains(r.Summary, "timed out after 300ms at layer 4/5 http") {
		t.Errorf("want the timeout state at layer 4:\n%s", out)
	}
	if !strings.Contains(out, "[UNKNOWN] 4/5 http ") || !strings.Contains(out, ": timed out") || !strings.Contains(out, "[NOT RUN] 5/5 body") {
		t.Errorf("layer lines:\n%s", out)
	}

	// A TLS server that never finishes its handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	r, out = runCheck(t, Options{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: true}, 300*time.Millisecond)
	if r.State != checks.Critical || !strings.Contains(r.Summary, "timed out after 300ms at layer 3/5 tls") {
		t.Errorf("want CRITICAL (the default timeout state) at layer 3:\n%s", out)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("received terminated"))
	r = Check(ctx, Options{URL: a.URL + "/"})
	if r.State != checks.Unknown || !strings.Contains(r.Summary, "interrupted at layer") || !strings.Contains(r.Summary, "received terminated") {
		t.Errorf("cancelled check = %v %q, want UNKNOWN interrupted with the cause", r.State, r.Summary)
	}
}

func TestCheckThresholds(t *testing.T) {
	a := newApp(t)
	crit, err := checks.ParseDurationRange("@0:1h") // any time is inside: CRITICAL
	if err != nil {
		t.Fatal(err)
	}
	r, out := runCheck(t, Options{URL: a.URL + "/", Thresholds: checks.Thresholds{Critical: &crit}}, 10*time.Second)
	if r.State != checks.Critical || !strings.Contains(r.Summary, "3 of 5 layers OK in ") || !strings.Contains(r.Summary, "(total time outside the critical range @0:3600)") {
		t.Errorf("want CRITICAL from the threshold:\n%s", out)
	}
	if !strings.Contains(out, ";;@0:3600;0 ") {
		t.Errorf("total time perfdata lacks the critical range:\n%s", out)
	}
}

// When the name has several addresses, each gets its turn: one that
// refuses is named, and the next connects.
func TestDialTriesEachAddress(t *testing.T) {
	a := newApp(t)
	p := &probe{plan: &plan{}, tgt: target{scheme: "http", host: "app.invalid", port: fmt.Sprint(a.port(t))}}
	// 127.0.0.2 has no listener on the app's port (the app listens on 127.0.0.1 only).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.dial(ctx, []net.IP{net.ParseIP("127.0.0.2"), net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.Close()
	want := fmt.Sprintf("connected to 127.0.0.1:%d (127.0.0.2:%d: connection refused)", a.port(t), a.port(t))
	if p.detail[connect] != want {
		t.Errorf("detail %q, want %q", p.detail[connect], want)
	}
	_, err = p.dial(ctx, []net.IP{net.ParseIP("127.0.0.2"), net.ParseIP("127.0.0.3")})
	var le *checks.LayerError
	if !errors.As(err, &le) || le.Layer != connect || !strings.HasPrefix(le.Msg, "no address connects: 127.0.0.2:") {
		t.Errorf("dial to two closed addresses: %v", err)
	}
}

// TestOptionErrors: every mistake in the options is UNKNOWN, one line,
// saying what to fix, before anything is contacted.
func TestOptionErrors(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{}, "name the server: -H host (and -I address), or --url URL"},
		{Options{URL: "/health"}, `--url "/health": give a whole URL such as https://app.example.com/health; a path alone goes in -u/--uri`},
		{Options{URL: "ftp://x/"}, "--url ftp://x/: give an http:// or https:// URL"},
		{Options{URL: "https://user:pw@x/"}, "--url https://x/: a user or password in the URL is not supported"},
		{Options{URL: "http://x/", Host: "y"}, "give either --url or -H/-p/-u/-S, not both"},
		{Options{URL: "http://x:99999/"}, `port "99999": give 1 to 65535`},
		{Options{Host: "https://x/"}, `-H "https://x/": give a host name; a whole URL goes in --url`},
		{Options{Host: "x:80", Port: 81}, "-H x:80 and -p 81: give the port once"},
		{Options{Host: "x", Port: 70000}, "-p/--port 70000: give 1 to 65535"},
		{Options{Host: "x", Path: "health"}, `-u/--uri "health": give a path starting with /`},
		{Options{Host: "x", SNI: "y"}, "--sni y: only for https"},
		{Options{Host: "x", Method: "GE T"}, `--method "GE T": give an HTTP method`},
		{Options{Host: "x", Expect: "HTTP/1.1 200"}, `-e/--expect "HTTP/1.1 200": "HTTP/1.1 200" is not a status code`},
		{Options{Host: "x", Regex: "(a"}, `-r/--regex "(a": missing closing ) in "(a" (RE2 syntax)`},
		{Options{Host: "x", OnRedirect: "sticky"}, "-f/--onredirect sticky is not supported"},
		{Options{Host: "x", OnRedirect: "maybe"}, `-f/--onredirect "maybe": use ok, follow, warning or critical`},
		{Options{Host: "x", MaxRedirects: -1}, "--max-redirs -1: give 1 or more"},
		{Options{Host: "x", CertWarning: 7, CertCritical: 21}, "--cert-critical 21 is more days than --cert-warning 7"},
		{Options{Host: "x", CertWarning: -1}, "--cert-warning and --cert-critical are days"},
		{Options{Host: "x", TLS: true, CAFile: "/nonexistent/ca.pem"}, "--ca-file /nonexistent/ca.pem: no such file or directory"},
		{Options{Host: "x", TLS: true, CAFile: "/dev/zero"}, "--ca-file /dev/zero: not a regular file"},
		{Options{Host: "x", TLS: true, CAFile: "httpcheck.go"}, "--ca-file httpcheck.go: no PEM certificate in it"},
		{Options{Host: "x", CAFile: "ca.pem"}, "--ca-file ca.pem: only for https"},
	}
	for _, tt := range tests {
		r := Check(context.Background(), tt.o)
		if r.State != checks.Unknown || !strings.Contains(r.Summary, tt.want) || len(r.Parts) != 0 {
			t.Errorf("%+v: %v %q, want UNKNOWN with %q", tt.o, r.State, r.Summary, tt.want)
		}
		if err := Validate(tt.o); err == nil || err.Error() != r.Summary {
			t.Errorf("Validate(%+v) = %v, want the check's %q", tt.o, err, r.Summary)
		}
	}
}

func TestStatusSet(t *testing.T) {
	s, err := parseStatusSet(" 200, 301-302 ,4XX", "-e")
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "200,301-302,4xx" {
		t.Errorf("String() = %q", s)
	}
	for code, want := range map[int]bool{200: true, 201: false, 301: true, 302: true, 303: false, 400: true, 499: true, 500: false} {
		if s.has(code) != want {
			t.Errorf("has(%d) = %v, want %v", code, !want, want)
		}
	}
	for _, bad := range []string{"", " ", "200,", "20", "2000", "600", "099", "302-301", "6xx", "x00", "200-", "-200", "2xx-3xx", "OK"} {
		if _, err := parseStatusSet(bad, "-e"); err == nil {
			t.Errorf("parseStatusSet(%q) accepted", bad)
		}
	}
}

func FuzzStatusSet(f *testing.F) {
	for _, s := range []string{"200", "200,301-302", "2xx,5XX", "", "1-2", "200-199", strings.Repeat("200,", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := parseStatusSet(s, "-e")
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") {
				t.Errorf("error on two lines: %q", err)
			}
			return
		}
		// What it accepts reads back the same.
		again, err := parseStatusSet(set.String(), "-e")
		if err != nil || again.String() != set.String() {
			t.Errorf("%q -> %q -> %q, %v", s, set, again, err)
		}
		for code := 0; code < 700; code++ {
			if set.has(code) != again.has(code) || set.has(code) && (code < 100 || code > 599) {
				t.Fatalf("%q: has(%d) differs or is out of range", s, code)
			}
		}
	})
}

// An IPv6 address, given bare to -H or in brackets in a URL, is
// bracketed in the Host header and the URL shown.
func TestCheckIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatalf("no IPv6 loopback: %v", err)
	}
	a := &app{}
	a.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.handler()}}
	a.Start()
	t.Cleanup(a.Close)
	port := ln.Addr().(*net.TCPAddr).Port
	for _, o := range []Options{{Host: "::1", Port: port}, {Host: fmt.Sprintf("[::1]:%d", port)}, {URL: fmt.Sprintf("http://[::1]:%d/", port)}} {
		r, out := runCheck(t, o, 10*time.Second)
		want := fmt.Sprintf("SUITECHECK OK - http http://[::1]:%d/: 3 of 5 layers OK", port)
		if r.State != checks.OK || !strings.HasPrefix(out, want) {
			t.Errorf("%+v:\n%s\nwant prefix %q", o, out, want)
		}
	}
	if got := a.seenHosts(); len(got) != 3 || got[0] != fmt.Sprintf("[::1]:%d", port) {
		t.Errorf("Host headers %q, want [::1]:%d", got, port)
	}
}

// TestOptionNames: messages name the options as the caller does (a suite
// step's keys), and suggest no option the caller does not offer.
func TestOptionNames(t *testing.T) {
	keys := map[Option]string{OptURL: "url", OptSNI: "sni", OptAddress: "address", OptCertWarning: "cert_warning", OptCertCritical: "cert_critical"}
	for _, tt := range []struct {
		o          Options
		flags, key string
	}{
		{Options{URL: "http://x/", SNI: "y"}, "--sni y: only for https (-S or an https:// --url)", "sni y: only for https (an https:// url)"},
		{Options{URL: "/health"}, `--url "/health": give a whole URL such as https://app.example.com/health; a path alone goes in -u/--uri`,
			`url "/health": give a whole URL such as https://app.example.com/health`},
		{Options{URL: "https://x/", CertWarning: 3, CertCritical: 7}, "--cert-critical 7 is more days than --cert-warning 3: critical comes closer to expiry (lower --cert-critical too)",
			"cert_critical 7 is more days than cert_warning 3: critical comes closer to expiry (lower cert_critical too)"},
		{Options{URL: "https://x/", OnRedirect: "sticky"}, "-f/--onredirect sticky is not supported: follow keeps -I for hops to the same host", ""},
		{Options{URL: "https://x/", Address: "10.0.0.256"}, `-I/--IP-address "10.0.0.256": give one IP address (10.0.0.5, 2001:db8::5) or one host name`,
			`address "10.0.0.256": give one IP address (10.0.0.5, 2001:db8::5) or one host name`},
		// A caller with no -H: its URL is the only way to name the server.
		{Options{Address: "10.0.0.5"}, "", "no url: give a whole URL such as https://app.example.com/health"},
	} {
		if err := Validate(tt.o); tt.flags != "" && (err == nil || err.Error() != tt.flags) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.flags)
		}
		if tt.key == "" {
			continue
		}
		tt.o.Names = keys
		if err := Validate(tt.o); err == nil || err.Error() != tt.key {
			t.Errorf("%+v with keys: %v, want %q", tt.o, err, tt.key)
		}
	}
}
