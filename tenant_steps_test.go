package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/suitecheck/suitecheck/internal/apptest"
)

// stepsYAML is the tenant section that makes the sample app's account in
// three calls (user, workspace, membership) and removes it in three, as
// the demo does, through admin (the app, or a proxy in front of it).
func stepsYAML(admin, tokenEnv string) string {
	return fmt.Sprintf(`tenant:
  generate: {password: {}}
  http:
    create:
      - method: POST
        url: %[1]s/api/users
        bearer: '{{env "%[2]s"}}'
        json: {name: "{{.Tenant.name}}", password: "{{.Tenant.password}}"}
        expect: {status: 201}
        extract: {user_id: {json: $.id}, login: {json: $.login}}
      - method: POST
        url: %[1]s/api/workspaces
        bearer: '{{env "%[2]s"}}'
        json: {name: "{{.Tenant.name}}"}
        expect: {status: 201}
        extract: {id: {json: $.id}}
      - method: POST
        url: "%[1]s/api/workspaces/{{.Tenant.id}}/members"
        bearer: '{{env "%[2]s"}}'
        json: {user_id: "{{.Tenant.user_id}}"}
        expect: {status: 201}
    delete:
      - {method: DELETE, url: "%[1]s/api/workspaces/{{.Tenant.id}}/members/{{.Tenant.user_id}}", bearer: '{{env "%[2]s"}}'}
      - {method: DELETE, url: "%[1]s/api/workspaces/{{.Tenant.id}}", bearer: '{{env "%[2]s"}}'}
      - {method: DELETE, url: "%[1]s/api/users/{{.Tenant.user_id}}", bearer: '{{env "%[2]s"}}'}
    get: {request: {url: "%[1]s/api/workspaces/{{.Tenant.id}}", bearer: '{{env "%[2]s"}}'}}
    list: {request: {url: %[1]s/api/workspaces, bearer: '{{env "%[2]s"}}'}}
    confirm:
      user_id: {request: {url: "%[1]s/api/users/{{.Tenant.user_id}}", bearer: '{{env "%[2]s"}}'}}
`, admin, tokenEnv)
}

// stepsProxy stands in front of the app: fail answers "METHOD /path-shape"
// with a status instead of passing the request on; hold blocks such a
// request (signalling held) until its client goes away. seen counts the
// requests of each shape.
type stepsProxy struct {
	mu   sync.Mutex
	fail map[string]int
	hold string
	held chan struct{}
	seen map[string]int
}

// shape is a request's method and path with its ids as {id}.
func shape(r *http.Request) string {
	parts := strings.Split(r.URL.Path, "/")
	for i, p := range parts {
		if len(p) == 36 && strings.Count(p, "-") == 4 {
			parts[i] = "{id}"
		}
	}
	return r.Method + " " + strings.Join(parts, "/")
}

