package probonusredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"strconv"
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

// WithKeyPrefix sets what the Coordinator puts before its Redis keys; default
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
	case c.timeout <= 0:
		c.err = fmt.Errorf("%w: Redis timeout %v is not positive", ErrInvalidConfig, c.timeout)
	case c.poll <= 0:
		c.err = fmt.Errorf("%w: poll interval %v is not positive", ErrInvalidConfig, c.poll)
	}
	return c
}

// Err reports what was wrong with NewCoordinator's arguments, or nil.
func (c *Coordinator) Err() error { return c.err }

// Lock takes key's lock for lease, renewed every lease/3 until unlock, and waits (polling with
// backoff) while another holder has it, until ctx ends; then it returns ctx.Err(). A Redis call
// that fails or takes longer than the Redis timeout ends it with an error.
//
// When the key's previous holder did not unlock (it died, or lost its lease while it still ran),
// Lock records an uncertain send at the moment it takes the key, with a zero Settle: RefillOnce
// then waits its own settle time before it looks, as after an uncertain send of its own, since
// the previous holder's last request may still be on its way.
func (c *Coordinator) Lock(ctx context.Context, key string, lease time.Duration) (unlock func(), err error) {
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
	h := &holding{c: c, keys: c.keys(key), token: token, leaseMs: ceilMs(lease), every: max(lease/3, time.Millisecond)}
	wait := max(c.poll/16, time.Millisecond)
	for {
		took, err := bounded(ctx, c.timeout, func(rctx context.Context) (int64, error) {
			return acquireScript.Run(rctx, c.rdb, h.keys, token, h.leaseMs, 2*h.leaseMs, unixMicro(time.Now())).Int64()
		})
		switch {
		case err != nil && ctx.Err() != nil:
			// A lock taken by a SET whose answer was cut off by ctx stays held until its lease ends.
			return nil, ctx.Err()
		case err != nil:
			return nil, fmt.Errorf("probonusredis: taking the lock: %w", err)
		case took != 0:
			return h.start(), nil
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

// holding is one taken lock, renewed until unlock.
type holding struct {
	c       *Coordinator
	keys    []string
	token   string
	leaseMs int64
	every   time.Duration
	cancel  context.CancelFunc
	done    chan struct{}
}

// start starts the renewal and returns the unlock function.
func (h *holding) start() func() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go h.renew(ctx)
	var once sync.Once
	return func() { once.Do(h.release) }
}

// renew extends the lease every lease/3 until ctx ends. A renewal that fails is tried again at
// the next tick (the lease may still be there); one that finds the key taken by another holder,
// or gone with its holder mark (Redis restarted empty), stops: the holder goes on, since it has
// already looked, and the next holder found the lease expired (see Lock).
func (h *holding) renew(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		held, err := bounded(ctx, h.c.timeout, func(rctx context.Context) (int64, error) {
			return renewScript.Run(rctx, h.c.rdb, h.keys[:2], h.token, h.leaseMs, 2*h.leaseMs).Int64()
		})
		if err == nil && held == 0 {
			return
		}
	}
}

// release stops the renewal and deletes the lock and the holder mark if they are still this
// holder's. When Redis cannot be reached the lock stays until its lease ends, and the next holder
// finds that its previous holder did not unlock.
func (h *holding) release() {
	h.cancel()
	<-h.done
	_, _ = bounded(context.Background(), h.c.timeout, func(rctx context.Context) (int64, error) {
		return releaseScript.Run(rctx, h.c.rdb, h.keys[:2], h.token).Int64()
	})
}

// acquireScript takes the lock (KEYS[1]) for ARGV[1] with a lease of ARGV[2] ms, and marks its
// holder (KEYS[2]) for ARGV[3] ms. A mark left by a previous holder says it did not unlock: then
// the uncertain-send record (KEYS[3]) gets the time ARGV[4] (µs) unless it holds a later one.
// 0: held by another; 1: taken; 2: taken from a holder that did not unlock.
var acquireScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
local prev = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
if not prev then
  return 1
end
local at = redis.call('HGET', KEYS[3], 'at')
if (not at) or tonumber(at) < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[3], 'at', ARGV[4])
  redis.call('HSETNX', KEYS[3], 'settle', '0')
  redis.call('HSETNX', KEYS[3], 'keep', '0')
  if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[3]) then
    redis.call('PEXPIRE', KEYS[3], ARGV[3])
  end
end
return 2
`)

// renewScript extends the lease (KEYS[1], ARGV[2] ms) and the mark (KEYS[2], ARGV[3] ms) of the
// holder ARGV[1]. A lease that lapsed while no other holder took the key is taken again. 1: held;
// 0: lost.
var renewScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 1
end
if (not cur) and redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
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
