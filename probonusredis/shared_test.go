package probonusredis_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The shared budget of the rate tests: 20 a second, bursts of 5. GCRA lets through at most
// rate + burst - 1 in any half-open second; the bounds below allow rate + burst, one more for the
// time between the limiter's grant and the request's arrival.
var testLimit = redis_rate.Limit{Rate: 20, Period: time.Second, Burst: 5}

const runFor = 3 * time.Second

// assertShared checks the arrivals of a run of secs seconds from start against testLimit.
func assertShared(t *testing.T, arrivals []time.Time, start time.Time, secs int) {
	t.Helper()
	counts := perSecond(arrivals, start, secs)
	busiest := busiestSecond(arrivals)
	t.Logf("requests per second: %v; busiest one-second window: %d; total %d (budget %d/s, burst %d)",
		counts, busiest, len(arrivals), testLimit.Rate, testLimit.Burst)
	for i, n := range counts {
		assert.LessOrEqual(t, n, testLimit.Rate+testLimit.Burst, "second %d", i)
	}
	assert.LessOrEqual(t, busiest, testLimit.Rate+testLimit.Burst, "the busiest one-second window")
	budget := testLimit.Rate * secs
	assert.GreaterOrEqual(t, len(arrivals)*10, budget*8, "at least 80%% of the budget (%d) is used", budget)
}

// TestFourClientsShareOneBudget: four clients, each with its own Redis connection and Limiter, as
// four processes would have, share 20 requests a second.
func TestFourClientsShareOneBudget(t *testing.T) {
	needRedis(t)
	srv := probonustest.NewServer(t)
	rec := newRecorder(t, srv)
	key := probonusredis.KeyFor(rec.URL())

	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(runFor))
	defer cancel()
	var wg sync.WaitGroup
	errs := make([][]error, 4)
	for i := range 4 {
		lim := probonusredis.NewLimiter(newRDB(t, sharedRedis.addr), key, testLimit)
		require.NoError(t, lim.Err())
		c := newClient(t, rec.URL(), srv.APIKey(), lim)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = load(ctx, c, 3)
		}()
	}
	wg.Wait()

	for i, e := range errs {
		assert.Empty(t, e, "client %d", i)
	}
	arrivals := rec.arrivals()
	seen := srv.Count("GET", "/api/v0/account_groups/list")
	assert.LessOrEqual(t, seen, len(arrivals), "the server saw no request the recorder did not")
	assert.GreaterOrEqual(t, seen, len(arrivals)-rec.givenUp(), "every request reached the server, but those given up at the run's end")
	assertShared(t, arrivals, start, int(runFor/time.Second))
}

// The child processes of TestProcessesShareOneBudget are this test binary run again with childEnv
// set; TestMain sends them to childMain.
const (
	childEnv    = "PROBONUSREDIS_CHILD"
	childRedis  = "PROBONUSREDIS_CHILD_REDIS"
	childBase   = "PROBONUSREDIS_CHILD_BASE_URL"
	childAPIKey = "PROBONUSREDIS_CHILD_API_KEY"
	childStart  = "PROBONUSREDIS_CHILD_START" // Unix nanoseconds
	childEnd    = "PROBONUSREDIS_CHILD_END"
)

// TestProcessesShareOneBudget: three OS processes share 20 requests a second through one key.
func TestProcessesShareOneBudget(t *testing.T) {
	needRedis(t)
	srv := probonustest.NewServer(t)
	rec := newRecorder(t, srv)

	// The children start together, once all of them are likely to be up.
	start := time.Now().Add(time.Second)
	type child struct {
		cmd *exec.Cmd
		out []byte
		err error
	}
	children := make([]child, 3)
	var wg sync.WaitGroup
	for i := range children {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"=1", childRedis+"="+sharedRedis.addr, childBase+"="+rec.URL(),
			childAPIKey+"="+srv.APIKey(), childStart+"="+strconv.FormatInt(start.UnixNano(), 10),
			childEnd+"="+strconv.FormatInt(start.Add(runFor).UnixNano(), 10))
		children[i].cmd = cmd
		wg.Add(1)
		go func() {
			defer wg.Done()
			children[i].out, children[i].err = cmd.CombinedOutput()
		}()
	}
	wg.Wait()

	pids := map[int]bool{}
	for i, c := range children {
		require.NoError(t, c.err, "child %d: %s", i, c.out)
		t.Logf("child %d (pid %d): %s", i, c.cmd.Process.Pid, c.out)
		pids[c.cmd.Process.Pid] = true
	}
	assert.Len(t, pids, 3, "three processes")
	assertShared(t, rec.arrivals(), start, int(runFor/time.Second))
}

// childMain is one process of TestProcessesShareOneBudget: two goroutines calling as fast as the
// shared limiter lets them, from start to end.
func childMain() int {
	startNs, err1 := strconv.ParseInt(os.Getenv(childStart), 10, 64)
	endNs, err2 := strconv.ParseInt(os.Getenv(childEnd), 10, 64)
	if err1 != nil || err2 != nil {
		fmt.Println("bad start or end")
		return 2
	}
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(childRedis)})
	defer rdb.Close()
	base := os.Getenv(childBase)
	lim := probonusredis.NewLimiter(rdb, probonusredis.KeyFor(base), testLimit, probonusredis.WithFailOnOutage())
	c, tr, err := buildClient(base, os.Getenv(childAPIKey), lim)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	defer tr.CloseIdleConnections()

	time.Sleep(time.Until(time.Unix(0, startNs)))
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, endNs))
	defer cancel()
	ok, errs := load(ctx, c, 2)
	fmt.Printf("%d calls, %d failed", ok, len(errs))
	if len(errs) > 0 {
		fmt.Printf("; first: %v", errs[0])
		return 1
	}
	return 0
}
