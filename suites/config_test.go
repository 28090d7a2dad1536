package suites

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/suites/browser"
)

const validConfig = `
environments:
  staging:
    base_url: https://staging.example.com
    vars: {user: ops}
    secrets: {token: s3cret-token}
    skip_tags: [payments]
suites:
  db:
    warning: 10s
    critical: 20s
    cases:
      - name: rows
        tags: [db]
        required: true
        retries: 1
        warning: 1s
        critical: 2s
        steps:
          - sql:
              dsn: "{{.Vars.dsn}}"
              query: SELECT 1 AS one
              expect: {rows: 1, values: {one: "1"}}
`

func TestParseValid(t *testing.T) {
	cfg, err := Parse("suitecheck.yaml", []byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.Suite("db")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cases[0]
	if c.Name != "rows" || !c.Required || c.Retries != 1 || c.Warning.Range == nil || c.Warning.Range.End != 1 || len(c.Steps) != 1 || c.Steps[0].Kind != "sql" {
		t.Errorf("case decoded wrong: %+v", c)
	}
	if c.Console != PolicyWarn || s.Flaky.State.String() != "WARNING" {
		t.Errorf("defaults: console %q flaky %v", c.Console, s.Flaky.State)
	}
	if d := c.retryDelay(s); d != DefaultRetryDelay {
		t.Errorf("retry delay %s, want the default %s", d, DefaultRetryDelay)
	}
	if c.Steps[0].Line != 20 {
		t.Errorf("step line = %d, want 20", c.Steps[0].Line)
	}
}

// TestParseErrors: each broken config gives file:line and what to fix.
func TestParseErrors(t *testing.T) {
	base := "environments:\n  staging:\n    base_url: https://x\nsuites:\n  s:\n    cases:\n      - name: a\n        steps:\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"empty file", "", "c.yaml: the file is empty"},
		{"not yaml", "environments: [", "c.yaml:1: "},
		{"unknown top key", "environment: {}\n", `c.yaml:1: unknown key "environment" in config`},
		{"no environments", "suites: {}\n", "c.yaml: no environments"},
		{"no suites", "environments:\n  s: {base_url: x}\n", "c.yaml: no suites"},
		{"no base_url", "environments:\n  prod: {vars: {a: b}}\nsuites:\n  s: {cases: [{name: a, steps: [{sql: {dsn: x, query: y}}]}]}\n", `c.yaml:2: environment "prod" has no base_url`},
		{"unknown env key", "environments:\n  prod:\n    base_url: x\n    baseurl: y\n", `c.yaml:4: unknown key "baseurl" in environment`},
		{"wrong type", base + "          - sql: {dsn: x, query: y}\n        retries: many\n", `c.yaml:10: "many" is a string, want a whole number`},
		{"unknown case key", base + "          - sql: {dsn: x, query: y}\n        retry: 2\n", `c.yaml:10: unknown key "retry" in case`},
		{"unknown step", base + "          - gotoo: /login\n", `c.yaml:9: unknown step "gotoo": use one of`},
		{"step two keys", base + "          - {sql: {dsn: x, query: y}, timeout: 1s}\n", "c.yaml:9: a step is a mapping with one key naming its kind"},
		{"unknown step key", base + "          - sql:\n              dsn: x\n              query: y\n              expct: {rows: 1}\n", `c.yaml:12: step sql: unknown key "expct"`},
		{"missing field", base + "          - sql: {query: SELECT 1}\n", "c.yaml:9: step sql: no dsn"},
		{"sql args short", base + "          - sql: {dsn: x, query: \"SELECT $1, '$3' -- $4\", args: []}\n", "c.yaml:9: step sql: the query's placeholders go up to $1, but args gives 0 value(s)"},
		{"sql args long", base + "          - sql: {dsn: x, query: SELECT 1, args: [a]}\n", "c.yaml:9: step sql: the query's placeholders go up to $0, but args gives 1 value(s)"},
		{"sql unclosed", base + "          - sql: {dsn: x, query: \"SELECT 'a\"}\n", "c.yaml:9: step sql: the query is not valid SQL: a string"},
		{"bad template", base + "          - sql: {dsn: \"{{.Vars.x\", query: y}\n", `c.yaml:9: bad template "{{.Vars.x"`},
		{"bad threshold", base + "          - sql: {dsn: x, query: y}\n        warning: fast\n", `c.yaml:10: invalid threshold range "fast"`},
		{"bad policy", base + "          - sql: {dsn: x, query: y}\n        console: loud\n", `c.yaml:10: console policy "loud": use ignore, warn or fail`},
		{"bad flaky state", "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    flaky: MAYBE\n    cases: [{name: a, steps: [{sql: {dsn: x, query: y}}]}]\n", `c.yaml:5: state "MAYBE"`},
		{"no cases", "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    description: nothing\n", `c.yaml:4: suite "s" has no cases`},
		{"no steps", "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - name: a\n", `c.yaml:6: case "a" has no steps`},
		{"no case name", "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - steps: [{sql: {dsn: x, query: y}}]\n", `c.yaml:6: suite "s" case 1 has no name`},
		{"retries out of range", base + "          - sql: {dsn: x, query: y}\n        retries: 99\n", `c.yaml:7: case "a": retries must be 0 to 10`},
		{"var and secret", "environments:\n  e:\n    base_url: x\n    vars: {a: b}\n    secrets: {a: c}\nsuites:\n  s: {cases: [{name: a, steps: [{sql: {dsn: x, query: y}}]}]}\n", `c.yaml:2: environment "e": "a" is both a var and a secret`},
		{"unknown template field", base + "          - sql: {dsn: \"{{.Nope}}\", query: y}\n", `c.yaml:9: template "{{.Nope}}": unknown field .Nope: use .BaseURL, .Env, .Vars.NAME or .Tenant.NAME`},
		{"bare Vars", base + "          - sql: {dsn: \"{{.Vars}}\", query: y}\n", `c.yaml:9: template "{{.Vars}}": unknown field .Vars needs a name`},
		{"line break in name", "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - name: \"a\\nb\"\n        steps: [{sql: {dsn: x, query: y}}]\n", `c.yaml:6: suite "s" case 1: the name "a\nb" holds a line break`},
		{"retry_delay negative", base + "          - sql: {dsn: x, query: y}\n        retry_delay: -1s\n", `c.yaml:7: case "a": retry_delay -1s: give 0 to 1m0s, e.g. retry_delay: 1s`},
		{"retry_delay too long", "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    retry_delay: 2m\n    cases: [{name: a, steps: [{sql: {dsn: x, query: y}}]}]\n", `c.yaml:4: suite "s": retry_delay 2m0s: give 0 to 1m0s`},
		{"retry_delay no unit", base + "          - sql: {dsn: x, query: y}\n        retry_delay: 2\n", `c.yaml:10: "2" is a number, want a duration such as 30s`},
		{"retry_delay on a command", "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - {name: a, retry_delay: 1s, command: {argv: [x], format: exit-code}}\n", `c.yaml:6: case "a" command: retry_delay: a command case is not retried`},
		{"negative rows", base + "          - sql: {dsn: x, query: y, expect: {rows: -1}}\n", "c.yaml:9: step sql: expect rows must be 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// TestDuplicateCaseLabels: a case whose perfdata label is another case's,
// one of a command case's counts, or the run's own is refused at load, at
// the case's line.
func TestDuplicateCaseLabels(t *testing.T) {
	const sql = "steps: [{sql: {dsn: x, query: y}}]"
	const cmd = "command: {argv: [x], format: exit-code}"
	for _, tt := range []struct{ first, second, want string }{
		{"{name: Sign In, " + sql + "}", "{name: sign_in, " + sql + "}", `c.yaml:7: suite "s": two cases are named "sign_in" (names must differ as perfdata labels)`},
		{"{name: ok, " + sql + "}", "{name: Time, " + sql + "}", `c.yaml:7: suite "s": case "Time": its perfdata label "time" is the run's own (the run's total time): rename the case`},
		{"{name: ok, " + sql + "}", "{name: browser start, " + sql + "}", `c.yaml:7: suite "s": case "browser start": its perfdata label "browser_start" is the run's own (Chromium's start-up): rename the case`},
		{"{name: Failed, " + sql + "}", "{name: ok, " + sql + "}", `c.yaml:6: suite "s": case "Failed": its perfdata label "failed" is the run's own`},
		{"{name: Tenant Delete, " + sql + "}", "{name: ok, " + sql + "}", `c.yaml:6: suite "s": case "Tenant Delete": its perfdata label "tenant_delete"`},
		{"{name: tenant-delete, " + sql + "}", "{name: ok, " + sql + "}", ""}, // a label of its own
		{"{name: e2e, " + cmd + "}", "{name: e2e passed, " + sql + "}", `c.yaml:7: suite "s": case "e2e passed": the perfdata label "e2e_passed" of its time is also that of case "e2e"'s count of passed tests: rename one`},
		{"{name: e2e failed, " + sql + "}", "{name: e2e, " + cmd + "}", `c.yaml:7: suite "s": case "e2e": the perfdata label "e2e_failed" of its count of failed tests is also that of case "e2e failed"'s time: rename one`},
		{"{name: sweep, " + sql + "}", "{name: ok, " + sql + "}", `c.yaml:6: suite "s": case "sweep": its perfdata label "sweep" is the run's own (the sweep's time)`},
		{"{name: swept, " + sql + "}", "{name: ok, " + sql + "}", `c.yaml:6: suite "s": case "swept": its perfdata label "swept" is the run's own`},
		{"{name: tenant create, " + sql + "}", "{name: ok, " + sql + "}", `c.yaml:6: suite "s": case "tenant create": its perfdata label "tenant_create" is the run's own`},
		{"{name: time taken, " + sql + "}", "{name: e2e, " + cmd + "}", ""},
	} {
		y := "environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - " + tt.first + "\n      - " + tt.second + "\n"
		_, err := Parse("c.yaml", []byte(y))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s, %s: %v", tt.first, tt.second, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s, %s: err = %v\nwant prefix %s", tt.first, tt.second, err, tt.want)
		}
	}
}

// TestLoadFiles: only a regular file of at most MaxConfigSize is read; a
// FIFO, a device or a directory is refused at once, in one line that says
// what to fix, and never blocks or grows.
func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	writeConfig(t, big, validConfig+"#"+strings.Repeat("x", MaxConfigSize)+"\n")
	atLimit := filepath.Join(dir, "limit.yaml")
	writeConfig(t, atLimit, validConfig+"#"+strings.Repeat("x", MaxConfigSize-len(validConfig)-2)+"\n")
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(atLimit, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "none.yaml"), "config " + filepath.Join(dir, "none.yaml") + ": no such file (give --config FILE or set SUITECHECK_CONFIG)"},
		{"fifo", fifo, "config " + fifo + ": a FIFO (named pipe), not a regular file: give --config the path of a YAML file"},
		{"device", "/dev/zero", "config /dev/zero: a device, not a regular file: give --config the path of a YAML file"},
		{"directory", dir, "config " + dir + ": a directory, not a regular file: give --config the path of a YAML file"},
		{"too big", big, "config " + big + ": larger than 1 MiB: a config is YAML text"},
		{"at the limit", atLimit, ""},
		{"symlink to a file", link, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := Load(tt.path)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second): // a failure detector, not a wait: Load returns at once or hangs
				t.Fatalf("Load(%s) still blocked after 10s", tt.path)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant prefix %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// A config is read within the run budget: LoadContext gives up when its
