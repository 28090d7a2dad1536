package suites

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/tenant"
)

// TestTenantConfigErrors: each mistake in the tenant section is found at
// load time, with what to fix.
func TestTenantConfigErrors(t *testing.T) {
	head := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps: [{sql: {dsn: x, query: SELECT 1}}]\n"
	httpOK := "    create: {method: POST, url: https://x/t, extract: {id: {json: $.id}}}\n    delete: {method: DELETE, url: \"https://x/t/{{.Tenant.id}}\"}\n"
	tests := []struct{ name, tenant, want string }{
		{"none", "tenant: {}\n", "give a provisioner"},
		{"two", "tenant:\n  fixed: {login: a}\n  command: {create: [a], delete: [b]}\n", "give one of http, sql, command or fixed"},
		{"http no delete", "tenant:\n  http:\n    create: {method: POST, url: https://x/t, extract: {id: {json: $.id}}}\n", "no delete"},
		{"http no id", "tenant:\n  http:\n    create: {method: POST, url: https://x/t}\n    delete: {method: DELETE, url: https://x/t}\n", "extract the tenant's id"},
		{"http bad step", "tenant:\n  http:\n    create: {method: POST, url: https://x/t, extract: {id: {json: $.id}}, bogus: 1}\n    delete: {url: https://x}\n", `unknown key "bogus"`},
		{"http bad url", "tenant:\n  http:\n    create: {method: POST, url: \"ftp://x\", extract: {id: {json: $.id}}}\n    delete: {url: https://x}\n", "tenant http create"},
		{"delete uses the password", "tenant:\n  http:\n    create: {method: POST, url: https://x/t, extract: {id: {json: $.id}, pw: {json: $.pw, secret: true}}}\n    delete: {url: \"https://x/t/{{.Tenant.pw}}\"}\n", "a secret (masked, never in the ledger)"},
		{"list uses a tenant", "tenant:\n  http:\n" + httpOK + "    list: {request: {url: \"https://x/{{.Tenant.id}}\"}}\n", "a list is not about one tenant"},
		{"bad template", "tenant:\n  http:\n    create: {method: POST, url: \"{{.Nope}}\", extract: {id: {json: $.id}}}\n    delete: {url: https://x}\n", "unknown field .Nope"},
		{"name without random", "tenant:\n  name: \"{{.Tenant.prefix}}fixed\"\n  http:\n" + httpOK, "include {{.Tenant.random}}"},
		{"bad prefix", "tenant:\n  prefix: \"a b\"\n  http:\n" + httpOK, "prefix"},
		{"bad prefix ending in a dash", "tenant:\n  prefix: \"a b-\"\n  http:\n" + httpOK, "prefix"},
		{"empty prefix", "tenant:\n  prefix: \"\"\n  http:\n" + httpOK, "prefix"},
		{"sql templated query", "tenant:\n  sql:\n    dsn: x\n    create: {query: \"INSERT {{.Tenant.name}}\"}\n    delete: {query: DELETE}\n", "not templated"},
		{"sql no dsn", "tenant:\n  sql:\n    create: {query: INSERT}\n    delete: {query: DELETE}\n", "no dsn"},
		{"sql args differ", "tenant:\n  sql:\n    dsn: x\n    create: {query: \"INSERT INTO t VALUES ($1, '$2')\"}\n    delete: {query: DELETE}\n", "tenant sql create: the query's placeholders go up to $1, but args gives 0 value(s)"},
		{"sql delete password", "tenant:\n  sql:\n    dsn: x\n    create: {query: INSERT}\n    delete: {query: DELETE, args: [\"{{.Tenant.password}}\"]}\n", "a secret (masked, never in the ledger)"},
		{"command no delete", "tenant:\n  command: {create: [./t, create]}\n", "no delete command"},
		{"browser diagnose", "tenant:\n  command: {create: [a], delete: [b]}\n  diagnose: [{goto: https://x}]\n", "not browser steps"},
		{"delete_checks_name without the name", "tenant:\n  delete_checks_name: true\n  http:\n" + httpOK, "delete_checks_name: the delete request does not use {{.Tenant.name}}"},
		{"get uses the password", "tenant:\n  http:\n    create: {method: POST, url: https://x/t, extract: {id: {json: $.id}, pw: {json: $.pw, secret: true}}}\n    delete: {url: \"https://x/t/{{.Tenant.id}}\"}\n    get: {request: {url: \"https://x/t/{{.Tenant.pw}}\"}}\n", "a secret (masked, never in the ledger)"},
		{"http get without request", "tenant:\n  http:\n" + httpOK + "    get: {name: $.n}\n", "no get request"},
		{"sql get password", "tenant:\n  sql:\n    dsn: x\n    create: {query: INSERT}\n    delete: {query: DELETE}\n    get: {query: SELECT, args: [\"{{.Tenant.password}}\"]}\n", "a secret (masked, never in the ledger)"},
		{"get uses another field", "tenant:\n  http:\n" + httpOK + "    get: {request: {url: \"https://x/{{.Tenant.org}}/t/{{.Tenant.id}}\"}}\n", "a get request may use only .Tenant.id and .Tenant.name"},
		{"generate too short", "tenant:\n  generate: {pw: {length: 6}}\n  http:\n" + httpOK, "tenant generate pw: length 6: give 12 to 256"},
		{"generate repeats", "tenant:\n  generate: {pw: {alphabet: aabcdefghijk}}\n  http:\n" + httpOK, "alphabet repeats"},
		{"generate id", "tenant:\n  generate: {id: {}}\n  http:\n" + httpOK, "id is suitecheck's own field"},
		{"delete uses a generated field", "tenant:\n  generate: {code: {}}\n  http:\n    create: {method: POST, url: https://x/t, extract: {id: {json: $.id}}}\n    delete: {url: \"https://x/t/{{.Tenant.code}}\"}\n", "a secret (masked, never in the ledger)"},
		{"command get password", "tenant:\n  command: {create: [a], delete: [b], get: [c, \"{{.Tenant.password}}\"]}\n", "a secret (masked, never in the ledger)"},
		{"ledger without a dsn", "tenant:\n  ledger: {password_file: /x}\n  http:\n" + httpOK, "tenant: ledger: give its dsn"},
		{"ledger of a fixed tenant", "tenant:\n  ledger: {dsn: host=db}\n  fixed: {login: a}\n", "tenant: ledger: a fixed tenant is not created per run"},
		{"ledger dsn template", "tenant:\n  ledger: {dsn: \"{{.Nope\"}\n  http:\n" + httpOK, "tenant: ledger dsn: "},
		{"ledger unknown key", "tenant:\n  ledger: {url: x}\n  http:\n" + httpOK, "url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(head+tc.tenant))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "c.yaml:") {
				t.Errorf("err = %v, want c.yaml:LINE: …%s…", err, tc.want)
			}
		})
	}
}

