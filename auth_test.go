package probonus

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testLogin    = "api-user"
	testPassword = "pa55-w0rd-9c1e"
)

// tokenServer is a mock login/refresh endpoint pair that issues numbered tokens and counts calls.
type tokenServer struct {
	mu        sync.Mutex
	logins    int
	refreshes int
	issued    int
	expiresIn int              // seconds; 0: not sent
	refreshOK bool             // whether refresh succeeds
	loginFail func() *APIError // when set, logins fail so
	bodies    []string
	loginGate chan struct{} // when set, a login waits for it
}

func (s *tokenServer) register(t *testing.T, mt *httpmock.MockTransport) {
	issue := func(req *http.Request) (*http.Response, error) {
		s.issued++
		body := map[string]any{"accessToken": fmt.Sprintf("access-%d", s.issued), "refreshToken": fmt.Sprintf("refresh-%d", s.issued)}
		if s.expiresIn > 0 {
			body["expiresIn"] = s.expiresIn
		}
		return httpmock.NewJsonResponse(200, body)
	}
	mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/login"), func(req *http.Request) (*http.Response, error) {
		if s.loginGate != nil {
			<-s.loginGate
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		b, _ := io.ReadAll(req.Body)
		s.bodies = append(s.bodies, string(b))
		assert.Empty(t, req.Header.Get("Authorization"), "login carries no token")
		assert.Empty(t, req.Header.Get("X-API-Key"))
		s.logins++
		if s.loginFail != nil {
			return httpmock.NewJsonResponse(400, map[string]any{"detail": s.loginFail().Detail})
		}
		return issue(req)
	})
	mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/refresh_token"), func(req *http.Request) (*http.Response, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		b, _ := io.ReadAll(req.Body)
		s.bodies = append(s.bodies, string(b))
		s.refreshes++
		if !s.refreshOK {
			return httpmock.NewJsonResponse(401, map[string]any{"detail": "Could not validate credentials"})
		}
		return issue(req)
	})
}

func (s *tokenServer) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.refreshes
}

// setupLogin returns a login-authenticated client with a controllable clock.
func setupLogin(t *testing.T, ts *tokenServer, opts ...Option) (*Client, *httpmock.MockTransport, *fakeClock) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := New(append([]Option{WithBaseURL(testBase), WithLogin(testLogin, testPassword), WithRetry(fastRetry)}, opts...)...)
	require.NoError(t, err)
	c.hc.Transport = mt
	clock := &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	c.auth.(*loginAuth).now = clock.Now
	ts.register(t, mt)
	return c, mt, clock
}

// loginClient is a login-authenticated client on its own mock transport, with the real clock and
// nothing registered: for tests of the login response itself.
func loginClient(t *testing.T) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := New(WithBaseURL(testBase), WithLogin(testLogin, testPassword))
	require.NoError(t, err)
	c.hc.Transport = mt
	return c, mt
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// echoToken answers 200 and records the bearer token each request carried.
func echoToken(seen *sync.Map) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		tok := req.Header.Get("Authorization")
		n, _ := seen.LoadOrStore(tok, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		return httpmock.NewStringResponse(200, `{}`), nil
	}
}

func TestLoginIsLazyAndTokenIsSent(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{expiresIn: 3600}
	c, mt, _ := setupLogin(t, ts)
	var seen sync.Map
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), echoToken(&seen))
	logins, _ := ts.counts()
	assert.Zero(t, logins, "no login before the first request")
	for range 3 {
		require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	}
	logins, refreshes := ts.counts()
	assert.Equal(t, 1, logins)
	assert.Zero(t, refreshes)
	n, ok := seen.Load("Bearer access-1")
	require.True(t, ok)
	assert.Equal(t, int32(3), n.(*atomic.Int32).Load())
	assert.JSONEq(t, `{"login":"api-user","password":"pa55-w0rd-9c1e"}`, ts.bodies[0])
}

func TestOneRefreshForManyGoroutinesOnAnExpiredToken(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{expiresIn: 600, refreshOK: true}
	c, mt, clock := setupLogin(t, ts)
	var seen sync.Map
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), echoToken(&seen))
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))

	clock.Add(time.Hour) // the token has expired
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	logins, refreshes := ts.counts()
	assert.Equal(t, 1, logins)
	assert.Equal(t, 1, refreshes, "exactly one refresh for 50 goroutines")
	n, ok := seen.Load("Bearer access-2")
	require.True(t, ok)
	assert.Equal(t, int32(50), n.(*atomic.Int32).Load())
	assert.JSONEq(t, `{"refreshToken":"refresh-1"}`, ts.bodies[1])
}

