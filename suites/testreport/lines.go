package testreport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// LineParser reads a runner's output line by line, as it comes.
type LineParser interface {
	// Line takes one line, without its newline.
	Line(line []byte)
	// Results returns what was read so far (never nil), and an error
	// when the output was not what the format promises.
	Results() (*Results, error)
	// Cut says the output was cut short by the run's end, before Results:
	// tests still running then were stopped by us, not failed.
	Cut()
}

// maxLine bounds a line; the rest of a longer line is dropped.
const maxLine = 64 << 10

// Writer feeds what is written to it to a LineParser, line by line, in
// bounded memory: it is a command's stdout.
type Writer struct {
	P       LineParser
	buf     []byte
	skip    bool // dropping the rest of an overlong line
	written int64
}

// Write implements io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	w.written += int64(n)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !w.skip {
				room := maxLine - len(w.buf)
				if len(p) > room {
					w.buf = append(w.buf, p[:room]...)
					w.skip = true
				} else {
					w.buf = append(w.buf, p...)
				}
			}
			return n, nil
		}
		if !w.skip {
			w.buf = append(w.buf, p[:min(i, maxLine-len(w.buf))]...)
		}
		w.P.Line(bytes.TrimRight(w.buf, "\r"))
		w.buf, w.skip = w.buf[:0], false
		p = p[i+1:]
	}
	return n, nil
}

// Flush hands over a last line without a newline.
func (w *Writer) Flush() {
	if len(w.buf) > 0 {
		w.P.Line(bytes.TrimRight(w.buf, "\r"))
		w.buf = w.buf[:0]
	}
}

// Written is how many bytes were written.
func (w *Writer) Written() int64 { return w.written }

// Parse reads all of r with p. When reading r fails, the results read
// so far come with the error.
func Parse(r io.Reader, p LineParser) (*Results, error) {
	w := &Writer{P: p}
	_, rerr := io.Copy(w, bufio.NewReader(r))
	w.Flush()
	res, err := p.Results()
	if rerr != nil {
		return res, fmt.Errorf("reading stopped after %d tests: %w", res.Total(), rerr)
	}
	return res, err
}
