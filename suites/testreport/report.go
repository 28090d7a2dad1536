// Package testreport reads the results of test runners: JUnit XML as the
// common tools write it, `go test -json` and TAP. Each parser streams its
// input, so a report of any size or length is read in bounded memory:
// every test is counted, but only the first failures (with the first line
// of each message), the first other tests and the slowest are kept
// (Results), and texts, names and lines are cut at a bound while read.
package testreport

import (
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
	// Attachments are the files the runner attached to the test, as its
	// report names them (JUnit's [[ATTACHMENT|path]] lines, as Playwright
	// and the Jenkins and GitLab conventions write them): at most
	// MaxAttachments, for a test that failed, errored or was flaky.
	Attachments []string
}

// MaxAttachments bounds the attachments kept of one test.
const MaxAttachments = 10

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

// Total is the number of tests counted.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Skipped + c.Flaky }

func (c *Counts) add(s Status) {
	switch s {
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

// Count counts tests; errors count as failures.
func Count(tests []Test) Counts {
	var c Counts
	for _, t := range tests {
		c.add(t.Status)
	}
	return c
}

// What Results keep of a report of any length.
const (
	// MaxProblems is how many failed, errored and flaky tests are kept,
	// with their messages.
	MaxProblems = 100
	// MaxListed is how many other tests (passed, skipped) are kept.
	MaxListed = 500
	// MaxSlowest is how many of the slowest tests are kept.
	MaxSlowest = 50
)

// Results are what a report says, in bounded memory whatever its length:
// every test is counted, but only the first MaxProblems failed, errored
// or flaky tests, the first MaxListed others and the MaxSlowest slowest
// are kept.
type Results struct {
	Counts  Counts
	Tests   []Test // the kept tests, in report order
	Slowest []Test // the slowest tests that ran with a time, slowest first
	// Unlisted is how many tests were counted but not kept in Tests.
	Unlisted int

	problems, listed int
}

// Add counts a test and keeps it if there is room.
func (r *Results) Add(t Test) {
	r.Counts.add(t.Status)
	r.keep(t)
	r.timed(t)
}

// Merge adds what other results counted and kept.
func (r *Results) Merge(o *Results) {
	r.Counts.Passed += o.Counts.Passed
	r.Counts.Failed += o.Counts.Failed
	r.Counts.Skipped += o.Counts.Skipped
	r.Counts.Flaky += o.Counts.Flaky
	r.Unlisted += o.Unlisted
	for _, t := range o.Tests {
		r.keep(t)
	}
	for _, t := range o.Slowest {
		r.timed(t)
	}
}

// keep keeps a counted test if there is room.
func (r *Results) keep(t Test) {
	switch {
	case t.Status >= Flaky && r.problems < MaxProblems:
		r.problems++
		r.Tests = append(r.Tests, t)
	case t.Status < Flaky && r.listed < MaxListed:
		r.listed++
		r.Tests = append(r.Tests, t)
	default:
		r.Unlisted++
	}
}

// timed keeps a test among the slowest if it is: slowest first, and of
// equal times the earliest ahead.
func (r *Results) timed(t Test) {
	if t.Status == Skipped || !t.HasTime {
		return
	}
	if len(r.Slowest) == MaxSlowest && t.Time <= r.Slowest[len(r.Slowest)-1].Time {
		return
	}
	i, _ := slices.BinarySearchFunc(r.Slowest, t.Time, func(s Test, d time.Duration) int {
		if s.Time >= d {
			return -1
		}
		return 1
	})
	if len(r.Slowest) == MaxSlowest {
		r.Slowest = r.Slowest[:MaxSlowest-1]
	}
	r.Slowest = slices.Insert(r.Slowest, i, t)
}

// Total is the number of tests counted.
func (r *Results) Total() int { return r.Counts.Total() }

// Failed are the kept tests that failed or errored.
func (r *Results) Failed() []Test {
	var out []Test
	for _, t := range r.Tests {
		if t.Status >= Failed {
			out = append(out, t)
		}
	}
	return out
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
