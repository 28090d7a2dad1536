package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/httpstep"
	"github.com/suitecheck/suitecheck/internal/proc"
)

// plant writes a dead run's ledger entry, as an attacker with write access
// to the state dir, a restored backup or a second config could.
func plant(t *testing.T, m *Manager, scope, name, id string) {
	t.Helper()
	h, err := m.Ledger.Record(context.Background(), Entry{Run: strings.ToLower(RandomPart()), Scope: scope, Started: time.Now().Add(-time.Hour), Name: name, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		if err := h.Update(context.Background(), id, map[string]string{"name": name, "id": id}); err != nil {
			t.Fatal(err)
		}
	}
	h.Release()
}

// How the app is asked: by its list, by a get request, by a delete that
// carries the name, or not at all.
func confirmModes(t *testing.T) map[string]func(*Command, *Manager) {
	return map[string]func(*Command, *Manager){
		"list": func(c *Command, m *Manager) {},
		"get": func(c *Command, m *Manager) {
			l, _ := c.ListCmd()
			c.GetCmd = func(tn Tenant) (proc.Cmd, error) {
				return proc.Cmd{Argv: []string{script, "get", tn.ID}, Env: l.Env}, nil
			}
			c.ListCmd = nil
		},
		"none": func(c *Command, m *Manager) { c.ListCmd = nil },
	}
}

// The reproduced attack: a ledger entry claims a real customer's id under
// an sc- name. The app says that id is customer-acme: the customer stays,
// whichever way the app is asked, and the entry is reported.
func TestSweepNeverDeletesACustomer(t *testing.T) {
	for mode, set := range confirmModes(t) {
		t.Run(mode, func(t *testing.T) {
			cmd, _ := commandStore(t)
			m := manager(t, cmd)
			ctx := context.Background()
			customer, err := cmd.Create(ctx, "customer-acme")
			if err != nil {
				t.Fatal(err)
			}
			ours, err := cmd.Create(ctx, DefaultPrefix+"ours")
			if err != nil {
				t.Fatal(err)
			}
			set(cmd, m)
			plant(t, m, m.Scope, DefaultPrefix+"forged", customer.ID)
			plant(t, m, m.Scope, DefaultPrefix+"ours", ours.ID)
			rep, err := m.Sweep(ctx, SweepOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := storeNamesOf(t, cmd); !slices.Contains(got, "customer-acme") {
				t.Fatalf("the customer was deleted: the app has %v", got)
			}
			refused := strings.Join(rep.Refused, "\n")
			if !strings.Contains(refused, DefaultPrefix+"forged (id "+customer.ID+")") {
				t.Errorf("refused = %q, want the forged entry named", refused)
			}
			switch mode {
			case "none":
				// Nothing can be confirmed: nothing is deleted, and the
				// config is told how to fix it.
				if len(rep.Deleted) != 0 || !strings.Contains(refused, "configure a tenant get or list request") {
					t.Errorf("without get or list: %+v", rep)
				}
			default:
				if len(rep.Deleted) != 1 || !strings.HasPrefix(rep.Deleted[0], DefaultPrefix+"ours ") {
					t.Errorf("deleted %v, want our own leftover only", rep.Deleted)
				}
				if !strings.Contains(refused, `"customer-acme"`) {
					t.Errorf("refused = %q, want the app's name for the id", refused)
				}
			}
			// The refused entry stays, so it is reported again until a
			// person looks.
			list, _, _ := m.Ledger.List(context.Background())
			if !slices.ContainsFunc(list, func(l Listed) bool { return l.Name == DefaultPrefix+"forged" }) {
				t.Errorf("the forged entry was forgotten: %+v", list)
			}
			if rep2, _ := m.Sweep(ctx, SweepOptions{}); len(rep2.Refused) == 0 {
				t.Error("the second sweep no longer reports the forged entry")
			}
		})
	}
}

// storeNamesOf lists the store's tenants by its files, whatever the
// provisioner's list request.
func storeNamesOf(t *testing.T, c *Command) []string {
	t.Helper()
	l := c.ListCmd
	if l == nil {
		l = func() (proc.Cmd, error) {
			d, _ := c.DeleteCmd(Tenant{})
			return proc.Cmd{Argv: []string{script, "list"}, Env: d.Env}, nil
		}
	}
	p := &Command{ListCmd: l}
	return storeNames(t, p)
}

// Entries whose name lacks the prefix, or of another config, are never
// acted on, even when the app confirms the name.
func TestSweepLeavesUnprefixedAndOtherScopes(t *testing.T) {
	cmd, _ := commandStore(t)
	m := manager(t, cmd)
	ctx := context.Background()
	a, _ := cmd.Create(ctx, "customer-a")
	b, _ := cmd.Create(ctx, DefaultPrefix+"other-config")
	plant(t, m, m.Scope, "customer-a", a.ID)
	plant(t, m, "/etc/other.yaml#prod", DefaultPrefix+"other-config", b.ID)
	rep, err := m.Sweep(ctx, SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := storeNames(t, cmd); len(got) != 2 {
		t.Fatalf("the app has %v, want both tenants", got)
	}
	if len(rep.Deleted) != 0 || rep.Others != 1 || len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0], `lacks the prefix "sc-"`) {
		t.Errorf("sweep = %+v", rep)
	}
}

// A recorded tenant the app no longer has is forgotten without a delete
// (whose id might by now be someone else's).
func TestSweepForgetsWhatIsGone(t *testing.T) {
	for mode, set := range confirmModes(t) {
		if mode == "none" {
			continue
		}
		t.Run(mode, func(t *testing.T) {
			cmd, store := commandStore(t)
			m := manager(t, cmd)
			set(cmd, m)
			plant(t, m, m.Scope, DefaultPrefix+"gone", "424242")
			os.WriteFile(filepath.Join(store, "refuse-delete"), nil, 0o600) // a delete would fail
			rep, err := m.Sweep(context.Background(), SweepOptions{})
			if err != nil || len(rep.Gone) != 1 || len(rep.Failed) != 0 || len(rep.Deleted) != 0 {
				t.Fatalf("sweep = %+v, %v", rep, err)
			}
			if list, _, _ := m.Ledger.List(context.Background()); len(list) != 0 {
				t.Errorf("ledger = %+v", list)
			}
		})
	}
}

// With neither get nor list, a delete that carries the name (the app
// checks it) is the confirmation.
func TestSweepDeleteChecksName(t *testing.T) {
	cmd, _ := commandStore(t)
	m := manager(t, cmd)
	ctx := context.Background()
	ours, _ := cmd.Create(ctx, DefaultPrefix+"ours")
	cmd.ListCmd = nil
	m.DeleteChecksName = true
	plant(t, m, m.Scope, DefaultPrefix+"ours", ours.ID)
	rep, err := m.Sweep(ctx, SweepOptions{})
	if err != nil || len(rep.Deleted) != 1 {
		t.Fatalf("sweep = %+v, %v", rep, err)
	}
}

// tenant delete ID: confirmed like a sweep; a customer's id is refused,
// with or without a forged ledger entry.
func TestDeleteByIDConfirms(t *testing.T) {
	for mode, set := range confirmModes(t) {
		t.Run(mode, func(t *testing.T) {
			cmd, _ := commandStore(t)
			m := manager(t, cmd)
			ctx := context.Background()
			customer, _ := cmd.Create(ctx, "customer-acme")
			victim, _ := cmd.Create(ctx, "customer-beta")
			ours, _ := cmd.Create(ctx, DefaultPrefix+"byhand")
			set(cmd, m)
			plant(t, m, m.Scope, DefaultPrefix+"forged", victim.ID)
			for _, id := range []string{customer.ID, victim.ID} {
				if err := m.DeleteByID(ctx, id); err == nil || !strings.Contains(err.Error(), "not deleted") {
					t.Errorf("delete %s: err = %v, want a refusal", id, err)
				}
			}
			err := m.DeleteByID(ctx, ours.ID)
			got := storeNamesOf(t, cmd)
			if !slices.Contains(got, "customer-acme") || !slices.Contains(got, "customer-beta") {
				t.Fatalf("a customer was deleted: the app has %v", got)
			}
			if mode == "none" {
				if err == nil || slices.Index(got, DefaultPrefix+"byhand") < 0 {
					t.Errorf("without a way to confirm: err = %v, app %v; want a refusal", err, got)
				}
				return
			}
			if err != nil || slices.Contains(got, DefaultPrefix+"byhand") {
				t.Errorf("delete of our own tenant: err = %v, app %v", err, got)
			}
		})
	}
}

// --older-than deletes a stray only by the list's name, with the prefix.
func TestStraysNeedThePrefixOnTheList(t *testing.T) {
	cmd, store := commandStore(t)
	m := manager(t, cmd)
	ctx := context.Background()
	for _, n := range []string{"customer-old", DefaultPrefix + "old"} {
		tn, _ := cmd.Create(ctx, n)
		os.WriteFile(filepath.Join(store, tn.ID), []byte(n+" 2020-01-01T00:00:00Z\n"), 0o600)
	}
	rep, err := m.Sweep(ctx, SweepOptions{OlderThan: time.Hour})
	if err != nil || len(rep.Deleted) != 1 || !strings.HasPrefix(rep.Deleted[0], DefaultPrefix+"old ") {
		t.Fatalf("sweep = %+v, %v", rep, err)
	}
	if got := storeNames(t, cmd); !slices.Equal(got, []string{"customer-old"}) {
		t.Errorf("the app has %v", got)
	}
}

// The sweep stops when its time is up: deletes run in parallel, each
// bounded, and the leftovers it did not reach stay for the next run.
func TestSweepIsBounded(t *testing.T) {
	cmd, store := commandStore(t)
	m := manager(t, cmd)
	ctx := context.Background()
	for i := range 7 {
		n := fmt.Sprintf("%sleft%d", DefaultPrefix, i)
		tn, _ := cmd.Create(ctx, n)
		plant(t, m, m.Scope, n, tn.ID)
	}
	os.WriteFile(filepath.Join(store, "hang-delete"), nil, 0o600)

	// Each delete bounded by DeleteTimeout, far inside the sweep's time:
	// all 7 are tried, 4 at a time, and fail.
	rep, err := m.Sweep(ctx, SweepOptions{DeleteTimeout: 300 * time.Millisecond, Parallel: 4})
	if err != nil || len(rep.Failed) != 7 || rep.Left != 0 {
		t.Fatalf("bounded deletes: sweep = %+v, %v", rep, err)
	}

	// The sweep's own time ends while the first 4 hang: the other 3 are
	// not started, and every entry stays in the ledger.
	sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	rep, err = m.Sweep(sctx, SweepOptions{DeleteTimeout: time.Hour, Parallel: 4})
	if err != nil || len(rep.Failed) != 4 || rep.Left != 3 || len(rep.Deleted) != 0 {
		t.Fatalf("cut sweep = %+v, %v", rep, err)
	}
	if list, _, _ := m.Ledger.List(context.Background()); len(list) != 7 {
		t.Errorf("ledger has %d entries, want all 7 kept", len(list))
	}
	os.Remove(filepath.Join(store, "hang-delete"))
	if rep, err = m.Sweep(ctx, SweepOptions{}); err != nil || len(rep.Deleted) != 7 {
		t.Errorf("once healthy: sweep = %+v, %v", rep, err)
	}
}

// fakeApp is an admin API that makes the tenant and then answers with the
// given status, as an app that commits and then fails to answer does.
type fakeApp struct {
	mu      sync.Mutex
	tenants map[string]string // id -> name
	n       int
	status  int
}

func (a *fakeApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.Method == "POST":
		var body struct{ Name string }
		json.NewDecoder(r.Body).Decode(&body)
		if a.status < 500 && a.status >= 400 && a.status != 408 && a.status != 429 {
			w.WriteHeader(a.status) // a real refusal: nothing made
			return
		}
		a.n++
		id := fmt.Sprint(a.n)
		a.tenants[id] = body.Name
		w.WriteHeader(a.status)
		if a.status < 300 {
			json.NewEncoder(w).Encode(map[string]string{"id": id})
		}
	case r.Method == "DELETE":
		id := strings.TrimPrefix(r.URL.Path, "/t/")
		if _, ok := a.tenants[id]; !ok {
			w.WriteHeader(404)
			return
		}
		delete(a.tenants, id)
		w.WriteHeader(204)
	case r.URL.Path == "/t":
		var out []map[string]string
		for id, n := range a.tenants {
			out = append(out, map[string]string{"id": id, "name": n})
		}
		json.NewEncoder(w).Encode(out)
	default:
		id := strings.TrimPrefix(r.URL.Path, "/t/")
		n, ok := a.tenants[id]
		if !ok {
			w.WriteHeader(404)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"id": id, "name": n})
	}
}

