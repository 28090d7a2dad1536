// Package pgconn reads PostgreSQL connection settings the way libpq users
// expect, on top of lib/pq.
package pgconn

import (
	"fmt"
	"os"
	"strings"

	"github.com/lib/pq"
)

// Config parses a libpq DSN (key=value or URL) over the PG* environment
// variables. Unlike lib/pq, whose sslmode defaults to require, it follows
// libpq's default of prefer unless the DSN or PGSSLMODE chooses, so a server
// without TLS works as it does with psql.
func Config(dsn string) (pq.Config, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return pq.Config{}, fmt.Errorf("connection settings: %w", err)
	}
	if !strings.Contains(dsn, "sslmode") && os.Getenv("PGSSLMODE") == "" {
		cfg.SSLMode = pq.SSLModePrefer
	}
	if cfg.ApplicationName == "" {
		cfg.ApplicationName = "suitecheck"
	}
	return cfg, nil
}