func TestRefreshBeforeExpiryInTheBackground(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{expiresIn: 100, refreshOK: true}
	c, mt, clock := setupLogin(t, ts)
	var seen sync.Map
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), echoToken(&seen))
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	clock.Add(85 * time.Second) // within the early window (the last fifth: 20s)
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	_, ok := seen.Load("Bearer access-1")
	assert.True(t, ok, "the still-valid token is used while the refresh runs")
	require.Eventually(t, func() bool { _, r := ts.counts(); return r == 1 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
		_, ok := seen.Load("Bearer access-2")
		return ok
	}, 5*time.Second, time.Millisecond)
}

func TestRejectedTokenIsRefreshedAndTheRequestReplayedOnce(t *testing.T) {
	t.Parallel()
	for _, rejection := range []string{"401_could_not_validate", "401_not_authenticated_bearer", "403_could_not_validate", "403_not_authenticated", "422_expired_signature"} {
		t.Run(rejection, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{refreshOK: true} // no expiry known: valid until rejected
			c, mt, _ := setupLogin(t, ts)
			reject := serveFixture(t, "errors/"+rejection+".http")
			var bodies []string
			mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/accounts/refill"), func(req *http.Request) (*http.Response, error) {
				b, _ := io.ReadAll(req.Body)
				bodies = append(bodies, string(b))
				if req.Header.Get("Authorization") == "Bearer access-1" {
					return reject(req)
				}
				return serveFixture(t, "accounts/refill.http")(req)
			})
			res, err := c.Accounts.Refill(context.Background(), Refill{AccountID: 1042, Amount: MustAmount("100.5")})
			require.NoError(t, err)
			assert.Equal(t, int64(88017), res.TransactionID)
			require.Len(t, bodies, 2, "one rejected request, one replay")
			assert.Equal(t, bodies[0], bodies[1], "the replay carries the same body")
			logins, refreshes := ts.counts()
			assert.Equal(t, 1, logins)
			assert.Equal(t, 1, refreshes)
		})
	}
}

func TestForbiddenNotAboutCredentialsIsNotReplayed(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{refreshOK: true}
	c, mt, _ := setupLogin(t, ts)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), serveFixture(t, "errors/403_forbidden.http"))
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, 1, mt.GetCallCountInfo()["GET "+mockURL("/api/v0/x")])
	_, refreshes := ts.counts()
	assert.Zero(t, refreshes)
}

func TestReplayHappensOnlyOnce(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{refreshOK: true}
	c, mt, _ := setupLogin(t, ts)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), serveFixture(t, "errors/401_could_not_validate.http"))
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, 2, mt.GetCallCountInfo()["GET "+mockURL("/api/v0/x")])
}

func TestReloginAfterAFailedRefresh(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{expiresIn: 60, refreshOK: false}
	c, mt, clock := setupLogin(t, ts)
	var seen sync.Map
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), echoToken(&seen))
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	clock.Add(2 * time.Minute)
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	logins, refreshes := ts.counts()
	assert.Equal(t, 1, refreshes)
	assert.Equal(t, 2, logins, "a failed refresh is followed by one login")
	_, ok := seen.Load("Bearer access-2")
	assert.True(t, ok)
}

func TestFailedLoginIsATypedAuthErrorWithoutSecrets(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	ts := &tokenServer{loginFail: func() *APIError { return &APIError{Detail: "Неверный логин или пароль"} }}
	c, mt, _ := setupLogin(t, ts, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, `{}`))
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "login", ae.Op)
	assert.ErrorIs(t, err, ErrUnauthorized)
	// "bad request" and "not found" mean "already exists" and "no such guest" to a caller: a failed
	// login matches neither; its status is a field
	assert.NotErrorIs(t, err, ErrBadRequest)
	assert.NotErrorIs(t, err, ErrNotFound)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Contains(t, err.Error(), "login failed")
	assert.NotContains(t, err.Error(), testPassword)
	assert.NotContains(t, logs.String(), testPassword)
	assert.Zero(t, mt.GetCallCountInfo()["GET "+mockURL("/api/v0/x")], "nothing is sent without a token")
	logins, _ := ts.counts()
	assert.Equal(t, 1, logins, "a refused login is not retried by the request it was for")
	assert.Equal(t, "probonus: GET /pb/api/v0/x: login failed: POST /pb/api/v0/auth/login: 400 Bad Request: Неверный логин или пароль", err.Error())
}

