package suites

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/checks"
)

func TestTargetBaseURL(t *testing.T) {
	tests := []struct {
		t       Target
		env     string
		want    string
		wantErr string
	}{
		{Target{}, "https://staging.example.com/app", "https://staging.example.com/app", ""},
		{Target{BaseURL: "http://10.1.2.3:8080"}, "https://x", "http://10.1.2.3:8080", ""},
		{Target{Host: "10.1.2.3"}, "https://staging.example.com:8443/app", "https://10.1.2.3:8443/app", ""},
		{Target{Host: "db7", Port: 9000}, "https://staging.example.com/app", "https://db7:9000/app", ""},
		{Target{Port: 9000}, "http://localhost", "http://localhost:9000", ""},
		{Target{Host: "::1"}, "http://localhost/", "http://[::1]/", ""},
		{Target{Host: "[2001:db8::1]", Port: 80}, "http://localhost", "http://[2001:db8::1]:80", ""},
		{Target{BaseURL: "ftp://x"}, "https://x", "", "give an http or https URL"},
		{Target{Host: "h"}, "not a url", "", "give --base-url"},
	}
	for _, tt := range tests {
		got, err := tt.t.baseURL(tt.env)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%+v on %s: err %v, want %q", tt.t, tt.env, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%+v on %s = %q, %v; want %q", tt.t, tt.env, got, err, tt.want)
		}
	}
}

// One config, many hosts: the host and vars from the command line win
// over the environment's, and a secret var is masked.
func TestRunTarget(t *testing.T) {
	var seen string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.RawQuery
		if r.URL.Query().Get("user") != "monitor" || r.URL.Query().Get("pw") != "s3cret-from-file" {
			http.Error(w, "wrong "+seen, http.StatusForbidden)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	y := `environments:
  prod: {base_url: "http://app.invalid:1/", vars: {user: nobody, pw: x}}
suites:
  s:
    cases:
      - name: login
        steps:
          - http: {url: "{{.BaseURL}}/check?user={{.Vars.user}}&pw={{.Vars.pw}}"}
`
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), cfg, RunOptions{Suite: "s", Retries: -1,
		Target: Target{Host: "127.0.0.1", Port: p, Vars: map[string]string{"user": "monitor"}, Secrets: map[string]string{"pw": "s3cret-from-file"}}})
	if out := res.Render(0); res.State != checks.OK || strings.Contains(out, "s3cret") {
		t.Errorf("run (the app saw %q):\n%s", seen, out)
	}
}

// Each host a check is pointed at keeps its tenants under its own scope.
func TestTargetScope(t *testing.T) {
	y := "environments:\n  e: {base_url: \"https://app.example/\"}\ntenant:\n  command: {create: [a], delete: [b, \"{{.Tenant.id}}\"]}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps: [{sql: {dsn: x, query: SELECT 1}}]\n"
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	scope := func(tg Target) string {
		tool, err := Tenants(cfg, "e", TenantOptions{StateDir: t.TempDir(), Target: tg})
		if err != nil {
			t.Fatal(err)
		}
		defer tool.Close()
		return tool.Scope
	}
	plain, a, b := scope(Target{}), scope(Target{Host: "10.0.0.1"}), scope(Target{Host: "10.0.0.2"})
	if strings.Contains(plain, "@") || !strings.HasSuffix(a, "#e@https://10.0.0.1") || a == b {
		t.Errorf("scopes %q %q %q", plain, a, b)
	}
}

