package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"unicode/utf16"
	"unicode/utf8"
)

// encoders are the forms a secret takes on its way to an output.
var encoders = []struct {
	name string
	enc  func(string) string
}{
	{"raw", func(s string) string { return s }},
	{"url.QueryEscape", url.QueryEscape},
	{"url.PathEscape", url.PathEscape},
	{"lower-case QueryEscape", func(s string) string { return lowerHex(url.QueryEscape(s)) }},
	{"every byte %XX", func(s string) string { return percentAll(s, "%%%02X", func(int) bool { return true }) }},
	{"every byte %xx", func(s string) string { return percentAll(s, "%%%02x", func(int) bool { return true }) }},
	{"every other byte %XX", func(s string) string { return percentAll(s, "%%%02X", func(i int) bool { return i%2 == 0 }) }},
	{"encodeURIComponent", encodeURIComponent},
	{"url.URL path", func(s string) string { return (&url.URL{Path: "/" + s}).EscapedPath()[1:] }},
	{"json.Marshal", func(s string) string { return jsonString(s, true) }},
	{"json without HTML escaping", func(s string) string { return jsonString(s, false) }},
	{"json with \\/", func(s string) string { return strings.ReplaceAll(jsonString(s, false), "/", `\/`) }},
	{"json ASCII only", func(s string) string { return jsonASCII(s, "\\u%04x") }},
	{"json ASCII only, upper-case hex", func(s string) string { return jsonASCII(s, "\\u%04X") }},
	{"json \\u00XX for everything", jsonAllEscaped},
	{"strconv.Quote", func(s string) string { return unquoted(strconv.Quote(s)) }},
	{"strconv.QuoteToASCII", func(s string) string { return unquoted(strconv.QuoteToASCII(s)) }},
	{"strconv.QuoteToGraphic", func(s string) string { return unquoted(strconv.QuoteToGraphic(s)) }},
	{"html.EscapeString", html.EscapeString},
	{"template.HTMLEscapeString", template.HTMLEscapeString},
	{"html upper-case names", func(s string) string {
		return strings.NewReplacer("&", "&AMP;", "<", "&LT;", ">", "&GT;", `"`, "&QUOT;", "'", "&APOS;").Replace(s)
	}},
	{"html &#NN; for every rune", func(s string) string { return entityAll(s, "&#%d;") }},
	{"html &#xHH; for every rune", func(s string) string { return entityAll(s, "&#x%x;") }},
	{"html &#XHH; for every rune", func(s string) string { return entityAll(s, "&#X%X;") }},
	// Escaped twice: JSON in JSON, in an HTML attribute, in a URL; HTML
	// in JSON; a URL or HTML escaped twice; Go-quoted JSON.
	{"json in json", func(s string) string { return jsonString(jsonString(s, true), true) }},
	{"json in html", func(s string) string { return html.EscapeString(jsonString(s, false)) }},
	{"json in a url", func(s string) string { return url.QueryEscape(jsonString(s, true)) }},
	{"html in json", func(s string) string { return jsonString(html.EscapeString(s), true) }},
	{"url encoded twice", func(s string) string { return url.QueryEscape(url.PathEscape(s)) }},
	{"html escaped twice", func(s string) string { return html.EscapeString(html.EscapeString(s)) }},
	{"go-quoted json", func(s string) string {
		return unquoted(strconv.Quote(strings.ReplaceAll(jsonString(s, true), "/", `\/`)))
	}},
}

var hexEscape = regexp.MustCompile(`%[0-9A-F]{2}`)

func lowerHex(s string) string { return hexEscape.ReplaceAllStringFunc(s, strings.ToLower) }

func percentAll(s, format string, enc func(int) bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if enc(i) {
			fmt.Fprintf(&b, format, s[i])
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func jsonString(s string, escapeHTML bool) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(escapeHTML)
	if err := e.Encode(s); err != nil {
		panic(err)
	}
	return unquoted(strings.TrimSuffix(b.String(), "\n"))
}

func jsonASCII(s, format string) string {
	var b strings.Builder
	for _, r := range unquoted(jsonString(s, true)) {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, format, u)
		}
	}
	return b.String()
}

func jsonAllEscaped(s string) string {
	var b strings.Builder
	for _, r := range s { // invalid bytes become U+FFFD, as JSON encoders do
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, "\\u%04X", u)
		}
	}
	return b.String()
}

func entityAll(s, format string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, format, r)
	}
	return b.String()
}

func unquoted(q string) string {
	if len(q) >= 2 && q[0] == '"' {
		return q[1 : len(q)-1]
	}
	return q
}

// covered reports whether every occurrence of form in text lies within a
// span.
func covered(text, form string, spans []span) (int, bool) {
	for at := 0; ; {
		i := strings.Index(text[at:], form)
		if i < 0 {
			return 0, true
		}
		i += at
		ok := false
		for _, sp := range spans {
			ok = ok || sp.from <= i && i+len(form) <= sp.to
		}
		if !ok {
			return i, false
		}
		at = i + 1
	}
}

// FuzzMask: no form of a secret survives masking, alone or inside other
// text, whatever bytes the secret holds; and masking never panics.
func FuzzMask(f *testing.F) {
	for _, s := range []string{
		`Pa ss"w\ord/é&<x>'!`, "%25%2F+ +", "\\\\u0041\\x41", "&amp;&#39;", "\x00\x01\x7f\n\t", "\xff\xfe\xc3",
		"日本語😀\u2028", "a***", "****", "user:pass", "\uFFFD\xff", "abc", `\/\/`, "\xed\xa0\x80", "=+/-_",
	} {
		f.Add(s, "<p>", "</p>")
	}
	f.Add("s3cr3t", "user:", "")
	f.Add("abc", "x%2", "\\u")
	f.Fuzz(func(t *testing.T, sec, before, after string) {
		if len(sec) < MinLen || len(sec) > 256 || len(before) > 64 || len(after) > 64 {
			return
		}
		m := New(sec)
		mt := m.matcher()
		for _, e := range encoders {
			form := e.enc(sec)
			text := before + form + after
			spans := mt.spans(text)
			if i, ok := covered(text, form, spans); !ok {
				t.Fatalf("secret %q, %s: %q at %d of %q is not masked (spans %v): %q", sec, e.name, form, i, text, spans, m.Mask(text))
			}
		}
		// base64: the secret can no longer be decoded from what is left,
		// alone or inside a blob with other data before and after it.
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			for _, data := range []string{sec, before + sec, before + sec + after} {
				text := "<" + enc.EncodeToString([]byte(data)) + ">"
				if got := m.Mask(text); recoverable(got, sec) {
					t.Fatalf("secret %q: its base64 survives in %q (from %q)", sec, got, text)
				}
			}
		}
		// Masking other text never panics, and a tail is within the text.
		for _, s := range []string{before, after, before + sec[:len(sec)-1]} {
			_ = m.Mask(s)
			if n := m.PartialTail(s); n < 0 || n > len(s) {
				t.Fatalf("PartialTail(%q) = %d", s, n)
			}
		}
		if cut := before + sec[:len(sec)-1]; m.PartialTail(cut) < len(sec)-1 {
			t.Fatalf("PartialTail(%q) = %d: the cut secret %q shows", cut, m.PartialTail(cut), sec[:len(sec)-1])
		}
	})
}
