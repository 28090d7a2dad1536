package testreport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// Bounds on what encoding/xml is handed at once: it holds a whole text,
// CDATA section, comment or tag (with its attributes) in memory before it
// returns it, so an unbounded one would cost its size.
const (
	// maxText bounds a text, a CDATA section or an attribute value; the
	// rest is dropped (the parser keeps far less of any of them).
	maxText = 64 << 10
	// maxTag bounds a tag with its attributes, as cut; a longer one is
	// an error.
	maxTag = 1 << 20
)

// The parts of XML the filter tells apart.
const (
	inText = iota
	inTag
	inCDATA
	inComment
	inPI   // a processing instruction, the XML declaration too
	inDecl // <!DOCTYPE …> and the like
)

// xmlFilter passes a JUnit report to encoding/xml in bounded pieces:
//   - the control characters XML 1.0 forbids (0x00–0x1F but tab, LF and
//     CR), raw or written as character references, become spaces: test
//     output is full of terminal colour codes, and one of them must not
//     cost the whole report;
//   - a text, CDATA section or attribute value longer than maxText is cut
//     on a rune boundary (a <system-out> of gigabytes costs nothing);
//   - comments, processing instructions and DOCTYPE declarations are
//     dropped: nothing in them is read;
//   - a tag longer than maxTag (attribute values cut) is an error.
type xmlFilter struct {
	r     *bufio.Reader
	out   []byte // bytes to pass on before reading more
	state int
	run   int  // bytes of the current text, CDATA section or attribute value passed on
	tag   int  // bytes of the current tag passed on
	quote byte // in a tag: the quote of the attribute value being read, or 0
	drop  bool // dropping the rest of the current text, CDATA or value
	depth int  // in a declaration: '[' nesting
	prev  [2]byte
	err   error
}

func newXMLFilter(r io.Reader) *xmlFilter { return &xmlFilter{r: bufio.NewReaderSize(r, 64<<10)} }

func (f *xmlFilter) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(f.out) > 0 {
			k := copy(p[n:], f.out)
			f.out = f.out[k:]
			n += k
			continue
		}
		if f.err != nil {
			break
		}
		if f.state == inComment || f.state == inPI || (f.drop && f.state != inDecl) {
			if !f.skip() {
				continue
			}
		}
		b, err := f.r.ReadByte()
		if err != nil {
			f.err = err
			break
		}
		if c, ok := f.step(b); ok {
			p[n] = c
			n++
		}
		f.prev[0], f.prev[1] = f.prev[1], b
	}
	if n > 0 {
		return n, nil
	}
	return 0, f.err
}

// skip discards what is dropped up to the next byte that may end it, and
// reports whether one is next.
func (f *xmlFilter) skip() bool {
	var stop byte
	switch {
	case f.state == inText:
		stop = '<'
	case f.state == inTag:
		stop = f.quote
	default: // a comment, PI or CDATA section ends with '>'
		stop = '>'
	}
	buf, err := f.r.Peek(max(f.r.Buffered(), 1))
	if len(buf) == 0 {
		f.err = err
		return false
	}
	i := bytes.IndexByte(buf, stop)
	if i < 0 {
		i = len(buf)
	}
	if i > 0 {
		f.remember(buf[:i])
		f.r.Discard(i)
	}
	return i < len(buf)
}

func (f *xmlFilter) remember(b []byte) {
	if len(b) >= 2 {
		f.prev[0], f.prev[1] = b[len(b)-2], b[len(b)-1]
	} else if len(b) == 1 {
		f.prev[0], f.prev[1] = f.prev[1], b[0]
	}
}

// step takes one byte and returns what to pass on for it, if anything.
func (f *xmlFilter) step(b byte) (byte, bool) {
	switch f.state {
	// What is dropped leaves the text around it one text for
	// encoding/xml: its bound goes on.
	case inComment:
		if b == '>' && f.prev == [2]byte{'-', '-'} {
			f.state = inText
		}
		return 0, false
	case inPI:
		if b == '>' && f.prev[1] == '?' {
			f.state = inText
		}
		return 0, false
	case inDecl:
		switch {
		case f.quote != 0:
			if b == f.quote {
				f.quote = 0
			}
		case b == '"' || b == '\'':
			f.quote = b
		case b == '[':
			f.depth++
		case b == ']':
			f.depth--
		case b == '>' && f.depth <= 0:
			f.state, f.depth = inText, 0
		}
		return 0, false
	case inCDATA:
		if b == '>' && f.prev == [2]byte{']', ']'} {
			f.state, f.run = inText, 0
			if f.drop {
				f.drop = false
				f.out = append(f.out, "]]>"...)
				return 0, false
			}
			return b, true
		}
		return f.content(b, false)
	case inTag:
		if f.quote != 0 {
			if b == f.quote {
				f.quote, f.drop = 0, false
				return f.tagByte(b)
			}
			if c, ok := f.content(b, true); ok {
				return f.tagByte(c)
			}
			return 0, false
		}
		switch b {
		case '"', '\'':
			f.quote, f.run = b, 0
		case '>':
			f.state, f.run = inText, 0
		}
		return f.tagByte(clean(b))
	}
	// Text.
	if b == '<' {
		return f.markup()
	}
	return f.content(b, true)
}

// tagByte passes on a byte of a tag, up to maxTag of them.
func (f *xmlFilter) tagByte(b byte) (byte, bool) {
	f.tag++
	if f.tag > maxTag {
		f.err = fmt.Errorf("a tag longer than %d KiB", maxTag>>10)
		return 0, false
	}
	return b, true
}

// content passes on a byte of text, CDATA or an attribute value, until
// maxText of it was passed on: then, at the next rune's start, the rest
// is dropped.
func (f *xmlFilter) content(b byte, refs bool) (byte, bool) {
	if f.drop {
		return 0, false
	}
	if f.run >= maxText && utf8.RuneStart(b) {
		f.drop = true
		return 0, false
	}
	f.run++
	if b == '&' && refs {
		if ref, ok := f.controlRef(); ok {
			f.r.Discard(len(ref))
			return ' ', true
		}
	}
	return clean(b), true
}

// markup decides, after a '<', what comes: a comment, a CDATA section, a
// processing instruction, a declaration, or a tag.
func (f *xmlFilter) markup() (byte, bool) {
	ahead, _ := f.r.Peek(8)
	switch {
	case bytes.HasPrefix(ahead, []byte("!--")):
		f.r.Discard(3)
		f.state, f.prev = inComment, [2]byte{}
		return 0, false
	case bytes.HasPrefix(ahead, []byte("![CDATA[")):
		f.r.Discard(8)
		f.state, f.run, f.drop, f.prev = inCDATA, 0, false, [2]byte{}
		f.out = append(f.out, "![CDATA["...)
		return '<', true
	case bytes.HasPrefix(ahead, []byte("?")):
		f.r.Discard(1)
		f.state, f.prev = inPI, [2]byte{}
		return 0, false
	case bytes.HasPrefix(ahead, []byte("!")):
		f.state, f.quote, f.depth = inDecl, 0, 0
		return 0, false
	}
	f.state, f.tag, f.quote, f.drop = inTag, 1, 0, false
	return '<', true
}

// clean turns a control character XML forbids into a space.
func clean(b byte) byte {
	if b < 0x20 && b != '\t' && b != '\n' && b != '\r' {
		return ' '
	}
	return b
}

// controlRef reports whether the bytes after an '&' are a character
// reference to a forbidden control character (&#27; &#x1b;), and returns
// them.
func (f *xmlFilter) controlRef() ([]byte, bool) {
	ahead, _ := f.r.Peek(8)
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
