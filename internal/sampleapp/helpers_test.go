package sampleapp

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lib/pq"
	"github.com/suitecheck/suitecheck/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const testAdminToken = "test-admin-token"

// logBuffer collects what the app logs; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a prepared database, the app running on it as its least-privilege
// role, and an HTTP server for it.
type env struct {
	db   pgtest.App // the database and the app's role
	app  *App
	srv  *httptest.Server
	logs *logBuffer
}

// newEnv prepares a database with Setup and starts the app on it. modify,
// if not nil, adjusts the options.
func newEnv(t *testing.T, modify func(*Options)) *env {
	t.Helper()
	db := pgtest.NewApp(t, "sampleapp", "")
	if err := Setup(t.Context(), db.Cluster.SuperDSN(db.DB), db.User); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, logs: &logBuffer{}}
	o := Options{
		DSN:        db.DSN(),
		AdminToken: testAdminToken,
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if modify != nil {
		modify(&o)
	}
	app, err := New(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	e.app = app
	e.srv = httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		e.srv.Close()
		if err := app.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("app log:\n%s", e.logs.String())
		}
	})
	return e
}

// superDB opens the env's database as the superuser.
func (e *env) superDB(t *testing.T) *sql.DB {
	t.Helper()
	return openDB(t, e.db.Cluster.SuperDSN(e.db.DB))
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	return db
}

// response is what a request returned.
type response struct {
	status int
	header http.Header
	body   string
	url    *url.URL // of the last request, after redirects
}

// send makes a request and reads the whole response.
func send(t *testing.T, hc *http.Client, method, u string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, u, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b), url: resp.Request.URL}
}

// wantStatus fails the test unless r has status want.
func (r response) wantStatus(t *testing.T, want int) response {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, want, r.body)
	}
	return r
}

// decode decodes the JSON body of r into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
}

func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
}

// admin calls the admin API.
func (e *env) admin(t *testing.T, method, path string, body any) response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = jsonBody(t, body)
	}
	return send(t, http.DefaultClient, method, e.srv.URL+path, r, bearer(testAdminToken))
}

// createTenant creates a tenant through the admin API.
func (e *env) createTenant(t *testing.T, name string) newTenant {
	t.Helper()
	var nt newTenant
	e.admin(t, http.MethodPost, "/api/tenants", map[string]string{"name": name}).
		wantStatus(t, http.StatusCreated).decode(t, &nt)
	return nt
}

// browser is an HTTP client with a cookie jar that follows redirects.
type browser struct {
	base string
	hc   *http.Client
}

func (e *env) browser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{base: e.srv.URL, hc: &http.Client{Jar: jar}}
}

func (b *browser) get(t *testing.T, path string) response {
	t.Helper()
	return send(t, b.hc, http.MethodGet, b.base+path, nil, nil)
}

// postForm posts a form as the page's would, with the CSRF token of the
// browser's cookie (a GET of the sign-in page sets it first).
func (b *browser) postForm(t *testing.T, path string, form url.Values) response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", b.csrf(t))
	}
	return send(t, b.hc, http.MethodPost, b.base+path, strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// csrf is the browser's CSRF token: its cookie, got from the sign-in page.
func (b *browser) csrf(t *testing.T) string {
	t.Helper()
	u, _ := url.Parse(b.base)
	for range 2 {
		for _, c := range b.hc.Jar.Cookies(u) {
			if c.Name == csrfCookie {
				return c.Value
			}
		}
		b.get(t, "/login")
	}
	t.Fatal("no CSRF cookie from the sign-in page")
	return ""
}

// signIn signs in through the form and returns the dashboard.
func (b *browser) signIn(t *testing.T, nt newTenant) response {
	t.Helper()
	r := b.postForm(t, "/login", url.Values{"login": {nt.Login}, "password": {nt.Password}}).
		wantStatus(t, http.StatusOK)
	if r.url.Path != "/" || !strings.Contains(r.body, "Welcome, "+nt.Login) {
		t.Fatalf("signing in as %s led to %s:\n%s", nt.Login, r.url, r.body)
	}
	return r
}

// upload posts a file through the upload form.
func (b *browser) upload(t *testing.T, name string, content []byte) response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf_token", b.csrf(t))
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return send(t, b.hc, http.MethodPost, b.base+"/files", &buf,
		http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// fileLinks returns the ids of the files linked from a dashboard, by name.
func fileLinks(dashboard string) map[string]string {
	links := map[string]string{}
	re := regexp.MustCompile(`<a href="/files/([0-9a-f-]{36})" download="[^"]*">([^<]*)</a>`)
	for _, m := range re.FindAllStringSubmatch(dashboard, -1) {
		links[m[2]] = m[1]
	}
	return links
}

// apiToken signs in through the JSON API.
func (e *env) apiToken(t *testing.T, nt newTenant) string {
	t.Helper()
	var out struct{ Token string }
	send(t, http.DefaultClient, http.MethodPost, e.srv.URL+"/api/login",
		jsonBody(t, map[string]string{"login": nt.Login, "password": nt.Password}),
		http.Header{"Content-Type": {"application/json"}}).wantStatus(t, http.StatusOK).decode(t, &out)
	if out.Token == "" {
		t.Fatal("empty token")
	}
	return out.Token
}

// count returns the result of a SELECT count(*) query.
func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
