package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/apptest"
	"github.com/suitecheck/suitecheck/internal/httpstep"
	"github.com/suitecheck/suitecheck/internal/pgtest"
	"github.com/suitecheck/suitecheck/internal/proc"
)

func TestMain(m *testing.M) {
	if os.Getenv(ledgerHelperEnv) != "" {
		os.Exit(ledgerHelper())
	}
	os.Exit(pgtest.Main(m))
}

var script, _ = filepath.Abs("testdata/tenants.sh")

// commandStore is the command provisioner over testdata/tenants.sh, with
// its tenants in a temp dir.
func commandStore(t *testing.T) (*Command, string) {
	t.Helper()
	store := t.TempDir()
	env := []string{"STORE=" + store}
	return &Command{
		CreateCmd: func(name string) (proc.Cmd, error) {
			return proc.Cmd{Argv: []string{script, "create", name}, Env: env}, nil
		},
		DeleteCmd: func(tn Tenant) (proc.Cmd, error) {
			return proc.Cmd{Argv: []string{script, "delete", tn.ID}, Env: env}, nil
		},
		ListCmd:     func() (proc.Cmd, error) { return proc.Cmd{Argv: []string{script, "list"}, Env: env}, nil },
		SecretField: SecretField,
	}, store
}

func storeNames(t *testing.T, p Provisioner) []string {
	t.Helper()
	found, err := p.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range found {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

func manager(t *testing.T, p Provisioner) *Manager {
	return &Manager{Prov: p, Ledger: managerLedger(t), Scope: "cfg#staging", Prefix: DefaultPrefix}
}

// managerLedger is the ledger of the Manager tests: the file ledger, and
// the PostgreSQL one while TestManagerOnPGLedger runs them again.
var managerLedger = func(t *testing.T) Ledger { return newLedger(t) }

// The lifecycle with each provisioner: recorded before create, no secret
// in the ledger, deleted and forgotten.
func TestLifecycle(t *testing.T) {
	cmd, _ := commandStore(t)
	provs := map[string]Provisioner{"command": cmd, "sql": sqlStore(t), "http": httpStore(t, "")}
	for _, name := range []string{"command", "sql", "http"} {
		p := provs[name]
		t.Run(name, func(t *testing.T) {
			m := manager(t, p)
			ctx := context.Background()
			s, err := m.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tn := s.Tenant
			if !strings.HasPrefix(tn.Name, "sc-") || tn.ID == "" || tn.Fields["password"] == "" || !slices.Contains(tn.Secret, "password") {
				t.Fatalf("tenant = %+v, want a prefixed name, an id, a secret password", tn)
			}
			if got := storeNames(t, p); !slices.Contains(got, tn.Name) {
				t.Fatalf("the app lists %v, not %s", got, tn.Name)
			}
			rec := string(entryFile(t, m.Ledger))
			if !strings.Contains(rec, tn.Name) || !strings.Contains(rec, tn.ID) {
				t.Errorf("ledger entry lacks the name or id:\n%s", rec)
			}
			if strings.Contains(rec, tn.Fields["password"]) {
				t.Errorf("the password is in the ledger:\n%s", rec)
			}
			if err := s.Delete(ctx); err != nil {
				t.Fatal(err)
			}
			if got := storeNames(t, p); slices.Contains(got, tn.Name) {
				t.Errorf("still listed after delete: %v", got)
			}
			if left := leftovers(t, m.Ledger); len(left) != 0 {
				t.Errorf("ledger after delete: %v", left)
			}
			// Deleting what is gone succeeds: a sweep may race a run.
			if err := p.Delete(ctx, tn); err != nil {
				t.Errorf("second delete: %v", err)
			}
		})
	}
}

// The entry is in the ledger before create is called.
func TestRecordedBeforeCreate(t *testing.T) {
	cmd, _ := commandStore(t)
	m := manager(t, cmd)
	create := cmd.CreateCmd
	cmd.CreateCmd = func(name string) (proc.Cmd, error) {
		c, _ := create(name)
		c.Argv = append([]string{"sh", "-c", `grep -q "\"$0\"" "$1"/*.json || { echo "not in the ledger" >&2; exit 9; }; shift; exec "$@"`, name, m.Ledger.(*FileLedger).Dir()}, c.Argv...)
		return c, nil
	}
	s, err := m.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Delete(context.Background())
}

func TestCreateRefusedIsNotAConfigError(t *testing.T) {
	cmd, store := commandStore(t)
	os.WriteFile(filepath.Join(store, "refuse"), nil, 0o600)
	m := manager(t, cmd)
	_, err := m.Create(context.Background())
	if err == nil || IsConfigError(err) || !strings.Contains(err.Error(), "tenant quota exceeded") || !strings.Contains(err.Error(), "create tenant sc-") {
		t.Fatalf("err = %v, want the app's refusal with the tenant's name and the program's last words", err)
	}
	if left := leftovers(t, m.Ledger); len(left) != 0 {
		t.Errorf("a refused create stays in the ledger: %v", left)
	}
}

func TestConfigErrors(t *testing.T) {
	cmd, _ := commandStore(t)
	cmd.CreateCmd = func(string) (proc.Cmd, error) { return proc.Cmd{Argv: []string{"/nonexistent/provision"}}, nil }
	if _, err := manager(t, cmd).Create(context.Background()); !IsConfigError(err) {
		t.Errorf("missing program: err = %v, want a config error", err)
	}
	m := manager(t, cmd)
	m.Name = func(r string) (string, error) { return "other-" + r, nil }
	if _, err := m.Create(context.Background()); !IsConfigError(err) || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("unprefixed name: err = %v", err)
	}
	bad := sqlStore(t)
	bad.CreateStmt = func(name string) (Statement, error) {
		return Statement{Query: "INSERT INTO tenants (name) VALUES ($1) RETURNING name", Args: []string{name}}, nil
	}
	if _, err := manager(t, bad).Create(context.Background()); !IsConfigError(err) || !strings.Contains(err.Error(), "RETURNING id") {
		t.Errorf("no id column: err = %v", err)
	}
	bad.CreateStmt = func(name string) (Statement, error) { return Statement{Query: "INSERT INTO", Args: nil}, nil }
	if _, err := manager(t, bad).Create(context.Background()); !IsConfigError(err) {
		t.Errorf("syntax error: err = %v", err)
	}
}

// A failed delete keeps the entry; once the app is healthy, a sweep
// deletes the tenant.
func TestFailedDeleteSweptLater(t *testing.T) {
	cmd, store := commandStore(t)
	m := manager(t, cmd)
	ctx := context.Background()
	s, err := m.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(store, "refuse-delete"), nil, 0o600)
	err = s.Delete(ctx)
	var xe *proc.ExitError
	if !errors.As(err, &xe) || !strings.Contains(err.Error(), "delete refused") {
		t.Fatalf("delete err = %v", err)
	}
	if list, _, _ := m.Ledger.List(context.Background()); len(list) != 1 || list[0].Name != s.Tenant.Name || list[0].Alive {
		t.Fatalf("ledger = %+v, want the tenant, its run let go", list)
	}
	rep, err := m.Sweep(ctx, SweepOptions{})
	if err != nil || len(rep.Failed) != 1 || len(rep.Deleted) != 0 {
		t.Fatalf("sweep while delete fails = %+v, %v", rep, err)
	}
	os.Remove(filepath.Join(store, "refuse-delete"))
	rep, err = m.Sweep(ctx, SweepOptions{})
	if err != nil || len(rep.Deleted) != 1 || !strings.HasPrefix(rep.Deleted[0], s.Tenant.Name+" (id ") {
		t.Fatalf("sweep once healthy = %+v, %v", rep, err)
	}
	if got := storeNames(t, cmd); len(got) != 0 {
		t.Errorf("the app still has %v", got)
	}
}

