package probonus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probonus-go/probonus/internal/fixture"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testBase is mounted under a non-empty path, so a hard-coded absolute path fails the tests.
const (
	testBase   = "http://probonus.test:11030/pb"
	testAPIKey = "test-api-key-5f0c2b9e"
)

// fastRetry keeps retry tests quick.
var fastRetry = RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}

// setup returns a client whose own *http.Client goes through a fresh httpmock transport. Each test
// has its own transport, so tests run in parallel.
func setup(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	all := append([]Option{WithBaseURL(testBase), WithAPIKey(testAPIKey), WithRetry(fastRetry)}, opts...)
	c, err := New(all...)
	require.NoError(t, err)
	c.hc.Transport = mt
	return c, mt
}

// serveFixture answers with a fixture from testdata.
func serveFixture(t *testing.T, name string) httpmock.Responder {
	t.Helper()
	f, err := fixture.Load("testdata/" + name)
	require.NoError(t, err)
	return func(req *http.Request) (*http.Response, error) { return f.HTTP(req), nil }
}

// sequence answers with each responder in turn, the last one for ever after.
func sequence(rs ...httpmock.Responder) httpmock.Responder {
	var mu sync.Mutex
	i := 0
	return func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		r := rs[min(i, len(rs)-1)]
		i++
		mu.Unlock()
		return r(req)
	}
}

// failAfterConnect is a transport error after the connection was established: the server may have
// received the request.
func failAfterConnect(*http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

// failBeforeConnect is a dial failure: nothing reached the server.
func failBeforeConnect(*http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

func mockURL(path string) string { return testBase + path }

// TestBaseURLErrorsShowNoSecret (issue 17 #9): a refused base URL is shown without its query and
// user info, whatever else is wrong with it.
func TestBaseURLErrorsShowNoSecret(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://bonus.example/?apikey=SeCrEt-123456", "http://user:SeCrEt-123456@bonus.example",
		"bonus.example:11030?apikey=SeCrEt-123456", "bonus.example/api/v0?apikey=SeCrEt-123456",
		"http://bonus.example/api/v0?apikey=SeCrEt-123456", "ftp://user:SeCrEt-123456@bonus.example/?k=SeCrEt-123456",
		"http://[::1?apikey=SeCrEt-123456", "http://bonus.example/#SeCrEt-123456",
	} {
		_, err := New(WithBaseURL(raw), WithAPIKey("k-123456"))
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "SeCrEt", raw)
	}
}

// TestDoRefusesABadMethod (issue 17 #11): a method that is no HTTP token is bad input, sent nowhere.
func TestDoRefusesABadMethod(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	err := c.Do(context.Background(), "PO ST", "/api/v0/x", nil, nil, nil)
	var input *InputError
	require.ErrorAs(t, err, &input)
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Equal(t, "method", input.Field)
	assert.Equal(t, "Do", input.Op)
	assert.Zero(t, mt.GetTotalCallCount())
}

