package testreport

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// dump is a report as the golden files hold it: one test a line.
func dump(res *Results, err error) string {
	var b strings.Builder
	for _, t := range res.Tests {
		tm := "-"
		if t.HasTime {
			tm = t.Time.String()
		}
		fmt.Fprintf(&b, "%-7s | %s | %s | %s | %s | %s\n", t.Status, t.Suite, t.Class, t.Name, tm, t.Message)
	}
	c := res.Counts
	fmt.Fprintf(&b, "counts: passed %d, failed %d, skipped %d, flaky %d\n", c.Passed, c.Failed, c.Skipped, c.Flaky)
	if res.Unlisted > 0 {
		fmt.Fprintf(&b, "unlisted: %d\n", res.Unlisted)
	}
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	return b.String()
}

func parseFile(t *testing.T, name string) (*Results, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch filepath.Ext(name) {
	case ".xml":
		return ParseJUnit(f)
	case ".json":
		return Parse(f, NewGoTest())
	case ".tap":
		return Parse(f, NewTAP())
	}
	t.Fatalf("no parser for %s", name)
	return nil, nil
}

// TestDialects: each runner's report, as it writes it, against a golden
// file (go test ./suites/testreport -update rewrites them).
func TestDialects(t *testing.T) {
	for _, name := range []string{"surefire.xml", "pytest.xml", "jest.xml", "rspec.xml", "playwright.xml", "go-junit-report.xml",
		"nested.xml", "go-test.json", "node.tap", "bail.tap"} {
		t.Run(name, func(t *testing.T) {
			got := dump(parseFile(t, name))
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, got, want)
			}
		})
	}
}

