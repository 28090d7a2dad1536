package suites

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
)

// freePort is a port on 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// A check_http step in a suite's diagnose names the broken layer after
// the failures; a passing one says every diagnose step passed.
func TestCheckHTTPDiagnose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "upload failed", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "status: ok")
	}))
	defer srv.Close()
	closed := freePort(t)
	tests := []struct {
		name, step string
		want       string // in the status line
	}{
		{"tcp refused", fmt.Sprintf(`{url: "http://127.0.0.1:%d/health"}`, closed),
			"diagnosis: check_http: layer 2/5 tcp connect: connection refused"},
		{"name does not resolve", `{url: "http://app.invalid/health", timeout: 5s}`,
			"diagnosis: check_http: layer 1/5 dns: cannot resolve app.invalid: no such host"},
		{"address given, body wrong", `{url: "http://app.invalid:PORT/", address: 127.0.0.1, string: "status: degraded"}`,
			`diagnosis: check_http: layer 5/5 body: "status: degraded" not found in 10 bytes`},
		{"status", `{url: "{{.BaseURL}}/fail", expect: 200}`,
			"diagnosis: check_http: layer 4/5 http: status 500 Internal Server Error, expected 200"},
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    diagnose:\n      - check_http: %s\n    cases:\n"+
				"      - name: upload\n        steps: [{http: {url: \"{{.BaseURL}}/fail\"}}]\n", srv.URL, strings.ReplaceAll(tt.step, "PORT", port))
			res, out := runYAML(t, y, RunOptions{Retries: -1})
			first, _, _ := strings.Cut(out, "\n")
			if res.State != checks.Critical || !strings.Contains(first, "1 of 1 cases failed: upload (") || !strings.Contains(first, tt.want) {
				t.Errorf("status line %q\nwant CRITICAL with %q\n%s", first, tt.want, out)
			}
		})
	}

	// A diagnose that finds nothing wrong says so, and changes nothing.
	y := fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    diagnose:\n      - check_http: {url: \"{{.BaseURL}}/\", string: \"status: ok\"}\n    cases:\n"+
		"      - name: upload\n        steps: [{http: {url: \"{{.BaseURL}}/fail\"}}]\n", srv.URL)
	res, out := runYAML(t, y, RunOptions{Retries: -1})
	if res.State != checks.Critical || !strings.Contains(out, "diagnosis: every diagnose step passed") {
		t.Errorf("a passing diagnose:\n%s", out)
	}
}

// A tenant's diagnose may hold check_http: after a refused create, it
// names the layer.
func TestCheckHTTPTenantDiagnose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	store := t.TempDir()
	os.WriteFile(filepath.Join(store, "refuse"), nil, 0o600)
	cfg := commandConfig(t, srv.URL, store, fmt.Sprintf("  diagnose:\n    - check_http: {url: \"http://127.0.0.1:%d/\"}", freePort(t)))
	o := RunOptions{Suite: "s", Budget: 20 * time.Second, Retries: -1, Tenants: TenantOptions{StateDir: t.TempDir()}}
	ctx, cancel := context.WithTimeout(context.Background(), o.Budget)
	defer cancel()
	res := Run(ctx, cfg, o)
	if res.State != checks.Critical || !strings.Contains(res.Text(), "diagnosis: check_http: layer 2/5 tcp connect: connection refused") {
		t.Errorf("refused create:\n%s", res.Render(0))
	}
}

