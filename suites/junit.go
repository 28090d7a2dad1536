package suites

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/checks"
)

// Report is a run as CI servers read it: `run --junit FILE` writes it as
// JUnit XML. Its text is masked like the plugin output.
type Report struct {
	Suite, Env string
	Start      time.Time
	Total      time.Duration
	State      checks.State
	Summary    string
	Cases      []ReportCase
}

// ReportCase is one case (or one test of a command case, or the tenant's
// create and delete) in a Report.
type ReportCase struct {
	Class   string // the suite, or SUITE.CASE for a command case's tests
	Name    string
	Time    time.Duration
	State   checks.State
	Skipped bool
	Detail  string // why it failed, was skipped, or is flaky
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitProblem `xml:"skipped"`
}

type junitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// JUnit renders the report as JUnit XML: one testsuite for the run, a
// testcase per case, tenant step and command-case test. CRITICAL and
// WARNING are failures (their type says which: CI servers such as Jenkins
// mark a build with failures unstable), UNKNOWN an error, skipped cases
// skipped. The run's state and summary are properties.
func (rep Report) JUnit() ([]byte, error) {
	host, _ := os.Hostname()
	s := junitSuite{Name: rep.Suite + " on " + rep.Env, Time: seconds(rep.Total), Timestamp: rep.Start.UTC().Format(time.RFC3339),
		Hostname: host, Properties: []junitProperty{{"state", rep.State.String()}, {"summary", rep.Summary}, {"environment", rep.Env}}}
	for _, c := range rep.Cases {
		jc := junitCase{Name: c.Name, Classname: c.Class, Time: seconds(c.Time)}
		msg := firstLineOf(c.Detail)
		switch {
		case c.Skipped:
			jc.Skipped = &junitProblem{Message: msg}
			s.Skipped++
		case c.State == checks.Unknown:
			jc.Error = &junitProblem{Message: msg, Type: c.State.String(), Text: c.Detail}
			s.Errors++
		case c.State != checks.OK:
			jc.Failure = &junitProblem{Message: msg, Type: c.State.String(), Text: c.Detail}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, jc)
	}
	all := junitSuites{Name: "suitecheck", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	b, err := xml.MarshalIndent(all, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// WriteJUnit writes the report to path atomically (a temp file renamed), so
// that a CI server never reads half of one.
func (rep Report) WriteJUnit(path string) error {
	b, err := rep.JUnit()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	f, err := os.CreateTemp(dir, ".suitecheck-junit-*")
	if err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("--junit %s: %w", path, err)
	}
	return nil
}