// TestOptionsAreReusable: one Option value given to many New calls at once (a client per request
// handler, parallel tests) is safe: an option never changes what it captured.
func TestOptionsAreReusable(t *testing.T) {
	t.Parallel()
	opts := []Option{WithBaseURL(testBase + "/"), WithAPIKey(" key-with-space-123\n"), WithTimeout(time.Second)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := New(opts...)
			if assert.NoError(t, err) {
				assert.Equal(t, "key-with-space-123", c.auth.(apiKeyAuth).key())
			}
		}()
	}
	wg.Wait()
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"no base URL", nil, "WithBaseURL is required"},
		{"no credentials", []Option{WithBaseURL(testBase)}, "no credentials: pass WithAPIKey, WithLogin or WithAuth (or WithoutAuth"},
		{"credentials and WithoutAuth", []Option{WithBaseURL(testBase), WithAPIKey("k"), WithoutAuth()}, "more than one"},
		{"WithoutAuth and credentials", []Option{WithBaseURL(testBase), WithoutAuth(), WithLogin("u", "p")}, "more than one"},
		{"base URL ending in /api/v0", []Option{WithBaseURL("http://127.0.0.1:11030/api/v0/")}, `ends in /api/v0; give the server's root`},
		{"base URL ending in /api", []Option{WithBaseURL("https://bonus.example/proxy/API")}, `ends in /API; give the server's root`},
		{"empty base URL", []Option{WithBaseURL("")}, "not an http(s) URL"},
		{"unparsable base URL", []Option{WithBaseURL("http://[::1")}, "not an http(s) URL"},
		{"base URL without scheme", []Option{WithBaseURL("127.0.0.1:11030")}, `"127.0.0.1:11030" has no scheme: write http://127.0.0.1:11030 (or https://)`},
		{"base URL with query", []Option{WithBaseURL("http://h/?a=b")}, `"http://h/": a query is not allowed`},
		{"base URL with user info", []Option{WithBaseURL("http://u:p@h/")}, `"http://h/": user info is not allowed`},
		{"base URL with both", []Option{WithBaseURL("http://u:p@h/?a=b")}, `"http://h/": user info and a query are not allowed`},
		{"empty key", []Option{WithBaseURL(testBase), WithAPIKey(" ")}, "empty key"},
		{"empty login", []Option{WithBaseURL(testBase), WithLogin("", "pw")}, "empty login"},
		{"empty password", []Option{WithBaseURL(testBase), WithLogin("u", "")}, "empty login or password"},
		{"nil authenticator", []Option{WithBaseURL(testBase), WithAuth(nil)}, "nil Authenticator"},
		{"two auth options", []Option{WithBaseURL(testBase), WithAPIKey("k"), WithLogin("u", "p")}, "more than one"},
		{"nil http client", []Option{WithBaseURL(testBase), WithHTTPClient(nil)}, "nil client"},
		{"nil logger", []Option{WithBaseURL(testBase), WithLogger(nil)}, "nil logger"},
		{"zero timeout", []Option{WithBaseURL(testBase), WithTimeout(0)}, "not positive"},
		{"negative timeout", []Option{WithBaseURL(testBase), WithTimeout(-time.Second)}, "not positive"},
		{"negative retry", []Option{WithBaseURL(testBase), WithRetry(RetryPolicy{MaxAttempts: -1})}, "negative"},
		{"zero rate", []Option{WithBaseURL(testBase), WithRateLimit(0, 1)}, "must be positive"},
		{"nil limiter", []Option{WithBaseURL(testBase), WithLimiter(nil)}, "nil limiter"},
		{"nil location", []Option{WithBaseURL(testBase), WithLocation(nil)}, "nil location"},
		{"unknown region", []Option{WithBaseURL(testBase), WithPhoneRegion("XX")}, "unknown region"},
		{"zero body cap", []Option{WithBaseURL(testBase), WithMaxResponseSize(0)}, "must be positive"},
		{"key with a control character", []Option{WithBaseURL(testBase), WithAPIKey("ab\x00cd")}, "control character"},
		{"key with a newline inside", []Option{WithBaseURL(testBase), WithAPIKey("ab\ncd")}, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestNewDefaultsAndCopies(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Timeout: 7 * time.Second}
	c, err := New(WithBaseURL("https://probonus.example:6896/"), WithoutAuth(), WithHTTPClient(hc), WithUserAgent("shop/1.2"), WithPhoneRegion("kz"))
	require.NoError(t, err)
	assert.Nil(t, hc.CheckRedirect, "the caller's client is never changed")
	assert.NotSame(t, hc, c.hc)
	assert.Equal(t, 7*time.Second, c.hc.Timeout)
	assert.Equal(t, DefaultTimeout, c.timeout)
	assert.Equal(t, DefaultMaxAttempts, c.retry.MaxAttempts)
	assert.Equal(t, "probonus-go/"+Version+" shop/1.2", c.userAgent)
	assert.Equal(t, "KZ", c.phoneRegion)
	assert.Equal(t, "", c.baseURL.Path, "a trailing slash is dropped")
	assert.NotNil(t, c.Accounts)
	assert.NotNil(t, c.AccountGroups)
	assert.NotNil(t, c.Checks)

	off, err := New(WithBaseURL(testBase), WithoutAuth(), WithRetry(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	assert.Equal(t, 1, off.retry.MaxAttempts)
	assert.Equal(t, defaultRetryPolicy.MaxBackoff, off.retry.MaxBackoff, "zero fields take defaults")
}

func TestRequestHeadersAndPath(t *testing.T) {
	t.Parallel()
	c, mt := setup(t, WithUserAgent("shop/1.2"))
	var got *http.Request
	var body []byte
	mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/custom/thing"), func(req *http.Request) (*http.Response, error) {
		got = req
		body, _ = io.ReadAll(req.Body)
		return httpmock.NewStringResponse(200, `{"ok":true,"sum":"10.10"}`), nil
	})
	var out map[string]any
	err := c.Do(context.Background(), "post", "/api/v0/custom/thing", url.Values{"a": {"1"}}, map[string]int{"x": 1}, &out)
	require.NoError(t, err)
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	assert.Equal(t, "probonus-go/"+Version+" shop/1.2", got.Header.Get("User-Agent"))
	assert.Equal(t, testAPIKey, got.Header.Get("X-API-Key"))
	assert.Equal(t, "1", got.URL.Query().Get("a"))
	assert.JSONEq(t, `{"x":1}`, string(body))
	assert.Equal(t, true, out["ok"])
	assert.Equal(t, "10.10", out["sum"])
}

