package probonusriver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/probonus-go/probonus/probonustest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue 27: a worker process killed (SIGKILL) after ProBonus applied its credit, before the answer
// reached it: River rescues the job, the next attempt finds the credit, one credit in all.
func TestKilledWorkerIsRescuedAndFindsTheCredit(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			srv, accounts := newFake(t, 1)
			g := newGate(t, srv)
			q, dsn := newQueue(t, db, testConfig(g.URL()))
			ctx := context.Background()
			a := startWorker(t, db, dsn, g.URL())
			killed := make(chan struct{})
			g.mu.Lock()
			g.onRefill = func() {
				_ = a.cmd.Process.Signal(syscall.SIGKILL)
				close(killed)
			}
			g.mu.Unlock()
			e, err := q.enqueue(ctx, refill(accounts[0], "25", "Order killed"), false)
			require.NoError(t, err)
			select {
			case <-killed:
			case <-time.After(30 * time.Second):
				t.Fatalf("the worker never sent the credit: %s", a.out)
			}
			_ = a.cmd.Wait()
			require.Len(t, srv.Refills(accounts[0]), 1, "the credit was applied before the kill")

			// Another process's River (here the test's) rescues the job once RescueStuckJobsAfter
			// has passed, and works it.
			startQueue(t, q)
			eventually(t, 90*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCompleted) == 1 },
				"the killed worker's credit was not completed")
			assert.Len(t, srv.Refills(accounts[0]), 1, "one credit")
			assert.Equal(t, 1, srv.Count(http.MethodPost, probonustest.PathRefill), "one POST")
			j := q.jobs(ctx)[0]
			require.Equal(t, e.JobID, j.ID)
			require.NotEmpty(t, j.Errors)
			assert.Contains(t, j.Errors[0].Error, "rescued")
			assert.True(t, readMeta(j.Metadata).AlreadyApplied, "found in the history, not sent again")
		})
	}
}

// issue 27: two worker processes on one database (PostgreSQL, the fleet's; and one SQLite file):
// one credit per key, some of them sent without an answer and found by the look.
func TestTwoWorkerProcessesCreditEachKeyOnce(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			srv, accounts := newFake(t, 20)
			q, dsn := newQueue(t, db, testConfig(srv.URL()))
			ctx := context.Background()
			for range 5 {
				srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{AfterApply: true, Reset: true})
			}
			// Both running before the credits come, so that both take some.
			w1 := startWorker(t, db, dsn, srv.URL())
			w2 := startWorker(t, db, dsn, srv.URL())
			want := map[string]int{}
			for i, acc := range accounts {
				for k := range 5 {
					r := refill(acc, "3", fmt.Sprintf("Order %d-%d", i, k))
					_, err := q.enqueue(ctx, r, false)
					require.NoError(t, err)
					want[fmt.Sprintf("%d/%s/3.00", acc, *r.Reason)] = 1
				}
			}
			eventually(t, 90*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCompleted) == len(want) },
				"not every credit completed: %s %s", w1.out, w2.out)
			w1.stopGracefully(t)
			w2.stopGracefully(t)
			if !assert.Equal(t, want, appliedPerKey(srv, accounts)) {
				logJobs(t, q)
			}
			by := map[string]bool{}
			for _, j := range q.jobs(ctx) {
				for _, id := range j.AttemptedBy {
					by[id] = true
				}
			}
			assert.Len(t, by, 2, "both processes worked credits")
		})
	}
}

// issue 27: a graceful stop during a settle wait: the job is handed on at once, but the process
// that takes it does not look before the uncertain send has settled; one credit.
func TestGracefulStopDuringSettleIsNotLookedAtEarly(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			const settle = 5 * time.Second // far longer than the stop takes, even on a loaded machine
			srv, accounts := newFake(t, 1)
			g := newGate(t, srv)
			q, dsn := newQueue(t, db, testConfig(g.URL()))
			ctx := context.Background()
			a := startWorker(t, db, dsn, g.URL(), "PROBONUSRIVER_SETTLE="+settle.String())
			srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{AfterApply: true, Reset: true})
			_, err := q.enqueue(ctx, refill(accounts[0], "40", "Order handed on"), false)
			require.NoError(t, err)
			eventually(t, 30*time.Second, func() bool { return len(srv.Refills(accounts[0])) == 1 }, "never sent: %s", a.out)
			sent := g.hitsOf(http.MethodPost, probonustest.PathRefill)[0].at
			startQueue(t, q) // the process the job is handed to
			a.stopGracefully(t)
			stopped := time.Now()
			eventually(t, 30*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCompleted) == 1 }, "not completed")

			var after []time.Time
			for _, h := range g.hitsOf(http.MethodGet, probonustest.PathTransactions) {
				if h.at.After(sent) {
					after = append(after, h.at)
				}
			}
			require.NotEmpty(t, after, "the credit was looked for")
			assert.True(t, stopped.Sub(sent) < settle, "the stop came during the settle wait")
			assert.GreaterOrEqual(t, after[0].Sub(sent), settle, "looked %s after the send", after[0].Sub(sent))
			assert.Len(t, srv.Refills(accounts[0]), 1)
			assert.Equal(t, 1, srv.Count(http.MethodPost, probonustest.PathRefill))
			j := q.jobs(ctx)[0]
			m := readMeta(j.Metadata)
			assert.True(t, m.MayBeApplied)
			assert.Equal(t, settle, m.Settle, "the settle time moved with the job")
			assert.True(t, strings.Contains(string(j.Metadata), `"snoozes"`), "%s", j.Metadata)
		})
	}
}

