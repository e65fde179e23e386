package probonus_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
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
// held 900 ms is found by a rerun whose deadline is 4 s, though the settle time is 30 s.
func TestRefillOnceShortDeadlineWaitsHalfOfIt(t *testing.T) {
	t.Parallel()
	l := &ledger{hold: 900 * time.Millisecond}
	base := l.server(t)
	c := ledgerClient(t, base, "ledger-test-key", probonus.WithRefillSettle(30*time.Second), probonus.WithTimeout(300*time.Millisecond),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
	_, err := c.Accounts.Refill(context.Background(), review(1, 14, "50"))
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	res, err := c.Accounts.RefillOnce(ctx, review(1, 14, "50"))
	require.NoError(t, err, "a look at once would not have found the held send")
	assert.True(t, res.AlreadyApplied)
	assert.Equal(t, int32(1), l.posts.Load())
}

// limiterFunc is a Limiter a test steers.
type limiterFunc func(ctx context.Context) error

func (f limiterFunc) Wait(ctx context.Context) error { return f(ctx) }

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25GateRefusalIsNotASend (review 25 finding 1): a lease found lost at a write's gate
// ends RefillOnce at once: no record of a send that did not happen, no further look, no further
// Confirm, no "sent N times".
func TestReview25GateRefusalIsNotASend(t *testing.T) {
	t.Parallel()
	t.Run("Confirm says lost at the resend", func(t *testing.T) {
		t.Parallel()
		lease := &testLease{confirm: func(n int) error {
			if n == 1 {
				return nil
			}
			return errLost
		}}
		srv, c, id, _ := leaseSetup(t, lease)
		srv.Inject("POST", refillPath, probonustest.Fault{Reset: true}) // written, not applied: unknown
		res, err := c.Accounts.RefillOnce(context.Background(), review(id, 2501, "50"))
		require.Error(t, err)
		assert.Nil(t, res)
		assert.ErrorIs(t, err, probonus.ErrLeaseLost)
		assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "its first send is uncertain")
		confirms, _ := lease.state()
		assert.Equal(t, 2, confirms, "asked again after the coordinator said the lease is lost")
		assert.Equal(t, 1, srv.Count("POST", refillPath))
		assert.Equal(t, 2, srv.Count("GET", transactionsPath), "looked again under a lease known lost")
		assert.NotContains(t, err.Error(), "sent 3 times", "it sent once")
	})
	t.Run("an earlier send on record, Confirm says lost at the first send", func(t *testing.T) {
		t.Parallel()
		lease := &testLease{confirm: func(int) error { return errLost }}
		srv, c, id, _ := leaseSetup(t, lease)
		srv.Inject("POST", refillPath, probonustest.Fault{Reset: true})
		_, err := c.Accounts.Refill(context.Background(), review(id, 2502, "50"))
		require.ErrorIs(t, err, probonus.ErrOutcomeUnknown) // recorded for the key
		_, err = c.Accounts.RefillOnce(context.Background(), review(id, 2502, "50"))
		require.ErrorIs(t, err, probonus.ErrLeaseLost)
		confirms, _ := lease.state()
		assert.Equal(t, 1, confirms, "one refusal ends the call")
		assert.Equal(t, 1, srv.Count("GET", transactionsPath), "no look after the refusal")
		assert.NotContains(t, err.Error(), "without a definitive answer, and the credit is not in the history",
			"RefillOnce sent nothing: it must not say it sent")
	})
	t.Run("Lost closes in the limiter's Wait before the resend", func(t *testing.T) {
		t.Parallel()
		lost := make(chan struct{})
		var once sync.Once
		var srv *probonustest.Server
		lim := limiterFunc(func(ctx context.Context) error {
			if srv.Count("POST", refillPath) == 1 && srv.Count("GET", transactionsPath) == 2 {
				once.Do(func() { close(lost) })
			}
			return nil
		})
		lease := &testLease{lost: lost}
		srv, c, id, _ := leaseSetup(t, lease, probonus.WithLimiter(lim))
		srv.Inject("POST", refillPath, probonustest.Fault{Reset: true})
		_, err := c.Accounts.RefillOnce(context.Background(), review(id, 2503, "50"))
		require.ErrorIs(t, err, probonus.ErrLeaseLost)
		assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
		assert.NotContains(t, err.Error(), "%!", "a broken format verb in the error text")
		assert.Equal(t, 1, srv.Count("POST", refillPath))
	})
}

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25ResendRefusedByTheCoordinatorStaysUnknown (review 25 finding 2): this call's first
// send is uncertain; its resend's gate finds the coordinator unreachable. The error must still
// match ErrOutcomeUnknown (and ErrCoordinatorUnavailable), not claim nothing was sent.
func TestReview25ResendRefusedByTheCoordinatorStaysUnknown(t *testing.T) {
	t.Parallel()
	lease := &testLease{confirm: func(n int) error {
		if n == 1 {
			return nil
		}
		return errors.New("test: dial tcp 10.0.0.7:6379: connect: connection refused")
	}}
	srv, c, id, _ := leaseSetup(t, lease)
	srv.Inject("POST", refillPath, probonustest.Fault{Reset: true})
	res, err := c.Accounts.RefillOnce(context.Background(), review(id, 2504, "50"))
	require.Error(t, err)
	assert.Nil(t, res)
	assert.ErrorIs(t, err, probonus.ErrCoordinatorUnavailable)
	assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the first send of this call has no definitive answer")
	assert.Equal(t, 1, srv.Count("POST", refillPath))
}

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25ResendCancelledBeforeTheWireStaysUnknown (review 25 finding 3): the context ends
// after this call's uncertain first send, before its resend reaches the wire: the error matches
// ErrOutcomeUnknown.
func TestReview25ResendCancelledBeforeTheWireStaysUnknown(t *testing.T) {
	t.Parallel()
	t.Run("a Confirm that blocks until ctx ends", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		lease := &testLease{confirm: func(n int) error {
			if n == 1 {
				return nil
			}
			cancel() // the caller gives up while Confirm waits on Redis
			<-ctx.Done()
			return ctx.Err()
		}}
		srv, c, id, _ := leaseSetup(t, lease)
		srv.Inject("POST", refillPath, probonustest.Fault{Reset: true})
		_, err := c.Accounts.RefillOnce(ctx, review(id, 2505, "50"))
		require.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the first send of this call has no definitive answer")
		assert.Equal(t, 1, srv.Count("POST", refillPath))
	})
	t.Run("the rate limiter's Wait", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var srv *probonustest.Server
		lim := limiterFunc(func(ctx context.Context) error {
			if srv.Count("POST", refillPath) == 1 && srv.Count("GET", transactionsPath) == 2 {
				cancel()
				return ctx.Err()
			}
			return nil
		})
		srv, c, id, _ := leaseSetup(t, &testLease{}, probonus.WithLimiter(lim))
		srv.Inject("POST", refillPath, probonustest.Fault{Reset: true})
		_, err := c.Accounts.RefillOnce(ctx, review(id, 2506, "50"))
		require.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the first send of this call has no definitive answer")
		assert.Equal(t, 1, srv.Count("POST", refillPath))
	})
}

