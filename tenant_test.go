package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/apptest"
	"github.com/suitecheck/suitecheck/internal/pgtest"
)

// tenantSetup is a sample app that really stores tenants, a config whose
// tenants it provisions, and a state dir of the test's own.
type tenantSetup struct {
	app      apptest.App
	cfg      string
	stateDir string
	env      []string
	// ledgerDB, when set, is the PostgreSQL ledger's database: every run
	// gets --ledger-dsn, and ledger() lists its rows.
	ledgerDB *pgtest.App
}

// ledgerKinds are the two ledgers the binary's tenant tests run with.
var ledgerKinds = []struct {
	name  string
	setup func(t *testing.T, s tenantSetup) tenantSetup
}{
	{"file", func(t *testing.T, s tenantSetup) tenantSetup { return s }},
	{"postgres", withPGLedger},
}

// withPGLedger keeps s's ledger in a PostgreSQL database of its own.
func withPGLedger(t *testing.T, s tenantSetup) tenantSetup {
	t.Helper()
	db := pgtest.NewApp(t, "ledger", "GRANT CREATE ON SCHEMA public TO %[1]s")
	s.ledgerDB = &db
	return s
}

// node is s as another monitoring node sees it: a state dir of its own,
// the same config and ledger.
func (s tenantSetup) node(t *testing.T) tenantSetup {
	s.stateDir = t.TempDir()
	return s
}

// ledgerFlags are the flags that choose s's ledger.
func (s tenantSetup) ledgerFlags() []string {
	f := []string{"--state-dir", s.stateDir}
	if s.ledgerDB != nil {
		f = append(f, "--ledger-dsn", s.ledgerDB.DSN())
	}
	return f
}

// newTenantSetup writes the config. Its suites: "ok" signs the tenant in
// over the API; "hang" opens the login page in the browser and waits for
// what never comes. base, when set, is where the provisioner sends its
// requests instead of the app (a proxy that can fail them).
func newTenantSetup(t *testing.T, base func(app apptest.App) string) tenantSetup {
	t.Helper()
	app := apptest.Start(t)
	admin := app.URL
	if base != nil {
		admin = base(app)
	}
	y := fmt.Sprintf("environments:\n  staging: {base_url: %s}\n%s", app.URL, apptest.ProvisionerYAML(admin, "SC_TEST_ADMIN")) + apptest.SuitesYAML
	cfg := filepath.Join(t.TempDir(), "suitecheck.yaml")
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return tenantSetup{app: app, cfg: cfg, stateDir: t.TempDir(), env: []string{"SC_TEST_ADMIN=" + app.Admin}}
}

func (s tenantSetup) args(suite string, more ...string) []string {
	return append(append([]string{"run", suite, "--config", s.cfg}, s.ledgerFlags()...), more...)
}

// ledger lists the files in the ledger directory, or the PostgreSQL
// ledger's rows (as "RUN NAME").
func (s tenantSetup) ledger(t *testing.T) []string {
	t.Helper()
	if s.ledgerDB != nil {
		return ledgerRows(t, *s.ledgerDB)
	}
	des, err := os.ReadDir(filepath.Join(s.stateDir, "tenants"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func (s tenantSetup) assertClean(t *testing.T) {
	t.Helper()
	if ts := s.app.Tenants(t); len(ts) != 0 {
		t.Errorf("tenants left in the app: %v", ts)
	}
	if l := s.ledger(t); len(l) != 0 {
		t.Errorf("ledger not empty: %v", l)
	}
}

// startHang starts the hanging suite and returns once its tenant exists
// and its browser is up.
func (s tenantSetup) startHang(t *testing.T, mark string, more ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, s.args("hang", append([]string{"--artifacts", t.TempDir()}, more...)...)...)
	cmd.Env = append(os.Environ(), append(s.env, mark)...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(s.app.Tenants(t)) == 0 || len(markedProcesses(mark)) < 2 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no tenant and browser after 30s:\n%s", stdout.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	return cmd, &stdout
}

// kill -9 while a step hangs: the tenant is left, no Chromium is; the next
// run sweeps the tenant first.
// With the PostgreSQL ledger, the next run is another node's (a state dir
// of its own): the killed node's connection, and its lock, went with it.
func TestBinaryTenantKilled(t *testing.T) {
	for _, k := range ledgerKinds {
		t.Run(k.name, func(t *testing.T) {
			s := k.setup(t, newTenantSetup(t, nil))
			mark := fmt.Sprintf("SUITECHECK_TEST_MARK=tenant-kill-%s-%d", k.name, os.Getpid())
			cmd, _ := s.startHang(t, mark)
			left := s.app.Tenants(t)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			waitNoMarked(t, mark)
			if len(left) != 1 || len(s.ledger(t)) == 0 {
				t.Fatalf("after kill -9: tenants %v, ledger %v; want the leftover in both", left, s.ledger(t))
			}
			next := s
			if s.ledgerDB != nil {
				next = s.node(t)
			}
			stdout, _, code := runBinary(t, s.env, next.args("ok")...)
			if code != 0 || !strings.Contains(stdout, " swept=1;") || !strings.Contains(stdout, "swept 1 leftover tenant(s) of killed runs: "+left[0].Name) {
				t.Errorf("next run: exit %d\n%s", code, stdout)
			}
			s.assertClean(t)
		})
	}
}

// SIGTERM (and SIGINT, SIGHUP) mid-run: the tenant is deleted before exit
// and a result is printed: UNKNOWN, interrupted.
func TestBinaryTenantSignals(t *testing.T) {
	s := newTenantSetup(t, nil)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			mark := fmt.Sprintf("SUITECHECK_TEST_MARK=tenant-%d-%d", os.Getpid(), sig)
			cmd, stdout := s.startHang(t, mark)
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Errorf("exit %v, want 3 (UNKNOWN)", err)
			}
			out := stdout.String()
			if !strings.HasPrefix(out, "SUITECHECK UNKNOWN - hang on staging: interrupted (received "+sig.String()+")") ||
				!regexp.MustCompile(`tenant sc-\w+ created \(id [-0-9a-f]+\) in [0-9.]+s, deleted in`).MatchString(out) {
				t.Errorf("stdout:\n%s", out)
			}
			s.assertClean(t)
			waitNoMarked(t, mark)
		})
	}
}

