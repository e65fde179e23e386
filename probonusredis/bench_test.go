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
// fleet's coordinator adds to each call: BenchmarkCoordinator, its three round trips alone (Lock's
// script, LastUncertain's HMGET, unlock's script).
func BenchmarkRefillOnce(b *testing.B) {
	benchmarkRefillOnce(b, nil)
}

func BenchmarkRefillOnceWithCoordinator(b *testing.B) {
	needRedis(b)
	benchmarkRefillOnce(b, probonusredis.NewCoordinator(newRDB(b, sharedRedis.addr), probonusredis.WithKeyPrefix("bench:refill:")))
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
