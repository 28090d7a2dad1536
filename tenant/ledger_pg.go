package tenant

// The PostgreSQL ledger: one row per run in the table suitecheck_ledger,
// for monitoring nodes that share the work (Icinga 2 satellites of one
// zone, several Nagios hosts). A run's liveness is a session-level
// advisory lock on a key derived from its run id, taken on a connection
// of its own before the row is inserted and held until the row is
// deleted: the server drops the lock with the session, so a node that
// dies (its process killed, its machine gone once the server's TCP
// keepalives say so) leaves a free lock, and its row is a leftover for
// any node's sweep. A frozen node (SIGSTOP, a paused VM) keeps its
// connection and its locks: its tenant is not swept. A sweep takes the
// lock of each row it deletes and holds it while it deletes, so two
// sweeps never delete the same tenant.
//
// Every connection the ledger opens is closed when its use ends (the pool
// keeps none idle): a session that held a run's lock is never handed to
// another use of this process, whose pg_try_advisory_lock would succeed
// on it (advisory locks are re-entrant within a session).

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/suitecheck/suitecheck/internal/pgconn"
	"github.com/suitecheck/suitecheck/internal/regfile"
)

// PGSchemaVersion is the version of the ledger's tables this suitecheck
// makes and reads; suitecheck_ledger_schema holds the version a database
// has.
const PGSchemaVersion = 1

// pgMigrations[v] takes the tables from version v to v+1.
var pgMigrations = []string{
	`CREATE TABLE suitecheck_ledger (
	run         text PRIMARY KEY,
	lock_key    bigint NOT NULL UNIQUE,
	scope       text NOT NULL,
	name        text NOT NULL,
	tenant_id   text NOT NULL DEFAULT '',
	fields      jsonb NOT NULL DEFAULT '{}',
	create_done boolean NOT NULL DEFAULT false,
	delete_done integer[] NOT NULL DEFAULT '{}',
	host        text NOT NULL DEFAULT '',
	pid         integer NOT NULL DEFAULT 0,
	started     timestamptz NOT NULL,
	updated     timestamptz NOT NULL DEFAULT now()
)`,
}

// pgSchemaLock serialises the creation and migration of the tables by
// concurrent first runs: a fixed key ("suiteck" in ASCII).
const pgSchemaLock int64 = 0x7375697465636b

// PGKeepalives are the server's TCP keepalive settings the ledger's
// sessions ask for (startup parameters of the connection, each user may
// set them) unless the DSN sets them: the server notices a node whose
// machine vanished (no FIN, no RST) within idle + interval × count, about
// a minute, instead of the system default of two hours and more.
var PGKeepalives = map[string]string{
	"tcp_keepalives_idle":     "30",
	"tcp_keepalives_interval": "10",
	"tcp_keepalives_count":    "3",
}

// ErrLedgerUnavailable is a PostgreSQL ledger that could not be reached or
// used (connect, authenticate, its tables): a run must not create a
// tenant it could not record.
var ErrLedgerUnavailable = errors.New("ledger unavailable")

// ErrLedgerSchema is a ledger whose tables are of a newer schema than
// this suitecheck knows.
var ErrLedgerSchema = errors.New("ledger schema is newer than this suitecheck knows")

// PGOptions locate a PostgreSQL ledger.
type PGOptions struct {
	// DSN is a libpq URL or key=value string, over the PG* environment
	// variables (PGHOST, PGUSER, PGPASSWORD, PGPASSFILE…).
	DSN string
	// PasswordFile, when set, holds the password (its first line): kept
	// off the command line.
	PasswordFile string
}

// PGLedger is the ledger in a PostgreSQL table.
type PGLedger struct {
	name     string // for people
	password string
	db       *sql.DB

	mu    sync.Mutex
	ready bool // the tables are there, of our version
}

