package probonusredis_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedisOutageFallsBackThenShares: four limiters (four processes) share 20/s; Redis dies after
// one second and is back 1.5 s later. In between each process paces itself at a tenth of the
// budget (2/s, bursts of 1), so the fleet's rate drops to 8/s and no call fails; once Redis is
// back the fleet shares 20/s again. Each limiter logs the outage once and the recovery once.
func TestRedisOutageFallsBackThenShares(t *testing.T) {
	rs := newRedis(t)
	srv := probonustest.NewServer(t)
	rec := newRecorder(t, srv)
	key := probonusredis.KeyFor(rec.URL())
	logs := &logRecords{}
	const share = 0.1

	const (
		killAt    = 1 * time.Second
		restartAt = 2500 * time.Millisecond
		endAt     = 4 * time.Second
	)
	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(endAt))
	defer cancel()
	var wg sync.WaitGroup
	errs := make([][]error, 4)
	for i := range 4 {
		lim := probonusredis.NewLimiter(newRDB(t, rs.addr), key, testLimit, probonusredis.WithFallback(share),
			probonusredis.WithProbeInterval(100*time.Millisecond), probonusredis.WithLogger(slog.New(logs)))
		c := newClient(t, rec.URL(), srv.APIKey(), lim)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = load(ctx, c, 3)
		}()
	}
	time.Sleep(time.Until(start.Add(killAt)))
	rs.stop()
	killed := time.Now()
	time.Sleep(time.Until(start.Add(restartAt)))
	require.NoError(t, rs.start())
	restarted := time.Now()
	wg.Wait()

	for i, e := range errs {
		assert.Empty(t, e, "client %d: no call fails under the fallback; first: %v", i, firstErr(e))
	}
	arrivals := rec.arrivals()
	counts := perSecond(arrivals, start, int(endAt/time.Second))
	outage := between(arrivals, killed, restarted)
	outageSecs := restarted.Sub(killed).Seconds()
	last := between(arrivals, start.Add(endAt-time.Second), start.Add(endAt))
	t.Logf("requests per second: %v; Redis down %.2fs from %.2fs: %d requests in the outage; %d in the last second; busiest one-second window %d",
		counts, outageSecs, killed.Sub(start).Seconds(), outage, last, busiestSecond(arrivals))
	t.Logf("log:\n%s", logs.text())

	// The fallback's ceiling: each of 4 processes 2/s after a burst of 1.
	fallbackMax := 4 * (int(float64(testLimit.Rate)*share*outageSecs) + 1 + 1)
	assert.Positive(t, outage, "calls continue while Redis is down")
	assert.LessOrEqual(t, outage, fallbackMax, "while Redis is down each process keeps to its share")
	assert.GreaterOrEqual(t, last*10, testLimit.Rate*8, "sharing resumes at the full budget once Redis is back")
	assert.LessOrEqual(t, last, testLimit.Rate+testLimit.Burst, "and stays within it")
	// A window may hold a fresh Redis bucket's burst (the restarted server starts empty) next to
	// the fallbacks' bursts of one.
	assert.LessOrEqual(t, busiestSecond(arrivals), testLimit.Rate+testLimit.Burst+4)

	assert.Equal(t, 4, logs.count(slog.LevelWarn, "unreachable"), "one warning per limiter per outage")
	assert.Equal(t, 4, logs.count(slog.LevelInfo, "reachable again"), "one line per limiter when Redis is back")
	assert.Len(t, logs.records, 8, "nothing logged per call")
	assert.NotContains(t, logs.text(), srv.APIKey())
}

// TestRedisOutageFailsUnderFailPolicy: with WithFailOnOutage a call made while Redis is down fails
// with ErrLimiterUnavailable, wrapping Redis's error, and never reaches the server; once Redis is
// back calls go through again.
func TestRedisOutageFailsUnderFailPolicy(t *testing.T) {
	rs := newRedis(t)
	srv := probonustest.NewServer(t)
	rec := newRecorder(t, srv)
	logs := &logRecords{}
	lim := probonusredis.NewLimiter(newRDB(t, rs.addr), probonusredis.KeyFor(rec.URL()), testLimit,
		probonusredis.WithFailOnOutage(), probonusredis.WithProbeInterval(50*time.Millisecond),
		probonusredis.WithLogger(slog.New(logs)))
	c := newClient(t, rec.URL(), srv.APIKey(), lim)
	ctx := context.Background()

	_, err := c.AccountGroups.List(ctx)
	require.NoError(t, err)

	rs.stop()
	failed := 0
	for range 20 {
		_, err := c.AccountGroups.List(ctx)
		require.ErrorIs(t, err, probonusredis.ErrLimiterUnavailable)
		// Redis's own error, or the limiter's timeout when go-redis was still retrying.
		assert.Regexp(t, `unavailable: (dial tcp .*: connection refused|no answer from Redis within 500ms)$`, err.Error())
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's own deadline did not pass")
		failed++
	}
	assert.Len(t, rec.arrivals(), 1, "no call went out while the limiter was down")

	require.NoError(t, rs.start())
	var recovered error = errors.New("no call yet")
	for deadline := time.Now().Add(5 * time.Second); recovered != nil && time.Now().Before(deadline); {
		if _, recovered = c.AccountGroups.List(ctx); recovered != nil {
			require.ErrorIs(t, recovered, probonusredis.ErrLimiterUnavailable)
			time.Sleep(10 * time.Millisecond)
		}
	}
	require.NoError(t, recovered, "calls go through once Redis is back")
	t.Logf("%d calls failed while Redis was down; log:\n%s", failed, logs.text())
	assert.Equal(t, 1, logs.count(slog.LevelWarn, "unreachable"), "one warning for the outage, not one per call")
	assert.Equal(t, 1, logs.count(slog.LevelInfo, "reachable again"))
}

