package probonustest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// refill posts a refill of 10 on its own, so each test chooses the client (and its timeout).
func refill(t *testing.T, srv *probonustest.Server, client *http.Client, id int64) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL()+probonustest.PathRefill, strings.NewReader(fmt.Sprintf(`{"accountId":%d,"amount":10}`, id)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", srv.APIKey())
	return client.Do(req)
}

// TestFaultsAClientMustSurvive makes each failure of a write reproducible: what the client sees,
// and whether the server applied the refill.
func TestFaultsAClientMustSurvive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       probonustest.Fault
		status      int    // 0: no answer at all
		contentType string // of the answer, when there is one
		bodyErr     bool   // reading the body fails
		applied     int
	}{
		{"refused before acting", probonustest.Fault{Status: 503, Body: "<html>503</html>"}, 503, "text/html", false, 0},
		{"500 after applying", probonustest.Fault{AfterApply: true, Status: 500, Body: "Internal Server Error"}, 500, "text/plain; charset=utf-8", false, 1},
		{"reset after applying", probonustest.Fault{AfterApply: true, Reset: true}, 0, "", false, 1},
		{"200 then a broken body", probonustest.Fault{AfterApply: true, BreakBody: true}, 200, "application/json", true, 1},
		{"a broken real body applies without AfterApply", probonustest.Fault{BreakBody: true}, 200, "application/json", true, 1},
		{"a broken fault body applies nothing", probonustest.Fault{Status: 502, Body: "<html>bad gateway</html>", BreakBody: true}, 502, "text/html", true, 0},
		{"200 then a stalled body", probonustest.Fault{AfterApply: true, StallBody: true}, 200, "application/json", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t)
			id := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567"})
			srv.Inject("POST", probonustest.PathRefill, tt.fault)
			// the timeout only ends the stalled body; every other case answers or fails at once
			client := &http.Client{Transport: srv.Client().Transport, Timeout: 300 * time.Millisecond}
			resp, err := refill(t, srv, client, id)
			if tt.status == 0 {
				require.Error(t, err, "no answer")
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.status, resp.StatusCode)
				assert.Equal(t, tt.contentType, resp.Header.Get("Content-Type"))
				body, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if tt.bodyErr {
					require.Error(t, err, "the body breaks off")
					assert.Greater(t, resp.ContentLength, int64(len(body)), "the full length was announced, part of it sent")
					assert.NotEmpty(t, body, "part of the body arrived")
				} else {
					require.NoError(t, err)
				}
			}
			assert.Len(t, srv.Refills(id), tt.applied)
			assert.Equal(t, 1, srv.Count("POST", probonustest.PathRefill))
			resp, err = refill(t, srv, srv.Client(), id)
			require.NoError(t, err, "one fault, one request")
			_ = resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode)
		})
	}
}

// TestStalledBodyEndsWhenTheServerCloses: a client that never gives up must not keep Close (and so
// the test's cleanup) waiting for ever.
func TestStalledBodyEndsWhenTheServerCloses(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(nil)
	srv.Inject("GET", probonustest.PathAccountGroupsList, probonustest.Fault{StallBody: true})
	req, err := http.NewRequest("GET", srv.URL()+probonustest.PathAccountGroupsList, nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", srv.APIKey())
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	var wg sync.WaitGroup
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, readErr = io.ReadAll(resp.Body)
	}()
	srv.Close()
	wg.Wait()
	_ = resp.Body.Close()
	assert.ErrorIs(t, readErr, io.ErrUnexpectedEOF)
}

// recorder is a testing.TB that keeps what was reported instead of failing the real test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestFaultForAnUnknownRouteFailsTheTest: a fault that can never fire would let a test pass
// without testing anything.
func TestFaultForAnUnknownRouteFailsTheTest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path string
		want         string
	}{
		{"post", probonustest.PathRefill, `the method is "POST"`},
		{"GET", probonustest.PathRefill, "the route is POST /api/v0/accounts/refill, not GET"},
		{"POST", "/accounts/refill", `paths start with /api/v0, did you mean "/api/v0/accounts/refill"`},
		{"POST", "accounts/refill", `did you mean "/api/v0/accounts/refill"`},
		{"POST", "/pb" + probonustest.PathRefill, `without the base path, did you mean "/api/v0/accounts/refill"`},
		{"GET", probonustest.PathFindByPhone + "?phone=79991234567", `a path has no query, did you mean "/api/v0/accounts/find_by_phone"`},
		{"GET", probonustest.PathAccountGroupsList + "/", `trailing slash`},
		{"GET", "/api/v0/accounts/list", "no such route: use one of the probonustest.Path… constants"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{TB: t}
			srv := probonustest.NewServer(rec, probonustest.WithBasePath("/pb"))
			srv.Inject(tt.method, tt.path, probonustest.Fault{Status: 503})
			srv.FailNext(tt.method, tt.path, 503, "", 0)
			require.Len(t, rec.errors, 2, "Inject and FailNext both report it")
			assert.Contains(t, rec.errors[0], fmt.Sprintf("probonustest: Inject(%q, %q): ", tt.method, tt.path))
			assert.Contains(t, rec.errors[0], tt.want)
			assert.Equal(t, 1, strings.Count(rec.errors[0], "probonustest:"), rec.errors[0])

			without := probonustest.NewServer(nil)
			defer without.Close()
			msg, _ := panicValue(func() { without.Inject(tt.method, tt.path, probonustest.Fault{Status: 503}) }).(string)
			assert.True(t, strings.HasPrefix(msg, fmt.Sprintf("probonustest: Inject(%q, %q): ", tt.method, tt.path)),
				"a server without a t panics with the reason: %q", msg)
		})
	}
	// a known route is queued and reported nowhere
	rec := &recorder{TB: t}
	srv := probonustest.NewServer(rec)
	srv.Inject("GET", probonustest.PathAccountGroupsList, probonustest.Fault{Status: 503})
	assert.Empty(t, rec.errors)
	resp, _, _ := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
	assert.Equal(t, 503, resp.StatusCode)
}