// The budget runs out in a hanging step: teardown still runs and the
// result comes within the budget and a second.
func TestBinaryTenantBudget(t *testing.T) {
	s := newTenantSetup(t, nil)
	mark := fmt.Sprintf("SUITECHECK_TEST_MARK=tenant-budget-%d", os.Getpid())
	start := time.Now()
	stdout, _, code := runBinary(t, append(s.env, mark), s.args("hang", "-t", "6", "--artifacts", t.TempDir())...)
	took := time.Since(start)
	if code != 2 || !strings.HasPrefix(stdout, "SUITECHECK CRITICAL - hang on staging: timed out after 6s") || !strings.Contains(stdout, ", deleted in ") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	if took > 7*time.Second {
		t.Errorf("result after %s, want within the 6s budget + 1s", took)
	}
	s.assertClean(t)
	waitNoMarked(t, mark)
}

// A failing delete endpoint: WARNING with the tenant's id, kept in the
// ledger; once the endpoint is healthy, the next run sweeps it.
func TestBinaryTenantDeleteFails(t *testing.T) {
	var failDeletes atomic.Bool
	s := newTenantSetup(t, func(app apptest.App) string {
		target, _ := url.Parse(app.URL)
		proxy := httputil.NewSingleHostReverseProxy(target)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete && failDeletes.Load() {
				// A careless app echoes the credentials it was given.
				http.Error(w, "storage backend unavailable for "+r.Header.Get("Authorization"), http.StatusServiceUnavailable)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	})
	failDeletes.Store(true)
	stdout, _, code := runBinary(t, s.env, s.args("ok")...)
	ts := s.app.Tenants(t)
	if code != 1 || len(ts) != 1 || !strings.Contains(strings.SplitN(stdout, "\n", 2)[0], fmt.Sprintf("tenant %s (id %s) NOT deleted: DELETE /api/tenants/%s: status 503", ts[0].Name, ts[0].ID, ts[0].ID)) {
		t.Fatalf("exit %d, tenants %v:\n%s", code, ts, stdout)
	}
	if l := strings.Join(s.ledger(t), " "); !strings.Contains(l, ".json") {
		t.Errorf("ledger = %v, want the entry kept", l)
	}
	if strings.Contains(stdout, s.app.Admin) {
		t.Errorf("the admin token is in the output:\n%s", stdout)
	}
	// By hand, too: masked.
	out, _, code := runBinary(t, s.env, "tenant", "delete", ts[0].ID, "--config", s.cfg, "--state-dir", s.stateDir)
	if code != 3 || !strings.Contains(out, "status 503") || strings.Contains(out, s.app.Admin) {
		t.Errorf("tenant delete: exit %d\n%s", code, out)
	}
	failDeletes.Store(false)
	stdout, _, code = runBinary(t, s.env, s.args("ok")...)
	if code != 0 || !strings.Contains(stdout, " swept=1;") {
		t.Errorf("next run: exit %d\n%s", code, stdout)
	}
	s.assertClean(t)
}

// 20 runs at once: 20 distinct tenants, all deleted, the ledger empty.
// With the PostgreSQL ledger, as many nodes: each its own state dir.
func TestBinaryTenantConcurrentRuns(t *testing.T) {
	for _, k := range ledgerKinds {
		t.Run(k.name, func(t *testing.T) { concurrentRuns(t, k.setup(t, newTenantSetup(t, nil))) })
	}
}

func concurrentRuns(t *testing.T, s tenantSetup) {
	const n = 20
	var wg sync.WaitGroup
	outs := make([]string, n)
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := s
			if s.ledgerDB != nil {
				node = s.node(t)
			}
			cmd := exec.Command(binary, node.args("ok")...)
			cmd.Env = append(os.Environ(), s.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			outs[i] = string(out) + stderr.String()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				codes[i] = ee.ExitCode()
			}
		}()
	}
	wg.Wait()
	names := map[string]bool{}
	re := regexp.MustCompile(`tenant (sc-\w+) created`)
	for i := range n {
		m := re.FindStringSubmatch(outs[i])
		if codes[i] != 0 || m == nil {
			t.Errorf("run %d: exit %d\n%s", i, codes[i], outs[i])
			continue
		}
		names[m[1]] = true
	}
	if len(names) != n {
		t.Errorf("%d distinct tenants, want %d", len(names), n)
	}
	s.assertClean(t)
}