// OpenPGLedger checks the connection settings; it connects on first use.
// Its errors are the user's to fix.
func OpenPGLedger(o PGOptions) (*PGLedger, error) {
	cfg, err := pgconn.Config(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("ledger dsn: %w", err)
	}
	if o.PasswordFile != "" {
		pw, err := regfile.FirstLine(o.PasswordFile, 64<<10)
		if err != nil {
			return nil, fmt.Errorf("ledger password file: %w", err)
		}
		cfg.Password, cfg.Passfile = pw, ""
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	for k, v := range PGKeepalives {
		if _, ok := cfg.Runtime[k]; !ok {
			cfg.Runtime[k] = v
		}
	}
	if _, err := pq.NewConnectorConfig(cfg); err != nil {
		return nil, fmt.Errorf("ledger dsn: %w", err)
	}
	db := sql.OpenDB(pgConnector{cfg})
	db.SetMaxIdleConns(0)
	return &PGLedger{name: pgName(cfg), password: cfg.Password, db: db}, nil
}

// pgName names the server and database for people, as a URL without
// the password: postgres://user@host:port/db.
func pgName(cfg pq.Config) string {
	host := cfg.Host
	if cfg.Hostaddr.IsValid() {
		host = cfg.Hostaddr.String()
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, host, cfg.Port, cfg.Database)
}

// pgConnector connects within the caller's deadline: lib/pq bounds the
// handshake only by connect_timeout, which follows the deadline when the
// DSN sets none (or a longer one).
type pgConnector struct{ cfg pq.Config }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cfg := c.cfg
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return nil, context.DeadlineExceeded
		}
		if cfg.ConnectTimeout == 0 || left < cfg.ConnectTimeout {
			cfg.ConnectTimeout = left
		}
	}
	pc, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	return pc.Connect(ctx)
}

func (c pgConnector) Driver() driver.Driver { return &pq.Driver{} }

// String names the server, database and user.
func (l *PGLedger) String() string { return l.name }

// Secrets are the values to mask: the password.
func (l *PGLedger) Secrets() []string {
	if l.password == "" {
		return nil
	}
	return []string{l.password}
}

// Shared is true: any node reads a run's lock the same way.
func (l *PGLedger) Shared() bool { return true }

// Locate says how to remove the row by hand.
func (l *PGLedger) Locate(run string) string {
	return fmt.Sprintf("its row in %s (DELETE FROM suitecheck_ledger WHERE run = %s)", l.name, pq.QuoteLiteral(run))
}

// row names a run's row.
func (l *PGLedger) row(run string) string { return fmt.Sprintf("run %s in %s", run, l.name) }

// Close closes the ledger's pool.
func (l *PGLedger) Close() error { return l.db.Close() }

// unavailable wraps an error of reaching or using the ledger.
func (l *PGLedger) unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %s: %w", ErrLedgerUnavailable, l.name, what, err)
}