// A check_http step's mistakes are found when the config loads, in the
// step's keys; at run time they are UNKNOWN, never CRITICAL.
func TestCheckHTTPStepConfig(t *testing.T) {
	head := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n          - check_http: "
	for _, tt := range []struct{ step, want string }{
		{`{}`, "step check_http: no url"},
		{`{url: "https://x/", bogus: 1}`, `step check_http: unknown key "bogus"`},
		{`{url: "ftp://x/"}`, "step check_http: url ftp://x/: give an http:// or https:// URL"},
		{`{url: "https://x/", expect: "ok"}`, `step check_http: expect "ok": "ok" is not a status code (three digits, 100 to 599) (use codes, ranges and classes: 200,301-302,2xx)`},
		{`{url: "{{.BaseURL}}/", regex: "(a"}`, `step check_http: regex "(a": missing closing ) in "(a" (RE2 syntax)`},
		{`{url: "{{.BaseURL}}/", onredirect: sticky}`, "step check_http: onredirect sticky is not supported: follow keeps address for hops to the same host"},
		{`{url: "https://x/", cert_warning: 3, cert_critical: 7}`, "step check_http: cert_critical 7 is more days than cert_warning 3: critical comes closer to expiry (lower cert_critical too)"},
		// The step's keys, and no hint at the command's -S or -u.
		{`{url: "http://x/", sni: y}`, "step check_http: sni y: only for https (an https:// url)"},
		{`{url: "/health"}`, `step check_http: url "/health": give a whole URL such as https://app.example.com/health`},
		{`{url: "https://x/", address: "http://y"}`, `step check_http: address "http://y": give an IP address or a host name, no URL`},
	} {
		_, err := Parse("c.yaml", []byte(head+tt.step+"\n"))
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.step, err, tt.want)
		}
	}
	// A template passes the load; what it renders to is judged at run time.
	y := "environments:\n  e: {base_url: https://x, vars: {e: nope}}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n          - check_http: {url: \"{{.BaseURL}}/\", expect: \"{{.Vars.e}}\"}\n"
	res, out := runYAML(t, y, RunOptions{Retries: -1})
	if res.State != checks.Unknown || !strings.Contains(out, `check_http: expect "nope"`) {
		t.Errorf("a bad templated expect:\n%s", out)
	}
	y = "environments:\n  e: {base_url: https://x, vars: {u: \"\"}}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n          - check_http: {url: \"{{.Vars.u}}\", address: 127.0.0.1}\n"
	res, out = runYAML(t, y, RunOptions{Retries: -1})
	if res.State != checks.Unknown || !strings.Contains(out, "check_http: url is empty once its templates are rendered") {
		t.Errorf("a url that renders empty:\n%s", out)
	}
}

// TestCheckHTTPStepWords: what a check_http step finds at run time is
// said in the step's keys: no hint at the command's flags (-S, --ca-file,
// -f, --max-redirs…), which a step user cannot give.
func TestCheckHTTPStepWords(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fine") })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	plain := httptest.NewServer(mux)
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewUnstartedServer(mux) // its certificate is trusted by no one
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plainHTTPS := "https://" + strings.TrimPrefix(plain.URL, "http://")

	for _, tt := range []struct{ name, step, want string }{
		{"untrusted certificate", `{url: "` + tlsSrv.URL + `/ok"}`, "is self-signed, and not trusted (ca_file trusts it)"},
		{"plain HTTP on https", `{url: "` + plainHTTPS + `/ok"}`, "the server answered in plain HTTP, not TLS: use an http:// url or the TLS port"},
		{"HEAD and a string", `{url: "` + plain.URL + `/ok", method: HEAD, string: fine}`, "no body: HEAD, nothing to match string/regex against"},
		{"a redirect refused", `{url: "` + plain.URL + `/moved", onredirect: critical}`, "(onredirect critical)"},
		{"too many redirects", `{url: "` + plain.URL + `/loop", onredirect: follow, max_redirects: 2}`, "more than 2 redirects (max_redirects)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			y := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n          - check_http: " + tt.step + "\n"
			res, out := runYAML(t, y, RunOptions{Retries: -1})
			if res.State != checks.Critical || !strings.Contains(out, tt.want) {
				t.Errorf("state %v, want CRITICAL saying %q:\n%s", res.State, tt.want, out)
			}
			for _, flag := range []string{" -S", "--", " -f ", " -s", " -r"} {
				if strings.Contains(out, flag) {
					t.Errorf("a flag (%q) in a step's words:\n%s", flag, out)
				}
			}
		})
	}
}