func TestSweep(t *testing.T) {
	cmd, store := commandStore(t)
	m := manager(t, cmd)
	ctx := context.Background()
	mk := func(scope string, withID bool) string {
		t.Helper()
		name := DefaultPrefix + RandomPart()
		h, err := m.Ledger.Record(context.Background(), Entry{Run: strings.ToLower(RandomPart()), Scope: scope, Host: "h", Started: time.Now(), Name: name})
		if err != nil {
			t.Fatal(err)
		}
		tn, err := cmd.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if withID {
			h.Update(context.Background(), tn.ID, tn.Public())
		}
		h.Release() // its run died
		return name
	}
	dead := mk(m.Scope, true)
	deadDuringCreate := mk(m.Scope, false)
	otherScope := mk("other.yaml#prod", true)
	live, err := m.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Strays the ledger does not know: an old prefixed one, a young one,
	// an old one without the prefix.
	oldStray, _ := cmd.Create(ctx, DefaultPrefix+"oldstray")
	cmd.Create(ctx, DefaultPrefix+"youngstray")
	foreign, _ := cmd.Create(ctx, "customer-acme")
	for _, id := range []string{oldStray.ID, foreign.ID} {
		b, _ := os.ReadFile(filepath.Join(store, id))
		name, _, _ := strings.Cut(string(b), " ")
		os.WriteFile(filepath.Join(store, id), []byte(name+" 2020-01-01T00:00:00Z\n"), 0o600)
	}

	rep, err := m.Sweep(ctx, SweepOptions{Host: "h"})
	if err != nil || len(rep.Failed) > 0 {
		t.Fatalf("sweep = %+v, %v", rep, err)
	}
	if len(rep.Deleted) != 2 || !strings.Contains(strings.Join(rep.Deleted, " "), dead) || !strings.Contains(strings.Join(rep.Deleted, " "), deadDuringCreate) {
		t.Errorf("deleted %v, want %s and %s (found by name)", rep.Deleted, dead, deadDuringCreate)
	}
	want := []string{"customer-acme", live.Tenant.Name, otherScope, DefaultPrefix + "oldstray", DefaultPrefix + "youngstray"}
	slices.Sort(want)
	if got := storeNames(t, cmd); !slices.Equal(got, want) {
		t.Errorf("after a run's sweep the app has %v, want %v", got, want)
	}

	rep, err = m.Sweep(ctx, SweepOptions{OlderThan: time.Hour, Host: "h"})
	if err != nil || len(rep.Deleted) != 1 || !strings.HasPrefix(rep.Deleted[0], DefaultPrefix+"oldstray") {
		t.Fatalf("sweep --older-than 1h = %+v, %v", rep, err)
	}
	want = slices.DeleteFunc(want, func(s string) bool { return s == DefaultPrefix+"oldstray" })
	if got := storeNames(t, cmd); !slices.Equal(got, want) {
		t.Errorf("after sweep --older-than the app has %v, want %v", got, want)
	}
	live.Delete(ctx)
}