// context ends, with a line saying so.
func TestLoadContextBudget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	writeConfig(t, path, validConfig)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := LoadContext(ctx, path)
	if err == nil || !strings.HasPrefix(err.Error(), "config "+path+": not read within the run budget") {
		t.Errorf("err = %v", err)
	}
	if _, err := LoadContext(context.Background(), path); err != nil {
		t.Errorf("LoadContext: %v", err)
	}
}

func writeConfig(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestParseErrorWording: whatever is wrong, the error is one line that
// names the place and speaks of the config, never of Go types or of the
// YAML library.
func TestParseErrorWording(t *testing.T) {
	base := "environments:\n  e: {base_url: https://x}\nsuites:\n  s:\n    cases:\n      - name: a\n"
	tests := []struct{ name, yaml, want string }{
		{"environments a list", "environments: [a]\n", `c.yaml:1: a list, want a mapping`},
		{"environment a list", "environments:\n  e: [x]\n", `c.yaml:2: a list, want a mapping`},
		{"base_url a list", "environments:\n  e: {base_url: [x]}\n", `c.yaml:2: a list, want a string`},
		{"vars a list", "environments:\n  e: {base_url: x, vars: [a]}\n", `c.yaml:2: a list, want a mapping`},
		{"bad duration", base + "        command: {argv: [x], timeout: 5x}\n", `c.yaml:7: "5x" is a string, want a duration such as 30s, 1m30s or 500ms`},
		{"duration a list", base + "        command: {argv: [x], timeout: [1]}\n", `c.yaml:7: a list, want a duration such as 30s`},
		{"argv a string", base + "        command: {argv: x}\n", `c.yaml:7: "x" is a string, want a list`},
		{"command a list", base + "        command: [x]\n", `c.yaml:7: a list, want a mapping`},
		{"steps a mapping", base + "        steps: {a: b}\n", `c.yaml:7: a mapping, want a list`},
		{"required not bool", base + "        required: maybe\n        steps: [{goto: x}]\n", `c.yaml:7: "maybe" is a string, want true or false`},
		{"suite a list", "suites: {s: [1]}\nenvironments: {e: {base_url: x}}\n", `c.yaml:1: a list, want a mapping`},
		{"tab", "\t- a\n", `c.yaml: found character that cannot start any token`},
		{"unknown anchor", "a: &x b\nc: *y\n", `c.yaml: unknown anchor 'y' referenced`},
		{"config a list", "- 1\n- 2\n", `c.yaml:1: the config is a list, want a mapping`},
		{"config a string", "just a string\n", `c.yaml:1: the config is a string, want a mapping`},
		{"step a list", base + "        steps:\n          - http: [x]\n", `c.yaml:8: step http: a list, want a mapping`},
		{"step bad duration", base + "        steps:\n          - http: {url: x, timeout: soon}\n", `c.yaml:8: step http: "soon" is a string, want a duration`},
		{"step nested unknown key", base + "        steps:\n          - http:\n              url: x\n              expect: {statuss: 200}\n", `c.yaml:10: step http: unknown key "statuss"`},
		{"step nested wrong kind", base + "        steps:\n          - sql: {dsn: x, query: y, expect: {rows: [1]}}\n", `c.yaml:8: step sql: a list, want a whole number`},
		{"template in a duration", base + "        steps:\n          - http: {url: x, timeout: \"{{.Vars.t}}\"}\n", `c.yaml:8: step http: "{{.Vars.t}}": a template can fill a text value only; give a duration`},
		{"template in a status", base + "        steps:\n          - http:\n              url: x\n              expect: {status: \"{{.Vars.s}}\"}\n", `c.yaml:10: step http: "{{.Vars.s}}": a template can fill a text value only; give a list`},
		{"template in a bool", base + "        steps:\n          - fill: {selector: a, value: b, secret: \"{{.Vars.s}}\"}\n", `c.yaml:8: step fill: "{{.Vars.s}}": a template can fill a text value only; give true or false`},
		{"unknown tenant key", "environments: {e: {base_url: x}}\nsuites: {s: {cases: [{name: a, steps: [{goto: x}]}]}}\ntenant:\n  prefix: sc-\n  htp: {}\n", `c.yaml:5: unknown key "htp" in tenant`},
		{"merge key of the wrong kind", "base: &b {base_url: [x]}\nenvironments:\n  e: {<<: *b}\n", `c.yaml:1: unknown key "base" in config`},
		{"merged unknown key", "environments:\n  e:\n    <<: {base_url: x, baseurl: y}\n", `c.yaml:3: unknown key "baseurl" in environment`},
	}
	goish := regexp.MustCompile(`!!|unmarshal|(^|\s)yaml: |\[\]|map\[|\b(suites|httpstep|time|tenant)\.[A-Z]`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant prefix %q", err, tt.want)
			}
			if m := goish.FindString(err.Error()); m != "" || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q speaks of %q, or spans lines", err, m)
			}
		})
	}
}

