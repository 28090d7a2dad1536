package secret

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A pattern is a byte string to find in any of its encoded forms: a secret,
// or the part of the secret's base64 encoding that depends on the secret
// alone.
type pattern struct {
	b string
	// invalid marks the bytes of b that are not part of valid UTF-8; nil
	// when b is valid. They, and NUL, also match U+FFFD.
	invalid []bool
	// A base64 pattern's neighbouring character holds bits of the secret
	// too when its bits start (left) or end (right) inside a character:
	// the match takes that character along.
	b64, left, right bool
}

// A span is a masked range of the text.
type span struct{ from, to int }

// matcher finds the patterns of a set of secrets.
type matcher struct {
	pats []pattern
	// byFirst lists the patterns by their first byte; invalidFirst those
	// whose first byte U+FFFD matches (not valid UTF-8, or NUL).
	byFirst      [256][]int
	invalidFirst []int
	// start marks the bytes at which a match may begin.
	start [256]bool
	// pairs holds the first two bytes of every pattern; plain marks the
	// bytes that stand for themselves only (no escape or + starts there).
	// Two plain bytes in a row start a match only when they are a pair.
	pairs [1 << 16 / 64]uint64
	plain [256]bool
	// maxLen is the longest pattern, in bytes.
	maxLen int
}

func compile(secrets []string) *matcher {
	m := &matcher{}
	type key struct {
		b                string
		b64, left, right bool
	}
	seen := map[key]bool{}
	add := func(p pattern) {
		key := key{p.b, p.b64, p.left, p.right}
		if len(p.b) == 0 || seen[key] {
			return
		}
		seen[key] = true
		if !utf8.ValidString(p.b) {
			p.invalid = invalidBytes(p.b)
		}
		m.pats = append(m.pats, p)
	}
	for _, s := range secrets {
		add(pattern{b: s})
		for _, p := range base64Cores(s) {
			add(p)
		}
	}
	for i, p := range m.pats {
		m.byFirst[p.b[0]] = append(m.byFirst[p.b[0]], i)
		if p.b[0] == 0 || p.invalid != nil && p.invalid[0] {
			m.invalidFirst = append(m.invalidFirst, i)
		}
		m.start[p.b[0]] = true
		m.maxLen = max(m.maxLen, len(p.b))
		pair := int(p.b[0])<<8 | int(p.b[1])
		m.pairs[pair/64] |= 1 << (pair % 64)
	}
	for c := range m.plain {
		m.plain[c] = !strings.ContainsRune("%\\&+", rune(c)) && byte(c) != "\uFFFD"[0]
	}
	// Any byte may be percent-, backslash- or entity-encoded.
	m.start['%'], m.start['\\'], m.start['&'] = true, true, true
	if len(m.byFirst[' ']) > 0 {
		m.start['+'] = true
	}
	if len(m.invalidFirst) > 0 {
		m.start["\uFFFD"[0]] = true
	}
	return m
}

// invalidBytes marks the bytes of s that a decoder reading s from its start
// finds to be invalid UTF-8.
func invalidBytes(s string) []bool {
	bad := make([]bool, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			bad[i] = true
		}
		i += n
	}
	return bad
}

// base64Cores are the parts of the base64 encodings of s, standard and URL
// alphabet, that depend on s alone, wherever s starts in the encoded data:
// at a multiple of three bytes, or one or two bytes after one.
func base64Cores(s string) []pattern {
	var out []pattern
	for align := 0; align < 3; align++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, align), s...))
		startBit, endBit := 8*align, 8*(align+len(s))
		lo, hi := (startBit+5)/6, endBit/6 // the characters whose 6 bits are all the secret's
		if hi-lo < MinLen {
			continue
		}
		core := enc[lo:hi]
		p := pattern{b: core, b64: true, left: startBit%6 != 0, right: endBit%6 != 0}
		out = append(out, p)
		if url := strings.NewReplacer("+", "-", "/", "_").Replace(core); url != core {
			p.b = url
			out = append(out, p)
		}
	}
	return out
}

