package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every command has a page, and every flag of a command, its own and the
// ones it inherits, stands in that page as the page renders it: the pages
// are the flags.
func TestManPagesShowEveryFlag(t *testing.T) {
	dir := t.TempDir()
	date := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if err := writeMan(dir, "v1.2.3", date); err != nil {
		t.Fatal(err)
	}
	pages := 0
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.HasParent() {
			return // help, __complete: no page
		}
		pages++
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: no page: %v", c.CommandPath(), err)
			return
		}
		page := string(b)
		if !strings.Contains(page, `.TH "`+strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-"))+`" "1" "Nov 2026" "suitecheck v1.2.3"`) {
			t.Errorf("%s: header %q", name, strings.SplitN(page, "\n", 3)[1])
		}
		check := func(f *pflag.Flag) {
			if !strings.Contains(page, `\fB--`+f.Name+`\fP`) {
				t.Errorf("%s lacks --%s", name, f.Name)
			}
			if f.Shorthand != "" && !strings.Contains(page, `\fB-`+f.Shorthand+`\fP, \fB--`+f.Name+`\fP`) {
				t.Errorf("%s lacks -%s for --%s", name, f.Shorthand, f.Name)
			}
		}
		c.NonInheritedFlags().VisitAll(check)
		c.InheritedFlags().VisitAll(check)
		if c.HasAvailableSubCommands() && !strings.Contains(page, ".SH SEE ALSO") {
			t.Errorf("%s does not point to its commands' pages", name)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(tree("v1.2.3"))
	entries, _ := os.ReadDir(dir)
	if pages < 10 || len(entries) != pages {
		t.Errorf("%d commands, %d pages", pages, len(entries))
	}
	// man itself reads the pages without a warning (lintian runs the same).
	for _, e := range entries {
		var stderr strings.Builder
		cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", filepath.Join(dir, e.Name()))
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man %s: %v\n%s", e.Name(), err, stderr.String())
		}
	}
}

// The completions are cobra's, calling back into suitecheck for flags.
func TestCompletions(t *testing.T) {
	dir := t.TempDir()
	if err := writeCompletions(dir); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"bash/suitecheck":      "__complete",
		"zsh/_suitecheck":      "#compdef suitecheck",
		"fish/suitecheck.fish": "complete -c suitecheck",
	} {
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v, lacks %q", path, err, want)
		}
	}
}

func TestSourceDate(t *testing.T) {
	if d, err := sourceDate("1764460800"); err != nil || !d.Equal(time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("sourceDate = %v, %v", d, err)
	}
	if _, err := sourceDate("yesterday"); err == nil {
		t.Error("a bad SOURCE_DATE_EPOCH was taken")
	}
}

// The Icinga 2 CheckCommand the package installs maps every flag of the
// commands it runs (run, demo): a new flag is not forgotten there.
func TestIcingaCommandMapsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("../../../contrib/icinga2/suitecheck.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	root := tree("")
	for _, name := range []string{"run", "demo"} {
		c, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		check := func(f *pflag.Flag) {
			switch f.Name {
			case "help", "version", "print-config", "keep":
				return // not for a check
			case "ledger-dsn":
				// Passed in the environment, kept out of the command line
				// that Icinga 2 stores with each result and ps shows.
				if !strings.Contains(conf, "env.SUITECHECK_LEDGER_DSN = ") {
					t.Errorf("contrib/icinga2/suitecheck.conf does not pass the ledger DSN in SUITECHECK_LEDGER_DSN")
				}
				return
			}
			if !strings.Contains(conf, `"--`+f.Name+`" = {`) && (f.Shorthand == "" || !strings.Contains(conf, `"-`+f.Shorthand+`" = {`)) {
				t.Errorf("contrib/icinga2/suitecheck.conf does not map %s's --%s", name, f.Name)
			}
		}
		c.NonInheritedFlags().VisitAll(check)
		c.InheritedFlags().VisitAll(check)
	}
}
