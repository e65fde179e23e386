package probonusredis_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
)

// testKey is a key as RefillOnce gives one: SHA-256 in hex, here of the test's name and what.
func testKey(t *testing.T, what string) string {
	sum := sha256.Sum256([]byte(t.Name() + "\x00" + what))
	return hex.EncodeToString(sum[:])
}

// redisKeys are the Redis keys of key under prefix: the lock, the holder mark, the uncertain send.
func redisKeys(prefix, key string) (lock, holder, uncertain string) {
	tag := "{" + key + "}"
	return prefix + "lock:" + tag, prefix + "holder:" + tag, prefix + "uncertain:" + tag
}

func TestNewCoordinatorRefusesBadArguments(t *testing.T) {
	t.Parallel()
	rdb := newRDB(t, deadAddr())
	cases := []struct {
		name string
		rdb  redis.UniversalClient
		opts []probonusredis.CoordinatorOption
		want string
	}{
		{"nil client", nil, nil, "nil Redis client"},
		{"empty prefix", rdb, []probonusredis.CoordinatorOption{probonusredis.WithKeyPrefix("")}, "empty key prefix"},
		{"zero timeout", rdb, []probonusredis.CoordinatorOption{probonusredis.WithCoordinatorTimeout(0)}, "Redis timeout 0s is not positive"},
		{"negative poll", rdb, []probonusredis.CoordinatorOption{probonusredis.WithPollInterval(-time.Second)}, "poll interval -1s is not positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := probonusredis.NewCoordinator(tc.rdb, tc.opts...)
			require.ErrorIs(t, c.Err(), probonusredis.ErrInvalidConfig)
			assert.ErrorContains(t, c.Err(), tc.want)
			ctx := context.Background()
			_, err := c.Lock(ctx, "k", time.Second)
			assert.ErrorIs(t, err, probonusredis.ErrInvalidConfig)
			assert.ErrorIs(t, c.RecordUncertain(ctx, "k", probonus.UncertainSend{At: time.Now()}), probonusredis.ErrInvalidConfig)
			_, err = c.LastUncertain(ctx, "k")
			assert.ErrorIs(t, err, probonusredis.ErrInvalidConfig)
		})
	}
	assert.NoError(t, probonusredis.NewCoordinator(rdb).Err(), "the defaults are valid")
}

