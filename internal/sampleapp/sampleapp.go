// Package sampleapp is a small multi-tenant SaaS web application, a hosted
// chat with file upload stored in PostgreSQL, that suitecheck's demo and
// end-to-end tests check.
//
// It is a real application, not a mock: tenants are created and deleted
// through an admin API, users sign in through an HTML form or a JSON API,
// post messages and upload files, and every query is confined to the
// tenant of the caller's session. It fails loudly: a database error
// answers 500 "internal error" and logs the cause.
//
// The database is prepared once by [Setup], run as a superuser (or the
// database owner): it creates the uuid-ossp extension, applies the
// embedded migrations and grants the application's role only the
// privileges it needs (no DDL). [New] then connects as that role; it
// applies pending migrations itself only if the role is allowed to.
//
// Routes (see [App.Handler]):
//
//	GET    /healthz             200 "ok" if a fresh connection runs SELECT 1, else 503
//	GET    /login               sign-in form (#login, #password, #sign-in)
//	POST   /login               form login, password: session cookie, 303 to /; 401 if wrong
//	POST   /logout              ends the session, 303 to /login
//	GET    /                    dashboard (303 to /login without a session)
//	POST   /messages            form message: posts a chat message, 303 to /
//	POST   /files               multipart field file: uploads a file, 303 to /; 413 if too large
//	GET    /files/{id}          downloads a file of the caller's tenant; 404 otherwise
//	POST   /api/login           {"login","password"} → {"token"}
//	GET    /api/me              {"login","tenant","tenant_id"}
//	GET    /api/messages        [{"id","author","body","created_at"}]
//	POST   /api/messages        {"body"} → 201 the message
//	GET    /api/files           [{"id","name","size","author","created_at"}]
//	POST   /api/tenants         admin: {"name"} → 201 {"id","name","login","password"}; 409 if taken
//	GET    /api/tenants         admin: [{"id","name","created_at"}]
//	DELETE /api/tenants/{id}    admin: 204; 404 if unknown
//
// The same account in several calls, as real apps make it (a user exists
// before its workspace, and signs in once it is a member of one):
//
//	POST   /api/users                           admin: {"name", "password"?} → 201 {"id","name","login","password" (when generated)}
//	GET    /api/users/{id}                      admin: {"id","name","login","workspace_id"}; 404
//	DELETE /api/users/{id}                      admin: 204; 404
//	POST   /api/workspaces                      admin: {"name"} → 201 {"id","name","created_at"}
//	GET    /api/workspaces[/{id}]               admin: as /api/tenants; 404
//	DELETE /api/workspaces/{id}                 admin: 204 (its members' users go with it); 404
//	POST   /api/workspaces/{id}/members         admin: {"user_id"} → 201; 404; 409 if it has a workspace
//	DELETE /api/workspaces/{id}/members/{uid}   admin: 204 (the member's sessions, messages, files go); 404
//
// The /api/* routes of users accept the session cookie or an
// "Authorization: Bearer <token>" header with the token of /api/login; the
// admin routes require "Authorization: Bearer <AdminToken>".
package sampleapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// DefaultMaxUploadBytes is the largest file accepted when
// [Options.MaxUploadBytes] is zero: 1 MiB.
const DefaultMaxUploadBytes = 1 << 20

// Options configures [New].
type Options struct {
	// DSN connects to PostgreSQL as the application's own role, in any
	// form lib/pq accepts (key=value or postgres:// URL). Required.
	DSN string

	// AdminToken is the bearer token of the admin API (/api/tenants).
	// Required.
	AdminToken string

	// Logger receives the logs: every request at debug level; start-up,
	// tenants created and deleted, uploads and refused sign-ins at info;
	// failed health checks and the cause of every 500 at error. Nil
	// discards them.
	Logger *slog.Logger

	// MaxUploadBytes is the largest file accepted by POST /files; larger
	// ones answer 413. Zero means [DefaultMaxUploadBytes].
	MaxUploadBytes int64
}

// App is the sample application. Its methods are safe for concurrent use.
type App struct {
	db         *sql.DB // the pool the requests use
	health     *sql.DB // keeps no idle connection: every check dials afresh
	log        *slog.Logger
	adminToken string
	maxUpload  int64
	handler    http.Handler
	closeOnce  sync.Once
	closeErr   error
}