// A unit is what the text at one position stands for: one byte of a
// secret, or one rune.
type unit struct {
	r    rune
	n    int  // bytes of text it takes
	byte bool // r is a byte (raw, %XX, \xXX, \ooo), not a rune
}

// maxUnits bounds the readings of one position: the byte itself, + as a
// space, U+FFFD, and the escapes that start there, nested (a backslash
// spelled six ways, each followed by a letter spelled three).
const maxUnits = 32

// units are the readings of one position.
type units struct {
	n int
	u [maxUnits]unit
}

func (us *units) add(u unit) {
	if us.n < maxUnits {
		us.u[us.n] = u
		us.n++
	}
}

// depth is how deeply escapes nest: 2 reads an escape whose backslash,
// percent sign, ampersand or escaped character is itself escaped once, as
// in JSON inside JSON (\\\"), inside an HTML attribute (\&quot;) or a URL
// (%5C%22), in HTML escaped twice (&amp;quot;) or a URL encoded twice
// (%252F).
const depth = 2

// maxEscape is the longest escape, e.g. \\ud83d\\ude00 or &#x0001F600;
// escaped once more.
const maxEscape = 24

// read adds the readings of the text at p, escapes nested d deep.
func read(s string, p, d int, us *units) {
	c := s[p]
	us.add(unit{r: rune(c), n: 1, byte: true})
	switch c {
	case '+':
		us.add(unit{r: ' ', n: 1, byte: true})
	case "\uFFFD"[0]:
		if strings.HasPrefix(s[p:], "\uFFFD") {
			us.add(unit{r: utf8.RuneError, n: 3})
		}
	case '%', '\\', '&':
		if d > 0 {
			escapes(s, p, d, us)
		}
	}
}

// escapes adds the escapes at p: a percent sign, backslash or ampersand,
// spelled as it is or escaped (d-1 deep), and what follows it.
func escapes(s string, p, d int, us *units) {
	var intro units
	read(s, p, d-1, &intro)
	for _, i := range intro.u[:intro.n] {
		q := p + i.n
		if !i.byte && i.r >= utf8.RuneSelf || q >= len(s) {
			continue
		}
		switch i.r {
		case '%':
			if q+2 <= len(s) {
				if v, ok := hexByte(s[q], s[q+1]); ok {
					us.add(unit{r: rune(v), n: q + 2 - p, byte: true})
				}
			}
		case '\\':
			backslash(s, p, q, d, us)
		case '&':
			if u, ok := entityAt(s, q); ok {
				u.n += q - p
				us.add(u)
			}
		}
	}
}