// The same bad config gives the same error every time (validation once
// iterated maps: "no create command" 175 times of 200).
func TestTenantConfigErrorsAreStable(t *testing.T) {
	y := "environments:\n  e: {base_url: https://x}\ntenant:\n  command: {}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps: [{sql: {dsn: x, query: SELECT 1}}]\n"
	for range 50 {
		if _, err := Parse("c.yaml", []byte(y)); err == nil || !strings.Contains(err.Error(), "no create command") {
			t.Fatalf("err = %v, want no create command, every time", err)
		}
	}
}

// The get request of each provisioner kind reaches the app with the
// tenant's id, and gives the app's name for it.
func TestTenantGetConfigured(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/t/7" {
			w.WriteHeader(404)
			return
		}
		fmt.Fprint(w, `{"tenant": {"name": "customer-acme"}}`)
	}))
	defer srv.Close()
	store := t.TempDir()
	os.WriteFile(filepath.Join(store, "7"), []byte("sc-seven 2026-01-01T00:00:00Z\n"), 0o600)
	configs := map[string]string{
		"http": fmt.Sprintf(`  http:
    create: {method: POST, url: %[1]s/t, extract: {id: {json: $.id}}}
    delete: {method: DELETE, url: "%[1]s/t/{{.Tenant.id}}"}
    get: {request: {url: "%[1]s/t/{{.Tenant.id}}"}, name: $.tenant.name}
`, srv.URL),
		"command": fmt.Sprintf(`  command:
    create: [%[1]s, create, "{{.Tenant.name}}"]
    delete: [%[1]s, delete, "{{.Tenant.id}}"]
    get: [%[1]s, get, "{{.Tenant.id}}"]
    env: {STORE: %[2]s}
`, tenantScript, store),
	}
	want := map[string]string{"http": "customer-acme", "command": "sc-seven"}
	for kind, y := range configs {
		t.Run(kind, func(t *testing.T) {
			cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte("environments:\n  e: {base_url: https://x}\ntenant:\n"+y+
				"suites:\n  s:\n    cases:\n      - name: a\n        steps: [{sql: {dsn: x, query: SELECT 1}}]\n"))
			if err != nil {
				t.Fatal(err)
			}
			tool, err := Tenants(cfg, "e", TenantOptions{StateDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer tool.Close()
			f, err := tool.Prov.Get(context.Background(), tenant.Tenant{ID: "7", Fields: map[string]string{"id": "7"}})
			if err != nil || f.Name != want[kind] {
				t.Errorf("get 7 = %+v, %v; want %s", f, err, want[kind])
			}
			if _, err := tool.Prov.Get(context.Background(), tenant.Tenant{ID: "8", Fields: map[string]string{"id": "8"}}); !errors.Is(err, tenant.ErrNotFound) {
				t.Errorf("get 8: err = %v, want ErrNotFound", err)
			}
		})
	}
}

