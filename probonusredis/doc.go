// Package probonusredis paces a fleet of ProBonus clients with one rate limit kept in Redis, and
// makes RefillOnce credit once across the fleet (see "RefillOnce across a fleet").
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
//
// # RefillOnce across a fleet
//
// probonus's RefillOnce credits once per account, reason and amount: its calls on one key run one
// at a time, and after a send without an answer it waits a settle time before it looks again. By
// default that holds within one process. An "order completed" webhook delivered twice reaches two
// pods; with a *Coordinator both take the key's lock in Redis, the second waits, looks, finds the
// first one's credit and sends nothing:
//
//	coord := probonusredis.NewCoordinator(rdb) // the client above; every Redis call bounded anyway
//	client, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey(key),
//		probonus.WithRefillCoordinator(coord))
//
// The lock is SET PREFIX lock:{K} TOKEN NX PX LEASE, K being RefillOnce's key (a SHA-256: no phone
// or reason in clear), TOKEN random, LEASE the client's ((MaxAttempts+2) × the attempt timeout +
// the settle time). While held it is renewed every third of the lease; unlock deletes it only if
// it still holds the holder's token (one script). A Lock on a held key polls, from a sixteenth of
// WithPollInterval (DefaultPollInterval, 100 ms) doubling up to it, until its context ends. Polling
// rather than pub/sub: a holder that dies publishes nothing, so a waiter must poll anyway, and a
// contended key (the same event twice at once) is rare enough that a poll interval more, beside
// the look's round trips to ProBonus, is not worth a subscribed connection per process. The last
// uncertain send of K is a hash beside the lock, PREFIX uncertain:{K}, kept Keep + Settle (the
// client's lookback, 30 days by default) unless RefillOnce learns the outcome and deletes it; an
// older send never replaces a newer one. The keys share the hash tag {K}, so they sit in one slot
// of a Redis Cluster. PREFIX is WithKeyPrefix (DefaultCoordinatorPrefix); the installation is
// already part of K.
//
// A holder that dies (killed mid-send, its refill applied, its answer lost) frees the key when its
// lease ends. It never unlocked, and the mark it left (PREFIX holder:{K}, its token, kept two
// leases) says so: the next Lock records an uncertain send at the moment it takes the key, so
// RefillOnce waits its settle time, then looks, as after an uncertain send of its own. It finds
// the dead holder's credit and sends nothing.
//
// A holder that cannot renew its lease (Redis unreachable for longer than the lease, or the
// process paused as long) goes on: it has already looked, and may be sending. A lease that
// lapsed while no one took the key is taken back at the next renewal. One taken by another
// holder meanwhile is given up, and that other holder, finding the mark, waits its settle time
// before it looks; a send of the first holder later still is the one way this Coordinator can let
// a key be credited twice. Make the settle time longer than your sends can take, and keep Redis
// close.
//
// When Redis cannot be reached, or does not answer within the Redis timeout
// (WithCoordinatorTimeout, DefaultRedisTimeout, as the limiter's and as bound whatever the
// client's options), Lock and LastUncertain fail and RefillOnce fails closed: it neither looks nor
// sends, and its error matches probonus.ErrCoordinatorUnavailable, so calling again later is safe.
// A call that had already looked finishes its send; an unlock that fails leaves the lock to its
// lease and the mark to the next holder, which then waits its settle time.
//
// Redis restarted empty has lost every lock, mark and record: the first Lock of a key after it
// takes the key at once, and RefillOnce looks at once. The look still guards every credit
// applied by then; the sends that were out when Redis went away end within the client's attempt
// timeout, so a Redis back after longer than that (a restart takes seconds) lets nothing through,
// while one back within a send's time could let a second holder look before the first one's
// credit is applied. Persistence (appendonly) or a failover that keeps the keys closes that gap.
//
// The time of an uncertain send is its sender's clock: the fleet's clocks must agree to well within
// the settle time (NTP does).
//
// The cost, measured on loopback (BenchmarkCoordinator, BenchmarkRefillOnce and
// BenchmarkRefillOnceWithCoordinator, on two busy cores): three Redis round trips per RefillOnce
// (Lock's script, LastUncertain's HMGET, unlock's script), about 0.2 ms together; a RefillOnce
// that finds its credit takes about 0.4 ms with the in-process default and 0.7 ms with a
// Coordinator.
package probonusredis
