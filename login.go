package probonus

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/probonus-go/probonus/internal/tokenreply"
)

// token is one bearer token as the server issued it.
type token struct {
	access    credential
	refresh   credential // nil when the server gave none
	obtained  time.Time
	expiry    time.Time // zero: unknown, valid until rejected
	rejected  bool      // the server refused it; refresh before the next use
	refreshAt time.Time // start refreshing early, in the background, from here
}

// earlyRefresh is how long before expiry a token is refreshed: a fifth of its lifetime, at most 30s.
func earlyRefresh(lifetime time.Duration) time.Duration {
	return min(lifetime/5, 30*time.Second)
}

// usable reports whether the token can be sent at now.
func (t *token) usable(now time.Time) bool {
	return t != nil && !t.rejected && (t.expiry.IsZero() || now.Before(t.expiry))
}

// flight is one login or refresh under way; every waiter shares its result.
type flight struct {
	done chan struct{}
	tok  *token
	err  error
}

// loginAuth logs in with a login and password, keeps the bearer token, refreshes it before it
// expires and when the server rejects it, and logs in again when the refresh fails. However many
// goroutines need a new token at once, one request goes out; each waits on its own context.
type loginAuth struct {
	login    string
	password credential
	// Set by New (bind): login and refresh go through the client's request path.
	send     func(ctx context.Context, cl *call, out any) error
	timeout  time.Duration // the client's attempt timeout: a login or refresh is bounded by twice it
	basePath string        // the base URL's path, for errors
	now      func() time.Time

	mu     sync.Mutex
	tok    *token
	flight *flight
}

// bind gives the login the client's request path, which logins and refreshes go through.
func (a *loginAuth) bind(c *Client) {
	a.send, a.timeout, a.basePath = c.send, c.timeout, c.baseURL.Path
}

// secrets are the password and the tokens held now, for the redactor of an error.
func (a *loginAuth) secrets() []string {
	s := []string{a.password()}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil {
		s = append(s, a.tok.access())
		if a.tok.refresh != nil {
			s = append(s, a.tok.refresh())
		}
	}
	return s
}

// String never shows the password or tokens.
func (a *loginAuth) String() string { return "probonus.Login(" + a.login + ", password redacted)" }

// GoString never shows the password or tokens.
func (a *loginAuth) GoString() string { return a.String() }

func (a *loginAuth) Authenticate(ctx context.Context, req *http.Request) error {
	t, err := a.token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.access())
	return nil
}

// Invalidate marks the token the rejected request carried as refused, so the next Authenticate
// refreshes it. A request that carried an older token changes nothing: a new one is already there.
func (a *loginAuth) Invalidate(rejected *http.Request) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil && rejected.Header.Get("Authorization") == "Bearer "+a.tok.access() {
		a.tok.rejected = true
	}
	return true
}

// token returns a usable token, starting a login or refresh when there is none; a token in its
// early-refresh window is returned at once while the refresh runs in the background.
func (a *loginAuth) token(ctx context.Context) (*token, error) {
	now := a.now()
	a.mu.Lock()
	t, f := a.tok, a.flight
	if t.usable(now) {
		if f == nil && !t.refreshAt.IsZero() && !now.Before(t.refreshAt) {
			a.startFlight(ctx, t)
		}
		a.mu.Unlock()
		return t, nil
	}
	if f == nil {
		f = a.startFlight(ctx, t)
	}
	a.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startFlight runs one login or refresh in its own goroutine, detached from the caller's cancellation
// (other callers share its result) but bounded in time. Call with a.mu held.
func (a *loginAuth) startFlight(ctx context.Context, old *token) *flight {
	f := &flight{done: make(chan struct{})}
	a.flight = f
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*a.timeout)
	go func() {
		defer cancel()
		tok, err := a.obtain(ctx, old)
		a.mu.Lock()
		if err == nil {
			a.tok = tok
		}
		a.flight = nil
		f.tok, f.err = tok, err
		a.mu.Unlock()
		close(f.done)
	}()
	return f
}

// obtain refreshes when there is a refresh token, and logs in when there is none or the refresh failed.
func (a *loginAuth) obtain(ctx context.Context, old *token) (*token, error) {
	if old != nil && old.refresh != nil {
		tok, err := a.request(ctx, epRefreshToken, map[string]string{"refreshToken": old.refresh()}, old.refresh())
		if err == nil {
			if tok.refresh == nil {
				tok.refresh = old.refresh
			}
			return tok, nil
		}
		if ctx.Err() != nil {
			return nil, newAuthError("refresh", err)
		}
	}
	tok, err := a.request(ctx, epLogin, map[string]string{"login": a.login, "password": a.password()}, a.password())
	if err != nil {
		return nil, newAuthError("login", err)
	}
	return tok, nil
}

func newAuthError(op string, err error) *AuthError {
	e := &AuthError{Op: op, Err: err}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		e.StatusCode = apiErr.StatusCode
	}
	return e
}

// tokenResponse is a login's or refresh's answer as the SDK and the CLI read it (tokenreply), under
// the name the SDK's model of the API gives it.
type tokenResponse tokenreply.Reply

func (a *loginAuth) request(ctx context.Context, ep endpoint, body any, secret string) (*token, error) {
	var resp tokenResponse
	var sent time.Time // when the attempt that succeeded went out
	err := a.send(ctx, &call{endpoint: ep, in: body, noAuth: true, secret: secret, onSend: func() { sent = a.now() }}, &resp)
	if err != nil {
		return nil, err // send removed the secret from it, before observers and the log saw it
	}
	reply := tokenreply.Reply(resp)
	access := reply.Access()
	if access == "" {
		return nil, &DecodeError{StatusCode: http.StatusOK, Method: ep.method, Path: a.basePath + ep.path,
			Err: errors.New("no accessToken in the response")}
	}
	t := &token{access: newCredential(access), obtained: sent}
	if r := reply.Refresh(); r != "" {
		t.refresh = newCredential(r)
	}
	// The lifetime is measured on this machine's clock (tokenreply). It runs from when the
	// successful attempt was sent, not when its answer arrived: the server issued the
	// token in between, so the token never outlives the server's idea of it, however slow the
	// answer (a token used past it is refused, and costs a refresh and a replay).
	if lifetime, ok := reply.Lifetime(); ok {
		t.expiry = sent.Add(lifetime)
		t.refreshAt = t.expiry.Add(-earlyRefresh(lifetime))
	}
	return t, nil
}
