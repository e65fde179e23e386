package probonusredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/redis/go-redis/v9"
)

// DefaultCoordinatorPrefix is what NewCoordinator puts before its Redis keys unless
// WithKeyPrefix says otherwise.
const DefaultCoordinatorPrefix = "probonus:refill:"

// DefaultPollInterval is the longest a Lock waits between two tries for a key another holder
// has, unless WithPollInterval says otherwise.
const DefaultPollInterval = 100 * time.Millisecond

// CoordinatorOption configures a Coordinator in NewCoordinator.
type CoordinatorOption func(*Coordinator)

// WithKeyPrefix sets what the Coordinator puts before its Redis keys (no brace: the Coordinator
// sets the hash tags itself, so that a key's lock, mark and record share a Cluster slot); default
// DefaultCoordinatorPrefix. The installation is already part of every key RefillOnce gives it;
// a prefix separates, say, two environments that share one Redis.
func WithKeyPrefix(prefix string) CoordinatorOption {
	return func(c *Coordinator) { c.prefix = prefix }
}

// WithCoordinatorTimeout sets how long one call to Redis may take (dialling and go-redis's
// retries included) before the Coordinator gives up on it and returns an error; default
// DefaultRedisTimeout, the limiter's. RefillOnce then fails closed: it sends nothing and returns
// an error matching probonus.ErrCoordinatorUnavailable.
func WithCoordinatorTimeout(d time.Duration) CoordinatorOption {
	return func(c *Coordinator) { c.timeout = d }
}

// WithPollInterval sets the longest wait between two tries of a Lock for a key another holder
// has; default DefaultPollInterval. The first retry comes after a sixteenth of it, each next
// after twice as long (with jitter), up to d.
func WithPollInterval(d time.Duration) CoordinatorOption {
	return func(c *Coordinator) { c.poll = d }
}

// Coordinator is a probonus.RefillCoordinator kept in Redis: RefillOnce's per-key lock and the
// key's last uncertain send, shared by every process that uses the same Redis and prefix. Pass
// it to probonus.WithRefillCoordinator. It is safe for concurrent use.
//
// For a key K (RefillOnce's, a SHA-256 in hex: no phone or reason in clear) it keeps three Redis
// keys, all with the hash tag {K} so that they share a slot in Redis Cluster:
//
//	PREFIX lock:{K}       the lock: a random token of its holder, SET NX PX lease
//	PREFIX holder:{K}     the same token, kept for two leases: the holder has not unlocked yet
//	PREFIX uncertain:{K}  the last uncertain send, a hash (at, settle, keep in µs), kept Keep+Settle
//
// and one for the whole fleet, PREFIX epoch: the marker that tells a Redis that lost its memory
// (its creation time in µs and the redis-server's run_id, no TTL).
//
// See the package doc, "RefillOnce across a fleet", for what happens when a holder dies or Redis
// goes away.
type Coordinator struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	poll    time.Duration
	err     error
}

var _ probonus.RefillCoordinator = (*Coordinator)(nil)

// NewCoordinator returns a Coordinator on rdb, which it uses and never closes. Bad arguments (nil
// rdb, an empty prefix, an option out of range) do not panic: Err reports them, and every method
// returns them, so RefillOnce fails closed.
func NewCoordinator(rdb redis.UniversalClient, opts ...CoordinatorOption) *Coordinator {
	c := &Coordinator{rdb: rdb, prefix: DefaultCoordinatorPrefix, timeout: DefaultRedisTimeout, poll: DefaultPollInterval}
	for _, opt := range opts {
		opt(c)
	}
	switch {
	case rdb == nil:
		c.err = fmt.Errorf("%w: nil Redis client", ErrInvalidConfig)
	case c.prefix == "":
		c.err = fmt.Errorf("%w: empty key prefix", ErrInvalidConfig)
	case strings.ContainsAny(c.prefix, "{}"):
		// a brace in the prefix would change the keys' hash tag: in Redis Cluster, a key's lock,
		// mark and record would no longer share a slot (review of issue 25)
		c.err = fmt.Errorf("%w: key prefix %q holds a brace (Redis Cluster hash tags are the coordinator's)", ErrInvalidConfig, c.prefix)
	case c.timeout <= 0:
		c.err = fmt.Errorf("%w: Redis timeout %v is not positive", ErrInvalidConfig, c.timeout)
	case c.poll <= 0:
		c.err = fmt.Errorf("%w: poll interval %v is not positive", ErrInvalidConfig, c.poll)
	}
	return c
}