// issue 27: PostgreSQL restarted mid-run (a fast shutdown: every connection dropped, then back on
// the same socket): nothing lost, nothing doubled.
func TestPostgresRestartedMidRun(t *testing.T) {
	t.Parallel()
	needPostgres(t)
	cluster, err := startPostgres()
	require.NoError(t, err)
	t.Cleanup(func() {
		cluster.stop()
		_ = os.RemoveAll(cluster.dir)
	})
	srv := probonustest.NewServer(t, probonustest.WithLatency(20*time.Millisecond))
	group := srv.AddGroup(probonustest.Group{Name: "Guests"})
	accounts := make([]int64, 20)
	for i := range accounts {
		accounts[i] = srv.AddAccount(probonustest.Account{GroupID: group})
	}
	ctx := context.Background()
	q, closeDB, err := openQueue(ctx, "postgres", cluster.newDB(t), testConfig(srv.URL()))
	require.NoError(t, err)
	t.Cleanup(closeDB)
	want := map[string]int{}
	for i, acc := range accounts {
		for k := range 4 {
			r := refill(acc, "4", fmt.Sprintf("Order %d-%d", i, k))
			_, err := q.enqueue(ctx, r, false)
			require.NoError(t, err)
			want[fmt.Sprintf("%d/%s/4.00", acc, *r.Reason)] = 1
		}
	}
	startQueue(t, q)
	eventually(t, 30*time.Second, func() bool { return srv.Count(http.MethodPost, probonustest.PathRefill) >= 10 }, "no credit sent")
	cluster.stop()
	sentWhileDown := srv.Count(http.MethodPost, probonustest.PathRefill)
	time.Sleep(time.Second) // the database stays down a while: workers fail to fetch and complete
	require.NoError(t, cluster.start())
	eventually(t, 90*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCompleted) == len(want) },
		"not every credit completed after the restart")
	assert.Equal(t, want, appliedPerKey(srv, accounts))
	assert.Less(t, sentWhileDown, len(want), "the restart came mid-run")
}

// issue 27: an unreliable ProBonus (a fifth of the requests fail: answers lost after the credit
// was applied, 500s after applying, 503s, dropped connections) and two worker processes on one
// database: every credit once, none lost.
func TestRandomFaultsTwoProcessesCreditEachKeyOnce(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithRandomFaults(0.2, 27,
				probonustest.Fault{AfterApply: true, Reset: true},
				probonustest.Fault{AfterApply: true, Status: 500, Body: `{"detail":"boom"}`},
				probonustest.Fault{Status: 503, Body: `{"detail":"busy"}`},
				probonustest.Fault{Reset: true},
			))
			group := srv.AddGroup(probonustest.Group{Name: "Guests"})
			accounts := make([]int64, 25)
			for i := range accounts {
				accounts[i] = srv.AddAccount(probonustest.Account{GroupID: group})
			}
			q, dsn := newQueue(t, db, testConfig(srv.URL()))
			ctx := context.Background()
			w1 := startWorker(t, db, dsn, srv.URL())
			w2 := startWorker(t, db, dsn, srv.URL())
			want := map[string]int{}
			for i, acc := range accounts {
				for k := range 4 {
					r := refill(acc, "2", fmt.Sprintf("Order %d-%d", i, k))
					_, err := q.enqueue(ctx, r, false)
					require.NoError(t, err)
					want[fmt.Sprintf("%d/%s/2.00", acc, *r.Reason)] = 1
				}
			}
			eventually(t, 120*time.Second, func() bool { return jobsIn(q, rivertype.JobStateCompleted) == len(want) },
				"not every credit completed: %s %s", w1.out, w2.out)
			w1.stopGracefully(t)
			w2.stopGracefully(t)
			if !assert.Equal(t, want, appliedPerKey(srv, accounts)) {
				logJobs(t, q)
			}
			faulted := 0
			for _, r := range srv.Requests() {
				if r.Fault != nil {
					faulted++
				}
			}
			assert.Positive(t, faulted)
			t.Logf("%s: %d keys, %d credits applied, %d POSTs, %d requests faulted", db, len(want), len(appliedPerKey(srv, accounts)),
				srv.Count(http.MethodPost, probonustest.PathRefill), faulted)
		})
	}
}

// logJobs logs every job that did not go through in one clean attempt, for a failure's reader.
func logJobs(t *testing.T, q queue) {
	t.Helper()
	for _, j := range q.jobs(context.Background()) {
		if j.Attempt > 1 || len(j.Errors) > 0 || len(j.AttemptedBy) > 1 {
			t.Logf("job %d %s attempt %d by %v attempted %v created %v\n  args %s\n  metadata %s\n  errors %+v",
				j.ID, j.State, j.Attempt, j.AttemptedBy, j.AttemptedAt, j.CreatedAt, j.EncodedArgs, j.Metadata, j.Errors)
		}
	}
}
