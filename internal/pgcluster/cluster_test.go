//go:build linux

package pgcluster

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// helperEnv, when set in the environment, turns the test binary into the
// helper process of TestKilledOwnerLeavesNothing.
const helperEnv = "PGTEST_HELPER_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		helperMain()
		os.Exit(2) // unreachable unless the helper failed
	}
	os.Exit(m.Run())
}

// helperMain starts a cluster, reports "<dir> <postmaster pid>" on stdout,
// and waits to be killed.
func helperMain() {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := Start(ctx, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Printf("%s %d\n", c.Dir, c.pid())
	select {}
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	return db
}

func queryString(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	var s string
	if err := db.QueryRowContext(t.Context(), query).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

func TestStartConnectAndAuthenticate(t *testing.T) {
	t.Parallel()
	c := newCluster(t)

	if c.Host != "127.0.0.1" || c.SuperUser != "postgres" || c.Port == 0 || c.SuperPassword == "" {
		t.Fatalf("cluster = %+v, want host 127.0.0.1, user postgres, a port and a password", c)
	}

	db := open(t, c.SuperDSN("postgres"))
	if v := queryString(t, db, "SELECT version()"); !strings.HasPrefix(v, "PostgreSQL ") {
		t.Errorf("version() = %q, want PostgreSQL ...", v)
	}
	for setting, want := range map[string]string{
		"password_encryption":     "scram-sha-256",
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": "",
		"fsync":                   "off",
		"synchronous_commit":      "off",
		"full_page_writes":        "off",
		"server_encoding":         "UTF8",
		"lc_collate":              "C",
	} {
		if got := queryString(t, db, "SHOW "+setting); got != want {
			t.Errorf("SHOW %s = %q, want %q", setting, got, want)
		}
	}
	// Every pg_hba.conf rule, for host and local connections alike,
	// demands SCRAM.
	var rules, scram int
	err := db.QueryRowContext(t.Context(),
		`SELECT count(*), count(*) FILTER (WHERE auth_method = 'scram-sha-256') FROM pg_hba_file_rules`).Scan(&rules, &scram)
	if err != nil {
		t.Fatal(err)
	}
	if rules == 0 || scram != rules {
		t.Errorf("pg_hba.conf: %d of %d rules use scram-sha-256, want all", scram, rules)
	}
	if got := queryString(t, db, "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'"); !strings.HasPrefix(got, "SCRAM-SHA-256$") {
		t.Errorf("superuser password stored as %.14q..., want a SCRAM verifier", got)
	}

	err = open(t, c.DSN(c.SuperUser, "wrong"+c.SuperPassword, "postgres")).PingContext(t.Context())
	if pq.As(err, pqerror.InvalidPassword) == nil {
		t.Errorf("connecting with a wrong password: got %v, want SQLSTATE 28P01", err)
	}

	if os.Geteuid() == 0 {
		// The server cannot run as root: it must own its data.
		pgUser, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(c.Dir, "data"))
		if err != nil {
			t.Fatal(err)
		}
		if uid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)); uid != pgUser.Uid {
			t.Errorf("data directory owned by uid %s, want postgres (%s)", uid, pgUser.Uid)
		}
	}
}

func TestDatabasesRolesAndStop(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ctx := t.Context()

	name, err := c.CreateDatabase(ctx, "Test/With Odd-Chars")
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.CreateDatabase(ctx, "Test/With Odd-Chars")
	if err != nil {
		t.Fatal(err)
	}
	if name == other || !strings.HasPrefix(name, "test_with_odd_chars_") {
		t.Errorf("CreateDatabase returned %q and %q, want distinct names starting test_with_odd_chars_", name, other)
	}

	err = c.Exec(ctx, name, `
		CREATE TABLE t (n int);
		INSERT INTO t VALUES (1), (2);
		INSERT INTO t VALUES (3);`)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, name, "SELECT * FROM missing"); pq.As(err, pqerror.UndefinedTable) == nil {
		t.Errorf("Exec of a bad query: got %v, want SQLSTATE 42P01", err)
	}

	role, password, err := c.CreateRole(ctx, "monitor")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, name, "GRANT SELECT ON t TO "+pq.QuoteIdentifier(role)); err != nil {
		t.Fatal(err)
	}
	db := open(t, c.DSN(role, password, name))
	if got := queryString(t, db, "SELECT sum(n)::text FROM t"); got != "6" {
		t.Errorf("sum = %s, want 6", got)
	}
	db.Close()

	if c.Stopped() {
		t.Fatal("Stopped() = true before Stop")
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := c.Stop(); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
	wg.Wait()
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if !c.Stopped() {
		t.Error("Stopped() = false after Stop")
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cluster directory after Stop: stat error %v, want not exist", err)
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("port %d still accepts connections after Stop", c.Port)
	}
}

// TestServerDeath checks that a server killed behind our back is noticed,
// and that Stop still cleans up.
func TestServerDeath(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	_, shmid, ok := sharedMemory(c.dataDir)
	if !ok {
		t.Fatal("no shared memory segment recorded in postmaster.pid")
	}
	if err := syscall.Kill(c.pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.proc.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("server still running 10s after SIGKILL")
	}
	if !c.Stopped() {
		t.Error("Stopped() = false after the server died")
	}
	if err := c.Stop(); err != nil {
		t.Errorf("Stop after the server died: %v", err)
	}
	// The killed postmaster could not remove its shared memory: Stop did.
	// IPC_STAT (2) on a removed segment fails with EINVAL or EIDRM.
	var ds [256]byte
	_, _, errno := syscall.Syscall(syscall.SYS_SHMCTL, uintptr(shmid), 2, uintptr(unsafe.Pointer(&ds[0])))
	if errno == 0 {
		t.Errorf("shared memory segment %d still exists after Stop", shmid)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cluster directory after Stop: stat error %v, want not exist", err)
	}
}

