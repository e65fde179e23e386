package probonustest_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestRequestLogBounds: the log keeps the latest Max requests within MaxBytes, says how many it
// dropped (DroppedRequests, the admin's X-Probonus-Dropped and index), and Count stays exact for
// the routes. issue 26 item 7: every request was kept, whole, forever.
func TestRequestLogBounds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		log           probonustest.RequestLog
		bodies        int // the size of each refill's reason
		kept, dropped int
	}{
		{"the last 3", probonustest.RequestLog{Max: 3}, 10, 3, 7},
		{"within 64 KiB", probonustest.RequestLog{MaxBytes: 64 << 10}, 20 << 10, 3, 7},
		{"both", probonustest.RequestLog{Max: 2, MaxBytes: 64 << 10}, 20 << 10, 2, 8},
		{"a request larger than the bound is still the latest", probonustest.RequestLog{MaxBytes: 1 << 10}, 20 << 10, 1, 9},
		{"unbounded by default", probonustest.RequestLog{}, 10, 10, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithAdmin(), probonustest.WithDemoData(), probonustest.WithRequestLog(tc.log))
			for i := range 10 {
				body := `{"accountId": 1001, "amount": 1, "reason": "` + strings.Repeat("x", tc.bodies) + `"}`
				resp, _, _ := call(t, srv, "POST", probonustest.PathRefill, body, nil)
				require.Equal(t, 200, resp.StatusCode, "request %d", i)
			}
			reqs := srv.Requests()
			assert.Len(t, reqs, tc.kept)
			assert.Equal(t, tc.dropped, srv.DroppedRequests())
			assert.Equal(t, 10, srv.Count("POST", probonustest.PathRefill), "Count is exact for a route")
			for _, r := range reqs {
				assert.Equal(t, 200, r.Status)
				assert.NotEmpty(t, r.Body)
			}

			resp, err := srv.Client().Get(srv.URL() + "/_probonus/requests")
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, []string{strconv.Itoa(tc.dropped)}, resp.Header.Values("X-Probonus-Dropped"))
			code, v := admin(t, srv, "GET", "/_probonus/", "")
			require.Equal(t, 200, code)
			assert.Equal(t, float64(tc.dropped), v.(map[string]any)["requests"].(map[string]any)["dropped"])
			assert.Equal(t, float64(tc.kept), v.(map[string]any)["requests"].(map[string]any)["kept"])
			assert.Equal(t, map[string]any{"POST " + probonustest.PathRefill: float64(10)}, v.(map[string]any)["requests"].(map[string]any)["counts"],
				"every request to a route counted, dropped or not")

			require.NoError(t, srv.Reset())
			assert.Zero(t, srv.DroppedRequests())
			assert.Zero(t, srv.Count("POST", probonustest.PathRefill))
			assert.Empty(t, srv.Requests())
		})
	}
}

// TestRequestLogAuthenticatedOnly: with AuthenticatedOnly, a request's headers and body are kept
// only once its credentials were accepted; a refused request, a login and an unknown path are
// kept as method, path, query and status. issue 26 item 7: they were kept before the
// credentials were checked.
func TestRequestLogAuthenticatedOnly(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithAdmin(), probonustest.WithDemoData(),
		probonustest.WithRequestLog(probonustest.RequestLog{AuthenticatedOnly: true}))
	login, password := srv.Login()
	sends := []struct {
		method, path, body string
		header             map[string]string
		status             int
		kept               bool
	}{
		{"POST", probonustest.PathRefill, `{"accountId": 1001, "amount": 1, "reason": "a stranger's"}`, map[string]string{"X-API-Key": "a-guess"}, 401, false},
		{"POST", probonustest.PathRefill, `{"accountId": 1001, "amount": 1, "reason": "nobody's"}`, map[string]string{"X-API-Key": ""}, 401, false},
		{"POST", probonustest.PathLogin, `{"login": "` + login + `", "password": "` + password + `"}`, map[string]string{"X-API-Key": ""}, 200, false},
		{"POST", "/api/v0/nothing", `{"secret": "s"}`, nil, 404, false},
		{"POST", probonustest.PathRefill, `{"accountId": 1001, "amount": 1, "reason": "ours"}`, nil, 200, true},
		{"GET", probonustest.PathFindByPhone + "?phone=79161112233", "", nil, 200, true},
	}
	for _, s := range sends {
		resp, _, _ := call(t, srv, s.method, s.path, s.body, s.header)
		require.Equal(t, s.status, resp.StatusCode, "%s %s", s.method, s.path)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, len(sends))
	for i, r := range reqs {
		assert.Equal(t, sends[i].status, r.Status, "%s %s", r.Method, r.Path)
		if sends[i].kept {
			assert.Equal(t, srv.APIKey(), r.Header.Get("X-API-Key"), "%s %s", r.Method, r.Path)
			assert.Equal(t, sends[i].body, string(r.Body), "%s %s", r.Method, r.Path)
			continue
		}
		assert.Nil(t, r.Header, "%s %s", r.Method, r.Path)
		assert.Nil(t, r.Body, "%s %s", r.Method, r.Path)
	}
	assert.Equal(t, "79161112233", reqs[5].Query.Get("phone"))

	code, v := admin(t, srv, "GET", "/_probonus/requests", "")
	require.Equal(t, 200, code)
	list := v.([]any)
	require.Len(t, list, len(sends))
	assert.Equal(t, "api-key", list[0].(map[string]any)["auth"], "which credentials a refused request carried, still")
	assert.Equal(t, "none", list[1].(map[string]any)["auth"])
	assert.Equal(t, float64(401), list[0].(map[string]any)["status"])
	assert.NotContains(t, list[0], "body")
	assert.Equal(t, "ours", list[4].(map[string]any)["body"].(map[string]any)["reason"])
}