func TestGetSendsNoContentType(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
		assert.Empty(t, req.Header.Get("Content-Type"))
		return httpmock.NewStringResponse(204, ""), nil
	})
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil), "an empty body into a nil out is fine")
}

func TestDoRefusesPathsLeavingTheBaseURL(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	for _, p := range []string{
		"http://evil.example/api", "//evil.example/api", "api/v0/x", "", "/api/../admin", "/api/%2e%2e/admin",
		"/api/%2E%2E/admin", "/api/v0/x?phone=1", "/api/v0/x#f", `/api\..\x`, "/api/%2fevil", "/api/%3Fq", "/api/%23f", "/api/%5c..", "/./x", "/api/%zz",
	} {
		err := c.Do(context.Background(), http.MethodGet, p, nil, nil, nil)
		var ie *InputError
		require.ErrorAs(t, err, &ie, p)
		assert.Equal(t, "path", ie.Field)
		assert.ErrorIs(t, err, ErrInvalidInput)
	}
	assert.Zero(t, mt.GetTotalCallCount(), "nothing was sent")

	var got string
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		got = req.URL.EscapedPath()
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/a%20b", nil, nil, nil))
	assert.Equal(t, "/pb/api/v0/a%20b", got, "an escaped path is sent escaped once")
}

func TestAPIKeyStaysOnTheBaseHost(t *testing.T) {
	t.Parallel()
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("X-API-Key") + "|" + r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, `{}`)
	}))
	defer other.Close()
	var sawKey atomic.Value
	base := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawKey.Store(r.Header.Get("X-API-Key"))
		code := http.StatusFound
		if r.URL.Query().Get("code") == "307" {
			code = http.StatusTemporaryRedirect
		}
		http.Redirect(w, r, other.URL+"/landing", code)
	}))
	defer base.Close()
	for _, code := range []string{"302", "307"} {
		c, err := New(WithBaseURL(base.URL), WithAPIKey(testAPIKey))
		require.NoError(t, err)
		err = c.Do(context.Background(), http.MethodGet, "/api/v0/x", url.Values{"code": {code}}, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, testAPIKey, sawKey.Load(), "the base host gets the key")
		assert.Equal(t, "|", leaked.Load(), "the other host gets no credential after a %s", code)
		c.hc.CloseIdleConnections()
	}
}

