package sampleapp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// An account in three calls and removed in three: the user signs in only
// once it is a member; removing the membership takes its sessions and
// messages; each call refuses what does not exist.
func TestAccountsInSeveralCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const pw = "correct-horse-battery"
	var u account
	e.admin(t, http.MethodPost, "/api/users", map[string]string{"name": "sc-steps", "password": pw}).
		wantStatus(t, http.StatusCreated).decode(t, &u)
	if !isUUID(u.ID) || u.Name != "sc-steps" || u.Login != "sc-steps@example.test" || u.Password != "" || u.WorkspaceID != nil {
		t.Fatalf("created user %+v", u)
	}
	e.admin(t, http.MethodPost, "/api/users", map[string]string{"name": "sc-steps"}).wantStatus(t, http.StatusConflict)
	e.admin(t, http.MethodPost, "/api/users", map[string]string{"name": "x", "password": "short"}).wantStatus(t, http.StatusBadRequest)
	var gen account
	e.admin(t, http.MethodPost, "/api/users", map[string]string{"name": "sc-gen"}).wantStatus(t, http.StatusCreated).decode(t, &gen)
	if len(gen.Password) < 16 {
		t.Errorf("a user without a password got %q", gen.Password)
	}
	nt := newTenant{Login: u.Login, Password: pw}
	// No workspace yet: no sign-in.
	e.browser(t).postForm(t, "/login", url.Values{"login": {nt.Login}, "password": {pw}}).wantStatus(t, http.StatusUnauthorized)

	var ws tenant
	e.admin(t, http.MethodPost, "/api/workspaces", map[string]string{"name": "sc-steps"}).wantStatus(t, http.StatusCreated).decode(t, &ws)
	e.admin(t, http.MethodGet, "/api/workspaces/"+ws.ID, nil).wantStatus(t, http.StatusOK)
	e.admin(t, http.MethodGet, "/api/workspaces/not-a-uuid", nil).wantStatus(t, http.StatusNotFound)
	e.admin(t, http.MethodPost, "/api/workspaces/"+ws.ID+"/members", map[string]string{"user_id": "00000000-0000-0000-0000-000000000000"}).wantStatus(t, http.StatusNotFound)
	e.admin(t, http.MethodPost, "/api/workspaces/"+ws.ID+"/members", map[string]string{"user_id": u.ID}).wantStatus(t, http.StatusCreated)
	e.admin(t, http.MethodPost, "/api/workspaces/"+ws.ID+"/members", map[string]string{"user_id": u.ID}).wantStatus(t, http.StatusConflict)
	var got account
	e.admin(t, http.MethodGet, "/api/users/"+u.ID, nil).wantStatus(t, http.StatusOK).decode(t, &got)
	if got.Name != "sc-steps" || got.WorkspaceID == nil || *got.WorkspaceID != ws.ID {
		t.Errorf("user after the membership: %+v", got)
	}
	b := e.browser(t)
	b.signIn(t, nt)
	b.postForm(t, "/messages", url.Values{"message": {"hello"}}).wantStatus(t, http.StatusOK)

	e.admin(t, http.MethodDelete, "/api/workspaces/"+ws.ID+"/members/"+u.ID, nil).wantStatus(t, http.StatusNoContent)
	e.admin(t, http.MethodDelete, "/api/workspaces/"+ws.ID+"/members/"+u.ID, nil).wantStatus(t, http.StatusNotFound)
	if r := b.get(t, "/"); strings.Contains(r.body, "Welcome") {
		t.Error("the removed member's session still works")
	}
	e.admin(t, http.MethodDelete, "/api/workspaces/"+ws.ID, nil).wantStatus(t, http.StatusNoContent)
	e.admin(t, http.MethodGet, "/api/workspaces/"+ws.ID, nil).wantStatus(t, http.StatusNotFound)
	// The user outlived its workspace (it was no longer a member).
	e.admin(t, http.MethodGet, "/api/users/"+u.ID, nil).wantStatus(t, http.StatusOK)
	e.admin(t, http.MethodDelete, "/api/users/"+u.ID, nil).wantStatus(t, http.StatusNoContent)
	e.admin(t, http.MethodDelete, "/api/users/"+u.ID, nil).wantStatus(t, http.StatusNotFound)
	e.admin(t, http.MethodGet, "/api/users/"+u.ID, nil).wantStatus(t, http.StatusNotFound)
	// Behind the admin token, like the rest.
	send(t, http.DefaultClient, http.MethodPost, e.srv.URL+"/api/users", strings.NewReader(`{"name":"intruder"}`), nil).wantStatus(t, http.StatusUnauthorized)
}
