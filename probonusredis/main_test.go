package probonusredis_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The tests run against a real redis-server started here. Without one in PATH they fail when CI or
// PROBONUS_REQUIRE_REDIS is set (.ci/run sets it), and otherwise skip with the reason.
var (
	redisBin     string       // the redis-server binary
	sharedRedis  *redisServer // one throwaway server for the tests that do not stop it
	redisMissing string       // why the Redis tests skip, when they do
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	if os.Getenv(fleetEnv) != "" {
		os.Exit(fleetMain())
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// go-redis logs every failed dial on its own; the limiter's log is what the tests look at.
	redis.SetLogger(quietRedis{})
	var err error
	redisBin, err = exec.LookPath("redis-server")
	switch {
	case err != nil && (os.Getenv("CI") != "" || os.Getenv("PROBONUS_REQUIRE_REDIS") != ""):
		fmt.Fprintln(os.Stderr, "probonusredis: redis-server is not in PATH, and CI or PROBONUS_REQUIRE_REDIS is set: install it (Debian: apt-get install redis-server)")
		return 1
	case err != nil:
		redisMissing = "redis-server is not in PATH (Debian: apt-get install redis-server); PROBONUS_REQUIRE_REDIS=1 makes this a failure"
		// The example still runs: it shows the fallback, on an address where nothing listens.
		os.Setenv("REDIS_ADDR", deadAddr())
	default:
		sharedRedis, err = startRedis()
		if err != nil {
			fmt.Fprintln(os.Stderr, "probonusredis:", err)
			return 1
		}
		os.Setenv("REDIS_ADDR", sharedRedis.addr)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if sharedRedis != nil {
		sharedRedis.stop()
		os.RemoveAll(sharedRedis.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	return code
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// needRedis skips a test only when redis-server is missing and not required.
func needRedis(tb testing.TB) {
	tb.Helper()
	if redisMissing != "" {
		tb.Skip(redisMissing)
	}
}

// redisServer is a throwaway redis-server on a loopback port: nothing saved, nothing appended. It
// can be stopped and started again on the same port, as an outage and a recovery.
type redisServer struct {
	port int
	addr string
	dir  string
	cmd  *exec.Cmd
	out  *bytes.Buffer
}

func startRedis() (*redisServer, error) {
	dir, err := os.MkdirTemp("", "probonusredis-")
	if err != nil {
		return nil, err
	}
	var last error
	for range 3 { // a picked port can be taken before redis-server binds it
		s := &redisServer{port: freePort(), dir: dir}
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if last = s.start(); last == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, last
}

// newRedis starts a server of the test's own, one it may stop and start.
func newRedis(t *testing.T) *redisServer {
	t.Helper()
	needRedis(t)
	s, err := startRedis()
	require.NoError(t, err)
	t.Cleanup(func() {
		s.stop()
		os.RemoveAll(s.dir)
	})
	return s
}

func (s *redisServer) start() error {
	s.out = &bytes.Buffer{}
	s.cmd = exec.Command(redisBin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ping(s.addr) {
			return nil
		}
		if s.cmd.ProcessState != nil {
			break
		}
	}
	s.stop()
	return fmt.Errorf("redis-server on %s did not answer PING: %s", s.addr, strings.TrimSpace(s.out.String()))
}

// stop kills the server, as a crash would.
func (s *redisServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// deadAddr is a loopback address where nothing listens.
func deadAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort())) }

// silentRedis is a loopback address that accepts connections and never answers: a Redis hung in a
// long script, or a network path that drops every reply. A read from it ends only when the
// connection closes, which the test's cleanup does.
func silentRedis(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// patientRedis gives a test's Coordinator time for a Redis on a machine loaded by the other tests
// (the fault suite's worker processes, CI's other jobs): tests about something else than a slow
// Redis must not fail on its default 500 ms.
var patientRedis = probonusredis.WithCoordinatorTimeout(5 * time.Second)

func newRDB(tb testing.TB, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// recorder is a reverse proxy in front of a probonustest server that notes when each request
// arrives: what "the server sees" in the rate tests, whichever process sent it.
type recorder struct {
	srv   *httptest.Server
	mu    sync.Mutex
	times []time.Time
	lost  int // requests given up by their client before the server answered them
}

func newRecorder(tb testing.TB, target *probonustest.Server) *recorder {
	u, err := url.Parse(target.URL())
	require.NoError(tb, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	rp.Transport = tr
	r := &recorder{}
	rp.ErrorHandler = func(w http.ResponseWriter, req *http.Request, _ error) {
		r.mu.Lock()
		r.lost++
		r.mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.times = append(r.times, time.Now())
		r.mu.Unlock()
		rp.ServeHTTP(w, req)
	}))
	tb.Cleanup(func() {
		r.srv.Close()
		tr.CloseIdleConnections()
	})
	return r
}

func (r *recorder) URL() string { return r.srv.URL }

// givenUp is how many requests their client gave up before the server answered (at a run's end,
// its deadline): the server may not have seen them.
func (r *recorder) givenUp() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost
}

func (r *recorder) arrivals() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.times)
}

// perSecond counts the arrivals in each second [start+i s, start+(i+1) s) for n seconds.
func perSecond(times []time.Time, start time.Time, n int) []int {
	counts := make([]int, n)
	for _, at := range times {
		if i := int(at.Sub(start) / time.Second); at.Sub(start) >= 0 && i < n {
			counts[i]++
		}
	}
	return counts
}

// busiestSecond is the largest number of arrivals in any one-second window [t, t+1s), t being an
// arrival (the busiest window always starts at one).
func busiestSecond(times []time.Time) int {
	sorted := slices.Clone(times)
	slices.SortFunc(sorted, func(a, b time.Time) int { return a.Compare(b) })
	busiest, j := 0, 0
	for i := range sorted {
		for j < len(sorted) && sorted[j].Sub(sorted[i]) < time.Second {
			j++
		}
		busiest = max(busiest, j-i)
	}
	return busiest
}

// between counts the arrivals in [from, to).
func between(times []time.Time, from, to time.Time) int {
	n := 0
	for _, at := range times {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// newClient is a probonus.Client on base, paced by lim (unless nil), with a transport the test closes.
func newClient(tb testing.TB, base, apiKey string, lim probonus.Limiter) *probonus.Client {
	tb.Helper()
	c, tr, err := buildClient(base, apiKey, lim)
	require.NoError(tb, err)
	tb.Cleanup(tr.CloseIdleConnections)
	return c
}

// buildClient makes a client without retries (a retry would hide a limiter's error), on a
// transport of its own for the caller to close.
func buildClient(base, apiKey string, lim probonus.Limiter) (*probonus.Client, *http.Transport, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	opts := []probonus.Option{probonus.WithBaseURL(base), probonus.WithAPIKey(apiKey),
		probonus.WithHTTPClient(&http.Client{Transport: tr}), probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1})}
	if lim != nil {
		opts = append(opts, probonus.WithLimiter(lim))
	}
	c, err := probonus.New(opts...)
	return c, tr, err
}

// load calls List from workers goroutines until ctx ends. Calls cut short by ctx are not errors;
// every other failure is returned.
func load(ctx context.Context, c *probonus.Client, workers int) (ok int, errs []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				_, err := c.AccountGroups.List(ctx)
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case ctx.Err() == nil || !errors.Is(err, ctx.Err()):
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok, errs
}

// logRecords is a slog.Handler that keeps every record.
type logRecords struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecords) WithGroup(string) slog.Handler      { return h }

// count returns how many records have level and a message containing substr.
func (h *logRecords) count(level slog.Level, substr string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.records {
		if r.Level == level && strings.Contains(r.Message, substr) {
			n++
		}
	}
	return n
}

// text renders every record, attributes included.
func (h *logRecords) text() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	th := slog.NewTextHandler(&b, nil)
	for _, r := range h.records {
		_ = th.Handle(context.Background(), r)
	}
	return b.String()
}