var tenantScript, _ = filepath.Abs("../tenant/testdata/tenants.sh")

// commandConfig is a config whose tenants come from the test store script,
// with one case that shows the tenant's login and password to a server.
func commandConfig(t *testing.T, srvURL, store string, extra string) *Config {
	t.Helper()
	y := fmt.Sprintf(`environments:
  e: {base_url: %s}
tenant:
  command:
    create: [%[2]s, create, "{{.Tenant.name}}"]
    delete: [%[2]s, delete, "{{.Tenant.id}}"]
    list: [%[2]s, list]
    env: {STORE: %[3]s}
%[4]s
suites:
  s:
    cases:
      - name: login
        steps:
          - http:
              url: "{{.BaseURL}}/check?login={{.Tenant.login}}&pw={{.Tenant.password}}"
              expect: {status: 200}
`, srvURL, tenantScript, store, extra)
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func storeFiles(t *testing.T, store string) []string {
	t.Helper()
	des, err := os.ReadDir(store)
	if err != nil {
		t.Fatalf("the store: %v", err) // an unreadable store would make "all deleted" pass vacuously
	}
	var out []string
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), "refuse") {
			out = append(out, de.Name())
		}
	}
	return out
}

func TestRunWithTenant(t *testing.T) {
	var seenLogin string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenLogin = r.URL.Query().Get("login")
		w.WriteHeader(status)
		fmt.Fprintf(w, "you sent %s", r.URL.RawQuery) // a failure shows the body
	}))
	defer srv.Close()
	store, state := t.TempDir(), t.TempDir()
	cfg := commandConfig(t, srv.URL, store, "")
	o := RunOptions{Suite: "s", Budget: 20 * time.Second, Retries: -1, Tenants: TenantOptions{StateDir: state}}
	run := func() checks.Result {
		ctx, cancel := context.WithTimeout(context.Background(), o.Budget)
		defer cancel()
		return Run(ctx, cfg, o)
	}

	res := run()
	out := res.Render(0)
	if res.State != checks.OK || !strings.HasPrefix(seenLogin, "sc-") {
		t.Fatalf("state %v, login seen %q:\n%s", res.State, seenLogin, out)
	}
	var labels []string
	for _, p := range res.Perfdata {
		labels = append(labels, p.Label)
	}
	if got := strings.Join(labels, " "); got != "time tenant_create login tenant_delete failed swept sweep" {
		t.Errorf("perfdata labels %q", got)
	}
	if !strings.Contains(out, "tenant "+seenLogin[:13]+" created (id ") || len(storeFiles(t, store)) != 0 {
		t.Errorf("tenant not reported or not deleted (store %v):\n%s", storeFiles(t, store), out)
	}

	// The app fails the step: the password in the failing URL is masked.
	status = http.StatusInternalServerError
	res = run()
	out = res.Render(0)
	if res.State != checks.Critical || strings.Contains(out, "-secret") || !strings.Contains(out, "pw=****") {
		t.Errorf("state %v; want CRITICAL with the password masked:\n%s", res.State, out)
	}
	if len(storeFiles(t, store)) != 0 {
		t.Errorf("a failed run left its tenant: %v", storeFiles(t, store))
	}

	// Delete fails: WARNING naming the tenant, kept in the ledger; the next
	// healthy run sweeps it.
	status = http.StatusOK
	os.WriteFile(filepath.Join(store, "refuse-delete"), nil, 0o600)
	res = run()
	out = res.Render(0)
	if res.State != checks.Warning || !strings.Contains(res.Summary, "NOT deleted: delete command") || !strings.Contains(res.Summary, "delete refused") {
		t.Errorf("state %v, want WARNING with the failed delete:\n%s", res.State, out)
	}
	os.Remove(filepath.Join(store, "refuse-delete"))
	res = run()
	out = res.Render(0)
	if res.State != checks.OK || !strings.Contains(out, " swept=1;") || len(storeFiles(t, store)) != 0 {
		t.Errorf("the next run did not sweep the leftover (store %v):\n%s", storeFiles(t, store), out)
	}

	// Create refused: CRITICAL, cases not run, the diagnose step's verdict.
	os.WriteFile(filepath.Join(store, "refuse"), nil, 0o600)
	cfg = commandConfig(t, srv.URL, store, fmt.Sprintf("  diagnose:\n    - http: {url: \"%s/health\", expect: {status: 204}}", srv.URL))
	res = run()
	out = res.Render(0)
	if res.State != checks.Critical || !strings.Contains(res.Summary, "the app refused to create tenant sc-") ||
		!strings.Contains(res.Summary, "tenant quota exceeded") || !strings.Contains(res.Text(), "diagnosis: http: GET /health: status 200, want 204") {
		t.Errorf("refused create:\n%s", out)
	}
}

