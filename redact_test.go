package probonus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// round3Leaks fails t for each secret found in any text of err: Error(), and the APIError's
// Detail, Body and Validation, the DecodeError's Sample, wherever they are in the chain.
func round3Leaks(t *testing.T, err error, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	texts := map[string]string{"Error()": err.Error()}
	for e := err; e != nil; {
		var apiErr *probonus.APIError
		if errors.As(e, &apiErr) {
			texts["APIError.Detail"] = apiErr.Detail
			texts["APIError.Body"] = apiErr.Body
			b, _ := json.Marshal(apiErr.Validation)
			texts["APIError.Validation"] = string(b)
		}
		var de *probonus.DecodeError
		if errors.As(e, &de) {
			texts["DecodeError.Sample"] = de.Sample
		}
		var ae *probonus.AuthError
		if errors.As(e, &ae) && ae.Err != nil && ae.Err != e {
			e = ae.Err // AuthError hides a refused login's APIError from errors.As
			continue
		}
		break
	}
	for _, s := range secrets {
		for where, text := range texts {
			assert.NotContains(t, text, s, "%s holds a secret", where)
		}
	}
}

// round3KeyClient is a client of a raw server with the API key key.
func round3KeyClient(t *testing.T, base, key string) *probonus.Client {
	t.Helper()
	c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(base), probonus.WithAPIKey(key))...)
	require.NoError(t, err)
	return c
}

// From the round-3 review of issue 17.
// TestRound3ReviewPasswordEchoedHTMLEscaped
//
// Defect: a login refused with an HTML page (a proxy's or a framework's error template) that
// echoes the password HTML-escaped ("s3cr&amp;t&lt;pw&gt;") keeps it in APIError.Detail (the
// page's title), APIError.Body and err.Error(): the redactor knows JSON- and URL-escaped forms only.
// Reproduced: a raw server whose login answers 401 text/html with the escaped password in the
// <title>; FindByPhone with WithLogin.
// Severity: secrets.
// Suggested fix: add html.EscapeString(secret) (and the &#39;/&#34; variants) to secretForms; better,
// html.UnescapeString the text of an HTML answer before redacting and taking its title.
func TestRound3ReviewPasswordEchoedHTMLEscaped(t *testing.T) {
	t.Parallel()
	const password = `s3cr&t<pw>"2026`
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		answer(conn, 401, "text/html", `<html><head><title>Login failed for cashier, password s3cr&amp;t&lt;pw&gt;&quot;2026</title></head>`+
			`<body><p>password: s3cr&amp;t&lt;pw&gt;&#34;2026</p></body></html>`)
		return true
	})
	c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(s), probonus.WithLogin("cashier", password))...)
	require.NoError(t, err)
	_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
	round3Leaks(t, err, "s3cr&amp;t&lt;pw&gt;")
}

// From the round-3 review of issue 17.
// TestRound3ReviewKeyEchoedWithOtherJSONEscapes
//
// Defect: the raw body is redacted only for the escapings of Go's and Python's encoders. JSON lets
// an encoder escape any character: PHP's json_encode writes "/" as "\/", Jackson and .NET write
// non-ASCII as upper-case "\u043F". A key with a "/" (base64 keys have them) or a non-ASCII
// password echoed so is decoded and redacted in Detail, but APIError.Body keeps it, and a list
// inside a validation item's ctx keeps the decoded form too.
// Reproduced: raw servers answering 401/422 with the key "\/"-escaped and the password with
// upper-case \u escapes.
// Severity: secrets.
// Suggested fix: when the body is JSON, redact its decoded strings and re-encode it (or build Body
// from the redacted decoded value); walk Ctx values recursively (lists and maps), as Input is.
func TestRound3ReviewKeyEchoedWithOtherJSONEscapes(t *testing.T) {
	t.Parallel()
	const key = "pbk_live/8f3a9c2e+77d1/Qx"
	escaped := strings.ReplaceAll(key, "/", `\/`)
	t.Run(`key with \/`, func(t *testing.T) {
		t.Parallel()
		s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
			answer(conn, 401, "application/json", `{"detail":"Invalid API key: `+escaped+`"}`)
			return true
		})
		_, err := round3KeyClient(t, s, key).Accounts.FindByPhone(context.Background(), "+79991234567")
		round3Leaks(t, err, key, escaped, "8f3a9c2e+77d1")
	})
	t.Run(`key in a ctx list`, func(t *testing.T) {
		t.Parallel()
		s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
			answer(conn, 422, "application/json", `{"detail":[{"loc":["header","x-api-key"],"msg":"Invalid key","type":"value_error",`+
				`"ctx":{"tried":["`+escaped+`"]}}]}`)
			return true
		})
		_, err := round3KeyClient(t, s, key).Accounts.FindByPhone(context.Background(), "+79991234567")
		round3Leaks(t, err, key, escaped, "8f3a9c2e+77d1")
	})
	t.Run(`password with upper-case \u escapes`, func(t *testing.T) {
		t.Parallel()
		const password = "пароль-7391"
		var up strings.Builder
		for _, r := range password {
			if r < 0x80 {
				up.WriteRune(r)
			} else {
				fmt.Fprintf(&up, `\u%04X`, r)
			}
		}
		s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
			answer(conn, 401, "application/json", `{"detail":"Wrong password `+up.String()+`"}`)
			return true
		})
		c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(s), probonus.WithLogin("cashier", password))...)
		require.NoError(t, err)
		_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
		round3Leaks(t, err, password, up.String())
	})
}