// TestTakenPort makes the first port picked unavailable and checks that
// Start moves on to another. It must not run in parallel: it replaces
// pickPort.
func TestTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port

	orig := pickPort
	t.Cleanup(func() { pickPort = orig })
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls == 1 {
			return taken, nil
		}
		return orig()
	}

	var (
		mu   sync.Mutex
		logs []string
	)
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	c, err := Start(ctx, Options{Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(logs, "\n")
	if calls != 2 || c.Port == taken {
		t.Errorf("picked %d ports, ended on port %d (taken: %d); want a second, different port", calls, c.Port, taken)
	}
	// The server's log lines were streamed to Logf.
	for _, want := range []string{"Address already in use", "retrying with another port", "ready to accept connections"} {
		if !strings.Contains(all, want) {
			t.Errorf("Logf output lacks %q:\n%s", want, all)
		}
	}
}

// TestKilledOwnerLeavesNothing SIGKILLs a process that runs a cluster and
// checks that its postmaster exits by itself and that the next Start
// removes the directory left behind.
func TestKilledOwnerLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, readErr := bufio.NewReader(stdout).ReadString('\n')
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	if readErr != nil {
		t.Fatalf("reading from helper: %v; helper stderr:\n%s", readErr, stderr.String())
	}
	var (
		dir string
		pid int
	)
	if _, err := fmt.Sscan(line, &dir, &pid); err != nil {
		t.Fatalf("helper said %q: %v", line, err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // in case the test fails

	if !waitGone(pid, 10*time.Second) {
		syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("postmaster %d still running 10s after its parent was killed", pid)
	}
	if _, err := os.Stat(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}

	newCluster(t) // sweeps stale directories
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale cluster directory %s survived the next Start (stat error %v)", dir, err)
	}
}

// TestSweepKillsOrphanedPostmaster checks that the sweep stops a
// postmaster whose owner is gone but which still runs.
func TestSweepKillsOrphanedPostmaster(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	// Pretend the owner died: record a pid that cannot exist.
	if err := os.WriteFile(filepath.Join(c.Dir, ownerFile), []byte("2147483647 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sweepStale(t.Logf)
	// The sweep waits until the postmaster has terminated; our reaper
	// goroutine notices a moment later.
	select {
	case <-c.proc.exited:
	case <-time.After(10 * time.Second):
		t.Error("postmaster still running after sweeping its directory")
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("swept directory still there (stat error %v)", err)
	}
}

func TestBinariesNotFound(t *testing.T) {
	t.Parallel()
	_, err := Start(t.Context(), Options{BinDir: t.TempDir()})
	if !errors.Is(err, ErrBinariesNotFound) {
		t.Fatalf("Start with an empty BinDir: got %v, want ErrBinariesNotFound", err)
	}
	const want = "PostgreSQL server binaries (initdb, postgres) not found: install the Debian package postgresql (or run `make deps`)"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// TestStartCanceled checks that a start cut short by its context, while
// Start waits for the server, leaves nothing behind.
func TestStartCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var (
		mu  sync.Mutex
		dir string
	)
	_, err := Start(ctx, Options{
		// pre_auth_delay holds every connection before authentication,
		// so the server cannot become ready before the cancellation.
		Settings: map[string]string{"pre_auth_delay": "60"},
		Logf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(format, "pgtest: created ") {
				dir = args[0].(string)
			}
			// Cancel as soon as the server talks: Start is
			// waiting for it.
			if strings.HasPrefix(format, "postgres: ") {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Start: got %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		t.Fatal("Start did not report its directory")
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("directory %s of the canceled start left behind (stat error %v)", dir, err)
	}
}

func TestUniqueName(t *testing.T) {
	for _, prefix := range []string{"", "TestFoo/bar baz", "1abc", strings.Repeat("x", 100), "é"} {
		name := uniqueName(prefix)
		if len(name) > 63 {
			t.Errorf("uniqueName(%q) = %q, longer than 63 bytes", prefix, name)
		}
		for i, r := range name {
			ok := r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9'
			if !ok {
				t.Errorf("uniqueName(%q) = %q, not a plain lower-case identifier", prefix, name)
				break
			}
		}
	}
	if uniqueName("x") == uniqueName("x") {
		t.Error("uniqueName returned the same name twice")
	}
}

func TestHighestVersionDir(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "13", "15", "16", "notaversion"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if v == "16" {
			continue // incomplete installation
		}
		for _, bin := range []string{"initdb", "postgres"} {
			if err := os.WriteFile(filepath.Join(dir, bin), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := highestVersionDir(filepath.Join(root, "*", "bin")), filepath.Join(root, "15", "bin"); got != want {
		t.Errorf("highestVersionDir = %q, want %q", got, want)
	}
}

// startTimeout bounds a test cluster's start.
const startTimeout = 60 * time.Second

// newCluster starts a cluster for the test, stopped when it ends.
func newCluster(t *testing.T) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}
