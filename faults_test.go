package probonus_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// countingLimiter counts waits and delegates to a real limiter.
type countingLimiter struct {
	n   atomic.Int64
	lim *rate.Limiter
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.n.Add(1)
	return l.lim.Wait(ctx)
}

// readFaults are what a proxy and a busy server do to reads.
var readFaults = []probonustest.Fault{
	{Status: 502, Body: "<html><head><title>502 Bad Gateway</title></head></html>"},
	{Status: 503, Body: `{"detail":"Service Unavailable"}`},
	{Status: 504, Body: "<html><body><h1>504 Gateway Time-out</h1></body></html>"},
	{Status: 429, Body: `{"error":"Rate limit exceeded: 5 per 1 minute"}`, RetryAfter: time.Second},
	{Reset: true},
	{Delay: time.Second}, // past the client's 250ms attempt timeout
}

// TestReadsUnderFaults sends reads through 10% injected faults: every call ends in a result or a
// typed error within its deadline, retries stay within the policy, and the limiter sees every attempt.
func TestReadsUnderFaults(t *testing.T) {
	t.Parallel()
	for _, flavor := range []probonustest.Flavor{probonustest.Legacy, probonustest.Modern} {
		t.Run(flavor.String(), func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithFlavor(flavor), probonustest.WithRandomFaults(0.10, 42, readFaults...))
			id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567", Balance: "100"})
			lim := &countingLimiter{lim: rate.NewLimiter(rate.Inf, 0)}
			policy := probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}
			c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()),
				probonus.WithTimeout(250*time.Millisecond), probonus.WithRetry(policy), probonus.WithLimiter(lim))
			require.NoError(t, err)

			const calls = 200
			var ok, failed atomic.Int64
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for i := range calls {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					defer cancel()
					var err error
					switch i % 4 {
					case 0:
						_, err = c.Accounts.FindByPhone(ctx, "+7 999 123-45-67")
					case 1:
						_, err = c.Accounts.LastTransactions(ctx, id, 10)
					case 2:
						_, err = c.Accounts.BalanceExtended(ctx, id)
					case 3:
						_, err = c.AccountGroups.List(ctx)
					}
					assert.NoError(t, ctx.Err(), "the call ended within its deadline")
					if err == nil {
						ok.Add(1)
						return
					}
					failed.Add(1)
					var apiErr *probonus.APIError
					typed := errors.As(err, &apiErr) || errors.Is(err, context.DeadlineExceeded) || isNetErr(err)
					assert.True(t, typed, "an untyped error: %v", err)
				}()
			}
			wg.Wait()
			requests := srv.Requests()
			sent, resets := int64(len(requests)), int64(0)
			for _, r := range requests {
				if r.Fault != nil && r.Fault.Reset {
					resets++
				}
			}
			t.Logf("%d ok, %d failed after retries, %d requests (%d reset), %d limiter waits", ok.Load(), failed.Load(), sent, resets, lim.n.Load())
			assert.Equal(t, int64(calls), ok.Load()+failed.Load())
			assert.GreaterOrEqual(t, ok.Load(), int64(calls*9/10), "retries recover most faults")
			assert.LessOrEqual(t, sent, int64(calls*policy.MaxAttempts), "retries stay within the policy")
			assert.Greater(t, sent, int64(calls), "faults were retried")
			// Go's transport replays a GET once, by itself, when a reused connection is reset before
			// any answer: those replays reach the server without an attempt of ours.
			assert.GreaterOrEqual(t, lim.n.Load(), sent-resets, "the limiter is waited on before every attempt")
		})
	}
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset")
}

// TestRefillIsNeverDoubled loses a refill's answer in each way a network can, and checks the server
// applied it exactly once; a refill refused with 429 is resent and applied once.
func TestRefillIsNeverDoubled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    probonustest.Fault
		wantErr  bool
		requests int
		target   error // reachable by errors.Is
	}{
		{"timeout after the server applied it", probonustest.Fault{AfterApply: true, Delay: 1500 * time.Millisecond}, true, 1, context.DeadlineExceeded},
		{"reset after the request was written", probonustest.Fault{AfterApply: true, Reset: true}, true, 1, nil},
		{"502 after the server applied it", probonustest.Fault{AfterApply: true, Status: 502, Body: "<html>bad gateway</html>"}, true, 1, probonus.ErrServer},
		{"refused with 429", probonustest.Fault{Status: 429, Body: `{"detail":"Too Many Requests"}`, RetryAfter: time.Second}, false, 2, nil},
		{"refused with 503 before acting", probonustest.Fault{Status: 503, Body: "<html>503</html>"}, true, 1, probonus.ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t)
			id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
			c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()), probonus.WithTimeout(500*time.Millisecond),
				probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 5, MinBackoff: time.Millisecond, MaxRetryAfter: 2 * time.Second}))
			require.NoError(t, err)
			srv.Inject("POST", "/api/v0/accounts/refill", tt.fault)
			_, err = c.Accounts.Refill(context.Background(), probonus.Refill{AccountID: id, Amount: probonus.MustAmount("100")})
			if tt.wantErr {
				require.Error(t, err)
				if tt.target != nil {
					assert.ErrorIs(t, err, tt.target)
				}
				// every one of these reached the server and got no definitive answer
				assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.requests, srv.Count("POST", "/api/v0/accounts/refill"), "requests that reached the server")
			wantRefills, wantBalance := 1, "100.00"
			if tt.fault.Status != 0 && !tt.fault.AfterApply && tt.wantErr {
				wantRefills, wantBalance = 0, "0.00" // refused before acting, and not resent
			}
			assert.Equal(t, wantRefills, srv.TransactionCount(id, "refill"))
			assert.Equal(t, wantBalance, srv.Balance(id))
		})
	}
}

