package probonus_test

// Adversarial review of issue 25's SDK side (RefillOnce under a fleet's lease). Each
// TestReview25... test below FAILS on the reviewed code (branch fleet at 371d2ba) and shows one
// finding; the lead fixes and moves the test beside its code. Findings:
//
//  1. A write gate's refusal is taken for an uncertain send (TestReview25GateRefusalIsNotASend).
//     The gate's *leaseError carries uncertain=o.pending, so it matches ErrOutcomeUnknown; run's
//     loop then treats "nothing sent: lease lost" as a send whose answer was lost: it records a send
//     that never happened, waits the settle time, looks again, and asks the coordinator again
//     (Confirm) before each further "send", up to MaxAttempts, under a lease it knows is lost. It
//     ends saying "sent 3 times without a definitive answer" when it sent once (or not at
//     all), and with Lost closed it prints "%!w(<nil>)" (stillUnknown unwraps the nil err of a
//     leaseError). A lease found lost must end the call at once.
//  2. A coordinator error at the gate of a resend drops the uncertainty of this call's own first
//     send (TestReview25ResendRefusedByTheCoordinatorStaysUnknown): the *coordinatorError is
//     returned as it is, so errors.Is(err, ErrOutcomeUnknown) is false and its text says
//     "(nothing sent)", while ErrCoordinatorUnavailable's doc says the credit was neither looked
//     for nor sent: the caller is told it is safe while a send of this call is still unknown.
//  3. The same for a context that ends before a resend is handed to the transport: in Confirm
//     (a Confirm that blocks until ctx ends), or in the rate limiter's Wait
//     (TestReview25ResendCancelledBeforeTheWireStaysUnknown): the error is the context's,
//     without ErrOutcomeUnknown, though the first send's outcome is unknown.
//  4. Observers see a refused write as one whose outcome is unknown
//     (TestReview25ObserverSeesARefusedWriteAsNotSent): Call.OutcomeUnknown ("a write that may
//     have been applied") is true for the refill call the gate stopped before the transport,
//     whenever the key had an uncertain send on record; the logger observer logs
//     outcome_unknown=true and a metrics adapter counts it.
//  5. Lost closing after the gate, while the request is still on its way to the wire (a slow
//     dial, a wait for a connection), does not stop it (TestReview25LostDuringTheDialSendsNothing):
//     the attempt's context is capped at Until but not tied to Lost, so a request that had not
//     been written when the holder learned its lease was lost is written anyway. (Lost can close
//     well before Until: a Redis that lost its memory gives the key to another holder at once.)
//  6. Two credits of the key reported as one (TestReview25DuplicatesOnAnotherPage): Duplicates
//     holds only the entries in the same answer as the credit found; a server answering in pages
//     (the look reads past pages only when the credit is not found) hides the other credit:
//     AlreadyApplied with no Duplicates while the account holds two.
//  7. A lease lost after this call's own uncertain send says "nothing sent this time"
//     (TestReview25LeaseLostAfterItsOwnSendDoesNotSayNothingSent): the text then speaks of "an
//     earlier send of this key" for the call's own send.
//  8. A Lock that fails with its own error when ctx has ended is neither the context's error nor
//     ErrCoordinatorUnavailable (TestReview25LockFailingAsCtxEndsIsTyped): RefillOnce wraps the
//     coordinator's error where run() uses ctx.Err().
//  9. The write gate rides in the context, through the observers' hands
//     (TestReview25GateSurvivesAnObserversContext): an observer whose CallStart (or AttemptStart)
//     returns a context without the caller's values removes the gate and the cap at the lease's
//     end, and the refill goes out under a lease the coordinator says is lost.
//
// Areas tried that held (no test here): the gate sits after Authenticate (a slow bearer login) and
// after the limiter's Wait, and refuses once Until passed there (Confirm that does not extend); the
// capped attempt deadline firing after the request was written ends as ErrOutcomeUnknown, recorded,
// and unlocked clean; a look answered after Until is confirmed and redone; Lost closing during the
// settle wait ends it; Unlock is called once, with clean=false after a refused record; the login
// (noAuth, idempotent) and reads never meet the gate; plain Refill and Do carry no gate; the
// in-process coordinator's lease never lapses; no goroutine or timer left (goleak in TestMain).

import (
	"context"
	"errors"
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

// limiterFunc is a Limiter a test steers.
type limiterFunc func(ctx context.Context) error

func (f limiterFunc) Wait(ctx context.Context) error { return f(ctx) }

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