func fakeProvisioner(t *testing.T, a *fakeApp) *HTTP {
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	client, err := httpstep.NewClient(httpstep.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &HTTP{Client: client,
		CreateReq: func(name string) (httpstep.Step, error) {
			return httpstep.Step{Method: "POST", URL: srv.URL + "/t", JSON: map[string]any{"name": name},
				Extract: map[string]httpstep.Extraction{"id": {JSON: "$.id"}}}, nil
		},
		DeleteReq: func(tn Tenant) (httpstep.Step, error) {
			return httpstep.Step{Method: "DELETE", URL: srv.URL + "/t/" + tn.ID}, nil
		},
		ListReq: func() (httpstep.Step, error) { return httpstep.Step{URL: srv.URL + "/t"}, nil },
		Items:   "$[*]", NameAt: "$.name", IDAt: "$.id",
		GetReq: func(tn Tenant) (httpstep.Step, error) { return httpstep.Step{URL: srv.URL + "/t/" + tn.ID}, nil },
	}
}

// A create answered with a 5xx, a 408 or a 429 may have made the tenant:
// it stays in the ledger and the run finds it by name and deletes it.
// Only a 4xx refusal proves nothing was made.
func TestHTTPCreateStatusInDoubt(t *testing.T) {
	for _, tc := range []struct {
		status int
		doubt  bool
	}{
		{500, true}, {502, true}, {503, true}, {504, true}, {408, true}, {429, true},
		{400, false}, {401, false}, {403, false}, {409, false}, {422, false},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			app := &fakeApp{tenants: map[string]string{}, status: tc.status}
			m := manager(t, fakeProvisioner(t, app))
			sess, err := m.Create(context.Background())
			if err == nil {
				t.Fatal("create succeeded")
			}
			if (sess != nil) != tc.doubt {
				t.Fatalf("in doubt = %v, want %v (err %v)", sess != nil, tc.doubt, err)
			}
			if !tc.doubt {
				if left := leftovers(t, m.Ledger); len(left) != 0 {
					t.Errorf("a refused create stays in the ledger: %v", left)
				}
				return
			}
			if len(app.tenants) != 1 {
				t.Fatalf("the app has %v", app.tenants)
			}
			if err := sess.Delete(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(app.tenants) != 0 {
				t.Errorf("leaked: %v", app.tenants)
			}
			if left := leftovers(t, m.Ledger); len(left) != 0 {
				t.Errorf("ledger: %v", left)
			}
		})
	}
}