func TestBadReports(t *testing.T) {
	tests := []struct {
		name, in string
		parse    func(string) (*Results, error)
		want     string
	}{
		{"junit empty", "", junit, "junit: no <testsuite>"},
		{"junit html", "<html><body>502 Bad Gateway</body></html>", junit, "junit: no <testsuite>"},
		{"junit not xml", "Traceback (most recent call last):", junit, "junit: no <testsuite>"},
		{"junit truncated", `<testsuite name="a"><testcase name="x"/><testcase name="y"><failure>bo`, junit, "malformed XML after 1 tests"},
		{"go plain text", "ok  \texample.com/x\t0.1s\n", goTest, "no JSON events"},
		{"go nothing", "", goTest, "no output"},
		{"tap nothing", "hello\nworld\n", tap, "no test lines or plan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.parse(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func junit(s string) (*Results, error)  { return ParseJUnit(strings.NewReader(s)) }
func goTest(s string) (*Results, error) { return Parse(strings.NewReader(s), NewGoTest()) }
func tap(s string) (*Results, error)    { return Parse(strings.NewReader(s), NewTAP()) }

// TestTAPPlans: the plan is required, once, and the results must match
// it; otherwise the output is malformed, whatever the results say.
func TestTAPPlans(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // the error; "" for none
		counts   Counts
	}{
		{"as planned", "1..2\nok 1 - a\nok 2 - b\n", "", Counts{Passed: 2}},
		{"plan last", "ok 1 - a\nnot ok 2 - b\n1..2\n", "", Counts{Passed: 1, Failed: 1}},
		{"fewer than planned", "1..3\nok 1 - a\nok 2 - b\n", "tap: planned 3 tests, 2 reported", Counts{Passed: 2}},
		{"more than planned", "1..1\nok 1 - a\nok 2 - b\n", "tap: planned 1 tests, 2 reported", Counts{Passed: 2}},
		{"no plan", "ok 1 - a\nok 2 - b\n", "tap: no plan (1..N) in the output, after 2 tests: it may have been cut short", Counts{Passed: 2}},
		{"two plans", "1..1\nok 1 - a\n1..1\n", "tap: 2 plans (1..N) in the output, want one", Counts{Passed: 1}},
		{"plan beyond counting", "1..99999999999999999999\nok 1 - a\n", "tap: planned too many tests, 1 reported", Counts{Passed: 1}},
		{"nothing to run", "1..0 # SKIP no tests here\n", "", Counts{}},
		{"bail out before the plan's end", "1..3\nok 1 - a\nBail out! db down\n", "", Counts{Passed: 1, Failed: 1}},
		{"subtest plans are not ours", "1..1\n    1..2\n    ok 1 - x\n    ok 2 - y\nok 1 - a\n", "", Counts{Passed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tap(tc.in)
			if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if res.Counts != tc.counts {
				t.Errorf("counts %+v, want %+v", res.Counts, tc.counts)
			}
		})
	}
}

// The Writer hands over lines however the output is cut, and drops the
// rest of an overlong line instead of holding it.
func TestWriterLines(t *testing.T) {
	in := "ok 1 - a\r\nnot ok 2 - b\nok 3 - " + strings.Repeat("x", 3*maxLine) + "\nok 4 - d"
	for _, chunk := range []int{1, 7, 4096, len(in)} {
		p := NewTAP()
		w := &Writer{P: p}
		for i := 0; i < len(in); i += chunk {
			w.Write([]byte(in[i:min(i+chunk, len(in))]))
		}
		w.Flush()
		res, _ := p.Results()
		tests := res.Tests
		if len(tests) != 4 || tests[1].Status != Failed || tests[3].Name != "d" || len(tests[2].Name) > maxLine || len(w.buf) > maxLine {
			t.Errorf("chunk %d: %d tests %+v", chunk, len(tests), tests[:min(2, len(tests))])
		}
	}
}

func TestSlowestAndFullName(t *testing.T) {
	var res Results
	for _, tc := range []Test{{Name: "a", Time: 1, HasTime: true}, {Name: "b", Time: 3, HasTime: true}, {Name: "c", Time: 9, Status: Skipped, HasTime: true},
		{Name: "d", Time: 2, HasTime: true}, {Name: "e"}, {Name: "f", Time: 3, HasTime: true}} {
		res.Add(tc)
	}
	var names []string
	for _, s := range res.Slowest {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "b,f,d,a" {
		t.Errorf("slowest = %v", names)
	}
	for _, tc := range []struct {
		t    Test
		want string
	}{
		{Test{Class: "com.example.LoginIT", Name: "signsIn"}, "com.example.LoginIT signsIn"},
		{Test{Class: "login page signs in", Name: "login page signs in"}, "login page signs in"},
		{Test{Name: "TestX"}, "TestX"},
	} {
		if got := tc.t.FullName(); got != tc.want {
			t.Errorf("FullName(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

// BigJUnit is a report of n test cases, one in ten failing, with output.
func BigJUnit(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?><testsuites><testsuite name="big">`)
	for i := range n {
		fmt.Fprintf(&b, `<testcase classname="pkg.Class%d" name="test_%d" time="0.%03d">`, i%50, i, i%1000)
		if i%10 == 0 {
			fmt.Fprintf(&b, `<failure message="assertion %d failed">trace line 1&#10;trace line 2</failure>`, i)
		}
		b.WriteString(`<system-out>some output that is skipped</system-out></testcase>`)
	}
	b.WriteString(`</testsuite></testsuites>`)
	return b.Bytes()
}

// TestBigJUnit: every test is counted; the first failures and other
// tests are kept, and the slowest.
func TestBigJUnit(t *testing.T) {
	res, err := ParseJUnit(bytes.NewReader(BigJUnit(10000)))
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	failed := res.Failed()
	if c.Total() != 10000 || c.Failed != 1000 || len(failed) != MaxProblems || failed[99].Message != "assertion 990 failed" {
		t.Errorf("%+v, %d failures kept", c, len(failed))
	}
	if len(res.Tests) != MaxProblems+MaxListed || res.Unlisted != 10000-MaxProblems-MaxListed {
		t.Errorf("%d tests kept, %d unlisted", len(res.Tests), res.Unlisted)
	}
	if len(res.Slowest) != MaxSlowest || res.Slowest[0].Name != "test_999" || res.Slowest[0].Time != 999*time.Millisecond {
		t.Errorf("slowest: %d, first %+v", len(res.Slowest), res.Slowest[0])
	}
}

func BenchmarkParseJUnit10k(b *testing.B) {
	data := BigJUnit(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJUnit(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseJUnit(f *testing.F) {
	for _, name := range []string{"surefire.xml", "nested.xml", "playwright.xml"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, _ := ParseJUnit(bytes.NewReader(data))
		for _, tc := range append(res.Tests, res.Slowest...) {
			if len(tc.Message) > maxMessage+len("…") || tc.Time < 0 {
				t.Fatalf("bad test %+v", tc)
			}
		}
	})
}

func FuzzParseGoTest(f *testing.F) {
	b, _ := os.ReadFile("testdata/go-test.json")
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, _ := Parse(bytes.NewReader(data), NewGoTest())
		for _, tc := range append(res.Tests, res.Slowest...) {
			if len(tc.Message) > maxMessage+len("…") {
				t.Fatalf("message too long: %q", tc.Message)
			}
		}
	})
}

func FuzzParseTAP(f *testing.F) {
	for _, name := range []string{"node.tap", "bail.tap"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, _ := Parse(bytes.NewReader(data), NewTAP())
		for _, tc := range append(res.Tests, res.Slowest...) {
			if len(tc.Message) > maxMessage+len("…") || tc.Time < 0 || tc.Time > 1e6*time.Hour {
				t.Fatalf("bad test %+v", tc)
			}
		}
	})
}

// Real reports' odd corners: colour codes, a decimal comma, a test that
// never ended, unclosed TAP blocks, skip directives. Each was once misread.
func TestParserEdgeCases(t *testing.T) {
	// Colour codes, raw and as references, in a message and in output.
	res, err := junit("<testsuite><testcase name=\"a\" time=\"0,5\"><failure>\x1b[31mred&#27;[0m text</failure><system-out>&#x1B;[1mbold\x01</system-out></testcase><testcase name=\"b\"/></testsuite>")
	if tests := res.Tests; err != nil || len(tests) != 2 || tests[0].Message != "[31mred [0m text" || tests[0].Time != 500*time.Millisecond {
		t.Errorf("control characters: %+v, %v", tests, err)
	}
	// A test that started and never ended: -timeout.
	gres, err := goTest(`{"Action":"run","Package":"p","Test":"TestSlow"}
{"Action":"output","Package":"p","Test":"TestSlow","Output":"panic: test timed out after 1s\n"}
{"Action":"run","Package":"p","Test":"TestBad"}
{"Action":"fail","Package":"p","Test":"TestBad","Elapsed":0.1}
{"Action":"fail","Package":"p","Elapsed":1}
`)
	if gt := gres.Tests; err != nil || len(gt) != 2 || gt[1].Name != "TestSlow" || gt[1].Status != Failed || gt[1].Message != "panic: test timed out after 1s" {
		t.Errorf("unfinished test: %+v, %v", gres.Tests, err)
	}
	// A YAML block never closed, and "# skipped: reason".
	tres, err := tap("1..3\nnot ok 1 - a\n  ---\n  message: boom\nnot ok 2 - b\nok 3 - c # skipped: not here\n")
	if tt := tres.Tests; err != nil || len(tt) != 3 || tt[0].Message != "boom" || tt[1].Status != Failed || tt[2].Message != "not here" {
		t.Errorf("tap: %+v, %v", tres.Tests, err)
	}
}
