package probonus_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

const refillPath = "/api/v0/accounts/refill"

// onceSetup is a server with one guest and a client whose RefillOnce settles quickly.
func onceSetup(t *testing.T, opts ...probonus.Option) (*probonustest.Server, *probonus.Client, int64) {
	t.Helper()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	all := append([]probonus.Option{probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()),
		probonus.WithTimeout(300 * time.Millisecond), probonus.WithRefillSettle(20 * time.Millisecond),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})}, opts...)
	c, err := probonus.New(all...)
	require.NoError(t, err)
	return srv, c, id
}

func review(id int64, order int, amount string) probonus.Refill {
	return probonus.Refill{AccountID: id, Amount: probonus.MustAmount(amount), Reason: probonus.Ptr(fmt.Sprintf("Отзыв о заказе %d", order))}
}

func TestRefillOnceLostAnswerIsAppliedOnce(t *testing.T) {
	t.Parallel()
	for name, fault := range map[string]probonustest.Fault{
		"applied, then the connection reset":      {AfterApply: true, Reset: true},
		"applied, then 500":                       {AfterApply: true, Status: 500, Body: "Internal Server Error"},
		"applied, answer slower than the timeout": {AfterApply: true, Delay: time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c, id := onceSetup(t)
			srv.Inject("POST", refillPath, fault)
			res, err := c.Accounts.RefillOnce(context.Background(), review(id, 1234, "50"))
			require.NoError(t, err)
			assert.False(t, res.AlreadyApplied, "this call applied it; its answer was lost")
			assert.NotZero(t, res.TransactionID)
			assert.Equal(t, "50.00", res.Balance.String())
			assert.Equal(t, 1, srv.Count("POST", refillPath), "found in the history: not resent")
			assert.Equal(t, 1, srv.TransactionCount(id, "refill"))
		})
	}
}

func TestRefillOnceResendsWhenTheServerDidNotApply(t *testing.T) {
	t.Parallel()
	srv, c, id := onceSetup(t)
	srv.Inject("POST", refillPath, probonustest.Fault{Reset: true}) // read, not applied, no answer
	res, err := c.Accounts.RefillOnce(context.Background(), review(id, 1, "50"))
	require.NoError(t, err)
	assert.False(t, res.AlreadyApplied)
	assert.Equal(t, 2, srv.Count("POST", refillPath), "absent after the settle time: sent again")
	assert.Equal(t, 1, srv.TransactionCount(id, "refill"))
}

func TestRefillOnceTwiceInARow(t *testing.T) {
	t.Parallel()
	srv, c, id := onceSetup(t)
	first, err := c.Accounts.RefillOnce(context.Background(), review(id, 7, "100.50"))
	require.NoError(t, err)
	second, err := c.Accounts.RefillOnce(context.Background(), review(id, 7, "100.5"))
	require.NoError(t, err)
	assert.False(t, first.AlreadyApplied)
	assert.True(t, second.AlreadyApplied, "the same key (100.5 is 100.50)")
	assert.Equal(t, first.TransactionID, second.TransactionID)
	assert.Equal(t, "100.50", second.Balance.String(), "the balance is read fresh")
	assert.Equal(t, 1, srv.Count("POST", refillPath))
	assert.Equal(t, 1, srv.TransactionCount(id, "refill"))

	// another reason or another amount is another credit
	_, err = c.Accounts.RefillOnce(context.Background(), review(id, 8, "100.50"))
	require.NoError(t, err)
	_, err = c.Accounts.RefillOnce(context.Background(), review(id, 7, "20"))
	require.NoError(t, err)
	assert.Equal(t, 3, srv.TransactionCount(id, "refill"))
	assert.Equal(t, "221.00", srv.Balance(id))
}

func TestRefillOnceConcurrentSameKey(t *testing.T) {
	t.Parallel()
	srv, c, id := onceSetup(t)
	var wg sync.WaitGroup
	results := make([]*probonus.RefillResult, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.Accounts.RefillOnce(context.Background(), review(id, 42, "10"))
		}()
	}
	wg.Wait()
	applied := 0
	for i, res := range results {
		require.NoError(t, errs[i])
		if !res.AlreadyApplied {
			applied++
		}
		assert.Equal(t, results[0].TransactionID, res.TransactionID)
	}
	assert.Equal(t, 1, applied, "one goroutine credited; the others found it")
	assert.Equal(t, 1, srv.Count("POST", refillPath))
	assert.Equal(t, 1, srv.TransactionCount(id, "refill"))
}

func TestRefillOnceRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	srv, c, id := onceSetup(t)
	srv.FailNext("POST", refillPath, 400, `{"detail":"Счёт заблокирован"}`, 0)
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 1, "10"))
	require.ErrorIs(t, err, probonus.ErrBadRequest)
	assert.NotErrorIs(t, err, probonus.ErrOutcomeUnknown)
	assert.Equal(t, 1, srv.Count("POST", refillPath))
	assert.Zero(t, srv.TransactionCount(id, "refill"))
}

func TestRefillOnceNeedsAReason(t *testing.T) {
	t.Parallel()
	srv, c, id := onceSetup(t)
	for _, reason := range []*string{nil, probonus.Ptr(""), probonus.Ptr("  ")} {
		_, err := c.Accounts.RefillOnce(context.Background(), probonus.Refill{AccountID: id, Amount: probonus.MustAmount("1"), Reason: reason})
		var input *probonus.InputError
		require.ErrorAs(t, err, &input)
		assert.Equal(t, "Refill.Reason", input.Field)
	}
	assert.Empty(t, srv.Requests(), "nothing sent")
}

func TestRefillOnceCancelledWhileSettling(t *testing.T) {
	t.Parallel()
	srv, c, id := onceSetup(t, probonus.WithRefillSettle(time.Hour))
	srv.Inject("POST", refillPath, probonustest.Fault{AfterApply: true, Reset: true})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for srv.Count("POST", refillPath) == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	// With an hour to settle, only a prompt return on cancellation lets this test end.
	_, err := c.Accounts.RefillOnce(ctx, review(id, 1, "10"))
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, srv.Count("POST", refillPath))
}

// TestRefillUnderRandomFaults is a property: under random faults on every route (reads
// included), one RefillOnce key is never credited twice however often it is called, and each
// Refill call credits at most once.
func TestRefillUnderRandomFaults(t *testing.T) {
	t.Parallel()
	faults := []probonustest.Fault{
		{Reset: true},
		{AfterApply: true, Reset: true},
		{AfterApply: true, Status: 500, Body: "Internal Server Error"},
		{AfterApply: true, Status: 502, Body: "<html><title>502 Bad Gateway</title></html>"},
		{Status: 503, Body: "<html>503</html>"},
		{Status: 429, Body: `{"detail":"Too Many Requests"}`},
		{AfterApply: true, Delay: 400 * time.Millisecond},
	}
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithRandomFaults(0.35, seed, faults...))
			id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
			c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()),
				probonus.WithTimeout(200*time.Millisecond), probonus.WithRefillSettle(20*time.Millisecond),
				probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
			require.NoError(t, err)
			rnd := rand.New(rand.NewPCG(seed, 1))
			for range 6 {
				_, _ = c.Accounts.RefillOnce(context.Background(), review(id, 99, "5"))
				assert.LessOrEqual(t, srv.TransactionCount(id, "refill"), 1, "a RefillOnce key credited twice")
			}
			once := srv.TransactionCount(id, "refill")
			for i := range 6 {
				before := srv.TransactionCount(id, "refill")
				_, err := c.Accounts.Refill(context.Background(), review(id, 1000+i+rnd.IntN(1000), "1"))
				after := srv.TransactionCount(id, "refill")
				assert.LessOrEqual(t, after-before, 1, "one Refill call credited twice")
				if err == nil {
					assert.Equal(t, 1, after-before, "a Refill that succeeded credited")
				}
			}
			t.Logf("seed %d: RefillOnce credited %d time(s) over 6 calls", seed, once)
		})
	}
}

// TestRefillOnceLooksPastCaches: a caching proxy in front of the server must not answer the
// look after an uncertain send with the history it served before it.
func TestRefillOnceLooksPastCaches(t *testing.T) {
	t.Parallel()
	srv, c, id := onceSetup(t)
	srv.Inject("POST", refillPath, probonustest.Fault{AfterApply: true, Reset: true})
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 3, "10"))
	require.NoError(t, err)
	looks := 0
	for _, r := range srv.Requests() {
		if r.Method == "GET" {
			looks++
			assert.Equal(t, "no-cache", r.Header.Get("Cache-Control"), "%s", r.Path)
		}
	}
	assert.Equal(t, 3, looks, "a look before, a look after, and the fresh balance")
	// an ordinary read carries no such header
	_, err = c.Accounts.LastTransactions(context.Background(), id, 5)
	require.NoError(t, err)
	reqs := srv.Requests()
	assert.Empty(t, reqs[len(reqs)-1].Header.Get("Cache-Control"))
}
