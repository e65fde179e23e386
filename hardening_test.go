package probonus

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

// TestEmptyAndNonJSONSuccessBodies: a 204 or an empty 200 into a non-nil out succeeds and leaves out
// as it was; with a nil out any 2xx body is read and discarded.
func TestEmptyAndNonJSONSuccessBodies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		body   string
		out    bool
	}{
		{204, "", true}, {200, "", true}, {200, "  \n", true},
		{204, "", false}, {200, "OK", false}, {201, "<html>created</html>", false}, {200, `{"a":1}`, false},
	} {
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/x"), httpmock.NewStringResponder(tt.status, tt.body))
		if tt.out {
			out := map[string]any{"kept": true}
			require.NoError(t, c.Do(context.Background(), http.MethodPost, "/api/v0/x", nil, nil, &out), "%d %q", tt.status, tt.body)
			assert.Equal(t, map[string]any{"kept": true}, out)
		} else {
			require.NoError(t, c.Do(context.Background(), http.MethodPost, "/api/v0/x", nil, nil, nil), "%d %q", tt.status, tt.body)
		}
	}
	// a body that is not JSON into a non-nil out is still a DecodeError
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, "OK"))
	var out map[string]any
	var de *DecodeError
	require.ErrorAs(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, &out), &de)
}

// TestMessagesDoNotRepeatThemselves: "503 Service Unavailable: 503 Service Unavailable" and
// "404 Not Found: Not Found" read once; a cancelled context does not speak of a limiter the client
// does not have; an input error names the call.
func TestMessagesDoNotRepeatThemselves(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		detail string
		want   string
	}{
		{503, "503 Service Unavailable", "503 Service Unavailable"},
		{503, "503 Service Temporarily Unavailable", "503 Service Unavailable"},
		{404, "Not Found", "404 Not Found"},
		{504, "504 Gateway Time-out", "504 Gateway Timeout"},
		{404, "Аккаунт не найден", "404 Not Found: Аккаунт не найден"},
		{500, "500 rows were locked by another transaction, try again", "500 Internal Server Error: 500 rows were locked by another transaction, try again"},
	} {
		e := &APIError{StatusCode: tt.status, Method: "GET", Path: "/api/v0/x", Detail: tt.detail}
		assert.Equal(t, "probonus: GET /api/v0/x: "+tt.want, e.Error())
	}

	c, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "probonus: GET /pb/api/v0/x: context canceled", err.Error())

	_, err = c.Accounts.FindByPhone(context.Background(), "12")
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.True(t, strings.HasPrefix(err.Error(), "probonus: Accounts.FindByPhone: invalid phone: "), err.Error())
	_, err = c.Accounts.Refill(context.Background(), Refill{AccountID: 1})
	assert.EqualError(t, err, "probonus: Accounts.Refill: invalid Refill.Amount: must be positive")
}

// TestLogOfATransportFailure: a failure without a status logs its error, a retry is a warning,
// and the failed call ends with a warning of its own.
func TestLogOfATransportFailure(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c, mt := setup(t, WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), failAfterConnect)
	require.Error(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 4, buf.String())
	for _, l := range lines[:3] {
		assert.Contains(t, l, "status=0")
		assert.Contains(t, l, `error="probonus: GET /pb/api/v0/x: read tcp: connection reset by peer"`)
	}
	assert.Contains(t, lines[0], "level=WARN")
	assert.Contains(t, lines[0], `retry="connection error"`)
	assert.Contains(t, lines[2], "level=DEBUG", "the last attempt is not retried")
	assert.Contains(t, lines[3], `level=WARN msg="probonus call failed" op=Do method=GET attempts=3`)
	assert.NotContains(t, buf.String(), "path=", "a Do call's literal path is no template (issue 17 #10)")
	assert.Contains(t, lines[3], "outcome_unknown=false")
	assert.NotContains(t, buf.String(), testAPIKey)
}

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
