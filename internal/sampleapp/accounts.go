package sampleapp

// The admin API that makes an account in three calls (a user, a
// workspace, the user's membership of it) and removes it in three (the
// membership, the workspace, the user), each call using ids the earlier
// replies gave. The single call of /api/tenants makes the same rows at
// once.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// account is a user as the admin API shows it; Password only when the
// app generated it.
type account struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Login       string  `json:"login"`
	WorkspaceID *string `json:"workspace_id"`
	Password    string  `json:"password,omitempty"`
}

// errNoSuch reports a workspace or user that does not exist;
// errMemberElsewhere a user that already belongs to a workspace.
var (
	errNoSuch          = errors.New("no such workspace or user")
	errMemberElsewhere = errors.New("the user already belongs to a workspace")
)

func (a *App) createUser(ctx context.Context, name, password string) (account, error) {
	u := account{Name: name, Login: name + "@" + loginDomain}
	if password == "" {
		password = rand.Text()
		u.Password = password
	}
	hash, err := hashPassword(password)
	if err != nil {
		return account{}, err
	}
	err = a.db.QueryRowContext(ctx,
		`INSERT INTO users (id, login, password_hash) VALUES (uuid_generate_v4(), $1, $2) RETURNING id`,
		u.Login, hash).Scan(&u.ID)
	if pq.As(err, pqerror.UniqueViolation) != nil {
		return account{}, errTenantExists
	}
	if err != nil {
		return account{}, fmt.Errorf("inserting user: %w", err)
	}
	return u, nil
}

func (a *App) getUser(ctx context.Context, id string) (account, bool, error) {
	var u account
	var ws sql.NullString
	err := a.db.QueryRowContext(ctx, `SELECT id, login, tenant_id FROM users WHERE id = $1`, id).Scan(&u.ID, &u.Login, &ws)
	if errors.Is(err, sql.ErrNoRows) {
		return account{}, false, nil
	}
	if err != nil {
		return account{}, false, fmt.Errorf("reading user: %w", err)
	}
	u.Name = strings.TrimSuffix(u.Login, "@"+loginDomain)
	if ws.Valid {
		u.WorkspaceID = &ws.String
	}
	return u, true, nil
}

