package probonus_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// The tests of RefillOnce under a fleet's lease (issue 25): a holder paused past its lease, a
// coordinator that forgot it, a record it refused. The Redis coordinator's own tests, with real
// processes, are in probonusredis.

const transactionsPath = "/api/v0/accounts/transactions"

// testLease is a RefillLease a test steers: until when it holds, whether it is lost, what Confirm
// answers (and how long it extends it), and how it was unlocked.
type testLease struct {
	mu       sync.Mutex
	until    time.Time     // zero: never lapses
	extend   time.Duration // what a Confirm that succeeds adds to now, when until is not zero
	confirm  func(n int) error
	confirms int
	lost     chan struct{}
	unlocks  []bool
}

func (l *testLease) Until() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}

func (l *testLease) Lost() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func (l *testLease) Confirm(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.confirms++
	if l.confirm != nil {
		if err := l.confirm(l.confirms); err != nil {
			return err
		}
	}
	if !l.until.IsZero() && l.extend > 0 {
		l.until = time.Now().Add(l.extend)
	}
	return nil
}

func (l *testLease) Unlock(clean bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unlocks = append(l.unlocks, clean)
}

func (l *testLease) state() (confirms int, unlocks []bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.confirms, append([]bool(nil), l.unlocks...)
}

// leaseCoordinator is the process's kind of coordinator with a steered lease: every Lock returns
// lease, and records are kept in a map (or refused with recordErr).
type leaseCoordinator struct {
	mu        sync.Mutex
	lease     *testLease
	recordErr error
	records   map[string]probonus.UncertainSend
}

func (c *leaseCoordinator) Lock(context.Context, string, time.Duration) (probonus.RefillLease, error) {
	return c.lease, nil
}

func (c *leaseCoordinator) RecordUncertain(_ context.Context, key string, u probonus.UncertainSend) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recordErr != nil && !u.At.IsZero() {
		return c.recordErr
	}
	if c.records == nil {
		c.records = map[string]probonus.UncertainSend{}
	}
	c.records[key] = u
	return nil
}

func (c *leaseCoordinator) LastUncertain(_ context.Context, key string) (probonus.UncertainSend, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.records[key], nil
}

// errLost is a coordinator's answer that the lease is not this holder's any more.
var errLost = fmt.Errorf("test coordinator: the key is another holder's: %w", probonus.ErrLeaseLost)

// leaseSetup is onceSetup with a coordinator whose lease the test steers.
func leaseSetup(t *testing.T, lease *testLease, opts ...probonus.Option) (*probonustest.Server, *probonus.Client, int64, *leaseCoordinator) {
	t.Helper()
	coord := &leaseCoordinator{lease: lease}
	srv, c, id := onceSetup(t, append([]probonus.Option{probonus.WithRefillCoordinator(coord)}, opts...)...)
	return srv, c, id, coord
}

// TestRefillOnceLeaseLostBeforeTheSend (issue 25 #1, the first path): a holder that looked, then
// was paused past its lease while another took the key, sends nothing when it resumes: the lease
// is confirmed as the last step before the request goes out.
func TestRefillOnceLeaseLostBeforeTheSend(t *testing.T) {
	t.Parallel()
	lease := &testLease{confirm: func(int) error { return errLost }}
	srv, c, id, _ := leaseSetup(t, lease)
	res, err := c.Accounts.RefillOnce(context.Background(), review(id, 1, "50"))
	require.ErrorIs(t, err, probonus.ErrLeaseLost)
	assert.Nil(t, res)
	assert.NotErrorIs(t, err, probonus.ErrOutcomeUnknown, "no send of the key is uncertain")
	assert.NotErrorIs(t, err, probonus.ErrCoordinatorUnavailable)
	assert.Contains(t, err.Error(), "nothing sent")
	assert.Equal(t, 1, srv.Count("GET", transactionsPath), "it looked")
	assert.Zero(t, srv.Count("POST", refillPath), "refills sent")
	_, unlocks := lease.state()
	assert.Equal(t, []bool{true}, unlocks)
}

// TestRefillOnceLeaseLostMeanwhile (issue 25 #1): a renewal that found the lease lost closes Lost:
// nothing is sent after that, whatever Confirm would say.
func TestRefillOnceLeaseLostMeanwhile(t *testing.T) {
	t.Parallel()
	lost := make(chan struct{})
	close(lost)
	lease := &testLease{lost: lost}
	srv, c, id, _ := leaseSetup(t, lease)
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 2, "50"))
	require.ErrorIs(t, err, probonus.ErrLeaseLost)
	assert.Zero(t, srv.Count("POST", refillPath))
	confirms, _ := lease.state()
	assert.Zero(t, confirms, "a lease known lost is not asked about")
}