// The budget runs out in a hanging step: the tenant is still deleted,
// within the budget.
func TestRunTenantTeardownWithinBudget(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	store := t.TempDir()
	cfg := commandConfig(t, srv.URL, store, "")
	o := RunOptions{Suite: "s", Budget: 4 * time.Second, Retries: -1, TimeoutState: checks.Critical,
		Tenants: TenantOptions{StateDir: t.TempDir(), TeardownTimeout: 10 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), o.Budget)
	defer cancel()
	start := time.Now()
	res := Run(ctx, cfg, o)
	took := time.Since(start)
	if res.State != checks.Critical || !strings.Contains(res.Summary, "timed out after 4s") {
		t.Errorf("result: %s", res.Render(0))
	}
	if len(storeFiles(t, store)) != 0 || !strings.Contains(strings.Join(res.Long, "\n"), ", deleted in ") {
		t.Errorf("tenant not deleted: %v\n%s", storeFiles(t, store), res.Render(0))
	}
	if took > o.Budget {
		t.Errorf("took %s, over the budget of %s", took, o.Budget)
	}
}

// The shape of the names a config makes, for telling ours from a
// customer's: the template with its random part as 10 letters or digits.
func TestTenantNameShape(t *testing.T) {
	for _, tt := range []struct {
		name      string
		ours, not []string
	}{
		{"", []string{"sc-k2v9x0d3qa"}, []string{"sc-freiburg", "sc-k2v9x0d3qa1", "xsc-k2v9x0d3q"}},
		{`name: "{{.Tenant.prefix}}{{.Tenant.random}}@mon.example.com"`, []string{"sc-k2v9x0d3qa@mon.example.com"}, []string{"sc-k2v9x0d3qa", "sc-k2v9x0d3qa@monxexample.com"}},
	} {
		y := "environments:\n  e: {base_url: https://x}\ntenant:\n  " + tt.name + "\n  command: {create: [a], delete: [b, \"{{.Tenant.id}}\"]}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps: [{sql: {dsn: x, query: SELECT 1}}]\n"
		cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		tool, err := Tenants(cfg, "e", TenantOptions{StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tt.ours {
			if !tool.Shape.MatchString(n) {
				t.Errorf("%q: %s not ours", tt.name, n)
			}
		}
		for _, n := range tt.not {
			if tool.Shape.MatchString(n) {
				t.Errorf("%q: %s taken for ours", tt.name, n)
			}
		}
		tool.Close()
	}
}

// A tenant config that cannot be used (an untrusted state dir) is UNKNOWN,
// and --junit still reports the run's suite and environment with it.
func TestRunProvisionErrorReport(t *testing.T) {
	store, state := t.TempDir(), t.TempDir()
	os.Chmod(state, 0o777)
	cfg := commandConfig(t, "https://app.example", store, "")
	var rep Report
	res := Run(context.Background(), cfg, RunOptions{Suite: "s", Retries: -1, Report: &rep, Tenants: TenantOptions{StateDir: state}})
	if res.State != checks.Unknown || !strings.Contains(res.Summary, "writable by group/others") {
		t.Fatalf("result %+v", res)
	}
	if rep.Suite != "s" || rep.Env != "e" || len(rep.Cases) != 1 || rep.Cases[0].Name != "run" || rep.Cases[0].State != checks.Unknown {
		t.Errorf("report %+v", rep)
	}
}

// A create that fails for our own reasons (a program that does not exist)
// is one UNKNOWN line: no [UNKNOWN] part repeating it, and the time is not
// judged against the suite's thresholds (no case ran).
func TestRunCreateConfigError(t *testing.T) {
	y := `environments:
  e: {base_url: https://app.example}
tenant:
  command: {create: [/nonexistent/provision, "{{.Tenant.name}}"], delete: [/bin/true, "{{.Tenant.id}}"]}
suites:
  s:
    warning: 5s
    cases:
      - name: a
        steps: [{sql: {dsn: x, query: SELECT 1}}]
`
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), cfg, RunOptions{Suite: "s", Retries: -1, Tenants: TenantOptions{StateDir: t.TempDir()}})
	out := res.Render(0)
	if res.State != checks.Unknown || len(res.Parts) != 0 || len(res.Perfdata) == 0 || res.Perfdata[0].Label != "time" ||
		strings.Contains(res.Perfdata[0].String(), ";5") {
		t.Errorf("result:\n%s", out)
	}
}