// Pool settings. Idle connections are dropped after a while so that the
// pool notices, at least eventually, what happened to the server since
// (a changed password, a revoked role).
const (
	maxOpenConns    = 10
	maxIdleConns    = 4
	connMaxIdleTime = time.Minute
	connMaxLifetime = 10 * time.Minute
)

// New connects to the database, checks that the uuid-ossp extension is
// installed (failing with an error wrapping [ErrMissingExtension] if not),
// applies the pending migrations if any (which needs a role allowed to
// create tables; see [Setup]) and returns the application. ctx bounds
// these start-up steps only.
func New(ctx context.Context, o Options) (*App, error) {
	if o.DSN == "" {
		return nil, errors.New("sampleapp: Options.DSN is required")
	}
	if o.AdminToken == "" {
		return nil, errors.New("sampleapp: Options.AdminToken is required")
	}
	if o.MaxUploadBytes < 0 {
		return nil, fmt.Errorf("sampleapp: Options.MaxUploadBytes is negative (%d)", o.MaxUploadBytes)
	}
	if o.MaxUploadBytes == 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}

	connector, err := pq.NewConnector(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("sampleapp: parsing the DSN: %w", err)
	}
	a := &App{
		db:         sql.OpenDB(connector),
		health:     sql.OpenDB(connector),
		log:        o.Logger,
		adminToken: o.AdminToken,
		maxUpload:  o.MaxUploadBytes,
	}
	a.db.SetMaxOpenConns(maxOpenConns)
	a.db.SetMaxIdleConns(maxIdleConns)
	a.db.SetConnMaxIdleTime(connMaxIdleTime)
	a.db.SetConnMaxLifetime(connMaxLifetime)
	a.health.SetMaxOpenConns(1)
	a.health.SetMaxIdleConns(-1) // none

	if err := a.start(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.handler = a.routes()
	a.log.InfoContext(ctx, "sampleapp ready", "max_upload_bytes", a.maxUpload)
	return a, nil
}

// start checks the database and brings its schema up to date.
func (a *App) start(ctx context.Context) error {
	if err := a.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sampleapp: connecting to PostgreSQL: %w", err)
	}
	if err := checkExtension(ctx, a.db); err != nil {
		return err
	}
	applied, err := migrate(ctx, a.db)
	if pq.As(err, pqerror.InsufficientPrivilege) != nil {
		return fmt.Errorf("%w: the schema is missing or out of date and this role may not change it: "+
			"run sampleapp.Setup as a superuser or the database owner first", err)
	}
	if err != nil {
		return err
	}
	for _, name := range applied {
		a.log.InfoContext(ctx, "applied migration", "migration", name)
	}
	return nil
}

// Handler returns the application's HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// Close closes the database connections. It is idempotent.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		a.closeErr = errors.Join(a.db.Close(), a.health.Close())
		if a.closeErr != nil {
			a.closeErr = fmt.Errorf("sampleapp: closing the database: %w", a.closeErr)
		}
	})
	return a.closeErr
}

// shutdownTimeout bounds how long the stop function of [Serve] waits for
// requests in flight before it closes their connections.
const shutdownTimeout = 5 * time.Second

// Serve starts the application (see [New]) and an HTTP server for it
// listening on addr, "127.0.0.1:0" (a free port on the loopback interface)
// if empty. It returns the server's base URL, such as
// "http://127.0.0.1:41234", and stop, which shuts the server down (waiting
// a few seconds for the requests in flight) and closes the application;
// stop is idempotent. ctx bounds the start-up only.
func Serve(ctx context.Context, o Options, addr string) (url string, stop func() error, err error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	app, err := New(ctx, o)
	if err != nil {
		return "", nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		app.Close()
		return "", nil, fmt.Errorf("sampleapp: listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(app.log.Handler(), slog.LevelError),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url = "http://" + ln.Addr().String()
	app.log.InfoContext(ctx, "sampleapp listening", "url", url)

	stop = sync.OnceValue(func() error {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		var errs []error
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("sampleapp: shutting the server down: %w", err))
			srv.Close()
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("sampleapp: serving: %w", err))
		}
		errs = append(errs, app.Close())
		return errors.Join(errs...)
	})
	return url, stop, nil
}
