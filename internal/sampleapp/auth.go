package sampleapp

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Password hashes are "pbkdf2-sha256$<iterations>$<salt>$<key>", salt and
// key in unpadded standard base64.
const (
	hashScheme     = "pbkdf2-sha256"
	hashIterations = 100_000
	saltBytes      = 16
	keyBytes       = 32
)

// hashPassword returns the encoded PBKDF2-HMAC-SHA256 hash of password
// with a fresh random salt.
func hashPassword(password string) (string, error) {
	salt := make([]byte, saltBytes)
	rand.Read(salt) // never fails
	key, err := pbkdf2.Key(sha256.New, password, salt, hashIterations, keyBytes)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, hashIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// errBadHash reports a stored password hash that cannot be decoded.
var errBadHash = errors.New("malformed password hash")

// checkPassword reports whether password matches the encoded hash.
func checkPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return false, errBadHash
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter <= 0 {
		return false, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[2])
	if err != nil {
		return false, errBadHash
	}
	want, err := enc.DecodeString(parts[3])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return false, fmt.Errorf("hashing password: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when a login is unknown, so that unknown
// and known logins take as long to reject.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword(rand.Text())
	return h
})

// Sessions.
const (
	sessionCookie = "sampleapp_session"
	sessionTTL    = 12 * time.Hour
)

// newToken returns a random session token and the hash stored in its
// place: a stolen copy of the database yields no usable session.
func newToken() (token string, hash []byte) {
	token = rand.Text() + rand.Text() // 2×128 bits of entropy
	return token, tokenHash(token)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// requestToken returns the session token of r: the bearer token of the
// Authorization header if any, else the session cookie's value, else "".
func requestToken(r *http.Request) string {
	if tok, ok := bearerToken(r); ok {
		return tok
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// isAdmin reports whether r carries the admin token, comparing in
// constant time (hashes, so that the length does not leak either).
func (a *App) isAdmin(r *http.Request) bool {
	tok, ok := bearerToken(r)
	if !ok {
		return false
	}
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(a.adminToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// setSessionCookie sets the session cookie to token; an empty token
// deletes it.
func setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	c := &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	}
	if token == "" {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(sessionTTL / time.Second)
	}
	http.SetCookie(w, c)
}

// csrfCookie holds the browser's CSRF token: every form carries it back as
// csrf_token (an XHR as the X-CSRF-Token header), and a POST from a page
// of another site, which cannot read the cookie, is refused (the
// double-submit pattern).
const csrfCookie = "sampleapp_csrf"

// csrfToken returns the browser's CSRF token, setting the cookie when it
// has none.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 20 {
		return c.Value
	}
	tok := rand.Text()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return tok
}

// csrfOK reports whether got is the browser's CSRF token.
func csrfOK(r *http.Request, got string) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && got != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) == 1
}

// csrfRefused answers a form without its CSRF token.
func csrfRefused(w http.ResponseWriter, r *http.Request) {
	fail(w, r, http.StatusForbidden, "the form's CSRF token is missing or wrong: reload the page")
}