// The http get request: a 404 is gone, another name is not ours.
func TestHTTPGet(t *testing.T) {
	app := &fakeApp{tenants: map[string]string{"7": "customer-acme", "8": "sc-ours"}, status: 201}
	p := fakeProvisioner(t, app)
	ctx := context.Background()
	if f, err := p.Get(ctx, Tenant{ID: "7"}); err != nil || f.Name != "customer-acme" {
		t.Errorf("get 7 = %+v, %v", f, err)
	}
	if _, err := p.Get(ctx, Tenant{ID: "9"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("get 9: err = %v, want ErrNotFound", err)
	}
	p.ListReq = nil
	m := manager(t, p)
	plant(t, m, m.Scope, "sc-forged", "7")
	plant(t, m, m.Scope, "sc-ours", "8")
	rep, err := m.Sweep(ctx, SweepOptions{})
	if err != nil || len(rep.Deleted) != 1 || len(rep.Refused) != 1 || app.tenants["7"] != "customer-acme" || app.tenants["8"] != "" {
		t.Errorf("sweep = %+v, %v; app %v", rep, err, app.tenants)
	}
}

// The reproduced bypass: an entry whose id is a customer's and whose
// fields hold our own tenant's id. The config's requests render
// .Tenant.id from the fields, so the app was asked about ours and the
// customer was deleted. Only the confirmed id and name reach the requests.
func TestSweepUsesOnlyConfirmedFields(t *testing.T) {
	for mode, set := range confirmModes(t) {
		if mode == "none" {
			continue
		}
		t.Run(mode, func(t *testing.T) {
			cmd, _ := commandStore(t)
			m := manager(t, cmd)
			ctx := context.Background()
			customer, _ := cmd.Create(ctx, "customer-acme")
			ours, _ := cmd.Create(ctx, DefaultPrefix+"leftover09")
			set(cmd, m)
			// The requests render from the fields, as the config's templates do.
			del, get := cmd.DeleteCmd, cmd.GetCmd
			cmd.DeleteCmd = func(tn Tenant) (proc.Cmd, error) { tn.ID = tn.Fields["id"]; return del(tn) }
			if get != nil {
				cmd.GetCmd = func(tn Tenant) (proc.Cmd, error) { tn.ID = tn.Fields["id"]; return get(tn) }
			}
			h, err := m.Ledger.Record(context.Background(), Entry{Run: "forged", Scope: m.Scope, Started: time.Now().Add(-time.Hour), Name: DefaultPrefix + "leftover09"})
			if err != nil {
				t.Fatal(err)
			}
			h.Update(context.Background(), customer.ID, map[string]string{"id": ours.ID, "name": DefaultPrefix + "leftover09"})
			h.Release()
			if _, err := m.Sweep(ctx, SweepOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := storeNamesOf(t, cmd); !slices.Contains(got, "customer-acme") {
				t.Fatalf("the customer was deleted: the app has %v", got)
			}
			if err := m.DeleteByID(ctx, customer.ID); err == nil {
				t.Error("tenant delete of the customer's id succeeded")
			}
			if got := storeNamesOf(t, cmd); !slices.Contains(got, "customer-acme") {
				t.Fatalf("tenant delete deleted the customer: the app has %v", got)
			}
		})
	}
}

// A delete request that needs a field the app does not confirm (an org
// id) sweeps nothing: a forged value would point it at someone else.
func TestSweepRefusesUnconfirmedDeleteFields(t *testing.T) {
	cmd, _ := commandStore(t)
	m := manager(t, cmd)
	ctx := context.Background()
	ours, _ := cmd.Create(ctx, DefaultPrefix+"ours")
	m.DeleteNeeds = [][]string{{"id", "org"}}
	plant(t, m, m.Scope, DefaultPrefix+"ours", ours.ID)
	rep, err := m.Sweep(ctx, SweepOptions{})
	if err != nil || len(rep.Deleted) != 0 || len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0], "uses .Tenant.org, which only the ledger vouches for") {
		t.Fatalf("sweep = %+v, %v", rep, err)
	}
	if err := m.DeleteByID(ctx, ours.ID); err == nil || !strings.Contains(err.Error(), ".Tenant.org") {
		t.Errorf("tenant delete: %v", err)
	}
	if got := storeNames(t, cmd); !slices.Contains(got, DefaultPrefix+"ours") {
		t.Errorf("deleted: %v", got)
	}
}

