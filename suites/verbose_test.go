package suites

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestVerboseGolden: what -vv and -vvv tell of a fixed run, as golden
// files (times, ports and dates masked): every step as it starts and ends,
// the HTTP requests, and at -vvv the wire, with no secret in any form.
func TestVerboseGolden(t *testing.T) {
	const token = "golden-t0ken-Sekr1t"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Mon, 30 Nov 2026 00:00:00 GMT")
		switch r.URL.Path {
		case "/login":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"token":%q}`, token)
		case "/me":
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, "who are you", http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, "alice")
		default:
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	cfg := fmt.Sprintf(`environments:
  e: {base_url: %s}
suites:
  s:
    diagnose:
      - http: {url: "{{.BaseURL}}/health"}
    cases:
      - name: api
        steps:
          - http:
              method: POST
              url: "{{.BaseURL}}/login"
              json: {login: alice, password: "{{.Vars.pw}}"}
              extract: {token: {json: $.token, secret: true}}
          - http: {url: "{{.BaseURL}}/me", bearer: "{{.Vars.token}}", expect: {body: alice}}
      - name: broken
        steps:
          - http: {url: "{{.BaseURL}}/upload"}
`, srv.URL)
	clean := strings.NewReplacer(srv.URL, "http://SERVER", strings.TrimPrefix(srv.URL, "http://"), "SERVER")
	times := regexp.MustCompile(`\d+\.\d{3}s`)
	for _, level := range []int{LogSteps, LogWire} {
		var lines []string
		o := RunOptions{Retries: -1, Secrets: map[string]string{"pw": "pa55-golden-pw"},
			Diagnostics: Diagnostics{Level: level, Log: func(l string) { lines = append(lines, l) }}}
		runYAML(t, cfg, o)
		got := times.ReplaceAllString(clean.Replace(strings.Join(lines, "\n")+"\n"), "T.TTTs")
		for _, s := range []string{token, "pa55-golden-pw"} {
			if strings.Contains(got, s) {
				t.Errorf("-v level %d shows a secret:\n%s", level, got)
			}
		}
		golden := filepath.Join("testdata", fmt.Sprintf("verbose-%d.golden", level))
		if *updateGolden {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test ./suites -run TestVerboseGolden -update writes it)", err)
		}
		if got != string(want) {
			t.Errorf("-v level %d:\n%s\nwant (%s):\n%s", level, got, golden, want)
		}
	}
}
