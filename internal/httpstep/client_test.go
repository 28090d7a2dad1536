package httpstep

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/secret"
)

const jsonDoc = `{"id":42,"login":"bob","ratio":1.5,"admin":false,"deleted":null,"tags":["a","b"],` +
	`"user":{"name":"Bob"},"big":12345678901234567890,"items":[{"text":"a"},{"text":"b"}],"url":"/api/messages/17"}`

const htmlDoc = `<html><title>Welcome</title></html>`

// newMux is the app the tests talk to.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "0badcafe")
		io.WriteString(w, jsonDoc)
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, htmlDoc)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
		io.WriteString(w, "oops")
	})
	mux.HandleFunc("/redirect/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/redirect/%d?token=abc", n-1), http.StatusFound)
			return
		}
		io.WriteString(w, "landed")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"method":       r.Method,
			"content_type": r.Header.Get("Content-Type"),
			"body":         string(body),
			"user_agent":   r.UserAgent(),
			"host":         r.Host,
		})
	})
	mux.HandleFunc("/basic", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "basic-pass-1" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("/bearer", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1234567" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-1", Path: "/"})
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("session"); err != nil || c.Value != "s-1" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello alice")
	})
	// /leak is a broken app that echoes what it was sent, credentials
	// and all, in its failing body and headers.
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "error: you sent %s %s", r.Header.Get("Authorization"), body)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("needle in a haystack ", 1000))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if r.Context().Err() != nil {
				return
			}
		}
	})
	return mux
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newMux())
	t.Cleanup(srv.Close)
	return srv
}

func newTestClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestDo(t *testing.T) {
	srv := newServer(t)
	c := newTestClient(t, Options{})
	json := func(m map[string]any) Step { return Step{URL: "/json", Expect: Expect{JSON: m}} }
	tests := []struct {
		name string
		step Step // URL is a path on the test server
		err  string
		vars map[string]string
	}{
		// Status.
		{name: "2xx by default", step: Step{URL: "/json"}},
		{name: "not 2xx", step: Step{URL: "/status/500"}, err: `GET /status/500: status 500, want 2xx (body "oops")`},
		{name: "status in list", step: Step{URL: "/status/404", Expect: Expect{Status: StatusList{200, 404}}}},
		{name: "status not in list of two", step: Step{URL: "/status/201", Expect: Expect{Status: StatusList{200, 204}}},
			err: `GET /status/201: status 201, want 200 or 204 (body "oops")`},
		{name: "status not in list of three", step: Step{Method: "post", URL: "/status/500", Expect: Expect{Status: StatusList{200, 201, 204}}},
			err: `POST /status/500: status 500, want 200, 201 or 204 (body "oops")`},
		{name: "status with empty body", step: Step{URL: "/empty", Expect: Expect{Status: StatusList{201}}},
			err: `GET /empty: status 200, want 201 (body is empty)`},

		// Headers.
		{name: "header contains", step: Step{URL: "/json", Expect: Expect{Headers: map[string]string{"content-type": "json"}}}},
		{name: "header does not contain", step: Step{URL: "/html", Expect: Expect{Headers: map[string]string{"Content-Type": "application/json"}}},
			err: `GET /html: header Content-Type = "text/html; charset=utf-8", want it to contain "application/json"`},
		{name: "header matches", step: Step{URL: "/json", Expect: Expect{Headers: map[string]string{"X-Request-Id": "/^[0-9a-f]{8}$/"}}}},
		{name: "header does not match", step: Step{URL: "/json", Expect: Expect{Headers: map[string]string{"X-Request-Id": `/^\d+$/`}}},
			err: `GET /json: header X-Request-Id = "0badcafe", want match /^\d+$/`},
		{name: "header missing", step: Step{URL: "/json", Expect: Expect{Headers: map[string]string{"X-Missing": "x"}}},
			err: `GET /json: no header X-Missing, want it to contain "x"`},

		// Body.
		{name: "body contains", step: Step{URL: "/html", Expect: Expect{Body: "Welcome"}}},
		{name: "body does not contain", step: Step{URL: "/html", Expect: Expect{Body: "Goodbye"}},
			err: `GET /html: body does not contain "Goodbye" (body "<html><title>Welcome</title></html>")`},
		{name: "empty body does not contain", step: Step{URL: "/empty", Expect: Expect{Body: "Welcome"}},
			err: `GET /empty: body does not contain "Welcome" (body is empty)`},
		{name: "body matches", step: Step{URL: "/html", Expect: Expect{BodyRegexp: `<title>\w+</title>`}}},
		{name: "body does not match", step: Step{URL: "/html", Expect: Expect{BodyRegexp: `Welcome \w+`}},
			err: `GET /html: body does not match /Welcome \w+/ (body "<html><title>Welcome</title></html>")`},

		// JSON values, passing.
		{name: "json number", step: json(map[string]any{"$.id": 42})},
		{name: "json number as float", step: json(map[string]any{"$.id": 42.0, "$.ratio": 1.5})},
		{name: "json number as rendered string", step: json(map[string]any{"$.id": "42", "$.ratio": "1.50"})},
		{name: "json big integer", step: json(map[string]any{"$.big": uint64(12345678901234567890)})},
		{name: "json string", step: json(map[string]any{"$.login": "bob", "$.user.name": "Bob"})},
		{name: "json bool", step: json(map[string]any{"$.admin": false})},
		{name: "json bool as string", step: json(map[string]any{"$.admin": "false"})},
		{name: "json null", step: json(map[string]any{"$.deleted": nil})},
		{name: "json null as string", step: json(map[string]any{"$.deleted": "null"})},
		{name: "json array", step: json(map[string]any{"$.tags": []any{"a", "b"}})},
		{name: "json object", step: json(map[string]any{"$.user": map[string]any{"name": "Bob"}})},
		{name: "json object from yaml.v2", step: json(map[string]any{"$.user": map[any]any{"name": "Bob"}})},
		{name: "json regexp on string", step: json(map[string]any{"$.login": "/^b.b$/"})},
		{name: "json regexp on number", step: json(map[string]any{"$.id": "/^4\\d$/"})},
		{name: "json one of several", step: json(map[string]any{"$.items[*].text": "b"})},
		{name: "json filter", step: json(map[string]any{"$.items[?@.text == 'a'].text": "a"})},

		// JSON values, failing.
		{name: "json string differs", step: json(map[string]any{"$.login": "alice"}),
			err: `GET /json: $.login = "bob", want "alice"`},
		{name: "json number differs", step: json(map[string]any{"$.id": 43}),
			err: `GET /json: $.id = 42, want 43`},
		{name: "json number differs from string", step: json(map[string]any{"$.id": "43"}),
			err: `GET /json: $.id = 42, want "43"`},
		{name: "json number is not a string", step: json(map[string]any{"$.login": 5}),
			err: `GET /json: $.login = "bob", want 5`},
		{name: "json string is not a number", step: json(map[string]any{"$.url": 17}),
			err: `GET /json: $.url = "/api/messages/17", want 17`},
		{name: "json bool differs", step: json(map[string]any{"$.admin": true}),
			err: `GET /json: $.admin = false, want true`},
		{name: "json null differs", step: json(map[string]any{"$.deleted": "x"}),
			err: `GET /json: $.deleted = null, want "x"`},
		{name: "json array differs", step: json(map[string]any{"$.tags": []any{"a"}}),
			err: `GET /json: $.tags = ["a","b"], want ["a"]`},
		{name: "json object differs", step: json(map[string]any{"$.user": map[string]any{"name": "Bob", "x": 1}}),
			err: `GET /json: $.user = {"name":"Bob"}, want {"name":"Bob","x":1}`},
		{name: "json regexp fails", step: json(map[string]any{"$.login": "/^a/"}),
			err: `GET /json: $.login = "bob", want match /^a/`},
		{name: "json no value", step: json(map[string]any{"$.nope": 1}),
			err: `GET /json: no value at $.nope, want 1`},
		{name: "json none of several", step: json(map[string]any{"$.items[*].text": "c"}),
			err: `GET /json: $.items[*].text = ["a","b"] (2 values), want one of them "c"`},
		{name: "json checked in path order", step: json(map[string]any{"$.b": 1, "$.a": 1}),
			err: `GET /json: no value at $.a, want 1`},
		{name: "body not json", step: Step{URL: "/html", Expect: Expect{JSON: map[string]any{"$.id": 1}}},
			err: `GET /html: body is not JSON (invalid character '<' looking for beginning of value): cannot check $.id (body "<html><title>Welcome</title></html>")`},
		{name: "empty body not json", step: Step{URL: "/empty", Expect: Expect{JSON: map[string]any{"$.id": 1}}},
			err: `GET /empty: body is not JSON (empty): cannot check $.id (body is empty)`},

		// Extraction.
		{name: "extract json values", step: Step{URL: "/json", Extract: map[string]Extraction{
			"id": {JSON: "$.id"}, "login": {JSON: "$.login"}, "ratio": {JSON: "$.ratio"}, "admin": {JSON: "$.admin"},
			"big": {JSON: "$.big"}, "user": {JSON: "$.user"}, "tags": {JSON: "$.tags"}, "second": {JSON: "$.items[1].text"},
		}}, vars: map[string]string{
			"id": "42", "login": "bob", "ratio": "1.5", "admin": "false",
			"big": "12345678901234567890", "user": `{"name":"Bob"}`, "tags": `["a","b"]`, "second": "b",
		}},
		{name: "extract json with regexp", step: Step{URL: "/json", Extract: map[string]Extraction{"mid": {JSON: "$.url", Regexp: `(\d+)$`}}},
			vars: map[string]string{"mid": "17"}},
		{name: "extract header", step: Step{URL: "/json", Extract: map[string]Extraction{"rid": {Header: "x-request-id"}}},
			vars: map[string]string{"rid": "0badcafe"}},
		{name: "extract header with regexp", step: Step{URL: "/json", Extract: map[string]Extraction{"rid": {Header: "X-Request-Id", Regexp: "^0(...)"}}},
			vars: map[string]string{"rid": "bad"}},
		{name: "extract regexp group", step: Step{URL: "/html", Extract: map[string]Extraction{"title": {Regexp: `<title>(\w+)</title>`}}},
			vars: map[string]string{"title": "Welcome"}},
		{name: "extract regexp whole match", step: Step{URL: "/html", Extract: map[string]Extraction{"w": {Regexp: `W\w+`}}},
			vars: map[string]string{"w": "Welcome"}},
		{name: "extract no json value", step: Step{URL: "/json", Extract: map[string]Extraction{"id": {JSON: "$.nope"}}},
			err: `GET /json: no value at $.nope to extract`},
		{name: "extract several json values", step: Step{URL: "/json", Extract: map[string]Extraction{"t": {JSON: "$.tags[*]"}}},
			err: `GET /json: $.tags[*] selects 2 values, want one to extract`},
		{name: "extract json null", step: Step{URL: "/json", Extract: map[string]Extraction{"d": {JSON: "$.deleted"}}},
			err: `GET /json: $.deleted is null, nothing to extract`},
		{name: "extract json from html", step: Step{URL: "/html", Extract: map[string]Extraction{"id": {JSON: "$.id"}}},
			err: `GET /html: body is not JSON (invalid character '<' looking for beginning of value): cannot extract $.id (body "<html><title>Welcome</title></html>")`},
		{name: "extract missing header", step: Step{URL: "/json", Extract: map[string]Extraction{"t": {Header: "X-Token"}}},
			err: `GET /json: no header X-Token to extract`},
		{name: "extract header regexp fails", step: Step{URL: "/json", Extract: map[string]Extraction{"t": {Header: "X-Request-Id", Regexp: "^z"}}},
			err: `GET /json: header X-Request-Id = "0badcafe" does not match /^z/ to extract`},
		{name: "extract json regexp fails", step: Step{URL: "/json", Extract: map[string]Extraction{"t": {JSON: "$.login", Regexp: "^z"}}},
			err: `GET /json: $.login = "bob" does not match /^z/ to extract`},
		{name: "extract body regexp fails", step: Step{URL: "/html", Extract: map[string]Extraction{"t": {Regexp: `nomatch(\d)`}}},
			err: `GET /html: body does not match /nomatch(\d)/ to extract (body "<html><title>Welcome</title></html>")`},
		{name: "no extraction when an expectation fails", step: Step{URL: "/json", Expect: Expect{Status: StatusList{201}},
			Extract: map[string]Extraction{"id": {JSON: "$.id"}}},
			err: `GET /json: status 200, want 201 (body "{\"id\":42,\"login\":\"bob\",\"ratio\":1.5,\"admin\":false,\"deleted\":null,\"tags\":[\"a\",\"b\"],\"user\":{\"name…")`},

		// Redirects.
		{name: "redirects followed", step: Step{URL: "/redirect/3", Expect: Expect{Body: "landed"}}},
		{name: "up to ten redirects", step: Step{URL: "/redirect/10"}},
		{name: "eleven redirects", step: Step{URL: "/redirect/11"}, err: `GET /redirect/11: stopped after 10 redirects`},
		{name: "redirect not followed", step: Step{URL: "/redirect/1", FollowRedirects: new(false), Expect: Expect{Status: StatusList{302}}}},
		{name: "redirect not followed, not expected", step: Step{URL: "/redirect/1", FollowRedirects: new(false)},
			err: `GET /redirect/1: status 302 to /redirect/0, want 2xx`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.step
			s.URL = srv.URL + s.URL
			out, err := c.Do(t.Context(), s)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Do() error = %v", err)
				}
			} else {
				if err == nil {
					t.Fatalf("Do() error = nil, want %s", tt.err)
				}
				if err.Error() != tt.err {
					t.Errorf("Do() error =\n%s\nwant\n%s", err, tt.err)
				}
				if !errors.Is(err, ErrExpectation) && !errors.Is(err, ErrRequest) {
					t.Errorf("error %v is neither ErrExpectation nor ErrRequest", err)
				}
			}
			if !reflect.DeepEqual(out.Vars, tt.vars) {
				t.Errorf("Vars = %v, want %v", out.Vars, tt.vars)
			}
			if tt.err == "" && out.Status == 0 {
				t.Errorf("Status = 0")
			}
		})
	}
}