// A field that holds a secret of the run (an environment secret in a
// webhook URL, in base64) stays out of the ledger.
func TestLedgerKeepsNoRunSecret(t *testing.T) {
	cmd, _ := commandStore(t)
	m := manager(t, cmd)
	m.Secret = func(v string) bool { return strings.Contains(v, "pw-") } // the script's passwords stand in for a run secret
	create := cmd.CreateCmd
	cmd.CreateCmd = func(name string) (proc.Cmd, error) {
		c, _ := create(name)
		c.Argv = append([]string{"sh", "-c", `"$@" | sed 's/"admin": true/"webhook": "https:\/\/x\/?k=pw-123"/'`, "sh"}, c.Argv...)
		return c, nil
	}
	s, err := m.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Delete(context.Background())
	if rec := string(entryFile(t, m.Ledger)); strings.Contains(rec, "webhook") || strings.Contains(rec, "pw-") {
		t.Errorf("the ledger keeps a run secret:\n%s", rec)
	}
}

// A customer who happens to be called sc-freiburg is not ours: the name
// must have the whole shape of the names this config makes.
func TestNameShape(t *testing.T) {
	cmd, store := commandStore(t)
	m := manager(t, cmd)
	m.Shape = regexp.MustCompile(`^sc-[a-z0-9]{10}$`)
	ctx := context.Background()
	for _, n := range []string{"sc-freiburg", "sc-2024q1abcd"} {
		tn, _ := cmd.Create(ctx, n)
		os.WriteFile(filepath.Join(store, tn.ID), []byte(n+" 2020-01-01T00:00:00Z\n"), 0o600)
	}
	fr, _ := cmd.Create(ctx, "sc-freiburg2")
	plant(t, m, m.Scope, "sc-freiburg2", fr.ID)
	rep, err := m.Sweep(ctx, SweepOptions{OlderThan: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got := storeNames(t, cmd)
	if !slices.Contains(got, "sc-freiburg") || !slices.Contains(got, "sc-freiburg2") || slices.Contains(got, "sc-2024q1abcd") {
		t.Errorf("the app has %v: want the sc-freiburg customers kept, the stray of our shape deleted (%+v)", got, rep)
	}
}

// A list request that fails is asked once per sweep, not once per leftover.
func TestSweepAsksAFailingListOnce(t *testing.T) {
	cmd, store := commandStore(t)
	m := manager(t, cmd)
	counter := filepath.Join(store, "refuse-lists")
	cmd.ListCmd = func() (proc.Cmd, error) {
		return proc.Cmd{Argv: []string{"sh", "-c", `echo x >> "$0"; echo "list broken" >&2; exit 3`, counter}}, nil
	}
	for i := range 3 {
		plant(t, m, m.Scope, fmt.Sprintf("%sleftov%04d", DefaultPrefix, i), fmt.Sprint(1000+i))
	}
	rep, err := m.Sweep(context.Background(), SweepOptions{})
	b, _ := os.ReadFile(counter)
	if err != nil || len(rep.Failed) != 3 || strings.Count(string(b), "x") != 1 {
		t.Errorf("sweep %+v, %v; the list was asked %d times, want once", rep, err, strings.Count(string(b), "x"))
	}
}
