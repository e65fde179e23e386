package probonustest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestCORS: with WithCORS, a browser's preflight is answered as Starlette's CORSMiddleware
// answers it (the methods and the headers a client sends, X-API-Key among them), and an answer to
// an allowed origin names it; without it, no CORS header at all. issue 26 item 17: the fake sent
// none, so a guest cabinet's frontend could not call it from a browser.
func TestCORS(t *testing.T) {
	t.Parallel()
	const front = "http://localhost:3000"
	send := func(t *testing.T, srv *probonustest.Server, method, path string, header map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL()+path, nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	preflight := func(origin, method, headers string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
	}

	t.Run("a preflight from the frontend", func(t *testing.T) {
		t.Parallel()
		srv := probonustest.NewServer(t, probonustest.WithCORS(front))
		for _, h := range []string{"x-api-key, content-type", "authorization,content-type", ""} {
			resp, body := send(t, srv, "OPTIONS", probonustest.PathRefill, preflight(front, "POST", h))
			require.Equal(t, 200, resp.StatusCode, "%q: %s", h, body)
			assert.Equal(t, front, resp.Header.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, "GET, POST", resp.Header.Get("Access-Control-Allow-Methods"))
			allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
			for _, want := range []string{"x-api-key", "authorization", "content-type"} {
				assert.Contains(t, allowed, want)
			}
			assert.Equal(t, "600", resp.Header.Get("Access-Control-Max-Age"))
			assert.Contains(t, resp.Header.Values("Vary"), "Origin")
		}
		assert.Empty(t, srv.Requests(), "a preflight never reaches the API: not recorded, no fault fires")
	})

	t.Run("refused preflights", func(t *testing.T) {
		t.Parallel()
		srv := probonustest.NewServer(t, probonustest.WithCORS(front))
		for _, tc := range []struct{ origin, method, headers, want string }{
			{"https://attacker.example", "POST", "x-api-key", "Disallowed CORS origin"},
			{front, "DELETE", "", "Disallowed CORS method"},
			{front, "POST", "x-api-key, x-other", "Disallowed CORS headers"},
		} {
			resp, body := send(t, srv, "OPTIONS", probonustest.PathRefill, preflight(tc.origin, tc.method, tc.headers))
			assert.Equal(t, 400, resp.StatusCode, tc.want)
			assert.Equal(t, tc.want, body)
			if tc.origin != front {
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	})

	t.Run("an answer names the allowed origin only", func(t *testing.T) {
		t.Parallel()
		srv := probonustest.NewServer(t, probonustest.WithCORS(front))
		resp, _ := send(t, srv, "GET", probonustest.PathAccountGroupsList, map[string]string{"Origin": front, "X-API-Key": srv.APIKey()})
		require.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, front, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, resp.Header.Values("Vary"), "Origin")
		resp, _ = send(t, srv, "GET", probonustest.PathAccountGroupsList, map[string]string{"Origin": front})
		assert.Equal(t, 401, resp.StatusCode)
		assert.Equal(t, front, resp.Header.Get("Access-Control-Allow-Origin"), "a refusal the frontend can read")
		resp, _ = send(t, srv, "GET", probonustest.PathAccountGroupsList, map[string]string{"Origin": "https://attacker.example", "X-API-Key": srv.APIKey()})
		assert.Equal(t, 200, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "the browser keeps the answer from another site's page")
	})

	t.Run("any origin", func(t *testing.T) {
		t.Parallel()
		srv := probonustest.NewServer(t, probonustest.WithCORS("*"))
		resp, _ := send(t, srv, "OPTIONS", probonustest.PathFindByPhone, preflight("https://anywhere.example", "GET", "x-api-key"))
		require.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	})

	t.Run("off by default", func(t *testing.T) {
		t.Parallel()
		srv := probonustest.NewServer(t, probonustest.WithAdmin())
		resp, _ := send(t, srv, "OPTIONS", probonustest.PathRefill, preflight(front, "POST", "x-api-key"))
		assert.Equal(t, 405, resp.StatusCode, "FastAPI without CORSMiddleware")
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
		resp, _ = send(t, srv, "GET", probonustest.PathAccountGroupsList, map[string]string{"Origin": front, "X-API-Key": srv.APIKey()})
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	})

	t.Run("not for the admin routes", func(t *testing.T) {
		t.Parallel()
		srv := probonustest.NewServer(t, probonustest.WithAdmin(), probonustest.WithCORS(front))
		resp, _ := send(t, srv, "OPTIONS", "/_probonus/reset", preflight(front, "POST", ""))
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, 403, resp.StatusCode, "a page of another origin")
	})
}
