package testreport

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// GoTest reads `go test -json` output (test2json events). Each test and
// subtest that passed, failed or was skipped is a Test; a package that
// failed without a failing test (a build error, a panic in init, a
// timeout) is a failed Test named after the package. The message is the
// first line the test logged (t.Error, t.Fatal, a panic), or its output's
// first line for a package.
type GoTest struct {
	tests    []Test
	first    map[string]string // first log line per package + test
	build    map[string]string // first build-output line per import path
	pkgFail  map[string]bool
	pkgTests map[string]int
	running  map[string]goEvent // tests that started and have no result yet
	events   int
	other    int
}

// NewGoTest returns a parser of `go test -json` output.
func NewGoTest() *GoTest {
	return &GoTest{first: map[string]string{}, build: map[string]string{}, pkgFail: map[string]bool{}, pkgTests: map[string]int{},
		running: map[string]goEvent{}}
}

type goEvent struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

// Line implements LineParser.
func (g *GoTest) Line(line []byte) {
	if len(line) == 0 || line[0] != '{' {
		g.other++
		return
	}
	var e goEvent
	if err := json.Unmarshal(line, &e); err != nil {
		g.other++
		return
	}
	g.events++
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output":
		if _, ok := g.build[e.ImportPath]; !ok {
			if l := strings.TrimSpace(e.Output); l != "" && !strings.HasPrefix(l, "# ") {
				g.build[e.ImportPath] = clip(l)
			}
		}
	case "run":
		if e.Test != "" {
			g.running[key] = e
		}
	case "output":
		if _, ok := g.first[key]; ok {
			return
		}
		if l := logLine(e.Output, e.Test != ""); l != "" {
			g.first[key] = l
		}
	case "pass", "fail", "skip":
		if e.Test == "" {
			if e.Action == "fail" {
				g.pkgFail[e.Package] = true
			}
			return
		}
		t := Test{Suite: e.Package, Class: e.Package, Name: e.Test, Time: time.Duration(e.Elapsed * float64(time.Second)), HasTime: true}
		switch e.Action {
		case "fail":
			t.Status, t.Message = Failed, g.first[key]
		case "skip":
			t.Status, t.Message = Skipped, g.first[key]
		}
		g.pkgTests[e.Package]++
		g.tests = append(g.tests, t)
		delete(g.first, key)
		delete(g.running, key)
	}
}

// logLine picks a line worth reporting from a test's output: not the
// runner's own "=== RUN", "--- FAIL", "PASS" lines.
func logLine(out string, inTest bool) string {
	l := strings.TrimSpace(out)
	for _, p := range []string{"=== ", "--- ", "PASS", "FAIL", "ok  ", "?   ", "coverage:"} {
		if strings.HasPrefix(l, p) {
			return ""
		}
	}
	if l == "" || (!inTest && strings.HasPrefix(l, "#")) {
		return ""
	}
	return clip(l)
}

// Tests implements LineParser.
func (g *GoTest) Tests() ([]Test, error) {
	// Tests that started and never ended: the package timed out (-timeout)
	// or panicked under them.
	var unfinished []string
	for k := range g.running {
		unfinished = append(unfinished, k)
	}
	slices.Sort(unfinished)
	for _, k := range unfinished {
		e := g.running[k]
		msg := g.first[k]
		if msg == "" {
			msg = "did not finish (the package timed out or panicked)"
		}
		g.tests = append(g.tests, Test{Suite: e.Package, Class: e.Package, Name: e.Test, Status: Failed, Message: msg})
	}
	g.running = map[string]goEvent{}
	tests := g.tests
	// A test that failed because a subtest did says which.
	for i, t := range tests {
		if t.Status != Failed || t.Message != "" {
			continue
		}
		for _, sub := range tests {
			if sub.Status == Failed && sub.Suite == t.Suite && strings.HasPrefix(sub.Name, t.Name+"/") && sub.Message != "" {
				tests[i].Message = clip(strings.TrimPrefix(sub.Name, t.Name+"/") + ": " + sub.Message)
				break
			}
		}
	}
	// Failed packages whose failure no test explains.
	for pkg := range g.pkgFail {
		failedTest := false
		for _, t := range g.tests {
			if t.Suite == pkg && t.Status == Failed {
				failedTest = true
				break
			}
		}
		if failedTest {
			continue
		}
		msg := g.first[pkg+"\x00"]
		for path, l := range g.build {
			if msg == "" && (path == pkg || strings.HasPrefix(path, pkg+" ")) {
				msg = l
			}
		}
		if msg == "" {
			msg = "the package failed"
		}
		tests = append(tests, Test{Suite: pkg, Class: pkg, Name: pkg, Status: Failed, Message: msg})
	}
	if g.events == 0 {
		if g.other > 0 {
			return tests, errors.New("go test -json: no JSON events in the output (was -json given?)")
		}
		return tests, errors.New("go test -json: no output")
	}
	if len(tests) == 0 && len(g.build) > 0 {
		for _, l := range g.build {
			return []Test{{Name: "build", Status: Failed, Message: l}}, nil
		}
	}
	if len(tests) == 0 {
		return tests, fmt.Errorf("go test -json: %d events but no test result", g.events)
	}
	return tests, nil
}