// TestFallbackWaitersReturnToRedis: a call waiting on the fallback for a slot ten minutes away
// makes the probe itself and, Redis being back, takes its slot there.
func TestFallbackWaitersReturnToRedis(t *testing.T) {
	rs := newRedis(t)
	rdb := newRDB(t, rs.addr)
	perMinute := redis_rate.Limit{Rate: 1, Period: time.Minute, Burst: 10} // fallback: 1 per 10 min, burst 1
	lim := probonusredis.NewLimiter(rdb, "probonus:test:"+t.Name(), perMinute,
		probonusredis.WithProbeInterval(50*time.Millisecond), probonusredis.WithLogger(slog.New(&logRecords{})))
	ctx := context.Background()
	require.NoError(t, lim.Wait(ctx), "from Redis")
	rs.stop()
	require.NoError(t, lim.Wait(ctx), "the fallback's one slot")

	done := make(chan error, 1)
	go func() { done <- lim.Wait(ctx) }()
	time.Sleep(100 * time.Millisecond) // let it queue on the fallback
	require.NoError(t, rs.start())
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second): // far below the ten minutes the fallback would take
		t.Fatal("a call waiting on the fallback did not return once Redis was back")
	}
	n, err := rdb.DBSize(ctx).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the slot came from the restarted Redis's bucket")
}

// TestUnreachableRedisIsTriedOncePerProbe: during an outage only one call per probe interval
// waits on Redis; the rest fall back (or fail) at once, and the outage is logged once.
func TestUnreachableRedisIsTriedOncePerProbe(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		name := map[bool]string{false: "fallback", true: "fail"}[fail]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rdb := newRDB(t, deadAddr())
			tries := &countingHook{}
			rdb.AddHook(tries)
			logs := &logRecords{}
			opts := []probonusredis.Option{probonusredis.WithLogger(slog.New(logs)), probonusredis.WithProbeInterval(time.Hour)}
			if fail {
				opts = append(opts, probonusredis.WithFailOnOutage())
			} else {
				// A share large enough that the local bucket never makes these calls wait.
				opts = append(opts, probonusredis.WithFallback(1))
			}
			lim := probonusredis.NewLimiter(rdb, "probonus:test:"+t.Name(), hugeLimit, opts...)
			for range 100 {
				err := lim.Wait(context.Background())
				if fail {
					require.ErrorIs(t, err, probonusredis.ErrLimiterUnavailable)
				} else {
					require.NoError(t, err)
				}
			}
			assert.Equal(t, int64(1), tries.n.Load(), "Redis was tried once, by the first call")
			assert.Equal(t, 1, logs.count(slog.LevelWarn, "unreachable"))
			assert.Len(t, logs.records, 1)
		})
	}
}

func firstErr(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// hangBound is far below the seconds a hung Redis holds a go-redis call whose options leave the
// context off the connection (ReadTimeout, 5 s by default), and far above what the
// bounds under test (100 ms, 200 ms) need, on a loaded machine too.
const hangBound = 1500 * time.Millisecond

// TestWaitEndsWithTheContextWhenRedisHangs: Redis accepts the connection and never answers, and the
// client has go-redis's default options (no ContextTimeoutEnabled): Wait still returns at its
// caller's 100 ms deadline, with the context's error, under either failure policy.
func TestWaitEndsWithTheContextWhenRedisHangs(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		name := map[bool]string{false: "fallback", true: "fail"}[fail]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rdb := newRDB(t, silentRedis(t))
			opts := []probonusredis.Option{probonusredis.WithLogger(slog.New(&logRecords{}))}
			if fail {
				opts = append(opts, probonusredis.WithFailOnOutage())
			}
			lim := probonusredis.NewLimiter(rdb, "probonus:test:"+t.Name(), testLimit, opts...)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := lim.Wait(ctx)
			took := time.Since(start)
			t.Logf("Wait returned after %v: %v", took.Round(time.Millisecond), err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, took, hangBound, "Wait ends with its context, not with go-redis's read timeout")
		})
	}
}

// TestRedisTimeoutBoundsAHungRedis: Redis accepts the connection and never answers; a limiter with
// WithRedisTimeout(200ms) gives up on it after about that long whatever the client's options, and
// applies its failure policy: the fallback's slot, or ErrLimiterUnavailable saying why.
func TestRedisTimeoutBoundsAHungRedis(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		name := map[bool]string{false: "fallback", true: "fail"}[fail]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rdb := newRDB(t, silentRedis(t))
			logs := &logRecords{}
			opts := []probonusredis.Option{probonusredis.WithLogger(slog.New(logs)),
				probonusredis.WithRedisTimeout(200 * time.Millisecond)}
			if fail {
				opts = append(opts, probonusredis.WithFailOnOutage())
			}
			lim := probonusredis.NewLimiter(rdb, "probonus:test:"+t.Name(), testLimit, opts...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // far later than the Redis timeout
			defer cancel()
			start := time.Now()
			err := lim.Wait(ctx)
			took := time.Since(start)
			t.Logf("Wait returned after %v: %v", took.Round(time.Millisecond), err)
			if fail {
				require.ErrorIs(t, err, probonusredis.ErrLimiterUnavailable)
				assert.EqualError(t, err, "probonusredis: shared rate limiter unavailable: no answer from Redis within 200ms")
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's own deadline did not pass")
			} else {
				assert.NoError(t, err, "the fallback's slot")
			}
			assert.Less(t, took, hangBound, "the Redis timeout bounds the call, not go-redis's read timeout")
			assert.Equal(t, 1, logs.count(slog.LevelWarn, "unreachable"), "a hung Redis is an outage")
		})
	}
}
