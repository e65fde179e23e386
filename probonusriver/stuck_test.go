package probonusriver

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue 27: a credit whose attempts ran out while ProBonus refused connections is discarded,
// listed with its attempts and last error as not applied (a refused connection sent nothing),
// and Retry delivers it once ProBonus is back.
func TestDiscardedCreditIsListedAndRetried(t *testing.T) {
	t.Parallel()
	srv, accounts := newFake(t, 1)
	g := newGate(t, srv)
	g.close()
	cfg := testConfig(g.URL())
	cfg.MaxAttempts = 2
	q, _ := newQueue(t, "sqlite", cfg)
	ctx := context.Background()
	e, err := q.enqueue(ctx, refill(accounts[0], "15", "Order during outage"), false)
	require.NoError(t, err)
	startQueue(t, q)
	eventually(t, 20*time.Second, func() bool { return jobsIn(q, rivertype.JobStateDiscarded) == 1 }, "not discarded")
	stuck, err := q.stuckList(ctx)
	require.NoError(t, err)
	require.Len(t, stuck, 1)
	s := stuck[0]
	assert.Equal(t, e.JobID, s.JobID)
	assert.Equal(t, rivertype.JobStateDiscarded, s.State)
	assert.Equal(t, 2, s.Attempts)
	assert.Contains(t, s.LastError, "refused")
	assert.False(t, s.MayBeApplied)
	assert.Equal(t, accounts[0], s.Refill.AccountID)
	assert.Equal(t, "15.00", s.Refill.Amount.String())
	assert.Equal(t, "Order during outage", *s.Refill.Reason)

	g.open()
	require.NoError(t, q.retry(ctx, e.JobID))
	eventually(t, 20*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCompleted) == 1 }, "not completed")
	assert.Len(t, srv.Refills(accounts[0]), 1)
}

// issue 27: an attempt may have applied the credit when one ended without a definitive answer,
// or when River counts more attempts than the worker recorded the end of (a worker that died,
// a job River rescued).
func TestMayBeApplied(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		meta     jobMeta
		attempts int
		want     bool
	}{
		{"every attempt ended definitively", jobMeta{Ended: 3}, 3, false},
		{"an uncertain send", jobMeta{Ended: 3, MayBeApplied: true}, 3, true},
		{"an attempt that died", jobMeta{Ended: 2}, 3, true},
		{"no metadata, one attempt", jobMeta{}, 1, true},
		{"never attempted", jobMeta{}, 0, false},
	} {
		assert.Equal(t, tc.want, mayBeApplied(tc.meta, tc.attempts), tc.name)
	}
}
