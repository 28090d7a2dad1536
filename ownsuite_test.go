package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/internal/apptest"
)

// playwrightProject installs the example Playwright project's packages
// once (never a browser: it runs on the system's Chromium) and returns its
// directory. Without npm the test fails: CI must not skip it.
func playwrightProject(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/playwright")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@playwright", "test")); err == nil {
		return dir
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm not found: run make deps (it installs Node.js and npm)")
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return dir
}

// TestBinaryOwnSuites: the app's own test suites, a `go test -json` one and
// a Playwright Test one with a JUnit report, run as command cases against
// the sample app with a fresh tenant's credentials in their environment. A
// failing test in either is CRITICAL with its name; the tenant is deleted
// and no browser is left.
func TestBinaryOwnSuites(t *testing.T) {
	pw := playwrightProject(t)
	gosuite, _ := filepath.Abs("testdata/gosuite")
	app := apptest.Start(t)
	cfg := filepath.Join(t.TempDir(), "suitecheck.yaml")
	y := fmt.Sprintf(`environments:
  good: {base_url: %[1]s, vars: {domain: example.test, tenant_text: Welcome}}
  broken: {base_url: %[1]s, vars: {domain: wrong.example, tenant_text: not on the page}}
%[2]ssuites:
  own:
    cases:
      - name: go tests
        command:
          argv: [go, test, -json, -count=1, ./...]
          dir: %[3]s
          format: go-test-json
          env: {EXPECT_LOGIN_DOMAIN: "{{.Vars.domain}}", GOTOOLCHAIN: local, GOFLAGS: ""}
          timeout: 120s
      - name: playwright
        command:
          argv: [npx, --no-install, playwright, test]
          dir: %[4]s
          junit: reports/junit.xml
          env: {EXPECT_TENANT_TEXT: "{{.Vars.tenant_text}}"}
          timeout: 120s
`, app.URL, apptest.ProvisionerYAML(app.URL, "SC_TEST_ADMIN"), gosuite, pw)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	env := []string{"SC_TEST_ADMIN=" + app.Admin}
	for _, tc := range []struct {
		env   string
		code  int
		parts []string
	}{
		{"good", 0, []string{"SUITECHECK OK - own on staging", "go_tests_passed=3;;;0;3", "playwright_passed=3;;;0;3",
			"[OK] playwright › chat.spec.js signs in to the dashboard", "[OK] go tests › example.com/appsuite TestMe"}},
		{"broken", 2, []string{"SUITECHECK CRITICAL - own on broken: 2 of 2 cases failed: go tests (1 of 3 tests failed: example.com/appsuite TestMe (app_test.go:",
			"is not in the domain wrong.example", "playwright (1 of 3 tests failed: chat.spec.js shows the tenant",
			"[CRITICAL] playwright › chat.spec.js shows the tenant"}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			mark := fmt.Sprintf("SUITECHECK_TEST_MARK=own-%d-%s", os.Getpid(), tc.env)
			stdout, stderr, code := runBinary(t, append(env, mark), "run", "own", "--config", cfg, "--env", tc.env, "--state-dir", state, "-t", "240")
			t.Logf("%s", stdout)
			tc.parts[0] = strings.Replace(tc.parts[0], "staging", tc.env, 1)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			for _, p := range tc.parts {
				if !strings.Contains(stdout, p) {
					t.Errorf("output lacks %q:\n%s", p, stdout)
				}
			}
			if strings.Contains(stdout, "password") && strings.Contains(stdout, app.Admin) {
				t.Errorf("a secret in the output")
			}
			if ts := app.Tenants(t); len(ts) != 0 {
				t.Errorf("tenants left: %v", ts)
			}
			waitNoMarked(t, mark)
		})
	}
}