func TestEchoedPasswordIsRedacted(t *testing.T) {
	t.Parallel()
	c, mt := loginClient(t)
	mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/login"), func(*http.Request) (*http.Response, error) {
		return httpmock.NewJsonResponse(422, map[string]any{"detail": []any{map[string]any{
			"type": "string_too_short", "loc": []any{"body", "password"}, "msg": "String should have at least 16 characters",
			"input": testPassword, "ctx": map[string]any{"min_length": 16, "got": testPassword}}}})
	})
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
	var apiErr *APIError
	require.ErrorAs(t, ae.Err, &apiErr)
	assert.NotContains(t, apiErr.Body, testPassword)
	assert.NotContains(t, fmt.Sprintf("%+v", apiErr.Validation), testPassword)
	assert.NotContains(t, fmt.Sprintf("%+v %#v", err, apiErr), testPassword)
}

// TestEchoedPasswordIsRedactedInEveryForm: a password with characters JSON escapes comes back
// escaped (by Go's encoder, or by Python's, which escapes all non-ASCII) or URL-encoded; every
// form is removed.
func TestEchoedPasswordIsRedactedInEveryForm(t *testing.T) {
	t.Parallel()
	password := "pa\"ss\\wörd\t<&>💳 end"
	pyEscaped := `pa\"ss\\w\u00f6rd\t<&>\ud83d\udcb3 end`
	goEscaped, _ := json.Marshal(password)
	mt := httpmock.NewMockTransport()
	c, err := New(WithBaseURL(testBase), WithLogin(testLogin, password), WithRetry(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	c.hc.Transport = mt
	mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/login"), func(*http.Request) (*http.Response, error) {
		body := `{"detail":"bad password \"` + pyEscaped + `\" (go: ` + string(goEscaped[1:len(goEscaped)-1]) +
			`) form: ` + url.QueryEscape(password) + ` path: ` + url.PathEscape(password) + `"}`
		return httpmock.NewStringResponse(400, body), nil
	})
	err = c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
	var apiErr *APIError
	require.ErrorAs(t, ae.Err, &apiErr)
	everything := apiErr.Body + apiErr.Detail + err.Error() + fmt.Sprintf("%+v %#v", err, apiErr)
	for _, form := range []string{password, pyEscaped, string(goEscaped[1 : len(goEscaped)-1]), url.QueryEscape(password), url.PathEscape(password), "wörd", `w\u00f6rd`} {
		assert.NotContains(t, everything, form)
	}
	assert.Contains(t, apiErr.Detail, "[redacted]")
}

func TestWaitersGiveUpWithTheirOwnContext(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{expiresIn: 3600, loginGate: make(chan struct{})}
	c, mt, _ := setupLogin(t, ts)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, `{}`))
	patient := make(chan error, 1)
	go func() { patient <- c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the impatient caller leaves")
	close(ts.loginGate)
	require.NoError(t, <-patient, "the patient caller gets the token")
	logins, _ := ts.counts()
	assert.Equal(t, 1, logins)
}

func TestTokenResponseVariants(t *testing.T) {
	t.Parallel()
	for fixtureName, want := range map[string]struct {
		access, refresh string
		lifetime        time.Duration // 0: unknown
	}{
		"auth/login.http":         {"", "fixture-refresh-token-1", time.Hour},
		"auth/login_snake.http":   {"fixture-opaque-access-token", "fixture-refresh-token-2", 15 * time.Minute},
		"auth/login_minimal.http": {"fixture-opaque-access-token-minimal", "", 0},
	} {
		t.Run(fixtureName, func(t *testing.T) {
			t.Parallel()
			c, mt := loginClient(t)
			mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/login"), serveFixture(t, fixtureName))
			tok, err := c.auth.(*loginAuth).token(context.Background())
			require.NoError(t, err)
			if want.access != "" {
				assert.Equal(t, want.access, tok.access())
			}
			if want.refresh == "" {
				assert.Nil(t, tok.refresh)
			} else {
				assert.Equal(t, want.refresh, tok.refresh())
			}
			if want.lifetime == 0 {
				assert.True(t, tok.expiry.IsZero())
				assert.True(t, tok.refreshAt.IsZero())
			} else {
				assert.WithinDuration(t, time.Now().Add(want.lifetime), tok.expiry, 5*time.Second)
				assert.Equal(t, earlyRefresh(want.lifetime), tok.expiry.Sub(tok.refreshAt).Round(time.Second))
			}
		})
	}
}

