package tenant

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/pgtest"
)

// The Manager's tests, again on the PostgreSQL ledger: everything the
// file ledger guarantees (recorded before create, no secret kept, the
// confirm-before-delete rule, multi-step progress, bounded sweeps) holds
// for it too. The tests that read the file ledger's files run on it alone.
func TestManagerOnPGLedger(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Lifecycle", TestLifecycle},
		{"CreateRefusedIsNotAConfigError", TestCreateRefusedIsNotAConfigError},
		{"FailedDeleteSweptLater", TestFailedDeleteSweptLater},
		{"Sweep", TestSweep},
		{"CreateInDoubtKeepsEntry", TestCreateInDoubtKeepsEntry},
		{"SweepIDlessEntries", TestSweepIDlessEntries},
		{"DeleteByNameOfIDlessEntry", TestDeleteByNameOfIDlessEntry},
		{"StepsLifecycle", TestStepsLifecycle},
		{"StepsHalfFailedCreate", TestStepsHalfFailedCreate},
		{"StepsDeleteResumes", TestStepsDeleteResumes},
		{"StepsSweepKilledCreate", TestStepsSweepKilledCreate},
		{"StepsForgedFieldNeverReachesARequest", TestStepsForgedFieldNeverReachesARequest},
		{"StepsSweepFieldGone", TestStepsSweepFieldGone},
		{"StepsCommands", TestStepsCommands},
		{"SweepNeverDeletesACustomer", TestSweepNeverDeletesACustomer},
		{"SweepLeavesUnprefixedAndOtherScopes", TestSweepLeavesUnprefixedAndOtherScopes},
		{"SweepForgetsWhatIsGone", TestSweepForgetsWhatIsGone},
		{"SweepDeleteChecksName", TestSweepDeleteChecksName},
		{"DeleteByIDConfirms", TestDeleteByIDConfirms},
		{"StraysNeedThePrefixOnTheList", TestStraysNeedThePrefixOnTheList},
		{"SweepIsBounded", TestSweepIsBounded},
		{"SweepUsesOnlyConfirmedFields", TestSweepUsesOnlyConfirmedFields},
		{"SweepRefusesUnconfirmedDeleteFields", TestSweepRefusesUnconfirmedDeleteFields},
		{"LedgerKeepsNoRunSecret", TestLedgerKeepsNoRunSecret},
		{"LedgerKeepsNoFormOfASecret", TestLedgerKeepsNoFormOfASecret},
	}
	file := managerLedger
	managerLedger = func(t *testing.T) Ledger { return newPGLedger(t, pgLedgerDB(t)) }
	t.Cleanup(func() { managerLedger = file })
	for _, tt := range tests {
		t.Run(tt.name, tt.fn)
	}
}

// The tables are made on first use, once however many runs start at once,
// with their version; a newer version is refused with a clear error.
func TestPGLedgerSchema(t *testing.T) {
	ctx := context.Background()
	db := pgLedgerDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := newPGLedger(t, db)
			h, err := l.Record(ctx, entry(fmt.Sprintf("first%d", i), "sc-first"))
			if err != nil {
				errs <- err
				return
			}
			errs <- h.Forget(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a first run at once with others: %v", err)
		}
	}
	var versions string
	if err := newPGLedger(t, db).db.QueryRow(`SELECT string_agg(version::text, ',') FROM suitecheck_ledger_schema`).Scan(&versions); err != nil || versions != fmt.Sprint(PGSchemaVersion) {
		t.Fatalf("suitecheck_ledger_schema holds %q (%v), want one row of version %d", versions, err, PGSchemaVersion)
	}
	db.Exec(t, `UPDATE suitecheck_ledger_schema SET version = 99`)
	l := newPGLedger(t, db)
	_, err := l.Record(ctx, entry("newer", "sc-newer"))
	want := fmt.Sprintf("ledger schema is newer than this suitecheck knows: %s: suitecheck_ledger_schema says version 99, this suitecheck knows up to %d: upgrade suitecheck on this node", l, PGSchemaVersion)
	if !errors.Is(err, ErrLedgerSchema) || err.Error() != want {
		t.Errorf("Record on a newer schema = %v\nwant %s", err, want)
	}
	if _, _, err := l.Dead(ctx, func(Entry) bool { return true }); !errors.Is(err, ErrLedgerSchema) {
		t.Errorf("Dead on a newer schema = %v, want ErrLedgerSchema", err)
	}
}

