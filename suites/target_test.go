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