// conn opens a session of its own, the tables checked on first use.
func (l *PGLedger) conn(ctx context.Context) (*sql.Conn, error) {
	c, err := l.db.Conn(ctx)
	if err != nil {
		return nil, l.unavailable("cannot connect", err)
	}
	if err := l.ensure(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ensure makes the tables on first use and migrates them from an older
// version, under an advisory lock so that concurrent first runs do it
// once. A newer version than ours is refused: an older
// suitecheck must not write rows a newer one reads otherwise.
func (l *PGLedger) ensure(ctx context.Context, c *sql.Conn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ready {
		return nil
	}
	v, err := pgVersion(ctx, c)
	if err != nil {
		return l.unavailable("read its schema version", err)
	}
	if v < PGSchemaVersion {
		if v, err = l.migrate(ctx, c); err != nil {
			return err
		}
	}
	if v > PGSchemaVersion {
		return fmt.Errorf("%w: %s: suitecheck_ledger_schema says version %d, this suitecheck knows up to %d: upgrade suitecheck on this node", ErrLedgerSchema, l.name, v, PGSchemaVersion)
	}
	l.ready = true
	return nil
}

// pgVersion reads the tables' version: 0 when there are none.
func pgVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var exists bool
	if err := q.QueryRowContext(ctx, `SELECT to_regclass('suitecheck_ledger_schema') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT max(version) FROM suitecheck_ledger_schema`).Scan(&v)
	return int(v.Int64), err
}

// migrate holds a session-level lock around its transaction: a
// transaction begun before another's commit would read the catalog as it
// was (a cached "no such table") and create the tables again.
func (l *PGLedger) migrate(ctx context.Context, c *sql.Conn) (int, error) {
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, pgSchemaLock); err != nil {
		return 0, l.unavailable("create its tables", err)
	}
	defer c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, pgSchemaLock)
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return 0, l.unavailable("create its tables", err)
	}
	defer tx.Rollback()
	v, err := pgVersion(ctx, tx) // another node may have made them meanwhile
	if err != nil {
		return 0, l.unavailable("read its schema version", err)
	}
	if v >= PGSchemaVersion {
		return v, nil
	}
	if v == 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS suitecheck_ledger_schema (version integer NOT NULL)`); err != nil {
			return 0, l.unavailable("create its tables (create them as the README shows, or grant CREATE on the schema)", err)
		}
	}
	for i := v; i < PGSchemaVersion; i++ {
		if _, err := tx.ExecContext(ctx, pgMigrations[i]); err != nil {
			return 0, l.unavailable(fmt.Sprintf("migrate its tables to version %d (create them as the README shows, or grant CREATE on the schema)", i+1), err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM suitecheck_ledger_schema`); err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO suitecheck_ledger_schema (version) VALUES ($1)`, PGSchemaVersion)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return 0, l.unavailable("record its schema version", err)
	}
	return PGSchemaVersion, nil
}

// pgLockKey is run's advisory lock key: the first 8 bytes of a SHA-256 of
// the run id, as a bigint (pg_try_advisory_lock(bigint)).
func pgLockKey(run string) int64 {
	sum := sha256.Sum256([]byte("suitecheck ledger\x00" + run))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// pgSession is a session holding run locks: a run's own (one), or a
// sweep's (every entry it took). Its queries take turns; it closes once
// no Held uses it.
type pgSession struct {
	mu   sync.Mutex
	conn *sql.Conn
	refs int
}

func (s *pgSession) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs--; s.refs == 0 {
		// The locks go first, by a statement the server has answered:
		// closing the connection alone lets them go only once the
		// server's backend has seen it close, a moment later, in which
		// a sweep would still find the run alive. Bounded; when the
		// server does not answer, the close lets them go.
		ctx, cancel := context.WithTimeout(context.Background(), pgUnlockTimeout)
		_, _ = s.conn.ExecContext(ctx, `SELECT pg_advisory_unlock_all()`)
		cancel()
		s.conn.Close() // the session ends, and any lock left with it
	}
}

// pgUnlockTimeout bounds letting a session's locks go before it closes.
const pgUnlockTimeout = 2 * time.Second

// pgLock is one entry's lock in a session.
type pgLock struct {
	l    *PGLedger
	s    *pgSession
	key  int64
	once sync.Once
}

// Record takes the run's lock on a session of its own, then inserts the
// row; the session lives until the entry is forgotten or released.
func (l *PGLedger) Record(ctx context.Context, e Entry) (*Held, error) {
	if e.Run == "" || strings.ContainsAny(e.Run, "/.") {
		return nil, fmt.Errorf("ledger: bad run id %q", e.Run)
	}
	c, err := l.conn(ctx)
	if err != nil {
		return nil, err
	}
	key := pgLockKey(e.Run)
	var got bool
	if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		c.Close()
		return nil, l.unavailable("take the run's lock", err)
	}
	if !got {
		c.Close()
		return nil, fmt.Errorf("%s: the lock of run %s is held by another session", l.name, e.Run)
	}
	fields, _ := json.Marshal(orEmpty(e.Fields))
	_, err = c.ExecContext(ctx, `INSERT INTO suitecheck_ledger (run, lock_key, scope, name, tenant_id, fields, create_done, delete_done, host, pid, started)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.Run, key, e.Scope, e.Name, e.ID, string(fields), e.CreateDone, pgInts(e.DeleteDone), e.Host, e.PID, e.Started)
	if err != nil {
		c.Close()
		return nil, l.unavailable("record the run", err)
	}
	return &Held{Entry: e, lock: &pgLock{l: l, s: &pgSession{conn: c, refs: 1}, key: key}}, nil
}

