package sampleapp

import (
	"errors"
	"net/http"
)

// apiSession returns the session of an API request. Without one it answers
// 401; on a database error it answers 500. In both cases it returns nil.
func (a *App) apiSession(w http.ResponseWriter, r *http.Request) *session {
	s, err := a.sessionFor(r.Context(), requestToken(r))
	if err != nil {
		a.internalError(w, r, err)
		return nil
	}
	if s == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sampleapp"`)
		fail(w, r, http.StatusUnauthorized, "not signed in")
		return nil
	}
	return s
}

// handleAPILogin opens a session for {"login","password"} and answers its
// token, usable as "Authorization: Bearer <token>".
func (a *App) handleAPILogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	token, err := a.signIn(r.Context(), req.Login, req.Password)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if token == "" {
		a.log.InfoContext(r.Context(), "sign-in refused", "login", req.Login)
		fail(w, r, http.StatusUnauthorized, "invalid login or password")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

func (a *App) handleAPIMe(w http.ResponseWriter, r *http.Request) {
	s := a.apiSession(w, r)
	if s == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"login": s.Login, "tenant": s.Tenant, "tenant_id": s.TenantID})
}

func (a *App) handleAPIMessages(w http.ResponseWriter, r *http.Request) {
	s := a.apiSession(w, r)
	if s == nil {
		return
	}
	msgs, err := a.listMessages(r.Context(), s)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}

func (a *App) handleAPIPostMessage(w http.ResponseWriter, r *http.Request) {
	s := a.apiSession(w, r)
	if s == nil {
		return
	}
	var req struct {
		Body string `json:"body"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if msg := checkMessage(req.Body); msg != "" {
		fail(w, r, http.StatusBadRequest, msg)
		return
	}
	m, err := a.addMessage(r.Context(), s, req.Body)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (a *App) handleAPIFiles(w http.ResponseWriter, r *http.Request) {
	s := a.apiSession(w, r)
	if s == nil {
		return
	}
	files, err := a.listFiles(r.Context(), s)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, files)
}

// adminOnly lets through the requests bearing the admin token and answers
// 401 to the others.
func (a *App) adminOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.isAdmin(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sampleapp-admin"`)
			fail(w, r, http.StatusUnauthorized, "admin token required")
			return
		}
		next(w, r)
	}
}

// validTenantName says whether a tenant may be called name: a letter or
// digit, then up to 62 letters, digits, '.', '_' or '-' (its user's login
// is <name>@example.test). A loop, not a regexp: {0,62} compiled to
// hundreds of allocations at every start of the binary, `suitecheck
// version` included.
func validTenantName(name string) bool {
	if len(name) == 0 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

func (a *App) handleCreateTenant(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if !validTenantName(req.Name) {
		fail(w, r, http.StatusBadRequest,
			"invalid tenant name: 1 to 63 letters, digits, dots, dashes or underscores, starting with a letter or digit")
		return
	}
	t, err := a.createTenant(r.Context(), req.Name)
	if errors.Is(err, errTenantExists) {
		fail(w, r, http.StatusConflict, "tenant "+req.Name+" already exists")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "tenant created", "tenant_id", t.ID, "name", t.Name, "login", t.Login)
	writeJSON(w, http.StatusCreated, t)
}

func (a *App) handleListTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := a.listTenants(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ts)
}

func (a *App) handleDeleteTenant(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	found := false
	if isUUID(id) {
		var err error
		if found, err = a.deleteTenant(r.Context(), id); err != nil {
			a.internalError(w, r, err)
			return
		}
	}
	if !found {
		fail(w, r, http.StatusNotFound, "no tenant "+id)
		return
	}
	a.log.InfoContext(r.Context(), "tenant deleted", "tenant_id", id)
	w.WriteHeader(http.StatusNoContent)
}
