package postgres

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/pgconn"
	"github.com/suitecheck/suitecheck/internal/regfile"
)

// Options configures Check. Connection settings come from
// DSN (a libpq URL or key=value string) on top of the libpq environment
// variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, …).
type Options struct {
	DSN          string
	PasswordFile string   // read the password from this file (first line)
	Extensions   []string // layer 6: these extensions must be installed
	Tables       []string // layer 7: these tables must be visible and readable
	Writable     []string // layer 8: these tables must take INSERTs
	WriteProbe   string   // layer 8: SQL run in a transaction that is rolled back

	Thresholds   checks.Thresholds // on the total time, in seconds
	TimeoutState checks.State      // the state when ctx's deadline passes
	Budget       time.Duration
}

// layer is one of the layers Check walks, in order.
type layer int

const (
	reachable layer = iota // DNS and TCP (or the Unix socket)
	accepts                // a PostgreSQL protocol answer
	authenticates
	database
	primary // not a standby, not read-only: only when something writable is asked
	extensions
	tables
	writable
	nLayers
)

// layers names each layer for people, and for perfdata.
var layers = [nLayers]struct{ name, label string }{
	reachable:     {"reachable", "reachable"},
	accepts:       {"accepts connections", "accepts"},
	authenticates: {"authenticates", "auth"},
	database:      {"database", "database"},
	primary:       {"primary", "primary"},
	extensions:    {"extensions", "extensions"},
	tables:        {"tables", "tables"},
	writable:      {"writable", "writable"},
}

// String is the layer as the output names it: "6/8 extensions".
func (l layer) String() string { return fmt.Sprintf("%d/%d %s", l+1, nLayers, layers[l].name) }

// pastDeadline reports whether ctx's deadline, if any, has passed.
func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// pgTarget is what the check connects to, for messages and layer 1.
type pgTarget struct {
	cfg  pq.Config
	addr string // host:port for TCP, or the socket path
	unix bool
}

func (t pgTarget) String() string {
	user, db := t.cfg.User, t.cfg.Database
	if db == "" {
		db = user
	}
	return fmt.Sprintf("%s@%s on %s", user, db, t.addr)
}

// postgresConfig resolves the connection settings. Its errors are the
// user's to fix (UNKNOWN).
func postgresConfig(o Options) (pgTarget, error) {
	cfg, err := pgconn.Config(o.DSN)
	if err != nil {
		return pgTarget{}, fmt.Errorf("postgres %w (check --dsn and the PG* environment variables)", err)
	}
	if len(cfg.Multi) > 0 {
		return pgTarget{}, errors.New("postgres connection settings: several hosts given: check one server per check")
	}
	if o.PasswordFile != "" {
		pw, err := regfile.FirstLine(o.PasswordFile, 64<<10)
		if err != nil {
			return pgTarget{}, fmt.Errorf("--password-file: %w", err)
		}
		cfg.Password = pw
		cfg.Passfile = ""
	}
	if cfg.User == "" {
		return pgTarget{}, errors.New("postgres connection settings: no user: set it in --dsn or PGUSER")
	}
	t := pgTarget{cfg: cfg}
	host := cfg.Host
	if cfg.Hostaddr.IsValid() {
		host = cfg.Hostaddr.String()
	}
	switch {
	case strings.HasPrefix(host, "/"):
		t.unix = true
		t.addr = fmt.Sprintf("%s/.s.PGSQL.%d", host, cfg.Port)
	case strings.HasPrefix(host, "@"):
		t.unix = true
		t.addr = "\x00" + host[1:] + fmt.Sprintf("/.s.PGSQL.%d", cfg.Port)
	default:
		t.addr = net.JoinHostPort(host, strconv.Itoa(int(cfg.Port)))
	}
	return t, nil
}

// Check walks the layers between an app and its database in order —
// reachable, accepts connections, authenticates, the database exists,
// primary (when anything writable is asked), extensions, tables, writable —
// timing each, and names the first that fails. Layers 2 to 8 share one
// connection (one server backend), as libpq clients such as check_pgsql do.
func Check(ctx context.Context, o Options) checks.Result {
	start := time.Now()
	target, err := postgresConfig(o)
	if err != nil {
		return checks.FromError(err)
	}
	p := &pgProbe{o: o, target: target}
	err = p.run(ctx)
	total := time.Since(start)

	res := checks.Result{}
	var pd []checks.Perfdata
	pd = append(pd, checks.Duration("time", total, o.Thresholds))
	for i, d := range p.times {
		if p.ran[i] {
			pd = append(pd, checks.Duration(layers[i].label, d, checks.Thresholds{}))
		}
	}
	res.Perfdata = pd
	for l := range nLayers {
		res.Parts = append(res.Parts, p.part(l, err))
	}
	if p.info != "" {
		res.Long = append(res.Long, p.info)
	}

	w := checks.Walk{Head: fmt.Sprintf("postgres %s", target), Layers: int(nLayers), Passed: p.count(), Total: total,
		Current: p.current.String(), Thresholds: o.Thresholds, TimeoutState: o.TimeoutState, Budget: o.Budget}
	res.State, res.Summary = w.End(ctx, err)
	return res
}