// FuzzParseConfig: no input panics Parse, and every error is one line in
// the config's terms.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(validConfig))
	f.Add([]byte("environments: [a]\n---\nx: 1\n"))
	f.Add([]byte("environments:\n  e: {base_url: x}\nsuites:\n  s:\n    cases:\n      - name: a\n        command: {argv: [x], timeout: [1]}\n"))
	goish := regexp.MustCompile(`!!|unmarshal|(^|\s)yaml: |\[\]|map\[|\b(suites|httpstep|time|tenant)\.[A-Z]`)
	quoted := regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'`) // the config's own text, quoted
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("c.yaml", data)
		if err == nil {
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "c.yaml") || strings.Contains(msg, "\n") {
			t.Fatalf("error is not one line naming the file: %q", msg)
		}
		if m := goish.FindString(quoted.ReplaceAllString(msg, `""`)); m != "" {
			t.Fatalf("error %q speaks of %q", msg, m)
		}
	})
}

// A second YAML document would be ignored: it is an error at its line.
func TestParseSecondDocument(t *testing.T) {
	for _, tt := range []struct{ name, tail, want string }{
		{"more config", "---\nsuites: {}\n", "c.yaml:24: a second YAML document starts here (---): put everything in one document"},
		{"empty", "\n---\n", "c.yaml:25: a second YAML document starts here"},
		{"broken", "---\n[\n", "c.yaml:25: did not find expected node content"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(validConfig+tt.tail))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant prefix %q", err, tt.want)
			}
		})
	}
	// A document start before the only document, and an end marker, are fine.
	if _, err := Parse("c.yaml", []byte("---\n"+validConfig+"...\n")); err != nil {
		t.Errorf("one marked document: %v", err)
	}
}

