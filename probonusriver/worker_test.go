package probonusriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appliedPerKey counts the credits the fake applied to each account, by reason.
func appliedPerKey(srv *probonustest.Server, accounts []int64) map[string]int {
	out := map[string]int{}
	for _, a := range accounts {
		for _, tx := range srv.Refills(a) {
			out[fmt.Sprintf("%d/%s/%s", a, tx.Reason, tx.Sum)]++
		}
	}
	return out
}

func jobsIn(q queue, state rivertype.JobState) int {
	n := 0
	for _, j := range q.jobs(context.Background()) {
		if j.State == state {
			n++
		}
	}
	return n
}

// issue 27: ProBonus down (connections refused, then 503s, some with Retry-After) for a while,
// then back: every credit is delivered exactly once, none lost.
func TestOutageThenBackDeliversEachCreditOnce(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			srv, accounts := newFake(t, 10)
			g := newGate(t, srv)
			q, _ := newQueue(t, db, testConfig(g.URL()))
			ctx := context.Background()
			want := map[string]int{}
			for i, a := range accounts {
				for k := range 3 {
					r := refill(a, fmt.Sprintf("%d.50", 10+k), fmt.Sprintf("Order %d-%d", i, k))
					_, err := q.enqueue(ctx, r, false)
					require.NoError(t, err)
					want[fmt.Sprintf("%d/%s/%s", a, *r.Reason, r.Amount)] = 1
				}
			}
			g.close()
			startQueue(t, q)
			eventually(t, 20*time.Second, func() bool {
				for _, j := range q.jobs(ctx) {
					if len(j.Errors) > 0 && strings.Contains(j.Errors[len(j.Errors)-1].Error, "refused") {
						return true
					}
				}
				return false
			}, "no attempt met a refused connection")
			g.setBusy(true, time.Second)
			g.open()
			eventually(t, 20*time.Second, func() bool { return len(g.hitsOf(http.MethodGet, probonustest.PathTransactions)) >= 20 },
				"the workers did not meet the 503s")
			g.setBusy(true, 0) // 503s without Retry-After: retried by River
			eventually(t, 20*time.Second, func() bool {
				for _, j := range q.jobs(ctx) {
					if len(j.Errors) > 0 && strings.Contains(j.Errors[len(j.Errors)-1].Error, "503") {
						return true
					}
				}
				return false
			}, "no attempt ended with a 503")
			assert.Empty(t, appliedPerKey(srv, accounts), "nothing is applied while the server is down")
			g.setBusy(false, 0)
			eventually(t, 60*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCompleted) == len(want) },
				"not every credit completed")
			assert.Equal(t, want, appliedPerKey(srv, accounts))
			assert.Equal(t, len(want), srv.Count(http.MethodPost, probonustest.PathRefill), "one POST per credit")
			snoozed := 0
			for _, j := range q.jobs(ctx) {
				if strings.Contains(string(j.Metadata), `"snoozes"`) {
					snoozed++
				}
			}
			assert.Positive(t, snoozed, "a 503 with Retry-After snoozes the job")
		})
	}
}

