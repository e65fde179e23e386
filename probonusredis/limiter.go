package probonusredis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// ErrLimiterUnavailable is matched (errors.Is) by the error Wait returns under WithFailOnOutage
// while Redis cannot be reached. The same error wraps Redis's own, or says that Redis did not
// answer within the Redis timeout (WithRedisTimeout).
var ErrLimiterUnavailable = errors.New("probonusredis: shared rate limiter unavailable")

// ErrInvalidConfig is matched by the error of a Limiter that NewLimiter, or a Coordinator that
// NewCoordinator, was given bad arguments for: Err and every call return it, before anything
// reaches Redis or the server.
var ErrInvalidConfig = errors.New("probonusredis: invalid limiter configuration")

// DefaultFallbackShare is the share of the budget a process takes while Redis is unreachable,
// unless WithFallback says otherwise. It keeps a fleet of up to ten processes within the budget;
// a larger fleet should set 1/N, a smaller one may set more.
const DefaultFallbackShare = 0.1

// DefaultProbeInterval is how often, during an outage, one call tries Redis again.
const DefaultProbeInterval = time.Second

// DefaultRedisTimeout is how long one call to Redis may take before Redis counts as unreachable.
// go-redis's own defaults retry a refused connection for seconds; a limiter must decide sooner.
const DefaultRedisTimeout = 500 * time.Millisecond

// Option configures a Limiter in NewLimiter.
type Option func(*Limiter)

// WithFallback makes Wait pace this process on its own, at share (0 < share ≤ 1) of the limit's
// rate and burst, while Redis is unreachable. This is the default policy, with
// DefaultFallbackShare. Choose share so that the whole fleet stays within the budget: 1/N for N
// processes.
func WithFallback(share float64) Option {
	return func(l *Limiter) {
		l.fail = false
		l.share = share
	}
}

// WithFailOnOutage makes Wait fail while Redis is unreachable, with an error that matches
// ErrLimiterUnavailable, rather than fall back: no request goes out unpaced. Choose it when
// sending too much is worse than sending nothing.
func WithFailOnOutage() Option {
	return func(l *Limiter) { l.fail = true }
}

// WithLogger sets where the start and the end of an outage are logged; default slog.Default()
// as it is when the outage starts.
func WithLogger(log *slog.Logger) Option {
	return func(l *Limiter) { l.log, l.logSet = log, true }
}

// WithRedisTimeout sets how long one call to Redis may take (dialling, go-redis's retries and a
// connection that never answers included) before Redis counts as unreachable; default
// DefaultRedisTimeout. Wait holds to it, and to its caller's context, whatever the client's
// options; with ContextTimeoutEnabled in them, go-redis also drops the command at that moment
// rather than at its ReadTimeout (see the package doc, "The Redis client").
func WithRedisTimeout(d time.Duration) Option {
	return func(l *Limiter) { l.redisTimeout = d }
}

// WithProbeInterval sets how often, while Redis is unreachable, one call tries it again (the
// others fall back or fail without trying); default DefaultProbeInterval. Sharing resumes within
// about this long after Redis is back, whether or not new calls arrive.
func WithProbeInterval(d time.Duration) Option {
	return func(l *Limiter) { l.probeEvery = d }
}

// Limiter is a rate limit shared through Redis by every process that uses the same key. It
// implements probonus.Limiter and is safe for concurrent use.
type Limiter struct {
	rl           *redis_rate.Limiter
	key          string
	limit        redis_rate.Limit
	fail         bool
	share        float64
	local        *rate.Limiter // the fallback; nil under WithFailOnOutage
	log          *slog.Logger  // nil: slog.Default()
	logSet       bool
	probeEvery   time.Duration
	redisTimeout time.Duration
	err          error // a configuration error, returned by every Wait

	down      atomic.Bool // read without the lock on every Wait
	mu        sync.Mutex
	cause     error     // Redis's last error; kept after an outage for a call that read down just before
	since     time.Time // when this outage started
	nextProbe time.Time
	probing   bool          // one call is trying Redis again
	up        chan struct{} // closed when this outage ends, to move waiters off the fallback
}

