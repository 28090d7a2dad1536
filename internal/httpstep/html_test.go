package httpstep

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// csrfServer is a form behind a CSRF token bound to a cookie session, as
// web frameworks make them: GET /form sets the session cookie and puts the
// token in a hidden input and a meta tag; POST /form wants both back.
func csrfServer(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	tokens := map[string]string{} // session -> token
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		session, token := rand.Text(), rand.Text()
		mu.Lock()
		tokens[session] = token
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: session, Path: "/"})
		fmt.Fprintf(w, `<!doctype html><html><head><meta name="csrf-token" content="%s"><title>Sign in</title></head>
<body><h1 class="title">
  Sign in
</h1><form method="post"><input type="hidden" name="csrf_token" value="%s"><input name="login"></form>
<p>unclosed <b>tags are fine`, token, token)
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		mu.Lock()
		want, ok := tokens[cValue(c, err)]
		mu.Unlock()
		if !ok || r.FormValue("csrf_token") != want {
			http.Error(w, "CSRF token missing or wrong", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "welcome")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func cValue(c *http.Cookie, err error) string {
	if err != nil {
		return ""
	}
	return c.Value
}

// TestHTMLExtractCSRF: a token read from the form's HTML, sent back with
// the session cookie the jar kept, passes the app's CSRF check; without it
// the app refuses.
func TestHTMLExtractCSRF(t *testing.T) {
	srv := csrfServer(t)
	for _, x := range []Extraction{
		{HTML: `input[name="csrf_token"]`},
		{HTML: `meta[name="csrf-token"]`},
		{HTML: `form input[type=hidden]`, Attribute: "value"},
		{HTML: `meta[name=csrf-token]`, Attribute: "content", Regexp: `^(.{8})`}, // a prefix: refused below
	} {
		c := newTestClient(t, Options{})
		out, err := c.Do(t.Context(), Step{URL: srv.URL + "/form", Extract: map[string]Extraction{"csrf": x}})
		if err != nil {
			t.Fatalf("%+v: %v", x, err)
		}
		tok := out.Vars["csrf"]
		_, err = c.Do(t.Context(), Step{Method: "POST", URL: srv.URL + "/form", Form: map[string]string{"csrf_token": tok}, Expect: Expect{Body: "welcome"}})
		if x.Regexp != "" {
			if len(tok) != 8 || err == nil || !strings.Contains(err.Error(), "status 403") {
				t.Errorf("%+v: token %q, err %v: want the 8-byte prefix, refused", x, tok, err)
			}
			continue
		}
		if len(tok) < 16 || err != nil {
			t.Errorf("%+v: token %q, post: %v", x, tok, err)
		}
	}
	// Without the cookie the token is not enough: the jar carried it.
	c := newTestClient(t, Options{})
	out, err := c.Do(t.Context(), Step{URL: srv.URL + "/form", Extract: map[string]Extraction{"csrf": {HTML: `input[name=csrf_token]`}}})
	if err != nil {
		t.Fatal(err)
	}
	other := newTestClient(t, Options{})
	if _, err := other.Do(t.Context(), Step{Method: "POST", URL: srv.URL + "/form", Form: map[string]string{"csrf_token": out.Vars["csrf"]}}); err == nil || !strings.Contains(err.Error(), "status 403") {
		t.Errorf("a token without its session cookie: %v, want 403", err)
	}
}

func TestHTMLExtract(t *testing.T) {
	srv := csrfServer(t)
	tests := []struct {
		x        Extraction
		want     string
		problem  string // at Validate
		runError string
	}{
		{x: Extraction{HTML: "h1.title"}, want: "Sign in"},
		{x: Extraction{HTML: "title"}, want: "Sign in"},
		{x: Extraction{HTML: "p b"}, want: "tags are fine"},
		{x: Extraction{HTML: "h1", Regexp: `(\w+)$`}, want: "in"},
		{x: Extraction{HTML: "#nope"}, runError: "no element matches #nope to extract"},
		{x: Extraction{HTML: "h1", Attribute: "data-x"}, runError: "has no data-x attribute"},
		{x: Extraction{HTML: "input[name="}, problem: "is not a CSS selector"},
		{x: Extraction{HTML: "h1", JSON: "$.a"}, problem: "give one of json, header or html, not several"},
		{x: Extraction{Attribute: "value", Regexp: "x"}, problem: "attribute goes with html"},
	}
	for _, tt := range tests {
		st := Step{URL: srv.URL + "/form", Extract: map[string]Extraction{"v": tt.x}}
		err := st.Validate()
		if tt.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("%+v: Validate = %v, want %q", tt.x, err, tt.problem)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tt.x, err)
		}
		out, err := newTestClient(t, Options{}).Do(t.Context(), st)
		switch {
		case tt.runError != "":
			if err == nil || !strings.Contains(err.Error(), tt.runError) {
				t.Errorf("%+v: err %v, want %q", tt.x, err, tt.runError)
			}
		case err != nil || out.Vars["v"] != tt.want:
			t.Errorf("%+v: %q, %v; want %q", tt.x, out.Vars["v"], err, tt.want)
		}
	}
}
