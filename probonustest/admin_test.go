package probonustest_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// admin sends a request to an admin route, without credentials.
func admin(t *testing.T, srv *probonustest.Server, method, path, body string) (int, any) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(srv.URL(), "/pb")+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(raw, &v), "%s", raw)
	return resp.StatusCode, v
}

func TestAdminInjectsResetsAndReads(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithAdmin(), probonustest.WithDemoData(), probonustest.WithBasePath("/pb"))

	code, v := admin(t, srv, "POST", "/_probonus/faults", `{"method": "POST", "path": "/api/v0/accounts/refill", "afterApply": true, "status": 500, "delay": "10ms"}`)
	require.Equal(t, 201, code, v)
	assert.Equal(t, float64(1), v.(map[string]any)["queued"])
	code, v = admin(t, srv, "GET", "/_probonus/faults", "")
	require.Equal(t, 200, code)
	assert.Equal(t, []any{map[string]any{"method": "POST", "path": "/api/v0/accounts/refill",
		"fault": map[string]any{"afterApply": true, "status": float64(500), "delay": "10ms"}}}, v)

	resp, _, _ := call(t, srv, "POST", probonustest.PathRefill, `{"accountId": 1001, "amount": 50}`, nil)
	assert.Equal(t, 500, resp.StatusCode, "the fault was seen")
	code, v = admin(t, srv, "GET", "/_probonus/accounts/1001", "")
	require.Equal(t, 200, code)
	acc := v.(map[string]any)
	assert.Equal(t, "192.35", acc["balance"], "applied, then the answer lost")
	assert.Len(t, acc["refills"], 1)
	assert.Len(t, acc["checks"], 2)

	code, v = admin(t, srv, "GET", "/_probonus/requests?path=/api/v0/accounts/refill", "")
	require.Equal(t, 200, code)
	reqs := v.([]any)
	require.Len(t, reqs, 1)
	r := reqs[0].(map[string]any)
	assert.Equal(t, "api-key", r["auth"])
	assert.Equal(t, map[string]any{"accountId": float64(1001), "amount": float64(50)}, r["body"])
	assert.Equal(t, float64(500), r["fault"].(map[string]any)["status"])
	assert.NotContains(t, r, "header", "no credential leaves through the admin")

	code, v = admin(t, srv, "GET", "/_probonus/accounts", "")
	require.Equal(t, 200, code)
	assert.Equal(t, "192.35", v.([]any)[0].(map[string]any)["balance"])

	code, v = admin(t, srv, "POST", "/_probonus/reset", "")
	require.Equal(t, 200, code)
	assert.Equal(t, float64(1), v.(map[string]any)["accounts"])
	assert.Equal(t, "142.35", srv.Balance(1001))
	assert.Empty(t, srv.Requests(), "admin requests are not recorded")
}

func TestAdminRefusesClearly(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithAdmin())
	cases := []struct {
		name, method, path, body string
		code                     int
		detail                   string
	}{
		{"lower-case method", "POST", "/_probonus/faults", `{"method": "post", "path": "/api/v0/accounts/refill", "status": 503}`, 400, "methods are upper case"},
		{"no /api/v0", "POST", "/_probonus/faults", `{"method": "POST", "path": "/accounts/refill", "status": 503}`, 400, `did you mean "/api/v0/accounts/refill"`},
		{"misspelt field", "POST", "/_probonus/faults", `{"method": "POST", "path": "/api/v0/accounts/refill", "afterApplied": true}`, 400, `unknown field "afterApplied"`},
		{"bad status", "POST", "/_probonus/faults", `{"method": "GET", "path": "/api/v0/account_groups/list", "status": 42}`, 400, "status 42"},
		{"bad duration", "POST", "/_probonus/faults", `{"method": "GET", "path": "/api/v0/account_groups/list", "delay": "soon"}`, 400, `"soon" is not a duration`},
		{"no route", "POST", "/_probonus/faults", `{"status": 503}`, 400, "name the route"},
		{"unknown admin route", "GET", "/_probonus/nothing", "", 404, "no such admin route"},
		{"wrong method", "GET", "/_probonus/reset", "", 405, "Method Not Allowed: POST"},
		{"no such account", "GET", "/_probonus/accounts/42", "", 404, "no account 42"},
		{"not an id", "GET", "/_probonus/accounts/abc", "", 400, `"abc" is not an account id`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, v := admin(t, srv, tc.method, tc.path, tc.body)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, v.(map[string]any)["detail"], tc.detail)
		})
	}
	code, v := admin(t, srv, "GET", "/_probonus/", "")
	require.Equal(t, 200, code)
	assert.Contains(t, v.(map[string]any)["api"], "POST /api/v0/accounts/refill")
	code, _ = admin(t, probonustest.NewServer(t), "GET", "/_probonus/", "")
	assert.Equal(t, 404, code, "off unless WithAdmin")
}

func TestAdminInjectsSeveralTimes(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithAdmin())
	code, _ := admin(t, srv, "POST", "/_probonus/faults", `{"method": "GET", "path": "/api/v0/account_groups/list", "status": 429, "retryAfter": 2, "times": 2}`)
	require.Equal(t, 201, code)
	for _, want := range []int{429, 429, 200} {
		resp, _, _ := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
		assert.Equal(t, want, resp.StatusCode)
		if want == 429 {
			assert.Equal(t, "2", resp.Header.Get("Retry-After"))
		}
	}
	admin(t, srv, "POST", "/_probonus/faults", `{"method": "GET", "path": "/api/v0/account_groups/list", "status": 503}`)
	code, v := admin(t, srv, "DELETE", "/_probonus/faults", "")
	require.Equal(t, 200, code)
	assert.Equal(t, float64(1), v.(map[string]any)["dropped"])
}

