package suites

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/checks/postgres"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/pgconn"
)

// PostgresStep runs `check postgres` as a step: a diagnostic case that
// names the first broken layer between the app and its database.
//
//   - check_postgres: {dsn: "{{.Vars.db_dsn}}", extensions: [uuid-ossp], tables: [files], writable: [files]}
type PostgresStep struct {
	DSN        string        `yaml:"dsn"`
	Extensions []string      `yaml:"extensions"`
	Tables     []string      `yaml:"tables"`
	Writable   []string      `yaml:"writable"`
	WriteProbe string        `yaml:"write_probe"`
	Timeout    time.Duration `yaml:"timeout"`
}

func decodePostgres(st *StepConfig) (PostgresStep, error) {
	var s PostgresStep
	if err := decodeStrict(st, st.Node, &s); err != nil {
		return s, err
	}
	if s.DSN == "" {
		return s, &LineError{Line: st.Line, Msg: "step check_postgres: no dsn"}
	}
	return s, nil
}

func runPostgres(ctx context.Context, env stepEnv, _ *StepConfig, s PostgresStep) error {
	if cfg, err := pgconn.Config(s.DSN); err == nil {
		env.masker().Add(cfg.Password)
	}
	timeout := s.Timeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := postgres.Check(ctx, postgres.Options{DSN: s.DSN, Extensions: s.Extensions, Tables: s.Tables,
		Writable: s.Writable, WriteProbe: s.WriteProbe, TimeoutState: checks.Critical, Budget: timeout})
	for _, p := range res.Parts {
		env.detail(p.Line())
	}
	switch res.State {
	case checks.OK:
		return nil
	case checks.Unknown:
		return &configError{errors.New("check_postgres: " + res.Summary)}
	}
	// "postgres user@db on host:port: layer …": the layer is the news.
	msg := res.Summary
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		msg = rest
	}
	return &stepError{"check_postgres", errors.New(msg)}
}
