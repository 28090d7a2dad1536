package testreport

import (
	"bufio"
	"io"
)

// cleanXML passes XML through with the control characters XML 1.0 forbids
// (0x00–0x1F but tab, LF and CR) turned into spaces, raw or written as
// character references: test output is full of terminal colour codes, and
// one of them must not cost the whole report.
type cleanXML struct {
	r   *bufio.Reader
	out []byte
}

func newCleanXML(r io.Reader) io.Reader { return &cleanXML{r: bufio.NewReaderSize(r, 64<<10)} }

func (c *cleanXML) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.out) > 0 {
			k := copy(p[n:], c.out)
			c.out = c.out[k:]
			n += k
			continue
		}
		b, err := c.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		switch {
		case b < 0x20 && b != '\t' && b != '\n' && b != '\r':
			b = ' '
		case b == '&':
			if ref, ok := c.controlRef(); ok {
				c.r.Discard(len(ref))
				b = ' '
			}
		}
		p[n] = b
		n++
	}
	return n, nil
}

// controlRef reports whether the bytes after an '&' are a character
// reference to a forbidden control character (&#27; &#x1b;), and returns
// them.
func (c *cleanXML) controlRef() ([]byte, bool) {
	ahead, _ := c.r.Peek(8)
	if len(ahead) < 3 || ahead[0] != '#' {
		return nil, false
	}
	base, i := 10, 1
	if ahead[1] == 'x' || ahead[1] == 'X' {
		base, i = 16, 2
	}
	v, digits := 0, 0
	for ; i < len(ahead) && ahead[i] != ';'; i++ {
		d := hexValue(ahead[i])
		if d < 0 || d >= base {
			return nil, false
		}
		v = v*base + d
		digits++
	}
	if i >= len(ahead) || digits == 0 {
		return nil, false
	}
	if v < 0x20 && v != '\t' && v != '\n' && v != '\r' {
		return ahead[:i+1], true
	}
	return nil, false
}

func hexValue(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10
	case b >= 'A' && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}