// NewLimiter returns a Limiter that takes slots for key from a GCRA bucket in rdb, limit.Rate per
// limit.Period with bursts of limit.Burst (redis_rate.PerSecond(10) is 10 a second, bursts of 10).
// Use KeyFor(baseURL) as the key unless several installations must share one budget; the bucket
// is the Redis key "rate:" + key, and expires when idle. rdb is used, never closed. Bad arguments (nil rdb, empty key, a limit without a positive rate, period and
// burst, an option out of range) do not panic: Err reports them, and every Wait returns them.
func NewLimiter(rdb redis.UniversalClient, key string, limit redis_rate.Limit, opts ...Option) *Limiter {
	l := &Limiter{key: key, limit: limit, share: DefaultFallbackShare, probeEvery: DefaultProbeInterval,
		redisTimeout: DefaultRedisTimeout}
	for _, opt := range opts {
		opt(l)
	}
	l.err = l.check(rdb)
	if l.err != nil {
		return l
	}
	l.rl = redis_rate.NewLimiter(rdb)
	if !l.fail {
		perSecond := float64(limit.Rate) / limit.Period.Seconds() * l.share
		burst := max(1, int(float64(limit.Burst)*l.share))
		l.local = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return l
}

func (l *Limiter) check(rdb redis.UniversalClient) error {
	switch {
	case rdb == nil:
		return fmt.Errorf("%w: nil Redis client", ErrInvalidConfig)
	case l.key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidConfig)
	case l.limit.Rate <= 0 || l.limit.Period <= 0 || l.limit.Burst <= 0:
		// A zero burst would make the bucket refuse every request forever.
		return fmt.Errorf("%w: limit %v needs a positive rate, period and burst", ErrInvalidConfig, l.limit)
	case !l.fail && (math.IsNaN(l.share) || l.share <= 0 || l.share > 1):
		return fmt.Errorf("%w: fallback share %v is not in (0, 1]", ErrInvalidConfig, l.share)
	case l.probeEvery <= 0:
		return fmt.Errorf("%w: probe interval %v is not positive", ErrInvalidConfig, l.probeEvery)
	case l.redisTimeout <= 0:
		return fmt.Errorf("%w: Redis timeout %v is not positive", ErrInvalidConfig, l.redisTimeout)
	case l.logSet && l.log == nil:
		return fmt.Errorf("%w: nil logger", ErrInvalidConfig)
	}
	return nil
}

// Err reports what was wrong with NewLimiter's arguments, or nil. Check it at start-up to fail
// there rather than at the first request.
func (l *Limiter) Err() error { return l.err }

