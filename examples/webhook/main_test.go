package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// issue 26 item 12: `go run ./examples/webhook` runs the demo against the embedded server, and each
// delivery gets the answer the recipe promises.
func TestWebhookDemo(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(context.Background(), nil, func(string) string { return "" }, &out)
	require.Equal(t, 0, code, out.String())
	got := out.String()
	for _, line := range []string{
		"using an embedded probonustest server",
		"# the sender waits 10s: a delivery's work gets 8s, each HTTP attempt to ProBonus 2s\n",
		"1. an order completed\n   → POST /webhooks/order-completed {\"order_id\":\"A-1001\",\"account_id\":1001,\"bonus\":\"50.00\"}\n",
		`   ← 200 {"status":"credited","transaction_id":`,
		`   ← 200 {"status":"already_credited","transaction_id":`,
		"   ← 503 (Retry-After: 5) {\"error\":\"the bonus service is unavailable: deliver again later\",\"retry_after\":5}\n",
		"   ← 400 {\"error\":\"bonus is missing\"}\n",
		"   ← 400 {\"error\":\"bonus has a fraction of a kopeck\"}\n",
		"   ← 422 {\"error\":\"no ProBonus account 999999\"}\n",
		"   ← 401 {\"error\":\"missing or wrong X-Signature-256\"}\n",
		"ProBonus applied 3 credits to account 1001 for 3 orders (refill requests sent: 3); balance 142.35 → 292.35\n",
	} {
		assert.Contains(t, got, line)
	}
	assert.Equal(t, 3, strings.Count(got, `← 200 {"status":"credited"`), got)
	assert.Equal(t, 1, strings.Count(got, `← 200 {"status":"already_credited"`), got)
}

// syncBuffer is the output of a run that serves in the background while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// issue 26 item 12: -listen serves deliveries against the server the environment names, checks
// it first, and stops cleanly when interrupted.
func TestWebhookServesAgainstAServer(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+7 999 123-45-67"})
	env := map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey(), "WEBHOOK_SECRET": string(testSecret)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"-listen", "127.0.0.1:0", "-sender-timeout", "5s"}, func(k string) string { return env[k] }, &out)
	}()

	listening := regexp.MustCompile(`# listening on (http://127\.0\.0\.1:\d+/webhooks/order-completed)\n`)
	require.Eventually(t, func() bool { return listening.MatchString(out.String()) }, 10*time.Second, time.Millisecond, out.String())
	url := listening.FindStringSubmatch(out.String())[1]
	assert.Contains(t, out.String(), "# the sender waits 5s: a delivery's work gets 4s, each HTTP attempt to ProBonus 1s\n")
	assert.NotContains(t, out.String(), "# try:", "no sample delivery for a real server")
	assert.NotContains(t, out.String(), string(testSecret))

	body := order("H-1", id, "12.34")
	for range 2 {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set(SignatureHeader, Sign(testSecret, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, "12.34", srv.Balance(id))
	assert.Equal(t, 1, srv.Count(http.MethodPost, probonustest.PathRefill))

	cancel()
	select {
	case c := <-code:
		assert.Equal(t, 0, c, out.String())
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the interrupt")
	}
	assert.Contains(t, out.String(), `msg="order bonus credited" order_id=H-1`)
	assert.Contains(t, out.String(), `msg="order bonus already credited" order_id=H-1`)
}

// issue 26 item 12: the configurations that would lose or leak credits are refused before
// anything is served or sent.
func TestWebhookRefusesUnsafeConfigurations(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		says string
	}{
		{"the demo against a real server", nil,
			map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey()}, 2,
			"error: the demo runs only against the embedded server (it injects faults): pass -listen ADDR to serve deliveries against PROBONUS_BASE_URL\n"},
		{"a real server without WEBHOOK_SECRET", []string{"-listen", "127.0.0.1:0"},
			map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey()}, 2,
			"error: set WEBHOOK_SECRET, the key of the sender's X-Signature-256: without it anyone who reaches this service can credit bonuses\n"},
		{"a key ProBonus refuses", []string{"-listen", "127.0.0.1:0"},
			map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": "not-the-key", "WEBHOOK_SECRET": "s"}, 1,
			"error: ProBonus cannot be used: probonus: GET /api/v0/account_groups/list: 401 Unauthorized"},
		{"a sender timeout too short", []string{"-sender-timeout", "1ms"}, nil, 2, "error: -sender-timeout: at least 100ms\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			assert.Equal(t, tc.code, run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, &out))
			assert.Contains(t, out.String(), tc.says)
			assert.NotContains(t, out.String(), "listening")
		})
	}
	assert.Zero(t, srv.Count(http.MethodPost, probonustest.PathRefill))
}

// issue 26 item 12: -listen without PROBONUS_BASE_URL serves against the embedded server and
// prints a delivery to try, signed when WEBHOOK_SECRET is set: sent as printed, it is credited.
func TestWebhookServesTheEmbeddedServer(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"", string(testSecret)} {
		ctx, cancel := context.WithCancel(context.Background())
		var out syncBuffer
		code := make(chan int, 1)
		go func() {
			code <- run(ctx, []string{"-listen", "127.0.0.1:0"}, func(k string) string { return map[string]string{"WEBHOOK_SECRET": secret}[k] }, &out)
		}()
		try := regexp.MustCompile(`# try: curl -i(?: -H '` + SignatureHeader + `: (sha256=[0-9a-f]{64})')? -d '(\{[^']*\})' (http://\S+)\n`)
		require.Eventually(t, func() bool { return try.MatchString(out.String()) }, 10*time.Second, time.Millisecond, out.String())
		m := try.FindStringSubmatch(out.String())
		assert.Equal(t, secret == "", m[1] == "", "signed exactly when there is a secret: %s", m[0])
		assert.Equal(t, secret == "", strings.Contains(out.String(), "# WEBHOOK_SECRET is not set: deliveries are not authenticated"))
		req, err := http.NewRequest(http.MethodPost, m[3], strings.NewReader(m[2]))
		require.NoError(t, err)
		if m[1] != "" {
			req.Header.Set(SignatureHeader, m[1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		assert.Contains(t, string(body), `"status":"credited"`)
		cancel()
		assert.Equal(t, 0, <-code, out.String())
	}
}