// TestLockIsExclusive: a second Lock on a held key waits until its context ends; after unlock it
// takes the key at once. The lock is a random token under PREFIX lock:{KEY}, gone after unlock.
func TestLockIsExclusive(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:exclusive:"
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis, probonusredis.WithPollInterval(20*time.Millisecond))
	key := testKey(t, "k")
	lockKey, holderKey, _ := redisKeys(prefix, key)

	held, err := c.Lock(context.Background(), key, 10*time.Second)
	require.NoError(t, err)
	token, err := rdb.Get(context.Background(), lockKey).Result()
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{32}$`, token)
	assert.Equal(t, token, rdb.Get(context.Background(), holderKey).Val(), "the holder mark is the holder's token")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Lock(ctx, key, 10*time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a held key: the waiter gives up with its context")

	other, err := c.Lock(context.Background(), testKey(t, "other"), 10*time.Second)
	require.NoError(t, err, "another key is free")
	other.Unlock(true)

	held.Unlock(true)
	held.Unlock(true) // a second unlock does nothing
	assert.Zero(t, rdb.Exists(context.Background(), lockKey, holderKey).Val(), "unlock deletes the lock and the mark")
	again, err := c.Lock(context.Background(), key, 10*time.Second)
	require.NoError(t, err)
	again.Unlock(true)
}

// TestUnlockLeavesAnotherHoldersLock: a holder whose lease went to another leaves that other's lock
// and mark alone when it unlocks.
func TestUnlockLeavesAnotherHoldersLock(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:foreign:"
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis)
	key := testKey(t, "k")
	lockKey, holderKey, _ := redisKeys(prefix, key)
	ctx := context.Background()

	held, err := c.Lock(ctx, key, 10*time.Second)
	require.NoError(t, err)
	// As if the lease had ended and another holder had taken the key.
	require.NoError(t, rdb.Set(ctx, lockKey, "another-holder", 10*time.Second).Err())
	require.NoError(t, rdb.Set(ctx, holderKey, "another-holder", 20*time.Second).Err())
	held.Unlock(true)
	assert.Equal(t, "another-holder", rdb.Get(ctx, lockKey).Val())
	assert.Equal(t, "another-holder", rdb.Get(ctx, holderKey).Val())
}

// TestLockRenewsItsLease: a lock held for several leases stays held, because the holder renews it;
// its TTL never exceeds the lease.
func TestLockRenewsItsLease(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:renew:"
	const lease = 150 * time.Millisecond
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), probonusredis.WithPollInterval(10*time.Millisecond))
	key := testKey(t, "k")
	lockKey, _, _ := redisKeys(prefix, key)

	held, err := c.Lock(context.Background(), key, lease)
	require.NoError(t, err)
	defer held.Unlock(true)
	time.Sleep(4 * lease)
	ttl := rdb.PTTL(context.Background(), lockKey).Val()
	assert.Positive(t, ttl, "still held after four leases")
	assert.LessOrEqual(t, ttl, lease)

	ctx, cancel := context.WithTimeout(context.Background(), lease)
	defer cancel()
	_, err = c.Lock(ctx, key, lease)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "another Lock still waits")
}

// TestRenewalDoesNotTakeBackALapsedLease (review of issue 25): a lease that lapsed is lost, even
// when no other holder seems to have taken the key: Redis may have forgotten one that did (a
// snapshot restored, a replica promoted). The renewal closes Lost and takes nothing back.
func TestRenewalDoesNotTakeBackALapsedLease(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:lapse:"
	const lease = 150 * time.Millisecond
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis)
	key := testKey(t, "k")
	lockKey, _, _ := redisKeys(prefix, key)
	ctx := context.Background()

	held, err := c.Lock(ctx, key, lease)
	require.NoError(t, err)
	defer held.Unlock(true)
	require.NoError(t, rdb.Del(ctx, lockKey).Err()) // as if the lease had run out
	select {
	case <-held.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the renewal did not close Lost")
	}
	assert.Zero(t, rdb.Exists(ctx, lockKey).Val(), "not taken back")
}

// TestDeadHoldersLeaseEnds: a holder that can no longer reach Redis (here its client is closed, as
// for a process that died) stops renewing; the next Lock takes the key once the lease ends, and,
// since the previous holder never unlocked, records an uncertain send at that moment, so that
// RefillOnce waits its settle time before it looks.
func TestDeadHoldersLeaseEnds(t *testing.T) {
	needRedis(t)
	t.Parallel()
	const prefix = "test:dead:"
	const lease = 200 * time.Millisecond
	deadRDB := redis.NewClient(&redis.Options{Addr: sharedRedis.addr})
	dead := probonusredis.NewCoordinator(deadRDB, probonusredis.WithKeyPrefix(prefix))
	next := probonusredis.NewCoordinator(newRDB(t, sharedRedis.addr), probonusredis.WithKeyPrefix(prefix), patientRedis,
		probonusredis.WithPollInterval(20*time.Millisecond))
	key := testKey(t, "k")

	deadHeld, err := dead.Lock(context.Background(), key, lease)
	require.NoError(t, err)
	require.NoError(t, deadRDB.Close())
	defer deadHeld.Unlock(true) // ends its renewal; its release fails, the client being closed

	before := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held, err := next.Lock(ctx, key, lease)
	require.NoError(t, err, "the lease of a holder that stopped renewing ends")
	took := time.Now()
	defer held.Unlock(true)

	last, err := next.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.False(t, last.At.Before(before.Truncate(time.Microsecond)), "recorded when the key was taken over: %v", last.At)
	assert.False(t, last.At.After(took.Add(time.Microsecond)), "recorded when the key was taken over: %v", last.At)
	assert.Zero(t, last.Settle, "the settle time is the next holder's own")
}

// TestRecordUncertainKeepsTheNewest: a record is kept Keep+Settle; an older one never replaces a
// newer; a zero At deletes it.
func TestRecordUncertainKeepsTheNewest(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:record:"
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis)
	key := testKey(t, "k")
	_, _, recKey := redisKeys(prefix, key)
	ctx := context.Background()

	last, err := c.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.Zero(t, last, "none yet")

	at := time.Now().Truncate(time.Microsecond)
	u := probonus.UncertainSend{At: at, Settle: 1500 * time.Millisecond, Keep: time.Hour}
	require.NoError(t, c.RecordUncertain(ctx, key, u))
	last, err = c.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.True(t, last.At.Equal(at), "at %v, want %v", last.At, at)
	assert.Equal(t, u.Settle, last.Settle)
	assert.Equal(t, u.Keep, last.Keep)
	ttl := rdb.PTTL(ctx, recKey).Val()
	assert.Greater(t, ttl, time.Hour, "kept Keep+Settle after At")
	assert.LessOrEqual(t, ttl, time.Hour+1500*time.Millisecond)

	older := probonus.UncertainSend{At: at.Add(-time.Second), Settle: time.Minute, Keep: time.Minute}
	require.NoError(t, c.RecordUncertain(ctx, key, older))
	last, err = c.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.True(t, last.At.Equal(at), "an older send does not replace a newer")
	assert.Equal(t, u.Settle, last.Settle)

	newer := probonus.UncertainSend{At: at.Add(time.Second), Settle: time.Second, Keep: time.Minute}
	require.NoError(t, c.RecordUncertain(ctx, key, newer))
	last, err = c.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.True(t, last.At.Equal(newer.At), "a newer send replaces an older")
	assert.Equal(t, time.Second, last.Settle)
	assert.Greater(t, rdb.PTTL(ctx, recKey).Val(), time.Minute+time.Second, "a newer record never shortens the time kept")

	require.NoError(t, c.RecordUncertain(ctx, key, probonus.UncertainSend{}))
	assert.Zero(t, rdb.Exists(ctx, recKey).Val(), "a zero At forgets")
	last, err = c.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.Zero(t, last)
}

// TestCoordinatorFailsClosed: a Redis that refuses connections or never answers makes every call
// fail within the Redis timeout, and RefillOnce send nothing, with an error matching
// probonus.ErrCoordinatorUnavailable and not probonus.ErrOutcomeUnknown.
func TestCoordinatorFailsClosed(t *testing.T) {
	t.Parallel()
	for name, addr := range map[string]func(*testing.T) string{
		"refused": func(*testing.T) string { return deadAddr() },
		"hung":    silentRedis,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := probonusredis.NewCoordinator(newRDB(t, addr(t)), probonusredis.WithCoordinatorTimeout(200*time.Millisecond))
			ctx := context.Background()
			_, err := c.Lock(ctx, "k", time.Second)
			require.Error(t, err)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's own deadline did not pass")
			if name == "hung" {
				assert.EqualError(t, err, "probonusredis: taking the lock: no answer from Redis within 200ms")
			}
			_, err = c.LastUncertain(ctx, "k")
			assert.Error(t, err)
			assert.Error(t, c.RecordUncertain(ctx, "k", probonus.UncertainSend{At: time.Now()}))

			srv := probonustest.NewServer(t, probonustest.WithDemoData())
			client, err := probonus.New(srv.ClientOptions(probonus.WithRefillCoordinator(c))...)
			require.NoError(t, err)
			acc, err := client.Accounts.FindByPhone(ctx, probonustest.DemoPhone)
			require.NoError(t, err)
			_, err = client.Accounts.RefillOnce(ctx, probonus.Refill{AccountID: acc.ID, Amount: probonus.MustAmount("50"), Reason: probonus.Ptr("отзыв 1")})
			require.ErrorIs(t, err, probonus.ErrCoordinatorUnavailable)
			assert.NotErrorIs(t, err, probonus.ErrOutcomeUnknown)
			assert.Zero(t, srv.Count("POST", probonustest.PathRefill), "nothing sent")
			assert.Zero(t, srv.Count("GET", probonustest.PathTransactions), "not even looked")
		})
	}
}

// TestLockAcrossClients: RefillOnce through Coordinators on separate Redis connections, as in
// separate processes, credits a key once however many call it at once.
func TestLockAcrossClients(t *testing.T) {
	needRedis(t)
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	const prefix = "test:clients:"
	var clients []*probonus.Client
	for range 4 {
		c := probonusredis.NewCoordinator(newRDB(t, sharedRedis.addr), probonusredis.WithKeyPrefix(prefix), patientRedis)
		client, err := probonus.New(srv.ClientOptions(probonus.WithRefillCoordinator(c))...)
		require.NoError(t, err)
		clients = append(clients, client)
	}
	ctx := context.Background()
	acc, err := clients[0].Accounts.FindByPhone(ctx, probonustest.DemoPhone)
	require.NoError(t, err)

	errs := make(chan error, 4*8)
	applied := make(chan bool, 4*8)
	for _, client := range clients {
		for range 8 {
			go func() {
				res, err := client.Accounts.RefillOnce(ctx, probonus.Refill{AccountID: acc.ID, Amount: probonus.MustAmount("25"), Reason: probonus.Ptr("заказ 77")})
				errs <- err
				applied <- err == nil && !res.AlreadyApplied
			}()
		}
	}
	credited := 0
	for range 4 * 8 {
		assert.NoError(t, <-errs)
		if <-applied {
			credited++
		}
	}
	assert.Equal(t, 1, credited, "one call credits, the others find its credit")
	assert.Equal(t, 1, srv.Count("POST", probonustest.PathRefill))
	assert.Len(t, srv.Refills(acc.ID), 1)
}

// issue 25 item 1: Until runs from the moment the acquire was sent, plus the lease, minus a tenth
// of it; Confirm moves it on; Confirm on a lock another holder took fails with
// probonus.ErrLeaseLost and closes Lost; after Unlock, Confirm fails the same way.
func TestLeaseConfirm(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:confirm:"
	const lease = 10 * time.Second
	settleMarker(t, rdb, prefix)
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis)
	key := testKey(t, "k")
	lockKey, holderKey, _ := redisKeys(prefix, key)
	ctx := context.Background()

	before := time.Now()
	held, err := c.Lock(ctx, key, lease)
	require.NoError(t, err)
	after := time.Now()
	until := held.Until()
	assert.False(t, until.Before(before.Add(lease-lease/10)), "Until %v starts no earlier than the acquire", until)
	assert.False(t, until.After(after.Add(lease-lease/10)), "Until %v: the lease minus a tenth", until)
	select {
	case <-held.Lost():
		t.Fatal("Lost is closed on a held lock")
	default:
	}

	confirmed := time.Now()
	require.NoError(t, held.Confirm(ctx))
	assert.False(t, held.Until().Before(confirmed.Add(lease-lease/10)), "Confirm moves Until on")
	assert.LessOrEqual(t, rdb.PTTL(ctx, lockKey).Val(), lease)
	assert.Greater(t, rdb.PTTL(ctx, holderKey).Val(), lease, "the mark is kept two leases")

	// As if the lease had ended and another holder had taken the key.
	require.NoError(t, rdb.Set(ctx, lockKey, "another-holder", lease).Err())
	require.NoError(t, rdb.Set(ctx, holderKey, "another-holder", 2*lease).Err())
	t.Cleanup(func() { rdb.Del(context.Background(), lockKey, holderKey) }) // for -count
	err = held.Confirm(ctx)
	require.ErrorIs(t, err, probonus.ErrLeaseLost)
	select {
	case <-held.Lost():
	default:
		t.Fatal("Lost is closed once Confirm finds the lock another's")
	}
	assert.Equal(t, "another-holder", rdb.Get(ctx, lockKey).Val(), "another's lock is left alone")
	assert.ErrorIs(t, held.Confirm(ctx), probonus.ErrLeaseLost, "lost stays lost")
	held.Unlock(true)
	assert.Equal(t, "another-holder", rdb.Get(ctx, lockKey).Val())

	again, err := c.Lock(ctx, testKey(t, "again"), lease)
	require.NoError(t, err)
	again.Unlock(true)
	assert.ErrorIs(t, again.Confirm(ctx), probonus.ErrLeaseLost, "after Unlock")
}

// issue 25 item 1 and its review: a lease that lapsed is lost at Confirm, its mark still the
// holder's or not (Redis may have forgotten the holder who took the key in between); one that
// Redis forgot (lock and mark gone) is lost too.
func TestLeaseConfirmAfterALapse(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:confirm-lapse:"
	settleMarker(t, rdb, prefix)
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis)
	ctx := context.Background()

	key := testKey(t, "lapsed")
	lockKey, holderKey, _ := redisKeys(prefix, key)
	held, err := c.Lock(ctx, key, 10*time.Second)
	require.NoError(t, err)
	defer held.Unlock(true)
	require.NoError(t, rdb.Del(ctx, lockKey).Err()) // as if the lease had run out, its mark still there
	assert.ErrorIs(t, held.Confirm(ctx), probonus.ErrLeaseLost, "a lapsed lease is lost: Redis may have forgotten who took it")
	assert.Zero(t, rdb.Exists(ctx, lockKey).Val(), "not taken back")
	assert.NotZero(t, rdb.Exists(ctx, holderKey).Val(), "its mark left: the next holder waits its settle time")

	key = testKey(t, "forgotten")
	lockKey, holderKey, _ = redisKeys(prefix, key)
	forgotten, err := c.Lock(ctx, key, 10*time.Second)
	require.NoError(t, err)
	defer forgotten.Unlock(true)
	require.NoError(t, rdb.Del(ctx, lockKey, holderKey).Err()) // as Redis restarted empty
	assert.ErrorIs(t, forgotten.Confirm(ctx), probonus.ErrLeaseLost)
	assert.Zero(t, rdb.Exists(ctx, lockKey).Val(), "not taken again: another holder may have looked meanwhile")
}

// issue 25 item 1: a renewal that finds the lock another's, or forgotten, closes Lost at once and
// stops renewing.
func TestLeaseRenewalFindsItLost(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:renew-lost:"
	const lease = 150 * time.Millisecond
	settleMarker(t, rdb, prefix)
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis)
	ctx := context.Background()
	for name, steal := range map[string]func(lockKey, holderKey string){
		"taken": func(lockKey, holderKey string) {
			require.NoError(t, rdb.Set(ctx, lockKey, "another-holder", time.Minute).Err())
			require.NoError(t, rdb.Set(ctx, holderKey, "another-holder", time.Minute).Err())
			t.Cleanup(func() { rdb.Del(context.Background(), lockKey, holderKey) }) // for -count
		},
		"forgotten": func(lockKey, holderKey string) { require.NoError(t, rdb.Del(ctx, lockKey, holderKey).Err()) },
	} {
		t.Run(name, func(t *testing.T) {
			key := testKey(t, name)
			lockKey, holderKey, _ := redisKeys(prefix, key)
			held, err := c.Lock(ctx, key, lease)
			require.NoError(t, err)
			defer held.Unlock(true)
			steal(lockKey, holderKey)
			select {
			case <-held.Lost():
			case <-time.After(10 * time.Second):
				t.Fatal("Lost not closed")
			}
			if name == "forgotten" {
				assert.Zero(t, rdb.Exists(ctx, lockKey).Val(), "the renewal does not take a forgotten lock back")
			}
		})
	}
}

// issue 25 item 1: renewals that fail (Redis gone) do not move Until, and Confirm then fails with
// an error of its own, not ErrLeaseLost.
func TestLeaseRenewalFailureKeepsUntil(t *testing.T) {
	rs := newRedis(t)
	t.Parallel()
	rdb := newRDB(t, rs.addr)
	const prefix = "test:renew-fail:"
	const lease = 300 * time.Millisecond
	settleMarker(t, rdb, prefix)
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), probonusredis.WithCoordinatorTimeout(100*time.Millisecond))
	held, err := c.Lock(context.Background(), testKey(t, "k"), lease)
	require.NoError(t, err)
	defer held.Unlock(true)
	taken := held.Until()
	require.Eventually(t, func() bool { return held.Until().After(taken) }, 5*time.Second, 10*time.Millisecond,
		"a renewal moves Until on")
	rs.stop()
	until := held.Until()
	// Renewals come every lease/3: three of them fail within a lease.
	time.Sleep(lease)
	assert.Equal(t, until, held.Until(), "failed renewals do not move Until")
	err = held.Confirm(context.Background())
	require.Error(t, err)
	assert.NotErrorIs(t, err, probonus.ErrLeaseLost, "Redis did not answer: the lease is not known to be lost")
	assert.Equal(t, until, held.Until())
	select {
	case <-held.Lost():
		t.Fatal("Lost is closed only when the lock is known to be another's or forgotten")
	default:
	}
}

// issue 25 item 3: Unlock(false) deletes the lock but keeps the holder mark, so that the next holder
// takes the key at once and records an uncertain send at that moment (RefillOnce then waits its
// settle time before it looks).
func TestUnlockUncleanKeepsTheMark(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	const prefix = "test:unclean:"
	settleMarker(t, rdb, prefix)
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis)
	key := testKey(t, "k")
	lockKey, holderKey, _ := redisKeys(prefix, key)
	ctx := context.Background()

	held, err := c.Lock(ctx, key, 10*time.Second)
	require.NoError(t, err)
	token := rdb.Get(ctx, lockKey).Val()
	held.Unlock(false)
	held.Unlock(true) // a second unlock does nothing
	assert.Zero(t, rdb.Exists(ctx, lockKey).Val(), "the lock is gone")
	assert.Equal(t, token, rdb.Get(ctx, holderKey).Val(), "the mark stays")

	before := time.Now()
	next, err := c.Lock(ctx, key, 10*time.Second)
	require.NoError(t, err)
	defer next.Unlock(true)
	last, err := c.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.False(t, last.At.Before(before.Truncate(time.Microsecond)), "recorded when the key was taken: %v", last.At)
	assert.Zero(t, last.Settle)
}

// issue 25 item 2: the fleet's marker (PREFIX epoch, no TTL) is read after every acquire. When it
// is missing (a new or emptied Redis), was written by another redis-server process (a restart or a
// failover), or is younger than the lease, the key counts as taken from a holder that did not
// unlock: an uncertain send is recorded at that moment, with a zero Settle. An older marker of the
// running server records nothing.
func TestLockNoticesRedisLostItsMemory(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	ctx := context.Background()
	const lease = 10 * time.Second
	runID := redisRunID(t, rdb)
	const otherRun = "0123456789abcdef0123456789abcdef01234567"
	cases := []struct {
		name    string
		age     time.Duration // the marker's, when it is written now
		run     string        // the marker's run_id; "" for no marker
		counted bool
	}{
		{"missing", 0, "", true},
		{"older than the lease", lease + time.Second, runID, false},
		{"younger than the lease", lease / 2, runID, true},
		{"another server's", time.Hour, otherRun, true},
		{"unreadable", 0, "garbage", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := "test:memory:" + tc.name + ":"
			marker := ""
			switch tc.run {
			case "":
			case "garbage":
				marker = "garbage"
			default:
				marker = strconv.FormatInt(time.Now().Add(-tc.age).UnixMicro(), 10) + " " + tc.run
			}
			if marker != "" {
				require.NoError(t, rdb.Set(ctx, prefix+"epoch", marker, 0).Err())
			} else {
				require.NoError(t, rdb.Del(ctx, prefix+"epoch").Err()) // a run before (-count) made one
			}
			c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), patientRedis)
			key := testKey(t, "k")
			before := time.Now()
			held, err := c.Lock(ctx, key, lease)
			require.NoError(t, err)
			defer held.Unlock(true)
			after := time.Now()
			last, err := c.LastUncertain(ctx, key)
			require.NoError(t, err)
			if !tc.counted {
				assert.Zero(t, last, "nothing recorded")
				assert.Equal(t, marker, rdb.Get(ctx, prefix+"epoch").Val(), "the marker is left as it was")
				return
			}
			assert.False(t, last.At.Before(before.Truncate(time.Microsecond)), "recorded at the take: %v", last.At)
			assert.False(t, last.At.After(after.Add(time.Microsecond)), "recorded at the take: %v", last.At)
			assert.Zero(t, last.Settle, "the settle time is the holder's own")
			m := rdb.Get(ctx, prefix+"epoch").Val()
			assert.Regexp(t, `^\d{16} `+runID+`$`, m, "the marker: its creation time in µs and the server's run_id")
			assert.Equal(t, time.Duration(-1), rdb.TTL(ctx, prefix+"epoch").Val(), "the marker has no TTL")
		})
	}
}

// review25Hook is a go-redis hook made of one function.
type review25Hook func(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error

func (h review25Hook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h review25Hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h review25Hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { return h(ctx, cmd, next) }
}

// review25Script tells which of the Coordinator's scripts cmd runs, by its keys and arguments:
// "acquire" (3 keys), "epoch" (the marker), "renew" (2 keys, 3 arguments: the renewal and
// Confirm), "free" (2 keys, 1 argument: release and drop-lock), "record" (the uncertain record),
// or "" for anything else.
func review25Script(cmd redis.Cmder) string {
	args := cmd.Args()
	if name := cmd.Name(); (name != "evalsha" && name != "eval") || len(args) < 3 {
		return ""
	}
	n := 0
	_, _ = fmt.Sscan(fmt.Sprint(args[2]), &n)
	if len(args) < 3+n || n == 0 {
		return ""
	}
	keys, rest := args[3:3+n], args[3+n:]
	first := fmt.Sprint(keys[0])
	switch {
	case n == 3:
		return "acquire"
	case n == 1 && strings.HasSuffix(first, "epoch"):
		return "epoch"
	case n == 1 && strings.Contains(first, "uncertain:"):
		return "record"
	case n == 2 && len(rest) == 3:
		return "renew"
	case n == 2 && len(rest) == 1:
		return "free"
	}
	return ""
}

// failing is a go-redis hook that fails every command while on is set: a holder that cannot reach
// Redis (as a holder stopped with SIGSTOP is, from Redis's side: it renews nothing).
func failing(on *atomic.Bool) review25Hook {
	return func(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
		if on.Load() {
			err := errors.New("the holder is paused (review's hook)")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// restartFromSnapshot kills rs and starts it again on its port and directory: it loads the
// dump.rdb that a SAVE wrote there, as a Redis with RDB persistence does after a crash.
func restartFromSnapshot(t *testing.T, rs *redisServer) {
	t.Helper()
	rs.stop()
	require.NoError(t, rs.start())
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 1 (coordinator level). A holds K; Redis snapshots (RDB); A is paused past its lease; B
// takes K (A's mark says "did not unlock": B would wait its settle time, look, credit), then
// unlocks cleanly, deleting lock and mark; Redis crashes and restarts from the snapshot, which
// brings back A's mark (kept two leases) but not B's writes. A resumes and confirms: the renew
// script finds no lock and "its" mark and takes the lock back. Confirm must say the lease was lost
// (another holder had the key in between, and may have credited it); it says nil, so RefillOnce
// would send. Why it matters: a double credit on any Redis with RDB or AOF-everysec persistence,
// or a Sentinel failover, the set-ups the doc says are covered ("noticed by the run_id").
func TestReview25RConfirmRetakesALockRestoredFromASnapshot(t *testing.T) {
	rs := newRedis(t)
	t.Parallel()
	const prefix = "test:review25r:snapshot:"
	const lease = time.Second
	ctx := context.Background()
	var paused atomic.Bool
	rdbA, rdbB := newRDB(t, rs.addr), newRDB(t, rs.addr)
	rdbA.AddHook(failing(&paused))
	settleMarker(t, rdbB, prefix)
	a := probonusredis.NewCoordinator(rdbA, probonusredis.WithKeyPrefix(prefix), probonusredis.WithCoordinatorTimeout(300*time.Millisecond))
	b := probonusredis.NewCoordinator(rdbB, probonusredis.WithKeyPrefix(prefix), probonusredis.WithPollInterval(20*time.Millisecond))
	key := testKey(t, "k")
	lockKey, holderKey, _ := redisKeys(prefix, key)

	held, err := a.Lock(ctx, key, lease)
	require.NoError(t, err)
	defer held.Unlock(true)
	tokenA := rdbB.Get(ctx, lockKey).Val()
	require.NoError(t, rdbB.Save(ctx).Err(), "the snapshot: A's lock and A's mark")
	paused.Store(true) // A stops: no renewal reaches Redis
	require.Eventually(t, func() bool { return rdbB.Exists(ctx, lockKey).Val() == 0 }, 5*time.Second, 10*time.Millisecond,
		"A's lease lapses")

	heldB, err := b.Lock(ctx, key, lease) // B takes the key (it would wait, look and credit here)
	require.NoError(t, err)
	heldB.Unlock(true) // B is done: lock and mark deleted

	restartFromSnapshot(t, rs)
	require.Equal(t, tokenA, rdbB.Get(ctx, holderKey).Val(), "precondition: the snapshot brought A's mark back")
	require.Zero(t, rdbB.Exists(ctx, lockKey).Val(), "precondition: A's lock had expired")

	paused.Store(false) // A resumes
	err = held.Confirm(ctx)
	assert.ErrorIs(t, err, probonus.ErrLeaseLost,
		"B held K after A's lease lapsed; a snapshot's old mark must not let A confirm (it would send on a stale look)")
}

// review25Parker is an Observer that stops the first refill attempt of its client before its gate
// (as a process stopped between its look and its send) until release is closed.
type review25Parker struct {
	parked  chan struct{}
	release chan struct{}
	once    sync.Once
}

func (p *review25Parker) CallStart(ctx context.Context, _ *probonus.Call) context.Context { return ctx }

func (p *review25Parker) CallEnd(context.Context, *probonus.Call) {}

func (p *review25Parker) AttemptEnd(context.Context, *probonus.Attempt) {}

func (p *review25Parker) AttemptStart(ctx context.Context, a *probonus.Attempt) context.Context {
	if isRefill(a.Call.Method, a.Call.Path) {
		p.once.Do(func() {
			close(p.parked)
			<-p.release
		})
	}
	return ctx
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 1 (end to end, at the wire). The same sequence with RefillOnce and the fake server: A
// looks (nothing), is paused before its send (its Redis renewals fail meanwhile); Redis has
// snapshotted A's lock and mark; B's RefillOnce takes the key after A's lease, waits its settle
// time, looks, credits; Redis crashes and restarts from the snapshot; A resumes. A's gate confirms
// (the old mark lets it take the lock back) and A sends: the server applies the credit twice.
// Why it matters: this is exactly issue 25's "a paused holder must not double a credit", on a
// Redis with persistence, which the doc says keeps the promise.
func TestReview25RRefillOnceDoublesAfterASnapshotRestore(t *testing.T) {
	rs := newRedis(t)
	t.Parallel()
	const prefix = "test:review25r:e2e-snapshot:"
	ctx := context.Background()
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	var paused atomic.Bool
	rdbA, rdbB := newRDB(t, rs.addr), newRDB(t, rs.addr)
	rdbA.AddHook(failing(&paused))
	settleMarker(t, rdbB, prefix)
	parker := &review25Parker{parked: make(chan struct{}), release: make(chan struct{})}
	// A lease of (1+2)×600 ms + 100 ms = 1.9 s; the mark is kept 3.8 s.
	settings := []probonus.Option{probonus.WithTimeout(600 * time.Millisecond), probonus.WithRefillSettle(100 * time.Millisecond),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1})}
	newHolder := func(rdb *redis.Client, extra ...probonus.Option) *probonus.Client {
		opts := append(srv.ClientOptions(settings...), probonus.WithRefillCoordinator(probonusredis.NewCoordinator(rdb,
			probonusredis.WithKeyPrefix(prefix), probonusredis.WithPollInterval(20*time.Millisecond),
			probonusredis.WithCoordinatorTimeout(time.Second))))
		c, err := probonus.New(append(opts, extra...)...)
		require.NoError(t, err)
		return c
	}
	first, second := newHolder(rdbA, probonus.WithObserver(parker)), newHolder(rdbB)
	acc, err := second.Accounts.FindByPhone(ctx, probonustest.DemoPhone)
	require.NoError(t, err)
	r := probonus.Refill{AccountID: acc.ID, Amount: probonus.MustAmount("10"), Reason: probonus.Ptr("review 25r snapshot")}

	firstErr := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := first.Accounts.RefillOnce(cctx, r)
		firstErr <- err
	}()
	select {
	case <-parker.parked:
	case <-time.After(20 * time.Second):
		t.Fatal("the first holder did not reach its send")
	}
	lockKey, holderKey, _ := redisKeys(prefix, probonusKeyOf(t, rdbB, prefix))
	require.NoError(t, rdbB.Save(ctx).Err(), "the snapshot: A's lock and mark")
	t0 := time.Now()
	t.Logf("at the snapshot: lock %v, mark %v", rdbB.PTTL(ctx, lockKey).Val(), rdbB.PTTL(ctx, holderKey).Val())
	paused.Store(true)
	require.Eventually(t, func() bool { return rdbB.Exists(ctx, lockKey).Val() == 0 }, 5*time.Second, 10*time.Millisecond,
		"A's lease lapses")

	res, err := second.Accounts.RefillOnce(ctx, r)
	require.NoError(t, err)
	require.False(t, res.AlreadyApplied, "B credits: A sent nothing yet")

	t.Logf("B done at %v", time.Since(t0))
	restartFromSnapshot(t, rs)
	t.Logf("restarted at %v", time.Since(t0))
	require.Positive(t, rdbB.Exists(ctx, holderKey).Val(),
		"precondition: the snapshot brought A's mark back")
	paused.Store(false) // A resumes; its connections to the old process are dropped as it uses them
	require.Eventually(t, func() bool { return pingsTwice(ctx, rdbA) }, 5*time.Second, time.Millisecond)
	close(parker.release)
	err = <-firstErr
	t.Logf("the first holder after the restore: %v", err)

	n := 0
	for _, tx := range srv.Refills(acc.ID) {
		if tx.Reason == *r.Reason {
			n++
		}
	}
	assert.Equal(t, 1, n, "credited once; the first holder sent on a look from before its lease lapsed")
	assert.ErrorIs(t, err, probonus.ErrLeaseLost, "the first holder's lease was B's in between")
}

// probonusKeyOf finds the one lock key under prefix: RefillOnce's key is internal (a SHA-256 of
// the installation, account, reason and amount), so the test reads it from Redis.
func probonusKeyOf(t *testing.T, rdb *redis.Client, prefix string) string {
	t.Helper()
	var key string
	require.Eventually(t, func() bool {
		keys := rdb.Keys(context.Background(), prefix+"lock:*").Val()
		if len(keys) != 1 {
			return false
		}
		k := keys[0]
		key = k[strings.Index(k, "{")+1 : len(k)-1]
		return true
	}, 20*time.Second, 5*time.Millisecond)
	return key
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 2. The acquire script has run in Redis (the lock is taken with Lock's token) when the
// caller's context ends, or when the Coordinator's timeout passes before the answer comes. Lock
// returns an error, so no one will ever unlock: the key stays locked for a whole lease, and its
// mark then makes the next holder wait its settle time too. Lock must leave no lock behind when it
// returns an error (it knows the token; nothing was sent, so a clean release is right). Why it
// matters: the caller's retry (RefillOnce says "calling again later is safe") waits the default
// lease ((MaxAttempts+2) × timeout + settle, tens of seconds) or fails on its own deadline.
func TestReview25RLockCutOffLeavesTheKeyLocked(t *testing.T) {
	needRedis(t)
	t.Parallel()
	const timeout = 200 * time.Millisecond
	for _, tc := range []struct {
		name string
		cut  func(ctx context.Context, cancel context.CancelFunc)
	}{
		// the caller gives up while Redis answers
		{"context ends", func(ctx context.Context, cancel context.CancelFunc) {
			cancel()
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond)
		}},
		// the answer comes after the Coordinator's timeout (a slow network)
		{"timeout passes", func(context.Context, context.CancelFunc) { time.Sleep(timeout + 100*time.Millisecond) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := fmt.Sprintf("test:review25r:cut:%s:%d:", tc.name, time.Now().UnixNano()) // a lock left by an earlier run stays a minute
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cutOnce sync.Once
			rdb := newRDB(t, sharedRedis.addr)
			settleMarker(t, rdb, prefix)
			rdb.AddHook(review25Hook(func(hctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
				err := next(hctx, cmd)
				if review25Script(cmd) == "acquire" {
					cutOnce.Do(func() { tc.cut(hctx, cancel) })
				}
				return err
			}))
			c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), probonusredis.WithCoordinatorTimeout(timeout))
			key := testKey(t, "k")
			lockKey, holderKey, _ := redisKeys(prefix, key)
			_, err := c.Lock(ctx, key, time.Minute)
			require.Error(t, err, "precondition: Lock was cut off")
			check := newRDB(t, sharedRedis.addr)
			assert.Zero(t, check.Exists(context.Background(), lockKey).Val(),
				"Lock returned an error (%v), yet the key is locked for %v more", err, check.PTTL(context.Background(), lockKey).Val())
			assert.Zero(t, check.Exists(context.Background(), holderKey).Val(), "and marked as held by a holder that did not unlock")
		})
	}
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 3. Redis restarts empty between Lock's acquire and its marker read. The marker read
// creates the marker and Lock records the loss (an uncertain send) in the new Redis, then returns
// a lease: Until a lease ahead, Lost open, but the new Redis holds no lock for it. A second holder
// takes the same key at once. Two leases that "certainly hold" at the same time is what a
// RefillLease promises never happens. (RefillOnce's gate confirms before it sends, so no double
// here; a user of RefillLease relying on Until is misled, and RefillOnce trusts a look made under
// this lease.) Lock should fail (or say Lost) when the lock is not its own after the marker read.
func TestReview25RLockReturnsALeaseRedisDoesNotHold(t *testing.T) {
	rs := newRedis(t)
	t.Parallel()
	const prefix = "test:review25r:between:"
	const lease = 5 * time.Second
	ctx := context.Background()
	var restartOnce sync.Once
	rdbA := newRDB(t, rs.addr)
	rdbA.AddHook(review25Hook(func(hctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
		if review25Script(cmd) == "epoch" {
			restartOnce.Do(func() { // no SAVE: it restarts empty
				rs.stop()
				if err := rs.start(); err != nil {
					t.Error(err) // not FailNow: this is go-redis's goroutine
				}
			})
		}
		return next(hctx, cmd)
	}))
	a := probonusredis.NewCoordinator(rdbA, probonusredis.WithKeyPrefix(prefix), probonusredis.WithCoordinatorTimeout(5*time.Second))
	b := probonusredis.NewCoordinator(newRDB(t, rs.addr), probonusredis.WithKeyPrefix(prefix))
	key := testKey(t, "k")

	heldA, err := a.Lock(ctx, key, lease)
	require.NoError(t, err)
	defer heldA.Unlock(true)
	require.True(t, heldA.Until().After(time.Now().Add(lease/2)), "A's Until says the lock holds for most of a lease")

	bctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	heldB, err := b.Lock(bctx, key, lease)
	if err == nil {
		defer heldB.Unlock(true)
	}
	select {
	case <-heldA.Lost():
		return // Lost said so: acceptable
	default:
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded,
		"A's lease certainly holds until %v and Lost is open, yet B took the same key", heldA.Until().Format(time.StampMilli))
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 4. The acquire's reply is lost after Redis ran it (the connection drops), and go-redis
// retries the command, as it does by default. The retry finds the lock holding Lock's own token
// and answers "held by another": Lock then polls for its own lock until the lease ends, and takes
// it from "a holder that did not unlock" (its own mark), recording an uncertain send that makes
// RefillOnce wait its settle time. Here: a lease of 10 s, and Lock has 2 s. Why it matters: one
// dropped packet blocks a key for a whole lease (tens of seconds by default) and fails the call.
func TestReview25RLockAfterALostReplyWaitsForItself(t *testing.T) {
	needRedis(t)
	t.Parallel()
	const prefix = "test:review25r:retry:"
	ctx := context.Background()
	check := newRDB(t, sharedRedis.addr)
	settleMarker(t, check, prefix)
	key := testKey(t, "k")
	lockKey, _, _ := redisKeys(prefix, key)
	var dropped atomic.Bool
	rdb := redis.NewClient(&redis.Options{Addr: sharedRedis.addr, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &replyDropper{Conn: conn, dropped: &dropped, lockKey: lockKey, check: check}, nil
		}})
	t.Cleanup(func() { _ = rdb.Close() })
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix), probonusredis.WithPollInterval(20*time.Millisecond))
	warm, err := c.Lock(ctx, testKey(t, "warm-up"), time.Second) // the scripts are loaded: EVALSHA runs them
	require.NoError(t, err)
	warm.Unlock(true)

	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	held, err := c.Lock(lctx, key, 10*time.Second)
	require.True(t, dropped.Load(), "precondition: the acquire's reply was dropped")
	require.NoError(t, err, "a lock that holds Lock's own token is Lock's, not another holder's")
	defer held.Unlock(true)
	last, err := c.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.Zero(t, last, "nobody held the key before: no uncertain send to wait for")
}

// replyDropper is a connection that, the first time it carries the acquire script (the lock key
// in the request), lets Redis run it and then breaks before the reply is read.
type replyDropper struct {
	net.Conn
	dropped *atomic.Bool
	lockKey string
	check   *redis.Client
	armed   bool
}

func (c *replyDropper) Write(p []byte) (int, error) {
	if !c.dropped.Load() && strings.Contains(string(p), c.lockKey) && strings.Contains(string(p), "\r\n3\r\n") {
		c.armed = true
	}
	return c.Conn.Write(p)
}

func (c *replyDropper) Read(p []byte) (int, error) {
	if c.armed && c.dropped.CompareAndSwap(false, true) {
		c.armed = false
		// wait until Redis has run the script, then lose its answer
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if c.check.Exists(context.Background(), c.lockKey).Val() == 1 {
				break
			}
		}
		_ = c.Conn.Close()
		return 0, io.EOF
	}
	return c.Conn.Read(p)
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 5. A renewal is in flight when the holder calls Unlock(false) (its send uncertain and
// unrecorded): Unlock stops waiting for it, deletes the lock and keeps the mark. The renewal's
// command reaches Redis after that (here a hook holds it until Unlock has returned, as a request
// slowed on its own connection would be): it finds no lock and the holder's own mark, and takes
// the lock back, for a whole lease, with nobody left to renew or free it. The doc says the next
// holder "takes the key at once". Why it matters: a key stays blocked for the default lease after
// the very unlock that was meant to free it.
func TestReview25RUnlockUncleanThenLateRenewalRetakes(t *testing.T) {
	needRedis(t)
	t.Parallel()
	const prefix = "test:review25r:late-renewal:"
	const lease = 300 * time.Millisecond // renewed every 100 ms
	ctx := context.Background()
	rdb := newRDB(t, sharedRedis.addr)
	settleMarker(t, rdb, prefix)
	var hold atomic.Bool
	inFlight, release, sent := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once sync.Once
	rdb.AddHook(review25Hook(func(hctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
		if hold.Load() && review25Script(cmd) == "renew" {
			caught := false
			once.Do(func() { caught = true })
			if caught {
				close(inFlight)
				<-release
				err := next(context.WithoutCancel(hctx), cmd) // the bytes were on the wire before the cancel
				close(sent)
				return err
			}
		}
		return next(hctx, cmd)
	}))
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix))
	key := testKey(t, "k")
	lockKey, _, _ := redisKeys(prefix, key)

	held, err := c.Lock(ctx, key, lease)
	require.NoError(t, err)
	require.NoError(t, held.Confirm(ctx)) // the renew script is loaded: EVALSHA runs it
	hold.Store(true)
	select {
	case <-inFlight:
	case <-time.After(10 * time.Second):
		t.Fatal("no renewal")
	}
	held.Unlock(false)
	require.Zero(t, rdb.Exists(ctx, lockKey).Val(), "precondition: Unlock(false) deleted the lock")
	close(release)
	<-sent
	assert.Zero(t, rdb.Exists(ctx, lockKey).Val(), "after Unlock(false) the key stays free; a late renewal took it back for %v",
		rdb.PTTL(ctx, lockKey).Val())
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 6. The fleet's marker holds a creation time in the future by Redis's clock (the Redis
// host's clock was stepped back: a VM restored, an NTP step after a boot with a clock ahead). Its
// age is negative, so every Lock counts it as "Redis lost its memory less than a lease ago", and
// the marker is never rewritten: every RefillOnce of the fleet waits its settle time before it
// looks, until Redis's clock catches up (here an hour). The doc promises that "a fleet never
// waits longer" than one lease after the marker's creation. A marker from the future should be
// rewritten (counted once), as one of another run_id is.
func TestReview25RMarkerFromTheFutureCountsForEver(t *testing.T) {
	needRedis(t)
	t.Parallel()
	rdb := newRDB(t, sharedRedis.addr)
	ctx := context.Background()
	prefix := fmt.Sprintf("test:review25r:future:%d:", time.Now().UnixNano())
	settleMarker(t, rdb, prefix) // the running server's run_id ...
	m := strings.SplitN(rdb.Get(ctx, prefix+"epoch").Val(), " ", 2)
	require.Len(t, m, 2)
	future := time.Now().Add(time.Hour).UnixMicro() // ... and a time an hour ahead
	require.NoError(t, rdb.Set(ctx, prefix+"epoch", fmt.Sprintf("%d %s", future, m[1]), 0).Err())
	const lease = 200 * time.Millisecond
	c := probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix))

	first, err := c.Lock(ctx, testKey(t, "first"), lease) // counted: acceptable, once
	require.NoError(t, err)
	first.Unlock(true)
	time.Sleep(2 * lease) // more than a lease after the first Lock saw the marker
	key := testKey(t, "later")
	later, err := c.Lock(ctx, key, lease)
	require.NoError(t, err)
	defer later.Unlock(true)
	last, err := c.LastUncertain(ctx, key)
	require.NoError(t, err)
	assert.Zero(t, last, "two leases after the marker was first read, a Lock still counts it as a fresh loss of memory "+
		"(and will for an hour); marker %q", rdb.Get(ctx, prefix+"epoch").Val())
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 7 (minor). The doc says the three keys of K "share the hash tag {K}, so they sit in one
// slot of a Redis Cluster", and WithKeyPrefix takes any non-empty prefix. A prefix that holds a
// '{' ("{}:" or "env{a:") changes the hash tag: Redis hashes the first {...} of a key, so the
// lock, the mark and the record land in different slots and every script fails with CROSSSLOT:
// RefillOnce can never run. NewCoordinator should refuse such a prefix (ErrInvalidConfig, naming
// it) or build the keys so that {K} is their tag. The default prefix works (the control).
func TestReview25RClusterPrefixWithABrace(t *testing.T) {
	needRedis(t)
	t.Parallel()
	addr := startClusterNode(t)
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { _ = cl.Close() })
	ctx := context.Background()
	for _, prefix := range []string{probonusredis.DefaultCoordinatorPrefix, "{}:", "env{a:"} {
		t.Run(prefix, func(t *testing.T) {
			c := probonusredis.NewCoordinator(cl, probonusredis.WithKeyPrefix(prefix))
			if err := c.Err(); err != nil {
				assert.ErrorIs(t, err, probonusredis.ErrInvalidConfig) // refused up front: fine
				return
			}
			held, err := c.Lock(ctx, testKey(t, "k"), time.Second)
			require.NoError(t, err, "a prefix NewCoordinator accepts must work in a Redis Cluster")
			held.Unlock(true)
		})
	}
}

// startClusterNode starts a redis-server in cluster mode that serves every slot alone.
func startClusterNode(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	port := freePort()
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	cmd := exec.Command(redisBin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
		"--cluster-config-file", dir+"/nodes.conf", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	node := newRDB(t, addr)
	ctx := context.Background()
	require.Eventually(t, func() bool { return node.Ping(ctx).Err() == nil }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, node.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err())
	require.Eventually(t, func() bool {
		return strings.Contains(node.ClusterInfo(ctx).Val(), "cluster_state:ok")
	}, 10*time.Second, 20*time.Millisecond)
	return addr
}

// From the adversarial review of issue 25 (the Redis coordinator); it failed before its fix.
// Finding 1, with a failover instead of a snapshot (Sentinel's case). A holds K on the master; the
// replica has A's lock and mark. A is paused past its lease; the replica is promoted (REPLICAOF NO
// ONE) while the old master goes on for a moment and takes B's lock and clean unlock, then dies
// (asynchronous replication: the promoted replica never saw B's writes, as in any failover that
// loses the last writes). The clients follow the failover to the new master. A resumes and
// confirms: the promoted replica still has A's mark, so the renew script takes the lock back.
// The doc says a failover "is noticed by the run_id": only Lock reads the marker, Confirm does not.
func TestReview25RConfirmRetakesALockAfterAFailover(t *testing.T) {
	master := newRedis(t)
	t.Parallel()
	require.NoError(t, newRDB(t, master.addr).ConfigSet(context.Background(), "repl-diskless-sync-delay", "0").Err())
	replica := startReplica(t, master.addr)
	const prefix = "test:review25r:failover:"
	const lease = time.Second
	ctx := context.Background()
	var current atomic.Value
	current.Store(master.addr)
	follow := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, current.Load().(string))
	}
	newFollower := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: master.addr, Dialer: follow})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	var paused atomic.Bool
	rdbA, rdbB := newFollower(), newFollower()
	rdbA.AddHook(failing(&paused))
	settleMarker(t, rdbB, prefix)
	a := probonusredis.NewCoordinator(rdbA, probonusredis.WithKeyPrefix(prefix), probonusredis.WithCoordinatorTimeout(time.Second))
	b := probonusredis.NewCoordinator(rdbB, probonusredis.WithKeyPrefix(prefix), probonusredis.WithPollInterval(20*time.Millisecond))
	key := testKey(t, "k")
	lockKey, holderKey, _ := redisKeys(prefix, key)
	onReplica := newRDB(t, replica)

	held, err := a.Lock(ctx, key, lease)
	require.NoError(t, err)
	defer held.Unlock(true)
	tokenA := rdbB.Get(ctx, lockKey).Val()
	require.Eventually(t, func() bool { return onReplica.Get(ctx, holderKey).Val() == tokenA }, 5*time.Second, 5*time.Millisecond,
		"the replica has A's mark")
	paused.Store(true)
	require.Eventually(t, func() bool { return rdbB.Exists(ctx, lockKey).Val() == 0 }, 5*time.Second, 10*time.Millisecond,
		"A's lease lapses")
	require.NoError(t, onReplica.Do(ctx, "REPLICAOF", "NO", "ONE").Err(), "the replica is promoted")

	heldB, err := b.Lock(ctx, key, lease) // on the old master, whose last writes the new one never gets
	require.NoError(t, err)
	heldB.Unlock(true)
	master.stop()
	current.Store(replica)
	require.Equal(t, tokenA, onReplica.Get(ctx, holderKey).Val(), "precondition: the new master has A's mark")

	paused.Store(false)
	require.Eventually(t, func() bool { return pingsTwice(ctx, rdbA) }, 5*time.Second, time.Millisecond)
	assert.ErrorIs(t, held.Confirm(ctx), probonus.ErrLeaseLost,
		"B held K after A's lease lapsed; the promoted replica's old mark must not let A confirm")
}

// startReplica starts a redis-server replicating master and waits until its link is up.
func startReplica(t *testing.T, master string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(master)
	require.NoError(t, err)
	dir := t.TempDir()
	p := freePort()
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(p))
	cmd := exec.Command(redisBin, "--port", fmt.Sprint(p), "--bind", "127.0.0.1", "--replicaof", host, port,
		"--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	r := newRDB(t, addr)
	require.Eventually(t, func() bool {
		return strings.Contains(r.Info(context.Background(), "replication").Val(), "master_link_status:up")
	}, 10*time.Second, 20*time.Millisecond)
	return addr
}

// pingsTwice reports whether two PINGs in a row succeed: a pool whose connections went to a
// Redis that died answers again on fresh ones.
func pingsTwice(ctx context.Context, rdb *redis.Client) bool {
	for range 2 {
		if rdb.Ping(ctx).Err() != nil {
			return false
		}
	}
	return true
}
