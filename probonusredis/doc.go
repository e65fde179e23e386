// Package probonusredis paces a fleet of ProBonus clients with one rate limit kept in Redis.
//
// A restaurant's ProBonus server is sized for a few requests a second. Each process's own
// probonus.WithRateLimit knows only that process's share, so ten pods at 10/s send 100/s. A
// *Limiter takes its slots from one GCRA bucket in Redis (github.com/go-redis/redis_rate), shared by
// every process that uses the same key, and plugs into probonus.WithLimiter:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
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
// one period the fleet sends at most Limit.Rate requests plus Limit.Burst.
//
// # When Redis is unreachable
//
// By default Wait falls back to a local token bucket (golang.org/x/time/rate) holding a share of
// the budget (WithFallback, DefaultFallbackShare unless set), and logs one warning when the outage
// starts and one line when Redis answers again, never one per call. With WithFailOnOutage it
// returns an error that matches ErrLimiterUnavailable and wraps Redis's own error instead, so the
// call is not sent at all. While Redis is down, at most one call per probe interval
// (WithProbeInterval) tries it again; the others fall back or fail at once, without waiting for a
// connection that will not come. How long that one try may take is the Redis client's own
// DialTimeout and ReadTimeout.
package probonusredis
