// Package appsuite is an app's own Go integration tests, as a team would
// have them, run by suitecheck as a command case with `go test -json`: they
// get the app's URL and the fresh tenant's credentials from the environment.
package appsuite

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run me through suitecheck", name)
	}
	return v
}

// signIn logs the tenant in over the API and returns the session token.
func signIn(t *testing.T, password string) (*http.Response, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login": env(t, "SUITECHECK_TENANT_LOGIN"), "password": password})
	resp, err := http.Post(env(t, "SUITECHECK_BASE_URL")+"/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out.Token
}

func TestSignIn(t *testing.T) {
	resp, token := signIn(t, env(t, "SUITECHECK_TENANT_PASSWORD"))
	if resp.StatusCode != http.StatusOK || token == "" {
		t.Fatalf("POST /api/login: status %d", resp.StatusCode)
	}
}

func TestWrongPasswordRefused(t *testing.T) {
	resp, _ := signIn(t, "not-the-password")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /api/login with a wrong password: status %d, want 401", resp.StatusCode)
	}
}

func TestMe(t *testing.T) {
	_, token := signIn(t, env(t, "SUITECHECK_TENANT_PASSWORD"))
	req, _ := http.NewRequest(http.MethodGet, env(t, "SUITECHECK_BASE_URL")+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me struct{ Login, Tenant string }
	json.NewDecoder(resp.Body).Decode(&me)
	if me.Login != env(t, "SUITECHECK_TENANT_LOGIN") {
		t.Errorf("GET /api/me: login %q, want the tenant's", me.Login)
	}
	// EXPECT_LOGIN_DOMAIN lets the monitoring config assert more.
	if d := os.Getenv("EXPECT_LOGIN_DOMAIN"); d != "" && !strings.HasSuffix(me.Login, "@"+d) {
		t.Errorf("GET /api/me: login %q is not in the domain %s", me.Login, d)
	}
}
