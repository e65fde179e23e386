package probonus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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

// ledgerTx is one entry of a ledger's history.
type ledgerTx struct {
	id               int64
	at               time.Time
	typ, sum, reason string
}

// ledger is a raw history server for one account: refills apply as hold says; a period is
// compared at whole seconds, as the wire has them, and answered newest first (oldest first with
// oldestFirst), cut to pageCap entries when it is set, the way a server with a page size would;
// the last-N read (?count=N) is answered only with lastN.
type ledger struct {
	mu          sync.Mutex
	txs         []ledgerTx
	nextID      int64
	posts       atomic.Int32
	gets        atomic.Int32 // history reads
	pageCap     int
	oldestFirst bool
	lastN       bool
	// hold, when set, keeps a refill for this long before applying it, whatever the client does
	// meanwhile (a slow commit, a proxy holding the request); the client gets no answer.
	hold time.Duration
}

func (l *ledger) add(at time.Time, typ, sum, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nextID++
	l.txs = append(l.txs, ledgerTx{l.nextID, at, typ, sum, reason})
}

func (l *ledger) credits(reason string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, tx := range l.txs {
		if tx.reason == reason && tx.typ == "refill" {
			n++
		}
	}
	return n
}

func (l *ledger) server(t *testing.T) string {
	msk := time.FixedZone("MSK", 3*60*60)
	var held sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case refillPath:
			l.posts.Add(1)
			var in struct {
				Amount probonus.Amount `json:"amount"`
				Reason string          `json:"reason"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			apply := func() { l.add(time.Now(), "refill", in.Amount.String(), in.Reason) }
			if l.hold > 0 {
				held.Add(1)
				go func() { defer held.Done(); time.Sleep(l.hold); apply() }()
				<-r.Context().Done()
				return
			}
			apply()
			_, _ = fmt.Fprintf(w, `{"transactionId":%d,"balance":"1.00"}`, l.nextID)
		case "/api/v0/accounts/transactions":
			l.gets.Add(1)
			q := r.URL.Query()
			entry := func(tx ledgerTx) map[string]any {
				return map[string]any{"id": tx.id, "datetime": tx.at.In(msk).Format("2006-01-02T15:04:05"),
					"type": tx.typ, "sum": tx.sum, "reason": tx.reason}
			}
			out := []map[string]any{}
			if n, err := strconv.Atoi(q.Get("count")); err == nil && l.lastN {
				l.mu.Lock()
				for i := len(l.txs) - 1; i >= 0 && len(out) < n; i-- {
					out = append(out, entry(l.txs[i]))
				}
				l.mu.Unlock()
				_ = json.NewEncoder(w).Encode(out)
				return
			}
			from, err1 := time.ParseInLocation("2006-01-02T15:04:05", q.Get("dateFrom"), msk)
			to, err2 := time.ParseInLocation("2006-01-02T15:04:05", q.Get("dateTo"), msk)
			if err1 != nil || err2 != nil {
				http.Error(w, "bad period", http.StatusUnprocessableEntity)
				return
			}
			l.mu.Lock()
			var in []ledgerTx
			for _, tx := range l.txs { // in time order
				if at := tx.at.Truncate(time.Second); !at.Before(from) && !at.After(to) {
					in = append(in, tx)
				}
			}
			l.mu.Unlock()
			if !l.oldestFirst {
				slices.Reverse(in)
			}
			if l.pageCap > 0 && len(in) > l.pageCap {
				in = in[:l.pageCap]
			}
			for _, tx := range in {
				out = append(out, entry(tx))
			}
			_ = json.NewEncoder(w).Encode(out)
		case "/api/v0/accounts/get_balance_extended":
			_, _ = io.WriteString(w, `{"bonusBalance":"1.00"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { srv.Close(); held.Wait() })
	return srv.URL
}

func ledgerClient(t *testing.T, base, key string, opts ...probonus.Option) *probonus.Client {
	t.Helper()
	c, err := probonus.New(append([]probonus.Option{probonus.WithBaseURL(base), probonus.WithAPIKey(key),
		probonus.WithTimeout(2 * time.Second), probonus.WithRefillSettle(20 * time.Millisecond),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})}, opts...)...)
	require.NoError(t, err)
	return c
}

// TestRefillOnceTwoClientsOneProcess (issue 17 #1): a client per request handler is still exactly
// once: RefillOnce is serialised per installation and key in the whole process, not per Client.
func TestRefillOnceTwoClientsOneProcess(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithLatency(20*time.Millisecond))
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	clients := make([]*probonus.Client, 4)
	for i := range clients {
		clients[i] = ledgerClient(t, srv.URL(), srv.APIKey())
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = clients[i%len(clients)].Accounts.RefillOnce(context.Background(), review(id, 17, "50"))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Count("POST", refillPath), "refills sent by 8 calls on 4 clients")
	assert.Equal(t, 1, srv.TransactionCount(id, "refill"))
}

