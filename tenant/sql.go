package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/lib/pq"

	"github.com/suitecheck/suitecheck/internal/pgconn"
)

// Statement is a query with its $N arguments.
type Statement struct {
	Query string
	Args  []string
}

// SQL provisions tenants with statements against the app's PostgreSQL
// database. Create returns the tenant's fields as the columns of its first
// row (INSERT … RETURNING id, login, password); Delete's affected rows
// are not judged, so deleting a tenant that is gone succeeds; List
// returns rows with the columns name, id and, optionally, created.
//
// CreateStmts and DeleteStmts, when set, are a create and a delete of
// several statements (CreateStmt and DeleteStmt are then unused), each
// built from the tenant as far as it is known: a create statement's first
// row adds its columns as fields for the next. Either list runs in one
// transaction, so the database makes it all or nothing: to the Manager it
// is one step, with nothing to resume.
type SQL struct {
	DSN          string
	CreateStmt   func(name string) (Statement, error)
	DeleteStmt   func(t Tenant) (Statement, error)
	CreateStmts  []func(t Tenant) (Statement, error)
	DeleteStmts  []func(t Tenant) (Statement, error)
	ConfirmStmts map[string]func(t Tenant) (Statement, error) // per field: returns the column name for what it names; no row: none
	ListStmt     func() (Statement, error)                    // nil: no list
	GetStmt      func(t Tenant) (Statement, error)            // nil: no get; returns the column name, no row when there is no such tenant
	SecretField  func(name string) bool

	once sync.Once
	db   *sql.DB
	err  error
}

func (s *SQL) open() (*sql.DB, error) {
	s.once.Do(func() {
		cfg, err := pgconn.Config(s.DSN)
		if err != nil {
			s.err = &ConfigError{fmt.Errorf("tenant sql dsn: %w", err)}
			return
		}
		c, err := pq.NewConnectorConfig(cfg)
		if err != nil {
			s.err = &ConfigError{fmt.Errorf("tenant sql dsn: %w", err)}
			return
		}
		s.db = sql.OpenDB(c)
		s.db.SetMaxOpenConns(1)
	})
	return s.db, s.err
}

// Close closes the connection.
func (s *SQL) Close() error {
	if s.db != nil {
		return s.db.Close()
	}
	return nil
}

