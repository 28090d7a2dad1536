package testreport

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TAP reads the Test Anything Protocol (versions 12 to 14): "ok N - name",
// "not ok N - name", the SKIP and TODO directives (a failing TODO test is
// not a failure), a plan "1..N" (tests planned but never reported count as
// failed), "Bail out!", and the YAML diagnostics block after a test, whose
// "message" and "duration_ms" (as node's test runner writes them) are read.
// Indented lines (subtests) are not counted: their parent's line sums them.
type TAP struct {
	tests   []Test
	planned int
	bailed  string
	inYAML  bool
	yamlFor int // index of the test the YAML block belongs to
	sawAny  bool
}

// NewTAP returns a TAP parser.
func NewTAP() *TAP { return &TAP{planned: -1, yamlFor: -1} }

var (
	tapLine  = regexp.MustCompile(`^(not )?ok\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$`)
	tapPlan  = regexp.MustCompile(`^1\.\.(\d+)(?:\s*#\s*(.*))?$`)
	yamlKVRe = regexp.MustCompile(`^\s+(message|duration_ms|error):\s*(.*)$`)
)

// Line implements LineParser.
func (p *TAP) Line(line []byte) {
	s := string(line)
	if p.inYAML && len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
		p.inYAML = false // a block never closed with "...": the next test ends it
	}
	if p.inYAML {
		trimmed := strings.TrimSpace(s)
		if trimmed == "..." {
			p.inYAML = false
			return
		}
		if p.yamlFor >= 0 {
			if m := yamlKVRe.FindStringSubmatch(s); m != nil {
				t := &p.tests[p.yamlFor]
				v := strings.Trim(strings.TrimSpace(m[2]), `'"`)
				switch m[1] {
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
		}
		return
	}
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		if strings.TrimSpace(s) == "---" {
			// A top-level test's block is indented by two spaces; a
			// subtest's by more, and is not ours.
			p.inYAML, p.yamlFor = true, -1
			if strings.HasPrefix(s, "  ---") && !strings.HasPrefix(s, "   ") && len(p.tests) > 0 {
				p.yamlFor = len(p.tests) - 1
			}
		}
		return // a subtest's line, or its YAML
	}
	switch {
	case bytes.HasPrefix(line, []byte("Bail out!")):
		p.sawAny = true
		p.bailed = clip(strings.TrimSpace(strings.TrimPrefix(s, "Bail out!")))
		if p.bailed == "" {
			p.bailed = "bailed out"
		}
	case tapPlan.MatchString(s):
		p.sawAny = true
		m := tapPlan.FindStringSubmatch(s)
		p.planned, _ = strconv.Atoi(m[1])
	case tapLine.MatchString(s):
		p.sawAny = true
		m := tapLine.FindStringSubmatch(s)
		t := Test{Name: strings.TrimSpace(m[3])}
		if t.Name == "" {
			t.Name = "test " + cmp.Or(m[2], strconv.Itoa(len(p.tests)+1))
		}
		directive := strings.TrimSpace(m[4])
		upper := strings.ToUpper(directive)
		switch {
		case strings.HasPrefix(upper, "SKIP"):
			// "SKIP reason", "skipped: reason"
			t.Status, t.Message = Skipped, clip(strings.TrimLeft(strings.TrimLeft(directive[4:], "PEDped"), ": "))
		case strings.HasPrefix(upper, "TODO"):
			t.Status, t.Message = Skipped, clip("TODO "+strings.TrimSpace(directive[4:]))
		case m[1] != "":
			t.Status = Failed
		}
		p.tests = append(p.tests, t)
	}
}

// Tests implements LineParser.
func (p *TAP) Tests() ([]Test, error) {
	tests := p.tests
	if p.bailed != "" {
		tests = append(tests, Test{Name: "Bail out!", Status: Failed, Message: p.bailed})
	}
	if !p.sawAny {
		return tests, errors.New("tap: no test lines or plan in the output")
	}
	if p.planned > len(p.tests) && p.bailed == "" {
		tests = append(tests, Test{Name: "plan", Status: Failed,
			Message: fmt.Sprintf("planned %d tests, %d reported", p.planned, len(p.tests))})
	}
	return tests, nil
}
