package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/secret"
)

// jsonForm is s as a JSON encoder that escapes / writes it.
func jsonForm(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b[1:len(b)-1]), "/", `\/`)
}

// A secret with " \ and / shows up JSON- and Go-escaped in what a command
// says: no output of the run may hold it in any form.
func TestRunMasksEveryOutput(t *testing.T) {
	const sec = `tok"en\12/34`
	dir := t.TempDir()
	forms := []string{sec, jsonForm(t, sec), strconv.Quote(sec)[1 : len(strconv.Quote(sec))-1]}
	writeScript(t, dir, "leak.sh", "printf '%s\\n' 'got {\"token\":\""+forms[1]+"\"} and \""+forms[2]+"\"' >&2\nexit 1\n")
	y := "environments:\n  e: {base_url: https://app.example.com}\nsuites:\n  s:\n    cases:\n" +
		"      - name: leaks\n        command: {argv: [./leak.sh]}\n"
	cfg, err := Parse(filepath.Join(dir, "suitecheck.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	var rep Report
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := Run(ctx, cfg, RunOptions{Suite: "s", Budget: time.Minute, Retries: -1, TimeoutState: checks.Critical,
		Progress: &progress, Report: &rep, Secrets: map[string]string{"token": sec}})
	junit, err := rep.JUnit()
	if err != nil {
		t.Fatal(err)
	}
	if res.State != checks.Critical || !strings.Contains(res.Summary, `got {"token":"****"} and "****"`) {
		t.Errorf("state %v, summary %q: want the command's failure, masked", res.State, res.Summary)
	}
	oracle := secret.New(sec)
	for _, out := range []struct{ path, text string }{
		{"status line", res.Summary},
		{"long output", strings.Join(res.Long, "\n")},
		{"rendered", res.Render(0)},
		{"progress on stderr", progress.String()},
		{"JUnit, as a CI server reads it", html.UnescapeString(string(junit))},
	} {
		t.Run(out.path, func(t *testing.T) {
			for _, f := range forms {
				if strings.Contains(out.text, f) {
					t.Errorf("%s holds the secret as %q:\n%s", out.path, f, out.text)
				}
			}
			if oracle.Contains(out.text) {
				t.Errorf("%s holds the secret in some form:\n%s", out.path, out.text)
			}
		})
	}
}

// An environment's secret in a page's URL and text: the browser encodes it
// its own way in the URL assert_url reports, and the HTML artifact holds
// it HTML-escaped. Neither the output nor the artifacts show it.
func TestRunBrowserMasksEnvSecrets(t *testing.T) {
	const sec = `Pa ss!wo'rd"x-SECRET-7<b>`
	mux := http.NewServeMux()
	mux.HandleFunc("GET /show", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<!DOCTYPE html><title>Show</title><p>token: %s</p><script>console.log('token is', new URLSearchParams(location.search).get('t'))</script>", html.EscapeString(r.URL.Query().Get("t")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	artifacts := t.TempDir()
	y := fmt.Sprintf(`environments:
  e: {base_url: %s}
suites:
  web:
    cases:
      - name: show
        steps:
          - goto: "{{.BaseURL}}/show?t={{.Vars.token}}"
          - wait_text: "token: Pa ss"
          - assert_url: {value: /nowhere, timeout: 300ms}
`, srv.URL)
	r, out := runYAML(t, y, RunOptions{Suite: "web", Retries: -1, Secrets: map[string]string{"token": sec},
		Browser: BrowserOptions{Artifacts: artifacts, KeepRuns: 1}})
	if r.State != checks.Critical || !strings.Contains(r.Summary, "assert_url: got") {
		t.Fatalf("state %v, want assert_url's failure\n%s", r.State, out)
	}
	oracle := secret.New(sec)
	if strings.Contains(out, "SECRET") || oracle.Contains(out) {
		t.Errorf("the output shows the secret:\n%s", out)
	}
	files, _ := filepath.Glob(filepath.Join(artifacts, "web", "*.html"))
	if len(files) != 1 {
		t.Fatalf("HTML artifacts: %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if doc := string(b); strings.Contains(doc, "SECRET") || oracle.Contains(doc) || !strings.Contains(doc, "token: ****") {
		t.Errorf("the HTML artifact shows the secret:\n%s", doc)
	}
	// The network (HAR) has the URL, the console log the page's message:
	// both masked.
	for ext, want := range map[string]string{".har": `"url": "` + srv.URL + `/show?t=****"`, ".log": " log token is ****"} {
		files, _ := filepath.Glob(filepath.Join(artifacts, "web", "*"+ext))
		if len(files) != 1 {
			t.Fatalf("%s artifacts: %v", ext, files)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if doc := string(b); strings.Contains(doc, "SECRET") || oracle.Contains(doc) || !strings.Contains(doc, want) {
			t.Errorf("the %s artifact shows the secret, or lacks %q:\n%s", ext, want, doc)
		}
	}
}

// The browser's diagnostics (-v on stderr) are masked like the rest of the
// run's output: here the secret is the browser's path, which they name.
func TestRunBrowserDiagnosticsMasked(t *testing.T) {
	const bin = "/usr/bin/chromium"
	var logs strings.Builder
	y := "environments:\n  e: {base_url: http://127.0.0.1:1}\nsuites:\n  web:\n    cases:\n      - name: blank\n        steps:\n          - goto: about:blank\n"
	r, out := runYAML(t, y, RunOptions{Suite: "web", Retries: -1, Secrets: map[string]string{"bin": bin},
		Browser: BrowserOptions{Bin: bin, Logf: func(format string, args ...any) { fmt.Fprintf(&logs, format+"\n", args...) }}})
	if r.State != checks.OK {
		t.Fatalf("state %v\n%s", r.State, out)
	}
	if !strings.Contains(logs.String(), "browser: launched **** (pid ") || strings.Contains(logs.String(), bin) {
		t.Errorf("diagnostics:\n%s", logs.String())
	}
}