// TestClockSkewDoesNotRefreshEveryRequest: with this machine's clock 90 minutes ahead of the
// server's and 1-hour tokens, one login serves every request. Before, the JWT's exp (server clock)
// was compared with the local clock: 4 renewals in 5 requests.
func TestClockSkewDoesNotRefreshEveryRequest(t *testing.T) {
	t.Parallel()
	enc := func(payload string) string {
		return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	for name, withExpiresIn := range map[string]bool{"expiresIn and a JWT": true, "a JWT alone": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := loginClient(t)
			c.auth.(*loginAuth).now = func() time.Time { return time.Now().Add(90 * time.Minute) }
			var logins atomic.Int32
			mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/login"), func(*http.Request) (*http.Response, error) {
				n := logins.Add(1)
				server := time.Now().Unix() // the server's clock
				resp := map[string]any{"accessToken": enc(fmt.Sprintf(`{"iat":%d,"exp":%d,"n":%d}`, server, server+3600, n)), "refreshToken": "r"}
				if withExpiresIn {
					resp["expiresIn"] = 3600
				}
				return httpmock.NewJsonResponse(200, resp)
			})
			mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/refresh_token"), httpmock.NewStringResponder(500, "no"))
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, `{}`))
			for range 5 {
				require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
			}
			assert.Equal(t, int32(1), logins.Load())
			assert.Zero(t, mt.GetCallCountInfo()["POST "+mockURL("/api/v0/auth/refresh_token")], "no refresh")
		})
	}
}

func TestEarlyRefreshWindow(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 200*time.Millisecond, earlyRefresh(time.Second))
	assert.Equal(t, 12*time.Second, earlyRefresh(time.Minute))
	assert.Equal(t, 30*time.Second, earlyRefresh(time.Hour))
}

func TestLoginResponseWithoutTokenIsAnError(t *testing.T) {
	t.Parallel()
	c, mt := loginClient(t)
	mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/login"), httpmock.NewStringResponder(200, `{"tokenType":"bearer"}`))
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	assert.ErrorIs(t, err, ErrUnauthorized)
	var de *DecodeError
	assert.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "no accessToken")
}

// TestSecretsNeverAppear collects every secret of a session with both auth modes and searches every
// error string and log line for them.
func TestSecretsNeverAppear(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := &tokenServer{expiresIn: 60, refreshOK: true}
	c, mt, clock := setupLogin(t, ts, WithLogger(logger))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), sequence(
		serveFixture(t, "errors/401_could_not_validate.http"), serveFixture(t, "errors/503_html.http"), serveFixture(t, "errors/403_forbidden.http")))
	var errs []string
	for range 3 {
		if err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil); err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
		clock.Add(time.Minute)
	}
	key, kmt := setup(t, WithLogger(logger))
	kmt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), serveFixture(t, "errors/401_not_authenticated_apikey.http"))
	if err := key.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil); err != nil {
		errs = append(errs, err.Error(), fmt.Sprintf("%+v", err))
	}
	require.NotEmpty(t, errs)
	secrets := []string{testPassword, testAPIKey}
	for i := 1; i <= ts.issued; i++ {
		secrets = append(secrets, fmt.Sprintf("access-%d", i), fmt.Sprintf("refresh-%d", i))
	}
	all := logs.String() + fmt.Sprint(errs) + fmt.Sprintf("%v %+v %#v", c, key, c.auth)
	for _, s := range secrets {
		assert.NotContains(t, all, s)
	}
	var line map[string]any
	require.NoError(t, json.Unmarshal(bytes.SplitN(logs.Bytes(), []byte("\n"), 2)[0], &line))
	assert.Equal(t, "probonus request", line["msg"])
}

// From the hardening of issue 10.
// TestLoginIsRetriedLikeARead: a 503 (or a reset) on login changes no state a retry could double;
// one of them used to fail the call.
func TestLoginIsRetriedLikeARead(t *testing.T) {
	t.Parallel()
	for name, first := range map[string]httpmock.Responder{
		"503":   serveFixture(t, "errors/503_html.http"),
		"reset": failAfterConnect,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			c, err := New(WithBaseURL(testBase), WithLogin(testLogin, testPassword), WithRetry(fastRetry))
			require.NoError(t, err)
			c.hc.Transport = mt
			mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/auth/login"), sequence(first,
				httpmock.NewStringResponder(200, `{"accessToken":"tok-1","expiresIn":3600}`)))
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, `{}`))
			require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
			assert.Equal(t, 2, mt.GetCallCountInfo()["POST "+mockURL("/api/v0/auth/login")])
		})
	}
}

// From the hardening of issue 10.
// TestAPIKeyIsTrimmed: a key read from a file ends in a newline, which net/http would refuse at
// the first request.
func TestAPIKeyIsTrimmed(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := New(WithBaseURL(testBase), WithAPIKey("  "+testAPIKey+"\n"))
	require.NoError(t, err)
	c.hc.Transport = mt
	var got string
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
		got = req.Header.Get("X-API-Key")
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	assert.Equal(t, testAPIKey, got)
}