// TestRefillOnceLookAnsweredAfterTheLease (issue 25 #1, the second path): the look's answer
// arrives after the lease could have lapsed (the process was paused while it was on its way). It
// proves nothing: the lease is confirmed and the look made again, or nothing is sent.
func TestRefillOnceLookAnsweredAfterTheLease(t *testing.T) {
	t.Parallel()
	t.Run("still held: looked again, then sent", func(t *testing.T) {
		t.Parallel()
		lease := &testLease{until: time.Now().Add(50 * time.Millisecond), extend: time.Minute}
		srv, c, id, _ := leaseSetup(t, lease)
		srv.Inject("GET", transactionsPath, probonustest.Fault{Delay: 150 * time.Millisecond})
		res, err := c.Accounts.RefillOnce(context.Background(), review(id, 3, "50"))
		require.NoError(t, err)
		assert.False(t, res.FromHistory)
		assert.Equal(t, 2, srv.Count("GET", transactionsPath), "looks: the late one, then one under a valid lease")
		assert.Equal(t, 1, srv.TransactionCount(id, "refill"))
	})
	t.Run("lost: nothing sent", func(t *testing.T) {
		t.Parallel()
		lease := &testLease{until: time.Now().Add(50 * time.Millisecond), confirm: func(int) error { return errLost }}
		srv, c, id, _ := leaseSetup(t, lease)
		srv.Inject("GET", transactionsPath, probonustest.Fault{Delay: 150 * time.Millisecond})
		_, err := c.Accounts.RefillOnce(context.Background(), review(id, 4, "50"))
		require.ErrorIs(t, err, probonus.ErrLeaseLost)
		assert.Equal(t, 1, srv.Count("GET", transactionsPath))
		assert.Zero(t, srv.Count("POST", refillPath))
	})
	t.Run("confirmed, but lapsed again: fails closed", func(t *testing.T) {
		t.Parallel()
		lease := &testLease{until: time.Now().Add(50 * time.Millisecond), extend: 50 * time.Millisecond}
		srv, c, id, _ := leaseSetup(t, lease)
		srv.Inject("GET", transactionsPath, probonustest.Fault{Delay: 150 * time.Millisecond})
		srv.Inject("GET", transactionsPath, probonustest.Fault{Delay: 150 * time.Millisecond})
		_, err := c.Accounts.RefillOnce(context.Background(), review(id, 5, "50"))
		require.ErrorIs(t, err, probonus.ErrLeaseLost)
		assert.Zero(t, srv.Count("POST", refillPath))
	})
}

// TestRefillOnceNoResendAfterTheLease (issue 25 #1, the third path): an attempt that failed
// before it was written is not resent once the lease is lost: each attempt confirms it.
func TestRefillOnceNoResendAfterTheLease(t *testing.T) {
	t.Parallel()
	var failDial atomic.Bool
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if failDial.Swap(false) {
			return nil, errors.New("test: connection refused")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	lease := &testLease{confirm: func(n int) error {
		if n == 1 {
			failDial.Store(true) // the first attempt's connection fails: not written
			return nil
		}
		return errLost // the retry finds the lease gone
	}}
	srv, c, id, _ := leaseSetup(t, lease, probonus.WithHTTPClient(&http.Client{Transport: tr}))
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 6, "50"))
	require.ErrorIs(t, err, probonus.ErrLeaseLost)
	confirms, _ := lease.state()
	assert.Equal(t, 2, confirms, "each attempt confirms the lease")
	assert.Zero(t, srv.Count("POST", refillPath), "the retry was not sent")
}

// TestRefillOnceReplayConfirmsTheLease (issue 25 #1): a write replayed after a token refresh
// confirms the lease too.
func TestRefillOnceReplayConfirmsTheLease(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	lease := &testLease{confirm: func(n int) error {
		if n == 1 {
			return nil
		}
		return errLost
	}}
	login, password := srv.Login()
	c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithLogin(login, password),
		probonus.WithRefillCoordinator(&leaseCoordinator{lease: lease}), probonus.WithRefillSettle(20*time.Millisecond))
	require.NoError(t, err)
	srv.Inject("POST", refillPath, probonustest.Fault{Status: http.StatusUnauthorized, Body: `{"detail":"Token expired"}`})
	_, err = c.Accounts.RefillOnce(context.Background(), review(id, 7, "50"))
	require.ErrorIs(t, err, probonus.ErrLeaseLost)
	confirms, _ := lease.state()
	assert.Equal(t, 2, confirms, "the replay confirmed the lease")
	assert.Equal(t, 1, srv.Count("POST", refillPath), "only the rejected request reached the server")
	assert.Zero(t, srv.TransactionCount(id, "refill"))
}

