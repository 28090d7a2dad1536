// Package apptest starts the sample app for tests, on the shared throwaway
// PostgreSQL cluster, and reads its tenants through its admin API: a test
// server that really stores tenants.
package apptest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/internal/pgtest"
	"github.com/suitecheck/suitecheck/internal/sampleapp"
)

// App is a running sample app.
type App struct {
	URL   string
	Admin string // the admin API's bearer token
	DB    pgtest.App
}

// Start starts a sample app with a database of its own; it stops when the
// test ends.
func Start(t testing.TB) App {
	t.Helper()
	a, err := StartOn(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// StartOn is Start listening on addr (host:port; "" is a free port of
// 127.0.0.1) and logging to log (nil discards). It returns its error, a
// taken address among them, so that a caller choosing a port can try
// another; what it made is undone when the test ends.
func StartOn(t testing.TB, addr string, log *slog.Logger) (App, error) {
	t.Helper()
	db := pgtest.NewApp(t, "tenants", "")
	ctx := context.Background()
	if err := sampleapp.Setup(ctx, db.Cluster.SuperDSN(db.DB), db.User); err != nil {
		return App{}, fmt.Errorf("sample app setup: %w", err)
	}
	admin := rand.Text()
	url, stop, err := sampleapp.Serve(ctx, sampleapp.Options{DSN: db.DSN(), AdminToken: admin, Logger: log}, addr)
	if err != nil {
		return App{}, err
	}
	t.Cleanup(func() { stop() })
	return App{URL: url, Admin: admin, DB: db}, nil
}

// Tenant is a tenant as the app lists it.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Tenants lists the app's tenants.
func (a App) Tenants(t testing.TB) []Tenant {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.URL+"/api/tenants", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.Admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ts []Tenant
	if err := json.NewDecoder(resp.Body).Decode(&ts); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list tenants: status %d, %v", resp.StatusCode, err)
	}
	return ts
}

// Create creates a tenant through the admin API and returns its id.
func (a App) Create(t testing.TB, name string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.URL+"/api/tenants", strings.NewReader(fmt.Sprintf(`{"name":%q}`, name)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.Admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tn Tenant
	if err := json.NewDecoder(resp.Body).Decode(&tn); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create tenant: status %d, %v", resp.StatusCode, err)
	}
	return tn.ID
}

// ProvisionerYAML is the config's tenant section for this app, with the
// admin token taken from the environment variable tokenEnv. Its base URL
// is baseURL: the app's own, a proxy in front of it, or a template such as
// {{.BaseURL}} (the URLs are quoted).
func ProvisionerYAML(baseURL, tokenEnv string) string {
	return fmt.Sprintf(`tenant:
  http:
    create:
      method: POST
      url: "%[1]s/api/tenants"
      bearer: '{{env "%[2]s"}}'
      json: {name: "{{.Tenant.name}}"}
      expect: {status: 201}
      extract:
        id: {json: $.id}
        login: {json: $.login}
        password: {json: $.password, secret: true}
    delete:
      method: DELETE
      url: "%[1]s/api/tenants/{{.Tenant.id}}"
      bearer: '{{env "%[2]s"}}'
    list:
      request: {url: "%[1]s/api/tenants", bearer: '{{env "%[2]s"}}'}
      created: $.created_at
`, baseURL, tokenEnv)
}

// SuitesYAML are the suites the tests run against the app with a
// provisioned tenant: "ok" signs the tenant in over the API; "hang" opens
// the login page in the browser and waits for what never comes.
const SuitesYAML = `suites:
  ok:
    cases:
      - name: sign in
        steps:
          - http:
              method: POST
              url: "{{.BaseURL}}/api/login"
              json: {login: "{{.Tenant.login}}", password: "{{.Tenant.password}}"}
              expect: {status: 200}
  hang:
    cases:
      - name: hang
        steps:
          - goto: "{{.BaseURL}}/login"
          - fill: {selector: "#login", value: "{{.Tenant.login}}"}
          - wait_text: {value: never shown, timeout: 120s}
`

// Main builds suitecheck from the module root at root into a directory
// every user can read, sets *binary to it, runs the tests (with the shared
// PostgreSQL cluster of pgtest.Main) and returns the exit code.
func Main(m *testing.M, root string, binary *string) int {
	dir, err := os.MkdirTemp("", "suitecheck-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755) // the monitoring clients' users run it too
	*binary = filepath.Join(dir, "suitecheck")
	build := exec.Command("go", "build", "-o", *binary, ".")
	build.Dir = root
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build suitecheck:", err)
		return 1
	}
	return pgtest.Main(m)
}
