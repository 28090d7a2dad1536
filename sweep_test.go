package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/apptest"
)

// plantEntry writes a dead run's ledger entry into the state dir, as
// anyone who can write there (or a restored backup) could.
func (s tenantSetup) plantEntry(t *testing.T, name, id string) string {
	t.Helper()
	dir := filepath.Join(s.stateDir, "tenants")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(s.cfg)
	host, _ := os.Hostname()
	run := "planted" + strconv.Itoa(len(name)) + strings.ToLower(name[len(name)-3:])
	b, _ := json.Marshal(map[string]any{"run": run, "scope": abs + "#staging", "pid": 1, "host": host,
		"started": time.Now().Add(-time.Hour).UTC(), "name": name, "id": id, "fields": map[string]string{"id": id, "name": name}})
	file := filepath.Join(dir, run+".json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// The reproduced attack: a ledger entry names a customer's id under an
// sc- name. The app's list says that id is customer-acme: the run leaves
// the customer alone and says WARNING, naming the entry; our own leftover
// beside it is swept.
func TestBinarySweepNeverDeletesACustomer(t *testing.T) {
	s := newTenantSetup(t, nil)
	customer := s.app.Create(t, "customer-acme")
	ours := s.app.Create(t, "sc-leftover01")
	s.plantEntry(t, "sc-forged0001", customer)
	s.plantEntry(t, "sc-leftover01", ours)
	stdout, _, code := runBinary(t, s.env, s.args("ok")...)
	first, _, _ := strings.Cut(stdout, "\n")
	ts := s.app.Tenants(t)
	if len(ts) != 1 || ts[0].Name != "customer-acme" {
		t.Fatalf("the app has %v, want the customer only\n%s", ts, stdout)
	}
	if code != 1 || !strings.Contains(first, "sc-forged0001 (id "+customer+"): not provably ours") ||
		!strings.Contains(first, `"customer-acme"`) || !strings.Contains(first, " swept=1;") {
		t.Errorf("exit %d, want WARNING naming the forged entry and one swept:\n%s", code, stdout)
	}
}

// A create that the app committed and then answered 500: the run finds
// the tenant by name and deletes it; nothing leaks (4 of 4 did).
func TestBinaryCreate500DoesNotLeak(t *testing.T) {
	s := newTenantSetup(t, func(app apptest.App) string {
		target, _ := url.Parse(app.URL)
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.ModifyResponse = func(r *http.Response) error {
			if r.Request.Method == http.MethodPost {
				r.StatusCode = http.StatusInternalServerError
			}
			return nil
		}
		srv := httptest.NewServer(proxy)
		t.Cleanup(srv.Close)
		return srv.URL
	})
	for range 2 {
		stdout, _, code := runBinary(t, s.env, s.args("ok")...)
		if code != 2 || !strings.Contains(stdout, "the app failed to create tenant") || !strings.Contains(stdout, "the app listed it") {
			t.Errorf("exit %d, want CRITICAL and the tenant found by name:\n%s", code, stdout)
		}
	}
	s.assertClean(t)
}

// A list request that hangs: the sweep stops at its slice of the budget,
// perfdata says where the time went (sweep=, not tenant_create=), and the
// suite still runs and passes; the leftover waits for the next run.
func TestBinarySweepHangingList(t *testing.T) {
	hang := make(chan struct{})
	s := newTenantSetup(t, func(app apptest.App) string {
		target, _ := url.Parse(app.URL)
		proxy := httputil.NewSingleHostReverseProxy(target)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/api/tenants" {
				select {
				case <-r.Context().Done():
				case <-hang:
				}
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(func() { close(hang); srv.Close() })
		return srv.URL
	})
	left := s.app.Create(t, "sc-leftover02")
	s.plantEntry(t, "sc-leftover02", left)
	stdout, _, code := runBinary(t, s.env, s.args("ok", "-t", "20")...)
	first, _, _ := strings.Cut(stdout, "\n")
	perf := func(label string) float64 {
		m := regexp.MustCompile(` ` + label + `=([0-9.]+)s;`).FindStringSubmatch(first)
		if m == nil {
			t.Fatalf("no %s= in %s", label, first)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	sweep, create := perf("sweep"), perf("tenant_create")
	if code != 1 || !strings.Contains(first, "1 of 1 cases passed") || !strings.Contains(first, "could not confirm it is ours: list tenants") {
		t.Errorf("exit %d, want WARNING with the case passed and the sweep's failure named:\n%s", code, stdout)
	}
	// The sweep's slice is a quarter of what is left of 20s at most.
	if sweep > 5.5 || create > sweep {
		t.Errorf("sweep=%.3fs tenant_create=%.3fs: want the sweep bounded by its slice and the time on it:\n%s", sweep, create, first)
	}
	if ts := s.app.Tenants(t); len(ts) != 1 || ts[0].ID != left {
		t.Errorf("the app has %v, want the leftover kept for the next run", ts)
	}
	if l := s.ledger(t); len(l) == 0 {
		t.Error("the leftover's entry was forgotten")
	}
}
