package testreport

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// repeatReader yields n bytes of pattern, over and over, without holding
// them: a huge report streamed, never in memory.
type repeatReader struct {
	pattern string
	n       int64
	off     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:min(len(p), k+int(min(r.n, int64(len(p)-k))))], r.pattern[r.off:])
		r.off = (r.off + c) % len(r.pattern)
		k += c
		r.n -= int64(c)
	}
	return k, nil
}

func repeat(pattern string, n int64) io.Reader { return &repeatReader{pattern: pattern, n: n} }

// hugeJUnit streams a JUnit report with, each of about big bytes, a
// failure body, a <system-out>, a <system-err> in CDATA, a comment and an
// attribute value, then n ordinary test cases.
func hugeJUnit(big int64, n int) io.Reader {
	s := strings.NewReader
	var tail strings.Builder
	for i := range n {
		fmt.Fprintf(&tail, `<testcase classname="pkg.C" name="t%d" time="0.%03d"/>`, i, i%1000)
	}
	tail.WriteString(`</testsuite></testsuites>`)
	return io.MultiReader(
		s(`<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="huge">`),
		s(`<testcase classname="pkg.Big" name="fails"><failure>`), repeat("trace line ü &amp; more\n", big), s(`</failure>`),
		s(`<system-out>`), repeat("output line \x1b[1m€\n", big), s(`</system-out>`),
		s(`<system-err><![CDATA[`), repeat("err <line> ]] ok\n", big), s(`]]></system-err></testcase>`),
		s(`<!-- `), repeat("a comment - > ", big), s(` -->`),
		s(`<testcase classname="pkg.Attr" name="`), repeat("a long name ", big), s(`" time="1.5"><skipped message="later"/></testcase>`),
		strings.NewReader(tail.String()),
	)
}

// TestParseJUnitHugeText: a report whose failure body, <system-out>,
// CDATA, comment and attribute are 32 MiB each is read in a few MiB:
// encoding/xml holds a whole text or attribute in memory, so the parser
// cuts them while streaming.
func TestParseJUnitHugeText(t *testing.T) {
	const big = 32 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := ParseJUnit(hugeJUnit(big, 1000))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 24<<20 {
		t.Errorf("parsing 5 × %d MiB of text allocated %d MiB", big>>20, alloc>>20)
	}
	if res.Counts != (Counts{Passed: 1000, Failed: 1, Skipped: 1}) {
		t.Errorf("counts %+v", res.Counts)
	}
	if f := res.Failed(); len(f) != 1 || f[0].Name != "fails" || f[0].Message != "trace line ü & more" {
		t.Errorf("failures %+v", f)
	}
	if s := res.Tests[1]; s.Status != Skipped || s.Message != "later" || !strings.HasPrefix(s.Name, "a long name a long name") || len(s.Name) > maxMessage+len("…") {
		t.Errorf("the test with a long name: %.200q %v %q", s.Name, s.Status, s.Message)
	}
}

// TestEndlessStreams: a runner that never stops writing (yes ok) costs
// what its counts and the kept tests cost, however long it runs.
func TestEndlessStreams(t *testing.T) {
	const lines = 1 << 20
	tests := []struct {
		name   string
		parser func() LineParser
		line   func(i int) string
	}{
		{"tap", func() LineParser { return NewTAP() }, func(i int) string { return fmt.Sprintf("ok %d - test number %d\n", i+1, i) }},
		{"go test -json", func() LineParser { return NewGoTest() }, func(i int) string {
			return fmt.Sprintf(`{"Action":"run","Package":"example.com/p","Test":"TestN%d"}`+"\n"+`{"Action":"pass","Package":"example.com/p","Test":"TestN%d","Elapsed":0.01}`+"\n", i, i)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.parser()
			w := &Writer{P: p}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var chunk bytes.Buffer
			for i := range lines {
				chunk.WriteString(tt.line(i))
				if chunk.Len() > 32<<10 {
					w.Write(chunk.Bytes())
					chunk.Reset()
				}
			}
			w.Write(chunk.Bytes())
			runtime.GC()
			runtime.ReadMemStats(&after)
			if held := int64(after.HeapAlloc) - int64(before.HeapAlloc); held > 16<<20 {
				t.Errorf("%d results held %d MiB", lines, held>>20)
			}
			runtime.KeepAlive(p)
		})
	}
}

// TestXMLFilter: what encoding/xml is handed, piece by piece.
func TestXMLFilter(t *testing.T) {
	long := strings.Repeat("é", maxText) // 2 bytes a rune: twice maxText
	cut := strings.Repeat("é", maxText/2)
	tests := []struct{ name, in, want, err string }{
		{"control characters", "<a b=\"x\x1by&#27;\">c\x01d&#x1B;e&#65;</a>", "<a b=\"x y \">c d e&#65;</a>", ""},
		{"declarations dropped", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b>c">]><!-- c > d -- --><a/><?pi x?>`, "<a/>", ""},
		{"long text cut on a rune", "<a>" + long + "</a>", "<a>" + cut + "</a>", ""},
		{"long CDATA cut and closed", "<a><![CDATA[" + long + "]]></a>", "<a><![CDATA[" + cut + "]]></a>", ""},
		{"CDATA keeps its brackets", "<a><![CDATA[x]]]]y]]></a>", "<a><![CDATA[x]]]]y]]></a>", ""},
		{"long attribute cut and closed", `<a b="` + long + `" c='d'/>`, `<a b="` + cut + `" c='d'/>`, ""},
		{"quoted > in a tag", `<a b="x>y">z</a>`, `<a b="x>y">z</a>`, ""},
		{"long tag", "<a " + strings.Repeat(`b="" `, maxTag/5) + "/>", "", "a tag longer than 1024 KiB"},
		{"comment never closed", "<a/><!-- x", "<a/>", ""},
		{"text around comments is one text", "<a>" + strings.Repeat(strings.Repeat("x", maxText/2)+"<!-- c --><?p?>", 4) + "</a>", "<a>" + strings.Repeat("x", maxText) + "</a>", ""},
		{"text around a declaration", "<a>" + strings.Repeat("x", maxText+5) + "<!DOCTYPE y [<!ENTITY z 'w'>]>" + "yy</a>", "<a>" + strings.Repeat("x", maxText) + "</a>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(newXMLFilter(strings.NewReader(tt.in)))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %.200q (%d bytes), %v\nwant %.200q (%d bytes)", got, len(got), err, tt.want, len(tt.want))
			}
		})
	}
}

// BenchmarkParseJUnitHuge: a report with 5 × 32 MiB of text, streamed;
// B/op stays a few MiB whatever the size.
func BenchmarkParseJUnitHuge(b *testing.B) {
	const big = 32 << 20
	b.SetBytes(5*big + 1000*60)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJUnit(hugeJUnit(big, 1000)); err != nil {
			b.Fatal(err)
		}
	}
}
