package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tenant commands and a run print what a failing tenant program said,
// which holds the admin token JSON-escaped (\/): no output shows it.
func TestBinaryTenantCommandsMaskSecrets(t *testing.T) {
	const admin = "adm/in-SECRET-6"
	dir := t.TempDir()
	script := filepath.Join(dir, "tenants.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
printf '{"error":"bad token %s"}\n' "$(printf '%s' "$ADMIN" | sed 's,/,\\/,g')" >&2
exit 1
`), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "suitecheck.yaml")
	y := fmt.Sprintf(`environments:
  staging:
    base_url: https://app.example.com
    secrets: {admin: '{{env "SC_MASK_ADMIN"}}'}
tenant:
  command:
    create: [%[1]s, create]
    delete: [%[1]s, delete, "{{.Tenant.id}}"]
    list: [%[1]s, list]
    env: {ADMIN: "{{.Vars.admin}}"}
suites:
  s:
    cases:
      - name: c
        command: {argv: ["true"]}
`, script)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SC_MASK_ADMIN=" + admin}
	base := []string{"--config", cfg, "--state-dir", t.TempDir()}
	for _, args := range [][]string{
		{"tenant", "create"},
		{"tenant", "delete", "42"},
		{"tenant", "list"},
		{"tenant", "sweep", "--older-than", "1ns"},
		{"run", "s", "-vvv"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := runBinary(t, env, append(args, base...)...)
			if !strings.Contains(stdout+stderr, "bad token ****") {
				t.Errorf("exit %d: the program's error is not shown, masked:\n%s%s", code, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "SECRET") {
				t.Errorf("exit %d: the admin token shows:\n%s%s", code, stdout, stderr)
			}
		})
	}
}
