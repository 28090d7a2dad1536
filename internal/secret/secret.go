// Package secret owns suitecheck's secrets: which names carry one
// ([SensitiveName]) and the [Masker] that replaces every form of a secret
// in text before it is shown or written anywhere.
//
// A secret is masked in every form it takes on its way to an output:
//
//   - as it is;
//   - percent-encoded, in URL queries, paths and form bodies: any byte may be
//     encoded or not, %2f as %2F, and + stands for a space;
//   - JSON-escaped: \" \\ \/ \b \f \n \r \t, \u00XX for any ASCII byte and
//     \uXXXX (surrogate pairs above U+FFFF) for any rune;
//   - Go-quoted (strconv.Quote, QuoteToASCII, %q): \a \v \' too, \xXX for any
//     byte, \uXXXX and \UXXXXXXXX for any rune;
//   - HTML-escaped: named entities of ASCII punctuation (&amp; &lt; &gt;
//     &quot; &apos; &sol;… in any case), &#NN; and &#xHH; for any rune;
//   - base64 (standard and URL alphabets, padded or not), also inside a
//     longer blob such as the credentials of Basic auth (user:secret), at any
//     of the three byte alignments. The blob's characters that hold bits of
//     the secret and of its neighbours are masked with it.
//
// The escapes may be mixed within one occurrence: each byte or rune of the
// secret is recognised in any of its forms. They may also be escaped once
// more, as when JSON is put in JSON (\\\"), in an HTML attribute (\&quot;)
// or in a URL (%5C%22), when HTML holds escaped HTML (&amp;quot;) or JSON
// holds HTML (\u0026quot;), or a URL is encoded twice (%252F). A byte that
// is not valid UTF-8, and NUL, also match U+FFFD (raw, \ufffd or &#65533;),
// which is what JSON encoders, HTML escapers and browsers make of them.
// Secrets shorter than [MinLen] bytes are not masked: they would blank out
// ordinary text.
//
// The package uses the standard library only and imports nothing of
// suitecheck's, so every other package can use it.
package secret

import (
	"slices"
	"strings"
	"sync"
)

const (
	// MinLen is the length in bytes of the shortest secret that is masked.
	MinLen = 3
	// Placeholder replaces every masked occurrence.
	Placeholder = "****"
)

// SensitiveName reports whether a header, form field, query parameter, JSON
// key or tenant field of this name carries a credential: Authorization,
// Cookie, and names containing passw, secret, token, apikey, api-key,
// api_key or credential, in any case.
func SensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"authorization", "cookie", "passw", "secret", "token", "apikey", "api-key", "api_key", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Masker replaces secrets, in every form listed in the package
// documentation, with [Placeholder]. The zero value masks nothing until
// secrets are added; a nil *Masker masks nothing. It is safe for concurrent
// use. The matcher is built once per set of secrets, on the first Mask
// after an Add.
type Masker struct {
	mu      sync.Mutex
	secrets []string
	m       *matcher // nil: not built since the last Add
}

// New returns a Masker of these secrets.
func New(secrets ...string) *Masker {
	m := &Masker{}
	m.Add(secrets...)
	return m
}

// Add registers secrets. Empty, too short and known ones are ignored.
func (m *Masker) Add(secrets ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range secrets {
		if len(s) < MinLen || slices.Contains(m.secrets, s) {
			continue
		}
		m.secrets = append(m.secrets, s)
		m.m = nil
	}
}

// Secrets returns the registered secrets (those of MinLen bytes or more),
// in the order they were added.
func (m *Masker) Secrets() []string {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.secrets)
}

func (m *Masker) matcher() *matcher {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil && len(m.secrets) > 0 {
		m.m = compile(m.secrets)
	}
	return m.m
}

// Mask returns s with every occurrence of a secret, in any of its forms,
// replaced by [Placeholder]. Overlapping and adjacent occurrences become
// one placeholder.
func (m *Masker) Mask(s string) string {
	mt := m.matcher()
	if mt == nil {
		return s
	}
	spans := mt.spans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for _, sp := range spans {
		b.WriteString(s[at:sp.from])
		b.WriteString(Placeholder)
		at = sp.to
	}
	b.WriteString(s[at:])
	return b.String()
}

// Contains reports whether s holds a secret in any of its forms.
func (m *Masker) Contains(s string) bool {
	mt := m.matcher()
	return mt != nil && len(mt.spans(s)) > 0
}

// PartialTail returns the length of the longest end of s that may be the
// start of a secret in one of its forms, cut off: what text that was cut
// (a capped body) can show of a secret. Mask s first; then drop that many
// bytes from its end.
func (m *Masker) PartialTail(s string) int {
	mt := m.matcher()
	if mt == nil {
		return 0
	}
	return mt.partialTail(s)
}
