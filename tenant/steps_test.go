package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/httpstep"
	"github.com/suitecheck/suitecheck/internal/pgtest"
	"github.com/suitecheck/suitecheck/internal/proc"
)

func cmdOf(env, argv []string) proc.Cmd { return proc.Cmd{Argv: argv, Env: env} }

// accounts is an admin API that makes an account in three calls (a user,
// a workspace, a membership) and removes it in three: the shape of real
// apps. fail answers "METHOD pattern" with a status, without doing it;
// hold blocks a request until the test lets it go.
type accounts struct {
	mu      sync.Mutex
	n       int
	users   map[string]string // id -> name
	spaces  map[string]string // id -> name
	members map[string]string // workspace id -> user id
	fail    map[string]int
	log     []string // "METHOD pattern" of every request
	srv     *httptest.Server
	// during, when set, runs at the start of each request (holding no
	// lock): what the test checks while a step is under way.
	during func(pattern string)
}

func newAccounts(t *testing.T) *accounts {
	a := &accounts{users: map[string]string{}, spaces: map[string]string{}, members: map[string]string{}, fail: map[string]int{}}
	mux := http.NewServeMux()
	handle := func(pattern string, h func(w http.ResponseWriter, r *http.Request)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if a.during != nil {
				a.during(pattern)
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			a.log = append(a.log, pattern)
			if st := a.fail[pattern]; st != 0 {
				w.WriteHeader(st)
				return
			}
			h(w, r)
		})
	}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	named := func(m map[string]string, prefix string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			var body struct{ Name string }
			json.NewDecoder(r.Body).Decode(&body)
			a.n++
			id := fmt.Sprintf("%s%d", prefix, a.n)
			m[id] = body.Name
			reply(w, 201, map[string]string{"id": id, "name": body.Name})
		}
	}
	get := func(m map[string]string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			n, ok := m[r.PathValue("id")]
			if !ok {
				w.WriteHeader(404)
				return
			}
			reply(w, 200, map[string]string{"id": r.PathValue("id"), "name": n})
		}
	}
	del := func(m map[string]string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			id := r.PathValue("id")
			if _, ok := m[id]; !ok {
				w.WriteHeader(404)
				return
			}
			for s, u := range a.members {
				if s == id || u == id {
					w.WriteHeader(409) // still a member
					return
				}
			}
			delete(m, id)
			w.WriteHeader(204)
		}
	}
	handle("POST /users", named(a.users, "u"))
	handle("GET /users/{id}", get(a.users))
	handle("DELETE /users/{id}", del(a.users))
	handle("POST /workspaces", named(a.spaces, "w"))
	handle("GET /workspaces", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]string{}
		for id, n := range a.spaces {
			out = append(out, map[string]string{"id": id, "name": n})
		}
		reply(w, 200, out)
	})
	handle("GET /workspaces/{id}", get(a.spaces))
	handle("DELETE /workspaces/{id}", del(a.spaces))
	handle("POST /workspaces/{id}/members", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			UserID string `json:"user_id"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		if _, ok := a.spaces[r.PathValue("id")]; !ok || a.users[body.UserID] == "" {
			w.WriteHeader(404)
			return
		}
		a.members[r.PathValue("id")] = body.UserID
		reply(w, 201, map[string]string{})
	})
	handle("DELETE /workspaces/{id}/members/{uid}", func(w http.ResponseWriter, r *http.Request) {
		if a.members[r.PathValue("id")] != r.PathValue("uid") {
			w.WriteHeader(404)
			return
		}
		delete(a.members, r.PathValue("id"))
		w.WriteHeader(204)
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

// state is what the app has: "users workspaces members", each a count.
func (a *accounts) state() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprintf("%d users, %d workspaces, %d members", len(a.users), len(a.spaces), len(a.members))
}

func (a *accounts) requests(pattern string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, l := range a.log {
		if l == pattern {
			n++
		}
	}
	return n
}

// provisioner is the three-step http provisioner of the app, with a
// confirm request for user_id when confirmUser.
func (a *accounts) provisioner(t *testing.T, confirmUser bool) *HTTP {
	client, err := httpstep.NewClient(httpstep.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := a.srv.URL
	x := func(fields ...string) map[string]httpstep.Extraction {
		m := map[string]httpstep.Extraction{}
		for i := 0; i < len(fields); i += 2 {
			m[fields[i]] = httpstep.Extraction{JSON: fields[i+1]}
		}
		return m
	}
	p := &HTTP{Client: client, SecretField: SecretField,
		CreateSteps: []func(Tenant) (httpstep.Step, error){
			func(tn Tenant) (httpstep.Step, error) {
				return httpstep.Step{Method: "POST", URL: u + "/users", JSON: map[string]any{"name": tn.Name}, Extract: x("user_id", "$.id")}, nil
			},
			func(tn Tenant) (httpstep.Step, error) {
				return httpstep.Step{Method: "POST", URL: u + "/workspaces", JSON: map[string]any{"name": tn.Name}, Extract: x("id", "$.id")}, nil
			},
			func(tn Tenant) (httpstep.Step, error) {
				return httpstep.Step{Method: "POST", URL: u + "/workspaces/" + tn.Fields["id"] + "/members", JSON: map[string]any{"user_id": tn.Fields["user_id"]}}, nil
			},
		},
		DeleteSteps: []func(Tenant) (httpstep.Step, error){
			func(tn Tenant) (httpstep.Step, error) {
				return httpstep.Step{Method: "DELETE", URL: u + "/workspaces/" + tn.Fields["id"] + "/members/" + tn.Fields["user_id"]}, nil
			},
			func(tn Tenant) (httpstep.Step, error) {
				return httpstep.Step{Method: "DELETE", URL: u + "/workspaces/" + tn.Fields["id"]}, nil
			},
			func(tn Tenant) (httpstep.Step, error) {
				return httpstep.Step{Method: "DELETE", URL: u + "/users/" + tn.Fields["user_id"]}, nil
			},
		},
		ListReq: func() (httpstep.Step, error) { return httpstep.Step{URL: u + "/workspaces"}, nil },
		Items:   "$[*]", NameAt: "$.name", IDAt: "$.id",
		GetReq: func(tn Tenant) (httpstep.Step, error) {
			return httpstep.Step{URL: u + "/workspaces/" + tn.Fields["id"]}, nil
		},
	}
	if confirmUser {
		p.Confirm = map[string]HTTPGet{"user_id": {Req: func(tn Tenant) (httpstep.Step, error) {
			return httpstep.Step{URL: u + "/users/" + tn.Fields["user_id"]}, nil
		}}}
	}
	return p
}

// accountNeeds is what each delete step of the provisioner uses.
var accountNeeds = [][]string{{"id", "user_id"}, {"id"}, {"user_id"}}

func (a *accounts) manager(t *testing.T, confirmUser bool) *Manager {
	m := manager(t, a.provisioner(t, confirmUser))
	m.DeleteNeeds = accountNeeds
	return m
}

// Three calls each way: every step's fields are in the ledger before the
// next step is sent, the later steps get them, and delete removes all.
func TestStepsLifecycle(t *testing.T) {
	a := newAccounts(t)
	m := a.manager(t, true)
	seen := map[string]Entry{}
	a.during = func(pattern string) {
		if strings.HasPrefix(pattern, "POST") {
			seen[pattern] = ledgerEntry(t, m.Ledger)
		}
	}
	ctx := context.Background()
	s, err := m.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.during = nil
	if a.state() != "1 users, 1 workspaces, 1 members" {
		t.Fatalf("the app has %s", a.state())
	}
	uid, wid := s.Tenant.Fields["user_id"], s.Tenant.ID
	if !strings.HasPrefix(uid, "u") || !strings.HasPrefix(wid, "w") {
		t.Fatalf("tenant = %+v, want user_id and the workspace's id", s.Tenant)
	}
	if e := seen["POST /workspaces"]; e.Fields["user_id"] != uid || e.ID != "" || e.CreateDone {
		t.Errorf("ledger while the workspace is made = %+v, want the user's id, no id yet", e)
	}
	if e := seen["POST /workspaces/{id}/members"]; e.ID != wid || e.Fields["user_id"] != uid || e.CreateDone {
		t.Errorf("ledger while the membership is made = %+v, want both ids", e)
	}
	if e := ledgerEntry(t, m.Ledger); !e.CreateDone {
		t.Errorf("ledger after create = %+v, want create_done", e)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if a.state() != "0 users, 0 workspaces, 0 members" {
		t.Errorf("the app has %s after delete", a.state())
	}
	if left := leftovers(t, m.Ledger); len(left) != 0 {
		t.Errorf("ledger after delete: %v", left)
	}
}

// A create refused halfway deletes what its earlier steps made, and says
// which step failed; a refused first step made nothing.
func TestStepsHalfFailedCreate(t *testing.T) {
	for _, tc := range []struct {
		refuse string
		step   string
		undo   []string // the delete requests that undo it
	}{
		{"POST /users", "step 1 of 3", nil},
		{"POST /workspaces", "step 2 of 3", []string{"DELETE /users/{id}"}},
		{"POST /workspaces/{id}/members", "step 3 of 3", []string{"DELETE /workspaces/{id}", "DELETE /users/{id}"}},
	} {
		t.Run(tc.refuse, func(t *testing.T) {
			a := newAccounts(t)
			a.fail[tc.refuse] = 422
			m := a.manager(t, true)
			ctx := context.Background()
			s, err := m.Create(ctx)
			if err == nil || !strings.Contains(err.Error(), "create tenant sc-") || !strings.Contains(err.Error(), tc.step) || !isNotCreated(err) {
				t.Fatalf("err = %v, want the refusal of %s", err, tc.step)
			}
			if tc.undo == nil {
				if s != nil || len(leftovers(t, m.Ledger)) != 0 {
					t.Errorf("a refused first step left a session or an entry: %v", leftovers(t, m.Ledger))
				}
				return
			}
			if s == nil || s.InDoubt() || !s.CreateFailed() {
				t.Fatalf("session = %+v, want one that undoes the create", s)
			}
			if err := s.Delete(ctx); err != nil {
				t.Fatal(err)
			}
			if a.state() != "0 users, 0 workspaces, 0 members" {
				t.Errorf("the app has %s after the undo", a.state())
			}
			for _, d := range tc.undo {
				if a.requests(d) != 1 {
					t.Errorf("%s sent %d times, want once", d, a.requests(d))
				}
			}
			if tc.refuse == "POST /workspaces" && a.requests("DELETE /workspaces/{id}/members/{uid}")+a.requests("DELETE /workspaces/{id}") != 0 {
				t.Error("a delete step that needs the workspace's id was sent without it")
			}
			if left := leftovers(t, m.Ledger); len(left) != 0 {
				t.Errorf("ledger: %v", left)
			}
		})
	}
}

// A delete step that fails keeps the entry with the steps done; the next
// sweep resumes after them and does not send them again.
func TestStepsDeleteResumes(t *testing.T) {
	a := newAccounts(t)
	m := a.manager(t, true)
	ctx := context.Background()
	s, err := m.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.fail["DELETE /workspaces/{id}"] = 503
	err = s.Delete(ctx)
	if err == nil || !strings.Contains(err.Error(), "delete step 2 of 3") || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("delete err = %v", err)
	}
	e := ledgerEntry(t, m.Ledger)
	if !slices.Equal(e.DeleteDone, []int{0}) || e.ID != s.Tenant.ID || e.Fields["user_id"] != s.Tenant.Fields["user_id"] {
		t.Fatalf("ledger = %+v, want delete_done [0] and the fields", e)
	}
	delete(a.fail, "DELETE /workspaces/{id}")
	rep, err := m.Sweep(ctx, SweepOptions{})
	if err != nil || len(rep.Deleted) != 1 || !strings.HasPrefix(rep.Deleted[0], s.Tenant.Name+" (id "+s.Tenant.ID+")") {
		t.Fatalf("sweep = %+v, %v", rep, err)
	}
	if a.state() != "0 users, 0 workspaces, 0 members" {
		t.Errorf("the app has %s after the sweep", a.state())
	}
	if n := a.requests("DELETE /workspaces/{id}/members/{uid}"); n != 1 {
		t.Errorf("the membership delete was sent %d times, want once (the sweep resumes after it)", n)
	}
	if left := leftovers(t, m.Ledger); len(left) != 0 {
		t.Errorf("ledger: %v", left)
	}
}

// recordKilled writes the entry of a run killed during create, with what
// its finished steps returned.
func recordKilled(t *testing.T, m *Manager, name, id string, fields map[string]string, age time.Duration) {
	t.Helper()
	h, err := m.Ledger.Record(context.Background(), Entry{Run: strings.ToLower(RandomPart()), Scope: m.Scope, Started: time.Now().Add(-age), Name: name})
	if err != nil {
		t.Fatal(err)
	}
	fields["name"] = name
	if err := h.Update(context.Background(), id, fields); err != nil {
		t.Fatal(err)
	}
	h.Release()
}

// Runs killed between create steps: the sweep deletes what they made,
// each field confirmed by the app first.
func TestStepsSweepKilledCreate(t *testing.T) {
	ctx := context.Background()
	t.Run("after the workspace", func(t *testing.T) {
		a := newAccounts(t)
		m := a.manager(t, true)
		name := DefaultPrefix + RandomPart()
		uid, wid := a.make(name)
		recordKilled(t, m, name, wid, map[string]string{"user_id": uid, "id": wid}, time.Second)
		rep, err := m.Sweep(ctx, SweepOptions{})
		if err != nil || len(rep.Deleted) != 1 || a.state() != "0 users, 0 workspaces, 0 members" {
			t.Fatalf("sweep = %+v, %v; the app has %s", rep, err, a.state())
		}
	})
	t.Run("before the workspace", func(t *testing.T) {
		a := newAccounts(t)
		m := a.manager(t, true)
		name := DefaultPrefix + RandomPart()
		uid, wid := a.make(name)
		a.mu.Lock()
		delete(a.spaces, wid) // the workspace was never made
		a.mu.Unlock()
		recordKilled(t, m, name, "", map[string]string{"user_id": uid}, time.Minute)
		// Young: the workspace's create may be finishing; it waits.
		if rep, _ := m.Sweep(ctx, SweepOptions{}); len(rep.Deleted)+len(rep.Failed)+len(rep.Refused) != 0 || a.state() != "1 users, 0 workspaces, 0 members" {
			t.Fatalf("young: sweep = %+v; the app has %s", rep, a.state())
		}
		recordKilled(t, m, name, "", map[string]string{"user_id": uid}, time.Hour)
		rep, err := m.Sweep(ctx, SweepOptions{})
		if err != nil || len(rep.Deleted) != 1 || a.state() != "0 users, 0 workspaces, 0 members" {
			t.Fatalf("old: sweep = %+v, %v; the app has %s", rep, err, a.state())
		}
		if a.requests("DELETE /workspaces/{id}") != 0 {
			t.Error("a workspace delete was sent without its id")
		}
	})
}

// make makes a user and a workspace named name, as a run's first steps
// would, and returns their ids.
func (a *accounts) make(name string) (uid, wid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	uid = fmt.Sprintf("u%d", a.n)
	a.users[uid] = name
	a.n++
	wid = fmt.Sprintf("w%d", a.n)
	a.spaces[wid] = name
	return uid, wid
}

// The attack on multi-step deletes: an entry whose workspace is really
// ours but whose user_id is a customer's. The app's confirm request says
// that user is someone else: nothing of the entry is deleted, not even
// our workspace, and no delete request is sent at all. Without a confirm
// request for user_id, the sweep refuses such a config outright.
func TestStepsForgedFieldNeverReachesARequest(t *testing.T) {
	ctx := context.Background()
	for _, confirm := range []bool{true, false} {
		t.Run(fmt.Sprintf("confirm=%v", confirm), func(t *testing.T) {
			a := newAccounts(t)
			m := a.manager(t, confirm)
			name := DefaultPrefix + RandomPart()
			_, wid := a.make(name)
			customer, _ := a.make("customer-acme")
			recordKilled(t, m, name, wid, map[string]string{"id": wid, "user_id": customer}, time.Hour)
			rep, err := m.Sweep(ctx, SweepOptions{})
			want := `the app's confirm request for its user_id names ` + customer + ` "customer-acme", not "` + name + `"`
			if !confirm {
				want = "delete step 1 uses .Tenant.user_id, which only the ledger vouches for; configure a confirm request for user_id"
			}
			if err != nil || len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0], want) || len(rep.Deleted) != 0 {
				t.Fatalf("sweep = %+v, %v; want refused: %s", rep, err, want)
			}
			for _, p := range []string{"DELETE /users/{id}", "DELETE /workspaces/{id}", "DELETE /workspaces/{id}/members/{uid}"} {
				if a.requests(p) != 0 {
					t.Errorf("%s was sent", p)
				}
			}
			if a.state() != "2 users, 2 workspaces, 0 members" {
				t.Errorf("the app has %s, want everything kept", a.state())
			}
			if err := m.DeleteByID(ctx, wid); err == nil || !strings.Contains(err.Error(), "not deleted") {
				t.Errorf("tenant delete of the entry: %v", err)
			}
			if a.state() != "2 users, 2 workspaces, 0 members" {
				t.Errorf("tenant delete: the app has %s, want everything kept", a.state())
			}
		})
	}
}

