package sampleapp

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// ErrMissingExtension is wrapped by the error of [New] when the database
// lacks the uuid-ossp extension, which only a superuser or the database
// owner can create (see [Setup]).
var ErrMissingExtension = errors.New(`the PostgreSQL extension "uuid-ossp" is not installed`)

// Extension is the PostgreSQL extension the schema depends on.
const Extension = "uuid-ossp"

// tables lists the application's tables, the ones [Setup] grants the
// application's role SELECT, INSERT, UPDATE and DELETE on.
var tables = []string{"tenants", "users", "sessions", "messages", "files"}

// migrationsTable records the applied migrations; the application's role
// may only read it.
const migrationsTable = "schema_migrations"

// migrationLockKey is the advisory lock serialising concurrent migrations
// (an arbitrary constant: "sampleap" in ASCII).
const migrationLockKey int64 = 0x73616d706c656170

//go:embed migrations/*.sql
var migrationsFS embed.FS

// migration is one embedded migration, named NNN_description.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the embedded migrations in version order.
var migrations = mustLoadMigrations()

func mustLoadMigrations() []migration {
	names, err := fs.Glob(migrationsFS, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, p := range names {
		name := path.Base(p)
		prefix, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || version <= 0 {
			panic(fmt.Sprintf("sampleapp: migration %s is not named NNN_description.sql", name))
		}
		body, err := migrationsFS.ReadFile(p)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: version, name: name, sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			panic(fmt.Sprintf("sampleapp: migrations %s and %s share a version", ms[i-1].name, ms[i].name))
		}
	}
	return ms
}

// Migrations returns the SQL of the embedded migrations, in the order they
// apply, for reading. They need the uuid-ossp extension and a role allowed
// to create tables. Apply them with [Setup] (or [New]), which record them in
// the table schema_migrations: applied otherwise, they would be applied
// again.
func Migrations() []string {
	out := make([]string, len(migrations))
	for i, m := range migrations {
		out[i] = m.sql
	}
	return out
}

// checkExtension returns an error wrapping ErrMissingExtension if the
// database lacks the uuid-ossp extension.
func checkExtension(ctx context.Context, db *sql.DB) error {
	var (
		installed bool
		dbname    string
	)
	err := db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1), current_database()`,
		Extension).Scan(&installed, &dbname)
	if err != nil {
		return fmt.Errorf("sampleapp: looking up the extension %s: %w", Extension, err)
	}
	if !installed {
		return fmt.Errorf("sampleapp: %w in database %q: a superuser or the database owner must run "+
			`CREATE EXTENSION "uuid-ossp" (sampleapp.Setup does)`, ErrMissingExtension, dbname)
	}
	return nil
}

// migrate applies the pending migrations in one transaction, under an
// advisory lock so that concurrent callers apply each once, and returns
// the names of those it applied. When none is pending it needs only the
// right to read schema_migrations.
func migrate(ctx context.Context, db *sql.DB) (applied []string, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sampleapp: migrating: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return nil, fmt.Errorf("sampleapp: taking the migration lock: %w", err)
	}
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, migrationsTable).Scan(&exists); err != nil {
		return nil, fmt.Errorf("sampleapp: looking up %s: %w", migrationsTable, err)
	}
	if !exists {
		_, err := tx.ExecContext(ctx, `CREATE TABLE `+migrationsTable+` (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		if err != nil {
			return nil, fmt.Errorf("sampleapp: creating %s: %w", migrationsTable, err)
		}
	}
	done := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM `+migrationsTable)
	if err != nil {
		return nil, fmt.Errorf("sampleapp: reading %s: %w", migrationsTable, err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sampleapp: reading %s: %w", migrationsTable, err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sampleapp: reading %s: %w", migrationsTable, err)
	}

	for _, m := range migrations {
		if done[m.version] {
			continue
		}
		// Without arguments lib/pq uses the simple query protocol,
		// which runs the several statements of a migration.
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("sampleapp: applying migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+migrationsTable+` (version, name) VALUES ($1, $2)`,
			m.version, m.name); err != nil {
			return nil, fmt.Errorf("sampleapp: recording migration %s: %w", m.name, err)
		}
		applied = append(applied, m.name)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sampleapp: committing migrations: %w", err)
	}
	return applied, nil
}

// Setup prepares a database for the application. Run it connected (by
// superDSN) to the application's database as a superuser, or as the
// database owner if the extension already exists. It is idempotent:
//
//   - CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
//   - applies the pending embedded migrations; the tables belong to the
//     role of superDSN;
//   - REVOKE CREATE ON SCHEMA public FROM PUBLIC (the default since
//     PostgreSQL 15), so that no other role may create objects there;
//   - grants appRole, an existing role, USAGE on the schema public,
//     SELECT, INSERT, UPDATE and DELETE on its tables (tenants, users,
//     sessions, messages, files), SELECT on
//     schema_migrations and USAGE and SELECT on the schema's sequences:
//     nothing else, in particular no DDL.
//
// [New] can then connect as appRole.
func Setup(ctx context.Context, superDSN, appRole string) error {
	if appRole == "" {
		return errors.New("sampleapp: Setup: the application role is empty")
	}
	connector, err := pq.NewConnector(superDSN)
	if err != nil {
		return fmt.Errorf("sampleapp: Setup: parsing the DSN: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()

	if _, err := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`); err != nil {
		return fmt.Errorf("sampleapp: Setup: creating the extension %s: %w", Extension, err)
	}
	if _, err := migrate(ctx, db); err != nil {
		return fmt.Errorf("sampleapp: Setup: %w", err)
	}
	role := pq.QuoteIdentifier(appRole)
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = pq.QuoteIdentifier(t)
	}
	grants := strings.Join([]string{
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		`GRANT USAGE ON SCHEMA public TO ` + role,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ` + strings.Join(quoted, ", ") + ` TO ` + role,
		`GRANT SELECT ON ` + migrationsTable + ` TO ` + role,
		`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ` + role,
	}, ";\n")
	if _, err := db.ExecContext(ctx, grants); err != nil {
		return fmt.Errorf("sampleapp: Setup: granting privileges to %s: %w", appRole, err)
	}
	return nil
}
