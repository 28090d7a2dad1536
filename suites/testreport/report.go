// Package testreport reads the results of test runners: JUnit XML as the
// common tools write it, `go test -json` and TAP. Each parser streams its
// input, so a report of any length is read in bounded memory: only the
// tests and the first line of each failure are kept.
package testreport

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is a test's outcome.
type Status int

// The outcomes, from best to worst.
const (
	Passed  Status = iota
	Skipped        // skipped, or a TAP TODO
	Flaky          // failed, then passed on a rerun (Surefire's flakyFailure)
	Failed         // an assertion failed
	Errored        // the test could not run to its assertions (JUnit <error>)
)

func (s Status) String() string {
	switch s {
	case Passed:
		return "passed"
	case Skipped:
		return "skipped"
	case Flaky:
		return "flaky"
	case Failed:
		return "failed"
	}
	return "error"
}

// Test is one test's result.
type Test struct {
	Suite   string // the test suite (JUnit testsuite, Go package)
	Class   string // JUnit classname
	Name    string
	Time    time.Duration
	HasTime bool // the report gave a time
	Status  Status
	Message string // the first line of the failure, error or skip reason
}

// FullName is how a person names the test: "Class.Name" as CI servers
// show JUnit tests, unless the name already says the class.
func (t Test) FullName() string {
	if t.Class == "" || strings.HasPrefix(t.Name, t.Class) || t.Class == t.Name {
		return t.Name
	}
	return t.Class + " " + t.Name
}

// Counts sums up tests by outcome.
type Counts struct{ Passed, Failed, Skipped, Flaky int }

// Count counts tests; errors count as failures.
func Count(tests []Test) Counts {
	var c Counts
	for _, t := range tests {
		switch t.Status {
		case Passed:
			c.Passed++
		case Skipped:
			c.Skipped++
		case Flaky:
			c.Flaky++
		default:
			c.Failed++
		}
	}
	return c
}

// Slowest returns the n slowest tests that ran, slowest first.
func Slowest(tests []Test, n int) []Test {
	var ran []Test
	for _, t := range tests {
		if t.Status != Skipped && t.HasTime {
			ran = append(ran, t)
		}
	}
	slices.SortStableFunc(ran, func(a, b Test) int { return cmp.Compare(b.Time, a.Time) })
	return ran[:min(n, len(ran))]
}

// maxMessage bounds a kept message line. It is longer than what is shown:
// the caller masks secrets first, then shortens, so that no secret is cut
// in two with its start left visible.
const maxMessage = 1000

// firstLine is the first non-empty line of s, trimmed and bounded.
func firstLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line != "" {
			return clip(line)
		}
	}
	return ""
}

// clip bounds a line at maxMessage bytes on a rune boundary and drops
// control characters.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
