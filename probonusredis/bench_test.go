package probonusredis_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
)

// BenchmarkWait is the cost of the shared limiter per request: one round trip to Redis on
// loopback, under a limit that never makes it wait. Compare it with BenchmarkRequest, the request
// itself to an in-memory server on loopback, and BenchmarkRequestWithSharedLimit, both together.
func BenchmarkWait(b *testing.B) {
	needRedis(b)
	lim := probonusredis.NewLimiter(newRDB(b, sharedRedis.addr), "probonus:bench:wait", hugeLimit, probonusredis.WithFailOnOutage())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := lim.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequest(b *testing.B) {
	benchmarkRequest(b, nil)
}

func BenchmarkRequestWithSharedLimit(b *testing.B) {
	needRedis(b)
	benchmarkRequest(b, probonusredis.NewLimiter(newRDB(b, sharedRedis.addr), "probonus:bench:request", hugeLimit,
		probonusredis.WithFailOnOutage(), probonusredis.WithLogger(slog.New(&logRecords{}))))
}

func benchmarkRequest(b *testing.B, lim *probonusredis.Limiter) {
	srv := probonustest.NewServer(b)
	var c *probonus.Client
	if lim == nil {
		c = newClient(b, srv.URL(), srv.APIKey(), nil)
	} else {
		c = newClient(b, srv.URL(), srv.APIKey(), lim)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.AccountGroups.List(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefillOnce is RefillOnce with the SDK's default, in-process coordinator, on a key
// already credited: its look (the history, then the balance) on loopback. The same through a
// Coordinator on a loopback Redis is BenchmarkRefillOnceWithCoordinator; the difference is what a
// fleet's coordinator adds to each call: BenchmarkCoordinator, its four round trips alone (Lock's
// script, the fleet's marker, LastUncertain's HMGET, unlock's script). A call that sends adds one
// more before each attempt: BenchmarkConfirm.
func BenchmarkRefillOnce(b *testing.B) {
	benchmarkRefillOnce(b, nil)
}

func BenchmarkRefillOnceWithCoordinator(b *testing.B) {
	needRedis(b)
	rdb := newRDB(b, sharedRedis.addr)
	settleMarker(b, rdb, "bench:refill:") // else the first lease of calls waits the settle time
	benchmarkRefillOnce(b, probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix("bench:refill:")))
}

func benchmarkRefillOnce(b *testing.B, coord *probonusredis.Coordinator) {
	srv := probonustest.NewServer(b, probonustest.WithDemoData())
	opts := []probonus.Option{}
	if coord != nil {
		opts = append(opts, probonus.WithRefillCoordinator(coord))
	}
	c, err := probonus.New(srv.ClientOptions(opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	acc, err := c.Accounts.FindByPhone(ctx, probonustest.DemoPhone)
	if err != nil {
		b.Fatal(err)
	}
	r := probonus.Refill{AccountID: acc.ID, Amount: probonus.MustAmount("10"), Reason: probonus.Ptr("bench")}
	if _, err := c.Accounts.RefillOnce(ctx, r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.Accounts.RefillOnce(ctx, r)
		if err != nil || !res.AlreadyApplied {
			b.Fatal(res, err)
		}
	}
}

func BenchmarkCoordinator(b *testing.B) {
	needRedis(b)
	coord := probonusredis.NewCoordinator(newRDB(b, sharedRedis.addr), probonusredis.WithKeyPrefix("bench:coord:"))
	ctx := context.Background()
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	b.ReportAllocs()
	for b.Loop() {
		lease, err := coord.Lock(ctx, key, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := coord.LastUncertain(ctx, key); err != nil {
			b.Fatal(err)
		}
		lease.Unlock(true)
	}
}

// BenchmarkConfirm is what a Coordinator adds to each refill RefillOnce sends: one round trip to
// Redis (the renewal's script) as the last step before the request goes out.
func BenchmarkConfirm(b *testing.B) {
	needRedis(b)
	coord := probonusredis.NewCoordinator(newRDB(b, sharedRedis.addr), probonusredis.WithKeyPrefix("bench:confirm:"))
	ctx := context.Background()
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	lease, err := coord.Lock(ctx, key, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	defer lease.Unlock(true)
	b.ReportAllocs()
	for b.Loop() {
		if err := lease.Confirm(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
