package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// sessionCookie holds a login session: an expiry, a nonce and their
	// HMAC under a key derived from the admin token. It never holds the
	// token, and changing the token invalidates every session.
	sessionCookie = "jiralinkd_session"
	// sessionTTL bounds how long a login lasts.
	sessionTTL = 12 * time.Hour
	// csrfField is the form field (csrfHeader the header) carrying the
	// CSRF token that state-changing requests authenticated by the cookie
	// must present. Bearer-authenticated requests need none: a browser
	// never adds that header to a cross-site request on its own.
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
	// maxForm bounds form bodies (login, resync, logout).
	maxForm = 16 << 10
)

// authenticator checks the admin token and issues and checks sessions and
// CSRF tokens. It keeps no state besides keys derived from the token.
//
// The token is read from its source on every check, so a rotated admin
// token file takes effect at the next request: the old token stops working
// and, since the session key derives from the token, so do the sessions
// and CSRF tokens issued under it.
type authenticator struct {
	token func() string
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	keysFor [32]byte // SHA-256 of the token the keys below derive from
	derived authKeys // keys of that token
	ready   bool     // derived is set
}

// authKeys are derived from one admin token.
type authKeys struct {
	tokenSum [32]byte // SHA-256 of the token: compared in constant time whatever the length
	key      []byte   // HMAC key for sessions and CSRF tokens
}

func newAuthenticator(token func() string, now func() time.Time, log *slog.Logger) *authenticator {
	return &authenticator{token: token, now: now, log: log}
}

// keys returns the keys of the current token, deriving them again after
// the token changed.
func (a *authenticator) keys() authKeys {
	tok := a.token()
	sum := sha256.Sum256([]byte(tok))
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ready || sum != a.keysFor {
		m := hmac.New(sha256.New, []byte(tok))
		m.Write([]byte("jiralinkd admin session key v1"))
		a.derived, a.keysFor, a.ready = authKeys{tokenSum: sum, key: m.Sum(nil)}, sum, true
	}
	return a.derived
}

// validToken compares a presented token with the admin token in constant
// time.
func (a *authenticator) validToken(t string) bool {
	if t == "" {
		return false
	}
	sum := sha256.Sum256([]byte(t))
	want := a.keys().tokenSum
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

func (a *authenticator) mac(parts ...string) string {
	m := hmac.New(sha256.New, a.keys().key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession returns a fresh session value: v1.expiry.nonce.mac.
func (a *authenticator) newSession() string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	exp := strconv.FormatInt(a.now().Add(sessionTTL).Unix(), 10)
	n := base64.RawURLEncoding.EncodeToString(nonce)
	return "v1." + exp + "." + n + "." + a.mac("session", exp, n)
}

// validSession checks a session value's MAC and expiry.
func (a *authenticator) validSession(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return false
	}
	if !hmac.Equal([]byte(parts[3]), []byte(a.mac("session", parts[1], parts[2]))) {
		return false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	return err == nil && a.now().Before(time.Unix(exp, 0))
}

// csrfToken is the CSRF token bound to a session.
func (a *authenticator) csrfToken(session string) string { return a.mac("csrf", session) }

// authMethod is how a request proved it knows the token.
type authMethod int

const (
	authNone   authMethod = iota
	authBad               // a credential was presented and is wrong
	authBearer            // Authorization: Bearer <token>
	authCookie            // a valid session cookie
)

type sessionKey struct{}

// check authenticates r. A presented Authorization header decides alone:
// a wrong bearer token does not fall back to the cookie.
func (a *authenticator) check(r *http.Request) (authMethod, string) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && a.validToken(strings.TrimSpace(tok)) {
			return authBearer, ""
		}
		return authBad, ""
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if a.validSession(c.Value) {
			return authCookie, c.Value
		}
		return authBad, ""
	}
	return authNone, ""
}

// csrfOK checks the CSRF token of a state-changing request authenticated
// by the session cookie.
func (a *authenticator) csrfOK(r *http.Request, session string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(a.csrfToken(session)))
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// page guards browser routes: an unauthenticated request is sent to the
// login form (303), a cookie-authenticated POST without the right CSRF
// token is refused (403).
func (a *authenticator) page(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		m, session := a.check(r)
		switch m {
		case authNone, authBad:
			http.Redirect(w, r, loginURL(r), http.StatusSeeOther)
			return
		case authCookie:
			if !safeMethod(r.Method) {
				r.Body = http.MaxBytesReader(w, r.Body, maxForm)
				if !a.csrfOK(r, session) {
					http.Error(w, "Invalid or missing CSRF token: reload the page and try again.", http.StatusForbidden)
					return
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, session)))
	})
}

// api guards JSON routes and /metrics: 401 with a JSON error when
// unauthenticated; cookie-authenticated POSTs need the X-CSRF-Token header.
func (a *authenticator) api(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		m, session := a.check(r)
		switch m {
		case authNone:
			w.Header().Set("WWW-Authenticate", `Bearer realm="jiralinkd admin"`)
			writeError(w, http.StatusUnauthorized, "authentication required: send Authorization: Bearer <admin token>")
			return
		case authBad:
			// Worth a warning: a scraper or script with a stale token.
			a.log.Warn("admin API request with an invalid token or session", "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="jiralinkd admin", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid admin token or session")
			return
		case authCookie:
			if !safeMethod(r.Method) && !hmac.Equal([]byte(r.Header.Get(csrfHeader)), []byte(a.csrfToken(session))) {
				writeError(w, http.StatusForbidden, "invalid or missing "+csrfHeader+" header")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, session)))
	})
}

// csrfFor returns the CSRF token forms on the page answering r must carry
// ("" for a bearer-authenticated request, which needs none).
func (s *Server) csrfFor(r *http.Request) string {
	session, _ := r.Context().Value(sessionKey{}).(string)
	if session == "" {
		return ""
	}
	return s.auth.csrfToken(session)
}

// loginURL is /login with the requested page as next, so that a login
// returns there (GET only: a POST's target is not a page).
func loginURL(r *http.Request) string {
	if r.Method != http.MethodGet || r.URL.RequestURI() == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(r.URL.RequestURI())
}

// localPath returns p if it is a path on this server, else "/": next must
// not become an open redirect (//evil.example, /\evil.example, https://…).
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	return p
}

// secureRequest reports whether the client reached us over TLS, directly or
// through a proxy that says so.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	s.pages.login(w, http.StatusOK, loginView{Next: localPath(r.URL.Query().Get("next")), Version: s.version})
}

// login checks the token from the login form and sets the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	next := localPath(r.PostFormValue("next"))
	if !s.auth.validToken(r.PostFormValue("token")) {
		s.log.Warn("admin login failed", "remote", r.RemoteAddr)
		s.pages.login(w, http.StatusUnauthorized, loginView{Next: next, Version: s.version, Failed: true})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.auth.newSession(), Path: "/",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: secureRequest(r),
	})
	s.log.Info("admin login", "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout clears the session cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(r),
	})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
