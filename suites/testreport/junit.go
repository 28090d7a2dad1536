package testreport

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxDepth bounds how deep elements nest; real reports nest suites a
// few levels.
const maxDepth = 256

// ParseJUnit reads a JUnit XML report: a <testsuites> or <testsuite> root,
// suites nested to any depth, and <testcase> elements with <failure>,
// <error>, <skipped> (Maven Surefire, pytest, Jest's jest-junit, RSpec's
// rspec_junit_formatter, Playwright, go-junit-report, Gradle…). Surefire's
// <flakyFailure>/<flakyError> without a final failure make a test Flaky.
// <system-out> and <system-err> are skipped, not kept, and any text is
// cut while read (see xmlFilter): a report of any size is read in bounded
// memory. A report with no testsuite or testcase element is an error; so
// is a read error, which comes with the results read until then.
func ParseJUnit(r io.Reader) (*Results, error) {
	in := newXMLFilter(r)
	dec := xml.NewDecoder(in)
	dec.Strict = false // real reports carry odd entities and stray '&'
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	res := &Results{}
	var suites []string // the enclosing testsuite names
	var cur *Test       // the testcase being read
	var text *strings.Builder
	var out *strings.Builder // a testcase's system-out or system-err, for its attachments
	var textFor string       // the element whose text is collected: failure, error, skipped…
	var flakyMsg string
	suiteLevel := false // cur is a suite-level <error>, not a testcase
	sawRoot := false
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, junitErr(in, err, res.Total(), sawRoot)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxDepth {
				return res, junitErr(in, errTooDeep, res.Total(), sawRoot)
			}
			switch t.Name.Local {
			case "testsuites":
				sawRoot = true
			case "testsuite":
				sawRoot = true
				suites = append(suites, clip(attr(t, "name")))
			case "testcase":
				sawRoot = true
				tc := Test{Name: clip(attr(t, "name")), Class: clip(attr(t, "classname"))}
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
						if err := skip(dec, &depth); err != nil {
							return res, junitErr(in, err, res.Total(), sawRoot)
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
				if err := skip(dec, &depth); err != nil {
					return res, junitErr(in, err, res.Total(), sawRoot)
				}
				if cur != nil && cur.Status == Passed {
					cur.Status = Flaky
					cur.Message = flakyMsg
				}
			case "system-out", "system-err":
				if cur != nil && !suiteLevel {
					// A testcase's output: its [[ATTACHMENT|path]] lines.
					out = &strings.Builder{}
					continue
				}
				if err := skip(dec, &depth); err != nil {
					return res, junitErr(in, err, res.Total(), sawRoot)
				}
			case "properties":
				if err := skip(dec, &depth); err != nil {
					return res, junitErr(in, err, res.Total(), sawRoot)
				}
			}
		case xml.CharData:
			if text != nil && text.Len() < 4096 {
				text.Write(t[:min(len(t), 4096-text.Len())])
			}
			if out != nil && out.Len() < maxOutput {
				out.Write(t[:min(len(t), maxOutput-out.Len())])
			}
		case xml.EndElement:
			depth = max(depth-1, 0)
			switch t.Name.Local {
			case "system-out", "system-err":
				if out != nil && cur != nil {
					cur.Attachments = attachments(out.String(), cur.Attachments)
				}
				out = nil
			case "failure", "error", "skipped":
				if text != nil && t.Name.Local == textFor {
					if cur != nil && cur.Message == "" {
						cur.Message = firstLine(text.String())
					}
					text, textFor = nil, ""
				}
				if suiteLevel && cur != nil {
					res.Add(*cur)
					cur, suiteLevel = nil, false
				}
			case "testcase":
				if cur != nil {
					if cur.Status < Flaky {
						cur.Attachments = nil // evidence of failures only
					}
					res.Add(*cur)
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
		return res, errors.New("junit: no <testsuite> or <testcase> in it")
	}
	return res, nil
}

var errTooDeep = fmt.Errorf("elements nested deeper than %d", maxDepth)

// junitErr says why reading a report stopped after n tests.
func junitErr(in *xmlFilter, err error, n int, sawRoot bool) error {
	var se *xml.SyntaxError
	switch {
	case in.err != nil && !errors.Is(in.err, io.EOF) && !errors.As(err, &se):
		// The input ended early (the run's time ran out), or the filter
		// refused a tag.
		return fmt.Errorf("junit: reading stopped after %d tests: %w", n, in.err)
	case errors.Is(err, errTooDeep):
		return fmt.Errorf("junit: %w, after %d tests", err, n)
	case n > 0 || sawRoot:
		return fmt.Errorf("junit: malformed XML after %d tests: %w", n, err)
	}
	return fmt.Errorf("junit: not XML: %w", err)
}

// skip skips the element just started, as dec.Skip does, within maxDepth.
func skip(dec *xml.Decoder, depth *int) error {
	start := *depth
	for *depth >= start {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			if *depth++; *depth > maxDepth {
				return errTooDeep
			}
		case xml.EndElement:
			*depth--
		}
	}
	return nil
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

// maxOutput bounds what of a testcase's system-out and system-err is
// searched for attachments (the filter cuts each text at maxText anyway).
const maxOutput = 64 << 10

// attachmentRe is one [[ATTACHMENT|path]] line.
var attachmentRe = lazyRegexp(`\[\[ATTACHMENT\|([^\]\r\n]+)\]\]`)

// lazyRegexp compiles expr on first use: a run that reads no report of
// that kind (or only prints its version) does not pay for it.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// attachments adds the paths of the [[ATTACHMENT|path]] lines in text to
// have, up to MaxAttachments, without repeats.
func attachments(text string, have []string) []string {
	for _, m := range attachmentRe().FindAllStringSubmatch(text, MaxAttachments) {
		p := strings.TrimSpace(m[1])
		if p != "" && len(p) <= 1024 && len(have) < MaxAttachments && !slices.Contains(have, p) {
			have = append(have, p)
		}
	}
	return have
}