// issue 27: outcomes map to River's: an unknown account (404) and a validation refusal (422) are
// cancelled, never retried, and listed as not applied; a 503 with Retry-After snoozes; an
// uncertain send found by the look completes once.
func TestWorkerMapsOutcomes(t *testing.T) {
	t.Parallel()
	srv, accounts := newFake(t, 3)
	g := newGate(t, srv)
	q, _ := newQueue(t, "sqlite", testConfig(g.URL()))
	ctx := context.Background()
	validation := `{"detail":[{"loc":["body","amount"],"msg":"too large","type":"value_error"}]}`
	srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{Status: 422, Body: validation})
	srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{AfterApply: true, Reset: true})
	srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{Status: 503, Body: `{"detail":"busy"}`, RetryAfter: time.Second})
	srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{Status: 503, Body: `{"detail":"busy"}`, RetryAfter: time.Second})
	// One at a time, so that each meets the fault meant for it.
	for i, r := range []probonus.Refill{refill(accounts[0], "5", "refused"), refill(accounts[1], "6", "uncertain"),
		refill(accounts[2], "7", "asked to wait"), refill(999999, "8", "unknown account")} {
		_, err := q.enqueue(ctx, r, false)
		require.NoError(t, err)
		if i == 0 {
			startQueue(t, q)
		}
		eventually(t, 20*time.Second, func() bool {
			return jobsIn(q, rivertype.JobStateCompleted)+jobsIn(q, rivertype.JobStateCancelled) == i+1
		}, "credit %d did not finish", i)
	}
	jobs := q.jobs(ctx)
	require.Len(t, jobs, 4)
	assert.Equal(t, []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateCompleted,
		rivertype.JobStateCancelled}, []rivertype.JobState{jobs[0].State, jobs[1].State, jobs[2].State, jobs[3].State})
	assert.Equal(t, 1, jobs[0].Attempt, "a 422 is not retried")
	assert.Equal(t, 1, jobs[3].Attempt, "a 404 is not retried")
	assert.Equal(t, map[string]int{fmt.Sprintf("%d/uncertain/6.00", accounts[1]): 1, fmt.Sprintf("%d/asked to wait/7.00", accounts[2]): 1},
		appliedPerKey(srv, accounts))
	assert.NotZero(t, readMeta(jobs[1].Metadata).TransactionID, "the uncertain send was found, not sent again")
	assert.Contains(t, string(jobs[2].Metadata), `"snoozes":1`)
	assert.Equal(t, 1, jobs[2].Attempt, "a snooze costs no attempt: %+v %s", jobs[2].Errors, jobs[2].Metadata)

	stuck, err := q.stuckList(ctx)
	require.NoError(t, err)
	require.Len(t, stuck, 2)
	assert.Equal(t, "refused", *stuck[0].Refill.Reason)
	assert.Contains(t, stuck[0].LastError, "422")
	assert.Contains(t, stuck[1].LastError, "404")
	for _, s := range stuck {
		assert.False(t, s.MayBeApplied, "job %d", s.JobID)
		assert.False(t, s.TooOld)
		assert.Equal(t, rivertype.JobStateCancelled, s.State)
	}
}

// issue 27: Retry of a stuck credit sends it once the cause is gone (the account now exists),
// looking first; a job that is not a stuck credit is refused.
func TestRetryStuckCredit(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, 1)
	q, _ := newQueue(t, "sqlite", testConfig(srv.URL()))
	ctx := context.Background()
	e, err := q.enqueue(ctx, refill(5000, "9", "late account"), false)
	require.NoError(t, err)
	startQueue(t, q)
	eventually(t, 20*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCancelled) == 1 }, "not cancelled")
	require.ErrorIs(t, q.retry(ctx, e.JobID+1000), river.ErrNotFound)
	srv.AddAccount(probonustest.Account{ID: 5000, GroupID: 1})
	require.NoError(t, q.retry(ctx, e.JobID))
	eventually(t, 20*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCompleted) == 1 }, "not completed")
	assert.Len(t, srv.Refills(5000), 1)
	assert.ErrorIs(t, q.retry(ctx, e.JobID), ErrNotStuck, "a completed credit is not retried")
	stuck, err := q.stuckList(ctx)
	require.NoError(t, err)
	assert.Empty(t, stuck)
}

// issue 27: a job older than the lookback (less the margin) is cancelled as too old to verify,
// never sent, and listed: as possibly applied when an earlier attempt's send was uncertain, and
// Retry refuses it.
func TestTooOldIsCancelledNotSent(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			srv, accounts := newFake(t, 2)
			var shift atomic.Int64
			cfg := testConfig(srv.URL())
			cfg.now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
			q, _ := newQueue(t, db, cfg)
			ctx := context.Background()

			// The first credit's send is applied and its answer lost; the looks after it fail.
			srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{AfterApply: true, Reset: true})
			srv.Inject(http.MethodGet, probonustest.PathTransactions, probonustest.Fault{}) // the look before sending passes
			for range 200 {
				srv.Inject(http.MethodGet, probonustest.PathTransactions, probonustest.Fault{Status: 500, Body: `{"detail":"down"}`})
			}
			e1, err := q.enqueue(ctx, refill(accounts[0], "11", "uncertain then old"), false)
			require.NoError(t, err)
			startQueue(t, q)
			eventually(t, 20*time.Second, func() bool {
				j := q.jobs(ctx)[0]
				return readMeta(j.Metadata).MayBeApplied
			}, "the uncertain send was not recorded")
			shift.Store(int64(31 * 24 * time.Hour))
			eventually(t, 20*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCancelled) == 1 }, "not cancelled")
			require.Len(t, srv.Refills(accounts[0]), 1, "the first send was applied")

			// A second credit that is already too old when first worked: nothing was ever sent.
			e2, err := q.enqueue(ctx, refill(accounts[1], "12", "never tried"), false)
			require.NoError(t, err)
			eventually(t, 20*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCancelled) == 2 }, "not cancelled")

			assert.Equal(t, 1, srv.Count(http.MethodPost, probonustest.PathRefill), "no send after the job was too old")
			stuck, err := q.stuckList(ctx)
			require.NoError(t, err)
			require.Len(t, stuck, 2)
			assert.Equal(t, e1.JobID, stuck[0].JobID)
			assert.True(t, stuck[0].MayBeApplied)
			assert.True(t, stuck[0].TooOld)
			assert.Contains(t, stuck[0].LastError, "too old to verify")
			assert.Equal(t, e2.JobID, stuck[1].JobID)
			assert.False(t, stuck[1].MayBeApplied)
			assert.ErrorIs(t, q.retry(ctx, e1.JobID), ErrTooOld)
		})
	}
}

