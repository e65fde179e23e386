package probonusriver

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue 27: OpenSQLite is one call: it creates the file in WAL mode, migrates it and starts the
// workers; the app's own tables live in the same file and its transactions enqueue; the spool
// (Enqueue, no transaction) delivers too; a second open of the same file finds its jobs.
func TestOpenSQLiteCreatesMigratesAndWorks(t *testing.T) {
	t.Parallel()
	srv, accounts := newFake(t, 1)
	path := filepath.Join(t.TempDir(), "app.db")
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path, testConfig(srv.URL()))
	require.NoError(t, err)
	var mode string
	require.NoError(t, s.DB.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
	_, err = s.DB.ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT)")
	require.NoError(t, err)

	tx, err := s.DB.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "INSERT INTO orders (total) VALUES ('500')")
	require.NoError(t, err)
	_, err = s.EnqueueTx(ctx, tx, refill(accounts[0], "50", "Order 1"))
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	e, err := s.Enqueue(ctx, refill(accounts[0], "20", "Order 2 (spooled)"))
	require.NoError(t, err)
	assert.False(t, e.Duplicate)

	completed := func(s *SQLite) int {
		res, err := s.River().JobList(ctx, river.NewJobListParams().Kinds(Kind).States(rivertype.JobStateCompleted))
		require.NoError(t, err)
		return len(res.Jobs)
	}
	eventually(t, 20*time.Second, func() bool { return completed(s) == 2 }, "not delivered")
	assert.Len(t, srv.Refills(accounts[0]), 2)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, s.Close(sctx))

	again, err := OpenSQLite(ctx, path, testConfig(srv.URL()))
	require.NoError(t, err)
	defer func() { require.NoError(t, again.Close(sctx)) }()
	assert.Equal(t, 2, completed(again))
	e, err = again.Enqueue(ctx, refill(accounts[0], "50.00", " Order 1 "))
	require.NoError(t, err)
	assert.True(t, e.Duplicate, "a completed credit is kept for the lookback: a late duplicate is reported")
}

// issue 27: Dismiss deletes a stuck credit a person has dealt with; it refuses one that is not stuck.
func TestDismissStuckCredit(t *testing.T) {
	t.Parallel()
	srv, accounts := newFake(t, 1)
	q, _ := newQueue(t, "sqlite", testConfig(srv.URL()))
	ctx := context.Background()
	bad, err := q.enqueue(ctx, refill(424242, "1", "no such account"), false)
	require.NoError(t, err)
	good, err := q.enqueue(ctx, refill(accounts[0], "1", "fine"), false)
	require.NoError(t, err)
	startQueue(t, q)
	eventually(t, 20*time.Second, func() bool {
		return jobsIn(q, rivertype.JobStateCancelled) == 1 && jobsIn(q, rivertype.JobStateCompleted) == 1
	}, "not finished")
	c := q.(*typedQueue[*sqlTx]).c
	assert.ErrorIs(t, c.Dismiss(ctx, good.JobID), ErrNotStuck)
	require.NoError(t, c.Dismiss(ctx, bad.JobID))
	stuck, err := q.stuckList(ctx)
	require.NoError(t, err)
	assert.Empty(t, stuck)
}