// TestRefillSentWhenNothingWasConnected retries a refill whose connection was refused: nothing
// reached a server, so resending is safe.
func TestRefillSentWhenNothingWasConnected(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	var dials atomic.Int32
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer transport.CloseIdleConnections()
	c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()),
		probonus.WithHTTPClient(&http.Client{Transport: transport}), probonus.WithRetry(probonus.RetryPolicy{MinBackoff: time.Millisecond}))
	require.NoError(t, err)
	_, err = c.Accounts.Refill(context.Background(), probonus.Refill{AccountID: id, Amount: probonus.MustAmount("10")})
	require.NoError(t, err)
	assert.Equal(t, int32(2), dials.Load())
	assert.Equal(t, 1, srv.TransactionCount(id, "refill"))
}

// TestTokenExpiryUnderLoad runs 64 goroutines for 6 seconds against tokens that live two seconds.
// (With one-second tokens, a request held more than a second by a loaded 2-core machine under the
// race detector met an expired token twice, the replay's too: the test measured the machine.)
func TestTokenExpiryUnderLoad(t *testing.T) {
	t.Parallel()
	const lifetime = 2 * time.Second
	srv := probonustest.NewServer(t, probonustest.WithTokenLifetime(lifetime))
	c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithLogin(srv.Login()))
	require.NoError(t, err)
	const duration = 6 * time.Second
	end := time.Now().Add(duration)
	var calls, failures atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if _, err := c.AccountGroups.List(context.Background()); err != nil {
					failures.Add(1)
					t.Errorf("a call failed: %v", err)
					return
				}
				calls.Add(1)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	logins, refreshes := srv.AuthCounts()
	t.Logf("%d calls, %d logins, %d refreshes", calls.Load(), logins, refreshes)
	assert.Zero(t, failures.Load(), "no request fails for auth")
	assert.Equal(t, 1, logins)
	// one refresh per token lifetime: refreshed at 4/5 of it, so at most one per 1.6s, plus one in flight
	assert.LessOrEqual(t, refreshes, int(duration/(lifetime*4/5))+1)
	assert.GreaterOrEqual(t, refreshes, 2)
	rejected := 0
	for _, r := range srv.Requests() {
		if r.Path == "/api/v0/account_groups/list" && r.Header.Get("Authorization") == "" {
			rejected++
		}
	}
	assert.Zero(t, rejected)
}

// TestCancellationAtEveryStage cancels a call while it waits on the limiter, backs off, waits for
// an answer, and reads a body; each returns promptly with context.Canceled.
func TestCancellationAtEveryStage(t *testing.T) {
	t.Parallel()
	stall := make(chan struct{})
	defer close(stall)
	slowBody := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id":1,"name":"`))
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	defer slowBody.Close()

	stages := map[string]func(t *testing.T) (*probonus.Client, func(*probonus.Client, context.Context) error){
		"limiter wait": func(t *testing.T) (*probonus.Client, func(*probonus.Client, context.Context) error) {
			srv := probonustest.NewServer(t)
			lim := rate.NewLimiter(rate.Every(time.Hour), 1)
			lim.Allow() // the bucket is empty for an hour
			c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()), probonus.WithLimiter(lim))
			require.NoError(t, err)
			return c, list
		},
		"backoff": func(t *testing.T) (*probonus.Client, func(*probonus.Client, context.Context) error) {
			srv := probonustest.NewServer(t)
			srv.FailNext("GET", "/api/v0/account_groups/list", 503, "<html>503</html>", 0)
			c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()),
				probonus.WithRetry(probonus.RetryPolicy{MinBackoff: time.Hour, MaxBackoff: time.Hour}))
			require.NoError(t, err)
			return c, list
		},
		"in flight": func(t *testing.T) (*probonus.Client, func(*probonus.Client, context.Context) error) {
			srv := probonustest.NewServer(t)
			srv.Inject("GET", "/api/v0/account_groups/list", probonustest.Fault{Delay: time.Hour})
			c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))
			require.NoError(t, err)
			return c, list
		},
		"decoding": func(t *testing.T) (*probonus.Client, func(*probonus.Client, context.Context) error) {
			c, err := probonus.New(probonus.WithBaseURL(slowBody.URL), probonus.WithAPIKey("k"))
			require.NoError(t, err)
			return c, list
		},
		"token wait": func(t *testing.T) (*probonus.Client, func(*probonus.Client, context.Context) error) {
			srv := probonustest.NewServer(t)
			srv.Inject("POST", "/api/v0/auth/login", probonustest.Fault{Delay: 2 * time.Second})
			c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithLogin(srv.Login()))
			require.NoError(t, err)
			return c, list
		},
	}
	for name, stage := range stages {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, call := stage(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- call(c, ctx) }()
			time.Sleep(50 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.Canceled, "%v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("the call did not return after its context was cancelled")
			}
		})
	}
}

func list(c *probonus.Client, ctx context.Context) error {
	_, err := c.AccountGroups.List(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	return nil
}