// A field whose thing the app no longer has is gone, and so are the
// steps that need it; the others still run.
func TestStepsSweepFieldGone(t *testing.T) {
	a := newAccounts(t)
	m := a.manager(t, true)
	name := DefaultPrefix + RandomPart()
	uid, wid := a.make(name)
	a.mu.Lock()
	delete(a.users, uid)
	a.mu.Unlock()
	recordKilled(t, m, name, wid, map[string]string{"id": wid, "user_id": uid}, time.Hour)
	rep, err := m.Sweep(context.Background(), SweepOptions{})
	if err != nil || len(rep.Deleted) != 1 || a.state() != "0 users, 0 workspaces, 0 members" {
		t.Fatalf("sweep = %+v, %v; the app has %s", rep, err, a.state())
	}
	if a.requests("DELETE /users/{id}") != 0 || a.requests("DELETE /workspaces/{id}/members/{uid}") != 0 {
		t.Error("a step that needs the gone user_id was sent")
	}
}

// tenant delete of an id with no ledger entry: the steps its id and name
// address run, and the error names those it could not.
func TestStepsDeleteByIDWithoutEntry(t *testing.T) {
	a := newAccounts(t)
	m := a.manager(t, true)
	name := DefaultPrefix + RandomPart()
	_, wid := a.make(name)
	err := m.DeleteByID(context.Background(), wid)
	if err == nil || !strings.Contains(err.Error(), "delete step(s) 1, 3, which need other fields (.Tenant.user_id), were not run") {
		t.Fatalf("err = %v", err)
	}
	if a.state() != "1 users, 0 workspaces, 0 members" {
		t.Errorf("the app has %s, want the workspace deleted", a.state())
	}
}