// deleteUser deletes a user and, by cascade, its sessions, messages and
// files.
func (a *App) deleteUser(ctx context.Context, id string) (bool, error) {
	res, err := a.db.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return false, fmt.Errorf("deleting user: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (a *App) createWorkspace(ctx context.Context, name string) (tenant, error) {
	w := tenant{Name: name}
	err := a.db.QueryRowContext(ctx,
		`INSERT INTO tenants (id, name) VALUES (uuid_generate_v4(), $1) RETURNING id, created_at`, name).Scan(&w.ID, &w.CreatedAt)
	if pq.As(err, pqerror.UniqueViolation) != nil {
		return tenant{}, errTenantExists
	}
	if err != nil {
		return tenant{}, fmt.Errorf("inserting workspace: %w", err)
	}
	return w, nil
}

func (a *App) getWorkspace(ctx context.Context, id string) (tenant, bool, error) {
	var w tenant
	err := a.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE id = $1`, id).Scan(&w.ID, &w.Name, &w.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return tenant{}, false, nil
	}
	if err != nil {
		return tenant{}, false, fmt.Errorf("reading workspace: %w", err)
	}
	return w, true, nil
}

// addMember makes a user without a workspace a member of one.
func (a *App) addMember(ctx context.Context, ws, user string) error {
	if _, ok, err := a.getWorkspace(ctx, ws); err != nil || !ok {
		return cmpErr(err, errNoSuch)
	}
	u, ok, err := a.getUser(ctx, user)
	switch {
	case err != nil || !ok:
		return cmpErr(err, errNoSuch)
	case u.WorkspaceID != nil:
		return errMemberElsewhere
	}
	res, err := a.db.ExecContext(ctx, `UPDATE users SET tenant_id = $1 WHERE id = $2 AND tenant_id IS NULL`, ws, user)
	if err != nil {
		return fmt.Errorf("adding member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errMemberElsewhere
	}
	return nil
}

// removeMember takes a user out of its workspace, with its sessions,
// messages and files there.
func (a *App) removeMember(ctx context.Context, ws, user string) (bool, error) {
	found := false
	err := a.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"sessions", "messages", "files"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND user_id = $2`, ws, user); err != nil {
				return fmt.Errorf("removing member's %s: %w", table, err)
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET tenant_id = NULL WHERE id = $2 AND tenant_id = $1`, ws, user)
		if err != nil {
			return fmt.Errorf("removing member: %w", err)
		}
		n, err := res.RowsAffected()
		found = n > 0
		return err
	})
	return found, err
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// minPassword and maxPassword bound a password the admin gives.
const (
	minPassword = 12
	maxPassword = 256
)

func (a *App) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if !validTenantName(req.Name) {
		fail(w, r, http.StatusBadRequest, "invalid user name: 1 to 63 letters, digits, dots, dashes or underscores, starting with a letter or digit")
		return
	}
	if req.Password != "" && (len(req.Password) < minPassword || len(req.Password) > maxPassword) {
		fail(w, r, http.StatusBadRequest, fmt.Sprintf("invalid password: %d to %d bytes", minPassword, maxPassword))
		return
	}
	u, err := a.createUser(r.Context(), req.Name, req.Password)
	if errors.Is(err, errTenantExists) {
		fail(w, r, http.StatusConflict, "user "+req.Name+" already exists")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "user created", "user_id", u.ID, "login", u.Login)
	writeJSON(w, http.StatusCreated, u)
}

func (a *App) handleGetUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	u, ok := account{}, false
	if isUUID(id) {
		var err error
		if u, ok, err = a.getUser(r.Context(), id); err != nil {
			a.internalError(w, r, err)
			return
		}
	}
	if !ok {
		fail(w, r, http.StatusNotFound, "no user "+id)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (a *App) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	a.deleteBy(w, r, "user", a.deleteUser)
}

// deleteBy answers a DELETE of the thing with the path's id: 204, or 404.
func (a *App) deleteBy(w http.ResponseWriter, r *http.Request, what string, del func(context.Context, string) (bool, error)) {
	id := r.PathValue("id")
	found := false
	if isUUID(id) {
		var err error
		if found, err = del(r.Context(), id); err != nil {
			a.internalError(w, r, err)
			return
		}
	}
	if !found {
		fail(w, r, http.StatusNotFound, "no "+what+" "+id)
		return
	}
	a.log.InfoContext(r.Context(), what+" deleted", what+"_id", id)
	w.WriteHeader(http.StatusNoContent)
}

func (a *App) handleCreateWorkspace(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if !validTenantName(req.Name) {
		fail(w, r, http.StatusBadRequest, "invalid workspace name: 1 to 63 letters, digits, dots, dashes or underscores, starting with a letter or digit")
		return
	}
	ws, err := a.createWorkspace(r.Context(), req.Name)
	if errors.Is(err, errTenantExists) {
		fail(w, r, http.StatusConflict, "workspace "+req.Name+" already exists")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "workspace created", "tenant_id", ws.ID, "name", ws.Name)
	writeJSON(w, http.StatusCreated, ws)
}

func (a *App) handleGetWorkspace(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ws, ok := tenant{}, false
	if isUUID(id) {
		var err error
		if ws, ok, err = a.getWorkspace(r.Context(), id); err != nil {
			a.internalError(w, r, err)
			return
		}
	}
	if !ok {
		fail(w, r, http.StatusNotFound, "no workspace "+id)
		return
	}
	writeJSON(w, http.StatusOK, ws)
}

func (a *App) handleAddMember(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string `json:"user_id"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	ws := r.PathValue("id")
	err := errNoSuch
	if isUUID(ws) && isUUID(req.UserID) {
		err = a.addMember(r.Context(), ws, req.UserID)
	}
	switch {
	case errors.Is(err, errNoSuch):
		fail(w, r, http.StatusNotFound, "no workspace "+ws+" or no user "+req.UserID)
	case errors.Is(err, errMemberElsewhere):
		fail(w, r, http.StatusConflict, err.Error())
	case err != nil:
		a.internalError(w, r, err)
	default:
		a.log.InfoContext(r.Context(), "member added", "tenant_id", ws, "user_id", req.UserID)
		writeJSON(w, http.StatusCreated, map[string]any{"workspace_id": ws, "user_id": req.UserID, "since": time.Now().UTC()})
	}
}

func (a *App) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	ws, user := r.PathValue("id"), r.PathValue("user_id")
	found := false
	if isUUID(ws) && isUUID(user) {
		var err error
		if found, err = a.removeMember(r.Context(), ws, user); err != nil {
			a.internalError(w, r, err)
			return
		}
	}
	if !found {
		fail(w, r, http.StatusNotFound, "user "+user+" is not a member of workspace "+ws)
		return
	}
	a.log.InfoContext(r.Context(), "member removed", "tenant_id", ws, "user_id", user)
	w.WriteHeader(http.StatusNoContent)
}