type pgProbe struct {
	o       Options
	target  pgTarget
	times   [nLayers]time.Duration
	ran     [nLayers]bool
	skipped [nLayers]string // why a layer did not run
	current layer           // the layer being walked
	info    string          // server version, backend pid, uptime
}

func (p *pgProbe) count() int {
	n := 0
	for _, r := range p.ran {
		if r {
			n++
		}
	}
	return n
}

// part is layer i as a part of the result.
func (p *pgProbe) part(i layer, err error) checks.Part {
	part := checks.Part{Name: i.String()}
	var le *checks.LayerError
	switch {
	case p.skipped[i] != "":
		part.Mark, part.Detail = checks.Skipped, p.skipped[i]
	case err != nil && i == p.current:
		part.Time, part.Timed = p.times[i], true
		switch {
		case errors.As(err, &le):
			part.State, part.Detail = checks.Critical, le.Msg
		case errors.Is(err, context.DeadlineExceeded):
			part.State, part.Detail = p.o.TimeoutState, "timed out"
		case errors.Is(err, context.Canceled):
			part.State, part.Detail = checks.Unknown, "interrupted"
		default:
			part.State, part.Detail = checks.Unknown, err.Error()
		}
	case p.ran[i]:
		part.State, part.Time, part.Timed = checks.OK, p.times[i], true
	default:
		part.Mark = checks.NotRun
	}
	return part
}

// layer times fn as layer i.
func (p *pgProbe) layer(i layer, fn func() error) error {
	p.current = i
	t0 := time.Now()
	err := fn()
	p.times[i] = time.Since(t0)
	p.ran[i] = err == nil
	return err
}

func (p *pgProbe) skip(i layer, why string) { p.skipped[i] = why }

