package pgconn

import (
	"os"
	"strings"
	"testing"

	"github.com/lib/pq"
)

func TestConfigSSLModeDefault(t *testing.T) {
	t.Setenv("PGSSLMODE", "") // restored after the test
	os.Unsetenv("PGSSLMODE")
	for dsn, want := range map[string]pq.SSLMode{
		"host=db user=app":                        pq.SSLModePrefer,
		"host=db user=app sslmode=disable":        pq.SSLModeDisable,
		"postgres://app@db/x?sslmode=verify-full": pq.SSLModeVerifyFull,
	} {
		cfg, err := Config(dsn)
		if err != nil {
			t.Fatalf("Config(%q): %v", dsn, err)
		}
		if cfg.SSLMode != want {
			t.Errorf("Config(%q).SSLMode = %q, want %q", dsn, cfg.SSLMode, want)
		}
		if cfg.ApplicationName != "suitecheck" {
			t.Errorf("Config(%q).ApplicationName = %q", dsn, cfg.ApplicationName)
		}
	}
	t.Setenv("PGSSLMODE", "require")
	if cfg, _ := Config("host=db user=app"); cfg.SSLMode != pq.SSLModeRequire {
		t.Errorf("PGSSLMODE=require: SSLMode = %q", cfg.SSLMode)
	}
	if _, err := Config("port=notaport"); err == nil {
		t.Error("bad port accepted")
	}
}

// An invalid URL's error does not quote the URL: it holds the password.
func TestConfigErrorHidesTheURL(t *testing.T) {
	for _, dsn := range []string{"postgres://app:pa ss%zz-SECRET@db/x", "postgres://app:SECRET@db:noport/x"} {
		_, err := Config(dsn)
		if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "the URL does not parse") {
			t.Errorf("Config(%q) error = %v", dsn, err)
		}
	}
}