func TestCustomAuthenticatorOnlyForBaseOrigin(t *testing.T) {
	t.Parallel()
	calls := 0
	auth := authFunc(func(_ context.Context, req *http.Request) error {
		calls++
		req.Header.Set("Authorization", "Vault abc")
		return nil
	})
	mt := httpmock.NewMockTransport()
	c, err := New(WithBaseURL(testBase), WithAuth(auth), WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
		assert.Equal(t, "Vault abc", req.Header.Get("Authorization"))
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	assert.Equal(t, 1, calls)
	assert.False(t, c.sameOrigin(&url.URL{Scheme: "https", Host: "probonus.test:11030"}), "another scheme")
	assert.False(t, c.sameOrigin(&url.URL{Scheme: "http", Host: "probonus.test"}), "another port")
	assert.True(t, c.sameOrigin(&url.URL{Scheme: "HTTP", Host: "PROBONUS.test:11030"}))
}

type authFunc func(context.Context, *http.Request) error

func (f authFunc) Authenticate(ctx context.Context, req *http.Request) error { return f(ctx, req) }

func TestShouldRetry(t *testing.T) {
	t.Parallel()
	connErr := errors.New("connection reset")
	api := errors.New("api")
	type row struct {
		idempotent, written, ctxDone bool
		status                       int
		err                          error
		want                         decision
	}
	var rows []row
	for _, idem := range []bool{true, false} {
		for _, st := range []int{400, 401, 403, 404, 405, 409, 422} {
			rows = append(rows, row{idem, true, false, st, api, decision{}})
		}
		unknown := decision{unknown: true, reason: "not resent: the server may have applied it"}
		for _, st := range []int{500, 501, 502, 503, 504} {
			want := unknown
			if idem {
				want = decision{}
				if st >= 502 {
					want = decision{retry: true, reason: fmt.Sprintf("server unavailable (%d)", st)}
				}
			}
			rows = append(rows, row{idem, true, false, st, api, want})
		}
		rows = append(rows,
			row{idem, true, false, 200, nil, decision{}},
			row{idem, true, false, 429, api, decision{retry: true, reason: "rate limited (429)"}},
			row{idem, true, true, 429, api, decision{reason: "context done"}},
			row{idem, false, false, 0, nil, decision{}},
		)
		if idem {
			rows = append(rows,
				row{idem, true, false, 0, connErr, decision{retry: true, reason: "connection error"}},
				row{idem, false, false, 0, connErr, decision{retry: true, reason: "connection error"}},
				row{idem, true, true, 0, context.Canceled, decision{reason: "context done"}},
				row{idem, true, true, 503, api, decision{reason: "context done"}},
			)
		} else {
			rows = append(rows,
				row{idem, true, false, 0, connErr, unknown},
				row{idem, false, false, 0, connErr, decision{retry: true, reason: "not sent: nothing reached the server"}},
				// the caller's context ended after the request was written: still uncertain
				row{idem, true, true, 0, context.Canceled, unknown},
				row{idem, true, true, 503, api, unknown},
				row{idem, false, true, 0, context.Canceled, decision{reason: "context done"}},
			)
		}
	}
	for _, r := range rows {
		got := shouldRetry(r.idempotent, r.status, r.err, r.written, r.ctxDone)
		assert.Equal(t, r.want, got, "idempotent=%v %d err=%v written=%v ctxDone=%v", r.idempotent, r.status, r.err, r.written, r.ctxDone)
	}
}

// TestRetriesOverEveryErrorShape sends each method against each error fixture and counts attempts.
func TestRetriesOverEveryErrorShape(t *testing.T) {
	t.Parallel()
	retried := map[string]map[string]bool{
		// 429_detail asks for 2s, more than fastRetry's MaxRetryAfter: returned at once, for the caller to decide
		http.MethodGet:  {"429_error": true, "502_html": true, "503_html": true, "504_json": true},
		http.MethodPost: {"429_error": true},
	}
	for _, name := range errorFixtures {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method+"_"+name, func(t *testing.T) {
				t.Parallel()
				c, mt := setup(t)
				mt.RegisterResponder(method, mockURL("/api/v0/x"), serveFixture(t, "errors/"+name+".http"))
				err := c.Do(context.Background(), method, "/api/v0/x", nil, map[string]int{"a": 1}, nil)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				want := 1
				if retried[method][name] {
					want = fastRetry.MaxAttempts
				}
				assert.Equal(t, want, mt.GetTotalCallCount())
			})
		}
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/account_groups/list"), sequence(
		serveFixture(t, "errors/503_html.http"), failAfterConnect, serveFixture(t, "account_groups/list.http")))
	groups, err := c.AccountGroups.List(context.Background())
	require.NoError(t, err)
	assert.Len(t, groups, 3)
	assert.Equal(t, 3, mt.GetTotalCallCount())
}

