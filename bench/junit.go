//go:build linux

package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

// cmdJUnit writes a JUnit report of n test cases, one in ten failing, in the
// shape of the repository's own big-report benchmarks (suites,
// suites/testreport), for an end-to-end run of a command case.
func cmdJUnit(args []string) error {
	fs := flag.NewFlagSet("junit", flag.ExitOnError)
	n := fs.Int("n", 10000, "test cases")
	out := fs.String("out", "big.xml", "the report")
	_ = fs.Parse(args)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<testsuites><testsuite name="big" tests="%d">`+"\n", *n)
	for i := range *n {
		fmt.Fprintf(w, `<testcase classname="pkg.Class%d" name="test_%d" time="0.%03d">`, i%50, i, i%1000)
		if i%10 == 0 {
			fmt.Fprintf(w, `<failure message="assertion %d failed">expected 1, got 2 at line %d</failure>`, i, i)
		}
		w.WriteString("</testcase>\n")
	}
	w.WriteString("</testsuite></testsuites>\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