// issue 27: the memory of an uncertain send moves with the job: an attempt that finds one in the
// job's metadata (from another process, a retry, a hand-off, a rescue) snoozes until it has
// settled, and sends and looks at nothing meanwhile.
func TestWorkSnoozesUntilAnUncertainSendSettled(t *testing.T) {
	t.Parallel()
	srv, accounts := newFake(t, 1)
	cfg := testConfig(srv.URL())
	r, err := cfg.resolve()
	require.NoError(t, err)
	client, err := probonus.New(cfg.ClientOptions...)
	require.NoError(t, err)
	w := &refillWorker{cfg: r, client: client, log: quiet}
	at := time.Now().Add(-100 * time.Millisecond)
	meta, err := json.Marshal(map[string]any{metaKey: jobMeta{UncertainAt: at, Settle: time.Second, MayBeApplied: true, Ended: 1}})
	require.NoError(t, err)
	job := &river.Job[RefillArgs]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: 2, CreatedAt: time.Now(), Metadata: meta},
		Args:   RefillArgs{AccountID: accounts[0], Amount: "5.00", Reason: "r"},
	}
	err = w.Work(context.Background(), job)
	var snooze *river.JobSnoozeError
	require.True(t, errors.As(err, &snooze), "%v", err)
	assert.InDelta(t, float64(900*time.Millisecond), float64(snooze.Duration), float64(50*time.Millisecond))
	assert.Empty(t, srv.Requests(), "nothing looked at or sent before the settle time")

	// Once settled, it looks (and sends, the credit being absent).
	job.Metadata, err = json.Marshal(map[string]any{metaKey: jobMeta{UncertainAt: time.Now().Add(-2 * time.Second), Settle: time.Second}})
	require.NoError(t, err)
	require.NoError(t, w.Work(context.Background(), job))
	assert.Len(t, srv.Refills(accounts[0]), 1)
}

// issue 27: River rescues a job RescueStuckJobsAfter after its AttemptedAt, which the fetch set,
// while the job timeout runs from when the work began, which a loaded process may begin late. A
// job with too little of the rescue's time left is handed back untouched, nothing looked at or
// sent; otherwise its sends end a settle time before the rescue.
func TestWorkHandsBackAJobFetchedTooLongAgo(t *testing.T) {
	t.Parallel()
	srv, accounts := newFake(t, 1)
	cfg := testConfig(srv.URL())
	r, err := cfg.resolve()
	require.NoError(t, err)
	client, err := probonus.New(cfg.ClientOptions...)
	require.NoError(t, err)
	w := &refillWorker{cfg: r, client: client, log: quiet}
	fetched := time.Now().Add(-(testRescue - testSettle - time.Second))
	job := &river.Job[RefillArgs]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, CreatedAt: fetched, AttemptedAt: &fetched},
		Args:   RefillArgs{AccountID: accounts[0], Amount: "5.00", Reason: "r"},
	}
	err = w.Work(context.Background(), job)
	var snooze *river.JobSnoozeError
	require.True(t, errors.As(err, &snooze), "%v", err)
	assert.Zero(t, snooze.Duration)
	assert.Empty(t, srv.Requests(), "nothing looked at or sent")

	fetched = time.Now()
	require.NoError(t, w.Work(context.Background(), job))
	assert.Len(t, srv.Refills(accounts[0]), 1)
}