func TestPickTenants(t *testing.T) {
	body := `{"data": {"tenants": [
		{"name": "sc-a", "id": 12345678901234567890, "created": "2026-11-24T10:00:00.123Z"},
		{"name": "sc-b", "id": "b", "created": 1790000000},
		{"name": "sc-c", "id": "c", "created": "2026-11-24 10:00:00.5+00"},
		{"name": "no-id"},
		{"name": "sc-d", "id": "d"}]}}`
	got, err := pickTenants([]byte(body), "$.data.tenants[*]", "$.name", "$.id", "$.created")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].ID != "12345678901234567890" || got[0].Created.IsZero() || got[1].Created.Unix() != 1790000000 ||
		got[2].Created.IsZero() || !got[3].Created.IsZero() {
		t.Errorf("got %+v", got)
	}
	if _, err := pickTenants([]byte("<html>"), "$[*]", "$.name", "$.id", ""); err == nil {
		t.Error("HTML accepted as a list")
	}
	if _, err := pickTenants([]byte("[]"), "$[", "$.name", "$.id", ""); !IsConfigError(err) {
		t.Errorf("bad JSONPath: %v", err)
	}
}

func sqlStore(t *testing.T) *SQL {
	t.Helper()
	app := pgtest.NewApp(t, "tenantsql", `CREATE TABLE tenants (id serial PRIMARY KEY, name text UNIQUE NOT NULL,
		password text NOT NULL DEFAULT md5(random()::text), created timestamptz NOT NULL DEFAULT now());
		GRANT SELECT, INSERT, DELETE ON tenants TO %[1]s; GRANT USAGE ON SEQUENCE tenants_id_seq TO %[1]s`)
	s := &SQL{DSN: app.DSN(), SecretField: SecretField,
		CreateStmt: func(name string) (Statement, error) {
			return Statement{Query: "INSERT INTO tenants (name) VALUES ($1) RETURNING id, name, password", Args: []string{name}}, nil
		},
		DeleteStmt: func(tn Tenant) (Statement, error) {
			return Statement{Query: "DELETE FROM tenants WHERE id = $1", Args: []string{tn.ID}}, nil
		},
		ListStmt: func() (Statement, error) { return Statement{Query: "SELECT id, name, created FROM tenants"}, nil },
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLRefusal(t *testing.T) {
	s := sqlStore(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, "sc-dup"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Create(ctx, "sc-dup")
	if err == nil || IsConfigError(err) || !strings.Contains(err.Error(), "SQLSTATE 23505") {
		t.Errorf("duplicate: err = %v, want the app's refusal with its SQLSTATE", err)
	}
}

// httpStore is the http provisioner against the sample app. token, when
// set, replaces the admin token.
func httpStore(t *testing.T, token string) *HTTP {
	t.Helper()
	app := apptest.Start(t)
	if token == "" {
		token = app.Admin
	}
	client, err := httpstep.NewClient(httpstep.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &HTTP{Client: client, SecretField: SecretField,
		CreateReq: func(name string) (httpstep.Step, error) {
			return httpstep.Step{Method: "POST", URL: app.URL + "/api/tenants", Bearer: token, JSON: map[string]any{"name": name},
				Expect: httpstep.Expect{Status: httpstep.StatusList{201}},
				Extract: map[string]httpstep.Extraction{"id": {JSON: "$.id"}, "login": {JSON: "$.login"},
					"password": {JSON: "$.password", Secret: true}}}, nil
		},
		DeleteReq: func(tn Tenant) (httpstep.Step, error) {
			return httpstep.Step{Method: "DELETE", URL: app.URL + "/api/tenants/" + tn.ID, Bearer: token}, nil
		},
		ListReq: func() (httpstep.Step, error) { return httpstep.Step{URL: app.URL + "/api/tenants", Bearer: token}, nil },
		Items:   "$[*]", NameAt: "$.name", IDAt: "$.id", CreatedAt: "$.created_at",
	}
}

func TestHTTPRefusal(t *testing.T) {
	h := httpStore(t, "wrong-token")
	_, err := h.Create(context.Background(), "sc-x")
	if err == nil || IsConfigError(err) || !strings.Contains(err.Error(), "status 401") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("err = %v, want status 401 without the token", err)
	}
	if err := h.Delete(context.Background(), Tenant{ID: "x"}); err == nil {
		t.Error("a 401 on delete counted as deleted")
	}
}

func ExampleRandomPart() {
	fmt.Println(len(RandomPart()), RandomPart() != RandomPart())
	// Output: 10 true
}

// A create that may have made the tenant (a reply without an id) keeps its
// entry; the run's own teardown finds the tenant by name and deletes it,
// and when the run dies first, the sweep does.
func TestCreateInDoubtKeepsEntry(t *testing.T) {
	for _, killed := range []bool{false, true} {
		t.Run(fmt.Sprintf("killed=%v", killed), func(t *testing.T) {
			cmd, _ := commandStore(t)
			m := manager(t, cmd)
			create := cmd.CreateCmd
			cmd.CreateCmd = func(name string) (proc.Cmd, error) {
				c, _ := create(name)
				c.Argv = append([]string{"sh", "-c", `"$@" >/dev/null; echo '{"ok": true}'`, "sh"}, c.Argv...)
				return c, nil
			}
			sess, err := m.Create(context.Background())
			if err == nil || IsConfigError(err) || !strings.Contains(err.Error(), "it may exist: kept in the ledger") || sess == nil || !sess.InDoubt() {
				t.Fatalf("err = %v, session %v: want an error and a session in doubt", err, sess)
			}
			if names := storeNames(t, cmd); len(names) != 1 {
				t.Fatalf("the app has %v, want the tenant the create made", names)
			}
			if killed {
				sess.held.Release() // as the kernel does when the run dies
				rep, err := m.Sweep(context.Background(), SweepOptions{})
				if err != nil || len(rep.Deleted) != 1 {
					t.Fatalf("sweep = %+v, %v", rep, err)
				}
			} else if err := sess.Delete(context.Background()); err != nil {
				t.Fatalf("teardown of a tenant in doubt: %v", err)
			}
			if names := storeNames(t, cmd); len(names) != 0 {
				t.Errorf("left: %v", names)
			}
			if left := leftovers(t, m.Ledger); len(left) != 0 {
				t.Errorf("ledger: %v", left)
			}
		})
	}
}

// An SQL create that cannot say which tenant it made is rolled back.
func TestSQLCreateRolledBack(t *testing.T) {
	s := sqlStore(t)
	s.CreateStmt = func(name string) (Statement, error) {
		return Statement{Query: "INSERT INTO tenants (name) VALUES ($1) RETURNING name", Args: []string{name}}, nil
	}
	m := manager(t, s)
	if _, err := m.Create(context.Background()); !IsConfigError(err) {
		t.Fatalf("err = %v", err)
	}
	if names := storeNames(t, s); len(names) != 0 {
		t.Errorf("the rolled-back create left %v", names)
	}
	if left := leftovers(t, m.Ledger); len(left) != 0 {
		t.Errorf("ledger: %v", left)
	}
}

// An entry without an id that the app does not list yet stays while young
// (the create may be finishing), and goes once old; without a list request
// an old one is reported once.
func TestSweepIDlessEntries(t *testing.T) {
	cmd, _ := commandStore(t)
	m := manager(t, cmd)
	record := func(age time.Duration) {
		h, err := m.Ledger.Record(context.Background(), Entry{Run: strings.ToLower(RandomPart()), Scope: m.Scope, Started: time.Now().Add(-age), Name: DefaultPrefix + RandomPart()})
		if err != nil {
			t.Fatal(err)
		}
		h.Release()
	}
	record(time.Minute)
	record(time.Hour)
	rep, err := m.Sweep(context.Background(), SweepOptions{})
	if err != nil || len(rep.Deleted)+len(rep.Failed) != 0 {
		t.Fatalf("sweep = %+v, %v", rep, err)
	}
	if list, _, _ := m.Ledger.List(context.Background()); len(list) != 1 || time.Since(list[0].Started) > CreateGrace {
		t.Fatalf("ledger = %+v, want the young entry only", list)
	}
	cmd.ListCmd = nil
	record(time.Hour)
	rep, _ = m.Sweep(context.Background(), SweepOptions{})
	if len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0], "no list request is configured") {
		t.Errorf("sweep without list = %+v", rep)
	}
	// It may exist and nothing can find it: reported on every sweep (it was
	// forgotten after one WARNING, and leaked silently after that).
	if rep, _ = m.Sweep(context.Background(), SweepOptions{}); len(rep.Refused) != 1 {
		t.Errorf("second sweep: %+v", rep)
	}
}

// tenant delete NAME of an entry without an id: by the app's list, or
// refused; never a delete of the name as an id.
func TestDeleteByNameOfIDlessEntry(t *testing.T) {
	cmd, _ := commandStore(t)
	m := manager(t, cmd)
	ctx := context.Background()
	name := DefaultPrefix + "byname"
	h, _ := m.Ledger.Record(context.Background(), Entry{Run: "r1", Scope: m.Scope, Started: time.Now(), Name: name})
	h.Release()
	if err := m.DeleteByID(ctx, name); err == nil || !strings.Contains(err.Error(), "does not list it") {
		t.Fatalf("err = %v", err)
	}
	if list, _, _ := m.Ledger.List(context.Background()); len(list) != 1 {
		t.Fatalf("the entry was forgotten: %v", list)
	}
	cmd.Create(ctx, name)
	if err := m.DeleteByID(ctx, name); err != nil {
		t.Fatal(err)
	}
	if names := storeNames(t, cmd); len(names) != 0 {
		t.Errorf("left: %v", names)
	}
	if list, _, _ := m.Ledger.List(context.Background()); len(list) != 0 {
		t.Errorf("ledger: %v", list)
	}
}
