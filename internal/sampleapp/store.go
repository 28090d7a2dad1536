package sampleapp

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// The queries. Every query on tenant data takes the tenant id from the
// caller's session, never from the request. Ids are generated explicitly
// with uuid_generate_v4() (not only by the columns' defaults) so that a
// missing uuid-ossp extension fails with an error naming the function.

// errTenantExists reports a tenant name (or its user's login) already
// taken.
var errTenantExists = errors.New("tenant already exists")

// loginDomain is the domain of the logins of the tenants' users.
const loginDomain = "example.test"

// tenant is a row of tenants.
type tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// newTenant is a created tenant with the credentials of its user.
type newTenant struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Login    string `json:"login"`
	Password string `json:"password"`
}

// session is the signed-in user of a request.
type session struct {
	UserID   string
	TenantID string
	Login    string
	Tenant   string // the tenant's name
}

// message is a chat message.
type message struct {
	ID        string    `json:"id"`
	Author    string    `json:"author"` // the login of its user
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// fileInfo describes an uploaded file.
type fileInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// createTenant creates a tenant and its user, with a random password.
func (a *App) createTenant(ctx context.Context, name string) (newTenant, error) {
	t := newTenant{Name: name, Login: name + "@" + loginDomain, Password: rand.Text()}
	hash, err := hashPassword(t.Password)
	if err != nil {
		return newTenant{}, err
	}
	err = a.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx,
			`INSERT INTO tenants (id, name) VALUES (uuid_generate_v4(), $1) RETURNING id`,
			name).Scan(&t.ID); err != nil {
			return fmt.Errorf("inserting tenant: %w", err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO users (id, tenant_id, login, password_hash) VALUES (uuid_generate_v4(), $1, $2, $3)`,
			t.ID, t.Login, hash); err != nil {
			return fmt.Errorf("inserting user: %w", err)
		}
		return nil
	})
	if pq.As(err, pqerror.UniqueViolation) != nil {
		return newTenant{}, errTenantExists
	}
	if err != nil {
		return newTenant{}, err
	}
	return t, nil
}

// deleteTenant deletes a tenant and, by cascade, its users, sessions,
// messages and files. It reports whether the tenant existed.
func (a *App) deleteTenant(ctx context.Context, id string) (bool, error) {
	res, err := a.db.ExecContext(ctx, `DELETE FROM tenants WHERE id = $1`, id)
	if err != nil {
		return false, fmt.Errorf("deleting tenant: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("deleting tenant: %w", err)
	}
	return n > 0, nil
}

// listTenants returns all the tenants, oldest first.
func (a *App) listTenants(ctx context.Context) ([]tenant, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT id, name, created_at FROM tenants ORDER BY created_at, name`)
	if err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	defer rows.Close()
	ts := []tenant{}
	for rows.Next() {
		var t tenant
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt); err != nil {
			return nil, fmt.Errorf("listing tenants: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	return ts, nil
}

// signIn checks the credentials and opens a session, returning its token,
// or "" if the credentials are wrong.
func (a *App) signIn(ctx context.Context, login, password string) (string, error) {
	var userID, tenantID, hash string
	// A user that belongs to no workspace yet cannot sign in.
	err := a.db.QueryRowContext(ctx,
		`SELECT id, tenant_id, password_hash FROM users WHERE login = $1 AND tenant_id IS NOT NULL`, login).Scan(&userID, &tenantID, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		checkPassword(dummyHash(), password)
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up user: %w", err)
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		return "", fmt.Errorf("checking the password of %s: %w", login, err)
	}
	if !ok {
		return "", nil
	}
	token, tokHash := newToken()
	err = a.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM sessions WHERE user_id = $1 AND expires_at <= now()`, userID); err != nil {
			return fmt.Errorf("deleting expired sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sessions (id, token_hash, tenant_id, user_id, expires_at)
			 VALUES (uuid_generate_v4(), $1, $2, $3, now() + $4 * interval '1 second')`,
			tokHash, tenantID, userID, int64(sessionTTL/time.Second)); err != nil {
			return fmt.Errorf("inserting session: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// sessionFor returns the live session of token, or nil if there is none.
func (a *App) sessionFor(ctx context.Context, token string) (*session, error) {
	if token == "" {
		return nil, nil
	}
	var s session
	err := a.db.QueryRowContext(ctx,
		`SELECT s.user_id, s.tenant_id, u.login, t.name
		   FROM sessions s
		   JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
		   JOIN tenants t ON t.id = s.tenant_id
		  WHERE s.token_hash = $1 AND s.expires_at > now()`,
		tokenHash(token)).Scan(&s.UserID, &s.TenantID, &s.Login, &s.Tenant)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up session: %w", err)
	}
	return &s, nil
}

// signOut ends the session of token, if any.
func (a *App) signOut(ctx context.Context, token string) error {
	if _, err := a.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token)); err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// maxListed bounds the messages and files listed.
const maxListed = 200

// listMessages returns the latest messages of the session's tenant,
// oldest first.
func (a *App) listMessages(ctx context.Context, s *session) ([]message, error) {
	rows, err := a.db.QueryContext(ctx,
		`SELECT id, login, body, created_at FROM (
		     SELECT m.id, u.login, m.body, m.created_at
		       FROM messages m JOIN users u ON u.id = m.user_id AND u.tenant_id = m.tenant_id
		      WHERE m.tenant_id = $1
		      ORDER BY m.created_at DESC, m.id DESC
		      LIMIT $2
		 ) latest ORDER BY created_at, id`,
		s.TenantID, maxListed)
	if err != nil {
		return nil, fmt.Errorf("listing messages: %w", err)
	}
	defer rows.Close()
	ms := []message{}
	for rows.Next() {
		var m message
		if err := rows.Scan(&m.ID, &m.Author, &m.Body, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("listing messages: %w", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing messages: %w", err)
	}
	return ms, nil
}

// addMessage posts a message as the session's user.
func (a *App) addMessage(ctx context.Context, s *session, body string) (message, error) {
	m := message{Author: s.Login, Body: body}
	err := a.db.QueryRowContext(ctx,
		`INSERT INTO messages (id, tenant_id, user_id, body) VALUES (uuid_generate_v4(), $1, $2, $3)
		 RETURNING id, created_at`,
		s.TenantID, s.UserID, body).Scan(&m.ID, &m.CreatedAt)
	if err != nil {
		return message{}, fmt.Errorf("inserting message: %w", err)
	}
	return m, nil
}

// listFiles describes the latest files of the session's tenant, newest
// first.
func (a *App) listFiles(ctx context.Context, s *session) ([]fileInfo, error) {
	rows, err := a.db.QueryContext(ctx,
		`SELECT f.id, f.name, f.size, u.login, f.created_at
		   FROM files f JOIN users u ON u.id = f.user_id AND u.tenant_id = f.tenant_id
		  WHERE f.tenant_id = $1
		  ORDER BY f.created_at DESC, f.id DESC
		  LIMIT $2`,
		s.TenantID, maxListed)
	if err != nil {
		return nil, fmt.Errorf("listing files: %w", err)
	}
	defer rows.Close()
	fs := []fileInfo{}
	for rows.Next() {
		var f fileInfo
		if err := rows.Scan(&f.ID, &f.Name, &f.Size, &f.Author, &f.CreatedAt); err != nil {
			return nil, fmt.Errorf("listing files: %w", err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing files: %w", err)
	}
	return fs, nil
}

// addFile stores a file uploaded by the session's user, in a single
// INSERT (which a trigger may slow down, as the demo's --break slow does).
func (a *App) addFile(ctx context.Context, s *session, name string, content []byte) (fileInfo, error) {
	f := fileInfo{Name: name, Size: int64(len(content)), Author: s.Login}
	err := a.db.QueryRowContext(ctx,
		`INSERT INTO files (id, tenant_id, user_id, name, content, size)
		 VALUES (uuid_generate_v4(), $1, $2, $3, $4, $5)
		 RETURNING id, created_at`,
		s.TenantID, s.UserID, name, content, f.Size).Scan(&f.ID, &f.CreatedAt)
	if err != nil {
		return fileInfo{}, fmt.Errorf("inserting file: %w", err)
	}
	return f, nil
}

// fileContent returns the name and content of a file of the session's
// tenant; found is false if the tenant has no such file.
func (a *App) fileContent(ctx context.Context, s *session, id string) (name string, content []byte, found bool, err error) {
	err = a.db.QueryRowContext(ctx,
		`SELECT name, content FROM files WHERE id = $1 AND tenant_id = $2`,
		id, s.TenantID).Scan(&name, &content)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("reading file: %w", err)
	}
	return name, content, true, nil
}

// inTx runs f in a transaction, committed if f succeeds.
func (a *App) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}
