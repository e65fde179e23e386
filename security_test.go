package probonus_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// vaultAuth is a user's own Authenticator with its own header.
type vaultAuth struct{}

func (vaultAuth) Authenticate(_ context.Context, req *http.Request) error {
	req.Header.Set("X-Vault-Token", "vault-secret-7781")
	return nil
}

// TestRedirectsNeverCarryCredentials redirects every kind of request to another host: a GET (302)
// arrives there with none of the credential headers, the SDK's or an Authenticator's own; a POST
// (307, which would re-send the body) and a login (whose body is the password) are refused and
// the other host receives nothing at all.
func TestRedirectsNeverCarryCredentials(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string // everything the other host received: method, path, headers, body
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s %v %s", r.Method, r.URL.Path, r.Header, body))
		mu.Unlock()
		_, _ = io.WriteString(w, `{}`)
	}))
	defer other.Close()
	srv := probonustest.NewServer(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusFound
		if r.Method == http.MethodPost {
			code = http.StatusTemporaryRedirect // Go re-sends the body on 307
		}
		http.Redirect(w, r, other.URL+r.URL.Path, code)
	}))
	defer redirector.Close()
	login, password := srv.Login()

	for mode, auth := range map[string]probonus.Option{
		"api key": probonus.WithAPIKey(srv.APIKey()),
		"login":   probonus.WithLogin(login, password),
		"vault":   probonus.WithAuth(vaultAuth{}),
	} {
		c, err := probonus.New(probonus.WithBaseURL(redirector.URL), auth, probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		err = c.Do(context.Background(), "GET", "/api/v0/account_groups/list", nil, nil, nil)
		err2 := c.Do(context.Background(), "POST", "/api/v0/accounts/refill", nil, map[string]any{"accountId": 1}, nil)
		if mode == "login" {
			// the login itself is redirected: refused, so neither call gets further
			require.ErrorIs(t, err, probonus.ErrUnauthorized, mode)
			assert.Contains(t, err.Error(), "refused a redirect")
			require.ErrorIs(t, err2, probonus.ErrUnauthorized, mode)
			continue
		}
		require.NoError(t, err, mode)
		require.Error(t, err2, mode)
		assert.Contains(t, err2.Error(), "307 Temporary Redirect: a write follows no redirect; the server sent it to http://127.0.0.1:")
		assert.NotErrorIs(t, err2, probonus.ErrOutcomeUnknown, "a redirect is a definitive answer: nothing was applied")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 2, "only the two GETs reach the other host: %q", seen)
	for _, s := range seen {
		assert.True(t, strings.HasPrefix(s, "GET /api/v0/account_groups/list"), s)
		for _, secret := range []string{srv.APIKey(), password, "vault-secret-7781", "Bearer", "X-Api-Key", "X-Vault-Token", "Authorization"} {
			assert.NotContains(t, s, secret, "a credential crossed to another host")
		}
	}
}

// TestDowngradeIsAnotherOrigin: https to http on the same host and port is another origin.
func TestDowngradeIsAnotherOrigin(t *testing.T) {
	t.Parallel()
	var got http.Header
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = io.WriteString(w, `[]`)
	}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// the same host, by scheme http: a downgrade
		http.Redirect(w, r, "http://"+strings.TrimPrefix(plain.URL, "http://")+r.URL.Path, http.StatusFound)
	}))
	defer tlsSrv.Close()
	c, err := probonus.New(probonus.WithBaseURL(tlsSrv.URL), probonus.WithAPIKey("downgrade-key-1"), probonus.WithHTTPClient(tlsSrv.Client()))
	require.NoError(t, err)
	_, err = c.AccountGroups.List(context.Background())
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Empty(t, got.Get("X-API-Key"))
}

