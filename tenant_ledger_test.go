package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	_ "github.com/lib/pq"

	"github.com/suitecheck/suitecheck/internal/pgtest"
)

// ledgerRows lists the PostgreSQL ledger's rows as "RUN NAME".
func ledgerRows(t *testing.T, db pgtest.App) []string {
	t.Helper()
	conn, err := sql.Open("postgres", db.Cluster.SuperDSN(db.DB))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var exists bool
	if err := conn.QueryRow(`SELECT to_regclass('suitecheck_ledger') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return nil // no run made the table yet
	}
	rows, err := conn.Query(`SELECT run || ' ' || name FROM suitecheck_ledger ORDER BY run`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// A node frozen mid-run (SIGSTOP) keeps its connection to the shared
// ledger, and its lock: another node's run does not sweep its tenant.
// After SIGCONT the frozen run finishes and deletes its tenant itself.
func TestBinaryLedgerFrozenNode(t *testing.T) {
	s := withPGLedger(t, newTenantSetup(t, nil))
	mark := fmt.Sprintf("SUITECHECK_TEST_MARK=ledger-frozen-%d", os.Getpid())
	frozen, stdout := s.startHang(t, mark, "-t", "10")
	ts := s.app.Tenants(t)
	if err := frozen.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	other := s.node(t)
	out, _, code := runBinary(t, s.env, other.args("ok")...)
	frozen.Process.Signal(syscall.SIGCONT)
	if code != 0 || !strings.Contains(out, " swept=0;") {
		t.Errorf("the other node's run: exit %d, want OK and nothing swept:\n%s", code, out)
	}
	if now := s.app.Tenants(t); len(ts) != 1 || len(now) != 1 || now[0].ID != ts[0].ID {
		t.Fatalf("tenants before %v, after the other node's run %v: want the frozen run's kept", ts, now)
	}
	err := frozen.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stdout.String(), "tenant "+ts[0].Name+" created") ||
		!strings.Contains(stdout.String(), ", deleted in ") {
		t.Errorf("the frozen run, once thawed: %v\n%s", err, stdout)
	}
	s.assertClean(t)
	waitNoMarked(t, mark)
}

// The ledger's server unreachable: UNKNOWN in one line naming the
// ledger, and no tenant made.
func TestBinaryLedgerDown(t *testing.T) {
	s := newTenantSetup(t, nil)
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=monitor dbname=ledger sslmode=disable", pgtest.ClosedPort(t))
	stdout, _, code := runBinary(t, s.env, s.args("ok", "--ledger-dsn", dsn)...)
	first, _, _ := strings.Cut(stdout, "\n")
	want := "SUITECHECK UNKNOWN - tenant not created: ledger unavailable: postgres://monitor@127.0.0.1:"
	if code != 3 || !strings.HasPrefix(first, want) || !strings.Contains(first, "cannot connect") {
		t.Errorf("exit %d, want UNKNOWN starting %q:\n%s", code, want, stdout)
	}
	if ts := s.app.Tenants(t); len(ts) != 0 {
		t.Errorf("tenants made without a ledger to record them: %v", ts)
	}
	// By hand, too.
	out, _, code := runBinary(t, s.env, "tenant", "sweep", "--config", s.cfg, "--ledger-dsn", dsn)
	if code == 0 || !strings.Contains(out, "ledger unavailable: postgres://monitor@") {
		t.Errorf("tenant sweep: exit %d\n%s", code, out)
	}
}

// Where the ledger DSN comes from: --ledger-dsn, else
// $SUITECHECK_LEDGER_DSN, else the config's tenant.ledger.dsn; the
// password from --ledger-password-file stays off the command line.
func TestBinaryLedgerDSNPrecedence(t *testing.T) {
	s := withPGLedger(t, newTenantSetup(t, nil))
	down := fmt.Sprintf("host=127.0.0.1 port=%d user=down dbname=ledger sslmode=disable", pgtest.ClosedPort(t))
	db := s.ledgerDB
	noPW := db.Cluster.DSN(db.User, "", db.DB)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(db.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(s.cfg)
	withConfigDSN := func(dsn string) string {
		p := filepath.Join(t.TempDir(), "suitecheck.yaml")
		y := strings.Replace(string(cfg), "tenant:\n", fmt.Sprintf("tenant:\n  ledger: {dsn: %q}\n", dsn), 1)
		if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		cfgDSN   string
		env, arg []string
		used     string // the user of the ledger used; "" for the state dir
	}{
		{"the config", db.DSN(), nil, nil, db.User},
		{"the environment over the config", down, []string{"SUITECHECK_LEDGER_DSN=" + db.DSN()}, nil, db.User},
		{"the flag over the environment", "", []string{"SUITECHECK_LEDGER_DSN=" + down}, []string{"--ledger-dsn", db.DSN()}, db.User},
		{"the flag over the config", down, nil, []string{"--ledger-dsn", db.DSN()}, db.User},
		{"the flag, the password from a file", "", nil, []string{"--ledger-dsn", noPW, "--ledger-password-file", pwFile}, db.User},
		{"none: the state dir", "", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := s.cfg
			if tt.cfgDSN != "" {
				path = withConfigDSN(tt.cfgDSN)
			}
			args := append([]string{"run", "ok", "--config", path, "--state-dir", s.stateDir, "-v"}, tt.arg...)
			cmd := exec.Command(binary, args...)
			cmd.Env = append(append(os.Environ(), s.env...), tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if err != nil || !strings.HasPrefix(stdout.String(), "SUITECHECK OK") {
				t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
			}
			if strings.Contains(stdout.String()+stderr.String(), db.Password) {
				t.Errorf("the ledger's password is in the output")
			}
			// A run on the PostgreSQL ledger makes its tables.
			used := ledgerUsed(t, *db)
			if (tt.used != "") != used {
				t.Errorf("the PostgreSQL ledger used: %v, want %v", used, tt.used != "")
			}
			resetLedger(t, *db)
		})
	}
}

// ledgerUsed reports whether a run made the ledger's tables.
func ledgerUsed(t *testing.T, db pgtest.App) bool {
	t.Helper()
	conn, err := sql.Open("postgres", db.Cluster.SuperDSN(db.DB))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var exists bool
	if err := conn.QueryRow(`SELECT to_regclass('suitecheck_ledger_schema') IS NOT NULL`).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

// resetLedger drops the ledger's tables.
func resetLedger(t *testing.T, db pgtest.App) {
	t.Helper()
	if err := db.Cluster.Exec(context.Background(), db.DB, `DROP TABLE IF EXISTS suitecheck_ledger, suitecheck_ledger_schema`); err != nil {
		t.Fatal(err)
	}
}
