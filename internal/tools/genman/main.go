// Command genman writes suitecheck's man pages (one per command, with
// cobra's own generator) and its bash, zsh and fish completion scripts from
// the command tree itself, so that the flags, the pages and the completions
// never disagree. `make deb` runs it; it is never linked into suitecheck
// (its generator pulls in a Markdown-to-roff converter the binary does not
// need).
//
//	go run ./internal/tools/genman -man DIR -completions DIR -version v1.2.3
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/suitecheck/suitecheck/internal/cli"
)

func main() {
	man := flag.String("man", "", "write the man pages (section 1) into this directory")
	comp := flag.String("completions", "", "write the completions into this directory: bash/suitecheck, zsh/_suitecheck, fish/suitecheck.fish")
	version := flag.String("version", "dev", "the version the pages' footer names")
	flag.Parse()
	if *man == "" && *comp == "" {
		fmt.Fprintln(os.Stderr, "genman: give -man DIR and/or -completions DIR")
		os.Exit(2)
	}
	date, err := sourceDate(os.Getenv("SOURCE_DATE_EPOCH"))
	if err == nil && *man != "" {
		err = writeMan(*man, *version, date)
	}
	if err == nil && *comp != "" {
		err = writeCompletions(*comp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genman:", err)
		os.Exit(1)
	}
}

// sourceDate is the pages' date: SOURCE_DATE_EPOCH when set (a
// reproducible build: the commit's time), else now.
func sourceDate(epoch string) (time.Time, error) {
	if epoch == "" {
		return time.Now().UTC(), nil
	}
	s, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: not a Unix time", epoch)
	}
	return time.Unix(s, 0).UTC(), nil
}

// tree is the command tree as the pages show it: without cobra's "Auto
// generated" footer, which would date them.
func tree(version string) *cobra.Command {
	root := cli.Tree(cli.Build{Version: version})
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root
}

// writeMan writes suitecheck.1, suitecheck-run.1, … into dir.
func writeMan(dir, version string, date time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return doc.GenManTree(tree(version), &doc.GenManHeader{
		Section: "1",
		Date:    &date,
		Source:  "suitecheck " + version,
		Manual:  "suitecheck manual",
	}, dir)
}

// writeCompletions writes the three shells' scripts, named as their
// Debian directories want them.
func writeCompletions(dir string) error {
	root := tree("")
	for _, c := range []struct {
		path string
		gen  func(*os.File) error
	}{
		{"bash/suitecheck", func(f *os.File) error { return root.GenBashCompletionV2(f, true) }},
		{"zsh/_suitecheck", func(f *os.File) error { return root.GenZshCompletion(f) }},
		{"fish/suitecheck.fish", func(f *os.File) error { return root.GenFishCompletion(f, true) }},
	} {
		path := filepath.Join(dir, c.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		err = errors.Join(c.gen(f), f.Close())
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}