// pgInts is an integer[] that is never NULL.
func pgInts(v []int) pq.Int64Array {
	out := pq.Int64Array{}
	for _, i := range v {
		out = append(out, int64(i))
	}
	return out
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// write updates the row. A row that is gone was swept: this session lost
// its lock (its connection broke, and another node took the entry).
func (p *pgLock) write(ctx context.Context, e Entry) error {
	fields, _ := json.Marshal(orEmpty(e.Fields))
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	res, err := p.s.conn.ExecContext(ctx, `UPDATE suitecheck_ledger SET tenant_id = $3, fields = $4, create_done = $5, delete_done = $6, updated = now()
		WHERE run = $1 AND lock_key = $2`, e.Run, p.key, e.ID, string(fields), e.CreateDone, pgInts(e.DeleteDone))
	if err != nil {
		return p.l.unavailable("update run "+e.Run, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%s: the entry of run %s is gone: its lock was lost (the connection to the ledger broke) and another sweep took it", p.l.name, e.Run)
	}
	return nil
}

// forget deletes the row, then ends the lock.
func (p *pgLock) forget(ctx context.Context, e Entry) error {
	p.s.mu.Lock()
	_, err := p.s.conn.ExecContext(ctx, `DELETE FROM suitecheck_ledger WHERE run = $1 AND lock_key = $2`, e.Run, p.key)
	p.s.mu.Unlock()
	p.release()
	if err != nil {
		return p.l.unavailable("forget run "+e.Run, err)
	}
	return nil
}

// release lets the lock go: the session ends with its last Held (a sweep
// keeps the locks it released until then).
func (p *pgLock) release() { p.once.Do(p.s.done) }

// pgColumns are a row's columns, as scanEntry reads them.
const pgColumns = `run, lock_key, scope, name, tenant_id, fields, create_done, delete_done, host, pid, started`

type pgScanner interface{ Scan(...any) error }

// scanEntry reads a row; an error is a row that is not a ledger entry.
func scanEntry(r pgScanner) (Entry, int64, error) {
	var e Entry
	var key int64
	var fields []byte
	var done pq.Int64Array
	if err := r.Scan(&e.Run, &key, &e.Scope, &e.Name, &e.ID, &fields, &e.CreateDone, &done, &e.Host, &e.PID, &e.Started); err != nil {
		return e, key, err
	}
	if err := json.Unmarshal(fields, &e.Fields); err != nil {
		return e, key, fmt.Errorf("not a ledger entry: its fields are not a map of strings (%v)", err)
	}
	if len(e.Fields) == 0 {
		e.Fields = nil
	}
	for _, d := range done {
		e.DeleteDone = append(e.DeleteDone, int(d))
	}
	e.Started = e.Started.UTC()
	if e.Name == "" {
		return e, key, errors.New("not a ledger entry (no tenant name)")
	}
	return e, key, nil
}

// List reads every row; a run is alive while some session holds its lock
// (pg_locks, which every user may read).
func (l *PGLedger) List(ctx context.Context) ([]Listed, []Problem, error) {
	c, err := l.conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	held := map[int64]bool{}
	rows, err := c.QueryContext(ctx, `SELECT classid::bigint, objid::bigint FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		return nil, nil, l.unavailable("read pg_locks", err)
	}
	for rows.Next() {
		var hi, lo int64
		if err := rows.Scan(&hi, &lo); err != nil {
			rows.Close()
			return nil, nil, l.unavailable("read pg_locks", err)
		}
		held[int64(uint64(hi)<<32|uint64(lo)&0xffffffff)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, l.unavailable("read pg_locks", err)
	}
	rows, err = c.QueryContext(ctx, `SELECT `+pgColumns+` FROM suitecheck_ledger ORDER BY started, run`)
	if err != nil {
		return nil, nil, l.unavailable("list the runs", err)
	}
	defer rows.Close()
	var out []Listed
	var probs []Problem
	for rows.Next() {
		e, key, err := scanEntry(rows)
		if err != nil {
			probs = append(probs, Problem{File: l.row(e.Run), Err: err, Row: true})
			continue
		}
		out = append(out, Listed{Entry: e, Alive: held[key]})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, l.unavailable("list the runs", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, probs, nil
}

// Dead takes, on one session of its own, the lock of every row whose lock
// is free, and reads the row again under it (its run may have finished
// and deleted it meanwhile). The locks of the rows it returns are held
// until each is forgotten or released; the session ends with the last.
func (l *PGLedger) Dead(ctx context.Context, keep func(Entry) bool) ([]*Held, []Problem, error) {
	c, err := l.conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	s := &pgSession{conn: c, refs: 1} // the listing's own reference
	defer s.done()
	type cand struct {
		run string
		key int64
	}
	var cands []cand
	rows, err := c.QueryContext(ctx, `SELECT run, lock_key FROM suitecheck_ledger ORDER BY started, run`)
	if err != nil {
		return nil, nil, l.unavailable("list the runs", err)
	}
	for rows.Next() {
		var cd cand
		if err := rows.Scan(&cd.run, &cd.key); err != nil {
			rows.Close()
			return nil, nil, l.unavailable("list the runs", err)
		}
		cands = append(cands, cd)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, l.unavailable("list the runs", err)
	}
	var held []*Held
	var probs []Problem
	unlock := func(key int64) { c.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, key) }
	for _, cd := range cands {
		var got bool
		if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, cd.key).Scan(&got); err != nil {
			for _, h := range held {
				h.Release()
			}
			return nil, probs, l.unavailable("take a run's lock", err)
		}
		if !got {
			continue // alive, or another sweep has it
		}
		e, _, err := scanEntry(c.QueryRowContext(ctx, `SELECT `+pgColumns+` FROM suitecheck_ledger WHERE run = $1 AND lock_key = $2`, cd.run, cd.key))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			unlock(cd.key) // its run finished meanwhile
		case err != nil:
			probs = append(probs, Problem{File: l.row(cd.run), Err: err, Row: true})
			unlock(cd.key)
		case !keep(e):
			unlock(cd.key)
		default:
			s.refs++
			held = append(held, &Held{Entry: e, lock: &pgLock{l: l, s: s, key: cd.key}})
		}
	}
	return held, probs, nil
}
