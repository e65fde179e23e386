package probonusriver

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/metrics"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

var (
	benchCredits   = flag.Int("credits", 10000, "credits per BenchmarkDeliver run")
	benchEnqueuers = flag.Int("enqueuers", 1, "goroutines enqueueing at once in BenchmarkDeliver (the app's requests)")
)

// BenchmarkDeliver enqueues -credits credits (10,000), each in a transaction of its own that
// also writes an order row (from -enqueuers goroutines, 1 by default), while the workers deliver them to probonus serve on loopback, and
// reports the enqueue cost per transaction, credits a second (first enqueue to last credited),
// the enqueue-to-credited latency (median and 99th percentile) and this process's peak memory.
// One run is the whole batch:
//
//	go test -run '^$' -bench Deliver -benchtime 1x
func BenchmarkDeliver(b *testing.B) {
	for _, db := range databases {
		b.Run(db, func(b *testing.B) {
			if db == "postgres" && pgMissing != "" {
				b.Skip(pgMissing)
			}
			for range b.N {
				deliverBatch(b, db, *benchCredits)
			}
		})
	}
}

// BenchmarkEnqueueTx is the cost of a credit in the app's transaction: a transaction writing an
// order row, beside the same transaction writing the order and enqueueing its credit.
func BenchmarkEnqueueTx(b *testing.B) {
	for _, db := range databases {
		b.Run(db, func(b *testing.B) {
			if db == "postgres" && pgMissing != "" {
				b.Skip(pgMissing)
			}
			var dsn string
			if db == "sqlite" {
				dsn = filepath.Join(b.TempDir(), "bench.db")
			} else {
				dsn = pg.newDB(b)
			}
			q, closeDB, err := openQueue(context.Background(), db, dsn, testConfig("http://127.0.0.1:1"))
			require.NoError(b, err)
			defer closeDB()
			tq := q.(interface {
				orderOnly(ctx context.Context, reason string) error
			})
			for _, credit := range []bool{false, true} {
				name := map[bool]string{false: "order", true: "order+credit"}[credit]
				b.Run(name, func(b *testing.B) {
					ctx := context.Background()
					i := 0
					for b.Loop() {
						i++
						reason := fmt.Sprintf("%s %d", name, i)
						if credit {
							_, err = q.enqueue(ctx, refill(7, "10", reason), false)
						} else {
							err = tq.orderOnly(ctx, reason)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func deliverBatch(b *testing.B, db string, n int) {
	b.StopTimer()
	const accounts = 1000
	url, count := startServe(b, accounts)
	var dsn string
	if db == "sqlite" {
		dsn = filepath.Join(b.TempDir(), "bench.db")
	} else {
		dsn = pg.newDB(b)
	}
	cfg := testConfig(url)
	cfg.AttemptTimeout, cfg.Settle, cfg.Workers = 5*time.Second, time.Second, 20
	cfg.River.RescueStuckJobsAfter = 0
	ctx := context.Background()
	q, closeDB, err := openQueue(ctx, db, dsn, cfg)
	require.NoError(b, err)
	defer closeDB()
	tq := q.(interface {
		subscribe() (<-chan *river.Event, func())
	})
	events, cancelSub := tq.subscribe()
	defer cancelSub()
	require.NoError(b, q.start(ctx))
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = q.stop(sctx)
	}()

	var mu sync.Mutex
	committed := make(map[int64]time.Time, n)
	var latencies []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		pending := map[int64]time.Time{}
		for ev := range events {
			if ev.Kind != river.EventKindJobCompleted || ev.Job.Kind != Kind {
				continue
			}
			now := time.Now()
			mu.Lock()
			at, ok := committed[ev.Job.ID]
			mu.Unlock()
			if !ok {
				pending[ev.Job.ID] = now // completed before the enqueuer noted its commit
				continue
			}
			latencies = append(latencies, now.Sub(at))
			if len(latencies)+len(pending) == n {
				for id, t := range pending {
					mu.Lock()
					latencies = append(latencies, t.Sub(committed[id]))
					mu.Unlock()
				}
				return
			}
		}
	}()
	peak := peakMemory()
	defer peak.stop()

	b.StartTimer()
	start := time.Now()
	var enqueueing time.Duration
	var wg sync.WaitGroup
	for g := range *benchEnqueuers {
		wg.Go(func() {
			for i := g; i < n; i += *benchEnqueuers {
				r := refill(benchAccount0+int64(i%accounts), "10", fmt.Sprintf("Order %d", i))
				t0 := time.Now()
				e, err := q.enqueue(ctx, r, false)
				d := time.Since(t0)
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				enqueueing += d
				committed[e.JobID] = t0.Add(d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		b.Fatal("not every credit was delivered")
	}
	elapsed := time.Since(start)
	b.StopTimer()

	require.Equal(b, n, count(), "one POST per credit")
	slices.Sort(latencies)
	b.ReportMetric(float64(enqueueing.Microseconds())/float64(n), "enqueue-µs/tx")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "credits/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(peak.stop())/(1<<20), "peak-MB")
}

// orderOnly is enqueue's transaction without the credit: the baseline.
func (q *typedQueue[TTx]) orderOnly(ctx context.Context, reason string) error {
	tx, err := q.begin(ctx)
	if err != nil {
		return err
	}
	if err := q.exec(ctx, tx, "INSERT INTO orders (reason) VALUES ('"+reason+"')"); err != nil {
		_ = q.rollback(ctx, tx)
		return err
	}
	return q.commit(ctx, tx)
}

func (q *typedQueue[TTx]) subscribe() (<-chan *river.Event, func()) {
	return q.c.River().SubscribeConfig(&river.SubscribeConfig{ChanSize: 1 << 16, Kinds: []river.EventKind{river.EventKindJobCompleted}})
}

// memoryPeak samples the Go runtime's total mapped memory every 20ms.
type memoryPeak struct {
	once sync.Once
	quit chan struct{}
	done chan uint64
}

func peakMemory() *memoryPeak {
	p := &memoryPeak{quit: make(chan struct{}), done: make(chan uint64, 1)}
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
		var peak uint64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-p.quit:
				p.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *memoryPeak) stop() uint64 {
	var v uint64
	p.once.Do(func() { close(p.quit); v = <-p.done })
	return v
}

// benchAccount0 is the first bench guest's id, clear of probonus serve's own.
const benchAccount0 = 100001

var (
	serveOnce sync.Once
	serveBin  string
	serveErr  error
)

// startServe runs probonus serve (built once from the root module) with accounts guests
// (ids from benchAccount0) and its admin routes; count is how many POST refills it received.
func startServe(b *testing.B, accounts int) (url string, count func() int) {
	b.Helper()
	serveOnce.Do(func() {
		dir, err := os.MkdirTemp("", "probonusriver-bin-")
		if err != nil {
			serveErr = err
			return
		}
		serveBin = filepath.Join(dir, "probonus")
		cmd := exec.Command("go", "build", "-o", serveBin, "./cmd/probonus")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			serveErr = fmt.Errorf("go build ../cmd/probonus: %w: %s", err, out)
		}
	})
	require.NoError(b, serveErr)
	type acc struct {
		ID      int64 `json:"id"`
		GroupID int64 `json:"groupId"`
	}
	seed := struct {
		Groups   []map[string]any `json:"groups"`
		Accounts []acc            `json:"accounts"`
	}{Groups: []map[string]any{{"id": 900, "name": "Bench guests"}}}
	for i := range accounts {
		seed.Accounts = append(seed.Accounts, acc{ID: benchAccount0 + int64(i), GroupID: 900})
	}
	seedFile := filepath.Join(b.TempDir(), "seed.json")
	data, err := json.Marshal(seed)
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(seedFile, data, 0o600))
	cmd := exec.Command(serveBin, "serve", "--addr", "127.0.0.1:0", "--seed", seedFile, "--admin")
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(b, cmd.Start())
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		banner := regexp.MustCompile(`base URL  (http://\S+)`)
		for sc.Scan() {
			if m := banner.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case url = <-urls:
	case <-time.After(20 * time.Second):
		b.Fatalf("no banner from probonus serve: %s", stderr.String())
	}
	return url, func() int {
		resp, err := http.Get(url + "/_probonus/requests?method=POST&path=/api/v0/accounts/refill")
		require.NoError(b, err)
		defer resp.Body.Close()
		var reqs []json.RawMessage
		require.NoError(b, json.NewDecoder(resp.Body).Decode(&reqs))
		return len(reqs)
	}
}

// syncBuffer is a bytes.Buffer safe for a process's writes and the test's read.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) < 1<<16 {
		s.buf = append(s.buf, p...)
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.buf)
}