// A garbage ledger file: a clear warning, moved aside, and the rest of the
// ledger still swept.
func TestBinaryTenantCorruptLedger(t *testing.T) {
	s := newTenantSetup(t, nil)
	dir := filepath.Join(s.stateDir, "tenants")
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, "garbage.json"), []byte(`{"run": "garbage", "name": "sc-tru`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A dead run's entry for a tenant that exists.
	id := s.app.Create(t, "sc-leftover01")
	host, _ := os.Hostname()
	cfg, _ := filepath.Abs(s.cfg)
	e, _ := json.Marshal(map[string]any{"run": "deadrun", "scope": cfg + "#staging", "pid": 1, "host": host,
		"started": time.Now().Add(-time.Minute), "name": "sc-leftover01", "id": id})
	os.WriteFile(filepath.Join(dir, "deadrun.json"), e, 0o600)

	stdout, _, code := runBinary(t, s.env, s.args("ok")...)
	first := strings.SplitN(stdout, "\n", 2)[0]
	if code != 1 || !strings.Contains(first, "ledger file "+filepath.Join(dir, "garbage.json.corrupt")+" is unreadable") || !strings.Contains(first, " swept=1;") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	if ts := s.app.Tenants(t); len(ts) != 0 {
		t.Errorf("tenants left: %v", ts)
	}
	if l := s.ledger(t); len(l) != 1 || l[0] != "garbage.json.corrupt" {
		t.Errorf("ledger = %v, want only the moved-aside file", l)
	}
	// Reported once.
	if stdout, _, code := runBinary(t, s.env, s.args("ok")...); code != 0 {
		t.Errorf("second run: exit %d\n%s", code, stdout)
	}
}

// The tenant commands by hand: create, list, delete, sweep --older-than.
func TestBinaryTenantCommands(t *testing.T) {
	for _, k := range ledgerKinds {
		t.Run(k.name, func(t *testing.T) { tenantCommands(t, k.setup(t, newTenantSetup(t, nil))) })
	}
}

func tenantCommands(t *testing.T, s tenantSetup) {
	base := append([]string{"--config", s.cfg}, s.ledgerFlags()...)
	stdout, stderr, code := runBinary(t, s.env, append([]string{"tenant", "create"}, base...)...)
	var fields map[string]string
	if err := json.Unmarshal([]byte(stdout), &fields); code != 0 || err != nil || fields["id"] == "" || fields["password"] == "" {
		t.Fatalf("tenant create: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if l := s.ledger(t); len(l) != 0 {
		t.Errorf("a tenant created by hand is in the ledger (a sweep would take it): %v", l)
	}
	stdout, _, code = runBinary(t, s.env, append([]string{"tenant", "list"}, base...)...)
	if code != 0 || !strings.Contains(stdout, fields["name"]) || !strings.Contains(stdout, fields["id"]) {
		t.Errorf("tenant list: exit %d\n%s", code, stdout)
	}
	if s.ledgerDB != nil && !strings.HasPrefix(stdout, "ledger postgres://"+s.ledgerDB.User+"@") {
		t.Errorf("tenant list does not name the PostgreSQL ledger:\n%s", stdout)
	}
	// A young stray is kept by sweep --older-than 1h; an old enough one goes.
	stdout, _, code = runBinary(t, s.env, append([]string{"tenant", "sweep", "--older-than", "1h"}, base...)...)
	if code != 0 || !strings.HasPrefix(stdout, "SUITECHECK OK - tenant sweep: 0 tenant(s) deleted") || len(s.app.Tenants(t)) != 1 {
		t.Errorf("sweep --older-than 1h: exit %d\n%s", code, stdout)
	}
	stdout, _, code = runBinary(t, s.env, append([]string{"tenant", "sweep", "--older-than", "1ns"}, base...)...)
	if code != 0 || !strings.Contains(stdout, "1 tenant(s) deleted: "+fields["name"]) {
		t.Errorf("sweep --older-than 1ns: exit %d\n%s", code, stdout)
	}
	s.assertClean(t)
	id := s.app.Create(t, "sc-byhand0001")
	stdout, _, code = runBinary(t, s.env, append([]string{"tenant", "delete", id}, base...)...)
	if code != 0 || stdout != "deleted tenant "+id+"\n" {
		t.Errorf("tenant delete: exit %d\n%s", code, stdout)
	}
	s.assertClean(t)
	stdout, _, code = runBinary(t, nil, append([]string{"tenant", "create"}, base...)...)
	if code != 3 || !strings.Contains(stdout, "SC_TEST_ADMIN is not set") {
		t.Errorf("without the admin token: exit %d\n%s", code, stdout)
	}
}