func (p *pgProbe) run(ctx context.Context) error {
	o := p.o
	wantWrite := len(o.Writable) > 0 || o.WriteProbe != ""

	// Layers 1 and 2: DNS and TCP, then a protocol-level answer.
	var conn net.Conn
	err := p.layer(reachable, func() error {
		var err error
		conn, err = p.dial(ctx)
		return err
	})
	if err != nil {
		return err
	}
	var answer byte // the server's answer to the SSLRequest: S or N
	err = p.layer(accepts, func() error {
		pctx := ctx
		if t := p.target.cfg.ConnectTimeout; t > 0 {
			// connect_timeout (PGCONNECT_TIMEOUT) bounds connecting, as in libpq.
			var cancel context.CancelFunc
			pctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
		var err error
		answer, err = p.speaksPostgres(pctx, conn)
		// The connection's deadline can fire a moment before the context's
		// timer: judge by the clock which bound ran out.
		if err != nil && ctx.Err() == nil && !pastDeadline(ctx) && pastDeadline(pctx) {
			return checks.LayerFailed(accepts, "no PostgreSQL answer within connect_timeout %s", p.target.cfg.ConnectTimeout)
		}
		if err != nil && pastDeadline(ctx) {
			return context.DeadlineExceeded
		}
		return err
	})
	if err != nil {
		conn.Close()
		return err
	}
	// Closed on every path: pq may leave it (a TLS fallback redials
	// without closing it), or never dial at all (ctx ended first).
	defer conn.Close()

	// Layers 3 and 4: one authenticated connection, kept for the rest.
	cfg := p.target.cfg.Clone()
	if dl, ok := ctx.Deadline(); ok && cfg.ConnectTimeout == 0 {
		// pq honours the context only while dialling; connect_timeout
		// bounds the whole handshake.
		cfg.ConnectTimeout = max(time.Until(dl), time.Millisecond)
	}
	// The login goes on over layer 2's connection: one server backend for
	// the whole check, as libpq's clients (check_pgsql) use.
	reuse := reusable(&cfg, answer)
	if !reuse {
		conn.Close()
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return fmt.Errorf("postgres connection settings: %w", err)
	}
	d := &cancelDialer{ctx: ctx}
	if reuse {
		d.first = &reusedConn{Conn: conn, answer: answer}
	}
	connector.Dialer(d)
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	var c *sql.Conn
	err = p.layer(authenticates, func() error {
		c, err = db.Conn(ctx)
		if err != nil {
			return classifyConnect(ctx, err, cfg, p.target.cfg.ConnectTimeout)
		}
		return nil
	})
	if err != nil {
		// The connection attempt also answers for layer 2 (a server that is
		// starting up or full refuses before authentication) and layer 4
		// (the database is checked after authentication).
		var le *checks.LayerError
		if errors.As(err, &le) {
			p.current = le.Layer.(layer)
			switch le.Layer.(layer) {
			case accepts:
				p.ran[accepts] = false
			case database:
				p.ran[authenticates] = true
			}
		}
		return err
	}
	defer c.Close()

	err = p.layer(database, func() error {
		var version, dbname string
		var pid int
		var uptime float64
		err := c.QueryRowContext(ctx, `SELECT current_database(), current_setting('server_version'), pg_backend_pid(),
			extract(epoch from now() - pg_postmaster_start_time())::float8`).Scan(&dbname, &version, &pid, &uptime)
		if err != nil {
			return queryFail(ctx, database, "read server information", err)
		}
		p.info = fmt.Sprintf("server PostgreSQL %s, database %s, backend PID %d, up %s", version, dbname, pid,
			(time.Duration(uptime) * time.Second).String())
		return nil
	})
	if err != nil {
		return err
	}

	if !wantWrite {
		p.skip(primary, "nothing writable asked (--writable, --write-probe)")
	} else if err := p.layer(primary, func() error { return p.primary(ctx, c) }); err != nil {
		return err
	}

	if len(o.Extensions) == 0 {
		p.skip(extensions, "no --extension asked")
	} else if err := p.layer(extensions, func() error { return p.extensions(ctx, c) }); err != nil {
		return err
	}

	if len(o.Tables) == 0 {
		p.skip(tables, "no --table asked")
	} else if err := p.layer(tables, func() error { return p.tables(ctx, c) }); err != nil {
		return err
	}

	if !wantWrite {
		p.skip(writable, "no --writable or --write-probe asked")
	} else if err := p.layer(writable, func() error { return p.writable(ctx, c) }); err != nil {
		return err
	}
	return nil
}

func (p *pgProbe) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	if p.target.unix {
		c, err := d.DialContext(ctx, "unix", p.target.addr)
		if err != nil {
			return nil, dialFail(ctx, err)
		}
		return c, nil
	}
	host, port, _ := net.SplitHostPort(p.target.addr)
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, checks.LayerFailed(reachable, "cannot resolve %s: %v", host, unwrapNet(err))
	}
	var last error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a, port))
		if err == nil {
			return c, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, dialFail(ctx, last)
}

func dialFail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return checks.LayerFailed(reachable, "cannot connect: %v", unwrapNet(err))
}

// unwrapNet shortens net errors to their cause ("connection refused").
func unwrapNet(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
		return oe.Err
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return errors.New(de.Err)
	}
	return err
}

// cancelDialer makes pq's connections give up at once when ctx ends. pq
// honours a context only while dialling, not during the login handshake, so
// a server that accepts and then stalls would hold the check past a SIGTERM.
//
// Its first dial, when first is set, returns layer 2's connection instead
// of a new one.
type cancelDialer struct {
	ctx   context.Context // the whole check's, not the one pq passes per dial
	d     net.Dialer
	first net.Conn
}

func (d *cancelDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(d.ctx, network, addr)
}

func (d *cancelDialer) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(d.ctx, timeout)
	defer cancel()
	return d.DialContext(ctx, network, addr)
}

