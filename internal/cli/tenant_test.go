package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/checks"
)

var tenantsScript, _ = filepath.Abs("../../tenant/testdata/tenants.sh")

// tenantConfig is a config whose tenants live in a store of files, made
// by the tenant package's test script, with a list request.
func tenantConfig(t *testing.T) (cfg, store, state string) {
	t.Helper()
	dir := t.TempDir()
	store, state = filepath.Join(dir, "store"), filepath.Join(dir, "state")
	os.Mkdir(store, 0o700)
	cfg = filepath.Join(dir, "c.yaml")
	y := fmt.Sprintf(`environments:
  e: {base_url: https://app.example}
tenant:
  command:
    create: [%[1]s, create, "{{.Tenant.name}}"]
    delete: [%[1]s, delete, "{{.Tenant.id}}"]
    list: [%[1]s, list]
    env: {STORE: %[2]s}
suites:
  s:
    cases:
      - name: a
        steps: [{sql: {dsn: x, query: SELECT 1}}]
`, tenantsScript, store)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, store, state
}

// runTenant runs `suitecheck tenant ARGS` on the config.
func runTenant(t *testing.T, cfg, state string, args ...string) (Outcome, string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"tenant"}, args...)
	full = append(full, "--config", cfg, "--state-dir", state)
	out, err := Execute(context.Background(), full, Build{}, &stdout, &stderr)
	return out, stdout.String(), stderr.String(), err
}

// The tenant commands by hand: create prints the tenant (the caller's to
// delete), list joins the ledger with the app's list, delete refuses what
// is not ours, sweep is a check with its perfdata.
func TestTenantCommands(t *testing.T) {
	cfg, store, state := tenantConfig(t)
	_, stdout, stderr, err := runTenant(t, cfg, state, "create")
	var fields map[string]string
	if err != nil || json.Unmarshal([]byte(stdout), &fields) != nil || !strings.HasPrefix(fields["name"], "sc-") || fields["password"] == "" {
		t.Fatalf("create: %v\nstdout %q", err, stdout)
	}
	if !strings.Contains(stderr, "delete it with: suitecheck tenant delete "+fields["id"]) {
		t.Errorf("create: stderr %q", stderr)
	}
	// A customer the app has, not ours.
	os.WriteFile(filepath.Join(store, "777"), []byte("customer-acme 2026-01-01T00:00:00Z\n"), 0o600)

	_, stdout, _, err = runTenant(t, cfg, state, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ledger " + filepath.Join(state, "tenants"), "NAME  ID", "the app's tenants of our names' shape (prefix sc-)",
		fields["name"] + "  " + fields["id"]} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "customer-acme") || strings.Contains(stdout, fields["password"]) {
		t.Errorf("list shows a tenant without the prefix, or a password:\n%s", stdout)
	}

	_, _, _, err = runTenant(t, cfg, state, "delete", "777")
	if err == nil || !strings.Contains(err.Error(), `"customer-acme", which lacks the prefix "sc-"`) {
		t.Errorf("delete of a customer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(store, "777")); err != nil {
		t.Fatalf("the customer is gone: %v", err)
	}
	if _, _, _, err = runTenant(t, cfg, state, "delete", fields["id"]); err != nil {
		t.Errorf("delete of our tenant: %v", err)
	}

	out, _, _, err := runTenant(t, cfg, state, "sweep")
	if err != nil || out.Result == nil || out.Result.State != checks.OK || !strings.HasPrefix(out.Result.Summary, "tenant sweep: 0 tenant(s) deleted") {
		t.Fatalf("sweep: %+v, %v", out.Result, err)
	}
	var labels []string
	for _, p := range out.Result.Perfdata {
		labels = append(labels, p.Label)
	}
	if strings.Join(labels, " ") != "time swept failed" {
		t.Errorf("sweep perfdata %v", labels)
	}
}

// tenant sweep is a check: -w/-c judge its time, as any check's.
func TestTenantSweepThresholds(t *testing.T) {
	cfg, _, state := tenantConfig(t)
	var stdout, stderr bytes.Buffer
	out, err := Execute(context.Background(), []string{"-c", "@0:1000", "tenant", "sweep", "--config", cfg, "--state-dir", state}, Build{}, &stdout, &stderr)
	if err != nil || out.Result == nil || out.Result.State != checks.Critical || !strings.Contains(out.Result.Perfdata[0].String(), ";@0:1000;") {
		t.Fatalf("sweep with -c @0:1000: %+v, %v", out.Result, err)
	}
}