// TestNoSecretAnywhere runs calls that succeed and fail in both auth modes, with every log level on,
// and searches every error string, log line and fmt output for the key, password and tokens.
func TestNoSecretAnywhere(t *testing.T) {
	t.Parallel()
	const key, password = "sk-live-4e1f0a9c7b", "correct-horse-battery"
	srv := probonustest.NewServer(t, probonustest.WithCredentials(key, "api-user", password), probonustest.WithTokenLifetime(300*time.Millisecond))
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.Level(-100), AddSource: true}))
	var outputs []string
	record := func(vs ...any) {
		for _, v := range vs {
			outputs = append(outputs, fmt.Sprintf("%v|%+v|%#v|%s", v, v, v, v))
		}
	}
	opts := [][]probonus.Option{
		{probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(key), probonus.WithLogger(logger)},
		{probonus.WithBaseURL(srv.URL()), probonus.WithLogin("api-user", password), probonus.WithLogger(logger)},
		{probonus.WithBaseURL(srv.URL()), probonus.WithLogin("api-user", password+"-wrong"), probonus.WithLogger(logger)},
	}
	for _, o := range opts {
		record(o)
		c, err := probonus.New(o...)
		require.NoError(t, err)
		record(c, *c)
		ctx := context.Background()
		for range 3 {
			_, err = c.AccountGroups.List(ctx)
			record(err)
			_, err = c.Accounts.FindByPhone(ctx, "79990000000")
			record(err)
			err = c.Do(ctx, "POST", "/api/v0/auth/login", nil, map[string]any{"login": 1}, nil)
			record(err)
			time.Sleep(150 * time.Millisecond) // let tokens expire and refresh
		}
	}
	secrets := []string{key, password}
	for _, r := range srv.Requests() {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			secrets = append(secrets, tok)
		}
		if r.Path == "/api/v0/auth/refresh_token" {
			secrets = append(secrets, string(r.Body))
		}
	}
	logins, refreshes := srv.AuthCounts()
	require.GreaterOrEqual(t, logins, 1)
	require.GreaterOrEqual(t, refreshes, 1, "the test saw a refresh")
	for i := 1; i <= logins+refreshes+1; i++ {
		secrets = append(secrets, fmt.Sprintf("probonustest-refresh-%d", i))
	}
	logMu.Lock()
	haystack := logs.String() + strings.Join(outputs, "\n")
	logMu.Unlock()
	require.Contains(t, haystack, "probonus request", "the debug log was on")
	for _, s := range secrets {
		assert.NotContains(t, haystack, s)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// endless is an endless body of spaces inside a JSON string.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	i := 0
	if !e.started {
		i = copy(p, `["`)
		e.started = true
	}
	for ; i < len(p); i++ {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestHugeBodiesAreCapped serves a gigabyte body with a Content-Length and an endless chunked
// stream, as success and as error: each ends in a typed error, and memory stays bounded.
func TestHugeBodiesAreCapped(t *testing.T) { // not parallel: it measures the process's allocations
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("error") != "" {
			w.WriteHeader(http.StatusBadGateway)
		}
		if r.URL.Query().Get("length") != "" {
			w.Header().Set("Content-Length", fmt.Sprint(1<<30))
		}
		_, _ = io.Copy(w, io.LimitReader(&endless{}, 1<<30))
	}))
	defer srv.Close()
	c, err := probonus.New(probonus.WithBaseURL(srv.URL), probonus.WithAPIKey("k"), probonus.WithMaxResponseSize(8<<20),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	for _, q := range []string{"length=1", "chunked=1", "error=1&length=1", "error=1&chunked=1"} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var out []string
		err := c.Do(context.Background(), "GET", "/api/v0/huge", urlValues(q), nil, &out)
		runtime.ReadMemStats(&after)
		if strings.HasPrefix(q, "error") {
			var apiErr *probonus.APIError
			require.ErrorAs(t, err, &apiErr, q)
			assert.LessOrEqual(t, len(apiErr.Body), 4<<10)
		} else {
			assert.ErrorIs(t, err, probonus.ErrResponseTooLarge, q)
		}
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d MiB allocated for a 1 GiB body", q, allocated>>20)
		assert.Less(t, allocated, uint64(128<<20), q)
	}
}

func urlValues(q string) map[string][]string {
	out := map[string][]string{}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = []string{v}
	}
	return out
}

// TestTLSIsVerified: the default transport refuses a certificate it cannot verify.
func TestTLSIsVerified(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "[]") }))
	defer srv.Close()
	c, err := probonus.New(probonus.WithBaseURL(srv.URL), probonus.WithAPIKey("k"), probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.AccountGroups.List(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")

	trusted, err := probonus.New(probonus.WithBaseURL(srv.URL), probonus.WithAPIKey("k"), probonus.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = trusted.AccountGroups.List(context.Background())
	assert.NoError(t, err, "a client that trusts the test certificate works")
}

// TestNothingDisablesTLSVerification reads every non-test source file of the module.
func TestNothingDisablesTLSVerification(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		assert.NotContains(t, string(b), "InsecureSkipVerify", path)
		return nil
	})
	require.NoError(t, err)
}

// TestRedirectOutOfTheBasePathCarriesNoCredentials: behind a gateway that serves other
// applications under other prefixes of the same origin, a redirect out of the base URL's prefix
// is treated like one to another origin.
func TestRedirectOutOfTheBasePathCarriesNoCredentials(t *testing.T) {
	t.Parallel()
	var got http.Header
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/probonus/") {
			http.Redirect(w, r, "/other-app"+strings.TrimPrefix(r.URL.Path, "/probonus"), http.StatusFound)
			return
		}
		got = r.Header.Clone()
		_, _ = io.WriteString(w, `[]`)
	}))
	defer gw.Close()
	c, err := probonus.New(probonus.WithBaseURL(gw.URL+"/probonus"), probonus.WithAPIKey("gateway-key-42"))
	require.NoError(t, err)
	_, err = c.AccountGroups.List(context.Background())
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Empty(t, got.Get("X-API-Key"))
}

