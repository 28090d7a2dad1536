package sampleapp

import (
	"bytes"
	"errors"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/suitecheck/suitecheck/internal/pgtest"
)

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)

	for _, header := range []http.Header{
		nil,
		{"Authorization": {"Bearer wrong"}},
		{"Authorization": {"Basic " + testAdminToken}},
		{"Authorization": {"Bearer " + testAdminToken + "x"}},
	} {
		for _, req := range []struct{ method, path, body string }{
			{http.MethodGet, "/api/tenants", ""},
			{http.MethodPost, "/api/tenants", `{"name":"intruder"}`},
			{http.MethodDelete, "/api/tenants/00000000-0000-0000-0000-000000000000", ""},
		} {
			r := send(t, http.DefaultClient, req.method, e.srv.URL+req.path, strings.NewReader(req.body), header)
			r.wantStatus(t, http.StatusUnauthorized)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s: WWW-Authenticate %q", req.method, req.path, r.header.Get("WWW-Authenticate"))
			}
		}
	}

	acme := e.createTenant(t, "acme")
	if !isUUID(acme.ID) || acme.Name != "acme" || acme.Login != "acme@example.test" || len(acme.Password) < 16 {
		t.Errorf("created %+v", acme)
	}
	globex := e.createTenant(t, "globex")
	e.admin(t, http.MethodPost, "/api/tenants", map[string]string{"name": "acme"}).wantStatus(t, http.StatusConflict)
	for _, bad := range []string{"", "-x", "a b", "a/b", strings.Repeat("x", 64), "é"} {
		e.admin(t, http.MethodPost, "/api/tenants", map[string]string{"name": bad}).wantStatus(t, http.StatusBadRequest)
	}
	send(t, http.DefaultClient, http.MethodPost, e.srv.URL+"/api/tenants", strings.NewReader("{"),
		bearer(testAdminToken)).wantStatus(t, http.StatusBadRequest)

	var list []tenant
	e.admin(t, http.MethodGet, "/api/tenants", nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list) != 2 || list[0].ID != acme.ID || list[0].Name != "acme" || list[1].ID != globex.ID ||
		list[0].CreatedAt.IsZero() {
		t.Errorf("listed %+v", list)
	}

	e.admin(t, http.MethodDelete, "/api/tenants/"+acme.ID, nil).wantStatus(t, http.StatusNoContent)
	e.admin(t, http.MethodDelete, "/api/tenants/"+acme.ID, nil).wantStatus(t, http.StatusNotFound)
	e.admin(t, http.MethodDelete, "/api/tenants/not-a-uuid", nil).wantStatus(t, http.StatusNotFound)
	e.admin(t, http.MethodGet, "/api/tenants", nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list) != 1 || list[0].ID != globex.ID {
		t.Errorf("after deleting acme, listed %+v", list)
	}
	// The name is free again, and the deleted tenant's user cannot sign in.
	e.createTenant(t, "acme")
	r := e.browser(t).postForm(t, "/login", url.Values{"login": {acme.Login}, "password": {acme.Password}})
	r.wantStatus(t, http.StatusUnauthorized)
}

