package probonusredis_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestRenewalTakesBackALapsedLease: a lease that lapsed while no other holder took the key (a
// long pause of the holder, say) is taken back at the next renewal.
func TestRenewalTakesBackALapsedLease(t *testing.T) {
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
	token := rdb.Get(ctx, lockKey).Val()
	require.NoError(t, rdb.Del(ctx, lockKey).Err()) // as if the lease had run out
	assert.Eventually(t, func() bool { return rdb.Get(ctx, lockKey).Val() == token }, 5*time.Second, 10*time.Millisecond)
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

// issue 25 item 1: a lease that lapsed while no other holder took the key (its mark is still the
// holder's) is taken back by Confirm; one that Redis forgot (lock and mark gone) is lost.
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
	token := rdb.Get(ctx, lockKey).Val()
	require.NoError(t, rdb.Del(ctx, lockKey).Err()) // as if the lease had run out
	require.NoError(t, held.Confirm(ctx))
	assert.Equal(t, token, rdb.Get(ctx, lockKey).Val(), "taken back")
	assert.Equal(t, token, rdb.Get(ctx, holderKey).Val(), "its mark still the holder's")

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