func TestDoOutcome(t *testing.T) {
	srv := newServer(t)
	c := newTestClient(t, Options{})
	out, err := c.Do(t.Context(), Step{URL: srv.URL + "/redirect/3", Extract: map[string]Extraction{
		"page": {Regexp: "land(ed)"}, "token": {Regexp: "landed", Secret: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != 200 || out.Redirects != 3 || out.BodyBytes != len("landed") || out.Truncated {
		t.Errorf("Outcome = %+v", out)
	}
	if want := map[string]string{"page": "ed", "token": "landed"}; !reflect.DeepEqual(out.Vars, want) {
		t.Errorf("Vars = %v, want %v", out.Vars, want)
	}
	if want := []string{"token"}; !reflect.DeepEqual(out.SecretVars, want) {
		t.Errorf("SecretVars = %v, want %v", out.SecretVars, want)
	}
	tm := out.Timings
	if tm.Connect <= 0 || tm.FirstByte <= 0 || tm.Total < tm.FirstByte || tm.TLS != 0 {
		t.Errorf("Timings = %+v", tm)
	}
	// The secret value is masked in later steps' errors.
	_, err = c.Do(t.Context(), Step{URL: srv.URL + "/redirect/0", Expect: Expect{Body: "nothing"}})
	if want := `GET /redirect/0: body does not contain "nothing" (body "****")`; err == nil || err.Error() != want {
		t.Errorf("Do() error = %v, want %s", err, want)
	}
}

func TestRequestBodies(t *testing.T) {
	srv := newServer(t)
	c := newTestClient(t, Options{UserAgent: "probe/1"})
	tests := []struct {
		name string
		step Step
		want map[string]any // expect.json on the echo
	}{
		{"json", Step{Method: "POST", JSON: map[string]any{"text": "hello <&>", "n": 1}},
			map[string]any{"$.method": "POST", "$.content_type": "application/json", "$.body": `{"n":1,"text":"hello <&>"}`}},
		{"json from yaml.v2 maps", Step{Method: "PUT", JSON: map[any]any{"a": map[any]any{1: true}}},
			map[string]any{"$.method": "PUT", "$.body": `{"a":{"1":true}}`}},
		{"json list", Step{Method: "POST", JSON: []any{1, "x"}}, map[string]any{"$.body": `[1,"x"]`}},
		{"form", Step{Method: "POST", Form: map[string]string{"b": "x y", "a": "1&2"}},
			map[string]any{"$.content_type": "application/x-www-form-urlencoded", "$.body": "a=1%262&b=x+y"}},
		{"raw body", Step{Method: "PATCH", Body: "<x/>", Headers: map[string]string{"Content-Type": "application/xml"}},
			map[string]any{"$.method": "PATCH", "$.content_type": "application/xml", "$.body": "<x/>"}},
		{"content type override", Step{Method: "POST", JSON: map[string]any{}, Headers: map[string]string{"content-type": "application/vnd.x+json"}},
			map[string]any{"$.content_type": "application/vnd.x+json", "$.body": "{}"}},
		{"no body", Step{}, map[string]any{"$.method": "GET", "$.content_type": "", "$.body": ""}},
		{"user agent", Step{}, map[string]any{"$.user_agent": "probe/1"}},
		{"user agent of the step", Step{Headers: map[string]string{"User-Agent": "mine"}}, map[string]any{"$.user_agent": "mine"}},
		{"host header", Step{Headers: map[string]string{"Host": "app.example"}}, map[string]any{"$.host": "app.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.step
			s.URL, s.Expect.JSON = srv.URL+"/echo", tt.want
			if _, err := c.Do(t.Context(), s); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	srv := newServer(t)
	c := newTestClient(t, Options{})
	tests := []struct {
		name string
		step Step
		err  string
	}{
		{"basic", Step{URL: "/basic", BasicAuth: &BasicAuth{User: "alice", Password: "basic-pass-1"}}, ""},
		{"basic wrong", Step{URL: "/basic", BasicAuth: &BasicAuth{User: "alice", Password: "wrong-pass"}},
			`GET /basic: status 401, want 2xx (body "who are you?\n")`},
		{"basic missing", Step{URL: "/basic"}, `GET /basic: status 401, want 2xx (body "who are you?\n")`},
		{"bearer", Step{URL: "/bearer", Bearer: "tok-1234567"}, ""},
		{"bearer as header", Step{URL: "/bearer", Headers: map[string]string{"Authorization": "Bearer tok-1234567"}}, ""},
		{"bearer wrong", Step{URL: "/bearer", Bearer: "tok-7654321"}, `GET /bearer: status 401, want 2xx (body "who are you?\n")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.step
			s.URL = srv.URL + s.URL
			_, err := c.Do(t.Context(), s)
			if got := fmt.Sprint(err); (tt.err == "" && err != nil) || (tt.err != "" && got != tt.err) {
				t.Errorf("Do() error = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestCookieJarCarriesSession(t *testing.T) {
	srv := newServer(t)
	c := newTestClient(t, Options{})
	me := Step{URL: srv.URL + "/me", Expect: Expect{Body: "hello alice"}}
	if _, err := c.Do(t.Context(), me); err == nil || !strings.Contains(err.Error(), "status 401") {
		t.Fatalf("before login: error = %v, want status 401", err)
	}
	if _, err := c.Do(t.Context(), Step{URL: srv.URL + "/login"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(t.Context(), me); err != nil {
		t.Errorf("after login: %v", err)
	}
	// Another client (another run) has its own jar.
	other := newTestClient(t, Options{})
	if _, err := other.Do(t.Context(), me); err == nil {
		t.Error("another client shares the session")
	}
}

// tlsServer is a test server with a certificate from its own CA, which it
// writes to a PEM file.
func tlsServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(newMux())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake errors are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

func TestTLS(t *testing.T) {
	srv, caFile := tlsServer(t)
	s := Step{URL: srv.URL + "/json", Expect: Expect{JSON: map[string]any{"$.id": 42}}}
	for name, o := range map[string]Options{"ca file": {CAFile: caFile}, "insecure": {Insecure: true}} {
		t.Run(name, func(t *testing.T) {
			out, err := newTestClient(t, o).Do(t.Context(), s)
			if err != nil {
				t.Fatal(err)
			}
			if tm := out.Timings; tm.TLS <= 0 || tm.Connect <= 0 || tm.FirstByte <= 0 || tm.Total < tm.FirstByte {
				t.Errorf("Timings = %+v", tm)
			}
		})
	}
	t.Run("unknown CA", func(t *testing.T) {
		_, err := newTestClient(t, Options{}).Do(t.Context(), s)
		want := "GET /json: TLS: certificate signed by an unknown authority: trust its CA with a CA file, or skip verification with insecure"
		if err == nil || err.Error() != want {
			t.Errorf("Do() error = %v, want %s", err, want)
		}
		if !errors.Is(err, ErrRequest) {
			t.Errorf("errors.Is(err, ErrRequest) = false")
		}
	})
	t.Run("plain HTTP on https", func(t *testing.T) {
		plain := newServer(t)
		_, err := newTestClient(t, Options{}).Do(t.Context(), Step{URL: strings.Replace(plain.URL, "http:", "https:", 1)})
		want := "GET /: server gave HTTP response to HTTPS client"
		if err == nil || err.Error() != want {
			t.Errorf("Do() error = %v, want %s", err, want)
		}
	})
}

func TestNewClientCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for file, want := range map[string]string{
		notPEM:                        "CA file " + notPEM + ": no PEM certificate in it",
		filepath.Join(dir, "missing"): "CA file: " + filepath.Join(dir, "missing") + ": no such file",
		"/dev/zero":                   "CA file: /dev/zero is a device, not a regular file", // once grew without end
	} {
		_, err := NewClient(Options{CAFile: file})
		if err == nil || err.Error() != want {
			t.Errorf("NewClient(%s) error = %v, want %s", file, err, want)
		}
	}
}

func TestTimeout(t *testing.T) {
	srv := newServer(t)
	c := newTestClient(t, Options{})
	start := time.Now()
	out, err := c.Do(t.Context(), Step{URL: srv.URL + "/slow", Timeout: 50 * time.Millisecond})
	if want := "GET /slow: timed out after 50ms"; err == nil || err.Error() != want {
		t.Fatalf("Do() error = %v, want %s", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrRequest) {
		t.Errorf("error does not unwrap to context.DeadlineExceeded and ErrRequest")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Do took %s", d)
	}
	// Total is measured from a moment after the step's timer started.
	if out.Status != 0 || out.Timings.Total < 40*time.Millisecond {
		t.Errorf("Outcome = %+v", out)
	}

	t.Run("run canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.Do(ctx, Step{URL: srv.URL + "/slow"})
		if want := "GET /slow: canceled"; err == nil || err.Error() != want {
			t.Errorf("Do() error = %v, want %s", err, want)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error does not unwrap to context.Canceled")
		}
	})
	t.Run("run deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, Step{URL: srv.URL + "/slow"})
		if err == nil || !strings.HasPrefix(err.Error(), "GET /slow: timed out after ") || !strings.HasSuffix(err.Error(), "(the run's deadline)") {
			t.Errorf("Do() error = %v, want a timeout at the run's deadline", err)
		}
	})
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = newTestClient(t, Options{}).Do(t.Context(), Step{URL: "http://" + addr + "/?token=secret-query"})
	if want := "GET /: connect: connection refused"; err == nil || err.Error() != want {
		t.Errorf("Do() error = %v, want %s", err, want)
	}
	if !errors.Is(err, ErrRequest) {
		t.Errorf("errors.Is(err, ErrRequest) = false")
	}
}

func TestHugeBodyIsBounded(t *testing.T) {
	srv := newServer(t)
	c := newTestClient(t, Options{})
	tests := []struct {
		name string
		exp  Expect
		err  string
	}{
		{"no expectation on the body", Expect{}, ""},
		{"found within the cap", Expect{Body: "haystack", BodyRegexp: "needle"}, ""},
		{"not found within the cap", Expect{Body: "nothing", MaxBodyBytes: 64 << 10},
			`GET /endless: body does not contain "nothing" in its first 64 KiB (expect.max_body_bytes)`},
		{"regexp not found within the cap", Expect{BodyRegexp: "nothing", MaxBodyBytes: 1000},
			`GET /endless: body does not match /nothing/ in its first 1000 bytes (expect.max_body_bytes)`},
		{"json needs the whole body", Expect{JSON: map[string]any{"$.id": 1}},
			`GET /endless: body is larger than 1 MiB (expect.max_body_bytes): cannot check $.id`},
		{"status shows the start", Expect{Status: StatusList{201}, MaxBodyBytes: 1000},
			`GET /endless: status 200, want 201 (body "needle in a haystack needle in a haystack needle in a haystack needle in a haystack needle in a haystack needle in …")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, err := c.Do(t.Context(), Step{URL: srv.URL + "/endless", Expect: tt.exp})
			runtime.ReadMemStats(&after)
			if (tt.err == "" && err != nil) || (tt.err != "" && fmt.Sprint(err) != tt.err) {
				t.Errorf("Do() error =\n%v\nwant\n%s", err, tt.err)
			}
			max := tt.exp.MaxBodyBytes
			if max == 0 {
				max = DefaultMaxBodyBytes
			}
			if !out.Truncated || int64(out.BodyBytes) != max {
				t.Errorf("Truncated = %v, BodyBytes = %d, want true, %d", out.Truncated, out.BodyBytes, max)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB for a %d-byte cap", alloc>>20, max)
			}
		})
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	srv := newServer(t)
	const (
		bearer   = "tok-SECRET-bearer-0001"
		password = "pw-SECRET-basic-0002"
		apiKey   = "key-SECRET-header-0003"
		formPass = "pw-SECRET-form-0004"
		runPass  = "pw-SECRET-run-0005"
	)
	c := newTestClient(t, Options{})
	c.AddSecrets(runPass)
	leak := srv.URL + "/leak"
	tests := []struct {
		name string
		step Step
	}{
		{"bearer in body", Step{URL: leak, Bearer: bearer}},
		{"bearer in header", Step{URL: leak, Bearer: bearer, Expect: Expect{Status: StatusList{500}, Headers: map[string]string{"X-Echo": "nothing"}}}},
		{"bearer in body check", Step{URL: leak, Bearer: bearer, Expect: Expect{Status: StatusList{500}, Body: "nothing"}}},
		{"bearer in extraction", Step{URL: leak, Bearer: bearer, Expect: Expect{Status: StatusList{500}},
			Extract: map[string]Extraction{"x": {Header: "X-Echo", Regexp: "^nothing"}}}},
		{"basic auth", Step{URL: leak, BasicAuth: &BasicAuth{User: "alice", Password: password}}},
		{"api key header", Step{URL: leak, Headers: map[string]string{"Authorization": "ApiKey " + apiKey}}},
		{"form password", Step{URL: leak, Method: "POST", Form: map[string]string{"user": "alice", "password": formPass}}},
		{"json password", Step{URL: leak, Method: "POST", JSON: map[string]any{"user": "alice", "password": formPass}}},
		{"run secret", Step{URL: leak, Method: "POST", Body: "my password is " + runPass}},
		{"secret cut by the snippet", Step{URL: leak, Method: "POST", Body: strings.Repeat("x", 90) + runPass}},
		{"secret cut by the body cap", Step{URL: leak, Method: "POST", Body: strings.Repeat("x", 30) + runPass,
			Expect: Expect{MaxBodyBytes: 60}}},
		{"invalid step", Step{URL: "ftp://alice:" + password + "@h/", Bearer: bearer}},
	}
	secrets := []string{bearer, password, apiKey, formPass, runPass}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.Do(t.Context(), tt.step)
			if err == nil {
				t.Fatal("Do() error = nil")
			}
			msg := err.Error() + fmt.Sprintf("%+v", out)
			for _, s := range secrets {
				// No secret, nor a telling part of one.
				for _, part := range []string{s, s[:8], s[len(s)-8:]} {
					if strings.Contains(msg, part) {
						t.Errorf("error leaks %q: %s", part, msg)
					}
				}
			}
			if strings.Contains(msg, "YWxpY2U6") { // base64("alice:")
				t.Errorf("error leaks basic credentials: %s", msg)
			}
			if !strings.Contains(msg, "****") && tt.name != "secret cut by the body cap" {
				t.Errorf("error shows no mask: %s", msg)
			}
			t.Log(err)
		})
	}
}

// A failing reply's JSON credentials are not quoted in the error: a
// create that answers 200 instead of 201 still made an account.
func TestReplyCredentialsMaskedInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"id": 7, "owner": {"login": "sc-a", "password": "Pw-9f3e1d-unseen", "api_token": "tok-77aa-unseen"}}`)
	}))
	defer srv.Close()
	c, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), Step{Method: "POST", URL: srv.URL + "/t", Expect: Expect{Status: StatusList{201}}})
	if err == nil || strings.Contains(err.Error(), "unseen") || !strings.Contains(err.Error(), "status 200, want 201") || !strings.Contains(err.Error(), "sc-a") {
		t.Errorf("err = %v", err)
	}
}

// A secret comes back in another form than it was sent: JSON with \/ or
// \u00XX escapes, HTML entities, base64 in Basic credentials, or cut by
// the body cap in one of those forms. No error shows it.
func TestEncodedSecretsMaskedInErrors(t *testing.T) {
	const runSecret = `a/b"c<d&e-SECRET`
	basic := base64.StdEncoding.EncodeToString([]byte("monitor:" + runSecret))
	tests := []struct {
		name, body string
		cap        int64
	}{
		{"json with \\/", `{"token":"a\/b\"c<d&e-SECRET"}`, 0},
		{"json, ASCII escapes", `{"token":"a\/b\u0022c\u003cd\u0026e-SECRET"}`, 0},
		{"html", `<p>you sent a/b&quot;c&lt;d&amp;e-SECRET</p>`, 0},
		{"basic credentials", `{"echo":"Basic ` + basic + `"}`, 0},
		{"cut by the body cap", `{"token":"a\/b\"c<d&e-SE`, 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, Options{})
			c.AddSecrets(runSecret)
			_, err := c.Do(t.Context(), Step{URL: srv.URL + "/x", Expect: Expect{MaxBodyBytes: tt.cap}})
			if err == nil || !strings.Contains(err.Error(), "status 403, want 2xx") {
				t.Fatalf("Do() error = %v", err)
			}
			msg := err.Error()
			for _, part := range []string{"SECRET", "c<d&e", "&lt;d&amp;e", "u003cd", basic[8:20]} {
				if strings.Contains(msg, part) {
					t.Errorf("error shows %q of the secret: %s", part, msg)
				}
			}
			if secret.New(runSecret).Contains(msg) {
				t.Errorf("error shows the secret: %s", msg)
			}
		})
	}
}