// From the round-3 review of issue 17.
// TestRound3ReviewShortPasswordIsNeverRedacted
//
// Defect: newRedactor drops every secret shorter than 6 bytes, the client's own password included:
// a login whose password is "admin" or a 4-digit PIN has it echoed verbatim in the error, the log
// and the observers. The floor is right for unknown header values ("1"), not for a credential the
// client holds.
// Reproduced: a raw server whose login answers 401 {"detail":"Invalid password 'pw7x1' for cashier01"}.
// Severity: secrets.
// Suggested fix: apply the 6-byte floor only to request header values the SDK does not own; always
// redact the held password, key and tokens (and the login's secret), whatever their length.
func TestRound3ReviewShortPasswordIsNeverRedacted(t *testing.T) {
	t.Parallel()
	const password = "pw7x1"
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		answer(conn, 401, "application/json", `{"detail":"Invalid password 'pw7x1' for cashier01"}`)
		return true
	})
	c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(s), probonus.WithLogin("cashier01", password))...)
	require.NoError(t, err)
	_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
	round3Leaks(t, err, password)
}

// bearerTransport adds a bearer token to each request the way golang.org/x/oauth2's Transport or a
// vault-injecting RoundTripper does: on a clone of the request, below the SDK.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// From the round-3 review of issue 17.
// TestRound3ReviewTransportCredentialsAreNotRedacted
//
// Defect: the redactor takes the secrets from the request the SDK built; a credential added below
// it, by an oauth2.Transport or a token-injecting RoundTripper passed with WithHTTPClient (with
// WithoutAuth), is not in it, so an echoed token stays in Detail, Body and err.Error().
// net/http hands the request it actually sent back as resp.Request, headers included.
// Reproduced: WithHTTPClient(&http.Client{Transport: bearerTransport{...}}) and a raw server
// answering 401 {"detail":"Invalid token <token>"}.
// Severity: secrets.
// Suggested fix: in attempt, add resp.Request.Header's values (when resp.Request is not req) to
// the attempt's secrets, with the same exclusions as req's.
func TestRound3ReviewTransportCredentialsAreNotRedacted(t *testing.T) {
	t.Parallel()
	const token = "eyJhbGciOiJIUzI1NiJ9.vault-issued-token.sig"
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		answer(conn, 401, "application/json", `{"detail":"Invalid token `+req.Header.Get("Authorization")+`"}`)
		return true
	})
	hc := &http.Client{Transport: bearerTransport{token: token, base: http.DefaultTransport}}
	c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(s), probonus.WithoutAuth(), probonus.WithHTTPClient(hc))...)
	require.NoError(t, err)
	_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
	require.ErrorIs(t, err, probonus.ErrUnauthorized)
	round3Leaks(t, err, token)
}

// From the round-3 review of issue 17.
// TestRound3ReviewBaseURLErrorShowsPartOfThePassword
//
// Defect: redactURL cuts the URL at its first "?" or "#" before it removes the user info, so a
// password holding either ("http://admin:pa?ss@host", a common password character) leaves
// "http://admin:pa" in the refusal: the login and the start of the password, in an error the CLI
// prints and a log keeps (issue 17 #9 asked for the URL without its user info).
// Reproduced: New(WithBaseURL(...)) with such URLs.
// Severity: secrets.
// Suggested fix: in redactURL, drop everything between "//" and the last "@" before the first "/"
// after it first, then cut the query and fragment; or show only the scheme and host when the
// URL does not parse.
func TestRound3ReviewBaseURLErrorShowsPartOfThePassword(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://admin:pa?ss-2026@bonus.example.ru", "http://admin:pa#ss-2026@bonus.example.ru/",
		"https://admin:pa?ss-2026@bonus.example.ru:8443/proxy"} {
		_, err := probonus.New(probonus.WithBaseURL(u), probonus.WithAPIKey("k-000000"))
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "admin:pa", "the refusal of %s", u)
		assert.NotContains(t, err.Error(), "admin", "no part of the user info")
	}
}