// refillCalls records what the observers see of refill calls once armed.
type refillCalls struct {
	armed atomic.Bool
	mu    sync.Mutex
	calls []probonus.Call
}

func (o *refillCalls) CallStart(ctx context.Context, _ *probonus.Call) context.Context { return ctx }

func (o *refillCalls) CallEnd(_ context.Context, c *probonus.Call) {
	if o.armed.Load() && c.Method == http.MethodPost {
		o.mu.Lock()
		o.calls = append(o.calls, *c)
		o.mu.Unlock()
	}
}

func (o *refillCalls) AttemptStart(ctx context.Context, _ *probonus.Attempt) context.Context {
	return ctx
}

func (o *refillCalls) AttemptEnd(context.Context, *probonus.Attempt) {}

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25ObserverSeesARefusedWriteAsNotSent (review 25 finding 4): a refill call stopped by
// the gate before the transport was not applied: observers must not see OutcomeUnknown.
func TestReview25ObserverSeesARefusedWriteAsNotSent(t *testing.T) {
	t.Parallel()
	obs := &refillCalls{}
	lease := &testLease{confirm: func(int) error { return errLost }}
	srv, c, id, _ := leaseSetup(t, lease, probonus.WithObserver(obs))
	srv.Inject("POST", refillPath, probonustest.Fault{Reset: true})
	_, err := c.Accounts.Refill(context.Background(), review(id, 2507, "50"))
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown) // the key has an uncertain send on record
	obs.armed.Store(true)
	_, err = c.Accounts.RefillOnce(context.Background(), review(id, 2507, "50"))
	require.ErrorIs(t, err, probonus.ErrLeaseLost)
	assert.Equal(t, 1, srv.Count("POST", refillPath), "RefillOnce sent nothing")
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.NotEmpty(t, obs.calls)
	for _, call := range obs.calls {
		assert.ErrorIs(t, call.Err, probonus.ErrLeaseLost)
		assert.False(t, call.OutcomeUnknown, "a write stopped before the transport may not have been applied")
	}
}

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25LostDuringTheDialSendsNothing (review 25 finding 5): the gate passed, then the
// holder learns its lease is lost (Lost closes) while the request is still dialing (1 s, honouring
// the request's context as net.Dialer does). Nothing has been written yet: nothing may be.
func TestReview25LostDuringTheDialSendsNothing(t *testing.T) {
	t.Parallel()
	lost := make(chan struct{})
	var armed atomic.Bool
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if armed.Swap(false) {
			close(lost) // a renewal finds the key another's
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	lease := &testLease{lost: lost, confirm: func(n int) error {
		if n == 1 {
			armed.Store(true) // the gate passed: the next dial is the refill's
		}
		return nil
	}}
	srv, c, id, _ := leaseSetup(t, lease, probonus.WithHTTPClient(&http.Client{Transport: tr}), probonus.WithTimeout(10*time.Second))
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 2508, "50"))
	assert.ErrorIs(t, err, probonus.ErrLeaseLost)
	assert.Zero(t, srv.Count("POST", refillPath), "written after the holder knew its lease was lost")
	assert.Zero(t, srv.TransactionCount(id, "refill"))
}

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25DuplicatesOnAnotherPage (review 25 finding 6): the account holds the key's credit
// twice, 25 entries apart, and the server answers 20 entries a page, newest first. RefillOnce
// must not report one credit: two credits are never reported as one.
func TestReview25DuplicatesOnAnotherPage(t *testing.T) {
	t.Parallel()
	l := &ledger{pageCap: 20}
	now := time.Now()
	reason := "Отзыв о заказе 2509"
	l.add(now.Add(-2*time.Hour), "refill", "50", reason)
	for i := range 25 {
		l.add(now.Add(-time.Hour+time.Duration(i)*time.Second), "refill", "1", "other")
	}
	l.add(now.Add(-time.Minute), "refill", "50", reason)
	c := ledgerClient(t, l.server(t), "ledger-test-key")
	res, err := c.Accounts.RefillOnce(context.Background(), review(1, 2509, "50"))
	require.NoError(t, err)
	require.Equal(t, 2, l.credits(reason))
	assert.True(t, res.AlreadyApplied)
	assert.Len(t, res.Duplicates, 1, "the account holds the credit twice; the result says once")
}

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25LeaseLostAfterItsOwnSendDoesNotSayNothingSent (review 25 finding 7): after this
// call's own send had no answer, the lease is lost while it waits to look: the error must not say
// "nothing sent this time".
func TestReview25LeaseLostAfterItsOwnSendDoesNotSayNothingSent(t *testing.T) {
	t.Parallel()
	lost := make(chan struct{})
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if r.Method == http.MethodPost {
			close(lost) // the renewal finds the key another's while this send settles
		}
		return resp, err
	})
	lease := &testLease{lost: lost}
	srv, c, id, _ := leaseSetup(t, lease, probonus.WithHTTPClient(&http.Client{Transport: tr}))
	srv.Inject("POST", refillPath, probonustest.Fault{Reset: true})
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 2510, "50"))
	require.ErrorIs(t, err, probonus.ErrLeaseLost)
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
	assert.Equal(t, 1, srv.Count("POST", refillPath))
	assert.NotContains(t, err.Error(), "nothing sent this time", "this call sent once, and its outcome is unknown")
}

