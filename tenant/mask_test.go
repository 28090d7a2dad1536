package tenant

import (
	"context"
	"encoding/base64"
	"maps"
	"strings"
	"testing"

	"github.com/suitecheck/suitecheck/internal/secret"
)

// fixed is a provisioner whose create returns these fields.
type fixed struct {
	fields map[string]string
	secret []string
}

func (f fixed) Create(_ context.Context, name string) (Tenant, error) {
	return Tenant{ID: f.fields["id"], Fields: maps.Clone(f.fields), Secret: f.secret}, nil
}
func (fixed) Delete(context.Context, Tenant) error       { return nil }
func (fixed) List(context.Context) ([]Found, error)      { return nil, ErrNoList }
func (fixed) Get(context.Context, Tenant) (Found, error) { return Found{}, ErrNoGet }

// A field that is not secret by its name may still hold a secret field's
// value, encoded: the ledger keeps no form of it.
func TestLedgerKeepsNoFormOfASecret(t *testing.T) {
	const pw = "pw/SECRET-4&x"
	p := fixed{fields: map[string]string{
		"id":        "7",
		"login":     "sc-abc",
		"password":  pw,
		"login_url": "https://app.example.com/login?pw=pw%2FSECRET-4%26x",
		"dsn":       "postgres://sc-abc:pw%2FSECRET-4&x@db/app",
		"basic":     base64.StdEncoding.EncodeToString([]byte("sc-abc:" + pw)),
		"json":      `{"pw":"pw\/SECRET-4\u0026x"}`,
	}, secret: []string{"password"}}
	m := manager(t, p)
	s, err := m.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rec := string(entryFile(t, m.Ledger))
	if strings.Contains(rec, "SECRET") || secret.New(pw).Contains(rec) {
		t.Errorf("the ledger holds the password in some form:\n%s", rec)
	}
	if !strings.Contains(rec, `"login": "sc-abc"`) {
		t.Errorf("the ledger lost a field without a secret:\n%s", rec)
	}
	if s.Tenant.Fields["login_url"] == "" {
		t.Error("the run lost the field: only the ledger goes without it")
	}
}