// Err reports what was wrong with NewCoordinator's arguments, or nil.
func (c *Coordinator) Err() error { return c.err }

// Lock takes key's lock for lease, renewed every lease/3 until Unlock, and waits (polling with
// backoff) while another holder has it, until ctx ends; then it returns ctx.Err(). A Redis call
// that fails or takes longer than the Redis timeout ends it with an error.
//
// When the key's previous holder did not unlock (it died, lost its lease while it still ran, or
// unlocked with Unlock(false)), Lock records an uncertain send at the moment it takes the key,
// with a zero Settle: RefillOnce then waits its own settle time before it looks, as after an
// uncertain send of its own, since the previous holder's last request may still be on its way.
// It does the same when the fleet's marker says that Redis lost its memory less than one lease
// ago (see the package doc, "When Redis loses its memory").
//
// The lease it returns says until when the lock certainly holds (from the moment the last acquire,
// renewal or confirmation that succeeded was sent, plus the lease, minus a tenth of it, at least
// 5 ms), is renewed every third of the lease, and closes Lost as soon as a renewal finds the lock
// another's or forgotten. Its Confirm is one Redis round trip; its Unlock(false) keeps the holder
// mark (see the package doc, "RefillOnce across a fleet").
func (c *Coordinator) Lock(ctx context.Context, key string, lease time.Duration) (probonus.RefillLease, error) {
	if err := c.check(key); err != nil {
		return nil, err
	}
	if lease <= 0 {
		return nil, fmt.Errorf("probonusredis: Lock: lease %v is not positive", lease)
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	h := &holding{c: c, keys: c.keys(key), token: token, lease: lease, leaseMs: ceilMs(lease), margin: leaseMargin(lease),
		every: max(lease/3, time.Millisecond), lost: make(chan struct{})}
	wait := max(c.poll/16, time.Millisecond)
	for {
		start := time.Now() // before the request: the lease runs from no later than this
		took, err := bounded(ctx, c.timeout, func(rctx context.Context) (int64, error) {
			return acquireScript.Run(rctx, c.rdb, h.keys, token, h.leaseMs, 2*h.leaseMs, unixMicro(time.Now())).Int64()
		})
		if err != nil {
			// The acquire may have run with its answer cut off: free what this token may hold, so
			// that the caller's own next try does not wait a lease for itself.
			h.free(true)
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			return nil, fmt.Errorf("probonusredis: taking the lock: %w", err)
		case took != 0:
			h.until = start.Add(lease - h.margin)
			if err := h.checkMemory(ctx); errors.Is(err, errLockForgotten) {
				continue // Redis restarted empty after the acquire: take it again, from the new Redis
			} else if err != nil {
				h.free(false) // the lock goes, the mark stays: the next holder waits its settle time
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, err
			}
			h.start()
			return h, nil
		}
		if err := sleep(ctx, wait/2+mathrand.N(wait/2+1)); err != nil {
			return nil, err
		}
		wait = min(2*wait, c.poll)
	}
}

// RecordUncertain keeps u as key's last uncertain send for u.Keep + u.Settle after u.At, unless
// the send kept is newer; a zero u.At deletes the record.
func (c *Coordinator) RecordUncertain(ctx context.Context, key string, u probonus.UncertainSend) error {
	if err := c.check(key); err != nil {
		return err
	}
	rec := c.keys(key)[2]
	var err error
	if u.At.IsZero() {
		_, err = bounded(ctx, c.timeout, func(rctx context.Context) (int64, error) { return c.rdb.Del(rctx, rec).Result() })
	} else {
		keepFor := max(ceilMs(time.Until(u.At.Add(u.Keep+u.Settle))), 1)
		_, err = bounded(ctx, c.timeout, func(rctx context.Context) (int64, error) {
			return recordScript.Run(rctx, c.rdb, []string{rec}, unixMicro(u.At), ceilMicro(u.Settle), ceilMicro(u.Keep), keepFor).Int64()
		})
	}
	if err != nil {
		return fmt.Errorf("probonusredis: recording an uncertain send: %w", err)
	}
	return nil
}

// LastUncertain returns key's last uncertain send, or a zero one.
func (c *Coordinator) LastUncertain(ctx context.Context, key string) (probonus.UncertainSend, error) {
	if err := c.check(key); err != nil {
		return probonus.UncertainSend{}, err
	}
	vals, err := bounded(ctx, c.timeout, func(rctx context.Context) ([]any, error) {
		return c.rdb.HMGet(rctx, c.keys(key)[2], "at", "settle", "keep").Result()
	})
	if err != nil {
		return probonus.UncertainSend{}, fmt.Errorf("probonusredis: reading the last uncertain send: %w", err)
	}
	var us [3]int64
	for i, v := range vals {
		s, _ := v.(string)
		if s == "" {
			continue
		}
		if us[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return probonus.UncertainSend{}, fmt.Errorf("probonusredis: the last uncertain send holds %q", s)
		}
	}
	if us[0] == 0 {
		return probonus.UncertainSend{}, nil
	}
	return probonus.UncertainSend{At: time.UnixMicro(us[0]), Settle: time.Duration(us[1]) * time.Microsecond,
		Keep: time.Duration(us[2]) * time.Microsecond}, nil
}

func (c *Coordinator) check(key string) error {
	switch {
	case c.err != nil:
		return c.err
	case key == "":
		return errors.New("probonusredis: empty key")
	}
	return nil
}

// keys are key's lock, holder mark and uncertain-send record.
func (c *Coordinator) keys(key string) []string {
	tag := "{" + key + "}"
	return []string{c.prefix + "lock:" + tag, c.prefix + "holder:" + tag, c.prefix + "uncertain:" + tag}
}

// holding is a key's lock taken by Coordinator.Lock, as its holder has it: its
// probonus.RefillLease. It is renewed every third of the lease until Unlock; Until moves on with
// each renewal or confirmation that succeeds, from the moment it was sent. It is safe for
// concurrent use.
type holding struct {
	c       *Coordinator
	keys    []string
	token   string
	lease   time.Duration
	leaseMs int64
	margin  time.Duration
	every   time.Duration
	cancel  context.CancelFunc
	done    chan struct{}
	lost    chan struct{} // closed once the lock is known to be another's or forgotten
	once    sync.Once     // Unlock's

	mu       sync.Mutex
	until    time.Time // monotonic: taken from time.Now()
	isLost   bool
	unlocked bool
}

var _ probonus.RefillLease = (*holding)(nil)

// errLeaseLost is what Confirm returns when the lock is no longer this holder's: another
// holder took it after its lease lapsed, or Redis forgot it. It matches probonus.ErrLeaseLost.
var errLeaseLost = fmt.Errorf("probonusredis: the lock is no longer this holder's (it lapsed and another holder took it, or Redis forgot it): %w",
	probonus.ErrLeaseLost)

// errUnlocked is what Confirm returns after Unlock.
var errUnlocked = fmt.Errorf("probonusredis: the lock was unlocked: %w", probonus.ErrLeaseLost)

// leaseMargin is what Until keeps back from the lease: a tenth of it, at least 5 ms, at most half.
// It covers Redis's clock running faster than this process's over the lease (Redis expires keys
// by its own clock) and the millisecond Redis rounds PX to; a tenth is far more than any clock
// drifts, so only a clock stepped on the Redis host (which NTP does not do in normal running)
// could end a lease before Until.
func leaseMargin(lease time.Duration) time.Duration {
	return min(max(lease/10, 5*time.Millisecond), lease/2)
}

// Until is the end of the time the lock certainly holds, on this process's monotonic clock: the
// moment the last acquire, renewal or confirmation that succeeded was sent, plus the lease, minus
// a margin (a tenth of the lease, at least 5 ms). A renewal that fails does not move it.
func (h *holding) Until() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.until
}

