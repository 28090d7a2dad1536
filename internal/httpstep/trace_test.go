package httpstep

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestTrace: -vv gives a line per request, -vvv the wire; no secret of the
// step, the run or the reply shows in any form.
func TestTrace(t *testing.T) {
	const (
		bearer   = "bearer-Sekr1t-xyz"
		qtoken   = "query-t0ken-abc"
		formPass = "form-pa55word!"
		reply    = "reply-s3cret-pw"
		cookie   = "cookie-sess10n-id"
		runPass  = "tenant-pa55-run"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: cookie})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "run password "+runPass)
		w.Write([]byte(`{"login":"alice","password":"` + reply + `","note":"hello"}`))
	}))
	defer srv.Close()
	for _, level := range []int{TraceRequests, TraceWire} {
		var mu sync.Mutex
		var lines []string
		c := newTestClient(t, Options{TraceLevel: level, Trace: func(l int, line string) {
			mu.Lock()
			defer mu.Unlock()
			if l > level {
				t.Errorf("a level %d line at level %d: %s", l, level, line)
			}
			lines = append(lines, line)
		}})
		c.AddSecrets(runPass)
		_, err := c.Do(t.Context(), Step{Method: "POST", URL: srv.URL + "/login?token=" + qtoken + "&page=2", Bearer: bearer,
			Form: map[string]string{"login": "alice", "password": formPass}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Do(t.Context(), Step{URL: "http://127.0.0.1:1/down"})
		if err == nil {
			t.Fatal("port 1 answered")
		}
		all := strings.Join(lines, "\n")
		for _, s := range []string{bearer, qtoken, formPass, reply, cookie, runPass} {
			for _, form := range []string{s, url.QueryEscape(s), base64.StdEncoding.EncodeToString([]byte(s))} {
				if strings.Contains(all, form) {
					t.Errorf("level %d: a secret (%q) in the trace:\n%s", level, form, all)
				}
			}
		}
		want := []string{"http POST /login: 200 OK, ", "http GET /down: no response after "}
		if level == TraceWire {
			want = append(want, "> POST "+srv.URL+"/login?page=2&token=%2A%2A%2A%2A", "> Authorization: ****",
				"> Content-Type: application/x-www-form-urlencoded", "< HTTP/1.1 200 OK", "< Set-Cookie: ****", "< X-Echo: run password ****",
				`< body 61 bytes "{\"login\":\"alice\",\"password\":\"****\",\"note\":\"hello\"}"`)
		}
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("level %d: trace lacks %q:\n%s", level, w, all)
			}
		}
		if level == TraceRequests && strings.Contains(all, "\n>") {
			t.Errorf("-vv shows the wire:\n%s", all)
		}
	}
}