func TestPostIsNeverResentWhenTheServerMayHaveActed(t *testing.T) {
	t.Parallel()
	refill := Refill{AccountID: 1042, Amount: MustAmount("100.50")}
	for name, resp := range map[string]httpmock.Responder{
		"reset after connect": failAfterConnect,
		"502":                 serveFixture(t, "errors/502_html.http"),
		"503":                 serveFixture(t, "errors/503_html.http"),
		"504":                 serveFixture(t, "errors/504_json.http"),
		"500":                 serveFixture(t, "errors/500_plain.http"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/accounts/refill"), resp)
			_, err := c.Accounts.Refill(context.Background(), refill)
			require.Error(t, err)
			assert.Equal(t, 1, mt.GetTotalCallCount())
		})
	}
	for name, resp := range map[string]httpmock.Responder{
		"refused before connect": failBeforeConnect,
		"429":                    serveFixture(t, "errors/429_error.http"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/accounts/refill"), sequence(resp, serveFixture(t, "accounts/refill.http")))
			res, err := c.Accounts.Refill(context.Background(), refill)
			require.NoError(t, err)
			assert.Equal(t, int64(88017), res.TransactionID)
			assert.Equal(t, 2, mt.GetTotalCallCount())
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	assert.Equal(t, 2*time.Second, parseRetryAfter("2", now))
	assert.Equal(t, 1500*time.Millisecond, parseRetryAfter(" 1.5 ", now))
	assert.Equal(t, 3*time.Second, parseRetryAfter("Fri, 27 Nov 2026 23:00:03 GMT", now))
	assert.Zero(t, parseRetryAfter("Fri, 27 Nov 2026 22:59:00 GMT", now), "a date in the past")
	assert.Zero(t, parseRetryAfter("", now))
	assert.Zero(t, parseRetryAfter("-1", now))
	assert.Zero(t, parseRetryAfter("soon", now))

	c := &Client{settings: settings{retry: RetryPolicy{MinBackoff: time.Second, MaxBackoff: 8 * time.Second, MaxRetryAfter: 10 * time.Second}}}
	assert.Equal(t, 4*time.Second, c.backoff(1, &APIError{RetryAfter: 4 * time.Second}), "Retry-After is honoured")
	assert.Equal(t, time.Hour, c.backoff(1, &APIError{RetryAfter: time.Hour}), "send decides what a long one means")
	for attempt, max := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 10: 8 * time.Second, 70: 8 * time.Second} {
		for range 20 {
			d := c.backoff(attempt, nil)
			assert.GreaterOrEqual(t, d, max/2, "attempt %d", attempt)
			assert.LessOrEqual(t, d, max, "attempt %d", attempt)
		}
	}
}

// TestRetryAfterIsWaited checks the wait between attempts follows the header, in both forms.
func TestRetryAfterIsWaited(t *testing.T) {
	t.Parallel()
	for name, header := range map[string]func() string{
		"seconds": func() string { return "1" },
		"date":    func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t, WithRetry(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxRetryAfter: 3 * time.Second}))
			var times []time.Time
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
				times = append(times, time.Now())
				r := httpmock.NewStringResponse(429, `{"detail":"Too Many Requests"}`)
				r.Header.Set("Retry-After", header())
				return r, nil
			})
			err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
			require.ErrorIs(t, err, ErrRateLimited)
			require.Len(t, times, 2)
			// the server's wait (about a second), far above the 1ms backoff it replaces
			assert.GreaterOrEqual(t, times[1].Sub(times[0]), 900*time.Millisecond)
		})
	}
}

// TestRetryAfterAboveTheCapIsReturned: a server that asks for a longer wait than MaxRetryAfter is
// not retried early; the caller gets the error with RetryAfter set, however the wait is written.
func TestRetryAfterAboveTheCapIsReturned(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		header  string
		atLeast time.Duration
	}{
		"an hour in seconds":   {"3600", time.Hour},
		"beyond 1e6 seconds":   {"10000000", 1e6 * time.Second},
		"absurdly far seconds": {"1e300", 1e6 * time.Second},
		"a far HTTP date":      {time.Now().Add(48 * time.Hour).UTC().Format(http.TimeFormat), 47 * time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
				r := httpmock.NewStringResponse(429, `{"detail":"Too Many Requests"}`)
				r.Header.Set("Retry-After", tt.header)
				return r, nil
			})
			err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.GreaterOrEqual(t, apiErr.RetryAfter, tt.atLeast)
			assert.Equal(t, 1, mt.GetTotalCallCount(), "not retried before the server's time")
		})
	}
}