// lockFailsAsCtxEnds is a coordinator whose Lock answers with its own error once ctx ends (a
// client whose pool wait gave up, say).
type lockFailsAsCtxEnds struct{ leaseCoordinator }

func (*lockFailsAsCtxEnds) Lock(ctx context.Context, _ string, _ time.Duration) (probonus.RefillLease, error) {
	<-ctx.Done()
	return nil, errors.New("test: redis: connection pool timeout")
}

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25LockFailingAsCtxEndsIsTyped (review 25 finding 8): the error of a Lock that failed
// as ctx ended matches ctx's error (as LastUncertain's and Confirm's do), or else
// ErrCoordinatorUnavailable: one of the two, not neither.
func TestReview25LockFailingAsCtxEndsIsTyped(t *testing.T) {
	t.Parallel()
	_, c, id := onceSetup(t, probonus.WithRefillCoordinator(&lockFailsAsCtxEnds{}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Accounts.RefillOnce(ctx, review(id, 2511, "50"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, probonus.ErrCoordinatorUnavailable),
		"untyped: %v", err)
	assert.False(t, strings.Contains(err.Error(), "%!"))
}

// freshContextObserver is an observer whose CallStart hands back a context of its own (a tracing
// library that starts a new root context, say), keeping none of the caller's values.
type freshContextObserver struct{ refillCalls }

func (*freshContextObserver) CallStart(context.Context, *probonus.Call) context.Context {
	return context.Background()
}

// From the adversarial review of issue 25 (the SDK under a fleet's lease).
// TestReview25GateSurvivesAnObserversContext (review 25 finding 9): the write gate travels in the
// context, through the observers' CallStart and AttemptStart: an observer that returns a context
// without the caller's values removes the gate, and the refill is sent under a lease the
// coordinator says is lost (and without the cap at the lease's end). The gate belongs to the call,
// not to what a hook returns.
func TestReview25GateSurvivesAnObserversContext(t *testing.T) {
	t.Parallel()
	lease := &testLease{confirm: func(int) error { return errLost }}
	srv, c, id, _ := leaseSetup(t, lease, probonus.WithObserver(&freshContextObserver{}))
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 2512, "50"))
	assert.ErrorIs(t, err, probonus.ErrLeaseLost)
	assert.Zero(t, srv.Count("POST", refillPath), "sent under a lease the coordinator said is lost")
}
