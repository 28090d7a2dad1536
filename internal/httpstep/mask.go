package httpstep

import (
	"strconv"
	"strings"

	"github.com/suitecheck/suitecheck/internal/secret"
)

// snippetMax bounds an excerpt of response data in a message, quotes and
// ellipsis included.
const snippetMax = 120

// masker replaces secrets, in every form they take on the wire and in
// messages (see internal/secret), with ****.
type masker struct{ m *secret.Masker }

func newMasker(secrets []string) *masker { return &masker{secret.New(secrets...)} }

// mask returns s with every secret replaced.
func (m *masker) mask(s string) string { return m.m.Mask(s) }

// quote is an excerpt of response data for a message: masked, valid UTF-8,
// Go-quoted, at most snippetMax bytes, ending in … when cut. more says the
// data was cut before it got here (the body cap), so that its end may hold
// the start of a secret: that end is not shown.
func (m *masker) quote(b []byte, more bool) string {
	return m.excerpt(string(b), more, true)
}

// clip is like quote, for text that is already quoted or escaped, such as
// JSON text: it is not quoted again.
func (m *masker) clip(s string) string {
	return m.excerpt(s, false, false)
}

func (m *masker) excerpt(s string, more, quoted bool) string {
	s = m.mask(s)
	if more {
		// What cut data may show of a secret it cut off.
		s = s[:len(s)-m.m.PartialTail(s)]
	}
	limit := snippetMax
	if quoted {
		limit -= 2
	}
	// Every rune takes at least as many bytes in the excerpt as in s, so
	// a prefix this long is enough to fill it.
	if len(s) > limit+4 {
		s, more = s[:limit+4], true
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var pieces []string
	n := 0
	for _, r := range s {
		p := string(r)
		if quoted {
			q := strconv.Quote(p)
			p = q[1 : len(q)-1]
		} else if r < ' ' || r == 0x7f {
			p = " "
		}
		pieces = append(pieces, p)
		n += len(p)
	}
	if n > limit {
		more = true
	}
	var b strings.Builder
	if quoted {
		b.WriteByte('"')
	}
	budget := limit
	if more {
		budget -= len("…")
	}
	for _, p := range pieces {
		if b.Len()-boolInt(quoted)+len(p) > budget {
			break
		}
		b.WriteString(p)
	}
	if more {
		b.WriteString("…")
	}
	if quoted {
		b.WriteByte('"')
	}
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// oneLine keeps a message on one line, as the plugin's status line needs.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