// Generated fields: made from the CSPRNG before create, handed to the
// create and to every step, masked everywhere, never in the ledger.
func TestTenantGeneratedSecret(t *testing.T) {
	var seen string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.Query().Get("pw")
		http.Error(w, "echo "+seen, http.StatusTeapot) // a failure that shows it
	}))
	defer srv.Close()
	store, state := t.TempDir(), t.TempDir()
	y := fmt.Sprintf(`environments:
  e: {base_url: %[1]s}
tenant:
  generate: {apppass: {length: 30}}
  command:
    create: [sh, -c, 'printf %%s "$1" > "$STORE/generated"; exec %[2]s create "$0"', "{{.Tenant.name}}", "{{.Tenant.apppass}}"]
    delete: [%[2]s, delete, "{{.Tenant.id}}"]
    list: [%[2]s, list]
    env: {STORE: %[3]s}
suites:
  s:
    cases:
      - name: login
        steps:
          - http: {url: "{{.BaseURL}}/check?pw={{.Tenant.apppass}}", expect: {status: 200}}
`, srv.URL, tenantScript, store)
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	// The delete fails, so the ledger keeps the entry: it must not hold
	// the generated secret.
	os.WriteFile(filepath.Join(store, "refuse-delete"), nil, 0o600)
	res := Run(context.Background(), cfg, RunOptions{Suite: "s", Retries: -1, Tenants: TenantOptions{StateDir: state}})
	out := res.Render(0)
	given, _ := os.ReadFile(filepath.Join(store, "generated"))
	entries, _ := filepath.Glob(filepath.Join(state, "tenants", "*.json"))
	if len(entries) != 1 {
		t.Fatalf("ledger entries %v, want the one kept after the failed delete", entries)
	}
	if b, _ := os.ReadFile(entries[0]); len(given) == 0 || strings.Contains(string(b), string(given)) {
		t.Errorf("the ledger holds the generated secret:\n%s", b)
	}
	if len(given) != 30 || string(given) != seen {
		t.Fatalf("create got %q, the step sent %q: want the same 30 characters", given, seen)
	}
	if res.State != checks.Critical || strings.Contains(out, seen) || !strings.Contains(out, "echo ****") {
		t.Errorf("the generated secret is not masked:\n%s", out)
	}
}