func TestWebFlow(t *testing.T) {
	t.Parallel()
	const maxUpload = 4 << 10
	e := newEnv(t, func(o *Options) { o.MaxUploadBytes = maxUpload })
	nt := e.createTenant(t, "webflow")
	b := e.browser(t)

	// Without a session the dashboard sends to the sign-in form.
	r := b.get(t, "/").wantStatus(t, http.StatusOK)
	if r.url.Path != "/login" {
		t.Fatalf("GET / without a session ended at %s", r.url)
	}
	for _, want := range []string{"<title>Sign in</title>", `id="login"`, `id="password"`, `id="sign-in"`, "<!DOCTYPE html>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("sign-in page lacks %s:\n%s", want, r.body)
		}
	}

	// Wrong credentials.
	for _, creds := range []url.Values{
		{"login": {nt.Login}, "password": {"wrong"}},
		{"login": {"nobody@example.test"}, "password": {nt.Password}},
		{},
	} {
		r := b.postForm(t, "/login", creds).wantStatus(t, http.StatusUnauthorized)
		if !strings.Contains(r.body, "Invalid login or password") || !strings.Contains(r.body, `id="sign-in"`) {
			t.Errorf("wrong credentials answered:\n%s", r.body)
		}
	}

	// The session cookie is HttpOnly and the sign-in redirects to /.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"login": {nt.Login}, "password": {nt.Password}}
	post := func(form url.Values, cookie string) response {
		return send(t, noRedirect, http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {cookie}})
	}
	// A form without the token of the browser's CSRF cookie is refused,
	// whatever its credentials: a page of another site cannot read it.
	post(form, "").wantStatus(t, http.StatusForbidden)
	post(url.Values{"login": form["login"], "password": form["password"], "csrf_token": {"forged-token-0123456789"}}, csrfCookie+"=the-real-token-0123456789").wantStatus(t, http.StatusForbidden)
	form.Set("csrf_token", "the-real-token-0123456789")
	r = post(form, csrfCookie+"=the-real-token-0123456789").wantStatus(t, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/" {
		t.Errorf("sign-in redirects to %q", loc)
	}
	if sc := r.header.Get("Set-Cookie"); !strings.Contains(sc, sessionCookie+"=") || !strings.Contains(sc, "HttpOnly") {
		t.Errorf("Set-Cookie: %q", sc)
	}

	r = b.signIn(t, nt)
	for _, want := range []string{"<title>Dashboard</title>", `id="message"`, `id="send"`, `id="file"`,
		`type="file"`, `id="upload"`, `enctype="multipart/form-data"`, "No messages yet.", "No files yet."} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dashboard lacks %s:\n%s", want, r.body)
		}
	}

	// A message, HTML-escaped.
	r = b.postForm(t, "/messages", url.Values{"message": {"hello <b>world</b>"}}).wantStatus(t, http.StatusOK)
	if r.url.Path != "/" || !strings.Contains(r.body, "hello &lt;b&gt;world&lt;/b&gt;") {
		t.Errorf("posted message not listed:\n%s", r.body)
	}
	b.postForm(t, "/messages", url.Values{"message": {"  "}}).wantStatus(t, http.StatusBadRequest)
	b.postForm(t, "/messages", url.Values{"message": {strings.Repeat("x", maxMessageRunes+1)}}).
		wantStatus(t, http.StatusBadRequest)

	// A file: listed, then downloaded byte for byte.
	content := bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, maxUpload/5)
	r = b.upload(t, "report.bin", content).wantStatus(t, http.StatusOK)
	id, ok := fileLinks(r.body)["report.bin"]
	if r.url.Path != "/" || !ok {
		t.Fatalf("uploaded file not listed:\n%s", r.body)
	}
	d := b.get(t, "/files/"+id).wantStatus(t, http.StatusOK)
	if d.body != string(content) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(d.body), len(content))
	}
	if cd := d.header.Get("Content-Disposition"); cd != `attachment; filename=report.bin` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := d.header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	b.get(t, "/files/00000000-0000-0000-0000-000000000000").wantStatus(t, http.StatusNotFound)
	b.get(t, "/files/nope").wantStatus(t, http.StatusNotFound)

	// An empty file is a file; no file is not.
	r = b.upload(t, "empty.txt", nil).wantStatus(t, http.StatusOK)
	if _, ok := fileLinks(r.body)["empty.txt"]; !ok {
		t.Errorf("empty file not listed:\n%s", r.body)
	}
	b.upload(t, "", []byte("x")).wantStatus(t, http.StatusBadRequest)

	// Oversized: one byte over, and far over.
	for _, size := range []int{maxUpload + 1, maxUpload + multipartSlack + 1, 4 << 20} {
		r = b.upload(t, "big.bin", make([]byte, size)).wantStatus(t, http.StatusRequestEntityTooLarge)
		if !strings.Contains(r.body, "4 KiB") {
			t.Errorf("413 body %q", r.body)
		}
	}
	if _, ok := fileLinks(b.get(t, "/").body)["big.bin"]; ok {
		t.Error("oversized file stored")
	}

	// Signing out ends the session.
	r = b.postForm(t, "/logout", nil).wantStatus(t, http.StatusOK)
	if r.url.Path != "/login" {
		t.Errorf("sign-out ended at %s", r.url)
	}
	if r := b.get(t, "/"); r.url.Path != "/login" {
		t.Errorf("GET / after sign-out ended at %s", r.url)
	}
	if r := b.get(t, "/files/"+id); r.url.Path != "/login" {
		t.Errorf("download after sign-out ended at %s", r.url)
	}
}

func TestJSONAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	nt := e.createTenant(t, "jsonapi")
	api := func(method, path, token, body string) response {
		t.Helper()
		return send(t, http.DefaultClient, method, e.srv.URL+path, strings.NewReader(body), bearer(token))
	}

	for _, path := range []string{"/api/me", "/api/messages", "/api/files"} {
		api(http.MethodGet, path, "", "").wantStatus(t, http.StatusUnauthorized)
		api(http.MethodGet, path, "bogus", "").wantStatus(t, http.StatusUnauthorized)
	}
	send(t, http.DefaultClient, http.MethodPost, e.srv.URL+"/api/login",
		jsonBody(t, map[string]string{"login": nt.Login, "password": "nope"}), nil).
		wantStatus(t, http.StatusUnauthorized)

	token := e.apiToken(t, nt)
	var me map[string]string
	api(http.MethodGet, "/api/me", token, "").wantStatus(t, http.StatusOK).decode(t, &me)
	if me["login"] != nt.Login || me["tenant"] != "jsonapi" || me["tenant_id"] != nt.ID {
		t.Errorf("/api/me: %v", me)
	}
	// The admin token is no session.
	api(http.MethodGet, "/api/me", testAdminToken, "").wantStatus(t, http.StatusUnauthorized)

	var m message
	api(http.MethodPost, "/api/messages", token, `{"body":"über JSON"}`).wantStatus(t, http.StatusCreated).decode(t, &m)
	if !isUUID(m.ID) || m.Body != "über JSON" || m.Author != nt.Login || m.CreatedAt.IsZero() {
		t.Errorf("posted %+v", m)
	}
	api(http.MethodPost, "/api/messages", token, `{"body":""}`).wantStatus(t, http.StatusBadRequest)
	api(http.MethodPost, "/api/messages", token, `not json`).wantStatus(t, http.StatusBadRequest)
	api(http.MethodPost, "/api/messages", token, `{"body":"second"}`).wantStatus(t, http.StatusCreated)

	var msgs []message
	api(http.MethodGet, "/api/messages", token, "").wantStatus(t, http.StatusOK).decode(t, &msgs)
	if len(msgs) != 2 || msgs[0] != m || msgs[1].Body != "second" {
		t.Errorf("listed %+v", msgs)
	}
	var files []fileInfo
	r := api(http.MethodGet, "/api/files", token, "").wantStatus(t, http.StatusOK)
	if r.decode(t, &files); len(files) != 0 || strings.TrimSpace(r.body) != "[]" {
		t.Errorf("files %q", r.body)
	}

	// A message posted through the API shows on the dashboard.
	if d := e.browser(t).signIn(t, nt); !strings.Contains(d.body, "über JSON") {
		t.Errorf("dashboard lacks the message:\n%s", d.body)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, b := e.createTenant(t, "tenant-a"), e.createTenant(t, "tenant-b")
	ba, bb := e.browser(t), e.browser(t)
	ba.signIn(t, a)
	bb.signIn(t, b)

	ba.postForm(t, "/messages", url.Values{"message": {"secret of A"}}).wantStatus(t, http.StatusOK)
	r := ba.upload(t, "a-secret.txt", []byte("A's file")).wantStatus(t, http.StatusOK)
	aFile := fileLinks(r.body)["a-secret.txt"]
	if aFile == "" {
		t.Fatalf("A's file not listed:\n%s", r.body)
	}
	bb.postForm(t, "/messages", url.Values{"message": {"hello from B"}}).wantStatus(t, http.StatusOK)
	r = bb.upload(t, "b-file.txt", []byte("B's file")).wantStatus(t, http.StatusOK)
	bFile := fileLinks(r.body)["b-file.txt"]

	// B sees none of A's data, on the dashboard, in the API or by id.
	d := bb.get(t, "/").wantStatus(t, http.StatusOK)
	if strings.Contains(d.body, "secret of A") || strings.Contains(d.body, "a-secret.txt") || strings.Contains(d.body, aFile) {
		t.Errorf("B's dashboard shows A's data:\n%s", d.body)
	}
	tokB := e.apiToken(t, b)
	for path, own := range map[string]string{"/api/messages": "hello from B", "/api/files": "b-file.txt"} {
		r := send(t, http.DefaultClient, http.MethodGet, e.srv.URL+path, nil, bearer(tokB)).wantStatus(t, http.StatusOK)
		if strings.Contains(r.body, "secret of A") || strings.Contains(r.body, "a-secret") || !strings.Contains(r.body, own) {
			t.Errorf("B's %s: %s", path, r.body)
		}
	}
	bb.get(t, "/files/"+aFile).wantStatus(t, http.StatusNotFound)
	ba.get(t, "/files/"+bFile).wantStatus(t, http.StatusNotFound)
	bb.get(t, "/files/"+bFile).wantStatus(t, http.StatusOK)

	// Deleting A removes all its rows and leaves B's.
	super := e.superDB(t)
	tables := map[string]string{
		"tenants":  "SELECT count(*) FROM tenants WHERE id = $1",
		"users":    "SELECT count(*) FROM users WHERE tenant_id = $1",
		"sessions": "SELECT count(*) FROM sessions WHERE tenant_id = $1",
		"messages": "SELECT count(*) FROM messages WHERE tenant_id = $1",
		"files":    "SELECT count(*) FROM files WHERE tenant_id = $1",
	}
	for table, q := range tables {
		if n := count(t, super, q, a.ID); n == 0 {
			t.Errorf("before deletion, A has no rows in %s", table)
		}
	}
	e.admin(t, http.MethodDelete, "/api/tenants/"+a.ID, nil).wantStatus(t, http.StatusNoContent)
	for table, q := range tables {
		if n := count(t, super, q, a.ID); n != 0 {
			t.Errorf("after deletion, A still has %d rows in %s", n, table)
		}
		if n := count(t, super, q, b.ID); n == 0 {
			t.Errorf("after deleting A, B has no rows in %s", table)
		}
	}
	if r := ba.get(t, "/"); r.url.Path != "/login" {
		t.Errorf("A's session survived the deletion of A: GET / ended at %s", r.url)
	}
	if d := bb.get(t, "/").wantStatus(t, http.StatusOK); !strings.Contains(d.body, "hello from B") ||
		!strings.Contains(d.body, "b-file.txt") {
		t.Errorf("B's dashboard after deleting A:\n%s", d.body)
	}
}

