package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/suites/browser"
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
	mux.HandleFunc("GET /upload-xhr", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><head><title>Files</title></head><body><h1>Files</h1><ul id="files"></ul>
<script>setTimeout(() => { fetch("/files", {method: "POST", body: "hello"}) }, 100);</script></body></html>`)
	})
	mux.HandleFunc("POST /files", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "storage down", http.StatusInternalServerError)
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
		dir := filepath.Join(artifacts, "web")
		// The status line says what the page showed, and names the
		// artifacts' directory once, whole.
		if want := `sign in (step 5 wait_text "Welcome, alice": not seen within 3s (page shows "wrong password")); artifacts in ` + dir; !strings.HasSuffix(r.Text(), want) ||
			strings.Count(r.Text(), dir) != 1 || r.Tail != "artifacts in "+dir {
			t.Errorf("summary = %q\nwant it to end in %q (the tail, never cut)", r.Text(), want)
		}
		if !strings.Contains(out, "[SKIPPED] upload: not run: required case sign in failed") {
			t.Errorf("upload ran after the required case failed:\n%s", out)
		}
		// The long output lists every file, with its full path.
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "[CRITICAL] sign in ") {
				line = l
			}
		}
		for _, ext := range []string{".png", ".html", ".har", ".log"} {
			if !regexp.MustCompile(regexp.QuoteMeta(dir+string(filepath.Separator)) + `\d{8}T\d{6}Z-sign_in` + regexp.QuoteMeta(ext) + `( |$)`).MatchString(line) {
				t.Errorf("the long output does not list the %s file:\n%s", ext, line)
			}
		}
		files, _ := filepath.Glob(filepath.Join(artifacts, "web", "*"))
		var png, html, har, log bool
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
			log = log || strings.HasSuffix(f, ".log") && strings.HasPrefix(string(b), "# console of the case")
			if strings.HasSuffix(f, ".har") {
				var h struct {
					Log struct {
						Version string
						Entries []struct {
							Request  struct{ Method, URL string }
							Response struct{ Status int }
						}
					}
				}
				if err := json.Unmarshal(b, &h); err != nil {
					t.Errorf("%s is not JSON: %v", f, err)
				}
				var seen []string
				for _, e := range h.Log.Entries {
					seen = append(seen, fmt.Sprintf("%s %s %d", e.Request.Method, e.Request.URL, e.Response.Status))
				}
				har = h.Log.Version == "1.2" && slices.Contains(seen, "GET "+srv.URL+"/login 200") && slices.Contains(seen, "POST "+srv.URL+"/login 401")
				if !har {
					t.Errorf("HAR %s entries: %q", f, seen)
				}
			}
		}
		if !png || !html || !har || !log {
			t.Errorf("artifacts %v: want a PNG, the page's HTML, its network (HAR) and console (log)", files)
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

	t.Run("fail fast", func(t *testing.T) {
		// With console: fail, the wait ends when the upload's request
		// fails, long before its 30s; with warn, it waits its time.
		const budget = 40 * time.Second
		for _, tt := range []struct {
			policy, timeout string
			state           checks.State
			why             string
		}{
			{"fail", "30s", checks.Critical,
				`: step 2 wait_text "hello.txt": the page's request failed: HTTP 500 Internal Server Error POST ` + srv.URL + `/files`},
			{"warn", "1s", checks.Critical, `: step 2 wait_text "hello.txt": not seen within 1s`},
		} {
			y := strings.Replace(header, "PASSWORD", "x", 1) + fmt.Sprintf(`      - name: upload
        console: %s
        steps:
          - goto: "{{.BaseURL}}/upload-xhr"
          - wait_text: {value: hello.txt, timeout: %s}
`, tt.policy, tt.timeout)
			o := opts
			o.Budget = budget
			start := time.Now()
			r, out := runYAML(t, y, o)
			if r.State != tt.state || !strings.Contains(out, tt.why) {
				t.Errorf("console: %s: state %v, want %v with %q\n%s", tt.policy, r.State, tt.state, tt.why, out)
			}
			if took := time.Since(start); tt.policy == "fail" && took >= 30*time.Second {
				t.Errorf("console: fail: the run took %s: the wait ran out its 30s", took)
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
		{"          - click: \"role=buton[name='Add']\"\n", `c.yaml:8: step click: selector "role=buton[name='Add']": unknown role "buton" (did you mean button?)`},
		{"          - click: 'role=button[name=\"Add]'\n", `c.yaml:8: step click: selector 'role=button[name="Add]': attribute name: unclosed quote "`},
		{"          - wait_text: {value: x, selector: \"text=\"}\n", `c.yaml:8: step wait_text: selector "text=": text= needs a text`},
		{"          - wait_visible: \"role=heading[level=two]\"\n", `c.yaml:8: step wait_visible: selector "role=heading[level=two]": attribute level: "two" is not a level: give a number from 1, e.g. [level=2]`},
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
	// 8s: under load (two cores, other tests' browsers) Chromium's start
	// and the screenshot in the budget's reserve each take a while.
	r, out := runYAML(t, y, RunOptions{Suite: "web", Retries: -1, Budget: 8 * time.Second, TimeoutState: checks.Warning,
		Browser: BrowserOptions{Artifacts: artifacts}})
	if el := time.Since(start); el > 9*time.Second {
		t.Errorf("run took %s with an 8s budget", el)
	}
	if r.State != checks.Warning || !strings.Contains(r.Summary, "timed out after 8s") {
		t.Errorf("state %v summary %q, want the timeout state WARNING", r.State, r.Summary)
	}
	if files, _ := filepath.Glob(filepath.Join(artifacts, "web", "*-wait.png")); len(files) != 1 {
		t.Errorf("no screenshot of the cut case: %v\n%s", files, out)
	}
}

// hostBrowser launches a Chromium for a test's runs to reach as a remote
// browser (--browser-url), closed when the test ends.
func hostBrowser(t *testing.T) *browser.Browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host, err := browser.Launch(ctx, browser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })
	return host
}