// The mistakes of a tenant made in several steps, found at load time.
func TestTenantStepsConfigErrors(t *testing.T) {
	head := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n        steps: [{sql: {dsn: x, query: SELECT 1}}]\n"
	user := "      - {method: POST, url: https://x/u, extract: {user_id: {json: $.id}}}\n"
	space := "      - {method: POST, url: https://x/w, extract: {id: {json: $.id}}}\n"
	del := "    delete:\n      - {method: DELETE, url: \"https://x/w/{{.Tenant.id}}\"}\n      - {method: DELETE, url: \"https://x/u/{{.Tenant.user_id}}\"}\n"
	tests := []struct{ name, tenant, want string }{
		{"empty create list", "tenant:\n  http:\n    create: []\n" + del, "tenant http create: the list is empty"},
		{"no step extracts the id", "tenant:\n  http:\n    create:\n" + user + del, "extract the tenant's id"},
		{"two steps extract the id", "tenant:\n  http:\n    create:\n" + space + space + del, "tenant http create step 2: extracts id, which step 1 extracts too"},
		{"a step uses a later step's field", "tenant:\n  http:\n    create:\n      - {method: POST, url: \"https://x/w/{{.Tenant.user_id}}\", extract: {id: {json: $.id}}}\n" + user + del,
			"tenant http create step 1: uses .Tenant.user_id, which step 2 extracts"},
		{"delete uses what no step extracts", "tenant:\n  http:\n    create:\n" + space + "    delete:\n      - {method: DELETE, url: \"https://x/p/{{.Tenant.project_id}}\"}\n",
			"tenant http delete step 1: uses .Tenant.project_id, which no create step extracts"},
		{"bad delete step", "tenant:\n  http:\n    create:\n" + user + space + "    delete:\n      - {method: DELETE, url: \"https://x/w/{{.Tenant.id}}\", bogus: 1}\n", `unknown key "bogus"`},
		{"confirm the id", "tenant:\n  http:\n    create:\n" + user + space + del + "    confirm: {id: {request: {url: \"https://x/w/{{.Tenant.id}}\"}}}\n", "the id and the name are confirmed by the get or list request"},
		{"confirm an unused field", "tenant:\n  http:\n    create:\n" + user + space + del + "    confirm: {login: {request: {url: \"https://x/l/{{.Tenant.login}}\"}}}\n", "no delete step uses .Tenant.login"},
		{"confirm uses another field", "tenant:\n  http:\n    create:\n" + user + space + del + "    confirm: {user_id: {request: {url: \"https://x/w/{{.Tenant.id}}/u/{{.Tenant.user_id}}\"}}}\n",
			"uses .Tenant.id: a confirm request may use only .Tenant.user_id and .Tenant.name, which it confirms"},
		{"confirm without request", "tenant:\n  http:\n    create:\n" + user + space + del + "    confirm: {user_id: {name: $.n}}\n", "no confirm user_id request"},
		{"sql statement with an unknown key", "tenant:\n  sql:\n    dsn: x\n    create: [{query: INSERT, bogus: 1}]\n    delete: {query: DELETE}\n", "bogus"},
		{"sql confirm uses the id", "tenant:\n  sql:\n    dsn: x\n    create: {query: INSERT}\n    delete: {query: DELETE $1, args: [\"{{.Tenant.user_id}}\"]}\n    confirm: {user_id: {query: SELECT $1, args: [\"{{.Tenant.id}}\"]}}\n",
			"a confirm request may use only .Tenant.user_id and .Tenant.name"},
		{"command empty in a list", "tenant:\n  command: {create: [[a], []], delete: [b]}\n", "tenant command create step 2: an empty command"},
		{"command confirm uses the password", "tenant:\n  command: {create: [a], delete: [b, \"{{.Tenant.user_id}}\"], confirm: {user_id: [c, \"{{.Tenant.password}}\"]}}\n", "a secret (masked, never in the ledger)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(head+tc.tenant))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "c.yaml:") {
				t.Errorf("err = %v, want c.yaml:LINE: …%s…", err, tc.want)
			}
		})
	}
}

