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
// # The lease
//
// Lock returns a probonus.RefillLease. Its Until is the moment the last acquire, renewal or
// confirmation that succeeded was sent, plus the lease, minus a margin (a tenth of the lease, at
// least 5 ms), on the process's monotonic clock: Redis expires the lock by its own clock, and the
// margin covers that clock running faster than this one over a lease, and PX's rounding to a
// millisecond. A renewal that fails (Redis unreachable) does not move Until; one that finds the
// lock taken by another holder, or gone (it lapsed, or Redis forgot it), closes Lost at once and
// stops renewing.
//
// Confirm is one round trip, the renewal's script: when the lock still holds the holder's token it
// is extended with its mark and Until moves on; otherwise Confirm returns an error matching
// probonus.ErrLeaseLost. A lease that lapsed is lost even when no other holder seems to have taken
// the key meanwhile: a Redis restored from a snapshot, or a replica promoted after a failover, may
// hold the holder's old mark and have forgotten the holder who took the key, credited and unlocked
// in between, so a lapsed lease is never taken back. RefillOnce calls it as the
// last step before each request of a refill is handed to the transport (its first send, its own
// resends, a replay after a token refresh), ends each attempt at Until, and trusts a look that found
// nothing only when its answer came back before Until (else it confirms and looks again). So a
// holder paused past its lease (SIGSTOP, a frozen container, a VM migration, a long stop-the-world
// pause) sends nothing when it resumes, whether it stopped before its send, with a look's answer
// in flight, or in an attempt whose deadline then passed before it wrote: the call returns an
// error matching probonus.ErrLeaseLost, and nothing was sent after the pause. Meanwhile the next
// holder took the key when the lease ended, found the mark, waited its settle time, looked, and
// credited or found the credit.
//
// # When a holder does not unlock
//
// A holder that dies (killed mid-send, its refill applied, its answer lost) frees the key when its
// lease ends. It never unlocked, and the mark it left (PREFIX holder:{K}, its token, kept two
// leases) says so: the next Lock records an uncertain send at the moment it takes the key, with a
// zero Settle, so RefillOnce waits its settle time, then looks, as after an uncertain send of its
// own. It finds the dead holder's credit and sends nothing.
//
// A holder whose uncertain send Redis refused to record unlocks with Unlock(false): the lock is
// deleted, the mark kept (for two leases after its last renewal, longer than its last attempt and
// the settle time after it, both within one lease), so the next holder takes the key at once, finds
// the mark and waits its settle time before it looks, as after a holder that died. An unlock that
// cannot reach Redis leaves the lock to its lease and the mark to the next holder.
//
// When Redis cannot be reached, or does not answer within the Redis timeout
// (WithCoordinatorTimeout, DefaultRedisTimeout, as the limiter's and as bound whatever the
// client's options), Lock, LastUncertain and Confirm fail and RefillOnce fails closed: it neither
// looks nor sends, and its error matches probonus.ErrCoordinatorUnavailable, so calling again later
// is safe. A request already handed to the transport goes on.
//
// The time of an uncertain send is its sender's clock: the fleet's clocks must agree to well within
// the settle time (NTP does).
//
// # When Redis loses its memory
//
// A Redis restarted without persistence, or a replica promoted before it had the last writes, has
// forgotten locks, marks and records. A holder from before finds its lock gone at its next
// confirmation and sends nothing more. What is left is a request handed to the transport before
// Redis forgot, still on its way, and a new holder that takes the key in the new Redis and looks
// at once. Against that, a fleet-wide marker: PREFIX epoch, with no TTL. Right after each acquire
// (a call of its own: in a Cluster it has a slot of its own) Lock reads it with a script that
// creates it when it is missing, or when it was written by another redis-server process (its
// value is its creation time in µs by Redis's clock and INFO's run_id: a restart or a failover
// changes the run_id). When the marker was created now or less than one lease ago, the key counts
// as taken from a holder that did not unlock: an uncertain send is recorded at that moment with a
// zero Settle, and RefillOnce waits its settle time before it looks. The marker is read after the
// acquire, not before: a Redis that restarts between the two creates it at the read, which counts,
// and the record is written only if the new Redis still holds the lock just taken (else Lock
// takes the key again, from the new Redis). A marker whose time is ahead of Redis's clock (the
// clock was set back) is written again, so it counts for one lease, not until the clock catches up.
//
// One lease is enough, and a fleet never waits longer: once Redis has forgotten, no holder from
// before passes a confirmation, so the last request of one was handed to the transport before the
// loss and shows in the history within the settle time (the settle time's own promise); every key
// taken within a lease of the marker's creation (which comes after the loss) waits the settle time
// from its take, and a lease is longer than the settle time, which it includes. The cost: for one
// lease after Redis comes back, or after a prefix is first used (a new Redis cannot be told from
// one that lost its memory), each RefillOnce waits its settle time before it looks; always, one
// round trip more per Lock. The window assumes the fleet's clients share their settings, as a
// fleet does: a holder whose settle time is longer than another's lease is not covered.
//
// Which Redis set-ups keep which promise:
//
//   - No persistence: a restart forgets everything, and is noticed (no marker, a new run_id).
//   - RDB snapshots: a restart reloads the last snapshot, marker included, without what was written
//     since; noticed by the run_id.
//   - AOF with appendfsync always: nothing acknowledged is lost; a restart is noticed all the same
//     and costs one lease of settle waits, harmlessly. With everysec, a crash of the host loses up
//     to a second of writes; noticed by the run_id.
//   - Replicas and Sentinel: replication is asynchronous, so a promoted replica may miss a lock just
//     taken; the failover is noticed by the run_id (the marker names the old master). Not noticed:
//     a master cut off from Sentinel that goes on serving the clients that still reach it while a
//     replica is promoted (both hand out locks until the old master is demoted). Set
//     min-replicas-to-write 1 and min-replicas-max-lag (a few seconds) so that a master cut off
//     from its replicas stops taking writes, or give the Coordinator a Redis without replicas.
//   - Redis Cluster: the marker lives on the shard of its own slot. A restart or failover of another
//     shard, which holds the locks of some keys, is not noticed by the marker: a holder from before
//     still finds its lock gone when it confirms, but a request it had already handed to the
//     transport is not waited for. Run each shard with appendfsync always, or give the Coordinator
//     a single Redis (with replicas).
//   - maxmemory: use noeviction. A lock, mark or record evicted is a lock lost without a sign; under
//     volatile-* policies every key of the Coordinator but the marker may go, under allkeys-* the
//     marker too (counted as a loss: one lease of waits). Better, a Redis of its own.
//   - A managed Redis whose scripts may not call INFO: the run_id is empty, and only a missing
//     marker counts.
//
// # The window that remains
//
// Two windows no client can close, only narrow: a process paused between the lease's last
// confirmation and the write system call of its request, for longer than the rest of its lease and
// the next holder's settle time (the confirmation and the write are two steps, and a process can be
// frozen between any two; the attempt's deadline is the lease's end, so a transport that had not
// yet taken a connection when it resumes usually drops the request, but bytes handed to the kernel
// go); and a network (a proxy, a load balancer, the server's own queue) that holds a request for
// longer than the settle time, so that it is applied after the next holder looked. Both need the
// server to close them, with an idempotency key or a fencing token it checks; ProBonus has neither.
// Make the settle time longer than any delay your network can hold a request, and keep Redis close.
//
// The tests run these at the wire, with real redis-server and worker processes, counting the
// credits the fake server applied: a worker SIGSTOPped past its lease before its send, in an
// attempt whose deadline then passed before its write, with a look's answer read after the pause
// or arriving during it, and at random moments (outside the window above) while another holder took its keys, 20 runs of
// each; Redis SIGKILLed and restarted empty after a holder's look, with and without a wait before
// its send, and with its send out, 20 keys each; a record refused by Redis after a send cut off, 20
// keys: no key credited twice. The same harness without a coordinator credits every key twice; the
// marker left out, the send-out case doubled 20 keys of 20; Unlock(false) deleting the mark, the
// refused record doubled 20 of 20.
//
// The cost, measured on loopback (BenchmarkCoordinator, BenchmarkConfirm, BenchmarkRefillOnce and
// BenchmarkRefillOnceWithCoordinator, on two busy cores): four Redis round trips per RefillOnce
// (Lock's script, the marker's, LastUncertain's HMGET, unlock's script), about 0.2 to 0.3 ms
// together; a RefillOnce that finds its credit takes about 0.2 ms with the in-process default and
// 0.6 ms with a Coordinator. A call that sends adds one round trip before each request, Confirm's:
// about 35 µs on loopback, one round trip to Redis elsewhere.
package probonusredis
