package probonusriver

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func refill(account int64, amount, reason string) probonus.Refill {
	return probonus.Refill{AccountID: account, Amount: probonus.MustAmount(amount), Reason: probonus.Ptr(reason)}
}

// issue 27: a credit enqueued in a transaction that rolls back leaves no job (and no order).
func TestEnqueueTxRollbackLeavesNoJob(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			q, _ := newQueue(t, db, testConfig("http://127.0.0.1:1"))
			ctx := context.Background()
			_, err := q.enqueue(ctx, refill(7, "50", "Order 1"), true)
			require.NoError(t, err)
			assert.Zero(t, q.orders(ctx))
			assert.Empty(t, q.jobs(ctx))
			_, err = q.enqueue(ctx, refill(7, "50", "Order 1"), false)
			require.NoError(t, err)
			assert.Equal(t, 1, q.orders(ctx))
			assert.Len(t, q.jobs(ctx), 1)
		})
	}
}

// issue 27: the job's key is RefillOnce's, canonical: "50" and "50.00" are one job, the reason is
// trimmed, and a second enqueue says it was a duplicate; another account, amount or reason is
// another job.
func TestEnqueueTxDuplicateIsOneJob(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			q, _ := newQueue(t, db, testConfig("http://127.0.0.1:1"))
			ctx := context.Background()
			first, err := q.enqueue(ctx, refill(7, "50", "Order 1"), false)
			require.NoError(t, err)
			assert.False(t, first.Duplicate)
			for _, r := range []probonus.Refill{refill(7, "50.00", "Order 1"), refill(7, "50.0", " Order 1\n"), refill(7, "50", "Order 1")} {
				e, err := q.enqueue(ctx, r, false)
				require.NoError(t, err)
				assert.True(t, e.Duplicate, "%s %q", r.Amount, *r.Reason)
				assert.Equal(t, first.JobID, e.JobID)
			}
			for _, r := range []probonus.Refill{refill(8, "50", "Order 1"), refill(7, "50.01", "Order 1"), refill(7, "50", "Order 2")} {
				e, err := q.enqueue(ctx, r, false)
				require.NoError(t, err)
				assert.False(t, e.Duplicate, "%d %s %q", r.AccountID, r.Amount, *r.Reason)
			}
			jobs := q.jobs(ctx)
			require.Len(t, jobs, 4)
			assert.JSONEq(t, `{"account":7,"amount":"50.00","reason":"Order 1"}`, string(jobs[0].EncodedArgs))
		})
	}
}

// issue 27: a second enqueue with another burn date is the same credit: a duplicate, the first
// burn date stands, and the caller is told.
func TestEnqueueTxAnotherBurnDateIsADuplicate(t *testing.T) {
	t.Parallel()
	q, _ := newQueue(t, "sqlite", testConfig("http://127.0.0.1:1"))
	ctx := context.Background()
	r := refill(7, "50", "Order 1")
	d1, d2 := probonus.DateOf(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)), probonus.DateOf(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC))
	r.BurnDate = &d1
	_, err := q.enqueue(ctx, r, false)
	require.NoError(t, err)
	r.BurnDate = &d2
	e, err := q.enqueue(ctx, r, false)
	require.ErrorIs(t, err, ErrBurnDateDiffers)
	require.NotNil(t, e)
	assert.True(t, e.Duplicate)
	assert.Equal(t, d1, *e.Args.BurnDate)
	assert.Len(t, q.jobs(ctx), 1)
}

// issue 27: bad input is refused before anything is written, with the field named.
func TestEnqueueTxRefusesBadInput(t *testing.T) {
	t.Parallel()
	q, _ := newQueue(t, "sqlite", testConfig("http://127.0.0.1:1"))
	ctx := context.Background()
	for _, tc := range []struct {
		r     probonus.Refill
		field string
	}{
		{refill(0, "50", "x"), "Refill.AccountID"},
		{refill(7, "0", "x"), "Refill.Amount"},
		{refill(7, "-5", "x"), "Refill.Amount"},
		{refill(7, "0.001", "x"), "Refill.Amount"},
		{refill(7, "5", "  "), "Refill.Reason"},
		{probonus.Refill{AccountID: 7, Amount: probonus.MustAmount("5")}, "Refill.Reason"},
	} {
		_, err := q.enqueue(ctx, tc.r, false)
		require.ErrorIs(t, err, probonus.ErrInvalidInput)
		var ie *probonus.InputError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, tc.field, ie.Field)
	}
	assert.Empty(t, q.jobs(ctx))
	assert.Zero(t, q.orders(ctx))
}

// issue 27: a rescue delay that reopens the window (River handing a dead worker's job on before
// its send has settled) is refused; so is a number of attempts whose backoff leaves the lookback.
func TestNewRefusesAConfigThatReopensTheWindow(t *testing.T) {
	t.Parallel()
	base := func() Config {
		return Config{ClientOptions: []probonus.Option{probonus.WithBaseURL("http://127.0.0.1:1"), probonus.WithAPIKey("k")}}
	}
	need := JobTimeout(probonus.DefaultTimeout, probonus.DefaultTimeout, probonus.RetryPolicy{}) + probonus.DefaultTimeout
	for name, tc := range map[string]struct {
		mod func(*Config)
		ok  bool
	}{
		"defaults":                   {func(*Config) {}, true},
		"rescue at timeout + settle": {func(c *Config) { c.River = &river.Config{RescueStuckJobsAfter: need} }, false},
		"rescue just after":          {func(c *Config) { c.River = &river.Config{RescueStuckJobsAfter: need + time.Second} }, true},
		"25 attempts":                {func(c *Config) { c.MaxAttempts = 25 }, false},
		"no client":                  {func(c *Config) { c.ClientOptions = nil }, false},
		"margin past lookback":       {func(c *Config) { c.Lookback, c.LookbackMargin = time.Hour, time.Hour }, false},
	} {
		cfg := base()
		tc.mod(&cfg)
		r, err := cfg.resolve()
		if tc.ok {
			require.NoError(t, err, name)
			assert.Greater(t, r.rescueAfter, r.jobTimeout+r.Settle, name)
		} else {
			assert.ErrorIs(t, err, ErrConfig, name)
		}
	}
}

// issue 27: RefillOnce's key holds the installation; the job's holds the queue: two installations
// served from one database, each with its own queue, keep their credits apart.
func TestEnqueueTxQueuesKeepInstallationsApart(t *testing.T) {
	t.Parallel()
	dsn := filepath.Join(t.TempDir(), "two.db")
	ctx := context.Background()
	var ids []int64
	for _, queue := range []string{"chain_a", "chain_b", "chain_a"} {
		cfg := testConfig("http://127.0.0.1:1")
		cfg.Queue = queue
		q, closeDB, err := openQueue(ctx, "sqlite", dsn, cfg)
		require.NoError(t, err)
		e, err := q.enqueue(ctx, refill(7, "50", "Order 1"), false)
		closeDB()
		require.NoError(t, err)
		ids = append(ids, e.JobID)
	}
	assert.NotEqual(t, ids[0], ids[1], "another installation's credit is another job")
	assert.Equal(t, ids[0], ids[2], "the same installation's is a duplicate")
}
