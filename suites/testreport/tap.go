package testreport

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TAP reads the Test Anything Protocol (versions 12 to 14): "ok N - name",
// "not ok N - name", the SKIP and TODO directives (a failing TODO test is
// not a failure), "Bail out!", and the YAML diagnostics block after a test,
// whose "message" and "duration_ms" (as node's test runner writes them) are
// read. The plan "1..N" is required, once: output without one, with two,
// or with more or fewer results than planned is malformed (after a
// "Bail out!", fewer are expected). Indented lines (subtests) are not
// counted: their parent's line sums them.
type TAP struct {
	res      Results
	pending  *Test // the last test line, until its YAML block has been read
	n        int   // test lines
	planned  int
	plans    int
	bailed   string
	inYAML   bool
	yamlOurs bool // the YAML block is the pending test's
	sawAny   bool
	done     bool
}

// NewTAP returns a TAP parser.
func NewTAP() *TAP { return &TAP{planned: -1} }

var (
	tapLine  = lazyRegexp(`^(not )?ok\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$`)
	tapPlan  = lazyRegexp(`^1\.\.(\d+)(?:\s*#\s*(.*))?$`)
	yamlKVRe = lazyRegexp(`^\s+(message|duration_ms|error):\s*(.*)$`)
)

// Line implements LineParser.
func (p *TAP) Line(line []byte) {
	if p.inYAML && len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
		p.inYAML = false // a block never closed with "...": the next test ends it
	}
	if p.inYAML {
		p.yamlLine(line)
		return
	}
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		if string(bytes.TrimSpace(line)) == "---" {
			// A top-level test's block is indented by two spaces; a
			// subtest's by more, and is not ours.
			p.inYAML = true
			p.yamlOurs = bytes.HasPrefix(line, []byte("  ---")) && !bytes.HasPrefix(line, []byte("   ")) && p.pending != nil
		}
		return // a subtest's line, or its YAML
	}
	switch {
	case bytes.HasPrefix(line, []byte("Bail out!")):
		p.flush()
		p.sawAny = true
		p.bailed = clip(strings.TrimSpace(string(line[len("Bail out!"):])))
		if p.bailed == "" {
			p.bailed = "bailed out"
		}
	case bytes.HasPrefix(line, []byte("1..")):
		m := tapPlan().FindSubmatch(line)
		if m == nil {
			return
		}
		p.flush()
		p.sawAny = true
		p.plans++
		if n, err := strconv.Atoi(string(m[1])); err == nil && p.plans == 1 {
			p.planned = n
		} else if err != nil {
			p.planned = -2 // more than anyone could report
		}
	case bytes.HasPrefix(line, []byte("ok")) || bytes.HasPrefix(line, []byte("not ok")):
		m := tapLine().FindSubmatch(line)
		if m == nil {
			return
		}
		p.flush()
		p.sawAny = true
		p.n++
		t := Test{Name: clip(strings.TrimSpace(string(m[3])))}
		if t.Name == "" {
			t.Name = "test " + cmp.Or(string(m[2]), strconv.Itoa(p.n))
		}
		directive := strings.TrimSpace(string(m[4]))
		upper := strings.ToUpper(directive)
		switch {
		case strings.HasPrefix(upper, "SKIP"):
			// "SKIP reason", "skipped: reason"
			t.Status, t.Message = Skipped, clip(strings.TrimLeft(strings.TrimLeft(directive[4:], "PEDped"), ": "))
		case strings.HasPrefix(upper, "TODO"):
			t.Status, t.Message = Skipped, clip("TODO "+strings.TrimSpace(directive[4:]))
		case len(m[1]) > 0:
			t.Status = Failed
		}
		p.pending = &t
	}
}

// yamlLine reads a line of a YAML diagnostics block.
func (p *TAP) yamlLine(line []byte) {
	if string(bytes.TrimSpace(line)) == "..." {
		p.inYAML = false
		return
	}
	if !p.yamlOurs || p.pending == nil {
		return
	}
	m := yamlKVRe().FindSubmatch(line)
	if m == nil {
		return
	}
	t := p.pending
	v := strings.Trim(strings.TrimSpace(string(m[2])), `'"`)
	switch string(m[1]) {
	case "duration_ms":
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e12 {
			t.Time, t.HasTime = time.Duration(ms*float64(time.Millisecond)), true
		}
	case "message", "error":
		if t.Message == "" && t.Status != Passed && v != "" && v != "|-" && v != ">-" && v != "|" {
			t.Message = clip(v)
		}
	}
}

// flush hands the pending test to the results.
func (p *TAP) flush() {
	if p.pending != nil {
		p.res.Add(*p.pending)
		p.pending = nil
	}
	p.inYAML = false
}

// Cut implements LineParser: TAP reports a test when it ends, so nothing
// read is unfinished.
func (p *TAP) Cut() {}

// Results implements LineParser.
func (p *TAP) Results() (*Results, error) {
	if !p.done {
		p.done = true
		p.flush()
		if p.bailed != "" {
			p.res.Add(Test{Name: "Bail out!", Status: Failed, Message: p.bailed})
		}
	}
	switch {
	case !p.sawAny:
		return &p.res, errors.New("tap: no test lines or plan in the output")
	case p.bailed != "":
		return &p.res, nil // the bail-out says why results are missing
	case p.plans == 0:
		return &p.res, fmt.Errorf("tap: no plan (1..N) in the output, after %d tests: it may have been cut short", p.n)
	case p.plans > 1:
		return &p.res, fmt.Errorf("tap: %d plans (1..N) in the output, want one", p.plans)
	case p.planned != p.n:
		return &p.res, fmt.Errorf("tap: planned %s tests, %d reported", planned(p.planned), p.n)
	}
	return &p.res, nil
}

func planned(n int) string {
	if n < 0 {
		return "too many"
	}
	return strconv.Itoa(n)
}