// rvSpy is an Observer that keeps, at the moment it is told, everything an error shows: its text
// in every verb, and the fields of an *APIError or *DecodeError in it.
type rvSpy struct {
	mu   sync.Mutex
	seen []string
}

func (s *rvSpy) note(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, fmt.Sprintf("%v|%+v|%#v", err, err, err))
	var api *probonus.APIError
	if errors.As(err, &api) {
		s.seen = append(s.seen, api.Body, api.Detail, fmt.Sprintf("%+v", api.Validation))
	}
	var auth *probonus.AuthError
	if errors.As(err, &auth) && errors.As(auth.Err, &api) {
		s.seen = append(s.seen, api.Body, api.Detail, fmt.Sprintf("%+v", api.Validation))
	}
	var dec *probonus.DecodeError
	if errors.As(err, &dec) || auth != nil && errors.As(auth.Err, &dec) {
		s.seen = append(s.seen, dec.Sample)
	}
}

func (s *rvSpy) CallStart(ctx context.Context, _ *probonus.Call) context.Context { return ctx }

func (s *rvSpy) AttemptStart(ctx context.Context, _ *probonus.Attempt) context.Context { return ctx }

func (s *rvSpy) CallEnd(_ context.Context, c *probonus.Call) { s.note(c.Err) }

func (s *rvSpy) AttemptEnd(_ context.Context, a *probonus.Attempt) { s.note(a.Err) }

func (s *rvSpy) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.seen, "\n")
}

// rvSecretClient is a client of a server that answers every request with handle, with a logger at
// every level and an rvSpy; it makes one call and returns everything that call showed.
func rvSecretClient(t *testing.T, auth probonus.Option, handle http.HandlerFunc) (haystack string) {
	t.Helper()
	srv := httptest.NewServer(handle)
	t.Cleanup(srv.Close)
	var logs strings.Builder
	var logMu sync.Mutex
	spy := &rvSpy{}
	logger := slog.New(slog.NewTextHandler(rvLockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.Level(-100)}))
	c, err := probonus.New(probonus.WithBaseURL(srv.URL), auth, probonus.WithLogger(logger), probonus.WithObserver(spy),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.AccountGroups.List(context.Background())
	require.Error(t, err)
	logMu.Lock()
	defer logMu.Unlock()
	require.Contains(t, logs.String(), "probonus request", "the log was on")
	return fmt.Sprintf("error: %v|%+v|%#v\nlog: %s\nobserver: %s", err, err, err, logs.String(), spy)
}

// rvNoSecret fails for each secret found, showing where (a few excerpts).
func rvNoSecret(t *testing.T, haystack string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		var where []string
		for _, line := range strings.Split(haystack, "\n") {
			if i := strings.Index(line, secret); i >= 0 && len(where) < 4 {
				where = append(where, "..."+line[max(0, i-100):min(len(line), i+len(secret)+10)])
			}
		}
		if len(where) > 0 {
			t.Errorf("%q shown in:\n%s", secret, strings.Join(where, "\n"))
		}
	}
}

type rvLockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l rvLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// From the adversarial review of issues 9 and 10.
// TestReviewLoginEchoReachesObserversAndLogs (secret). redactError removes an echoed password from
// the login's *APIError only after send has returned, so the login call's own AttemptEnd and
// CallEnd, the log lines among them, have already seen it whole: a Pydantic v2 422 (the case
// redactError was written for) puts the password in Validation[].Input and Body, which an
// Observer reads (an OTel exporter records the error; the doc promises "an Observer never sees a
// credential"), and a detail that echoes it is logged at Debug and Warn. The redaction also mutates
// an error an observer may still hold, from another goroutine. Fix: redact inside send, before
// endAttempt/endCall (the call can carry its secret), on a copy, never in place afterwards.
func TestReviewLoginEchoReachesObserversAndLogs(t *testing.T) {
	t.Parallel()
	const password = "hunter2-Секрет"
	for name, answer := range map[string]struct {
		status int
		body   string
	}{
		"pydantic v2 422": {422, `{"detail":[{"type":"string_too_short","loc":["body","password"],"msg":"String should have at least 20 characters","input":"` + password + `","ctx":{"min_length":20}}]}`},
		"a detail":        {401, `{"detail":"Неверный пароль '` + password + `' для api-user"}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			haystack := rvSecretClient(t, probonus.WithLogin("api-user", password), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(answer.status)
				_, _ = io.WriteString(w, answer.body)
			})
			rvNoSecret(t, haystack, password)
		})
	}
}

// From the adversarial review of issues 9 and 10.
// TestReviewLoginDecodeErrorShowsTheToken (secret). A login answer that is 200 but does not decode
// into tokenResponse (expiresIn as "1h", or an ISO date, on a real server whose names are
// inferred) becomes a DecodeError whose Sample is the start of the body: the access and refresh
// tokens. It reaches the caller's error text, the log at Debug and Warn, and observers; redactError
// handles only *APIError. Fix: a DecodeError of a login or refresh keeps no sample (or the sample
// with every token-looking value masked), in send, before observers see it.
func TestReviewLoginDecodeErrorShowsTheToken(t *testing.T) {
	t.Parallel()
	const access, refresh = "eyJhbGciOiJIUzI1NiJ9.access-7f3a9c", "refresh-5d1e22b0"
	haystack := rvSecretClient(t, probonus.WithLogin("api-user", "pw-review-1"), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"accessToken":"`+access+`","refreshToken":"`+refresh+`","expiresIn":"1h"}`)
	})
	rvNoSecret(t, haystack, access, refresh)
}

