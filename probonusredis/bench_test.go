package probonusredis_test

import (
	"context"
	"log/slog"
	"testing"

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
