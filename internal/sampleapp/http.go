package sampleapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// routes builds the application's handler.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.handleHealth)
	mux.HandleFunc("GET /static/upload.js", handleUploadJS)

	mux.HandleFunc("GET /login", a.handleLoginForm)
	mux.HandleFunc("POST /login", a.handleLogin)
	mux.HandleFunc("POST /logout", a.handleLogout)
	mux.HandleFunc("GET /{$}", a.handleDashboard)
	mux.HandleFunc("POST /messages", a.handlePostMessage)
	mux.HandleFunc("POST /files", a.handleUpload)
	mux.HandleFunc("GET /files/{id}", a.handleDownload)

	mux.HandleFunc("POST /api/login", a.handleAPILogin)
	mux.HandleFunc("GET /api/me", a.handleAPIMe)
	mux.HandleFunc("GET /api/messages", a.handleAPIMessages)
	mux.HandleFunc("POST /api/messages", a.handleAPIPostMessage)
	mux.HandleFunc("GET /api/files", a.handleAPIFiles)

	mux.HandleFunc("POST /api/tenants", a.adminOnly(a.handleCreateTenant))
	mux.HandleFunc("GET /api/tenants", a.adminOnly(a.handleListTenants))
	mux.HandleFunc("DELETE /api/tenants/{id}", a.adminOnly(a.handleDeleteTenant))

	mux.HandleFunc("POST /api/users", a.adminOnly(a.handleCreateUser))
	mux.HandleFunc("GET /api/users/{id}", a.adminOnly(a.handleGetUser))
	mux.HandleFunc("DELETE /api/users/{id}", a.adminOnly(a.handleDeleteUser))
	mux.HandleFunc("POST /api/workspaces", a.adminOnly(a.handleCreateWorkspace))
	mux.HandleFunc("GET /api/workspaces", a.adminOnly(a.handleListTenants))
	mux.HandleFunc("GET /api/workspaces/{id}", a.adminOnly(a.handleGetWorkspace))
	mux.HandleFunc("DELETE /api/workspaces/{id}", a.adminOnly(a.handleDeleteTenant))
	mux.HandleFunc("POST /api/workspaces/{id}/members", a.adminOnly(a.handleAddMember))
	mux.HandleFunc("DELETE /api/workspaces/{id}/members/{user_id}", a.adminOnly(a.handleRemoveMember))

	return a.recoverPanics(securityHeaders(a.logRequests(mux)))
}

// healthTimeout bounds a health check.
const healthTimeout = 5 * time.Second

// handleHealth answers 200 "ok" if a fresh connection to the database
// runs SELECT 1, else 503. A fresh one, not one of the pool's: the check
// must notice a server that no longer accepts the application's
// connections.
func (a *App) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	var one int
	if err := a.health.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		a.log.ErrorContext(ctx, "health check failed", "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database unavailable")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// isAPI reports whether r is for the JSON API, which answers errors in
// JSON.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// fail answers an error the client can act on: JSON {"error": msg} on the
// API, plain text elsewhere.
func fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if isAPI(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// internalError logs err, the cause of a failed request, and answers 500
// with a generic body: the cause is for the logs, not for the client.
func (a *App) internalError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	fail(w, r, http.StatusInternalServerError, "internal error")
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// maxJSONBytes and maxFormBytes bound the bodies of JSON requests and of
// url-encoded forms.
const (
	maxJSONBytes = 64 << 10
	maxFormBytes = 64 << 10
)

// readJSON decodes the JSON body of r into v; on error it answers 400 (or
// 413) and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			fail(w, r, http.StatusRequestEntityTooLarge, "request body too large")
			return false
		}
		fail(w, r, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// parseForm parses the url-encoded body of r; on error it answers 400 (or
// 413) and returns false.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			fail(w, r, http.StatusRequestEntityTooLarge, "request body too large")
			return false
		}
		fail(w, r, http.StatusBadRequest, "invalid form")
		return false
	}
	return true
}

// isUUID reports whether s is a UUID in canonical form. Other ids cannot
// exist, so they need not reach the database (which would reject them with
// an error).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// securityHeaders sets headers that confine what a browser does with the
// application's pages.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy",
			"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

// statusRecorder records the status of a response for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs every request at debug level.
func (a *App) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		a.log.DebugContext(r.Context(), "request",
			"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration", time.Since(start))
	})
}

// recoverPanics turns a panicking handler into a logged 500, rather than
// into a dropped connection and a stack trace on standard error.
func (a *App) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.ErrorContext(r.Context(), "panic serving request",
				"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			fail(w, r, http.StatusInternalServerError, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}
