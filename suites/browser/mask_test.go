package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/secret"
)

// envPage serves /env: a page that shows an environment's secret as text
// (HTML-escaped in its source), URL-encoded in a link's text, JSON-escaped
// in a textarea, as an input's value and in a placeholder, and records its
// body text each time it changes.
func envPage(t *testing.T, sec string) *httptest.Server {
	t.Helper()
	html := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	mux := http.NewServeMux()
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><title>Env</title>
<p id="raw">admin token: %s</p>
<p id="link">https://app.example.com/?t=%s</p>
<textarea id="ta">{"t":%s}</textarea>
<input id="field" value="%s"><input id="empty" placeholder="e.g. %s">
<script>
window.snapshots = [];
new MutationObserver(() => snapshots.push(document.body.innerText))
  .observe(document.body, {subtree: true, characterData: true, childList: true});
</script>`, html.Replace(sec), html.Replace(urlEncode(sec)), html.Replace(jsonQuote(sec)), html.Replace(sec), html.Replace(sec))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// urlEncode encodes every byte but letters and digits, as a page might.
func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// jsonQuote is s as a JSON string with every non-alphanumeric byte as \u00XX.
func jsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\u%04x`, c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Step errors quote what the page holds; a secret typed into it must not
// show in any form: Go-quoted (with " and \ escaped), or as the browser
// encodes it in a URL.
func TestStepErrorsMaskEncodedSecrets(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	ctx := context.Background()
	const quoted, inURL = `q"uo\te-SECRET-1`, `Pa ss!wo'rd"x-SECRET-2`
	short := 300 * time.Millisecond
	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/secret"},
		Step{Action: ActionFill, Selector: "#token", Value: quoted, Secret: true},
		Step{Action: ActionFill, Selector: "#token", Value: inURL, Secret: true},
		Step{Action: ActionGoto, Value: srv.URL + "/?t=" + inURL},
	)
	for _, tc := range []struct {
		name string
		step Step
		sec  string
	}{
		{"wait_text, Go-quoted", Step{Action: ActionWaitText, Value: quoted, Timeout: short}, quoted},
		{"assert_url, encoded by the browser", Step{Action: ActionAssertURL, Value: "/elsewhere", Timeout: short}, inURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Run(ctx, tc.step)
			if err == nil {
				t.Fatalf("%s passed", tc.step)
			}
			if msg := err.Error(); strings.Contains(msg, "SECRET") || secret.New(tc.sec).Contains(msg) || !strings.Contains(msg, "****") {
				t.Errorf("error shows the secret: %s", msg)
			}
		})
	}
}

// The HTML artifact holds a typed secret HTML-escaped (&amp; &lt; &quot;):
// it is masked in that form too.
func TestArtifactsMaskHTMLEscapedSecrets(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	const sec = `a&b<c"d-SECRET-3`
	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/secret"},
		Step{Action: ActionFill, Selector: "#token", Value: sec, Secret: true},
		Step{Action: ActionWaitText, Value: "typed a&b"},
	)
	_, htmlPath, err := p.SaveArtifacts(context.Background(), t.TempDir(), "html-escaped", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	if doc := string(b); strings.Contains(doc, "SECRET") || secret.New(sec).Contains(doc) || !strings.Contains(doc, "typed ****") {
		t.Errorf("the HTML shows the secret:\n%.3000s", doc)
	}
}

// An environment's secret that the page shows, in whatever form, is gone
// from the page when the screenshot is captured, though no step typed it;
// the page is as it was afterwards.
func TestScreenshotHidesSecretsThePageShows(t *testing.T) {
	p := sharedPage(t)
	const sec = `env-SECRET<4&2>"`
	srv := envPage(t, sec)
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/env"})
	before := eval(t, p, `() => [document.body.innerText, field.value, ta.value, empty.placeholder].join(' | ')`)
	if !strings.Contains(before, sec) || !strings.Contains(before, urlEncode(sec)) {
		t.Fatalf("the page does not show the secret: %q", before)
	}
	m := secret.New(sec)
	if _, _, err := p.SaveArtifacts(context.Background(), t.TempDir(), "env", m.Mask); err != nil {
		t.Fatal(err)
	}
	// What the page's text was while the screenshot was taken: its first
	// change is the hiding, its second the restoring.
	if hidden := eval(t, p, `() => snapshots.length === 2 ? snapshots[0] : JSON.stringify(snapshots)`); strings.Contains(hidden, "SECRET") || !strings.Contains(hidden, "admin token: ****") {
		t.Errorf("text while hidden: %q", hidden)
	}
	const shows = `() => [document.body.innerText, field.value, ta.value, empty.placeholder].join(' | ')`
	if after := eval(t, p, shows); after != before {
		t.Errorf("after SaveArtifacts the page shows %q, want %q", after, before)
	}

	// The fields too: blanked.
	restore, err := p.hide(context.Background(), m.Mask)
	if err != nil {
		t.Fatal(err)
	}
	hidden := eval(t, p, shows)
	restore()
	if want := "admin token: ****\n\nhttps://app.example.com/?t=****\n\n  |  |  | "; hidden != want {
		t.Errorf("while hidden the page shows %q, want %q", hidden, want)
	}
	if after := eval(t, p, shows); after != before {
		t.Errorf("restored: %q, want %q", after, before)
	}
}

// A remote browser's URL may carry a token (browserless: ?token=…) or a
// password: errors name the browser without them.
func TestRemoteURLCredentialsNotShown(t *testing.T) {
	closed := closedAddr(t)
	for _, raw := range []string{
		"http://" + closed + "/?token=SECRET-8",
		"http://user:SECRET-8@" + closed + "/",
		"ws://user:SECRET-8@" + closed + "/devtools/browser/x?token=SECRET-8",
		"wss://" + closed + "/?token=SECRET-8#SECRET-8",
		"http://user:SECRET-8@[::1/",
		"ftp://user:SECRET-8@" + closed + "/?token=SECRET-8",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b, err := Launch(ctx, Options{RemoteURL: raw})
		cancel()
		if err == nil {
			b.Close()
			t.Fatalf("Launch(%q) connected", raw)
		}
		if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "browser") {
			t.Errorf("Launch(%q) error = %v", raw, err)
		}
	}
}

// A value shown in wait_value's message is masked before it is cut: a
// secret straddling the cut once showed its start.
func TestWaitValueMasksBeforeShortening(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	const sec = "straddle-SECRET-9-at-the-cut"
	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/secret"},
		Step{Action: ActionFill, Selector: "#token", Value: strings.Repeat("x", 66) + sec, Secret: true},
	)
	err := p.Run(context.Background(), Step{Action: ActionWaitValue, Selector: "#token", Value: "never", Timeout: 300 * time.Millisecond})
	if err == nil || strings.Contains(err.Error(), "straddle") || !strings.Contains(err.Error(), "****") {
		t.Errorf("error: %v", err)
	}
}