// Lost is closed as soon as a renewal or a confirmation finds the lock taken by another holder or
// forgotten by Redis; the renewal stops then.
func (h *holding) Lost() <-chan struct{} { return h.lost }

// Confirm checks in Redis, in one round trip (a script), that the lock still holds this holder's
// token, and extends it and its holder mark when it does. A lock that lapsed is lost, as for a
// renewal, even when no other holder seems to have taken it (a Redis restored from a snapshot may
// have forgotten one that did). When the lock is another's or gone, Lost is closed and the error
// matches probonus.ErrLeaseLost;
// when Redis fails or does not answer within the Redis timeout, the error says so and Until does
// not move.
func (h *holding) Confirm(ctx context.Context) error {
	h.mu.Lock()
	lost, unlocked := h.isLost, h.unlocked
	h.mu.Unlock()
	switch {
	case unlocked:
		return errUnlocked
	case lost:
		return errLeaseLost
	}
	start := time.Now()
	held, err := bounded(ctx, h.c.timeout, func(rctx context.Context) (int64, error) {
		return renewScript.Run(rctx, h.c.rdb, h.keys[:2], h.token, h.leaseMs, 2*h.leaseMs).Int64()
	})
	switch {
	case err != nil:
		return fmt.Errorf("probonusredis: confirming the lock: %w", err)
	case held == 0:
		h.markLost()
		return errLeaseLost
	}
	h.extend(start)
	return nil
}