// Wait blocks until the shared bucket has a slot for one request, or ctx ends (then it returns
// ctx.Err()). While Redis is unreachable it follows the failure policy: the local fallback's Wait,
// or an error matching ErrLimiterUnavailable.
func (l *Limiter) Wait(ctx context.Context) error {
	if l.err != nil {
		return l.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	useRedis := l.redisFirst()
	var slot *rate.Reservation // a local slot held while this call probes Redis
	for {
		if !useRedis {
			var err error
			if useRedis, slot, err = l.degraded(ctx, slot); !useRedis {
				return err
			}
		}
		res, err := l.allow(ctx)
		if err != nil {
			if ctx.Err() != nil {
				// The caller gave up; that says nothing about Redis.
				l.endProbe()
				release(slot)
				return ctx.Err()
			}
			l.markDown(err)
			useRedis = false
			continue
		}
		if l.down.Load() {
			l.markUp()
		}
		release(slot)
		slot = nil
		if res.Allowed > 0 {
			return nil
		}
		if err := sleep(ctx, res.RetryAfter); err != nil {
			return err
		}
		useRedis = l.redisFirst()
	}
}

// release gives back a local slot not used.
func release(r *rate.Reservation) {
	if r != nil {
		r.Cancel()
	}
}

// redisFirst reports whether this call asks Redis: always when it is up, and during an outage
// when this call is the probe.
func (l *Limiter) redisFirst() bool { return !l.down.Load() || l.takeProbe() }

// allow asks Redis for one slot, within the Redis timeout and ctx (see bounded).
func (l *Limiter) allow(ctx context.Context) (*redis_rate.Result, error) {
	return bounded(ctx, l.redisTimeout, func(rctx context.Context) (*redis_rate.Result, error) {
		return l.rl.Allow(rctx, l.key, l.limit)
	})
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	// A denial always carries a positive retry-after; the floor only guards against a busy loop.
	t := time.NewTimer(max(d, time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// takeProbe reports whether this call, during an outage, is the one that tries Redis again.
func (l *Limiter) takeProbe() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down.Load() {
		return true // another call found Redis back
	}
	if l.probing || time.Now().Before(l.nextProbe) {
		return false
	}
	l.probing = true
	return true
}

// untilProbe is how long a call waiting on the fallback waits before it checks whether the next
// probe is due.
func (l *Limiter) untilProbe() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.probing {
		return l.probeEvery
	}
	return max(time.Until(l.nextProbe), 0)
}

func (l *Limiter) endProbe() {
	l.mu.Lock()
	l.probing = false
	l.mu.Unlock()
}

// markDown records a failed Redis call, and logs when it starts an outage.
func (l *Limiter) markDown(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.cause, l.nextProbe, l.probing = err, now.Add(l.probeEvery), false
	if l.down.Load() {
		return
	}
	l.since = now
	l.up = make(chan struct{})
	l.down.Store(true)
	if l.fail {
		l.logger().Warn("probonusredis: Redis unreachable; requests fail until it is back",
			"key", l.key, "error", err)
		return
	}
	l.logger().Warn("probonusredis: Redis unreachable; pacing this process alone until it is back",
		"key", l.key, "error", err, "fallback_per_second", float64(l.local.Limit()), "fallback_burst", l.local.Burst())
}

// markUp ends an outage after a Redis call succeeded.
func (l *Limiter) markUp() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down.Load() {
		return
	}
	l.down.Store(false)
	l.probing = false
	close(l.up)
	l.logger().Info("probonusredis: Redis reachable again; the budget is shared again",
		"key", l.key, "outage", time.Since(l.since).Round(time.Millisecond))
}

func (l *Limiter) logger() *slog.Logger {
	if l.log == nil {
		return slog.Default()
	}
	return l.log
}

// degraded applies the failure policy; tryRedis says the call should ask Redis after all.
//
// Under the fallback a call waits for a local slot, but not blindly: when Redis comes back (up is
// closed) it gives the slot up and asks Redis, or every call queued during the outage would still
// go out at the local pace, on top of the shared budget; and when a probe is due it makes the
// probe, so that Redis is found back within the probe interval even when no new call arrives. A
// probing call keeps its slot (returned, and passed back in if the probe fails), so probing costs
// it its place in the local queue only when Redis answers.
func (l *Limiter) degraded(ctx context.Context, r *rate.Reservation) (tryRedis bool, slot *rate.Reservation, err error) {
	l.mu.Lock()
	cause, up := l.cause, l.up
	l.mu.Unlock()
	if l.fail {
		return false, nil, fmt.Errorf("%w: %w", ErrLimiterUnavailable, cause)
	}
	if r == nil {
		r = l.local.Reserve() // always OK: the burst is at least 1
	}
	ready := time.NewTimer(r.Delay())
	defer ready.Stop()
	for {
		probe := time.NewTimer(l.untilProbe())
		select {
		case <-ready.C:
			probe.Stop()
			return false, nil, nil
		case <-ctx.Done():
			probe.Stop()
			r.Cancel()
			return false, nil, ctx.Err()
		case <-up:
			probe.Stop()
			r.Cancel()
			return true, nil, nil
		case <-probe.C:
			if l.takeProbe() {
				return true, r, nil
			}
		}
	}
}