func TestLeastPrivilege(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	db := openDB(t, e.db.DSN())
	for _, stmt := range []string{
		"CREATE TABLE intruder (i int)",
		"ALTER TABLE files ADD COLUMN x int",
		"DROP TABLE messages",
		"INSERT INTO schema_migrations (version, name) VALUES (999, 'x')",
		"CREATE SCHEMA intruder",
	} {
		_, err := db.ExecContext(t.Context(), stmt)
		if pq.As(err, pqerror.InsufficientPrivilege) == nil {
			t.Errorf("%s as the app role: got %v, want an insufficient_privilege error", stmt, err)
		}
	}

	// And the app works on these privileges.
	nt := e.createTenant(t, "leastpriv")
	b := e.browser(t)
	b.signIn(t, nt)
	r := b.upload(t, "ok.txt", []byte("ok")).wantStatus(t, http.StatusOK)
	if _, ok := fileLinks(r.body)["ok.txt"]; !ok {
		t.Errorf("file not listed:\n%s", r.body)
	}

	// Setup is idempotent, and New needs no DDL once it ran.
	if err := Setup(t.Context(), e.db.Cluster.SuperDSN(e.db.DB), e.db.User); err != nil {
		t.Fatal(err)
	}
	app, err := New(t.Context(), Options{DSN: e.db.DSN(), AdminToken: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Error(err)
	}
}

func TestRevokedInsertFailsLoudly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	nt := e.createTenant(t, "revoked")
	b := e.browser(t)
	b.signIn(t, nt)

	e.db.Exec(t, "REVOKE INSERT ON files FROM "+pq.QuoteIdentifier(e.db.User))
	r := b.upload(t, "doomed.txt", []byte("x")).wantStatus(t, http.StatusInternalServerError)
	if strings.TrimSpace(r.body) != "internal error" {
		t.Errorf("500 body %q", r.body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "permission denied for table files") {
		t.Errorf("log lacks the permission error:\n%s", logs)
	}
	// The rest still works.
	b.postForm(t, "/messages", url.Values{"message": {"still here"}}).wantStatus(t, http.StatusOK)
}

func TestMissingExtension(t *testing.T) {
	t.Parallel()

	t.Run("never created", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewApp(t, "noext", "")
		_, err := New(t.Context(), Options{DSN: db.Cluster.SuperDSN(db.DB), AdminToken: "x"})
		if !errors.Is(err, ErrMissingExtension) || !strings.Contains(err.Error(), `"uuid-ossp"`) {
			t.Fatalf("New without the extension: %v", err)
		}
		t.Log(err)
	})

	t.Run("dropped", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		nt := e.createTenant(t, "dropped")
		token := e.apiToken(t, nt)

		e.db.Exec(t, `DROP EXTENSION "uuid-ossp" CASCADE`)
		// The running app fails loudly, naming the missing function.
		r := send(t, http.DefaultClient, http.MethodPost, e.srv.URL+"/api/messages",
			strings.NewReader(`{"body":"x"}`), bearer(token)).wantStatus(t, http.StatusInternalServerError)
		if !strings.Contains(r.body, "internal error") {
			t.Errorf("500 body %q", r.body)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "uuid_generate_v4") {
			t.Errorf("log does not name uuid_generate_v4:\n%s", logs)
		}
		// A new instance refuses to start.
		_, err := New(t.Context(), Options{DSN: e.db.DSN(), AdminToken: "x"})
		if !errors.Is(err, ErrMissingExtension) || !strings.Contains(err.Error(), "uuid-ossp") {
			t.Fatalf("New after dropping the extension: %v", err)
		}
	})
}