// A tenant made in three requests and removed in two: each create step
// gets the fields the steps before it extracted (and the generated
// password), the delete steps get what they use, and each delete step's
// needs are its own (what the sweep goes by).
func TestTenantHTTPSteps(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		switch {
		case r.Method == "POST" && r.URL.Path == "/users":
			w.WriteHeader(201)
			fmt.Fprint(w, `{"id": "u7", "login": "x@example.test"}`)
		case r.Method == "POST" && r.URL.Path == "/projects":
			w.WriteHeader(201)
			fmt.Fprint(w, `{"id": "p9"}`)
		case r.Method == "POST" || r.Method == "DELETE":
			w.WriteHeader(204)
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	y := fmt.Sprintf(`environments:
  e: {base_url: %[1]s}
tenant:
  generate: {password: {}}
  http:
    create:
      - method: POST
        url: "{{.BaseURL}}/users"
        json: {name: "{{.Tenant.name}}", password: "{{.Tenant.password}}"}
        extract: {user_id: {json: $.id}, login: {json: $.login}}
      - method: POST
        url: "{{.BaseURL}}/projects"
        json: {owner: "{{.Tenant.user_id}}"}
        extract: {id: {json: $.id}}
      - method: POST
        url: "{{.BaseURL}}/projects/{{.Tenant.id}}/members/{{.Tenant.user_id}}"
    delete:
      - {method: DELETE, url: "{{.BaseURL}}/projects/{{.Tenant.id}}"}
      - {method: DELETE, url: "{{.BaseURL}}/users/{{.Tenant.user_id}}"}
    confirm:
      user_id: {request: {url: "{{.BaseURL}}/users/{{.Tenant.user_id}}"}}
suites:
  s:
    cases:
      - name: a
        steps: [{sql: {dsn: x, query: SELECT 1}}]
`, srv.URL)
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	tool, err := Tenants(cfg, "e", TenantOptions{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer tool.Close()
	if got := fmt.Sprint(tool.DeleteNeeds); got != "[[id] [user_id]]" {
		t.Errorf("delete needs = %s, want [[id] [user_id]]", got)
	}
	ctx := context.Background()
	s, err := tool.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pw := s.Tenant.Fields["password"]
	if s.Tenant.ID != "p9" || s.Tenant.Fields["user_id"] != "u7" || len(pw) != 24 {
		t.Fatalf("tenant = %+v", s.Tenant)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf(`POST /users {"name":%q,"password":%q}`, s.Tenant.Name, pw),
		`POST /projects {"owner":"u7"}`,
		`POST /projects/p9/members/u7 `,
		`DELETE /projects/p9 `,
		`DELETE /users/u7 `,
	}
	for i := range want {
		if i >= len(seen) || strings.TrimSpace(seen[i]) != strings.TrimSpace(want[i]) {
			t.Errorf("request %d = %q, want %q", i+1, seen[min(i, len(seen)-1)], want[i])
		}
	}
}
