package testreport

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// GoTest reads `go test -json` output (test2json events). Each test and
// subtest that passed, failed or was skipped is a Test; a package that
// failed without a failing test (a build error, a panic in init, a
// timeout) is a failed Test named after the package. The message is the
// first line the test logged (t.Error, t.Fatal, a panic), or its output's
// first line for a package. What it tracks per package and per running
// test is bounded (maxTracked entries): an endless stream costs no more.
type GoTest struct {
	res      Results
	running  map[string]*goRun // tests that started or logged and have no result yet
	pkgFirst map[string]string // first output line per package
	build    map[string]string // first build-output line per import path
	pkgFail  map[string]bool   // packages that failed
	failedIn map[string]bool   // packages with a failed test
	events   int
	other    int
	done     bool
}

// goRun is a test without a result yet.
type goRun struct {
	pkg, test string
	started   bool   // a run event was seen
	first     string // the first line it logged
}

// maxTracked bounds each of GoTest's maps: tests running at once,
// packages, import paths.
const maxTracked = 1000

// NewGoTest returns a parser of `go test -json` output.
func NewGoTest() *GoTest {
	return &GoTest{running: map[string]*goRun{}, pkgFirst: map[string]string{}, build: map[string]string{},
		pkgFail: map[string]bool{}, failedIn: map[string]bool{}}
}

type goEvent struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

// track sets m[k] = v unless m is full.
func track[V any](m map[string]V, k string, v V) {
	if _, ok := m[k]; ok || len(m) < maxTracked {
		m[k] = v
	}
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
	e.Package, e.Test, e.ImportPath = clip(e.Package), clip(e.Test), clip(e.ImportPath)
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output":
		if _, ok := g.build[e.ImportPath]; !ok {
			if l := strings.TrimSpace(e.Output); l != "" && !strings.HasPrefix(l, "# ") {
				track(g.build, e.ImportPath, clip(l))
			}
		}
	case "run":
		if e.Test != "" {
			if r := g.running[key]; r != nil {
				r.started = true
			} else {
				track(g.running, key, &goRun{pkg: e.Package, test: e.Test, started: true})
			}
		}
	case "output":
		if e.Test == "" {
			if _, ok := g.pkgFirst[e.Package]; !ok {
				if l := logLine(e.Output, false); l != "" {
					track(g.pkgFirst, e.Package, l)
				}
			}
			return
		}
		r := g.running[key]
		if r != nil && r.first != "" {
			return
		}
		if l := logLine(e.Output, true); l != "" {
			if r != nil {
				r.first = l
			} else {
				track(g.running, key, &goRun{pkg: e.Package, test: e.Test, first: l})
			}
		}
	case "pass", "fail", "skip":
		if e.Test == "" {
			if e.Action == "fail" {
				track(g.pkgFail, e.Package, true)
			}
			return
		}
		t := Test{Suite: e.Package, Class: e.Package, Name: e.Test, Time: time.Duration(e.Elapsed * float64(time.Second)), HasTime: true}
		if t.Time < 0 || e.Elapsed > 1e9 {
			t.Time, t.HasTime = 0, false
		}
		var first string
		if r := g.running[key]; r != nil {
			first = r.first
			delete(g.running, key)
		}
		switch e.Action {
		case "fail":
			t.Status, t.Message = Failed, first
			if t.Message == "" {
				t.Message = g.subtestMessage(t)
			}
			track(g.failedIn, e.Package, true)
		case "skip":
			t.Status, t.Message = Skipped, first
		}
		g.res.Add(t)
	}
}

// subtestMessage says which subtest a test failed by: its subtests end
// before it does.
func (g *GoTest) subtestMessage(t Test) string {
	for _, sub := range g.res.Tests {
		if sub.Status == Failed && sub.Suite == t.Suite && strings.HasPrefix(sub.Name, t.Name+"/") && sub.Message != "" {
			return clip(strings.TrimPrefix(sub.Name, t.Name+"/") + ": " + sub.Message)
		}
	}
	return ""
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

// Cut implements LineParser: the tests still running are dropped, not
// reported as tests that never finished.
func (g *GoTest) Cut() { g.running = map[string]*goRun{} }

// Results implements LineParser.
func (g *GoTest) Results() (*Results, error) {
	if !g.done {
		g.done = true
		g.finish()
	}
	if g.events == 0 {
		if g.other > 0 {
			return &g.res, errors.New("go test -json: no JSON events in the output (was -json given?)")
		}
		return &g.res, errors.New("go test -json: no output")
	}
	if g.res.Total() == 0 {
		return &g.res, fmt.Errorf("go test -json: %d events but no test result", g.events)
	}
	return &g.res, nil
}

// finish adds what only the end of the output tells: tests that never
// ended, packages that failed with no failed test, a build that failed.
func (g *GoTest) finish() {
	// Tests that started and never ended: the package timed out (-timeout)
	// or panicked under them.
	for _, k := range slices.Sorted(maps.Keys(g.running)) {
		r := g.running[k]
		if !r.started {
			continue
		}
		msg := r.first
		if msg == "" {
			msg = "did not finish (the package timed out or panicked)"
		}
		g.res.Add(Test{Suite: r.pkg, Class: r.pkg, Name: r.test, Status: Failed, Message: msg})
		g.failedIn[r.pkg] = true
	}
	g.running = map[string]*goRun{}
	// Failed packages whose failure no test explains.
	for _, pkg := range slices.Sorted(maps.Keys(g.pkgFail)) {
		if g.failedIn[pkg] {
			continue
		}
		msg := g.pkgFirst[pkg]
		for _, path := range slices.Sorted(maps.Keys(g.build)) {
			if msg == "" && (path == pkg || strings.HasPrefix(path, pkg+" ")) {
				msg = g.build[path]
			}
		}
		if msg == "" {
			msg = "the package failed"
		}
		g.res.Add(Test{Suite: pkg, Class: pkg, Name: pkg, Status: Failed, Message: msg})
	}
	if g.res.Total() == 0 && len(g.build) > 0 {
		g.res.Add(Test{Name: "build", Status: Failed, Message: g.build[slices.Sorted(maps.Keys(g.build))[0]]})
	}
}