func TestNewAppliesMigrationsOnlyWithRights(t *testing.T) {
	t.Parallel()
	db := pgtest.NewApp(t, "migrate", "")
	db.Exec(t, `CREATE EXTENSION "uuid-ossp"`)

	// The least-privilege role cannot apply them.
	_, err := New(t.Context(), Options{DSN: db.DSN(), AdminToken: "x"})
	if err == nil || !strings.Contains(err.Error(), "Setup") || pq.As(err, pqerror.InsufficientPrivilege) == nil {
		t.Fatalf("New as a role without DDL rights on an empty database: %v", err)
	}
	t.Log(err)

	// The owner can, once.
	for range 2 {
		app, err := New(t.Context(), Options{DSN: db.Cluster.SuperDSN(db.DB), AdminToken: "x"})
		if err != nil {
			t.Fatal(err)
		}
		app.Close()
	}
	super := openDB(t, db.Cluster.SuperDSN(db.DB))
	if n := count(t, super, "SELECT count(*) FROM schema_migrations"); n != len(Migrations()) {
		t.Errorf("%d migrations recorded, want %d", n, len(Migrations()))
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := send(t, http.DefaultClient, http.MethodGet, e.srv.URL+"/healthz", nil, nil).wantStatus(t, http.StatusOK)
	if r.body != "ok\n" {
		t.Errorf("body %q", r.body)
	}

	// New connections fail: the pool's may still work, the check does not.
	e.db.Exec(t, fmt.Sprintf("ALTER ROLE %s PASSWORD 'changed'", pq.QuoteIdentifier(e.db.User)))
	send(t, http.DefaultClient, http.MethodGet, e.srv.URL+"/healthz", nil, nil).
		wantStatus(t, http.StatusServiceUnavailable)
	if logs := e.logs.String(); !strings.Contains(logs, "health check failed") ||
		!strings.Contains(logs, "password authentication failed") {
		t.Errorf("log lacks the failure:\n%s", logs)
	}

	// Back to the right password: healthy again.
	e.db.Exec(t, fmt.Sprintf("ALTER ROLE %s PASSWORD %s", pq.QuoteIdentifier(e.db.User), pq.QuoteLiteral(e.db.Password)))
	send(t, http.DefaultClient, http.MethodGet, e.srv.URL+"/healthz", nil, nil).wantStatus(t, http.StatusOK)
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no DSN", Options{AdminToken: "x"}, "DSN is required"},
		{"no admin token", Options{DSN: "host=127.0.0.1"}, "AdminToken is required"},
		{"negative upload limit", Options{DSN: "host=127.0.0.1", AdminToken: "x", MaxUploadBytes: -1}, "negative"},
		{"bad DSN", Options{DSN: "host='unterminated", AdminToken: "x"}, "parsing the DSN"},
		{"unreachable", Options{
			DSN:        fmt.Sprintf("host=127.0.0.1 port=%d user=x password=y dbname=z sslmode=disable connect_timeout=5", closed),
			AdminToken: "x",
		}, "connecting to PostgreSQL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := New(t.Context(), tc.o)
			if err == nil {
				app.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	db := pgtest.NewApp(t, "serve", "")
	if err := Setup(t.Context(), db.Cluster.SuperDSN(db.DB), db.User); err != nil {
		t.Fatal(err)
	}
	u, stop, err := Serve(t.Context(), Options{DSN: db.DSN(), AdminToken: testAdminToken}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("URL %q", u)
	}
	send(t, http.DefaultClient, http.MethodGet, u+"/healthz", nil, nil).wantStatus(t, http.StatusOK)
	send(t, http.DefaultClient, http.MethodGet, u+"/login", nil, nil).wantStatus(t, http.StatusOK)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(u + "/healthz"); err == nil {
		t.Error("the server still answers after stop")
	}
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h1, err := hashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword("s3cret")
	if h1 == h2 || !strings.HasPrefix(h1, "pbkdf2-sha256$100000$") {
		t.Errorf("hashes %q and %q", h1, h2)
	}
	for _, tc := range []struct {
		hash, password string
		ok             bool
		err            bool
	}{
		{h1, "s3cret", true, false},
		{h1, "s3cret ", false, false},
		{h1, "", false, false},
		{"plain", "plain", false, true},
		{"pbkdf2-sha256$x$AA$AA", "x", false, true},
		{"pbkdf2-sha256$1$!!$AA", "x", false, true},
		{"md5$1$AA$AA", "x", false, true},
	} {
		ok, err := checkPassword(tc.hash, tc.password)
		if ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("checkPassword(%q, %q) = %v, %v", tc.hash, tc.password, ok, err)
		}
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"0b4e7a0e-5b1a-4c3e-9f2a-1d2c3b4a5f6e": true,
		"0B4E7A0E-5B1A-4C3E-9F2A-1D2C3B4A5F6E": true,
		"0b4e7a0e5b1a4c3e9f2a1d2c3b4a5f6e":     false,
		"0b4e7a0e-5b1a-4c3e-9f2a-1d2c3b4a5f6g": false,
		"":                                     false,
	} {
		if got := isUUID(s); got != want {
			t.Errorf("isUUID(%q) = %v", s, got)
		}
	}
	for n, want := range map[int64]string{1 << 20: "1 MiB", 3 << 20: "3 MiB", 4 << 10: "4 KiB", 1500: "1500 bytes", 0: "0 bytes"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
	if m := Migrations(); len(m) == 0 || !slices.ContainsFunc(m, func(s string) bool {
		return strings.Contains(s, "CREATE TABLE files")
	}) {
		t.Errorf("Migrations() = %q", m)
	}
}

// TestUploadXHR: the page's script uploads with the X-CSRF-Token header and
// gets the file as JSON; without the token, or with another, it is
// refused and nothing is stored.
func TestUploadXHR(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	nt := e.createTenant(t, "xhr")
	b := e.browser(t)
	b.signIn(t, nt)
	post := func(token string) response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "note.txt")
		fw.Write([]byte("by XHR"))
		mw.Close()
		return send(t, b.hc, http.MethodPost, b.base+"/files", &buf, http.Header{"Content-Type": {mw.FormDataContentType()},
			"Accept": {"application/json"}, "X-CSRF-Token": {token}})
	}
	post("").wantStatus(t, http.StatusForbidden)
	post("another-token-0123456789").wantStatus(t, http.StatusForbidden)
	if n := len(fileLinks(b.get(t, "/").body)); n != 0 {
		t.Fatalf("a refused upload was stored: %d files", n)
	}
	var f struct {
		ID, Name string
		Size     int
	}
	post(b.csrf(t)).wantStatus(t, http.StatusCreated).decode(t, &f)
	if f.Name != "note.txt" || f.Size != 6 || !isUUID(f.ID) {
		t.Errorf("XHR upload answered %+v", f)
	}
	if id := fileLinks(b.get(t, "/").body)["note.txt"]; id != f.ID {
		t.Errorf("the dashboard lists %q, want %s", id, f.ID)
	}
}
