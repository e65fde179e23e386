// Package probonusredis paces a fleet of ProBonus clients with one rate limit kept in Redis.
//
// A restaurant's ProBonus server is sized for a few requests a second. Each process's own
// probonus.WithRateLimit knows only that process's share, so ten pods at 10/s send 100/s. A
// *Limiter takes its slots from one GCRA bucket in Redis (github.com/go-redis/redis_rate), shared by
// every process that uses the same key, and plugs into probonus.WithLimiter:
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true, // see "The Redis client" below
//		ReadTimeout:           200 * time.Millisecond,
//		WriteTimeout:          200 * time.Millisecond,
//		PoolTimeout:           500 * time.Millisecond,
//	})
//	lim := probonusredis.NewLimiter(rdb, probonusredis.KeyFor(base), redis_rate.PerSecond(10))
//	client, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey(key), probonus.WithLimiter(lim))
//
// A single process needs none of this: probonus.WithRateLimit is enough. A fleet needs it as soon
// as more than one process (pods, workers, cron jobs) calls the same ProBonus installation.
//
// # Keys
//
// The key names the budget. KeyFor derives one per ProBonus installation from its base URL, so a
// platform that serves many restaurants paces each restaurant's server separately, and every
// process that calls the same server shares its budget however it spells the URL.
//
// # Pacing
//
// Wait takes one slot. When none is free it sleeps for the retry-after Redis returns and asks
// again; it returns as soon as its context ends, while asking or while sleeping. In any window of
// one period the fleet sends at most Limit.Rate requests plus Limit.Burst. Waiting calls form no
// queue: whichever asks first after a slot frees takes it.
//
// # When Redis is unreachable
//
// A Redis call that fails, or takes longer than the Redis timeout (WithRedisTimeout,
// DefaultRedisTimeout), starts an outage. By default Wait then falls back to a local token bucket
// (golang.org/x/time/rate) holding a share of the budget (WithFallback, DefaultFallbackShare), and
// logs one warning when the outage starts and one line when Redis answers again, never one per
// call. With WithFailOnOutage it returns an error matching ErrLimiterUnavailable instead, so the
// request is not sent at all.
//
// During an outage one call per probe interval (WithProbeInterval) asks Redis again, even one
// already waiting on the fallback; the others fall back or fail at once rather than wait for a
// connection that will not come. When Redis answers, calls still waiting on the fallback move back
// to the shared bucket, so a fleet does not send its fallback share on top of the shared budget.
// Redis restarted empty starts a fresh bucket: the one-period window around the recovery may hold
// the fallback's last requests and a full burst besides.
//
// # The Redis client
//
// Wait returns when its context ends, and gives Redis up after the Redis timeout, whatever the
// options of the client it was given: each call to Redis runs in a goroutine of its own, which
// Wait leaves behind when it stops waiting. How long that goroutine goes on is up to the client's
// options. go-redis sets a context's deadline on the connection only with ContextTimeoutEnabled;
// without it a command on a connection that Redis accepted and never answers goes on for the
// client's ReadTimeout (5 s by default, for ever with -1 or -2), holding a connection of the pool
// all the while. With the options above it ends by the Redis timeout at the latest, and each read,
// write and wait for a free connection stays within the default Redis timeout for the program's
// other commands too. A program whose other commands need longer timeouts gives the limiter a
// client of its own.
//
// go-redis logs failed dials through its own logger (redis.SetLogger), apart from this package's.
package probonusredis