// A run killed between two create commands: the entry has the first's
// fields, and the sweep deletes what it made with the delete commands.
func TestStepsCommands(t *testing.T) {
	store := t.TempDir()
	env := []string{"STORE=" + store}
	sh := func(script string, args ...string) []string {
		return append([]string{"sh", "-c", script, "sh"}, args...)
	}
	c := &Command{SecretField: SecretField,
		CreateCmds: []func(Tenant) (proc.Cmd, error){
			func(tn Tenant) (proc.Cmd, error) {
				return cmdOf(env, sh(`echo "$1" > "$STORE/user-$1"; printf '{"user_id": "user-%s"}' "$1"`, tn.Name)), nil
			},
			func(tn Tenant) (proc.Cmd, error) {
				return cmdOf(env, sh(`echo "$1" > "$STORE/ws-$1"; printf '{"id": "ws-%s", "login": "%s@x"}' "$1" "$1"`, tn.Name)), nil
			},
			func(tn Tenant) (proc.Cmd, error) {
				return cmdOf(env, sh(`test -f "$STORE/$1" && test -f "$STORE/$2"`, tn.Fields["id"], tn.Fields["user_id"])), nil
			},
		},
		DeleteCmds: []func(Tenant) (proc.Cmd, error){
			func(tn Tenant) (proc.Cmd, error) { return cmdOf(env, sh(`rm -f "$STORE/$1"`, tn.Fields["id"])), nil },
			func(tn Tenant) (proc.Cmd, error) {
				return cmdOf(env, sh(`rm -f "$STORE/$1"`, tn.Fields["user_id"])), nil
			},
		},
		ConfirmCmds: map[string]func(Tenant) (proc.Cmd, error){
			"user_id": func(tn Tenant) (proc.Cmd, error) {
				return cmdOf(env, sh(`test -f "$STORE/$1" && printf '{"name": "%s"}' "$(cat "$STORE/$1")" || echo null`, tn.Fields["user_id"])), nil
			},
		},
		GetCmd: func(tn Tenant) (proc.Cmd, error) {
			return cmdOf(env, sh(`test -f "$STORE/$1" && printf '{"name": "%s"}' "$(cat "$STORE/$1")" || echo null`, tn.ID)), nil
		},
	}
	m := manager(t, c)
	m.DeleteNeeds = [][]string{{"id"}, {"user_id"}}
	ctx := context.Background()
	s, err := m.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Tenant.Fields["login"] != s.Tenant.Name+"@x" || s.Tenant.Fields["user_id"] != "user-"+s.Tenant.Name {
		t.Fatalf("tenant = %+v", s.Tenant)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(store, "*")); len(left) != 0 {
		t.Fatalf("left after delete: %v", left)
	}
	// Killed after the first command: the user only.
	name := DefaultPrefix + RandomPart()
	os.WriteFile(filepath.Join(store, "user-"+name), []byte(name+"\n"), 0o600)
	recordKilled(t, m, name, "", map[string]string{"user_id": "user-" + name}, time.Hour)
	c.ListCmd = func() (proc.Cmd, error) { return cmdOf(env, sh(`echo '[]'`)), nil }
	rep, err := m.Sweep(ctx, SweepOptions{})
	if left, _ := filepath.Glob(filepath.Join(store, "*")); err != nil || len(rep.Deleted) != 1 || len(left) != 0 {
		t.Fatalf("sweep = %+v, %v; left %v", rep, err, left)
	}
}