// TestRunAddress: -I connects the base URL's host to an address (one node
// behind a load balancer) for the tenant's requests, the http and
// check_http steps and the browser, and the host stays the name they use.
// A shared browser, which resolves names for all its clients alike, is
// refused for a suite with browser steps, before a tenant is made.
func TestRunAddress(t *testing.T) {
	var created, deleted int
	mux := http.NewServeMux()
	mux.HandleFunc("POST /t", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Host, "app.invalid:") {
			http.Error(w, "wrong host "+r.Host, http.StatusBadRequest)
			return
		}
		created++
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id": "t1"}`))
	})
	mux.HandleFunc("DELETE /t/t1", func(w http.ResponseWriter, r *http.Request) { deleted++; w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/host", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("host " + r.Host)) })
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<title>node</title><p>served to " + r.Host + "</p>"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	base := "http://app.invalid:" + port // .invalid never resolves (RFC 6761)

	y := `environments:
  e: {base_url: "` + base + `"}
` + tenantAtT + `suites:
  s:
    cases:
      - name: http
        steps:
          - http: {url: "{{.BaseURL}}/host", expect: {body: "host app.invalid:` + port + `"}}
      - name: layers
        steps:
          - check_http: {url: "{{.BaseURL}}/host", string: "host app.invalid:` + port + `"}
      - name: page
        steps:
          - goto: "{{.BaseURL}}/page"
          - wait_text: "served to app.invalid:` + port + `"
          - assert_url: "app.invalid"
  api:
    cases:
      - name: http
        steps:
          - http: {url: "{{.BaseURL}}/host", expect: {body: "host app.invalid:` + port + `"}}
`
	o := RunOptions{Suite: "s", Retries: -1, Target: Target{Address: "127.0.0.1"},
		Browser: BrowserOptions{Artifacts: t.TempDir()}, Tenants: TenantOptions{StateDir: t.TempDir()}}
	r, out := runYAML(t, y, o)
	if r.State != checks.OK || created != 1 || deleted != 1 {
		t.Errorf("state %v, %d created, %d deleted:\n%s", r.State, created, deleted, out)
	}

	o.Browser.RemoteURL = "http://127.0.0.1:9"
	o.Tenants.StateDir = t.TempDir()
	r, out = runYAML(t, y, o)
	if r.State != checks.Unknown || !strings.Contains(r.Summary, "-I/--address and --browser-url: a shared browser resolves app.invalid for all its clients alike") || created != 1 {
		t.Errorf("-I with a shared browser: state %v, %d created:\n%s", r.State, created, out)
	}
	// A suite without browser steps never asks the browser: no conflict.
	o.Suite = "api"
	r, out = runYAML(t, y, o)
	if r.State != checks.OK || created != 2 {
		t.Errorf("-I with --browser-url and no browser step: state %v, %d created:\n%s", r.State, created, out)
	}
}

// TestCommandAddress: a command gets -I's address as SUITECHECK_ADDRESS,
// to connect its own requests as suitecheck does; without -I it is unset.
func TestCommandAddress(t *testing.T) {
	y := "environments:\n  e: {base_url: https://app.example.com}\nsuites:\n  s:\n    cases:\n      - name: a\n        command:\n          argv: [sh, -c, 'echo \"address=${SUITECHECK_ADDRESS-unset}\" >&2; exit 1']\n"
	for _, tt := range []struct{ address, want string }{{"10.0.0.5", "address=10.0.0.5"}, {"", "address=unset"}} {
		_, out := runYAML(t, y, RunOptions{Suite: "s", Retries: -1, Target: Target{Address: tt.address}})
		if !strings.Contains(out, tt.want) {
			t.Errorf("-I %q: want %q in\n%s", tt.address, tt.want, out)
		}
	}
}

// TestBaseURLOverTemplate: --base-url replaces the environment's base_url
// unrendered, so a template that needs a var only the environment's own
// hosts have does not stop it.
func TestBaseURLOverTemplate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	y := "environments:\n  e: {base_url: \"{{.Vars.app_url}}\"}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n          - http: {url: \"{{.BaseURL}}/x\"}\n"
	if r, out := runYAML(t, y, RunOptions{Suite: "s", Retries: -1, Target: Target{BaseURL: srv.URL}}); r.State != checks.OK {
		t.Errorf("--base-url over a template: %v\n%s", r.State, out)
	}
	if r, out := runYAML(t, y, RunOptions{Suite: "s", Retries: -1}); r.State != checks.Unknown || !strings.Contains(out, `base_url: template "{{.Vars.app_url}}"`) {
		t.Errorf("without --base-url: %v\n%s", r.State, out)
	}
}