func TestEnvironmentChoice(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(strings.Replace(validConfig, "environments:\n", "environments:\n  prod: {base_url: https://p}\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cfg.Environment(""); err == nil || !strings.Contains(err.Error(), "pick one with --env (prod, staging)") {
		t.Errorf("no --env with two environments: %v", err)
	}
	if _, _, err := cfg.Environment("qa"); err == nil || !strings.Contains(err.Error(), `no environment "qa": use one of prod, staging`) {
		t.Errorf("unknown env: %v", err)
	}
	if n, _, err := cfg.Environment("prod"); err != nil || n != "prod" {
		t.Errorf("prod: %v %v", n, err)
	}
	if _, err := cfg.Suite("nope"); err == nil || !strings.Contains(err.Error(), `no suite "nope": use one of db`) {
		t.Errorf("unknown suite: %v", err)
	}
}

func TestTemplates(t *testing.T) {
	t.Setenv("SC_TEST_VAR", "from-env")
	sc := &Scope{BaseURL: "https://x", Env: "staging", Vars: map[string]string{"a": "1"}, Tenant: map[string]string{"login": "bob"}}
	for in, want := range map[string]string{
		"{{.BaseURL}}/login":     "https://x/login",
		"{{.Env}}-{{.Vars.a}}":   "staging-1",
		"{{.Tenant.login}}":      "bob",
		`{{env "SC_TEST_VAR"}}`:  "from-env",
		"plain {not a template}": "plain {not a template}",
	} {
		got, err := sc.Render(in)
		if err != nil || got != want {
			t.Errorf("Render(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"{{.Vars.missing}}":    `map has no entry for key "missing"`,
		`{{env "SC_NOT_SET"}}`: "environment variable SC_NOT_SET is not set",
		`{{file "/nonexist"}}`: "no such file",
		`{{file "/dev/zero"}}`: "/dev/zero is a device, not a regular file",
		"{{.Tenant.password}}": `map has no entry for key "password"`,
		"{{.Nope}}":            "can't evaluate field Nope",
	} {
		_, err := sc.Render(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Render(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestMasker(t *testing.T) {
	var m Masker
	m.Add("s3cret", "s3cret-longer", "ab", "")
	got := m.Mask("a s3cret-longer and s3cret, ab")
	if got != "a **** and ****, ab" {
		t.Errorf("Mask = %q", got)
	}
	m.Add("Mon Pass!42/x")
	if got := m.Mask("?password=Mon+Pass%2142%2Fx and /Mon%20Pass%2142%2Fx/"); got != "?password=**** and /****/" {
		t.Errorf("escaped forms not masked: %q", got)
	}
}

// Every browser action is a step kind, from the browser package's one
// table, with a short form or an example of its mapping form.
func TestBrowserActionsAreStepKinds(t *testing.T) {
	for _, a := range browser.Actions() {
		k, ok := stepKinds[a]
		field, example, known := browser.ShortForm(a)
		if !ok || !k.browser || !known || (field == "" && !strings.HasPrefix(example, a+": {")) {
			t.Errorf("action %s: kind %+v (%v), short form %q, example %q", a, k, ok, field, example)
		}
	}
	if _, _, known := browser.ShortForm("teleport"); known {
		t.Error("an unknown action has a short form")
	}
}
