package secret

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestMaskForms(t *testing.T) {
	const sec = `Pa ss"w\ord/é&<x>'!`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"raw", "before " + sec + " after", "before **** after"},
		{"query escape", "?p=Pa+ss%22w%5Cord%2F%C3%A9%26%3Cx%3E%27%21&x=1", "?p=****&x=1"},
		{"path escape", "/Pa%20ss%22w%5Cord%2F%C3%A9&%3Cx%3E%27%21/", "/****/"},
		{"lower-case hex", "/Pa%20ss%22w%5cord%2f%c3%a9&%3cx%3e%27%21/", "/****/"},
		{"some bytes encoded, as a browser does", "?t=Pa%20ss%22w\\ord/%C3%A9&%3Cx%3E'!#", "?t=****#"},
		{"every byte encoded", "=%50%61%20%73%73%22%77%5C%6F%72%64%2F%C3%A9%26%3C%78%3E%27%21;", "=****;"},
		{"json", `{"p":"Pa ss\"w\\ord/é\u0026\u003cx\u003e'!"}`, `{"p":"****"}`},
		{"json \\/ and ASCII only", `{"p":"Pa ss\"w\\ord\/\u00e9&<x>'!"}`, `{"p":"****"}`},
		{"json \\u00XX for everything", `"\u0050\u0061\u0020\u0073\u0073\u0022\u0077\u005C\u006f\u0072\u0064\u002f\u00E9\u0026\u003c\u0078\u003e\u0027\u0021"`, `"****"`},
		{"go quote", "got " + fmt.Sprintf("%q", sec) + "!", `got "****"!`},
		{"go quote to ASCII", "got " + fmt.Sprintf("%+q", sec) + "!", `got "****"!`},
		{"go \\x and octal", `"Pa ss\x22w\\ord\057\xc3\xa9&<x>'!"`, `"****"`},
		{"html", "<p>Pa ss&quot;w\\ord/é&amp;&lt;x&gt;&#39;!</p>", "<p>****</p>"},
		{"html entities in any case", "<p>Pa ss&QUOT;w&bsol;ord&SOL;&#XE9;&AMP;&LT;x&GT;&#x27;&excl;</p>", "<p>****</p>"},
		{"json in json", `{"body":"{\"p\":\"Pa ss\\\"w\\\\ord\\/\\u00e9\\u0026<x>'!\"}"}`, `{"body":"{\"p\":\"****\"}"}`},
		{"json in an html attribute", `<div data-x="{&quot;p&quot;:&quot;Pa ss\&quot;w\\ord\/é\u0026&lt;x&gt;&#39;!&quot;}">`, `<div data-x="{&quot;p&quot;:&quot;****&quot;}">`},
		{"json in a url", "?state=%7B%22p%22%3A%22Pa%20ss%5C%22w%5C%5Cord%5C%2F%C3%A9%26%3Cx%3E%27%21%22%7D", "?state=%7B%22p%22%3A%22****%22%7D"},
		{"url encoded twice", "?next=%2F%3Fp%3DPa%2520ss%2522w%255Cord%252F%25C3%25A9%2526%253Cx%253E%2527%2521", "?next=%2F%3Fp%3D****"},
		{"html escaped twice", "Pa ss&amp;quot;w\\ord/é&amp;amp;&amp;lt;x&amp;gt;&amp;#39;!", "****"},
		{"html inside json", `"Pa ss\u0026quot;w\\ord/é\u0026amp;\u0026lt;x\u0026gt;\u0026#39;!"`, `"****"`},
		{"html numeric", "<p>&#80;a&#x20;ss&#34;w&#X5c;ord&#0047;&#233;&#x26;&#60;x&#62;&#039;&#33;</p>", "<p>****</p>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := New(sec).Mask(tc.in); got != tc.want {
				t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskBase64(t *testing.T) {
	const user, sec = "monitor", "s3cr3t-Pa55"
	std, url := base64.StdEncoding, base64.URLEncoding
	for _, tc := range []struct {
		name, in string
	}{
		{"std", std.EncodeToString([]byte(sec))},
		{"raw std", base64.RawStdEncoding.EncodeToString([]byte(sec))},
		{"url", url.EncodeToString([]byte(sec + "\xff\xfe"))},
		{"raw url", base64.RawURLEncoding.EncodeToString([]byte(sec))},
		{"basic auth", "Authorization: Basic " + std.EncodeToString([]byte(user+":"+sec))},
		{"aligned 0 in a blob", std.EncodeToString([]byte("abc" + sec + "xyz"))},
		{"aligned 1 in a blob", std.EncodeToString([]byte("a" + sec + "xyz"))},
		{"aligned 2 in a blob", std.EncodeToString([]byte("ab" + sec + "xy"))},
		{"percent-encoded", strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(std.EncodeToString([]byte("ab" + sec + "\xfb\xff")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := New(sec).Mask(tc.in)
			if !strings.Contains(got, Placeholder) || recoverable(got, sec) {
				t.Errorf("Mask(%q) = %q: the secret can be decoded", tc.in, got)
			}
		})
	}
}

// recoverable reports whether some run of base64 characters in s decodes,
// at some offset and in either alphabet, to data holding sec.
func recoverable(s, sec string) bool {
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		runs := strings.FieldsFunc(s, func(r rune) bool { return r > 127 || !isBase64(byte(r)) })
		for _, run := range runs {
			for off := 0; off < 4 && off < len(run); off++ {
				r := run[off:]
				r = r[:len(r)/4*4]
				if b, err := enc.DecodeString(r); err == nil && strings.Contains(string(b), sec) {
					return true
				}
			}
		}
	}
	return false
}

func TestMaskLeavesOtherText(t *testing.T) {
	m := New("s3cret", "ab", "", "xyz")
	for _, in := range []string{
		"ab and xy, s3cre, s3cre%7 is not it: %7 %zz &#; &#x; &bogus; \\u12 \\x4 \\",
		"100% sure & <b>bold</b> \\n",
		"",
	} {
		if strings.Contains(in, "s3cret") {
			t.Fatalf("bad case %q", in)
		}
		if got := m.Mask(in); got != in {
			t.Errorf("Mask(%q) = %q, want it unchanged", in, got)
		}
	}
	if got := m.Mask("s3cre%74"); got != Placeholder {
		t.Errorf("Mask = %q", got)
	}
}

func TestMaskOverlapping(t *testing.T) {
	for _, tc := range []struct {
		secrets  []string
		in, want string
	}{
		{[]string{"s3cret", "s3cret-longer"}, "a s3cret-longer and s3cret, ab", "a **** and ****, ab"},
		{[]string{"abcd", "cdef"}, "xabcdefx", "x****x"},
		{[]string{"abc"}, "abcabc abc", "**** ****"},
		{[]string{`\\\\\\`}, `x\\\\\\\\\\\\\\y`, "x****y"}, // ambiguous: \\\\ is one backslash or two
		{[]string{"%25%"}, "%25%25 %2525%25 %%25", "**** **** %%25"},
	} {
		if got := New(tc.secrets...).Mask(tc.in); got != tc.want {
			t.Errorf("secrets %q: Mask(%q) = %q, want %q", tc.secrets, tc.in, got, tc.want)
		}
	}
}

func TestMaskUnicode(t *testing.T) {
	const sec = "pä😀\xffx"
	for _, in := range []string{
		sec,
		`p\u00e4\ud83d\ude00\ufffdx`, // JSON, ASCII only; the invalid byte as U+FFFD
		`p\u00E4\U0001f600\xffx`,     // Go
		"p&#228;&#x1F600;&#65533;x",  // HTML
		"p%C3%A4%F0%9F%98%80%FFx",    // URL
		"pä😀\uFFFDx",                 // a browser's text
	} {
		if got := New(sec).Mask("<" + in + ">"); got != "<****>" {
			t.Errorf("Mask(%q) = %q", in, got)
		}
	}
}

func TestMaskerSecrets(t *testing.T) {
	var m Masker
	if got := m.Mask("nothing"); got != "nothing" {
		t.Errorf("zero Masker: %q", got)
	}
	var nilM *Masker
	if nilM.Mask("x") != "x" || nilM.Contains("x") || nilM.Secrets() != nil || nilM.PartialTail("x") != 0 {
		t.Error("a nil Masker is not empty")
	}
	m.Add("ab", "", "abc", "longer one", "abc")
	if got := m.Secrets(); !slices.Equal(got, []string{"abc", "longer one"}) {
		t.Errorf("Secrets() = %q", got)
	}
	if !m.Contains("x longer%20one") || m.Contains("ab") {
		t.Error("Contains")
	}
}

func TestPartialTail(t *testing.T) {
	m := New("s3cret/value")
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"body ends with s3c", 3},
		{"body ends with s3cret%2", 8},
		{"body ends with s3cret\\/va", 10},
		{"body ends with s3cret&sol", 10},
		{"body ends with nothing", 0},
		{"", 0},
	} {
		if got := m.PartialTail(tc.in); got != tc.want {
			t.Errorf("PartialTail(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestSensitiveName(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "Cookie": true, "X-Api-Key": true, "password": true, "db_passwd": true,
		"admin_token": true, "client_secret": true, "apikey": true, "API_KEY": true, "credentials": true,
		"login": false, "id": false, "name": false, "url": false,
	} {
		if got := SensitiveName(name); got != want {
			t.Errorf("SensitiveName(%q) = %v, want %v", name, got, want)
		}
	}
}

// The matcher is built once per set of secrets; Mask may run while
// secrets are added.
func TestMaskerConcurrent(t *testing.T) {
	m := New("first-secret")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Add(fmt.Sprintf("secret-%d", i))
			for range 100 {
				if got := m.Mask("a first-secret b"); got != "a **** b" {
					t.Errorf("Mask = %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := m.Mask("secret-3 secret-7"); got != "**** ****" {
		t.Errorf("Mask = %q", got)
	}
}

// An ambiguous text (each \\ is one backslash or two) against a secret of
// backslashes is masked without an exponential or cubic search.
func TestMaskAmbiguousIsBounded(t *testing.T) {
	sec := strings.Repeat(`\`, 256)
	text := "x" + strings.Repeat(`\`, 4096) + "y"
	got := New(sec).Mask(text)
	if got != "x****" {
		t.Errorf("Mask = %.40q…", got)
	}
}

// benchText is an HTML page of about 100 KB: markup, entities, URLs with
// query strings, JSON in a script, a base64 image, and two secrets.
func benchText() string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><title>Dashboard</title><script>window.__state = {"user":"alice","csrf":"c2VjcmV0LXNlc3Npb24=","links":["https:\/\/app.example.com\/a?x=1&y=2"]};</script></head><body>`)
	for i := 0; b.Len() < 100<<10; i++ {
		fmt.Fprintf(&b, `<div class="row" id="r%d"><a href="/files/%d?sort=name&amp;dir=asc&amp;q=%%22report%%22">report-%d.pdf</a> &nbsp;&mdash; uploaded by <b>alice</b> at 12:%02d, 100%% done &amp; checked &lt;ok&gt;</div>`+"\n", i, i, i, i%60)
		if i%50 == 0 {
			b.WriteString(`<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">`)
		}
	}
	b.WriteString(`<p>token tok-9f8e7d6c5b, password Pa%20ss%21word</p></body></html>`)
	return b.String()
}

var benchSecrets = []string{"tok-9f8e7d6c5b", "Pa ss!word", "postgres-db-password", "admin-token-0123456789abcdef", "pw-hunter2"}

// BenchmarkMask masks a status line and a 100 KB HTML page with five
// secrets; "replacer" is what a strings.Replacer of the raw, query- and
// path-escaped forms costs (the masker before this package), to compare.
func BenchmarkMask(b *testing.B) {
	m := New(benchSecrets...)
	var forms []string
	for _, s := range benchSecrets {
		forms = append(forms, s, Placeholder, url.QueryEscape(s), Placeholder, url.PathEscape(s), Placeholder)
	}
	replacer := strings.NewReplacer(forms...)
	for _, bc := range []struct{ name, text string }{
		{"status line", "SUITECHECK CRITICAL - login on production: 1 of 3 cases failed: upload (wait_text \"hello.txt\" timed out after 5s) | time=12.31s;10;20;0"},
		{"html 100KB", benchText()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.text)))
			b.ReportAllocs()
			for b.Loop() {
				m.Mask(bc.text)
			}
		})
		b.Run(bc.name+" replacer", func(b *testing.B) {
			b.SetBytes(int64(len(bc.text)))
			for b.Loop() {
				replacer.Replace(bc.text)
			}
		})
	}
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			New(benchSecrets...).Mask("x")
		}
	})
}
