package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/internal/apptest"
)

// TestBinaryTargetOverrides: one config whose base_url names no real host
// and whose vars are placeholders serves a real app when the command line
// says where and what: --base-url points the tenant and the steps at the
// app, --var and --secret-var override the environment's values (the
// secret from a file, masked in the output). Without them the same config
// fails on the name. A form behind a CSRF token is posted with the token
// read from the page's HTML.
func TestBinaryTargetOverrides(t *testing.T) {
	app := apptest.Start(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "suitecheck.yaml")
	y := fmt.Sprintf(`environments:
  production:
    base_url: "http://app.invalid:8080"
    vars: {greeting: "Not the one"}
    secrets: {pw_hint: "placeholder"}
%ssuites:
  api:
    cases:
      - name: me
        steps:
          - http:
              method: POST
              url: "{{.BaseURL}}/api/login"
              json: {login: "{{.Tenant.login}}", password: "{{.Tenant.password}}"}
              extract: {token: {json: $.token, secret: true}}
          - http:
              url: "{{.BaseURL}}/api/me?hint={{.Vars.pw_hint}}"
              bearer: "{{.Vars.token}}"
              expect: {json: {"$.login": "/^{{.Vars.greeting}}-/"}}
      # The web form, as a browser would post it: the CSRF token from the
      # page's HTML, the session in the run's cookie jar.
      - name: form
        steps:
          - http:
              url: "{{.BaseURL}}/login"
              extract: {csrf: {html: 'input[name="csrf_token"]'}}
          - http:
              method: POST
              url: "{{.BaseURL}}/login"
              form: {csrf_token: "{{.Vars.csrf}}", login: "{{.Tenant.login}}", password: "{{.Tenant.password}}"}
              expect: {body: "Welcome, {{.Tenant.login}}"}
`, apptest.ProvisionerYAML("{{.BaseURL}}", "SC_TEST_ADMIN"))
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	hint := filepath.Join(dir, "hint")
	os.WriteFile(hint, []byte("s3cret-hint-value\n"), 0o600)
	env := []string{"SC_TEST_ADMIN=" + app.Admin}
	state := t.TempDir()

	stdout, stderr, code := runBinary(t, env, "run", "api", "--config", cfg, "--state-dir", state, "-t", "30")
	if code != 2 || !strings.Contains(stdout, "app.invalid") {
		t.Errorf("without overrides: exit %d, want 2 naming app.invalid\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runBinary(t, env, "run", "api", "--config", cfg, "--state-dir", state, "-t", "30",
		"--base-url", app.URL, "--var", "greeting=sc", "--secret-var", "pw_hint=@"+hint, "-vvv")
	if code != 0 || !strings.HasPrefix(stdout, "SUITECHECK OK - api on production: 2 of 2 cases passed") {
		t.Errorf("with overrides: exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "s3cret-hint-value") {
		t.Errorf("the secret var shows:\n%s%s", stdout, stderr)
	}
	if !strings.Contains(stderr, "hint=%2A%2A%2A%2A") && !strings.Contains(stderr, "hint=****") {
		t.Errorf("-vvv does not show the masked query:\n%s", stderr)
	}
	if ts := app.Tenants(t); len(ts) != 0 {
		t.Errorf("tenants left: %v", ts)
	}
}
