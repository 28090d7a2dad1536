package suites

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/pgconn"
)

// SQLStep runs a query against PostgreSQL and checks or extracts from its
// result: for example, that the uploaded file's row landed.
//
//   - sql:
//     dsn: "{{.Vars.db_dsn}}"
//     query: SELECT count(*) AS n FROM files WHERE name = $1
//     args: [hello.txt]
//     expect: {rows: 1, values: {n: "1"}}
//     extract: {file_count: n}
type SQLStep struct {
	DSN     string            `yaml:"dsn"` // a secret: its password is masked
	Query   string            `yaml:"query"`
	Args    []string          `yaml:"args"`
	Expect  SQLExpect         `yaml:"expect"`
	Extract map[string]string `yaml:"extract"` // variable -> column of the first row
	Timeout time.Duration     `yaml:"timeout"`
}

// SQLExpect checks a query's result.
type SQLExpect struct {
	Rows   *int              `yaml:"rows"`   // exact row count
	Values map[string]string `yaml:"values"` // column -> value in the first row, compared as text
}

// checkParams compares the $N parameters of a query with the args given:
// at load time, in the config's words, not from the driver's at run time.
// A template in the query is rendered later, as text: it cannot add a
// parameter that the count here misses unless it writes "$" itself.
func checkParams(query string, args int) error {
	n, err := pgconn.Params(query)
	switch {
	case err != nil:
		return fmt.Errorf("the query is not valid SQL: %v", err)
	case n != args:
		return fmt.Errorf("the query's placeholders go up to $%d, but args gives %d value(s): give one arg per $N", n, args)
	}
	return nil
}

// maxSQLRows bounds how many rows a step reads.
const maxSQLRows = 10000

func decodeSQL(st *StepConfig) (SQLStep, error) {
	var s SQLStep
	if err := decodeStrict(st, st.Node, &s); err != nil {
		return s, err
	}
	switch {
	case s.DSN == "":
		return s, &LineError{Line: st.Line, Msg: "step sql: no dsn: give a libpq connection string, e.g. dsn: \"{{.Vars.db_dsn}}\""}
	case strings.TrimSpace(s.Query) == "":
		return s, &LineError{Line: st.Line, Msg: "step sql: no query"}
	case s.Expect.Rows != nil && *s.Expect.Rows < 0:
		return s, &LineError{Line: st.Line, Msg: "step sql: expect rows must be 0 or more"}
	}
	if err := checkParams(s.Query, len(s.Args)); err != nil {
		return s, &LineError{Line: st.Line, Msg: "step sql: " + err.Error()}
	}
	return s, nil
}

func runSQL(ctx context.Context, env stepEnv, _ *StepConfig, s SQLStep) error {
	db, err := env.database(s.DSN)
	if err != nil {
		return &configError{fmt.Errorf("sql: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	args := make([]any, len(s.Args))
	for i, a := range s.Args {
		args[i] = a
	}
	rows, err := db.QueryContext(ctx, s.Query, args...)
	if err != nil {
		var pe *pq.Error
		switch {
		case errors.As(err, &pe) && (pe.Code == "42P02" || pe.Code == "42P18"): // undefined_parameter, indeterminate_datatype
			return &configError{fmt.Errorf("sql: the query's $N placeholders and args differ: %s", pe.Message)}
		case errors.As(err, &pe) && pe.Code == "42601": // syntax_error
			return &configError{fmt.Errorf("sql: the query is not valid SQL: %s", pe.Message)}
		}
		return &stepError{"sql", sqlErr(ctx, err, s.Timeout)}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return &stepError{"sql", err}
	}
	var first map[string]string
	n := 0
	for rows.Next() {
		n++
		if n > maxSQLRows {
			return &stepError{"sql", fmt.Errorf("more than %d rows: narrow the query", maxSQLRows)}
		}
		if first != nil {
			continue
		}
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return &stepError{"sql", fmt.Errorf("read row: %w", err)}
		}
		first = map[string]string{}
		for i, c := range cols {
			if vals[i].Valid {
				first[c] = vals[i].String
			} else {
				first[c] = "NULL"
			}
		}
	}
	if err := rows.Err(); err != nil {
		return &stepError{"sql", sqlErr(ctx, err, s.Timeout)}
	}
	if s.Expect.Rows != nil && n != *s.Expect.Rows {
		return &stepError{"sql", fmt.Errorf("%d rows, want %d", n, *s.Expect.Rows)}
	}
	for _, col := range slices.Sorted(maps.Keys(s.Expect.Values)) {
		want := s.Expect.Values[col]
		got, ok := first[col]
		switch {
		case first == nil:
			return &stepError{"sql", fmt.Errorf("no rows, want %s = %q", col, want)}
		case !ok:
			return &configError{fmt.Errorf("sql: expect names column %q, which the query does not return (columns: %s)", col, strings.Join(cols, ", "))}
		case got != want:
			// Masked before shortened, so that no secret is cut with its start left.
			return &stepError{"sql", fmt.Errorf("%s = %q, want %q", col, checks.Shorten(env.masker().Mask(got), 80), want)}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Extract)) {
		col := s.Extract[name]
		got, ok := first[col]
		if !ok && first != nil {
			return &configError{fmt.Errorf("sql: extract names column %q, which the query does not return (columns: %s)", col, strings.Join(cols, ", "))}
		}
		if !ok {
			return &stepError{"sql", fmt.Errorf("no rows to extract %s from", name)}
		}
		env.setVar(name, got)
	}
	return nil
}

func sqlErr(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s", timeout)
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return err
}

// database returns the run's connection pool for a DSN, opening it once.
func (r *runState) database(dsn string) (*sql.DB, error) {
	if db, ok := r.dbs[dsn]; ok {
		return db, nil
	}
	cfg, err := pgconn.Config(dsn)
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	r.mask.Add(cfg.Password)
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	r.dbs[dsn] = db
	return db, nil
}

// Describe says what the step does, for diagnostics: its query's start.
func (s SQLStep) Describe() string {
	return checks.Shorten(strings.Join(strings.Fields(s.Query), " "), 60)
}