func (d *cancelDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.first, error(nil)
	d.first = nil
	if c == nil {
		c, err = d.d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Time{}) // layer 2's deadline is over
	// The connection lives no longer than the check, so the AfterFunc is
	// never stopped.
	context.AfterFunc(d.ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return c, nil
}

// reusable reports whether the login can go on over the connection whose
// SSLRequest the server answered (S: it now expects a TLS handshake; N: a
// startup message), and sets cfg's sslmode for that. A server that said N
// to a client that does not require TLS gets the startup message at once
// (lib/pq would otherwise send a second SSLRequest, which a server refuses
// on one connection, and dial again). A server that said S to a client
// that disables TLS, or N to one that requires it, gets a new connection,
// as before.
func reusable(cfg *pq.Config, answer byte) bool {
	switch {
	case answer == 'N' && (cfg.SSLMode == pq.SSLModeDisable || cfg.SSLMode == pq.SSLModeAllow || cfg.SSLMode == pq.SSLModePrefer):
		cfg.SSLMode = pq.SSLModeDisable
		return true
	case answer == 'S' && cfg.SSLMode != pq.SSLModeDisable && cfg.SSLMode != pq.SSLModeAllow && cfg.SSLNegotiation != pq.SSLNegotiationDirect:
		return true
	}
	return false
}

// reusedConn is layer 2's connection handed to lib/pq: pq's own SSLRequest
// is answered with the server's earlier answer instead of being sent again.
type reusedConn struct {
	net.Conn
	answer  byte
	pending bool // the answer is to be read
	checked bool // the first write has been looked at
}

func (c *reusedConn) Write(b []byte) (int, error) {
	if !c.checked {
		c.checked = true
		if len(b) == 8 && binary.BigEndian.Uint32(b[0:4]) == 8 && binary.BigEndian.Uint32(b[4:8]) == sslRequestCode {
			c.pending = true
			return len(b), nil
		}
	}
	return c.Conn.Write(b)
}

func (c *reusedConn) Read(b []byte) (int, error) {
	if c.pending && len(b) > 0 {
		c.pending = false
		b[0] = c.answer
		return 1, nil
	}
	return c.Conn.Read(b)
}

// sslRequestCode is the SSLRequest's code in the protocol.
const sslRequestCode = 80877103

// speaksPostgres sends an SSLRequest: any PostgreSQL server answers with one
// byte, S or N, before authentication, so this shows a server that speaks
// the protocol is listening without spending a login. It returns the
// answer.
func (p *pgProbe) speaksPostgres(ctx context.Context, conn net.Conn) (byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], sslRequestCode)
	if _, err := conn.Write(req[:]); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, checks.LayerFailed(accepts, "server closed the connection: %v", unwrapNet(err))
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if errors.Is(err, io.EOF) {
			return 0, checks.LayerFailed(accepts, "no PostgreSQL server answered: the connection was closed")
		}
		return 0, checks.LayerFailed(accepts, "no PostgreSQL server answered: %v", unwrapNet(err))
	}
	if b[0] != 'S' && b[0] != 'N' {
		return 0, checks.LayerFailed(accepts, "no PostgreSQL server answered: got %q instead of a protocol reply", b[0])
	}
	return b[0], nil
}

// classifyConnect maps a connection error to the layer it belongs to.
// userTimeout is the connect_timeout the user set, 0 for none.
func classifyConnect(ctx context.Context, err error, cfg pq.Config, userTimeout time.Duration) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var pe *pq.Error
	if !errors.As(err, &pe) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return err
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if userTimeout > 0 {
				return checks.LayerFailed(authenticates, "no answer to the login within connect_timeout %s", userTimeout)
			}
			return context.DeadlineExceeded
		}
		return checks.LayerFailed(authenticates, "cannot log in: %v", unwrapNet(err))
	}
	switch {
	case pe.Code == pqerror.InvalidPassword:
		return checks.LayerFailed(authenticates, "password authentication failed for user %q (wrong password or unknown role, SQLSTATE %s)", cfg.User, pe.Code)
	case pe.Code == pqerror.InvalidAuthorizationSpecification && strings.Contains(pe.Message, "does not exist"):
		return checks.LayerFailed(authenticates, "role %q does not exist (SQLSTATE %s)", cfg.User, pe.Code)
	case pe.Code.Class() == pqerror.ClassInvalidAuthorizationSpecification:
		return checks.LayerFailed(authenticates, "not allowed to log in: %s (SQLSTATE %s)", pe.Message, pe.Code)
	case pe.Code == pqerror.InvalidCatalogName:
		return checks.LayerFailed(database, "database %q does not exist (SQLSTATE %s)", cfg.Database, pe.Code)
	case pe.Code == pqerror.CannotConnectNow, pe.Code == pqerror.TooManyConnections,
		pe.Code.Class() == "08", pe.Code.Class() == "53", pe.Code.Class() == "57":
		return checks.LayerFailed(accepts, "server refused the connection: %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return checks.LayerFailed(authenticates, "cannot log in: %s (SQLSTATE %s)", pe.Message, pe.Code)
}

// queryFail turns a query error into a layer failure, or the context's
// error when the budget ran out.
func queryFail(ctx context.Context, l layer, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return checks.LayerFailed(l, "%s: %s (SQLSTATE %s)", what, pe.Message, pe.Code)
	}
	return checks.LayerFailed(l, "%s: %v", what, unwrapNet(err))
}