// Unlock stops the renewal and frees the key. Unlock(true) deletes the lock and the holder mark
// if they are still this holder's. Unlock(false), for a holder whose last send's outcome is
// unknown and could not be recorded, deletes the lock but keeps the mark (for up to two leases
// after the last renewal): the next holder takes the key at once, finds the mark, records an
// uncertain send at that moment and so waits its settle time before it looks, as after a holder
// that died. When Redis cannot be reached the lock stays until its lease ends, and the mark with
// it. Calls after the first do nothing.
func (h *holding) Unlock(clean bool) {
	h.once.Do(func() {
		h.mu.Lock()
		h.unlocked = true
		h.mu.Unlock()
		h.cancel()
		<-h.done
		h.free(clean)
	})
}

func (h *holding) extend(start time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u := start.Add(h.lease - h.margin); u.After(h.until) {
		h.until = u
	}
}

func (h *holding) markLost() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.isLost {
		h.isLost = true
		close(h.lost)
	}
}

// start starts the renewal.
func (h *holding) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go h.renew(ctx)
}

// renew extends the lease every lease/3 until ctx ends. A renewal that fails is tried again at the
// next tick (the lease may still be there) and does not move Until; one that finds the lock
// another's or gone (it lapsed, or Redis forgot it) closes Lost and stops.
func (h *holding) renew(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.lost:
			return
		case <-t.C:
		}
		start := time.Now()
		held, err := bounded(ctx, h.c.timeout, func(rctx context.Context) (int64, error) {
			return renewScript.Run(rctx, h.c.rdb, h.keys[:2], h.token, h.leaseMs, 2*h.leaseMs).Int64()
		})
		switch {
		case err != nil:
		case held == 0:
			h.markLost()
			return
		default:
			h.extend(start)
		}
	}
}

// free deletes the lock, and with clean the holder mark, if they are still this holder's. When
// Redis cannot be reached the lock stays until its lease ends, and the next holder finds that its
// previous holder did not unlock.
func (h *holding) free(clean bool) {
	script := releaseScript
	if !clean {
		script = dropLockScript
	}
	_, _ = bounded(context.Background(), h.c.timeout, func(rctx context.Context) (int64, error) {
		return script.Run(rctx, h.c.rdb, h.keys[:2], h.token).Int64()
	})
}

// checkMemory reads the fleet's marker right after the lock is taken. When Redis created it now
// (it had none: a new Redis, or one that lost its memory) or less than one lease ago, the key
// counts as taken from a holder that did not unlock: an uncertain send is recorded now, with a
// zero Settle, so RefillOnce waits its settle time before it looks.
func (h *holding) checkMemory(ctx context.Context) error {
	c := h.c
	ans, err := bounded(ctx, c.timeout, func(rctx context.Context) ([]int64, error) {
		return epochScript.Run(rctx, c.rdb, []string{c.prefix + "epoch"}).Int64Slice()
	})
	if err == nil && len(ans) != 2 {
		err = fmt.Errorf("the marker script answered %v", ans)
	}
	if err != nil {
		return fmt.Errorf("probonusredis: reading the fleet's marker %q: %w", c.prefix+"epoch", err)
	}
	if ans[0] == 0 && ans[1] >= h.lease.Microseconds() {
		return nil
	}
	held, err := bounded(ctx, c.timeout, func(rctx context.Context) (int64, error) {
		return markScript.Run(rctx, c.rdb, h.keys, h.token, unixMicro(time.Now()), 2*h.leaseMs).Int64()
	})
	if err != nil {
		return fmt.Errorf("probonusredis: recording that Redis lost its memory less than a lease ago: %w", err)
	}
	if held == 0 {
		return errLockForgotten
	}
	return nil
}

// errLockForgotten is checkMemory's finding that Redis no longer holds the lock just taken (it
// restarted empty in between): Lock takes it again.
var errLockForgotten = errors.New("probonusredis: the lock just taken is gone")