// Several sql statements run in one transaction: a create that fails at
// its second statement leaves nothing, the fields of the first reach the
// second, and delete's statements go together.
func TestSQLStatementsInOneTransaction(t *testing.T) {
	s := sqlStore(t)
	app := pgtest.NewApp(t, "tenantsql2", `CREATE TABLE tenants (id serial PRIMARY KEY, name text UNIQUE NOT NULL,
		password text NOT NULL DEFAULT md5(random()::text));
		CREATE TABLE members (tenant_id int PRIMARY KEY REFERENCES tenants, login text NOT NULL);
		GRANT SELECT, INSERT, DELETE ON tenants, members TO %[1]s; GRANT USAGE ON SEQUENCE tenants_id_seq TO %[1]s`)
	s.Close()
	s = &SQL{DSN: app.DSN(), SecretField: SecretField, CreateStmt: s.CreateStmt, DeleteStmt: s.DeleteStmt}
	t.Cleanup(func() { s.Close() })
	db, _ := s.open()
	ctx := context.Background()
	s.CreateStmts = []func(Tenant) (Statement, error){
		func(tn Tenant) (Statement, error) { return s.CreateStmt(tn.Name) },
		func(tn Tenant) (Statement, error) {
			return Statement{Query: "INSERT INTO members (tenant_id, login) VALUES ($1, $2 || '@x') RETURNING login", Args: []string{tn.Fields["id"], tn.Name}}, nil
		},
	}
	s.DeleteStmts = []func(Tenant) (Statement, error){
		func(tn Tenant) (Statement, error) {
			return Statement{Query: "DELETE FROM members WHERE tenant_id = $1", Args: []string{tn.ID}}, nil
		},
		func(tn Tenant) (Statement, error) { return s.DeleteStmt(tn) },
	}
	m := manager(t, s)
	sess, err := m.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Tenant.Fields["login"] != sess.Tenant.Name+"@x" || sess.Tenant.Fields["password"] == "" {
		t.Fatalf("tenant = %+v", sess.Tenant)
	}
	if err := sess.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM members) + (SELECT count(*) FROM tenants WHERE name = $1)`, sess.Tenant.Name).Scan(&n)
	if n != 0 {
		t.Errorf("%d rows left after delete", n)
	}
	s.CreateStmts[1] = func(tn Tenant) (Statement, error) {
		return Statement{Query: "INSERT INTO members (tenant_id, login) VALUES ($1, NULL)", Args: []string{tn.Fields["id"]}}, nil
	}
	if _, err := m.Create(ctx); err == nil || !isNotCreated(err) || !strings.Contains(err.Error(), "create statement 2 of 2") {
		t.Fatalf("err = %v, want the second statement's refusal", err)
	}
	db.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE name LIKE 'sc-%'`).Scan(&n)
	if n != 0 {
		t.Errorf("a failed second statement left %d tenant rows: not one transaction", n)
	}
}
