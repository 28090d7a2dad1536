package pgconn

import (
	"fmt"
	"strings"
)

// Params returns the highest $N parameter a query refers to (0 for none),
// reading it as PostgreSQL's lexer would: $N inside a string ('…', E'…'),
// a quoted identifier ("…"), a dollar-quoted body ($tag$…$tag$) or a
// comment (-- …, nested /* … */) is text, not a parameter; neither is a $
// inside an identifier (a$1). It errs on a query whose quote or comment is
// never closed: the server would refuse it, and the count would be wrong.
//
// The server decides a statement's parameters the same way, so comparing
// Params with the args a config gives finds a mismatch at load time,
// instead of from a driver's error text at run time.
func Params(q string) (int, error) {
	highest := 0
	identChar := func(c byte) bool {
		return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
	}
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'':
			// E'…' (backslash escapes) when an E stands alone before it.
			esc := i > 0 && (q[i-1] == 'e' || q[i-1] == 'E') && (i == 1 || !identChar(q[i-2]))
			end, ok := closeQuote(q, i+1, '\'', esc)
			if !ok {
				return 0, fmt.Errorf("a string ('…') opened at byte %d is never closed", i+1)
			}
			i = end
		case c == '"':
			end, ok := closeQuote(q, i+1, '"', false)
			if !ok {
				return 0, fmt.Errorf("a quoted name (\"…\") opened at byte %d is never closed", i+1)
			}
			i = end
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			depth, start := 1, i
			for i += 2; depth > 0; {
				switch {
				case i+1 >= len(q):
					return 0, fmt.Errorf("a comment (/* … */) opened at byte %d is never closed", start+1)
				case q[i] == '/' && q[i+1] == '*':
					depth, i = depth+1, i+2
				case q[i] == '*' && q[i+1] == '/':
					depth, i = depth-1, i+2
				default:
					i++
				}
			}
		case c == '$' && (i == 0 || !identChar(q[i-1])):
			j := i + 1
			if j < len(q) && q[j] >= '0' && q[j] <= '9' {
				n := 0
				for ; j < len(q) && q[j] >= '0' && q[j] <= '9'; j++ {
					if n = n*10 + int(q[j]-'0'); n > 65535 {
						return 0, fmt.Errorf("parameter $%s… is past $65535, the most a statement can have", q[i+1:j])
					}
				}
				highest = max(highest, n)
				i = j
				continue
			}
			// $tag$ … $tag$: the tag is empty or a name without $.
			for j < len(q) && q[j] != '$' && identChar(q[j]) && !(j == i+1 && q[j] >= '0' && q[j] <= '9') {
				j++
			}
			if j < len(q) && q[j] == '$' {
				tag := q[i : j+1]
				end := strings.Index(q[j+1:], tag)
				if end < 0 {
					return 0, fmt.Errorf("a dollar-quoted string (%s…%s) opened at byte %d is never closed", tag, tag, i+1)
				}
				i = j + 1 + end + len(tag)
				continue
			}
			i++
		default:
			i++
		}
	}
	return highest, nil
}

// closeQuote returns the index after the quote that closes a string or
// name started before from; a doubled quote is part of it, and so, with
// esc, is a backslash-escaped one.
func closeQuote(q string, from int, quote byte, esc bool) (int, bool) {
	for i := from; i < len(q); i++ {
		switch {
		case esc && q[i] == '\\':
			i++
		case q[i] == quote:
			if i+1 < len(q) && q[i+1] == quote {
				i++
				continue
			}
			return i + 1, true
		}
	}
	return 0, false
}
