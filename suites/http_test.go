package suites

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/checks"
)

// apiServer is a tiny app: POST /login gives a token for the right
// password, GET /api/me answers only with it.
func apiServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("password") != "pw-hunter2" {
			http.Error(w, "wrong password pw-"+r.FormValue("password"), http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": "tok-abcdef123"})
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-abcdef123" {
			http.Error(w, "no token in "+r.Header.Get("Authorization"), http.StatusForbidden)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"login": "alice", "id": 7})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRunHTTPSteps(t *testing.T) {
	srv := apiServer(t)
	header := fmt.Sprintf("environments:\n  staging:\n    base_url: %s\ntenant:\n  fixed: {login: alice, password: PASSWORD}\n", srv.URL)
	login := "          - http:\n              method: POST\n              url: \"{{.BaseURL}}/login\"\n              form: {password: \"{{.Tenant.password}}\"}\n              extract: {token: {json: \"$.token\", secret: true}}\n"
	me := "          - http:\n              url: \"{{.BaseURL}}/api/me\"\n              bearer: \"{{.Vars.token}}\"\n              expect: {status: 200, json: {\"$.login\": \"{{.Tenant.login}}\", \"$.id\": 7}}\n"
	tests := []struct {
		name, password string
		state          checks.State
		summary        string
	}{
		{"passes", "pw-hunter2", checks.OK, "1 of 1 cases passed"},
		{"wrong password", "pw-wrong", checks.Critical, "api (step 1 http: POST /login: status 401, want 2xx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(header, "PASSWORD", tt.password, 1) + "suites:\n  s:\n    cases:\n      - name: api\n        steps:\n" + login + me
			r, out := runYAML(t, y, RunOptions{Retries: -1})
			if r.State != tt.state || !strings.Contains(r.Summary, tt.summary) {
				t.Errorf("state %v, summary %q; want %v and %q\n%s", r.State, r.Summary, tt.state, tt.summary, out)
			}
			for _, secret := range []string{tt.password, "tok-abcdef123"} {
				if strings.Contains(out, secret) {
					t.Errorf("secret %q in output:\n%s", secret, out)
				}
			}
		})
	}
}

func TestRunHTTPValidation(t *testing.T) {
	y := "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n          - http:\n              url: ftp://x\n"
	_, err := Parse("c.yaml", []byte(y))
	if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:8: step http: ") {
		t.Errorf("err = %v, want c.yaml:8: step http: …", err)
	}
	y = "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n          - http:\n              url: http://x\n              expect: {stauts: 200}\n"
	_, err = Parse("c.yaml", []byte(y))
	if err == nil || !strings.HasPrefix(err.Error(), `c.yaml:10: step http: unknown key "stauts"`) {
		t.Errorf("err = %v, want c.yaml:10 unknown key stauts", err)
	}
}