// TestRefillOnceAttemptEndsWithTheLease (issue 25): each attempt's deadline is capped at the
// lease's end, so no request goes on after it.
func TestRefillOnceAttemptEndsWithTheLease(t *testing.T) {
	t.Parallel()
	until := time.Now().Add(time.Hour)
	var deadline atomic.Pointer[time.Time]
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost {
			dl, _ := r.Context().Deadline()
			deadline.Store(&dl)
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	lease := &testLease{until: until}
	srv, c, id, _ := leaseSetup(t, lease, probonus.WithHTTPClient(&http.Client{Transport: tr}), probonus.WithTimeout(2*time.Hour))
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 8, "50"))
	require.NoError(t, err)
	require.NotNil(t, deadline.Load())
	assert.Equal(t, until, *deadline.Load(), "the attempt's deadline is the lease's end, not the two-hour timeout")
	assert.Equal(t, 1, srv.TransactionCount(id, "refill"))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRefillOnceUnrecordedSendUnlocksAsDead (issue 25 #3): when the coordinator refuses to record
// an uncertain send, the holder does not unlock normally: the next holder must wait the settle
// time, as after a holder that died.
func TestRefillOnceUnrecordedSendUnlocksAsDead(t *testing.T) {
	t.Parallel()
	l := &ledger{hold: 1500 * time.Millisecond}
	base := l.server(t)
	lease := &testLease{}
	coord := &leaseCoordinator{lease: lease, recordErr: errors.New("test: READONLY You can't write against a read only replica")}
	c := ledgerClient(t, base, "ledger-test-key", probonus.WithRefillCoordinator(coord), probonus.WithRefillSettle(3*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := c.Accounts.RefillOnce(ctx, review(1, 9, "50"))
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
	_, unlocks := lease.state()
	assert.Equal(t, []bool{false}, unlocks, "freed as by a holder that died")
}

// TestRefillOnceSaysWhoseCreditItIs (issue 25): a credit found after a send of its own whose answer
// was lost may be another caller's: FromHistory without AlreadyApplied; found before any send:
// both; two credits of the key are never reported as one.
func TestRefillOnceSaysWhoseCreditItIs(t *testing.T) {
	t.Parallel()
	t.Run("after its own uncertain send", func(t *testing.T) {
		t.Parallel()
		srv, c, id := onceSetup(t)
		srv.Inject("POST", refillPath, probonustest.Fault{AfterApply: true, Reset: true})
		res, err := c.Accounts.RefillOnce(context.Background(), review(id, 10, "50"))
		require.NoError(t, err)
		assert.True(t, res.FromHistory)
		assert.False(t, res.AlreadyApplied)
		assert.Empty(t, res.Duplicates)
	})
	t.Run("answered", func(t *testing.T) {
		t.Parallel()
		_, c, id := onceSetup(t)
		res, err := c.Accounts.RefillOnce(context.Background(), review(id, 11, "50"))
		require.NoError(t, err)
		assert.False(t, res.FromHistory)
		assert.False(t, res.AlreadyApplied)
	})
	t.Run("credited twice before", func(t *testing.T) {
		t.Parallel()
		srv, c, id := onceSetup(t)
		for range 2 {
			_, err := c.Accounts.Refill(context.Background(), review(id, 12, "50"))
			require.NoError(t, err)
		}
		res, err := c.Accounts.RefillOnce(context.Background(), review(id, 12, "50.00"))
		require.NoError(t, err)
		assert.True(t, res.AlreadyApplied)
		assert.True(t, res.FromHistory)
		require.Len(t, res.Duplicates, 1, "the second credit is reported")
		assert.NotEqual(t, res.TransactionID, res.Duplicates[0])
		assert.Equal(t, 2, srv.TransactionCount(id, "refill"))
	})
}

// TestRefillOnceNeverReturnsAResultWithAnError (issue 26 #12): a credit found whose balance cannot
// be read is a success; BalanceErr says what is not known.
func TestRefillOnceNeverReturnsAResultWithAnError(t *testing.T) {
	t.Parallel()
	srv, c, id := onceSetup(t)
	_, err := c.Accounts.Refill(context.Background(), review(id, 13, "50"))
	require.NoError(t, err)
	srv.Inject("GET", "/api/v0/accounts/get_balance_extended", probonustest.Fault{Status: http.StatusBadRequest, Body: `{"detail":"no"}`})
	res, err := c.Accounts.RefillOnce(context.Background(), review(id, 13, "50"))
	require.NoError(t, err)
	require.NotNil(t, res)
	assert.True(t, res.AlreadyApplied)
	assert.NotZero(t, res.TransactionID)
	require.Error(t, res.BalanceErr)
	assert.Contains(t, res.BalanceErr.Error(), "reading the balance failed")
	assert.True(t, res.Balance.IsZero())
}

// TestRefillOnceShortDeadlineWaitsHalfOfIt (issue 26 #11): under a deadline shorter than the
// settle time, RefillOnce waits half of what remains before it looks, as its docs say: a send
// held 600 ms is found by a rerun whose deadline is 2 s, though the settle time is 10 s.
func TestRefillOnceShortDeadlineWaitsHalfOfIt(t *testing.T) {
	t.Parallel()
	l := &ledger{hold: 600 * time.Millisecond}
	base := l.server(t)
	c := ledgerClient(t, base, "ledger-test-key", probonus.WithRefillSettle(10*time.Second), probonus.WithTimeout(100*time.Millisecond),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
	_, err := c.Accounts.Refill(context.Background(), review(1, 14, "50"))
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := c.Accounts.RefillOnce(ctx, review(1, 14, "50"))
	require.NoError(t, err, "a look at once would not have found the held send")
	assert.True(t, res.AlreadyApplied)
	assert.Equal(t, int32(1), l.posts.Load())
}