func TestRefillsAreWhatTheServerApplied(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567"})
	for _, body := range []string{
		fmt.Sprintf(`{"accountId":%d,"amount":"50","reason":"Отзыв о заказе 1234"}`, id),
		fmt.Sprintf(`{"accountId":%d,"amount":0}`, id), // refused: 422
		fmt.Sprintf(`{"accountId":%d,"amount":"12.5"}`, id),
	} {
		call(t, srv, "POST", probonustest.PathRefill, body, nil)
	}
	refills := srv.Refills(id)
	require.Len(t, refills, 2)
	assert.Equal(t, "50.00", refills[0].Sum)
	assert.Equal(t, "Отзыв о заказе 1234", refills[0].Reason)
	assert.Equal(t, "12.50", refills[1].Sum, "oldest first")
	assert.Equal(t, "refill", refills[1].Type)
	assert.Equal(t, id, refills[1].AccountID)
	assert.Less(t, refills[0].ID, refills[1].ID)
	assert.Nil(t, srv.Refills(999999), "no such account")
}

func panicValue(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// TestClientOptionsSettleQuickly (issue 17 #14): a client from ClientOptions resends a refill the
// server dropped unapplied within a 5 s deadline: its settle time is short. With the defaults (a
// settle of the 30 s attempt timeout), the deadline would end the call with ErrOutcomeUnknown.
func TestClientOptionsSettleQuickly(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	client, err := probonus.New(srv.ClientOptions()...)
	require.NoError(t, err)
	srv.Inject("POST", probonustest.PathRefill, probonustest.Fault{Reset: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = client.Accounts.RefillOnce(ctx, probonus.Refill{AccountID: id, Amount: probonus.MustAmount("50"), Reason: probonus.Ptr("Отзыв 1")})
	require.NoError(t, err)
	assert.Len(t, srv.Refills(id), 1)

	defaults, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))
	require.NoError(t, err)
	srv.Inject("POST", probonustest.PathRefill, probonustest.Fault{Reset: true})
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = defaults.Accounts.RefillOnce(ctx, probonus.Refill{AccountID: id, Amount: probonus.MustAmount("50"), Reason: probonus.Ptr("Отзыв 2")})
	assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the default settle time outlasts the deadline")
}

// TestFaultJSON: a Fault has one JSON form, the admin route's: Go tests and other languages
// write the same object (issue 28 §5: the admin kept a field-by-field mirror of Fault).
func TestFaultJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault probonustest.Fault
		json  string
	}{
		{"lost after applying", probonustest.Fault{AfterApply: true, Status: 500, Delay: 10 * time.Millisecond}, `{"status":500,"afterApply":true,"delay":"10ms"}`},
		{"a rate limit", probonustest.Fault{Status: 429, Body: `{"detail":"Too Many Requests"}`, RetryAfter: 2 * time.Second},
			`{"status":429,"body":"{\"detail\":\"Too Many Requests\"}","retryAfter":"2s"}`},
		{"every field", probonustest.Fault{Status: 200, Body: "b", RetryAfter: time.Second, Reset: true, AfterApply: true, Delay: time.Minute, BreakBody: true, StallBody: true},
			`{"status":200,"body":"b","reset":true,"afterApply":true,"breakBody":true,"stallBody":true,"retryAfter":"1s","delay":"1m0s"}`},
		{"a slow server", probonustest.Fault{Delay: 1500 * time.Millisecond}, `{"delay":"1.5s"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.fault)
			require.NoError(t, err)
			assert.JSONEq(t, tc.json, string(b))
			var back probonustest.Fault
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, tc.fault, back)

			// the admin route takes the same object, and answers it back unchanged
			srv := probonustest.NewServer(t, probonustest.WithAdmin())
			code, _ := admin(t, srv, "POST", "/_probonus/faults", `{"method": "GET", "path": "/api/v0/account_groups/list", `+string(b[1:]))
			require.Equal(t, 201, code)
			code, v := admin(t, srv, "GET", "/_probonus/faults", "")
			require.Equal(t, 200, code)
			got, err := json.Marshal(v.([]any)[0].(map[string]any)["fault"])
			require.NoError(t, err)
			assert.JSONEq(t, tc.json, string(got))
		})
	}
	var f probonustest.Fault
	require.NoError(t, json.Unmarshal([]byte(`{"retryAfter": 2, "delay": 0.25}`), &f), "seconds as numbers")
	assert.Equal(t, probonustest.Fault{RetryAfter: 2 * time.Second, Delay: 250 * time.Millisecond}, f)
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"delay": "soon"}`), &f), `"soon" is not a duration`)
}
