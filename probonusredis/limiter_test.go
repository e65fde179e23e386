package probonusredis_test

import (
	"context"
	"log/slog"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hugeLimit never makes a call wait: what is measured is the round trip alone.
var hugeLimit = redis_rate.Limit{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}

// countingHook counts the commands a Redis client processes.
type countingHook struct{ n atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestNewLimiterRefusesBadArguments(t *testing.T) {
	t.Parallel()
	rdb := newRDB(t, deadAddr())
	tries := &countingHook{}
	rdb.AddHook(tries)
	tests := []struct {
		name  string
		rdb   redis.UniversalClient
		key   string
		limit redis_rate.Limit
		opts  []probonusredis.Option
		want  string
	}{
		{"nil client", nil, "k", testLimit, nil, "nil Redis client"},
		{"empty key", rdb, "", testLimit, nil, "empty key"},
		{"zero limit", rdb, "k", redis_rate.Limit{}, nil, "positive rate"},
		{"zero burst", rdb, "k", redis_rate.Limit{Rate: 10, Period: time.Second}, nil, "positive rate"},
		{"negative period", rdb, "k", redis_rate.Limit{Rate: 10, Period: -time.Second, Burst: 1}, nil, "positive rate"},
		{"zero share", rdb, "k", testLimit, []probonusredis.Option{probonusredis.WithFallback(0)}, "share 0"},
		{"share above one", rdb, "k", testLimit, []probonusredis.Option{probonusredis.WithFallback(1.5)}, "share 1.5"},
		{"NaN share", rdb, "k", testLimit, []probonusredis.Option{probonusredis.WithFallback(math.NaN())}, "share NaN"},
		{"zero probe interval", rdb, "k", testLimit, []probonusredis.Option{probonusredis.WithProbeInterval(0)}, "probe interval"},
		{"zero Redis timeout", rdb, "k", testLimit, []probonusredis.Option{probonusredis.WithRedisTimeout(0)}, "Redis timeout"},
		{"nil logger", rdb, "k", testLimit, []probonusredis.Option{probonusredis.WithLogger(nil)}, "nil logger"},
	}
	for _, tt := range tests {
		lim := probonusredis.NewLimiter(tt.rdb, tt.key, tt.limit, tt.opts...)
		require.ErrorIs(t, lim.Err(), probonusredis.ErrInvalidConfig, tt.name)
		assert.Contains(t, lim.Err().Error(), tt.want, tt.name)
		assert.Equal(t, lim.Err(), lim.Wait(context.Background()), "%s: Wait returns the same error", tt.name)
	}
	assert.Zero(t, tries.n.Load(), "nothing was sent to Redis")

	// A share is not needed when there is no fallback.
	lim := probonusredis.NewLimiter(rdb, "k", testLimit, probonusredis.WithFallback(0), probonusredis.WithFailOnOutage())
	assert.NoError(t, lim.Err())
	lim = probonusredis.NewLimiter(rdb, "k", testLimit)
	assert.NoError(t, lim.Err())
}

func TestKeyFor(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"http://127.0.0.1:11030", "probonus:http://127.0.0.1:11030"},
		{"http://127.0.0.1:11030/", "probonus:http://127.0.0.1:11030"},
		{" HTTP://Bonus.Example.COM ", "probonus:http://bonus.example.com:80"},
		{"https://probonus.pro:6896/", "probonus:https://probonus.pro:6896"},
		{"https://bonus.example.com/cafe-1/", "probonus:https://bonus.example.com:443/cafe-1"},
		{"https://bonus.example.com/Cafe-2", "probonus:https://bonus.example.com:443/Cafe-2"},
		{"http://[::1]:11030", "probonus:http://[::1]:11030"},
		{"http://api-user:s3cret@10.0.0.5:11030/?token=s3cret#s3cret", "probonus:http://10.0.0.5:11030"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, probonusredis.KeyFor(tt.url), tt.url)
	}

	// Spellings of one server share a key; other servers and prefixes do not.
	assert.Equal(t, probonusredis.KeyFor("http://host"), probonusredis.KeyFor("http://HOST:80/"))
	assert.NotEqual(t, probonusredis.KeyFor("http://host:11030"), probonusredis.KeyFor("http://host:11031"))
	assert.NotEqual(t, probonusredis.KeyFor("https://host/a"), probonusredis.KeyFor("https://host/b"))

	// What does not parse is hashed: no credential in it reaches Redis.
	bad := probonusredis.KeyFor("http://user:s3cret@host:bad port")
	assert.Regexp(t, `^probonus:sha256:[0-9a-f]{64}$`, bad)
	assert.NotEqual(t, bad, probonusredis.KeyFor("http://user:other@host:bad port"))
}

// TestWaitEndsWithTheContext: a call waiting for a slot that frees in a minute returns as soon as
// its context is cancelled, and the request is not sent.
func TestWaitEndsWithTheContext(t *testing.T) {
	needRedis(t)
	t.Parallel()
	srv := probonustest.NewServer(t)
	rec := newRecorder(t, srv)
	perMinute := redis_rate.Limit{Rate: 1, Period: time.Minute, Burst: 1}
	lim := probonusredis.NewLimiter(newRDB(t, sharedRedis.addr), probonusredis.KeyFor(rec.URL()), perMinute,
		probonusredis.WithLogger(slog.New(&logRecords{})))
	c := newClient(t, rec.URL(), srv.APIKey(), lim)

	_, err := c.AccountGroups.List(context.Background())
	require.NoError(t, err, "the one slot of the minute")

	t.Run("cancelled while sleeping", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.AccountGroups.List(ctx)
			done <- err
		}()
		time.Sleep(50 * time.Millisecond) // let it reach the limiter's sleep
		cancel()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(10 * time.Second): // far below the minute the slot would take
			t.Fatal("the call did not return after its context was cancelled")
		}
	})
	t.Run("deadline while sleeping", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- lim.Wait(ctx) }()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		case <-time.After(10 * time.Second):
			t.Fatal("Wait did not return at its deadline")
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		rdb := newRDB(t, sharedRedis.addr)
		tries := &countingHook{}
		rdb.AddHook(tries)
		own := probonusredis.NewLimiter(rdb, probonusredis.KeyFor(rec.URL()), perMinute)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, own.Wait(ctx), context.Canceled)
		assert.Zero(t, tries.n.Load(), "Redis is not asked for a call that is over")
	})
	assert.Len(t, rec.arrivals(), 1, "no cancelled call was sent")
}
