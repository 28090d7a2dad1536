package sampleapp

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed templates/*.html
var templatesFS embed.FS

//go:embed static/upload.js
var uploadJS []byte

// handleUploadJS serves the dashboard's upload script: a file of the app's
// own origin, as its Content-Security-Policy allows (no inline script).
func handleUploadJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(uploadJS)
}

// pages holds the HTML templates: login.html and dashboard.html, parsed
// on first use (not at every start of the plugin that embeds the app).
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(templatesFS, "templates/*.html"))
})

// Limits of user input.
const (
	maxMessageRunes = 4000
	maxFileName     = 255 // bytes
	// multipartSlack is what a multipart upload may carry on top of the
	// file: boundaries and part headers.
	multipartSlack = 64 << 10
)

// loginPage is the data of login.html.
type loginPage struct {
	Login string // to fill the form in again
	Error string
	CSRF  string
}

// dashboardPage is the data of dashboard.html.
type dashboardPage struct {
	Login      string
	Tenant     string
	Messages   []message
	Files      []fileInfo
	MaxMessage int
	MaxUpload  string
	CSRF       string
}

// render answers the page name executed with data, with status. It renders
// into a buffer first, so that a failure answers a clean 500.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages().ExecuteTemplate(&buf, name, data); err != nil {
		a.internalError(w, r, fmt.Errorf("rendering %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// webSession returns the session of a browser request. Without one it
// redirects to the sign-in page; on a database error it answers 500. In
// both cases it returns nil.
func (a *App) webSession(w http.ResponseWriter, r *http.Request) *session {
	s, err := a.sessionFor(r.Context(), requestToken(r))
	if err != nil {
		a.internalError(w, r, err)
		return nil
	}
	if s == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	return s
}

func (a *App) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "login.html", loginPage{CSRF: csrfToken(w, r)})
}

// invalidCredentials is what a failed sign-in says, whatever was wrong.
const invalidCredentials = "Invalid login or password"

func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	if !csrfOK(r, r.PostForm.Get("csrf_token")) {
		csrfRefused(w, r)
		return
	}
	login, password := r.PostForm.Get("login"), r.PostForm.Get("password")
	token, err := a.signIn(r.Context(), login, password)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if token == "" {
		a.log.InfoContext(r.Context(), "sign-in refused", "login", login)
		a.render(w, r, http.StatusUnauthorized, "login.html", loginPage{Login: login, Error: invalidCredentials, CSRF: csrfToken(w, r)})
		return
	}
	setSessionCookie(w, r, token)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) handleLogout(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	if !csrfOK(r, r.PostForm.Get("csrf_token")) {
		csrfRefused(w, r)
		return
	}
	if token := requestToken(r); token != "" {
		if err := a.signOut(r.Context(), token); err != nil {
			a.internalError(w, r, err)
			return
		}
	}
	setSessionCookie(w, r, "")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *App) handleDashboard(w http.ResponseWriter, r *http.Request) {
	s := a.webSession(w, r)
	if s == nil {
		return
	}
	msgs, err := a.listMessages(r.Context(), s)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	files, err := a.listFiles(r.Context(), s)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "dashboard.html", dashboardPage{
		Login:      s.Login,
		Tenant:     s.Tenant,
		Messages:   msgs,
		Files:      files,
		MaxMessage: maxMessageRunes,
		MaxUpload:  formatBytes(a.maxUpload),
		CSRF:       csrfToken(w, r),
	})
}

// checkMessage returns why body cannot be posted, or "".
func checkMessage(body string) string {
	switch {
	case strings.TrimSpace(body) == "":
		return "message is empty"
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		return "message is not valid text"
	case utf8.RuneCountInString(body) > maxMessageRunes:
		return fmt.Sprintf("message is longer than %d characters", maxMessageRunes)
	}
	return ""
}

func (a *App) handlePostMessage(w http.ResponseWriter, r *http.Request) {
	s := a.webSession(w, r)
	if s == nil {
		return
	}
	if !parseForm(w, r) {
		return
	}
	if !csrfOK(r, r.PostForm.Get("csrf_token")) {
		csrfRefused(w, r)
		return
	}
	body := r.PostForm.Get("message")
	if msg := checkMessage(body); msg != "" {
		fail(w, r, http.StatusBadRequest, msg)
		return
	}
	if _, err := a.addMessage(r.Context(), s, body); err != nil {
		a.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// errUploadTooLarge reports a file over the limit.
var errUploadTooLarge = errors.New("file too large")

// handleUpload stores the file of the multipart field "file". It streams
// the body, so that an oversized upload is refused after reading at most
// the limit (plus a little).
func (a *App) handleUpload(w http.ResponseWriter, r *http.Request) {
	s := a.webSession(w, r)
	if s == nil {
		return
	}
	tooLarge := func() {
		fail(w, r, http.StatusRequestEntityTooLarge, "file too large: the limit is "+formatBytes(a.maxUpload))
	}
	if r.ContentLength > a.maxUpload+multipartSlack {
		tooLarge()
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.maxUpload+multipartSlack)
	name, content, field, err := a.readUpload(r)
	switch {
	case errors.Is(err, errUploadTooLarge):
		tooLarge()
		return
	case err != nil:
		fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if !csrfOK(r, cmp.Or(r.Header.Get("X-CSRF-Token"), field)) {
		csrfRefused(w, r)
		return
	}
	f, err := a.addFile(r.Context(), s, name, content)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "file uploaded", "file_id", f.ID, "size", f.Size, "tenant_id", s.TenantID)
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		// The page's script uploaded it (XHR): it shows the file itself.
		writeJSON(w, http.StatusCreated, map[string]any{"id": f.ID, "name": name, "size": f.Size})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// readUpload returns the name and content of the file of the multipart
// field "file" of r, and the csrf_token field when it comes before it (as
// the form puts it). Its errors are for the client, except
// errUploadTooLarge.
func (a *App) readUpload(r *http.Request) (name string, content []byte, csrf string, err error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, "", errors.New("expected a multipart/form-data body")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil, "", errors.New(`no file in the form field "file"`)
		}
		if err != nil {
			return "", nil, "", uploadError(err)
		}
		switch part.FormName() {
		case "csrf_token":
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return "", nil, "", uploadError(err)
			}
			csrf = string(b)
			continue
		case "file":
		default:
			continue // NextPart skips what is left of it
		}
		name = part.FileName() // only its base name
		switch {
		case name == "":
			return "", nil, "", errors.New("no file chosen")
		case len(name) > maxFileName:
			return "", nil, "", fmt.Errorf("file name longer than %d bytes", maxFileName)
		case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
			return "", nil, "", errors.New("file name is not valid text")
		}
		content, err = io.ReadAll(io.LimitReader(part, a.maxUpload+1))
		if err != nil {
			return "", nil, "", uploadError(err)
		}
		if int64(len(content)) > a.maxUpload {
			return "", nil, "", errUploadTooLarge
		}
		return name, content, csrf, nil
	}
}

// uploadError translates an error reading a multipart body.
func uploadError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return errUploadTooLarge
	}
	return fmt.Errorf("reading the upload: %v", err)
}

func (a *App) handleDownload(w http.ResponseWriter, r *http.Request) {
	s := a.webSession(w, r)
	if s == nil {
		return
	}
	id := r.PathValue("id")
	if !isUUID(id) {
		http.NotFound(w, r)
		return
	}
	name, content, found, err := a.fileContent(r.Context(), s, id)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if !found {
		http.NotFound(w, r)
		return
	}
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disposition == "" {
		disposition = "attachment"
	}
	h := w.Header()
	// Always a download, never rendered: an uploaded HTML page must not
	// run in the application's origin.
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Length", strconv.Itoa(len(content)))
	w.Write(content)
}

// formatBytes formats n bytes for people: "1 MiB", "512 KiB", "100 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