func hexDigit(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

func hexByte(a, b byte) (byte, bool) {
	x, ok1 := hexDigit(a)
	y, ok2 := hexDigit(b)
	return byte(x<<4 | y), ok1 && ok2
}

// hexRune reads n hex digits of s at p.
func hexRune(s string, p, n int) (rune, bool) {
	if p < 0 || p+n > len(s) {
		return 0, false
	}
	var v rune
	for i := p; i < p+n; i++ {
		d, ok := hexDigit(s[i])
		if !ok {
			return 0, false
		}
		v = v<<4 | rune(d)
	}
	return v, true
}

// backslash adds the JSON, Go and JavaScript escapes whose backslash spans
// s[p:q]: the character after it is read d-1 deep, hex digits as they are.
func backslash(s string, p, q, d int, us *units) {
	var letters units
	read(s, q, d-1, &letters)
	for _, l := range letters.u[:letters.n] {
		if !l.byte && l.r >= utf8.RuneSelf {
			continue
		}
		r := q + l.n // after the letter
		add := func(v byte, end int) { us.add(unit{r: rune(v), n: end - p, byte: true}) }
		switch e := byte(l.r); e {
		case 'a':
			add('\a', r)
		case 'b':
			add('\b', r)
		case 'f':
			add('\f', r)
		case 'n':
			add('\n', r)
		case 'r':
			add('\r', r)
		case 't':
			add('\t', r)
		case 'v':
			add('\v', r)
		case '\\', '"', '\'', '/', '`':
			add(e, r)
		case 'x':
			if r+2 <= len(s) {
				if v, ok := hexByte(s[r], s[r+1]); ok {
					add(v, r+2)
				}
			}
		case '0', '1', '2', '3':
			if r+2 <= len(s) && isOctal(s[r]) && isOctal(s[r+1]) {
				add((e-'0')<<6|(s[r]-'0')<<3|(s[r+1]-'0'), r+2)
			}
		case 'U':
			if v, ok := hexRune(s, r, 8); ok && utf8.ValidRune(v) {
				us.add(unit{r: v, n: r + 8 - p})
			}
		case 'u':
			v, ok := hexRune(s, r, 4)
			if !ok {
				break
			}
			end := r + 4
			if utf16.IsSurrogate(v) {
				// The low half follows, escaped the same way.
				v2 := utf8.RuneError
				if pre := s[p:r]; v < 0xDC00 && strings.HasPrefix(s[end:], pre) {
					if lo, ok := hexRune(s, end+len(pre), 4); ok {
						if d := utf16.DecodeRune(v, lo); d != utf8.RuneError {
							v2, end = d, end+len(pre)+4
						}
					}
				}
				v = v2 // a lone half: what decoders make of it
			}
			us.add(unit{r: v, n: end - p})
		}
	}
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// entities are the named HTML character references of the ASCII
// punctuation (and the no-break space), matched in any case.
var entities = []struct {
	name string
	r    rune
}{
	{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", '\u00a0'},
	{"excl", '!'}, {"num", '#'}, {"dollar", '$'}, {"percnt", '%'}, {"lpar", '('}, {"rpar", ')'},
	{"ast", '*'}, {"midast", '*'}, {"plus", '+'}, {"comma", ','}, {"period", '.'}, {"sol", '/'},
	{"colon", ':'}, {"semi", ';'}, {"equals", '='}, {"quest", '?'}, {"commat", '@'},
	{"lsqb", '['}, {"lbrack", '['}, {"bsol", '\\'}, {"rsqb", ']'}, {"rbrack", ']'}, {"hat", '^'},
	{"lowbar", '_'}, {"underbar", '_'}, {"grave", '`'}, {"diacriticalgrave", '`'}, {"lcub", '{'},
	{"lbrace", '{'}, {"verbar", '|'}, {"vert", '|'}, {"verticalline", '|'}, {"rcub", '}'},
	{"rbrace", '}'}, {"tab", '\t'}, {"newline", '\n'},
}

// maxEntityName is the longest name in entities.
const maxEntityName = len("diacriticalgrave")

// entityAt reads the rest of an HTML character reference whose & ends
// before q: name; #NN; or #xHH;
func entityAt(s string, q int) (unit, bool) {
	p := q
	if q < len(s) && s[q] == '#' {
		q++
		base := 10
		if q < len(s) && (s[q] == 'x' || s[q] == 'X') {
			base = 16
			q++
		}
		from, v := q, 0
		for ; q < len(s) && q-from < 10; q++ {
			d, ok := hexDigit(s[q])
			if !ok || d >= base {
				break
			}
			if v = v*base + d; v > utf8.MaxRune {
				return unit{}, false
			}
		}
		if q == from || q >= len(s) || s[q] != ';' {
			return unit{}, false
		}
		r := rune(v)
		if v == 0 || !utf8.ValidRune(r) {
			r = utf8.RuneError // as browsers read it
		}
		return unit{r: r, n: q + 1 - p}, true
	}
	from := q
	for q < len(s) && q-from <= maxEntityName && isAlnum(s[q]) {
		q++
	}
	if q == from || q >= len(s) || s[q] != ';' {
		return unit{}, false
	}
	name := s[from:q]
	for _, e := range entities {
		if len(e.name) == len(name) && strings.EqualFold(e.name, name) {
			return unit{r: e.r, n: q + 1 - p}, true
		}
	}
	return unit{}, false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// advance matches u against the pattern at k and returns the pattern
// positions after it in to: none, one, or (U+FFFD for an invalid byte that
// the secret also has as a valid U+FFFD) two.
func (pt *pattern) advance(u unit, k int, to *[2]int) int {
	b := pt.b
	if u.byte || u.r < utf8.RuneSelf {
		if b[k] == byte(u.r) {
			to[0] = k + 1
			return 1
		}
		return 0
	}
	n := 0
	if u.r == utf8.RuneError && (b[k] == 0 || pt.invalid != nil && pt.invalid[k]) {
		to[n] = k + 1
		n++
	}
	var buf [utf8.UTFMax]byte
	l := utf8.EncodeRune(buf[:], u.r)
	if len(b)-k >= l && b[k:k+l] == string(buf[:l]) {
		to[n] = k + l
		n++
	}
	return n
}

type state struct{ k, p int }

// A walk is where a pattern's match from one start got.
type walk struct {
	end    int  // where the longest match ends; -1 for none
	eof    bool // the text ended while a match was still possible
	gaveUp bool // the text was too ambiguous to search: end is the farthest a match could reach
}

// cutEscape reports whether the text from p on may be an escape cut off by
// the end of the text.
func cutEscape(s string, p int) bool {
	switch s[p] {
	case '%', '\\', '&':
		return len(s)-p < maxEscape
	case "\uFFFD"[0]:
		return len(s)-p < 3
	}
	return false
}

// walk follows the pattern from its position k at the text's position p.
func (pt *pattern) walk(s string, k, p int) walk {
	var us units
	var to [2]int
	var next [2 * maxUnits]state
	eof := false
	for {
		// One path, as long as every position has one reading that fits.
		if k == len(pt.b) {
			return walk{end: p, eof: eof}
		}
		if p >= len(s) {
			return walk{end: -1, eof: true}
		}
		eof = eof || cutEscape(s, p)
		nn := 0
		us.n = 0
		read(s, p, depth, &us)
		for _, u := range us.u[:us.n] {
			na := pt.advance(u, k, &to)
			for j := range na {
				next[nn] = state{to[j], p + u.n}
				nn++
			}
		}
		switch nn {
		case 0:
			return walk{end: -1, eof: eof}
		case 1:
			k, p = next[0].k, next[0].p
		default:
			return pt.walkAll(s, next[:nn], eof)
		}
	}
}

// maxStates bounds the states walkAll visits from one start.
const maxStates = 256

// walkAll is walk from several states: a search that visits each state
// once. A text that stays ambiguous (\\\\\\… against a secret of
// backslashes: each \\\\ is one backslash or two) has too many states to
// visit from every start: past maxStates, walkAll gives up and returns the
// farthest end a match could have, so that such text is masked rather
// than searched slowly.
func (pt *pattern) walkAll(s string, from []state, eof bool) walk {
	end, limit := -1, 0
	for _, st := range from {
		limit = max(limit, min(len(s), st.p+(len(pt.b)-st.k)*maxEscape))
	}
	stack := slices.Clone(from)
	seen := make(map[state]bool, 16)
	var us units
	var to [2]int
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[st] {
			continue
		}
		if len(seen) == maxStates {
			return walk{end: limit, eof: true, gaveUp: true}
		}
		seen[st] = true
		switch {
		case st.k == len(pt.b):
			end = max(end, st.p)
			continue
		case st.p >= len(s):
			eof = true
			continue
		}
		eof = eof || cutEscape(s, st.p)
		us.n = 0
		read(s, st.p, depth, &us)
		for _, u := range us.u[:us.n] {
			na := pt.advance(u, st.k, &to)
			for j := range na {
				stack = append(stack, state{to[j], st.p + u.n})
			}
		}
	}
	return walk{end: end, eof: eof}
}

// candidates are the patterns whose first byte or rune u may be.
func (m *matcher) candidates(u unit) ([]int, []int) {
	switch {
	case u.byte || u.r < utf8.RuneSelf:
		return m.byFirst[byte(u.r)], nil
	case u.r == utf8.RuneError:
		return m.byFirst["\uFFFD"[0]], m.invalidFirst
	}
	var buf [utf8.UTFMax]byte
	utf8.EncodeRune(buf[:], u.r)
	return m.byFirst[buf[0]], nil
}

// each calls fn with the walk of every pattern from p.
func (m *matcher) each(s string, p int, fn func(pt *pattern, w walk)) {
	var us units
	var to [2]int
	read(s, p, depth, &us)
	for _, u := range us.u[:us.n] {
		a, b := m.candidates(u)
		for _, list := range [2][]int{a, b} {
			for _, pi := range list {
				pt := &m.pats[pi]
				na := pt.advance(u, 0, &to)
				for j := range na {
					fn(pt, pt.walk(s, to[j], p+u.n))
				}
			}
		}
	}
}

// skip reports whether the two plain bytes at p start no pattern.
func (m *matcher) skip(s string, p int) bool {
	if p+1 >= len(s) || !m.plain[s[p]] || !m.plain[s[p+1]] {
		return false
	}
	pair := int(s[p])<<8 | int(s[p+1])
	return m.pairs[pair/64]&(1<<(pair%64)) == 0
}

// spans returns the ranges of s to mask, sorted and merged.
func (m *matcher) spans(s string) []span {
	var out []span
	// Once a walk gave up, the escapes that follow within the reach of a
	// match are masked without a search: they are what made it ambiguous.
	ambiguous := -1
	for p := 0; p < len(s); p++ {
		if !m.start[s[p]] {
			continue
		}
		if m.skip(s, p) {
			continue
		}
		if p < ambiguous && (s[p] == '\\' || s[p] == '%' || s[p] == '&') {
			ambiguous = min(len(s), p+m.maxLen*maxEscape)
			out = append(out, span{p, ambiguous})
			continue
		}
		m.each(s, p, func(pt *pattern, w walk) {
			if w.end < 0 {
				return
			}
			sp := span{p, w.end}
			if w.gaveUp {
				ambiguous = max(ambiguous, w.end)
			}
			if pt.b64 {
				if pt.left && sp.from > 0 && isBase64(s[sp.from-1]) {
					sp.from--
				}
				if pt.right && sp.to < len(s) && isBase64(s[sp.to]) {
					sp.to++
				}
				for sp.to < len(s) && s[sp.to] == '=' {
					sp.to++
				}
			}
			out = append(out, sp)
		})
	}
	if len(out) < 2 {
		return out
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	merged := out[:1]
	for _, sp := range out[1:] {
		last := &merged[len(merged)-1]
		if sp.from <= last.to {
			last.to = max(last.to, sp.to)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// partialTail is the length of the longest end of s that a pattern's match
// could start with: the text ended before the match did.
func (m *matcher) partialTail(s string) int {
	for p := max(0, len(s)-m.maxLen*maxEscape); p < len(s); p++ {
		if !m.start[s[p]] || m.skip(s, p) {
			continue
		}
		if cutEscape(s, p) {
			return len(s) - p
		}
		cut := false
		m.each(s, p, func(_ *pattern, w walk) { cut = cut || w.eof })
		if cut {
			return len(s) - p
		}
	}
	return 0
}

func isBase64(c byte) bool {
	return isAlnum(c) || c == '+' || c == '/' || c == '-' || c == '_'
}