func TestContextCancelledMidBackoff(t *testing.T) {
	t.Parallel()
	c, mt := setup(t, WithRetry(RetryPolicy{MaxAttempts: 5, MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	ctx, cancel := context.WithCancel(context.Background())
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
		time.AfterFunc(20*time.Millisecond, cancel)
		return httpmock.NewStringResponse(503, "<html><title>503</title></html>"), nil
	})
	done := make(chan error, 1)
	go func() { done <- c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil) }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "waiting to retry")
		assert.Equal(t, 1, mt.GetTotalCallCount())
	case <-time.After(10 * time.Second):
		t.Fatal("Do did not return after the context was cancelled")
	}
}

func TestDeadlineBeforeBackoffReturnsTheLastError(t *testing.T) {
	t.Parallel()
	c, mt := setup(t, WithRetry(RetryPolicy{MaxAttempts: 5, MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), serveFixture(t, "errors/503_html.http"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil)
	assert.ErrorIs(t, err, ErrServer)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestPerAttemptTimeoutKeepsDeadlineExceeded(t *testing.T) {
	t.Parallel()
	c, mt := setup(t, WithTimeout(20*time.Millisecond), WithRetry(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	})
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 2, mt.GetTotalCallCount(), "a GET that timed out is retried")
}

func TestBodyCap(t *testing.T) {
	t.Parallel()
	c, mt := setup(t, WithMaxResponseSize(1024))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/big"), func(req *http.Request) (*http.Response, error) {
		return httpmock.NewBytesResponse(200, []byte(`["`+strings.Repeat("x", 4096)+`"]`)), nil
	})
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/fits"), func(req *http.Request) (*http.Response, error) {
		return httpmock.NewBytesResponse(200, []byte(`["`+strings.Repeat("x", 1020)+`"]`)), nil
	})
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/endless"), func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(endless{}), Header: http.Header{}, ContentLength: -1}, nil
	})
	var out []string
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/big", nil, nil, &out)
	assert.ErrorIs(t, err, ErrResponseTooLarge)
	assert.Equal(t, 1, mt.GetCallCountInfo()["GET "+mockURL("/api/v0/big")], "a body too large is not retried")
	assert.ErrorIs(t, c.Do(context.Background(), http.MethodGet, "/api/v0/endless", nil, nil, &out), ErrResponseTooLarge)
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/fits", nil, nil, &out), "exactly the cap fits")
	assert.Len(t, out[0], 1020)
}

// endless is a body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/account_groups/list"), func(req *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(200, `<html>maintenance</html>`), nil
	})
	_, err := c.AccountGroups.List(context.Background())
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 200, de.StatusCode)
	assert.Equal(t, "<html>maintenance</html>", de.Sample)
	assert.Contains(t, err.Error(), "GET /pb/api/v0/account_groups/list: decoding 200 response", "the full path, prefix included")
	assert.Equal(t, 1, mt.GetTotalCallCount(), "a bad body is not retried")
}

func TestLimiterIsWaitedOnBeforeEveryAttempt(t *testing.T) {
	t.Parallel()
	lim := &countingLimiter{}
	c, mt := setup(t, WithLimiter(lim))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), sequence(serveFixture(t, "errors/502_html.http"), serveFixture(t, "errors/504_json.http"),
		func(*http.Request) (*http.Response, error) { return httpmock.NewStringResponse(200, `{}`), nil }))
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	assert.Equal(t, int32(3), lim.n.Load())

	lim.err = context.Canceled
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "rate limiter")
}

type countingLimiter struct {
	n   atomic.Int32
	err error
}

func (l *countingLimiter) Wait(context.Context) error { l.n.Add(1); return l.err }

func TestRateLimitPaces(t *testing.T) {
	t.Parallel()
	c, mt := setup(t, WithRateLimit(50, 1))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, `{}`))
	start := time.Now()
	for range 4 {
		require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	}
	// 4 requests at 50/s with a burst of 1 need at least 3 intervals of 20ms: a bound the limiter
	// guarantees, not a timing of the SDK.
	assert.GreaterOrEqual(t, time.Since(start), 55*time.Millisecond)
}