// TestRefillOnceRerunAfterAnUncertainSend (issue 17 #2): the server holds a refill 1.5 s and
// then applies it; the first RefillOnce's deadline ends mid-send. A rerun right after, on another
// Client, waits for that send to settle before it looks, finds the credit and sends nothing.
func TestRefillOnceRerunAfterAnUncertainSend(t *testing.T) {
	t.Parallel()
	l := &ledger{hold: 1500 * time.Millisecond}
	base := l.server(t)
	settle := probonus.WithRefillSettle(3 * time.Second)
	first, second := ledgerClient(t, base, "ledger-test-key", settle), ledgerClient(t, base, "ledger-test-key", settle)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := first.Accounts.RefillOnce(ctx, review(1, 5, "50"))
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)

	res, err := second.Accounts.RefillOnce(context.Background(), review(1, 5, "50"))
	require.NoError(t, err)
	assert.True(t, res.AlreadyApplied, "the held send applied it")
	assert.Equal(t, int32(1), l.posts.Load(), "refills sent")
	assert.Equal(t, 1, l.credits("Отзыв о заказе 5"))
}

// TestRefillOnceRerunWithAShortDeadline (issue 17 #2): a rerun whose deadline ends before the
// earlier uncertain send has settled looks at once and, not finding the credit, sends nothing.
func TestRefillOnceRerunWithAShortDeadline(t *testing.T) {
	t.Parallel()
	l := &ledger{hold: 1500 * time.Millisecond} // longer than both deadlines: nothing shows before they end
	base := l.server(t)
	c := ledgerClient(t, base, "ledger-test-key", probonus.WithRefillSettle(3*time.Second))
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		_, err := c.Accounts.RefillOnce(ctx, review(1, 6, "50"))
		cancel()
		require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
	}
	assert.Equal(t, int32(1), l.posts.Load(), "refills sent: the rerun must not send before the first has settled")
}

// TestRefillAfterAnUncertainRefill (issue 17 #2): a plain Refill with a reason whose outcome is
// unknown is remembered too: the RefillOnce a caller runs next waits for it before looking.
func TestRefillOnceAfterAnUncertainRefill(t *testing.T) {
	t.Parallel()
	l := &ledger{hold: 1500 * time.Millisecond}
	base := l.server(t)
	c := ledgerClient(t, base, "ledger-test-key", probonus.WithRefillSettle(3*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := c.Accounts.Refill(ctx, review(1, 8, "50"))
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
	res, err := c.Accounts.RefillOnce(context.Background(), review(1, 8, "50.00"))
	require.NoError(t, err)
	assert.True(t, res.AlreadyApplied)
	assert.Equal(t, int32(1), l.posts.Load())
}

// TestRefillOnceFailsClosedOnTypes (issue 17 #3): an entry with the same reason and amount counts
// as the credit whatever its type, unless the type is one known not to be a credit.
func TestRefillOnceFailsClosedOnTypes(t *testing.T) {
	t.Parallel()
	for typ, sent := range map[string]int32{
		"refill": 0, "": 0, "manual_bonus": 0, "REFILL": 0, "bonus": 0,
		"check_accrual": 1, "check_payment": 1, "withdrawal": 1, "burn": 1, "deferred_accrual": 1,
	} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			l := &ledger{}
			l.add(time.Now().Add(-time.Hour), typ, "50.00", "Отзыв о заказе 9")
			_, err := ledgerClient(t, l.server(t), "ledger-test-key").Accounts.RefillOnce(context.Background(), review(1, 9, "50"))
			require.NoError(t, err)
			assert.Equal(t, sent, l.posts.Load(), "refills sent with a %q entry of the same reason and amount", typ)
		})
	}
}

// TestRefillOnceLooksPastACappedPage (issue 17 #5): a server that cuts a period's answer to a page
// hides an older credit from one look over the whole lookback; the look splits the window.
func TestRefillOnceLooksPastACappedPage(t *testing.T) {
	t.Parallel()
	l := &ledger{pageCap: 100}
	now := time.Now()
	l.add(now.Add(-20*24*time.Hour), "refill", "50.00", "Отзыв о заказе 10")
	for i := range 150 {
		l.add(now.Add(-time.Duration(150-i)*time.Hour), "check_accrual", "3.00", fmt.Sprint("Чек ", i))
	}
	res, err := ledgerClient(t, l.server(t), "ledger-test-key").Accounts.RefillOnce(context.Background(), review(1, 10, "50"))
	require.NoError(t, err)
	assert.True(t, res.AlreadyApplied)
	assert.Equal(t, int32(0), l.posts.Load(), "refills sent")
}