// echoKey is a 40-character API key a broken server echoes back.
const echoKey = "echo-key-0123456789abcdefghijklmnopqrstu"

// assertNoFragment fails when s holds the secret or any 8-byte piece of it.
func assertNoFragment(t *testing.T, s, secret, what string) {
	t.Helper()
	for i := 0; i+8 <= len(secret); i++ {
		if !assert.NotContains(t, s, secret[i:i+8], "%s holds a piece of the secret", what) {
			return
		}
	}
}

// TestEchoedSecretsInSuccessBodies (issue 17 #6): a 2xx body that does not decode and echoes the
// request's credential (the API key, an Authenticator's own header) shows it nowhere: not in
// DecodeError.Sample, err.Error() or the log. The secret stands at every offset around the
// sample's cut (#7: redact first, cut after).
func TestEchoedSecretsInSuccessBodies(t *testing.T) {
	t.Parallel()
	for _, auth := range []struct {
		name   string
		opt    probonus.Option
		secret string
	}{{"api key", probonus.WithAPIKey(echoKey), echoKey}, {"own header", probonus.WithAuth(vaultAuth{}), "vault-secret-7781"}} {
		for _, offset := range []int{0, 200, 230, 240, 250, 255, 256, 300} {
			t.Run(fmt.Sprintf("%s at %d", auth.name, offset), func(t *testing.T) {
				t.Parallel()
				body := `{"id":` + strings.Repeat(" ", offset) + `"` + auth.secret + `" not json` + strings.Repeat("x", 300)
				if offset == 300 {
					// Earlier echoes, redacted, shorten the sample: a later one that the window of
					// 256 bytes and the longest form cuts must not leave its start behind.
					// (the window ends 20 bytes into the last echo; here every form of the secret is as long as it)
					pad := 256 + len(auth.secret) - 20 - len(`{"a": "`) - 4*(len(auth.secret)+1) - len(`", "b": `)
					body = `{"a": "` + strings.Repeat(auth.secret+" ", 4) + strings.Repeat("x", pad) + `", "b": ` + auth.secret + strings.Repeat(" more", 80)
				}
				base := serveRequests(t, func(conn net.Conn, _ *http.Request, _ int32) bool {
					answer(conn, 200, "application/json", body)
					return true
				})
				var log lockedBuffer
				c, err := probonus.New(probonus.WithBaseURL(base), auth.opt,
					probonus.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
				require.NoError(t, err)
				_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
				var de *probonus.DecodeError
				require.ErrorAs(t, err, &de)
				assertNoFragment(t, de.Sample, auth.secret, "the sample")
				assertNoFragment(t, err.Error(), auth.secret, "the error")
				assertNoFragment(t, log.String(), auth.secret, "the log")
				if offset < 200 {
					assert.Contains(t, de.Sample, "[redacted]")
				}
			})
		}
	}
}

// TestEchoedSecretsInCutErrors (issue 17 #7): an error answer is redacted before Detail (1 KiB of
// JSON, 200 bytes of text) and Body (4 KiB) are cut, and a cut leaves no start of the secret.
func TestEchoedSecretsInCutErrors(t *testing.T) {
	t.Parallel()
	type shape struct {
		contentType string
		body        func(pad int) string
	}
	shapes := map[string]shape{
		"json detail": {"application/json", func(pad int) string {
			return `{"detail":"` + strings.Repeat("a", pad) + echoKey + strings.Repeat("b", 5000) + `"}`
		}},
		"text": {"text/plain", func(pad int) string { return strings.Repeat("a", pad) + echoKey + strings.Repeat("b", 5000) }},
	}
	for name, sh := range shapes {
		for _, pad := range []int{170, 190, 199, 990, 1000, 1013, 1023, 4070, 4080, 4095} {
			t.Run(fmt.Sprintf("%s at %d", name, pad), func(t *testing.T) {
				t.Parallel()
				base := serveRequests(t, func(conn net.Conn, _ *http.Request, _ int32) bool {
					answer(conn, 401, sh.contentType, sh.body(pad))
					return true
				})
				c, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey(echoKey))
				require.NoError(t, err)
				_, err = c.AccountGroups.List(context.Background())
				var apiErr *probonus.APIError
				require.ErrorAs(t, err, &apiErr)
				assertNoFragment(t, apiErr.Detail, echoKey, "Detail")
				assertNoFragment(t, apiErr.Body, echoKey, "Body")
				assertNoFragment(t, err.Error(), echoKey, "the error")
				assert.LessOrEqual(t, len(apiErr.Body), 4<<10)
			})
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
