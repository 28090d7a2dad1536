package suites

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
)

// webApp serves a login form, a dashboard with an upload form, and a page
// whose script logs a console error and fetches a failing URL.
func webApp(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><head><title>Sign in</title></head><body><form method="post" action="/login">
<input id="login" name="login"><input id="password" name="password" type="password"><button id="go">Sign in</button></form></body></html>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("password") != "pw-hunter2" {
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "s", Value: r.FormValue("login")})
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("s")
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		fmt.Fprintf(w, `<html><head><title>Dashboard</title></head><body><p>Welcome, %s</p>
<form method="post" action="/upload" enctype="multipart/form-data"><input type="file" name="f"><button id="up">Upload</button></form></body></html>`, c.Value)
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		f, h, err := r.FormFile("f")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(f)
		fmt.Fprintf(w, "<html><body>stored %s (%d bytes)</body></html>", h.Filename, len(b))
	})
	mux.HandleFunc("GET /noisy", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><p id="done"></p><script>console.error("boom from script");
fetch("/fail").finally(() => { document.getElementById("done").textContent = "loaded"; });</script></body></html>`)
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const journey = `      - name: sign in
        required: true
        steps:
          - goto: "{{.BaseURL}}/login"
          - fill: {selector: "#login", value: "{{.Tenant.login}}"}
          - fill: {selector: "#password", value: "{{.Tenant.password}}", secret: true}
          - click: "#go"
          - wait_text: {value: "Welcome, {{.Tenant.login}}", timeout: 3s}
          - assert_title: Dashboard
      - name: upload
        steps:
          - upload: {selector: "input[type=file]", content: "hello there", name: hello.txt}
          - click: "#up"
          - wait_text: {value: "stored hello.txt (11 bytes)", timeout: 5s}
`

func TestRunBrowserJourney(t *testing.T) {
	srv := webApp(t)
	artifacts := t.TempDir()
	header := fmt.Sprintf("environments:\n  staging:\n    base_url: %s\ntenant:\n  fixed: {login: alice, password: PASSWORD}\nsuites:\n  web:\n    cases:\n", srv.URL)
	opts := RunOptions{Suite: "web", Retries: -1, Browser: BrowserOptions{Artifacts: artifacts, KeepRuns: 3}}

	t.Run("passes", func(t *testing.T) {
		r, out := runYAML(t, strings.Replace(header, "PASSWORD", "pw-hunter2", 1)+journey, opts)
		if r.State != checks.OK || !strings.Contains(r.Summary, "2 of 2 cases passed") {
			t.Fatalf("state %v\n%s", r.State, out)
		}
		if !strings.Contains(out, " sign_in=") || !strings.Contains(out, " upload=") {
			t.Errorf("perfdata lacks the cases:\n%s", out)
		}
	})

	t.Run("wrong password fails with artifacts", func(t *testing.T) {
		r, out := runYAML(t, strings.Replace(header, "PASSWORD", "pw-wrong-secret", 1)+journey, opts)
		if r.State != checks.Critical {
			t.Fatalf("state %v, want CRITICAL\n%s", r.State, out)
		}
		if !strings.Contains(r.Summary, `sign in (step 5 wait_text "Welcome, alice": not seen within`) {
			t.Errorf("summary = %q", r.Summary)
		}
		if !strings.Contains(out, "[SKIPPED] upload: not run: required case sign in failed") {
			t.Errorf("upload ran after the required case failed:\n%s", out)
		}
		if !strings.Contains(out, "artifacts: "+filepath.Join(artifacts, "web")) {
			t.Errorf("no artifacts path in the output:\n%s", out)
		}
		files, _ := filepath.Glob(filepath.Join(artifacts, "web", "*"))
		var png, html bool
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "pw-wrong-secret") {
				t.Errorf("secret in artifact %s", f)
			}
			png = png || strings.HasSuffix(f, ".png") && strings.HasPrefix(string(b), "\x89PNG")
			html = html || strings.HasSuffix(f, ".html") && strings.Contains(string(b), "wrong password")
		}
		if !png || !html {
			t.Errorf("artifacts %v: want a PNG and the page's HTML", files)
		}
		if strings.Contains(out, "pw-wrong-secret") {
			t.Errorf("secret in output:\n%s", out)
		}
	})

	t.Run("console policy", func(t *testing.T) {
		for _, tt := range []struct {
			policy string
			state  checks.State
		}{{"ignore", checks.OK}, {"warn", checks.Warning}, {"fail", checks.Critical}} {
			y := strings.Replace(header, "PASSWORD", "x", 1) + fmt.Sprintf(`      - name: noisy
        console: %s
        steps:
          - goto: "{{.BaseURL}}/noisy"
          - wait_text: loaded
`, tt.policy)
			r, out := runYAML(t, y, opts)
			if r.State != tt.state {
				t.Errorf("console: %s: state %v, want %v\n%s", tt.policy, r.State, tt.state, out)
			}
			if tt.policy != "ignore" && (!strings.Contains(out, "console error") || !strings.Contains(out, "failed request")) {
				t.Errorf("console: %s: observations not reported:\n%s", tt.policy, out)
			}
		}
	})

	t.Run("invalid selector is unknown", func(t *testing.T) {
		y := strings.Replace(header, "PASSWORD", "x", 1) + "      - name: sel\n        steps:\n          - goto: \"{{.BaseURL}}/login\"\n          - click: {selector: \"#a[\", timeout: 1s}\n"
		r, out := runYAML(t, y, opts)
		if r.State != checks.Unknown || !strings.Contains(r.Summary, "invalid selector") {
			t.Errorf("state %v\n%s", r.State, out)
		}
	})

	t.Run("browser never ready is unknown", func(t *testing.T) {
		fake := filepath.Join(t.TempDir(), "fake-chromium")
		if err := os.WriteFile(fake, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		o := opts
		o.Browser.Bin = fake
		o.Budget = 2 * time.Second
		r, out := runYAML(t, strings.Replace(header, "PASSWORD", "x", 1)+journey, o)
		if r.State != checks.Unknown || !strings.Contains(r.Summary, "browser: not ready when the run budget ran out") {
			t.Errorf("state %v\n%s", r.State, out)
		}
	})

	t.Run("no browser is unknown", func(t *testing.T) {
		o := opts
		o.Browser.Bin = "/nonexistent/chromium"
		r, out := runYAML(t, strings.Replace(header, "PASSWORD", "x", 1)+journey, o)
		if r.State != checks.Unknown || !strings.Contains(r.Summary, "browser") {
			t.Errorf("state %v\n%s", r.State, out)
		}
	})
}

func TestBrowserStepConfig(t *testing.T) {
	base := "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n"
	for _, tt := range []struct{ step, want string }{
		{"          - fill: \"#x\"\n", `c.yaml:8: step fill needs a mapping, e.g. fill: {selector: "#password"`},
		{"          - click: {selector: \"#x\", valeu: y}\n", `c.yaml:8: step click: unknown key "valeu"`},
		{"          - press: Hyper\n", `c.yaml:8: step press: unknown key "Hyper"`},
		{"          - select: {selector: \"#plan\"}\n", "c.yaml:8: step select: value (the option) is required"},
	} {
		_, err := Parse("c.yaml", []byte(base+tt.step))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("step %q: err = %v\nwant prefix %q", tt.step, err, tt.want)
		}
	}
}

// TestRunBrowserBudget: the budget ends in a browser wait; the artifacts of
// the cut case are still saved and the result comes within the budget.
func TestRunBrowserBudget(t *testing.T) {
	srv := webApp(t)
	artifacts := t.TempDir()
	y := fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  web:\n    cases:\n      - name: wait\n        steps:\n          - goto: \"{{.BaseURL}}/login\"\n          - wait_text: {value: never there, timeout: 60s}\n", srv.URL)
	start := time.Now()
	r, out := runYAML(t, y, RunOptions{Suite: "web", Retries: -1, Budget: 4 * time.Second, TimeoutState: checks.Warning,
		Browser: BrowserOptions{Artifacts: artifacts}})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("run took %s with a 4s budget", el)
	}
	if r.State != checks.Warning || !strings.Contains(r.Summary, "timed out after 4s") {
		t.Errorf("state %v summary %q, want the timeout state WARNING", r.State, r.Summary)
	}
	if files, _ := filepath.Glob(filepath.Join(artifacts, "web", "*-wait.png")); len(files) != 1 {
		t.Errorf("no screenshot of the cut case: %v\n%s", files, out)
	}
}