// TestRunBrowserLost: the browser (here a remote one the test launched)
// dies while a step of "upload" waits for a page. The run is UNKNOWN
// "browser lost", unless a case judged before failed: that stays CRITICAL
// and comes first. The cases after are not run, not failed.
func TestRunBrowserLost(t *testing.T) {
	reached := make(chan struct{}, 1)
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<title>ok</title>ok") })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case reached <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })

	const upload = "      - name: upload\n        retries: 2\n        steps:\n          - goto: \"{{.BaseURL}}/ok\"\n          - goto: {value: \"{{.BaseURL}}/hang\", timeout: 60s}\n" +
		"      - name: after\n        steps:\n          - goto: \"{{.BaseURL}}/ok\"\n"
	tests := []struct {
		name    string
		first   string // the case before upload: its path
		state   checks.State
		summary string // after "s on e: "; %s is the browser's endpoint
	}{
		{"nothing failed before", "/ok", checks.Unknown, `browser lost: the connection to the browser at %s closed during case "upload"`},
		{"a failure before stays", "/broken", checks.Critical, `1 of 2 cases failed: first (step 1 http: GET /broken: status 503, want 2xx (body "down\n")); then browser lost: the connection to the browser at %s closed during case "upload"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := hostBrowser(t)
			y := fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  s:\n    cases:\n      - name: first\n        steps:\n          - http: {url: \"{{.BaseURL}}%s\"}\n", srv.URL, tt.first) + upload
			type ran struct {
				r   checks.Result
				out string
			}
			resc := make(chan ran, 1)
			go func() {
				r, out := runYAML(t, y, RunOptions{Suite: "s", Retries: -1, Browser: BrowserOptions{RemoteURL: host.ControlURL(), Artifacts: t.TempDir()}})
				resc <- ran{r, out}
			}()
			select {
			case <-reached:
			case res := <-resc:
				t.Fatalf("the run ended before the page was asked for:\n%s", res.out)
			}
			if err := syscall.Kill(-host.PID(), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			res := <-resc
			u, _ := url.Parse(host.ControlURL())
			want := "s on e: " + fmt.Sprintf(tt.summary, "ws://"+u.Host)
			if res.r.State != tt.state || res.r.Summary != want {
				t.Errorf("state %v, summary\n%s\nwant %v\n%s\noutput:\n%s", res.r.State, res.r.Summary, tt.state, want, res.out)
			}
			if !strings.Contains(res.out, "[SKIPPED] after: not run: the browser was lost") {
				t.Errorf("the case after the loss:\n%s", res.out)
			}
			if strings.Contains(res.out, "artifacts") {
				t.Errorf("artifacts of a lost browser:\n%s", res.out)
			}
			if failed := map[checks.State]string{checks.Unknown: " failed=0;", checks.Critical: " failed=1;"}[tt.state]; !strings.Contains(res.out, failed) {
				t.Errorf("perfdata lacks %s: the lost case is not a failure:\n%s", failed, res.out)
			}
		})
	}
}

// tenantAtT is a tenant made by POST {{.BaseURL}}/t (201, {"id": …}) and
// deleted by DELETE {{.BaseURL}}/t/ID (204).
const tenantAtT = `tenant:
  http:
    create: {method: POST, url: "{{.BaseURL}}/t", expect: {status: 201}, extract: {id: {json: $.id}}}
    delete: {method: DELETE, url: "{{.BaseURL}}/t/{{.Tenant.id}}", expect: {status: 204}}
`

// TestTabOpensWhileTenantIsMade: on a shared browser, the run's tab (a
// new renderer, the slow part of starting) is opened while the tenant is
// made, not after. The app's create answers only once the browser lists a
// new page, and fails after 5 s without one.
func TestTabOpensWhileTenantIsMade(t *testing.T) {
	host := hostBrowser(t)
	u, _ := url.Parse(host.ControlURL())
	pages := func() int {
		res, err := http.Get("http://" + u.Host + "/json/list")
		if err != nil {
			return -1
		}
		defer res.Body.Close()
		var ts []struct{ Type string }
		if err := json.NewDecoder(res.Body).Decode(&ts); err != nil {
			return -1
		}
		n := 0
		for _, tg := range ts {
			if tg.Type == "page" {
				n++
			}
		}
		return n
	}
	before := pages()
	if before < 0 {
		t.Fatal("the browser does not list its targets")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /t", func(w http.ResponseWriter, r *http.Request) {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		limit := time.After(5 * time.Second)
		for pages() <= before {
			select {
			case <-tick.C:
			case <-limit:
				http.Error(w, "no tab opened while the tenant was made", http.StatusServiceUnavailable)
				return
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id": "t1"}`)
	})
	mux.HandleFunc("DELETE /t/t1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<title>ok</title>ok") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	y := fmt.Sprintf(`environments:
  e: {base_url: %s}
`+tenantAtT+`suites:
  s:
    cases:
      - name: page
        steps:
          - goto: "{{.BaseURL}}/ok"
`, srv.URL)
	r, out := runYAML(t, y, RunOptions{Suite: "s", Retries: -1,
		Browser: BrowserOptions{RemoteURL: host.ControlURL(), Artifacts: t.TempDir()},
		Tenants: TenantOptions{StateDir: t.TempDir()}})
	if r.State != checks.OK {
		t.Fatalf("state %v:\n%s", r.State, out)
	}
	if n := pages(); n != before {
		t.Errorf("the browser lists %d pages after the run, %d before", n, before)
	}
}

// TestRunNoBrowser: a browser that cannot be had (here a shared one that
// is down) is UNKNOWN, naming it, and the cases after are not run for
// want of a browser, not for a config error.
func TestRunNoBrowser(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	y := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps: [{goto: https://x/}]\n      - name: b\n        steps: [{goto: https://x/b}]\n"
	r, out := runYAML(t, y, RunOptions{Suite: "s", Retries: -1, Browser: BrowserOptions{RemoteURL: down, Artifacts: t.TempDir()}})
	if r.State != checks.Unknown || !strings.Contains(r.Summary, "browser: browser url "+down+": GET /json/version: ") ||
		!strings.Contains(out, "[SKIPPED] b: not run: no browser") {
		t.Errorf("state %v:\n%s", r.State, out)
	}
}
