package testreport

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseJUnit reads a JUnit XML report: a <testsuites> or <testsuite> root,
// suites nested to any depth, and <testcase> elements with <failure>,
// <error>, <skipped> (Maven Surefire, pytest, Jest's jest-junit, RSpec's
// rspec_junit_formatter, Playwright, go-junit-report, Gradle…). Surefire's
// <flakyFailure>/<flakyError> without a final failure make a test Flaky.
// <system-out> and <system-err> are skipped, not kept. A report with no
// testsuite or testcase element is an error.
func ParseJUnit(r io.Reader) ([]Test, error) {
	dec := xml.NewDecoder(newCleanXML(r))
	dec.Strict = false // real reports carry odd entities and stray '&'
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	var tests []Test
	var suites []string // the enclosing testsuite names
	var cur *Test       // the testcase being read
	var text *strings.Builder
	var textFor string // the element whose text is collected: failure, error, skipped…
	var flakyMsg string
	suiteLevel := false // cur is a suite-level <error>, not a testcase
	sawRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(tests) > 0 || sawRoot {
				return tests, fmt.Errorf("junit: malformed XML after %d tests: %w", len(tests), err)
			}
			return nil, fmt.Errorf("junit: not XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "testsuites":
				sawRoot = true
			case "testsuite":
				sawRoot = true
				suites = append(suites, attr(t, "name"))
			case "testcase":
				sawRoot = true
				tc := Test{Name: attr(t, "name"), Class: attr(t, "classname")}
				if len(suites) > 0 {
					tc.Suite = suites[len(suites)-1]
				}
				if v := attr(t, "time"); v != "" {
					if secs, err := strconv.ParseFloat(decimal(v), 64); err == nil && secs >= 0 && secs < 1e9 {
						tc.Time, tc.HasTime = time.Duration(math.Round(secs*1e6))*time.Microsecond, true
					}
				}
				cur, flakyMsg = &tc, ""
			case "failure", "error", "skipped":
				if cur == nil {
					// A suite-level <error> (e.g. a file that did not load).
					if t.Name.Local == "skipped" {
						if err := dec.Skip(); err != nil {
							return tests, fmt.Errorf("junit: %w", err)
						}
						continue
					}
					cur, suiteLevel = &Test{Name: "(suite)", Class: last(suites), Suite: last(suites)}, true
				}
				st := map[string]Status{"failure": Failed, "error": Errored, "skipped": Skipped}[t.Name.Local]
				if st > cur.Status {
					cur.Status = st
					cur.Message = firstLine(attr(t, "message"))
					if generic(cur.Message) {
						cur.Message = ""
					}
					text, textFor = &strings.Builder{}, t.Name.Local
				}
			case "flakyFailure", "flakyError", "rerunFailure", "rerunError":
				if cur != nil && flakyMsg == "" {
					flakyMsg = firstLine(attr(t, "message"))
				}
				if err := dec.Skip(); err != nil {
					return tests, fmt.Errorf("junit: %w", err)
				}
				if cur != nil && cur.Status == Passed {
					cur.Status = Flaky
					cur.Message = flakyMsg
				}
			case "system-out", "system-err", "properties":
				if err := dec.Skip(); err != nil {
					return tests, fmt.Errorf("junit: %w", err)
				}
			}
		case xml.CharData:
			if text != nil && text.Len() < 4096 {
				text.Write(t[:min(len(t), 4096-text.Len())])
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "failure", "error", "skipped":
				if text != nil && t.Name.Local == textFor {
					if cur != nil && cur.Message == "" {
						cur.Message = firstLine(text.String())
					}
					text, textFor = nil, ""
				}
				if suiteLevel && cur != nil {
					tests = append(tests, *cur)
					cur, suiteLevel = nil, false
				}
			case "testcase":
				if cur != nil {
					tests = append(tests, *cur)
					cur = nil
				}
			case "testsuite":
				if len(suites) > 0 {
					suites = suites[:len(suites)-1]
				}
			}
		}
	}
	if !sawRoot {
		return nil, errors.New("junit: no <testsuite> or <testcase> in it")
	}
	return tests, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// generic reports a failure message that says nothing (go-junit-report
// writes "Failed"), so the element's text is used instead.
func generic(m string) bool {
	switch strings.ToLower(m) {
	case "", "failed", "failure", "error", "build error":
		return true
	}
	return false
}

// decimal reads a time as reports write it: "1.5", "1,234.5" (a thousands
// separator), or "0,5" (a decimal comma).
func decimal(v string) string {
	if strings.Contains(v, ".") {
		return strings.ReplaceAll(v, ",", "")
	}
	if strings.Count(v, ",") == 1 {
		return strings.Replace(v, ",", ".", 1)
	}
	return v
}
