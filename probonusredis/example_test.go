package probonusredis_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/redis/go-redis/v9"
)

// Every process of a fleet wires its client the same way; together they send at most 10 requests
// a second (bursts of 10) to the installation at base.
func ExampleNewLimiter() {
	srv := probonustest.NewServer(nil) // stands in for a ProBonus installation
	defer srv.Close()
	base := srv.URL()

	rdb := redis.NewClient(&redis.Options{
		Addr:                  os.Getenv("REDIS_ADDR"), // e.g. "redis:6379"
		ContextTimeoutEnabled: true,                    // a command the limiter gives up on ends with it
		ReadTimeout:           200 * time.Millisecond,
		WriteTimeout:          200 * time.Millisecond,
		PoolTimeout:           500 * time.Millisecond,
	})
	defer rdb.Close()

	lim := probonusredis.NewLimiter(rdb, probonusredis.KeyFor(base), redis_rate.PerSecond(10))
	client, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey(srv.APIKey()), probonus.WithLimiter(lim))
	if err != nil {
		fmt.Println(err)
		return
	}
	groups, err := client.AccountGroups.List(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(groups), "account groups")
	// Output: 2 account groups
}

func ExampleKeyFor() {
	fmt.Println(probonusredis.KeyFor("http://127.0.0.1:11030/"))
	fmt.Println(probonusredis.KeyFor("https://api-user:secret@Bonus.Example.com/cafe-1"))
	// Output:
	// probonus:http://127.0.0.1:11030
	// probonus:https://bonus.example.com:443/cafe-1
}