func TestLoggerLinePerAttempt(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mt := setup(t, WithLogger(logger))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/accounts/find_by_phone"), sequence(
		serveFixture(t, "errors/503_html.http"), serveFixture(t, "accounts/find_by_phone.http")))
	_, err := c.Accounts.FindByPhone(context.Background(), "+7 (999) 123-45-67")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "level=WARN", "a retry is a warning")
	assert.Contains(t, lines[0], "op=Accounts.FindByPhone method=GET path=/api/v0/accounts/find_by_phone status=503")
	assert.Contains(t, lines[0], `attempt=1 error="probonus: GET /pb/api/v0/accounts/find_by_phone: 503 Service Unavailable`)
	assert.Contains(t, lines[0], `retry="server unavailable (503)"`)
	assert.Contains(t, lines[1], "level=DEBUG")
	assert.Contains(t, lines[1], "status=200")
	assert.Contains(t, lines[1], "attempt=2")
	assert.NotContains(t, lines[1], "retry=", "no empty retry attribute")
	assert.NotContains(t, lines[1], "error=")
	assert.NotContains(t, buf.String(), "79991234567", "no query (it holds the phone) in the log")
	assert.NotContains(t, buf.String(), testAPIKey)
}

func TestClientStringHidesCredentials(t *testing.T) {
	t.Parallel()
	key, err := New(WithBaseURL(testBase), WithAPIKey(testAPIKey))
	require.NoError(t, err)
	login, err := New(WithBaseURL(testBase), WithLogin("api-user", "s3cret-pass"))
	require.NoError(t, err)
	for _, c := range []*Client{key, login} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, c)
			assert.NotContains(t, out, testAPIKey)
			assert.NotContains(t, out, "s3cret-pass")
			assert.Contains(t, out, "probonus.Client{baseURL: "+testBase)
		}
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			out := fmt.Sprintf(verb, c.auth)
			assert.NotContains(t, out, testAPIKey)
			assert.NotContains(t, out, "s3cret-pass")
		}
	}
	assert.Contains(t, login.String(), "login api-user")
	assert.Contains(t, key.String(), "auth: api key")
}

// TestDecide is the whole retry decision as a table: the rule for the outcome (shouldRetry, tested
// above), then its limits and the replay, each on its own.
func TestDecide(t *testing.T) {
	t.Parallel()
	fail := errors.New("x")
	base := retryInput{idempotent: true, status: 503, err: fail, attempt: 1, maxAttempts: 3, backoff: time.Second, maxRetryAfter: 30 * time.Second}
	with := func(f func(*retryInput)) retryInput { in := base; f(&in); return in }
	tests := []struct {
		name string
		in   retryInput
		want decision
	}{
		{"a retryable read", base, decision{retry: true, wait: time.Second, reason: "server unavailable (503)"}},
		{"success", with(func(in *retryInput) { in.status, in.err = 200, nil }), decision{}},
		{"no attempts left", with(func(in *retryInput) { in.attempt = 3 }), decision{reason: "server unavailable (503): no attempts left"}},
		{"Retry-After beyond the policy", with(func(in *retryInput) { in.retryAfter = time.Minute }),
			decision{reason: "the server asks to wait 1m0s, more than MaxRetryAfter"}},
		{"the deadline ends first", with(func(in *retryInput) { in.hasDeadline, in.untilDeadline = true, 500*time.Millisecond }),
			decision{reason: "server unavailable (503): the deadline ends before the next attempt"}},
		{"the deadline leaves room", with(func(in *retryInput) { in.hasDeadline, in.untilDeadline = true, 2*time.Second }),
			decision{retry: true, wait: time.Second, reason: "server unavailable (503)"}},
		{"failed before sending", with(func(in *retryInput) { in.final = true }), decision{}},
		{"credentials renewed", with(func(in *retryInput) { in.replayable, in.status = true, 401 }),
			decision{replay: true, reason: "credentials rejected: replaying once with new ones"}},
		{"replay even on the last attempt", with(func(in *retryInput) { in.replayable, in.status, in.attempt = true, 401, 3 }),
			decision{replay: true, reason: "credentials rejected: replaying once with new ones"}},
		{"a write written, then 503", with(func(in *retryInput) { in.idempotent, in.written = false, true }),
			decision{unknown: true, reason: "not resent: the server may have applied it"}},
		{"a write refused with 429", with(func(in *retryInput) { in.idempotent, in.written, in.status = false, true, 429 }),
			decision{retry: true, wait: time.Second, reason: "rate limited (429)"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, decide(tt.in), tt.name)
	}
}