// TestTransactionsIncludeTheirLastSecond (issue 17 #5): to is included even when it has a
// fraction of a second: an entry in the same second as to, before it, is in the answer.
func TestTransactionsIncludeTheirLastSecond(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	c := ledgerClient(t, srv.URL(), srv.APIKey())
	for {
		before := time.Now()
		_, err := c.Accounts.Refill(context.Background(), review(id, 11, "5"))
		require.NoError(t, err)
		to := time.Now()
		if before.Truncate(time.Second).Equal(to.Truncate(time.Second)) && !before.Truncate(time.Second).Equal(before) {
			txs, err := c.Accounts.Transactions(context.Background(), id, to.Add(-time.Hour), to)
			require.NoError(t, err)
			require.NotEmpty(t, txs, "the refill at %v, before to %v", before, to)
			assert.Equal(t, "5.00", txs[0].Sum.String())
			return
		}
		// the refill crossed a second: it says nothing about to's fraction; again
	}
}

// brokenCoordinator fails as a coordinator whose Redis is down.
type brokenCoordinator struct{ lockErr, readErr error }

func (b brokenCoordinator) Lock(context.Context, string, time.Duration) (probonus.RefillLease, error) {
	if b.lockErr != nil {
		return nil, b.lockErr
	}
	return &testLease{}, nil
}
func (b brokenCoordinator) RecordUncertain(context.Context, string, probonus.UncertainSend) error {
	return nil
}
func (b brokenCoordinator) LastUncertain(context.Context, string) (probonus.UncertainSend, error) {
	return probonus.UncertainSend{}, b.readErr
}

// TestRefillOnceFailsClosedWithoutItsCoordinator (issue 20): a coordinator that cannot be reached
// stops RefillOnce before it looks or sends, with an error of its own, not ErrOutcomeUnknown.
func TestRefillOnceFailsClosedWithoutItsCoordinator(t *testing.T) {
	t.Parallel()
	down := errors.New("dial tcp 127.0.0.1:6379: connection refused")
	for name, rc := range map[string]brokenCoordinator{"lock": {lockErr: down}, "read": {readErr: down}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t)
			id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
			c, err := probonus.New(srv.ClientOptions(probonus.WithRefillCoordinator(rc))...)
			require.NoError(t, err)
			_, err = c.Accounts.RefillOnce(context.Background(), review(id, 1, "50"))
			require.ErrorIs(t, err, probonus.ErrCoordinatorUnavailable)
			assert.ErrorIs(t, err, down)
			assert.NotErrorIs(t, err, probonus.ErrOutcomeUnknown, "nothing was sent")
			assert.Equal(t, 0, srv.Count("POST", refillPath))
		})
	}
}

// recordingCoordinator is the process's own behaviour, counted.
type recordingCoordinator struct {
	mu      sync.Mutex
	locks   int
	records []probonus.UncertainSend
	last    map[string]probonus.UncertainSend
}

func (r *recordingCoordinator) Lock(context.Context, string, time.Duration) (probonus.RefillLease, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.locks++
	return &testLease{}, nil
}
func (r *recordingCoordinator) RecordUncertain(_ context.Context, key string, u probonus.UncertainSend) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, u)
	if r.last == nil {
		r.last = map[string]probonus.UncertainSend{}
	}
	r.last[key] = u
	return nil
}
func (r *recordingCoordinator) LastUncertain(_ context.Context, key string) (probonus.UncertainSend, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[key], nil
}

// TestRefillOnceUsesItsCoordinator: a lock per call, the uncertain send recorded with the client's
// settle time and lookback, then forgotten once the credit is found.
func TestRefillOnceUsesItsCoordinator(t *testing.T) {
	t.Parallel()
	rc := &recordingCoordinator{}
	srv, c, id := onceSetup(t, probonus.WithRefillCoordinator(rc), probonus.WithRefillLookback(48*time.Hour))
	srv.Inject("POST", refillPath, probonustest.Fault{AfterApply: true, Reset: true})
	_, err := c.Accounts.RefillOnce(context.Background(), review(id, 1, "50"))
	require.NoError(t, err)
	require.Len(t, rc.records, 2, "recorded, then forgotten")
	assert.False(t, rc.records[0].At.IsZero())
	assert.Equal(t, 20*time.Millisecond, rc.records[0].Settle)
	assert.Equal(t, 48*time.Hour, rc.records[0].Keep)
	assert.True(t, rc.records[1].At.IsZero(), "the credit was found: nothing pending")
	assert.Equal(t, 1, rc.locks)
}