// TestShutdownLetsRequestsInFlightFinish: a slow answer in flight is given; a stalled one is cut
// when the context ends.
func TestShutdownLetsRequestsInFlightFinish(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := probonustest.NewServer(nil, probonustest.WithListener(l))
	assert.Equal(t, "http://"+l.Addr().String(), srv.URL())
	srv.Inject("GET", probonustest.PathAccountGroupsList, probonustest.Fault{Delay: 200 * time.Millisecond})
	done := make(chan int)
	go func() {
		resp, _, _ := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
		done <- resp.StatusCode
	}()
	require.Eventually(t, func() bool { return srv.Count("GET", probonustest.PathAccountGroupsList) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, srv.Shutdown(context.Background()))
	assert.Equal(t, 200, <-done, "the request in flight was answered")
	_, err = http.Get(srv.URL() + probonustest.PathAccountGroupsList)
	assert.Error(t, err, "no new connection after shutdown")

	l, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv = probonustest.NewServer(nil, probonustest.WithListener(l))
	srv.Inject("GET", probonustest.PathAccountGroupsList, probonustest.Fault{StallBody: true})
	errs := make(chan error)
	go func() {
		resp, err := srv.Client().Get(srv.URL() + probonustest.PathAccountGroupsList)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		errs <- err
	}()
	require.Eventually(t, func() bool { return srv.Count("GET", probonustest.PathAccountGroupsList) == 1 }, 5*time.Second, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, srv.Shutdown(ctx), context.DeadlineExceeded)
	assert.Error(t, <-errs, "the stalled body was cut")
	srv.Close()
}

// TestAdminRefusesOtherSites: the admin routes answer only a request for this server's own
// address (an IP address, localhost, a name of one label as a compose service has, or a name
// WithAdminHosts gives) and, from a browser, only a page of the same origin. issue 26 item 8: a
// web page in a team member's browser could reset the fake or queue faults through DNS
// rebinding (its own name resolving to 127.0.0.1) or a simple cross-site POST.
func TestAdminRefusesOtherSites(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, host, origin string // PORT: the server's
		ok                 bool
	}{
		{"the served address", "127.0.0.1:PORT", "", true},
		{"localhost", "localhost:PORT", "", true},
		{"a name under localhost", "app.localhost:PORT", "", true},
		{"IPv6 loopback", "[::1]:PORT", "", true},
		{"a compose service", "probonus:11030", "", true},
		{"a name given", "Probonus.Test.Svc.:8080", "", true},
		{"the same origin", "127.0.0.1:PORT", "http://127.0.0.1:PORT", true},
		{"the same origin behind a proxy ending TLS", "probonus.test.svc", "https://probonus.test.svc", true},
		{"DNS rebinding", "attacker.example:PORT", "", false},
		{"DNS rebinding from its own page", "attacker.example:PORT", "http://attacker.example:PORT", false},
		{"a name ending like one given", "evilprobonus.test.svc", "", false},
		{"a cross-site POST", "127.0.0.1:PORT", "https://attacker.example", false},
		{"another port of this machine", "127.0.0.1:PORT", "http://127.0.0.1:3000", false},
		{"an opaque origin", "127.0.0.1:PORT", "null", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithAdmin(), probonustest.WithDemoData(), probonustest.WithAdminHosts("probonus.test.svc"))
			port := srv.URL()[strings.LastIndex(srv.URL(), ":")+1:]
			resp, _, _ := call(t, srv, "POST", probonustest.PathRefill, `{"accountId": 1001, "amount": 1}`, nil)
			require.Equal(t, 200, resp.StatusCode)
			for _, rt := range []struct{ method, path, body string }{
				{"POST", "/_probonus/reset", ""},
				{"POST", "/_probonus/faults", `{"method": "GET", "path": "/api/v0/account_groups/list", "status": 503}`},
				{"GET", "/_probonus/requests", ""},
				{"GET", "/_probonus/", ""},
			} {
				req, err := http.NewRequest(rt.method, srv.URL()+rt.path, strings.NewReader(rt.body))
				require.NoError(t, err)
				req.Host = strings.ReplaceAll(tc.host, "PORT", port)
				if tc.origin != "" {
					req.Header.Set("Origin", strings.ReplaceAll(tc.origin, "PORT", port))
				}
				if strings.HasPrefix(tc.origin, "https:") {
					req.Header.Set("X-Forwarded-Proto", "https")
				}
				req.Header.Set("Content-Type", "text/plain") // as a form or a fetch() without a preflight sends
				resp, err := srv.Client().Do(req)
				require.NoError(t, err)
				raw, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if tc.ok {
					assert.Less(t, resp.StatusCode, 300, "%s %s: %s", rt.method, rt.path, raw)
					continue
				}
				assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s: %s", rt.method, rt.path, raw)
				assert.Contains(t, string(raw), "admin routes", "the refusal says why")
			}
			if tc.ok {
				assert.Equal(t, "142.35", srv.Balance(1001), "reset")
				return
			}
			assert.Equal(t, "143.35", srv.Balance(1001), "a refused reset changes nothing")
			// nor was a fault queued: the API answers (to any Host, as before: the API is not the admin's)
			req, err := http.NewRequest("GET", srv.URL()+probonustest.PathAccountGroupsList, nil)
			require.NoError(t, err)
			req.Host = "attacker.example"
			req.Header.Set("X-API-Key", srv.APIKey())
			resp, err = srv.Client().Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode, "no fault was queued")
		})
	}
}