// TestConnectTo: a pinned host is reached at the given address, and stays
// the request's name: its Host header, and the name its certificate must
// carry. Other hosts resolve as ever.
func TestConnectTo(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "host "+r.Host) }))
	t.Cleanup(plain.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(plain.URL, "http://"))
	srv, caFile := tlsServer(t) // its certificate names example.com and 127.0.0.1
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))

	c := newTestClient(t, Options{CAFile: caFile, ConnectTo: map[string]string{"app.invalid": "127.0.0.1", "example.com": "127.0.0.1", "other.invalid": "127.0.0.1"}})
	if _, err := c.Do(t.Context(), Step{URL: "http://App.invalid:" + port + "/", Expect: Expect{Body: "host App.invalid:" + port}}); err != nil {
		t.Errorf("a pinned host: %v", err)
	}
	if _, err := c.Do(t.Context(), Step{URL: "https://example.com:" + tlsPort + "/json"}); err != nil {
		t.Errorf("a pinned host over TLS, its certificate checked for its name: %v", err)
	}
	if _, err := c.Do(t.Context(), Step{URL: "https://other.invalid:" + tlsPort + "/json"}); err == nil || !strings.Contains(err.Error(), "other.invalid") {
		t.Errorf("a certificate that does not name the pinned host passed: %v", err)
	}
	if _, err := newTestClient(t, Options{}).Do(t.Context(), Step{URL: "http://app.invalid:" + port + "/"}); err == nil {
		t.Error("app.invalid was reached without a pin")
	}
	// A node that is down is named, with the reason.
	plain.Close()
	_, err := c.Do(t.Context(), Step{URL: "http://app.invalid:" + port + "/"})
	if want := "connect to 127.0.0.1:" + port + " for app.invalid: connection refused"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a pinned node down: %v, want %q", err, want)
	}
}
