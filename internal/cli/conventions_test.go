package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/suitecheck/suitecheck/checks"
)

// libraryWording is text of cobra, pflag or Go that must never reach a
// user: type names, parser names, quoted runes.
var libraryWording = []string{"accepts ", "arg(s)", "strconv.", "time: ", "invalid syntax", "for \"suitecheck", "invalid argument",
	" int,", "Duration", "ParseBool", "ParseInt", "shorthand", "' in -", "bad flag syntax"}

// The monitoring-plugins conventions: help and the version are not checks
// (exit 3, on stdout); a bare call is a one-line UNKNOWN naming the
// commands.
func TestPluginConventions(t *testing.T) {
	tests := []struct {
		args   []string
		stdout string // prefix
	}{
		{[]string{"--help"}, "suitecheck is a Nagios/Icinga-compatible check plugin"},
		{[]string{"-h"}, "suitecheck is a Nagios/Icinga-compatible check plugin"},
		{[]string{"run", "--help"}, "Run a named suite"},
		{[]string{"help", "run"}, "Run a named suite"},
		{[]string{"check", "postgres", "-h"}, "Checks, in order,"},
		{[]string{"-V"}, "suitecheck test (commit c0ffee, go)\n"},
		{[]string{"--version"}, "suitecheck test (commit c0ffee, go)\n"},
		{[]string{"run", "login", "-V"}, "suitecheck test"}, // nothing runs
		{[]string{"run", "-V"}, "suitecheck test"},          // the missing suite does not matter
		{[]string{"-t", "0", "-V"}, "suitecheck test"},      // nor a bad global flag
		{[]string{"version"}, "suitecheck test (commit c0ffee, go)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, stdout, err := executeBuild(t, Build{Version: "test", Commit: "c0ffee", GoVersion: "go"}, tt.args...)
			if err != nil || !out.Informational || out.Result != nil {
				t.Fatalf("outcome %+v, err %v: want informational (exit 3), no result", out, err)
			}
			if !strings.HasPrefix(stdout, tt.stdout) {
				t.Errorf("stdout = %q, want prefix %q", stdout, tt.stdout)
			}
		})
	}
	for _, args := range [][]string{nil, {"tenant"}} {
		out, stdout, err := execute(t, args...)
		if err != nil || out.Informational || out.Result == nil || out.Result.State != checks.Unknown || stdout != "" {
			t.Fatalf("%v: outcome %+v, stdout %q, err %v: want an UNKNOWN result", args, out, stdout, err)
		}
		r := out.Result
		if !strings.Contains(r.Summary, ": give a command: ") || len(r.Long) < 3 || !strings.Contains(r.Render(0), "--help") {
			t.Errorf("%v: %q", args, r.Render(0))
		}
	}
	if out, _, _ := execute(t); !strings.Contains(out.Result.Summary, "check, demo, list, run, tenant, validate, version, e.g. suitecheck run SUITE --config FILE") {
		t.Errorf("bare: %q", out.Result.Summary)
	}
}

// Every flag that parses its value (a number, a duration, a boolean) says
// in our words what to give when the value is bad, on every command that
// has it; so does a flag without its value, or one that does not exist.
func TestEveryFlagTypeInOurWords(t *testing.T) {
	bad := map[string]string{"int": "1.5", "count": "x", "duration": "5", "bool": "maybe", "float64": "x", "uint": "-1"}
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.Fields(c.CommandPath())[1:]
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			typ := f.Value.Type()
			if typ == "string" || typ == "stringArray" {
				return // taken as given; checked when used (e.g. -t, -w)
			}
			value, ok := bad[typ]
			if !ok {
				t.Errorf("%s --%s: a flag of type %s, which this test has no bad value for", c.CommandPath(), f.Name, typ)
				return
			}
			seen[typ] = true
			args := append(append([]string{}, path...), "--"+f.Name+"="+value)
			_, _, err := execute(t, args...)
			assertOurWords(t, args, err, "--"+f.Name+" \""+value+"\": give ")
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(Tree(Build{}))
	for _, typ := range []string{"int", "count", "duration", "bool"} {
		if !seen[typ] {
			t.Errorf("no flag of type %s was tried", typ)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-t"}, "-t/--timeout needs a value"},
		{[]string{"run", "s", "--config"}, "--config needs a value"},
		{[]string{"run", "s", "-vx"}, "unknown flag: -x"},
		{[]string{"-Z", "run"}, "unknown flag: -Z"},
		{[]string{"run", "s", "---x"}, `"---x" is not a flag`},
		{[]string{"run", "s", "--teardown-timeout", "5x"}, `--teardown-timeout "5x": give a duration with its unit`},
		{[]string{"run", "x", "--timeout", "5x"}, `-t/--timeout: invalid timeout "5x": use SECONDS[:STATE]`},
	} {
		_, _, err := execute(t, tt.args...)
		assertOurWords(t, tt.args, err, tt.want)
	}
}

func assertOurWords(t *testing.T, args []string, err error, want string) {
	t.Helper()
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
		t.Errorf("%v: err = %v, want a UsageError with %q", args, err, want)
		return
	}
	for _, lib := range libraryWording {
		if strings.Contains(err.Error(), lib) {
			t.Errorf("%v: err = %q: a library's wording (%q)", args, err, lib)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("%v: err = %q: more than one line", args, err)
	}
}