// The ledger's sessions ask the server for TCP keepalives of about a
// minute, unless the DSN says otherwise.
func TestPGLedgerKeepalives(t *testing.T) {
	db := pgLedgerDB(t)
	for _, tt := range []struct {
		dsn  string
		want string
	}{
		{db.DSN(), "30,10,3"},
		{db.DSN() + " tcp_keepalives_idle=5", "5,10,3"},
	} {
		l := newPGLedger(t, tt.dsn)
		c, err := l.conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = c.QueryRowContext(context.Background(), `SELECT current_setting('tcp_keepalives_idle') || ',' || current_setting('tcp_keepalives_interval') || ',' || current_setting('tcp_keepalives_count')`).Scan(&got)
		c.Close()
		if err != nil || got != tt.want {
			t.Errorf("%s: keepalives %q (%v), want %q", tt.dsn[strings.LastIndex(tt.dsn, " ")+1:], got, err, tt.want)
		}
	}
}

// A password file keeps the password off the command line, and the
// ledger's name never holds it.
func TestPGLedgerPasswordFile(t *testing.T) {
	db := pgLedgerDB(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(db.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dsn := db.Cluster.DSN(db.User, "wrong", db.DB)
	l, err := OpenPGLedger(PGOptions{DSN: dsn, PasswordFile: pw})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h, err := l.Record(context.Background(), entry("pw", "sc-pw"))
	if err != nil {
		t.Fatalf("Record with the password from the file: %v", err)
	}
	h.Forget(context.Background())
	if strings.Contains(l.String(), db.Password) || !strings.Contains(l.String(), db.User+"@") {
		t.Errorf("name %q: want the user, never the password", l)
	}
	if _, err := OpenPGLedger(PGOptions{DSN: dsn, PasswordFile: filepath.Join(t.TempDir(), "none")}); err == nil || !strings.HasPrefix(err.Error(), "ledger password file: ") {
		t.Errorf("a missing password file: %v", err)
	}
}

// countingProv is an app in memory that counts the deletes of each id.
type countingProv struct {
	mu      sync.Mutex
	next    int
	names   map[string]string // id → name
	deletes map[string]int
	creates atomic.Int32
}

func newCountingProv() *countingProv {
	return &countingProv{names: map[string]string{}, deletes: map[string]int{}}
}

func (p *countingProv) Create(_ context.Context, name string) (Tenant, error) {
	p.creates.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	id := fmt.Sprint(p.next)
	p.names[id] = name
	return Tenant{Name: name, ID: id, Fields: map[string]string{"name": name, "id": id}}, nil
}

func (p *countingProv) Delete(_ context.Context, t Tenant) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deletes[t.ID]++
	delete(p.names, t.ID)
	return nil
}

func (p *countingProv) List(context.Context) ([]Found, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Found
	for id, n := range p.names {
		out = append(out, Found{Name: n, ID: id})
	}
	return out, nil
}

func (p *countingProv) Get(_ context.Context, t Tenant) (Found, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.names[t.ID]
	if !ok {
		return Found{}, ErrNotFound
	}
	return Found{Name: n, ID: t.ID}, nil
}

// Two sweeps at once, each with a ledger handle of its own (two nodes of
// a shared ledger, two processes of one host's): every leftover is
// deleted exactly once.
func TestSweepersDeleteEachOnce(t *testing.T) {
	ctx := context.Background()
	forEachLedger(t, func(t *testing.T, l Ledger, open func() Ledger) {
		p := newCountingProv()
		m := &Manager{Prov: p, Ledger: l, Scope: "cfg#staging", Prefix: DefaultPrefix}
		const n = 12
		for range n {
			s, err := m.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s.held.Release() // its run died
		}
		host, _ := os.Hostname() // the file ledger's two sweepers are on one host
		reps := make([]SweepReport, 2)
		var wg sync.WaitGroup
		for i := range reps {
			node := &Manager{Prov: p, Ledger: open(), Scope: m.Scope, Prefix: DefaultPrefix}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if reps[i], err = node.Sweep(ctx, SweepOptions{Host: host}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if got := len(reps[0].Deleted) + len(reps[1].Deleted); got != n {
			t.Errorf("the sweeps deleted %d and %d, want %d in all", len(reps[0].Deleted), len(reps[1].Deleted), n)
		}
		for id, c := range p.deletes {
			if c != 1 {
				t.Errorf("tenant %s deleted %d times", id, c)
			}
		}
		if len(p.deletes) != n || len(p.names) != 0 {
			t.Errorf("%d tenants deleted, %d left in the app; want %d and none", len(p.deletes), len(p.names), n)
		}
		if left := leftovers(t, l); len(left) != 0 {
			t.Errorf("left in the ledger: %v", left)
		}
	})
}

// A dead run of another host: a shared ledger's sweep takes it by its
// lock; the file ledger's leaves it to a sweep with --older-than.
func TestSweepOtherHostsDeadRun(t *testing.T) {
	ctx := context.Background()
	forEachLedger(t, func(t *testing.T, l Ledger, open func() Ledger) {
		p := newCountingProv()
		m := &Manager{Prov: p, Ledger: l, Scope: "cfg#staging", Prefix: DefaultPrefix}
		s, err := m.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.held.Release()
		host, _ := os.Hostname()
		other := &Manager{Prov: p, Ledger: open(), Scope: m.Scope, Prefix: DefaultPrefix}
		rep, err := other.Sweep(ctx, SweepOptions{Host: host + "-other-node"})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case l.Shared() && (len(rep.Deleted) != 1 || len(p.names) != 0):
			t.Errorf("a shared ledger's sweep on another host: %+v, want the dead run's tenant deleted", rep)
		case !l.Shared() && (len(rep.Deleted) != 0 || rep.Others != 1 || len(p.names) != 1):
			t.Errorf("a file ledger's sweep on another host: %+v, want it left alone", rep)
		}
	})
}

// A run's connection killed (pg_terminate_backend, as when its node
// dies): its lock goes with the session, and its entry is a leftover for
// any node; the run itself learns it lost the entry on its next write.
func TestPGLedgerTerminatedConnection(t *testing.T) {
	ctx := context.Background()
	db := pgLedgerDB(t)
	run, node := newPGLedger(t, db), newPGLedger(t, db)
	h, err := run.Record(ctx, entry("terminated", "sc-terminated"))
	if err != nil {
		t.Fatal(err)
	}
	all := func(Entry) bool { return true }
	if dead, _, _ := node.Dead(ctx, all); len(dead) != 0 {
		t.Fatal("swept a live run's entry")
	}
	key := pgLockKey("terminated")
	db.Exec(t, fmt.Sprintf(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1
		AND classid = %d AND objid = %d`, uint64(key)>>32, uint64(key)&0xffffffff))
	dead := waitDead(t, node, 1)
	if dead[0].Entry.Name != "sc-terminated" {
		t.Fatalf("swept %+v", dead[0].Entry)
	}
	if err := h.Update(ctx, "1", nil); err == nil || !errors.Is(err, ErrLedgerUnavailable) {
		t.Errorf("Update after the run's session was killed = %v, want the ledger unavailable", err)
	}
	h.Release()
	dead[0].Forget(ctx)
	if left := leftovers(t, node); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
}

// waitDead polls until a sweep of l takes n entries: the server notices a
// dead session's end on its own time (a condition, not a sleep).
func waitDead(t *testing.T, l Ledger, n int) []*Held {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dead, _, err := l.Dead(context.Background(), func(Entry) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == n {
			return dead
		}
		for _, h := range dead {
			h.Release()
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s a sweep takes %d entries, want %d", len(dead), n)
		}
		time.Sleep(20 * time.Millisecond) // polling the condition
	}
}

const ledgerHelperEnv = "SUITECHECK_TEST_LEDGER_HELPER"

// ledgerHelper is a node's run in a process of its own (the test binary
// again): it records an entry in the ledger at $SUITECHECK_TEST_LEDGER_HELPER,
// says "recorded", waits for a line on stdin, forgets the entry, says
// "forgot".
func ledgerHelper() int {
	l, err := OpenPGLedger(PGOptions{DSN: os.Getenv(ledgerHelperEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	h, err := l.Record(ctx, entry("child", "sc-child"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("recorded")
	bufio.NewReader(os.Stdin).ReadString('\n')
	if err := h.Forget(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("forgot")
	return 0
}

// startHolder starts a process that holds a run's entry, and returns once
// it is recorded.
func startHolder(t *testing.T, dsn string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), ledgerHelperEnv+"="+dsn)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); line != "recorded\n" {
		t.Fatalf("the holder said %q (%v)", line, err)
	}
	return cmd, stdin, out
}

// A node's process killed with SIGKILL: its connection closes with it,
// and its entry is swept. A node frozen with SIGSTOP keeps its connection
// and its lock: its entry is not swept; after SIGCONT the run goes on and
// forgets its entry itself.
func TestPGLedgerHolderProcess(t *testing.T) {
	ctx := context.Background()
	all := func(Entry) bool { return true }
	t.Run("killed", func(t *testing.T) {
		db := pgLedgerDB(t)
		node := newPGLedger(t, db)
		cmd, _, _ := startHolder(t, db.DSN())
		if dead, _, _ := node.Dead(ctx, all); len(dead) != 0 {
			t.Fatal("swept a live process's entry")
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		dead := waitDead(t, node, 1)
		if err := dead[0].Forget(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("frozen", func(t *testing.T) {
		db := pgLedgerDB(t)
		node := newPGLedger(t, db)
		cmd, stdin, out := startHolder(t, db.DSN())
		if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		// Its connection stays up however long it is frozen: the kernel
		// keeps the socket, and answers keepalives for it.
		for range 3 {
			if dead, _, _ := node.Dead(ctx, all); len(dead) != 0 {
				cmd.Process.Signal(syscall.SIGCONT)
				t.Fatal("swept a frozen process's entry")
			}
		}
		if list, _, _ := node.List(ctx); len(list) != 1 || !list[0].Alive {
			t.Errorf("List while frozen = %+v, want its entry alive", list)
		}
		cmd.Process.Signal(syscall.SIGCONT)
		io.WriteString(stdin, "go on\n")
		if line, err := out.ReadString('\n'); line != "forgot\n" {
			t.Fatalf("after SIGCONT the holder said %q (%v)", line, err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("the holder: %v", err)
		}
		if left := leftovers(t, node); len(left) != 0 {
			t.Errorf("left: %v", left)
		}
	})
}

// The ledger's server unreachable: no tenant is created (the app is never
// asked), and the error names the ledger, in one line.
func TestPGLedgerUnreachable(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Shared(t)
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=nobody password=secret-pw dbname=ledger sslmode=disable", pgtest.ClosedPort(t))
	l := newPGLedger(t, dsn)
	_ = c
	p := newCountingProv()
	m := &Manager{Prov: p, Ledger: l, Scope: "cfg#staging", Prefix: DefaultPrefix}
	if _, err := m.Sweep(ctx, SweepOptions{}); !errors.Is(err, ErrLedgerUnavailable) {
		t.Errorf("Sweep = %v, want the ledger unavailable", err)
	}
	s, err := m.Create(ctx)
	if s != nil || !IsConfigError(err) || !errors.Is(err, ErrLedgerUnavailable) {
		t.Fatalf("Create = %v, %v; want no session and the ledger unavailable, a config error", s, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "ledger unavailable: postgres://nobody@127.0.0.1:") || !strings.Contains(msg, "cannot connect") ||
		strings.Contains(msg, "\n") || strings.Contains(msg, "secret-pw") {
		t.Errorf("error %q: want one line naming the ledger, without its password", msg)
	}
	if n := p.creates.Load(); n != 0 {
		t.Errorf("the app was asked to create %d tenant(s) the ledger could not record", n)
	}
}

// A row that is not a ledger entry (its fields edited by hand into
// something else) is reported, never taken, and the rest is still swept.
func TestPGLedgerBadRow(t *testing.T) {
	ctx := context.Background()
	db := pgLedgerDB(t)
	l := newPGLedger(t, db)
	good, err := l.Record(ctx, entry("good", "sc-good"))
	if err != nil {
		t.Fatal(err)
	}
	good.Release()
	db.Exec(t, `INSERT INTO suitecheck_ledger (run, lock_key, scope, name, fields, started) VALUES ('bad', 1, 's', 'sc-bad', '[1, 2]', now())`)
	list, probs, err := l.List(ctx)
	if err != nil || len(list) != 1 || len(probs) != 1 || !probs[0].Row || probs[0].File != "run bad in "+l.String() {
		t.Fatalf("List = %+v, %+v, %v; want the good entry and the bad row reported", list, probs, err)
	}
	dead, probs, err := l.Dead(ctx, func(Entry) bool { return true })
	if err != nil || len(dead) != 1 || dead[0].Entry.Run != "good" || len(probs) != 1 || !strings.Contains(probs[0].Error(), "not a ledger entry") {
		t.Fatalf("Dead = %v, %+v, %v; want the good entry taken and the bad row reported", dead, probs, err)
	}
	dead[0].Forget(ctx)
	if left := leftovers(t, l); len(left) != 1 || left[0] != "bad" {
		t.Errorf("left: %v, want the bad row kept for a person", left)
	}
}
