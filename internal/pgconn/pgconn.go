// Package pgconn reads PostgreSQL connection settings the way libpq users
// expect, on top of lib/pq.
package pgconn

import (
	"errors"
	"fmt"
	"net/url"
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
		// A URL that does not parse is quoted whole in the error, password
		// and all: say what is wrong without it.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = fmt.Errorf("the URL does not parse: %w", ue.Err)
		}
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
