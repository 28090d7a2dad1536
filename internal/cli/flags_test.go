package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/suitecheck/suitecheck/checks/httpcheck"
	"github.com/suitecheck/suitecheck/checks/postgres"
	"github.com/suitecheck/suitecheck/suites"
)

// parse runs a command on args with a run function that only keeps what
// it was given: flag parsing without running anything.
func parse[O any](t *testing.T, newCmd func(*globals, func(*cobra.Command, *O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	var got *O
	cmd := newCmd(&globals{stderr: io.Discard, out: &Outcome{}}, func(_ *cobra.Command, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	if err == nil && got == nil {
		t.Fatal("the command ran nothing")
	}
	return got, err
}

func TestRunFlags(t *testing.T) {
	o, err := parse(t, newRun, "login", "--config", "c.yaml", "--env", "prod", "--retries", "2", "--teardown-timeout", "5s",
		"--junit", "out.xml", "--browser", "/usr/bin/chromium", "--browser-url", "ws://b:9222", "--artifacts", "/a", "--keep-artifacts", "3", "--state-dir", "/s",
		"--case", "sign in, then upload", "--case", "api*", "--tag", "files", "--tag", "slow")
	if err != nil {
		t.Fatal(err)
	}
	r := o.run
	if r.Suite != "login" || o.config.path != "c.yaml" || r.Env != "prod" || r.Retries != 2 || r.Tenants.TeardownTimeout != 5*time.Second ||
		o.junit != "out.xml" || r.Browser.Bin != "/usr/bin/chromium" || r.Browser.RemoteURL != "ws://b:9222" || r.Browser.Artifacts != "/a" ||
		r.Browser.KeepRuns != 3 || r.Tenants.StateDir != "/s" ||
		!slices.Equal(r.Cases, []string{"sign in, then upload", "api*"}) || !slices.Equal(r.Tags, []string{"files", "slow"}) {
		t.Errorf("options %+v", *o)
	}
	o, err = parse(t, newRun, "login")
	if err != nil || o.run.Retries != -1 || o.run.Browser.KeepRuns != 10 || o.run.Tenants.TeardownTimeout != suites.DefaultTeardownTimeout ||
		o.run.Cases != nil || o.run.Tags != nil {
		t.Errorf("defaults %+v, %v", o.run, err)
	}
	for _, bad := range [][]string{{"--retries", "11"}, {"--retries", "-2"}, {"--retries", "-1"}, {"--teardown-timeout", "0s"}, {"--keep-artifacts", "0"},
		{"--case", "sign["}, {"--case", ""}, {"--tag", ""}} {
		o, err := parse(t, newRun, append([]string{"login"}, bad...)...)
		var ue *UsageError
		if !errors.As(err, &ue) || o != nil {
			t.Errorf("%v: err %v, ran %v: want a UsageError and no run", bad, err, o != nil)
		}
	}
}

func TestDemoFlags(t *testing.T) {
	o, err := parse(t, newDemo, "--break", "db-readonly", "--print-config", "--keep", "--teardown-timeout", "3s")
	if err != nil || o.demo.Break != "db-readonly" || !o.printConfig || !o.keep || o.demo.Run.Tenants.TeardownTimeout != 3*time.Second || o.demo.Run.Retries != -1 {
		t.Errorf("options %+v, %v", o, err)
	}
}

func TestCheckPostgresFlags(t *testing.T) {
	o, err := parse(t, func(g *globals, runF func(*cobra.Command, *postgres.Options) error) *cobra.Command {
		return newCheckPostgres(g, runF)
	}, "--dsn", "host=db user=app", "--password-file", "/pw", "--extension", "uuid-ossp", "--extension", "pg_trgm",
		"--table", "files", "--writable", "files", "--write-probe", "SELECT 1")
	if err != nil || o.DSN != "host=db user=app" || o.PasswordFile != "/pw" || !slices.Equal(o.Extensions, []string{"uuid-ossp", "pg_trgm"}) ||
		!slices.Equal(o.Tables, []string{"files"}) || !slices.Equal(o.Writable, []string{"files"}) || o.WriteProbe != "SELECT 1" {
		t.Errorf("options %+v, %v", o, err)
	}
}

func TestCheckHTTPFlags(t *testing.T) {
	newCmd := func(g *globals, runF func(*cobra.Command, *httpcheck.Options) error) *cobra.Command {
		return newCheckHTTP(g, runF)
	}
	o, err := parse(t, newCmd, "-H", "app.example.com", "-I", "10.0.0.5", "-p", "8443", "-u", "/login?x=1", "-S", "--sni=edge.example.com",
		"-j", "HEAD", "-e", "200,301-302", "-s", "Welcome", "-r", "build [0-9]+", "-f", "follow", "--max-redirs", "3",
		"--cert-warning", "30", "--cert-critical", "10", "--ca-file", "/etc/ca.pem")
	want := httpcheck.Options{Host: "app.example.com", Address: "10.0.0.5", Port: 8443, Path: "/login?x=1", TLS: true, SNI: "edge.example.com",
		Method: "HEAD", Expect: "200,301-302", String: "Welcome", Regex: "build [0-9]+", OnRedirect: "follow", MaxRedirects: 3,
		CertWarning: 30, CertCritical: 10, CAFile: "/etc/ca.pem"}
	if err != nil || !reflect.DeepEqual(*o, want) {
		t.Errorf("options %+v, %v\nwant %+v", o, err, want)
	}
	// The long names, check_http's where it has them; the defaults.
	o, err = parse(t, newCmd, "--url", "https://app.example.com/", "--IP-address", "::1", "--expect", "2xx", "--onredirect", "ok", "--regex", "x", "--string", "y", "--method", "GET")
	want = httpcheck.Options{URL: "https://app.example.com/", Address: "::1", Expect: "2xx", OnRedirect: "ok", Regex: "x", String: "y", Method: "GET",
		MaxRedirects: httpcheck.DefaultMaxRedirects, CertWarning: httpcheck.DefaultCertWarning, CertCritical: httpcheck.DefaultCertCritical}
	if err != nil || !reflect.DeepEqual(*o, want) {
		t.Errorf("options %+v, %v\nwant %+v", o, err, want)
	}
	// A bare --sni, as check_http takes it, is -H's name.
	if o, err := parse(t, newCmd, "-H", "app", "-S", "--sni"); err != nil || o.SNI != "" || o.Host != "app" {
		t.Errorf("bare --sni: %+v, %v", o, err)
	}
	if o, err := parse(t, newCmd, "-H", "app", "-S", "--sni", "edge"); o != nil || !errors.As(err, new(*UsageError)) || !strings.Contains(err.Error(), "give the name as --sni=NAME") {
		t.Errorf("--sni NAME: ran %v, err %v: want a UsageError naming --sni=NAME", o != nil, err)
	}
	if o, err := parse(t, newCmd, "-H", "app", "extra"); o != nil || !errors.As(err, new(*UsageError)) {
		t.Errorf("a stray argument: ran %v, err %v: want a UsageError", o != nil, err)
	}
}

func TestTenantFlags(t *testing.T) {
	o, err := parse(t, newTenantSweep, "--older-than", "2h", "--config", "c.yaml", "--env", "prod", "--state-dir", "/s", "--teardown-timeout", "3s")
	if err != nil || o.olderThan != 2*time.Hour || o.cf.path != "c.yaml" || o.env != "prod" || o.o.StateDir != "/s" || o.o.TeardownTimeout != 3*time.Second {
		t.Errorf("sweep options %+v, %v", o, err)
	}
	if o, err := parse(t, newTenantSweep, "--older-than", "-1h"); o != nil || !errors.As(err, new(*UsageError)) {
		t.Errorf("negative --older-than: ran %v, err %v", o != nil, err)
	}
	d, err := parse(t, newTenantDelete, "812", "--env", "prod")
	if err != nil || d.id != "812" || d.env != "prod" {
		t.Errorf("delete options %+v, %v", d, err)
	}
}

func TestTargetFlags(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("s3cret\nignored\n"), 0o600)
	o, err := parse(t, newRun, "login", "-H", "10.1.2.3", "--port", "8443", "--var", "user=monitor", "--var", "org=acme", "--secret-var", "pw=@"+pw)
	tg := o.run.Target
	if err != nil || tg.Host != "10.1.2.3" || tg.Port != 8443 || tg.Vars["user"] != "monitor" || tg.Vars["org"] != "acme" || tg.Secrets["pw"] != "s3cret" {
		t.Errorf("target %+v, %v", tg, err)
	}
	s, err := parse(t, newTenantSweep, "--base-url", "https://app.example", "--var", "a=b")
	if err != nil {
		t.Fatal(err)
	}
	// The tenant commands resolve their target when they run.
	if tg, err := s.target.resolve(); err != nil || tg.BaseURL != "https://app.example" || tg.Vars["a"] != "b" {
		t.Errorf("tenant target %+v, %v", tg, err)
	}
	// -I: an address (IPv6 too) or a name for the base URL's host.
	for _, a := range []string{"10.0.0.5", "::1", "[2001:db8::1]", "node7.internal", "lb-node-2", "node7.example.com."} {
		if o, err := parse(t, newRun, "login", "--base-url", "https://app.example.com", "-I", a); err != nil || o.run.Target.Address != strings.Trim(a, "[]") {
			t.Errorf("-I %s: %+v, %v", a, o, err)
		}
	}
	for _, bad := range [][]string{{"--var", "novalue"}, {"--var", "=x"}, {"--secret-var", "pw=literal"}, {"--secret-var", "pw=@/dev/zero"},
		{"--base-url", "https://x", "-H", "h"}, {"--port", "70000"}, {"-I", "https://10.0.0.5/"}, {"-I", "10.0.0.5:8443"}, {"--address", "a b"},
		{"-I", "10.0.0.256"}, {"-I", "127.0.0.1,127.0.0.2"}, {"-I", "-5"}, {"-I", "fe80::1%eth0"}, {"-I", "node_7"}} {
		o, err := parse(t, newRun, append([]string{"login"}, bad...)...)
		if o != nil || !errors.As(err, new(*UsageError)) {
			t.Errorf("%v: ran %v, err %v: want a UsageError", bad, o != nil, err)
		}
	}
}