// queryer is a connection pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// query runs a statement and returns its rows as column -> text.
func (s *SQL) query(ctx context.Context, q queryer, what string, build func() (Statement, error), max int) ([]map[string]string, []string, error) {
	st, err := build()
	if err != nil {
		return nil, nil, &ConfigError{err}
	}
	args := make([]any, len(st.Args))
	for i, a := range st.Args {
		args[i] = a
	}
	rows, err := q.QueryContext(ctx, st.Query, args...)
	if err != nil {
		return nil, nil, sqlError(what, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, sqlError(what, err)
	}
	var out []map[string]string
	for rows.Next() && len(out) < max {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, sqlError(what, err)
		}
		row := map[string]string{}
		for i, c := range cols {
			if vals[i].Valid {
				row[c] = vals[i].String
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, sqlError(what, err)
	}
	return out, cols, nil
}

// pooled runs a statement on the pool.
func (s *SQL) pooled(ctx context.Context, what string, build func() (Statement, error), max int) ([]map[string]string, []string, error) {
	db, err := s.open()
	if err != nil {
		return nil, nil, err
	}
	return s.query(ctx, db, what, build, max)
}

// sqlError names the statement and the SQLSTATE; syntax and parameter
// mistakes are the config's.
func sqlError(what string, err error) error {
	var pe *pq.Error
	switch {
	case errors.As(err, &pe) && (pe.Code == "42P02" || pe.Code == "42P18" || pe.Code == "42601"):
		return &ConfigError{fmt.Errorf("tenant %s statement: %w", what, err)}
	case errors.As(err, &pe):
		return fmt.Errorf("%s: %s (SQLSTATE %s)", what, pe.Message, pe.Code)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Create runs the create statement (or statements) in a transaction,
// committed only once a row gave an id: statements that cannot say which
// tenant they made make none.
func (s *SQL) Create(ctx context.Context, name string) (Tenant, error) {
	db, err := s.open()
	if err != nil {
		return Tenant{}, NotCreated(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return Tenant{}, NotCreated(sqlError("create", err))
	}
	t := Tenant{Name: name, Fields: map[string]string{"name": name}}
	if s.CreateStmts == nil {
		err = s.createRow(ctx, tx, "create", func() (Statement, error) { return s.CreateStmt(name) }, &t, true)
	}
	for i, build := range s.CreateStmts {
		what := fmt.Sprintf("create statement %d of %d", i+1, len(s.CreateStmts))
		cur := t
		if err = s.createRow(ctx, tx, what, func() (Statement, error) { return build(cur) }, &t, false); err != nil {
			break
		}
	}
	if err == nil && t.ID == "" {
		err = &ConfigError{errors.New("tenant create statements return no id column: add RETURNING id, … to one of them")}
	}
	if err != nil {
		tx.Rollback()
		return Tenant{}, NotCreated(err)
	}
	if err := tx.Commit(); err != nil {
		return Tenant{}, sqlError("create: commit", err) // it may have committed
	}
	delete(t.Fields, "name")
	return t, nil
}

// createRow runs a create statement and adds its first row's columns to
// t; needID: it must return the id.
func (s *SQL) createRow(ctx context.Context, tx *sql.Tx, what string, build func() (Statement, error), t *Tenant, needID bool) error {
	rows, cols, err := s.query(ctx, tx, what, build, 1)
	switch {
	case err != nil:
		return err
	case needID && !slices.Contains(cols, "id"):
		return &ConfigError{fmt.Errorf("tenant create statement returns no id column (columns: %s): add RETURNING id, …", strings.Join(cols, ", "))}
	case len(rows) == 0 && (needID || len(cols) > 0):
		if needID || slices.Contains(cols, "id") {
			return errors.New(what + ": the statement returned no row with an id")
		}
		return errors.New(what + ": the statement returned no row")
	case slices.Contains(cols, "id") && rows[0]["id"] == "":
		return errors.New(what + ": the statement returned no row with an id")
	}
	if len(rows) == 0 {
		return nil
	}
	for k, v := range rows[0] {
		if k == "name" {
			continue
		}
		t.Fields[k] = v
		if s.SecretField != nil && s.SecretField(k) && !slices.Contains(t.Secret, k) {
			t.Secret = append(t.Secret, k)
		}
	}
	if id := rows[0]["id"]; id != "" {
		t.ID = id
	}
	return nil
}

// Delete runs the delete statement (or statements, in one transaction).
func (s *SQL) Delete(ctx context.Context, t Tenant) error {
	if s.DeleteStmts == nil {
		_, _, err := s.pooled(ctx, "delete", func() (Statement, error) { return s.DeleteStmt(t) }, 0)
		return err
	}
	db, err := s.open()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return sqlError("delete", err)
	}
	for i, build := range s.DeleteStmts {
		what := fmt.Sprintf("delete statement %d of %d", i+1, len(s.DeleteStmts))
		if _, _, err := s.query(ctx, tx, what, func() (Statement, error) { return build(t) }, 0); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return sqlError("delete: commit", err)
	}
	return nil
}

// ConfirmsField reports whether a confirm statement is configured for
// field.
func (s *SQL) ConfirmsField(field string) bool {
	_, ok := s.ConfirmStmts[field]
	return ok
}

// GetField runs field's confirm statement: its first row's name column is
// the app's name for what the field names; no row, none.
func (s *SQL) GetField(ctx context.Context, field string, t Tenant) (Found, error) {
	build, ok := s.ConfirmStmts[field]
	if !ok {
		return Found{}, ErrNoGet
	}
	return s.get(ctx, "confirm "+field, func() (Statement, error) { return build(t) }, t)
}

// maxListed bounds a list.
const maxListed = 100000

// List runs the list statement.
func (s *SQL) List(ctx context.Context) ([]Found, error) {
	if s.ListStmt == nil {
		return nil, ErrNoList
	}
	rows, cols, err := s.pooled(ctx, "list", s.ListStmt, maxListed)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(cols, "name") || !slices.Contains(cols, "id") {
		return nil, &ConfigError{fmt.Errorf("tenant list statement must return the columns name and id (and created); it returns %s", strings.Join(cols, ", "))}
	}
	out := make([]Found, 0, len(rows))
	for _, r := range rows {
		out = append(out, Found{Name: r["name"], ID: r["id"], Created: parseTime(r["created"])})
	}
	return out, nil
}

// Get runs the get statement: its first row's name column is the app's
// name for the tenant; no row, no such tenant.
func (s *SQL) Get(ctx context.Context, t Tenant) (Found, error) {
	if s.GetStmt == nil {
		return Found{}, ErrNoGet
	}
	return s.get(ctx, "get", func() (Statement, error) { return s.GetStmt(t) }, t)
}

func (s *SQL) get(ctx context.Context, what string, build func() (Statement, error), t Tenant) (Found, error) {
	rows, cols, err := s.pooled(ctx, what, build, 1)
	switch {
	case err != nil:
		return Found{}, err
	case !slices.Contains(cols, "name"):
		return Found{}, &ConfigError{fmt.Errorf("tenant %s statement must return the column name; it returns %s", what, strings.Join(cols, ", "))}
	case len(rows) == 0:
		return Found{}, ErrNotFound
	}
	return Found{Name: rows[0]["name"], ID: t.ID}, nil
}
