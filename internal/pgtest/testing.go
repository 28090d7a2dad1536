package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
)

// StartTimeout bounds the start of the clusters made by [New] and [Shared].
const StartTimeout = 60 * time.Second

// New starts a cluster for the calling test and stops it when the test
// and its subtests have finished. If the test fails, the server's log is
// added to the test's output. If the cluster cannot be started, New calls
// t.Fatal, also when PostgreSQL is not installed: a missing server must
// fail the tests, not skip them.
func New(t testing.TB) *Cluster {
	t.Helper()
	return NewWith(t, Options{})
}

// NewWith is New with options (server settings such as ssl=on).
func NewWith(t testing.TB, o Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	c, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-registered first: the log is read before Stop
	// removes it.
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL server log (%s:%d):\n%s", c.Host, c.Port, c.ServerLog())
		}
	})
	return c
}

// shared is the cluster handed out by Shared.
var shared struct {
	mu     sync.Mutex
	inMain bool // Main is running the tests
	c      *Cluster
	err    error // from starting c
}

// Shared returns the cluster shared by all the tests of the test binary,
// starting it on first use. It is stopped by [Main], which the package's
// TestMain must call:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Tests sharing a cluster must not stop it, and should isolate their data
// by creating their own databases and roles with [Cluster.CreateDatabase]
// and [Cluster.CreateRole]. If the test fails, what the server logged since
// the test called Shared is added to its output (with the lines logged by
// parallel tests in between).
//
// Like [New], Shared calls t.Fatal if the cluster cannot be started.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		t.Fatal("pgtest.Shared needs the package's TestMain to call pgtest.Main, which stops the cluster: " +
			"func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }")
	}
	if shared.c == nil && shared.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
		shared.c, shared.err = Start(ctx, Options{})
		cancel()
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	c := shared.c
	if c.Stopped() {
		t.Fatalf("pgtest: the shared cluster has stopped; server log:\n%s", c.ServerLog())
	}
	offset := c.LogSize()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL server log since this test called pgtest.Shared (%s:%d):\n%s",
				c.Host, c.Port, c.LogSince(offset))
		}
	})
	return c
}

// Main runs the tests and then stops the cluster started by [Shared], if
// any, and returns the exit code for os.Exit. A failure to stop the
// cluster is reported on standard error and fails the run.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.inMain = false
	if shared.c != nil {
		if err := shared.c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
		shared.c = nil
	}
	return code
}

// App is a fresh database with its own login role, as an app would use:
// what most tests need.
type App struct {
	Cluster  *Cluster
	DB       string
	User     string
	Password string
}

// DSN connects as the app's role to its database.
func (a App) DSN() string { return a.Cluster.DSN(a.User, a.Password, a.DB) }

// Exec runs SQL as the superuser in the app's database, failing the test
// on error.
func (a App) Exec(t testing.TB, sql string) {
	t.Helper()
	if err := a.Cluster.Exec(context.Background(), a.DB, sql); err != nil {
		t.Fatal(err)
	}
}

// NewApp creates a database and a login role on the shared cluster
// ([Shared]); setup, if not empty, runs as the superuser in the new
// database, where %[1]s stands for the role's quoted name.
func NewApp(t testing.TB, prefix, setup string) App {
	t.Helper()
	c := Shared(t)
	ctx := context.Background()
	db, err := c.CreateDatabase(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	user, pass, err := c.CreateRole(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	a := App{Cluster: c, DB: db, User: user, Password: pass}
	if setup != "" {
		a.Exec(t, fmt.Sprintf(setup, pq.QuoteIdentifier(user)))
	}
	return a
}
