package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// appDB is a database set up the way an app uses it: its own role, the
// uuid-ossp extension, a files table it may read and write.
type appDB struct{ pgtest.App }

func newAppDB(t *testing.T) appDB {
	t.Helper()
	return appDB{pgtest.NewApp(t, "app", `CREATE EXTENSION "uuid-ossp";
		CREATE TABLE files (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), name text NOT NULL);
		GRANT SELECT, INSERT ON files TO %[1]s;`)}
}

func (a appDB) opts() Options {
	return Options{
		DSN:          a.DSN(),
		Extensions:   []string{"uuid-ossp"},
		Tables:       []string{"files"},
		Writable:     []string{"files"},
		WriteProbe:   "INSERT INTO files (name) VALUES ('suitecheck probe')",
		TimeoutState: checks.Critical,
	}
}

func checkPG(t *testing.T, o Options, budget time.Duration) (checks.Result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	o.Budget = budget
	r := Check(ctx, o)
	return r, r.Render(checks.DefaultMaxOutput)
}

func TestCheckHealthy(t *testing.T) {
	a := newAppDB(t)
	r, out := checkPG(t, a.opts(), 20*time.Second)
	if r.State != checks.OK {
		t.Fatalf("state = %v, want OK:\n%s", r.State, out)
	}
	want := fmt.Sprintf("SUITECHECK OK - postgres %s@%s on 127.0.0.1:%d: 8 of 8 layers OK in ", a.User, a.DB, a.Cluster.Port)
	if !strings.HasPrefix(out, want) {
		t.Errorf("status line:\n%s\nwant prefix %q", out, want)
	}
	for _, label := range []string{"time", "reachable", "accepts", "auth", "database", "primary", "extensions", "tables", "writable"} {
		if !strings.Contains(out, " "+label+"=") {
			t.Errorf("perfdata lacks %s:\n%s", label, out)
		}
	}
	for _, s := range []string{"[OK] 1/8 reachable", "[OK] 8/8 writable", "server PostgreSQL 1", "backend PID ", ", up "} {
		if !strings.Contains(out, s) {
			t.Errorf("long output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, a.Password) {
		t.Errorf("password in output:\n%s", out)
	}
	// The write probe was rolled back.
	var n int
	db := sqlOpen(t, a.Cluster.SuperDSN(a.DB))
	if err := db.QueryRow("SELECT count(*) FROM files").Scan(&n); err != nil || n != 0 {
		t.Errorf("files has %d rows (err %v) after the probe, want 0: the probe was not rolled back", n, err)
	}
}

func TestCheckLayersOnlyAsked(t *testing.T) {
	a := newAppDB(t)
	o := Options{DSN: a.Cluster.DSN(a.User, a.Password, a.DB)}
	r, out := checkPG(t, o, 20*time.Second)
	if r.State != checks.OK || !strings.Contains(out, "4 of 8 layers OK") {
		t.Fatalf("want OK with 4 layers:\n%s", out)
	}
	for _, s := range []string{"[SKIPPED] 5/8 primary", "[SKIPPED] 6/8 extensions", "[SKIPPED] 7/8 tables", "[SKIPPED] 8/8 writable"} {
		if !strings.Contains(out, s) {
			t.Errorf("long output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, " writable=") {
		t.Errorf("perfdata has a layer that did not run:\n%s", out)
	}
}

// TestCheckBrokenLayers breaks each layer for real and expects
// CRITICAL naming that layer.
func TestCheckBrokenLayers(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, a appDB, o *Options)
		want  string // the summary after "postgres …: "
	}{
		{"closed port", func(t *testing.T, a appDB, o *Options) {
			o.DSN = fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s password=%s sslmode=disable", pgtest.ClosedPort(t), a.User, a.DB, a.Password)
		}, "layer 1/8 reachable: cannot connect: connection refused"},
		{"unresolvable host", func(t *testing.T, a appDB, o *Options) {
			o.DSN = fmt.Sprintf("host=no-such-host.invalid user=%s dbname=%s password=%s", a.User, a.DB, a.Password)
		}, "layer 1/8 reachable: cannot resolve no-such-host.invalid"},
		{"not postgres", func(t *testing.T, a appDB, o *Options) {
			o.DSN = fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s password=%s", fakePort(t, "HTTP/1.0 400 Bad Request\r\n\r\n"), a.User, a.DB, a.Password)
		}, `layer 2/8 accepts connections: no PostgreSQL server answered: got 'H' instead of a protocol reply`},
		{"wrong password", func(t *testing.T, a appDB, o *Options) {
			o.DSN = a.Cluster.DSN(a.User, "wrong-"+a.Password, a.DB)
		}, fmt.Sprintf(`layer 3/8 authenticates: password authentication failed for user "%s" (wrong password or unknown role, SQLSTATE 28P01)`, "USER")},
		{"unknown role", func(t *testing.T, a appDB, o *Options) {
			o.DSN = a.Cluster.DSN("nobody_here", a.Password, a.DB)
		}, `layer 3/8 authenticates: password authentication failed for user "nobody_here"`},
		{"missing database", func(t *testing.T, a appDB, o *Options) {
			o.DSN = a.Cluster.DSN(a.User, a.Password, "no_such_db")
		}, `layer 4/8 database: database "no_such_db" does not exist (SQLSTATE 3D000)`},
		{"read-only default", func(t *testing.T, a appDB, o *Options) {
			a.Exec(t, fmt.Sprintf("ALTER DATABASE %s SET default_transaction_read_only = on", a.DB))
		}, "layer 5/8 primary: transactions are read-only (default_transaction_read_only = on)"},
		{"missing extension", func(t *testing.T, a appDB, o *Options) {
			o.Extensions = append(o.Extensions, "pgcrypto")
		}, "layer 6/8 extensions: pgcrypto not installed (available on the server: CREATE EXTENSION in the database)"},
		{"unavailable extension", func(t *testing.T, a appDB, o *Options) {
			o.Extensions = []string{"no_such_ext"}
		}, "layer 6/8 extensions: no_such_ext not installed (not even available on the server: install its package)"},
		{"dropped extension", func(t *testing.T, a appDB, o *Options) {
			a.Exec(t, `DROP EXTENSION "uuid-ossp" CASCADE`)
		}, "layer 6/8 extensions: uuid-ossp not installed"},
		{"revoke select", func(t *testing.T, a appDB, o *Options) {
			a.Exec(t, "REVOKE SELECT ON files FROM "+a.User)
		}, "layer 7/8 tables: table files is not readable: no SELECT privilege for USER"},
		{"missing table", func(t *testing.T, a appDB, o *Options) {
			o.Tables = []string{"messages"}
		}, "layer 7/8 tables: table messages not found (or not visible to USER through search_path)"},
		{"revoke insert", func(t *testing.T, a appDB, o *Options) {
			a.Exec(t, "REVOKE INSERT ON files FROM "+a.User)
		}, "layer 8/8 writable: table files is not writable: no INSERT privilege for USER"},
		{"write probe cannot commit", func(t *testing.T, a appDB, o *Options) {
			o.WriteProbe = "INSERT INTO files (name) VALUES ('kept'); COMMIT; INSERT INTO files (name) VALUES ('kept2')"
		}, "layer 8/8 writable: write probe failed (it must be one statement): cannot insert multiple commands into a prepared statement (SQLSTATE 42601)"},
		{"silent server with connect_timeout", func(t *testing.T, a appDB, o *Options) {
			o.DSN = fmt.Sprintf("host=127.0.0.1 port=%d user=u connect_timeout=1", silentPort(t))
		}, "layer 2/8 accepts connections: no PostgreSQL answer within connect_timeout 1s"},
		{"login hangs past connect_timeout", func(t *testing.T, a appDB, o *Options) {
			o.DSN = fmt.Sprintf("host=127.0.0.1 port=%d user=u connect_timeout=1 sslmode=disable", fakePort(t, "N"))
		}, "layer 3/8 authenticates: no answer to the login within connect_timeout 1s"},
		{"failing write probe", func(t *testing.T, a appDB, o *Options) {
			o.WriteProbe = "INSERT INTO files (name) VALUES (NULL)"
		}, `layer 8/8 writable: write probe failed: null value in column "name" of relation "files" violates not-null constraint (SQLSTATE 23502)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAppDB(t)
			o := a.opts()
			tt.setup(t, a, &o)
			r, out := checkPG(t, o, 20*time.Second)
			if r.State != checks.Critical {
				t.Errorf("state = %v, want CRITICAL:\n%s", r.State, out)
			}
			want := strings.ReplaceAll(tt.want, "USER", a.User)
			if !strings.Contains(r.Summary, ": "+want) {
				t.Errorf("summary = %q\nwant it to contain %q", r.Summary, want)
			}
			if strings.Contains(out, a.Password) {
				t.Errorf("password in output:\n%s", out)
			}
			var kept int
			if err := sqlOpen(t, a.Cluster.SuperDSN(a.DB)).QueryRow("SELECT count(*) FROM files").Scan(&kept); err != nil || kept != 0 {
				t.Errorf("files has %d rows (err %v) after the check: a write was kept", kept, err)
			}
			if strings.Count(out, "[CRITICAL] ") != 1 {
				t.Errorf("want exactly one [CRITICAL] layer line:\n%s", out)
			}
			checkContract(t, r, out, checks.DefaultMaxOutput)
		})
	}
}

func TestCheckTimeout(t *testing.T) {
	// A server that answers the SSLRequest and then never answers the
	// login: the handshake must still end within the budget.
	port := fakePort(t, "N")
	o := Options{DSN: fmt.Sprintf("host=127.0.0.1 port=%d user=app dbname=app password=pw", port), TimeoutState: checks.Unknown}
	start := time.Now()
	r, out := checkPG(t, o, 500*time.Millisecond)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("check took %s with a 500ms budget", el)
	}
	if r.State != checks.Unknown {
		t.Errorf("state = %v, want the timeout state UNKNOWN:\n%s", r.State, out)
	}
	if !strings.Contains(r.Summary, "timed out after 500ms at layer 3/8 authenticates") {
		t.Errorf("summary = %q, want the timeout and layer 3", r.Summary)
	}
}

func TestCheckCancelled(t *testing.T) {
	port := fakePort(t, "N")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(fmt.Errorf("received terminated"))
	r := Check(ctx, Options{DSN: fmt.Sprintf("host=127.0.0.1 port=%d user=app", port)})
	if r.State != checks.Unknown || !strings.Contains(r.Summary, "interrupted") || !strings.Contains(r.Summary, "received terminated") {
		t.Errorf("cancelled check = %v %q, want UNKNOWN interrupted with the cause", r.State, r.Summary)
	}
}

func TestCheckThresholds(t *testing.T) {
	a := newAppDB(t)
	o := a.opts()
	crit, err := checks.ParseDurationRange("@0:1h") // any time is inside: CRITICAL
	if err != nil {
		t.Fatal(err)
	}
	o.Thresholds = checks.Thresholds{Critical: &crit}
	r, out := checkPG(t, o, 20*time.Second)
	if r.State != checks.Critical || !strings.Contains(r.Summary, "outside the critical range @0:3600") {
		t.Errorf("want CRITICAL from the threshold:\n%s", out)
	}
	if !strings.Contains(out, "time=") || !strings.Contains(out, ";;@0:3600;0 ") {
		t.Errorf("total time perfdata lacks the critical range:\n%s", out)
	}
}

func TestCheckPasswordFile(t *testing.T) {
	a := newAppDB(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(a.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := a.opts()
	o.DSN = fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", a.Cluster.Port, a.User, a.DB)
	o.PasswordFile = pw
	if r, out := checkPG(t, o, 20*time.Second); r.State != checks.OK {
		t.Errorf("with --password-file: %s", out)
	}
	o.PasswordFile = filepath.Join(t.TempDir(), "missing")
	if r, _ := checkPG(t, o, 20*time.Second); r.State != checks.Unknown || !strings.Contains(r.Summary, "--password-file") {
		t.Errorf("missing password file: %v %q, want UNKNOWN naming --password-file", r.State, r.Summary)
	}
	// A FIFO once blocked the check past -t; /dev/zero grew without end.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{fifo, "/dev/zero"} {
		o.PasswordFile = f
		if r, _ := checkPG(t, o, 20*time.Second); r.State != checks.Unknown || !strings.Contains(r.Summary, "not a regular file") {
			t.Errorf("--password-file %s: %v %q, want UNKNOWN: not a regular file", f, r.State, r.Summary)
		}
	}
}

func TestCheckEnvironment(t *testing.T) {
	a := newAppDB(t)
	t.Setenv("PGHOST", "127.0.0.1")
	t.Setenv("PGPORT", fmt.Sprint(a.Cluster.Port))
	t.Setenv("PGUSER", a.User)
	t.Setenv("PGPASSWORD", a.Password)
	t.Setenv("PGDATABASE", a.DB)
	if r, out := checkPG(t, Options{}, 20*time.Second); r.State != checks.OK {
		t.Errorf("from PG* variables: %s", out)
	}
}

func TestCheckBadSettings(t *testing.T) {
	for _, dsn := range []string{"host=a,b user=x", "port=notaport user=x", "postgres://%zz"} {
		r := Check(context.Background(), Options{DSN: dsn})
		if r.State != checks.Unknown {
			t.Errorf("DSN %q: state %v (%s), want UNKNOWN", dsn, r.State, r.Summary)
		}
	}
}

func fakePort(t *testing.T, reply string) int {
	port, _ := pgtest.FakeServer(t, reply)
	return port
}

func silentPort(t *testing.T) int { return fakePort(t, "") }

// checkContract asserts what every check output keeps: the status line
// with the state, perfdata after " | ", no | or ; in the text parts, a
// final newline.
func checkContract(t *testing.T, r checks.Result, out string, maxBytes int) {
	t.Helper()
	first, rest, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, checks.Prefix+" "+r.State.String()+" - ") || !strings.HasSuffix(out, "\n") {
		t.Errorf("not a status line: %q", out)
	}
	text, _, hasPD := strings.Cut(first, " | ")
	if !hasPD || strings.ContainsAny(text, "|;") || strings.ContainsAny(rest, "|;") {
		t.Errorf("perfdata missing, or | ; in text:\n%s", out)
	}
	if len(out) > maxBytes {
		t.Errorf("output is %d bytes, over %d", len(out), maxBytes)
	}
}

// countingProxy forwards TCP connections to the cluster and counts them:
// each is a server backend forked for the check.
func countingProxy(t *testing.T, target string) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), conns
}

// Every layer after the first goes over one connection: one backend per
// check, as for check_pgsql (there were three: the SSLRequest probe,
// lib/pq's TLS attempt, and its plain retry).
func TestCheckUsesOneConnection(t *testing.T) {
	a := newAppDB(t)
	for _, mode := range []string{"", "sslmode=disable", "sslmode=prefer", "sslmode=allow"} {
		t.Run(mode, func(t *testing.T) {
			addr, conns := countingProxy(t, net.JoinHostPort(a.Cluster.Host, fmt.Sprint(a.Cluster.Port)))
			host, port, _ := net.SplitHostPort(addr)
			o := a.opts()
			o.DSN = fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s %s", host, port, a.User, a.Password, a.DB, mode)
			if r, out := checkPG(t, o, 20*time.Second); r.State != checks.OK {
				t.Fatalf("check: %s", out)
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("%d connections for one check, want 1", n)
			}
		})
	}
}

// Whatever ends the check after layer 2 (here its context, just after the
// server answered), the connection layer 2 opened is closed: the server
// sees EOF, not a socket left open until the process exits.
func TestCheckClosesLayer2Connection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eof := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			eof <- err
			return
		}
		defer c.Close()
		c.Read(make([]byte, 8))
		c.Write([]byte("N"))
		cancel() // the check is stopped between layer 2 and its login
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.Copy(io.Discard, c) // until EOF, or the deadline
		eof <- err
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	Check(ctx, Options{DSN: "host=127.0.0.1 port=" + port + " user=app sslmode=disable", TimeoutState: checks.Critical})
	// EOF, or a reset (the client closed with the login unread): closed.
	if err := <-eof; err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the server did not see the connection closed: %v", err)
	}
}