// markLua records, in the uncertain-send record KEYS[rec], an uncertain send at ARGV[at] (µs)
// with a zero settle time and keep, unless the record holds a later one, and keeps the record at
// least ARGV[ttl] ms.
const markLua = `
local at = redis.call('HGET', KEYS[rec], 'at')
if (not at) or tonumber(at) < tonumber(ARGV[ts]) then
  redis.call('HSET', KEYS[rec], 'at', ARGV[ts])
  redis.call('HSETNX', KEYS[rec], 'settle', '0')
  redis.call('HSETNX', KEYS[rec], 'keep', '0')
  if redis.call('PTTL', KEYS[rec]) < tonumber(ARGV[ttl]) then
    redis.call('PEXPIRE', KEYS[rec], ARGV[ttl])
  end
end
`

// acquireScript takes the lock (KEYS[1]) for ARGV[1] with a lease of ARGV[2] ms, and marks its
// holder (KEYS[2]) for ARGV[3] ms. A mark left by a previous holder says it did not unlock: then
// the uncertain-send record (KEYS[3]) gets the time ARGV[4] (µs) unless it holds a later one.
// 0: held by another; 1: taken (or already this token's: go-redis sent it again after a lost
// answer); 2: taken from a holder that did not unlock.
var acquireScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
local prev = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
if not prev then
  return 1
end
local rec, ts, ttl = 3, 4, 3
` + markLua + `
return 2
`)

// markScript records an uncertain send at ARGV[2] (µs) in KEYS[3], kept at least ARGV[3] ms, as
// acquireScript does for a holder that did not unlock, if the lock (KEYS[1]) is still the token
// ARGV[1]'s: a Redis that restarted empty between the acquire and now holds no lock for it. 1:
// recorded; 0: the lock is not held.
var markScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local rec, ts, ttl = 3, 2, 3
` + markLua + `
return 1
`)

// epochScript reads the fleet's marker (KEYS[1], no TTL), creating it when it is missing or was
// written by another redis-server process (INFO's run_id differs: a restart, or a failover to a
// replica; where a script may not call INFO, the run_id is empty and only a missing marker
// counts). Its value is its creation time in µs by Redis's clock, then that run_id. A marker from
// the future (Redis's clock was set back) is written again, so it counts once, not until the
// clock catches up. Answer: {1, 0} when created now; {0, age in µs} otherwise.
var epochScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local info = redis.pcall('INFO', 'server')
local run = ''
if type(info) == 'string' then
  run = string.match(info, 'run_id:(%w+)') or ''
end
local v = redis.call('GET', KEYS[1])
if v then
  local at, was = string.match(v, '^(%d+) (%w*)$')
  if at and was == run and now >= tonumber(at) then
    return {0, now - tonumber(at)}
  end
end
redis.call('SET', KEYS[1], t[1] .. string.format('%06d', tonumber(t[2])) .. ' ' .. run)
return {1, 0}
`)

// renewScript extends the lease (KEYS[1], ARGV[2] ms) and the mark (KEYS[2], ARGV[3] ms) of the
// holder ARGV[1]. A lease that lapsed is lost, even when no other holder seems to have taken the
// key: a Redis restored from a snapshot, or a replica promoted after a failover, may have
// forgotten the holder who took it in between (review of issue 25). 1: held; 0: lost.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 1
end
return 0
`)

// releaseScript deletes the lock (KEYS[1]) and the mark (KEYS[2]) that are ARGV[1]'s. 1: the lock
// was still held.
var releaseScript = redis.NewScript(`
local held = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  held = 1
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return held
`)

// dropLockScript deletes the lock (KEYS[1]) if it is ARGV[1]'s, and keeps the holder mark
// (KEYS[2]): the next holder finds that this one did not unlock cleanly. 1: the lock was still
// held.
var dropLockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// recordScript keeps the uncertain send (at ARGV[1], settle ARGV[2], keep ARGV[3], in µs) in
// KEYS[1] for at least ARGV[4] ms, unless the send kept there is as new or newer. 1: kept.
var recordScript = redis.NewScript(`
local at = redis.call('HGET', KEYS[1], 'at')
if at and tonumber(at) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'settle', ARGV[2], 'keep', ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
`)

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("probonusredis: a lock token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ceilMs is d in whole milliseconds, rounded up: a lease never ends early.
func ceilMs(d time.Duration) int64 { return int64((d + time.Millisecond - 1) / time.Millisecond) }

// ceilMicro is d in whole microseconds, rounded up: a settle time never ends early.
func ceilMicro(d time.Duration) int64 { return int64((d + time.Microsecond - 1) / time.Microsecond) }

// unixMicro is t in Unix microseconds, rounded up: a send is never taken for older than it is.
func unixMicro(t time.Time) int64 { return (t.UnixNano() + 999) / 1000 }