func (p *stepsProxy) set(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

func (p *stepsProxy) count(s string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[s]
}

func newStepsSetup(t *testing.T) (tenantSetup, *stepsProxy) {
	t.Helper()
	app := apptest.Start(t)
	p := &stepsProxy{fail: map[string]int{}, seen: map[string]int{}, held: make(chan struct{}, 1)}
	target, _ := url.Parse(app.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := shape(r)
		p.mu.Lock()
		p.seen[s]++
		status, hold := p.fail[s], p.hold == s
		p.mu.Unlock()
		switch {
		case hold:
			// Read to the end, so that the server notices the client
			// going away (and cancels the request's context).
			io.Copy(io.Discard, r.Body)
			p.held <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case status != 0:
			http.Error(w, `{"error": "refused by the test"}`, status)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // first: a held request lets srv.Close return
	y := fmt.Sprintf("environments:\n  staging: {base_url: %s}\n%s", app.URL, stepsYAML(srv.URL, "SC_TEST_ADMIN")) + apptest.SuitesYAML
	cfg := filepath.Join(t.TempDir(), "suitecheck.yaml")
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return tenantSetup{app: app, cfg: cfg, stateDir: t.TempDir(), env: []string{"SC_TEST_ADMIN=" + app.Admin}}, p
}

// users counts the app's users (a workspace's list does not show them).
func users(t *testing.T, app apptest.App) int {
	t.Helper()
	db, err := sql.Open("postgres", app.DB.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertStepsClean: no workspace, no user, an empty ledger.
func (s tenantSetup) assertStepsClean(t *testing.T) {
	t.Helper()
	s.assertClean(t)
	if n := users(t, s.app); n != 0 {
		t.Errorf("%d users left in the app", n)
	}
}

// The account made in three calls and removed in three: the suite signs
// in with the generated password, and nothing is left.
func TestBinaryTenantSteps(t *testing.T) {
	s, p := newStepsSetup(t)
	stdout, _, code := runBinary(t, s.env, s.args("ok")...)
	if code != 0 || !strings.Contains(stdout, " created (id ") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	for _, r := range []string{"POST /api/users", "POST /api/workspaces", "POST /api/workspaces/{id}/members",
		"DELETE /api/workspaces/{id}/members/{id}", "DELETE /api/workspaces/{id}", "DELETE /api/users/{id}"} {
		if p.count(r) != 1 {
			t.Errorf("%s: %d requests, want 1", r, p.count(r))
		}
	}
	s.assertStepsClean(t)
}

// kill -9 while the membership is being made (the user and the workspace
// exist): the ledger has both ids, and the next run sweeps all of it,
// each id confirmed by the app first.
func TestBinaryTenantStepsKilledBetweenSteps(t *testing.T) {
	s, p := newStepsSetup(t)
	p.set(func() { p.hold = "POST /api/workspaces/{id}/members" })
	cmd := exec.Command(binary, s.args("ok")...)
	cmd.Env = append(os.Environ(), s.env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.held:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the membership request never came")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	p.set(func() { p.hold = "" })
	left := s.app.Tenants(t)
	if len(left) != 1 || users(t, s.app) != 1 {
		t.Fatalf("after kill -9: workspaces %v, %d users; want one of each", left, users(t, s.app))
	}
	var e struct {
		ID     string            `json:"id"`
		Fields map[string]string `json:"fields"`
	}
	for _, f := range s.ledger(t) {
		if strings.HasSuffix(f, ".json") {
			b, _ := os.ReadFile(filepath.Join(s.stateDir, "tenants", f))
			json.Unmarshal(b, &e)
		}
	}
	if e.ID != left[0].ID || e.Fields["user_id"] == "" || strings.Contains(fmt.Sprint(e.Fields), "password") {
		t.Fatalf("ledger entry = %+v: want the workspace's id and the user's, no password", e)
	}
	stdout, _, code := runBinary(t, s.env, s.args("ok")...)
	if code != 0 || !strings.Contains(stdout, " swept=1;") || !strings.Contains(stdout, "swept 1 leftover tenant(s) of killed runs: "+left[0].Name) {
		t.Errorf("next run: exit %d\n%s", code, stdout)
	}
	if p.count("GET /api/users/{id}") == 0 {
		t.Error("the sweep used the ledger's user_id without asking the app")
	}
	s.assertStepsClean(t)
}

// A create refused at its second call: the user made by the first is
// deleted before the result, which names the step.
func TestBinaryTenantStepsHalfFailedCreate(t *testing.T) {
	s, p := newStepsSetup(t)
	p.set(func() { p.fail["POST /api/workspaces"] = http.StatusUnprocessableEntity })
	stdout, _, code := runBinary(t, s.env, s.args("ok")...)
	first, _, _ := strings.Cut(stdout, "\n")
	if code != 2 || !strings.Contains(first, "the app refused to create tenant sc-") || !strings.Contains(first, "step 2 of 3: POST /api/workspaces: status 422") ||
		!strings.Contains(stdout, "what its create made before it failed was deleted") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	if p.count("DELETE /api/users/{id}") != 1 || p.count("DELETE /api/workspaces/{id}") != 0 {
		t.Errorf("deletes: user %d, workspace %d; want the user's only", p.count("DELETE /api/users/{id}"), p.count("DELETE /api/workspaces/{id}"))
	}
	s.assertStepsClean(t)
}

// A delete step that fails: WARNING, the entry kept with the steps done;
// the next run's sweep resumes after them.
func TestBinaryTenantStepsDeleteResumes(t *testing.T) {
	s, p := newStepsSetup(t)
	p.set(func() { p.fail["DELETE /api/workspaces/{id}"] = http.StatusServiceUnavailable })
	stdout, _, code := runBinary(t, s.env, s.args("ok")...)
	first, _, _ := strings.Cut(stdout, "\n")
	if code != 1 || !strings.Contains(first, "NOT deleted: delete step 2 of 3: DELETE /api/workspaces/") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	var e struct {
		DeleteDone []int `json:"delete_done"`
	}
	for _, f := range s.ledger(t) {
		if strings.HasSuffix(f, ".json") {
			b, _ := os.ReadFile(filepath.Join(s.stateDir, "tenants", f))
			json.Unmarshal(b, &e)
		}
	}
	if fmt.Sprint(e.DeleteDone) != "[0]" {
		t.Errorf("ledger delete_done = %v, want [0]", e.DeleteDone)
	}
	p.set(func() { delete(p.fail, "DELETE /api/workspaces/{id}") })
	stdout, _, code = runBinary(t, s.env, s.args("ok")...)
	if code != 0 || !strings.Contains(stdout, " swept=1;") {
		t.Errorf("next run: exit %d\n%s", code, stdout)
	}
	// Once by the first run, once by the second's own tenant: the sweep
	// did not send it again.
	if n := p.count("DELETE /api/workspaces/{id}/members/{id}"); n != 2 {
		t.Errorf("membership deletes: %d, want 2 (the sweep resumes after the done step)", n)
	}
	s.assertStepsClean(t)
}

// The attack on a multi-step delete: a ledger entry whose workspace is
// really one of ours but whose user_id is a customer's. The app says that
// user is the customer: nothing of the entry is deleted, and it is
// reported.
func TestBinaryTenantStepsForgedField(t *testing.T) {
	s, p := newStepsSetup(t)
	customer := s.app.Create(t, "customer-acme") // a workspace with its user
	ours := s.app.Create(t, "sc-leftover07")
	db, err := sql.Open("postgres", s.app.DB.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var customerUser string
	if err := db.QueryRow(`SELECT id FROM users WHERE tenant_id = $1`, customer).Scan(&customerUser); err != nil {
		t.Fatal(err)
	}
	file := s.plantEntry(t, "sc-leftover07", ours)
	b, _ := os.ReadFile(file)
	var e map[string]any
	json.Unmarshal(b, &e)
	e["fields"] = map[string]string{"id": ours, "name": "sc-leftover07", "user_id": customerUser}
	b, _ = json.Marshal(e)
	os.WriteFile(file, b, 0o600)

	stdout, _, code := runBinary(t, s.env, s.args("ok")...)
	first, _, _ := strings.Cut(stdout, "\n")
	if code != 1 || !strings.Contains(first, "sc-leftover07 (id "+ours+"): not provably ours (the app's confirm request for its user_id names "+customerUser+` "customer-acme", not "sc-leftover07")`) {
		t.Errorf("exit %d, want WARNING naming the forged field:\n%s", code, stdout)
	}
	if ts := s.app.Tenants(t); len(ts) != 2 || users(t, s.app) != 2 {
		t.Errorf("the app has %v and %d users: want the customer and our leftover kept", ts, users(t, s.app))
	}
	if n := p.count("DELETE /api/users/{id}") + p.count("DELETE /api/workspaces/{id}") + p.count("DELETE /api/workspaces/{id}/members/{id}"); n != 3 {
		t.Errorf("%d delete requests, want the run's own three only", n)
	}
}