// From the adversarial review of issues 9 and 10.
// TestReviewEchoedAPIKeyIsNotRedacted (secret). A server or proxy that refuses a key and says which
// ("Invalid API key: sk-...", common in API gateways) puts the permanent key into APIError.Detail
// and Body; Error() prints Detail, so the key reaches the caller's error, the log (Debug and Warn)
// and observers. Only the login's password goes through redactError; the README promises that "a
// secret a server echoes back is redacted" for every credential. The same holds for a bearer token
// echoed in a 401. Fix: parseError (or attempt) redacts every form of the credential the request
// carried, the API key or the bearer token, for every call.
func TestReviewEchoedAPIKeyIsNotRedacted(t *testing.T) {
	t.Parallel()
	const key = "sk-live-9c41e7d2a0"
	haystack := rvSecretClient(t, probonus.WithAPIKey(key), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"detail":"Invalid API key: `+r.Header.Get("X-API-Key")+`"}`)
	})
	rvNoSecret(t, haystack, key)
}

// From the adversarial review of issues 9 and 10.
// TestReviewBaseURLErrorShowsItsPassword (secret). WithBaseURL refuses user info in the URL with a
// generic message, but a URL it cannot use for another reason (a typo in the scheme, a space) is
// quoted whole in the error, with the password a user put in it (a basic-auth proxy URL, as many
// tools accept); FromEnv passes the same text on from PROBONUS_BASE_URL. Fix: quote the URL with
// its user info and query removed (url.URL.Redacted, and drop the query), or not at all.
func TestReviewBaseURLErrorShowsItsPassword(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"htps://probonus:s3cr3t-pw@probonus.example.com", "https://probonus:s3cr3t-pw@probonus.example.com:port/"} {
		_, err := probonus.New(probonus.WithBaseURL(raw), probonus.WithAPIKey("k"))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cr3t-pw")
		_, err = probonus.FromEnv(func(name string) string {
			return map[string]string{"PROBONUS_BASE_URL": raw, "PROBONUS_API_KEY": "k"}[name]
		})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cr3t-pw")
	}
}

// From the security suite of issue 10 (hardening).
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

// assertNoFragment fails when s holds the secret or any 8-byte piece of it.
func assertNoFragment(t *testing.T, s, secret, what string) {
	t.Helper()
	for i := 0; i+8 <= len(secret); i++ {
		if !assert.NotContains(t, s, secret[i:i+8], "%s holds a piece of the secret", what) {
			return
		}
	}
}

// From the security suite of issue 10 (hardening).
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

// From the security suite of issue 10 (hardening).
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

// echoKey is a 40-character API key a broken server echoes back.
const echoKey = "echo-key-0123456789abcdefghijklmnopqrstu"

// issue 28 §1 (one redactor, the URL user-info rule): the SDK found user info only after a
// "://", the CLI with or without a scheme; a base URL written without one ("admin:pw@host", as
// curl accepts) was refused with its password in the advice "write http://admin:pw@host".
func TestBaseURLWithoutSchemeHidesUserInfo(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"admin:s3cr3t-pw@bonus.example.ru", "admin:s3cr3t-pw@bonus.example.ru/pb", "admin:s3?cr#3t-pw@bonus.example.ru"} {
		_, err := probonus.New(probonus.WithBaseURL(raw), probonus.WithAPIKey("k-000000"))
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "admin", raw)
		assert.NotContains(t, err.Error(), "s3", raw)
		assert.Contains(t, err.Error(), "bonus.example.ru", "the host is still shown")
	}
}