func (p *pgProbe) primary(ctx context.Context, c *sql.Conn) error {
	var recovery bool
	var txRO, defaultRO string
	err := c.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), current_setting('transaction_read_only'),
		current_setting('default_transaction_read_only')`).Scan(&recovery, &txRO, &defaultRO)
	switch {
	case err != nil:
		return queryFail(ctx, primary, "check for a primary", err)
	case recovery:
		return checks.LayerFailed(primary, "server is a read-only standby (in recovery), not the primary")
	case defaultRO == "on":
		return checks.LayerFailed(primary, "transactions are read-only (default_transaction_read_only = on)")
	case txRO == "on":
		return checks.LayerFailed(primary, "transactions are read-only (transaction_read_only = on)")
	}
	return nil
}

func (p *pgProbe) extensions(ctx context.Context, c *sql.Conn) error {
	if len(p.o.Extensions) == 0 {
		return nil
	}
	// One query for all; the available list (which reads every control
	// file on the server) only when one is missing.
	var installed []string
	if err := c.QueryRowContext(ctx, `SELECT coalesce(array_agg(extname::text), '{}') FROM pg_extension WHERE extname = ANY($1)`,
		pq.Array(p.o.Extensions)).Scan(pq.Array(&installed)); err != nil {
		return queryFail(ctx, extensions, "list extensions", err)
	}
	var missing, available []string
	for _, ext := range p.o.Extensions {
		if !slices.Contains(installed, ext) {
			missing = append(missing, ext)
		}
	}
	if len(missing) > 0 {
		if err := c.QueryRowContext(ctx, `SELECT coalesce(array_agg(name::text), '{}') FROM pg_available_extensions WHERE name = ANY($1)`,
			pq.Array(missing)).Scan(pq.Array(&available)); err != nil {
			return queryFail(ctx, extensions, "list available extensions", err)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msg := strings.Join(missing, ", ") + " not installed"
	if len(available) == len(missing) {
		msg += " (available on the server: CREATE EXTENSION in the database)"
	} else if len(available) == 0 {
		msg += " (not even available on the server: install its package)"
	}
	return checks.LayerFailed(extensions, "%s", msg)
}

func (p *pgProbe) tables(ctx context.Context, c *sql.Conn) error {
	for _, t := range p.o.Tables {
		name, err := p.tableWith(ctx, c, tables, t, "SELECT", "readable")
		if err != nil {
			return err
		}
		// name is regclass output: a properly quoted identifier.
		if _, err := c.ExecContext(ctx, "SELECT 1 FROM "+name+" LIMIT 0"); err != nil {
			return queryFail(ctx, tables, "read "+name, err)
		}
	}
	return nil
}

// tableWith resolves a table name as the user sees it through search_path
// and checks the user holds privilege on it, returning its quoted name.
func (p *pgProbe) tableWith(ctx context.Context, c *sql.Conn, l layer, t, privilege, adjective string) (string, error) {
	var name sql.NullString
	var has sql.NullBool
	err := c.QueryRowContext(ctx, `SELECT to_regclass($1)::text, has_table_privilege(to_regclass($1), $2)`, t, privilege).Scan(&name, &has)
	switch {
	case err != nil:
		return "", queryFail(ctx, l, "look up table "+t, err)
	case !name.Valid:
		return "", checks.LayerFailed(l, "table %s not found (or not visible to %s through search_path)", t, p.target.cfg.User)
	case !has.Bool:
		return "", checks.LayerFailed(l, "table %s is not %s: no %s privilege for %s", name.String, adjective, privilege, p.target.cfg.User)
	}
	return name.String, nil
}

func (p *pgProbe) writable(ctx context.Context, c *sql.Conn) error {
	for _, t := range p.o.Writable {
		if _, err := p.tableWith(ctx, c, writable, t, "INSERT", "writable"); err != nil {
			return err
		}
	}
	if p.o.WriteProbe == "" {
		return nil
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return queryFail(ctx, writable, "begin the write probe", err)
	}
	defer tx.Rollback() //nolint:errcheck // the probe is always rolled back
	// Prepared, so the server takes exactly one statement: a probe holding
	// "; COMMIT; …" cannot end the transaction and keep its writes.
	stmt, err := tx.PrepareContext(ctx, p.o.WriteProbe)
	if err != nil {
		return queryFail(ctx, writable, "write probe failed (it must be one statement)", err)
	}
	defer stmt.Close()
	if _, err := stmt.ExecContext(ctx); err != nil {
		return queryFail(ctx, writable, "write probe failed", err)
	}
	return nil
}
