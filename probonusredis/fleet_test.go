package probonusredis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusredis"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fleet tests run RefillOnce from several OS processes against one fake ProBonus server in a
// process of its own (probonus serve, built from ../cmd/probonus). The workers are this test
// binary run again with fleetEnv set; TestMain sends them to fleetMain.
const (
	fleetEnv        = "PROBONUSREDIS_FLEET" // "worker" or "holder"
	fleetRedis      = "PROBONUSREDIS_FLEET_REDIS"
	fleetBase       = "PROBONUSREDIS_FLEET_BASE_URL"
	fleetAccount    = "PROBONUSREDIS_FLEET_ACCOUNT"
	fleetKeys       = "PROBONUSREDIS_FLEET_KEYS"
	fleetGoroutines = "PROBONUSREDIS_FLEET_GOROUTINES"
)

const (
	fleetProcesses = 4
	fleetWorkers   = 8  // goroutines per process
	fleetKeyCount  = 20 // keys, all called by every goroutine
)

// fleetRefill is the refill of key k: the same amount, a reason of its own.
func fleetRefill(accountID int64, k int) probonus.Refill {
	return probonus.Refill{AccountID: accountID, Amount: probonus.MustAmount("10"), Reason: probonus.Ptr(fmt.Sprintf("заказ %d", k))}
}

// holderSettings are the client settings of the SIGKILL test, in both processes: a lease of
// (1+2)×800 ms + 300 ms, the time the next holder waits for a dead one.
func holderSettings() []probonus.Option {
	return []probonus.Option{probonus.WithTimeout(800 * time.Millisecond), probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}),
		probonus.WithRefillSettle(300 * time.Millisecond)}
}

// TestFleetCreditsEachKeyOnce is the fleet: 4 processes × 8 goroutines call RefillOnce on the same
// 20 keys at the same moments, through one Redis, against one fake server in its own process.
// Each key is credited exactly once; every other call finds that credit.
func TestFleetCreditsEachKeyOnce(t *testing.T) {
	needRedis(t)
	t.Parallel()
	fake := startFake(t)
	acc := fake.demoAccount(t)

	type worker struct {
		cmd    *exec.Cmd
		in     io.WriteCloser
		out    *bufio.Reader
		stderr strings.Builder
	}
	workers := make([]*worker, fleetProcesses)
	for i := range workers {
		w := &worker{cmd: exec.Command(os.Args[0], "-test.run=^$")}
		w.cmd.Env = append(os.Environ(), fleetEnv+"=worker", fleetRedis+"="+sharedRedis.addr, fleetBase+"="+fake.url,
			fleetAccount+"="+strconv.FormatInt(acc, 10), fleetKeys+"="+strconv.Itoa(fleetKeyCount),
			fleetGoroutines+"="+strconv.Itoa(fleetWorkers))
		w.cmd.Stderr = &w.stderr
		var err error
		w.in, err = w.cmd.StdinPipe()
		require.NoError(t, err)
		out, err := w.cmd.StdoutPipe()
		require.NoError(t, err)
		w.out = bufio.NewReader(out)
		require.NoError(t, w.cmd.Start())
		t.Cleanup(func() { _ = w.cmd.Process.Kill(); _ = w.cmd.Wait() })
		workers[i] = w
	}
	for i, w := range workers { // every process set up before any calls
		line, err := w.out.ReadString('\n')
		require.NoError(t, err, "worker %d: %s", i, w.stderr.String())
		require.Equal(t, "ready\n", line)
	}
	for _, w := range workers {
		_, err := io.WriteString(w.in, "go\n")
		require.NoError(t, err)
	}

	credited := map[string]int{} // reason → calls that credited it
	already, calls := 0, 0
	pids := map[int]bool{}
	for i, w := range workers {
		var rep workerReport
		require.NoError(t, json.NewDecoder(w.out).Decode(&rep), "worker %d: %s", i, w.stderr.String())
		require.NoError(t, w.cmd.Wait(), "worker %d: %s", i, w.stderr.String())
		assert.Empty(t, rep.Errors, "worker %d", i)
		for reason, n := range rep.Credited {
			credited[reason] += n
		}
		already += rep.Already
		calls += rep.Calls
		pids[rep.PID] = true
	}

	applied := map[string]int{}
	for _, tx := range fake.account(t, acc).Refills {
		applied[tx.Reason]++
	}
	posts := fake.count(t, "POST", probonustest.PathRefill)
	t.Logf("%d processes × %d goroutines × %d keys: %d calls; %d credited, %d found the credit; the server applied %d refills from %d POSTs",
		len(pids), fleetWorkers, fleetKeyCount, calls, len(credited), already, len(applied), posts)
	assert.Len(t, pids, fleetProcesses)
	assert.Equal(t, fleetProcesses*fleetWorkers*fleetKeyCount, calls)
	for k := range fleetKeyCount {
		reason := *fleetRefill(acc, k).Reason
		assert.Equal(t, 1, applied[reason], "%s applied once", reason)
		assert.Equal(t, 1, credited[reason], "%s credited by one call", reason)
	}
	assert.Len(t, applied, fleetKeyCount)
	assert.Equal(t, calls-fleetKeyCount, already, "every other call found the credit")
	assert.Equal(t, fleetKeyCount, posts, "one POST per key")
}

// workerReport is what a worker process prints when its calls are done.
type workerReport struct {
	PID      int            `json:"pid"`
	Calls    int            `json:"calls"`
	Credited map[string]int `json:"credited"` // reason → calls that credited it
	Already  int            `json:"already"`
	Errors   []string       `json:"errors"`
}

// TestFleetNextHolderAfterAKilledOne: a holder is killed with SIGKILL while its refill is applied
// and its answer held back by the server. The next holder gets the key when the dead one's lease
// ends, waits the settle time (the Coordinator saw that the holder never unlocked), looks, finds
// the credit and sends nothing.
func TestFleetNextHolderAfterAKilledOne(t *testing.T) {
	needRedis(t)
	t.Parallel()
	fake := startFake(t)
	acc := fake.demoAccount(t)
	r := fleetRefill(acc, 1)
	fake.admin(t, "POST", "faults", `{"method": "POST", "path": "`+probonustest.PathRefill+`", "afterApply": true, "delay": "30s"}`, nil)

	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), fleetEnv+"=holder", fleetRedis+"="+sharedRedis.addr, fleetBase+"="+fake.url,
		fleetAccount+"="+strconv.FormatInt(acc, 10))
	var out strings.Builder
	holder.Stdout, holder.Stderr = &out, &out
	require.NoError(t, holder.Start())
	waited := make(chan error, 1)
	go func() { waited <- holder.Wait() }()
	require.Eventually(t, func() bool { return len(fake.account(t, acc).Refills) == 1 }, 20*time.Second, 5*time.Millisecond,
		"the holder's refill is applied: %s", &out)
	require.NoError(t, holder.Process.Signal(syscall.SIGKILL))
	err := <-waited
	require.ErrorContains(t, err, "signal: killed", "killed mid-send, before its client gave up: %s", &out)
	killed := time.Now()

	seen := &seeingCoordinator{RefillCoordinator: probonusredis.NewCoordinator(newRDB(t, sharedRedis.addr),
		probonusredis.WithPollInterval(50*time.Millisecond), patientRedis)}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	looks := &lookTimes{next: tr}
	client, err := probonus.New(append(holderSettings(), probonus.WithBaseURL(fake.url), probonus.WithAPIKey(probonustest.DefaultAPIKey),
		probonus.WithHTTPClient(&http.Client{Transport: looks}), probonus.WithRefillCoordinator(seen))...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := client.Accounts.RefillOnce(ctx, r)
	require.NoError(t, err)

	last := seen.last()
	t.Logf("killed at %v; the next holder took the key at %v, looked at %v",
		killed.Format("15:04:05.000"), last.At.Format("15:04:05.000"), looks.first().Format("15:04:05.000"))
	assert.True(t, res.AlreadyApplied, "the dead holder's credit is found")
	require.False(t, last.At.IsZero(), "the next holder learnt that the previous one never unlocked")
	assert.Zero(t, last.Settle, "a mark of the Coordinator's, not a send recorded by the dead holder")
	assert.False(t, looks.first().Before(last.At.Add(300*time.Millisecond)), "it looked only after its settle time")
	assert.Equal(t, 1, fake.count(t, "POST", probonustest.PathRefill), "nothing sent by the next holder")
	assert.Len(t, fake.account(t, acc).Refills, 1)
}

// seeingCoordinator keeps what LastUncertain answered.
type seeingCoordinator struct {
	probonus.RefillCoordinator
	mu   sync.Mutex
	seen probonus.UncertainSend
}

func (s *seeingCoordinator) LastUncertain(ctx context.Context, key string) (probonus.UncertainSend, error) {
	u, err := s.RefillCoordinator.LastUncertain(ctx, key)
	s.mu.Lock()
	s.seen = u
	s.mu.Unlock()
	return u, err
}

func (s *seeingCoordinator) last() probonus.UncertainSend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

// lookTimes notes when the history is read.
type lookTimes struct {
	next  http.RoundTripper
	mu    sync.Mutex
	times []time.Time
}

func (l *lookTimes) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, probonustest.PathTransactions) {
		l.mu.Lock()
		l.times = append(l.times, time.Now())
		l.mu.Unlock()
	}
	return l.next.RoundTrip(r)
}

func (l *lookTimes) first() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.times) == 0 {
		return time.Time{}
	}
	return l.times[0]
}

// TestFleetRedisStoppedMidRun: Redis dies while 4 clients × 8 goroutines (each client with a
// Redis connection of its own, as a process has) call RefillOnce on 20 keys. No key is credited
// twice, and every call refused matches probonus.ErrCoordinatorUnavailable (or ErrOutcomeUnknown,
// for a send already out).
func TestFleetRedisStoppedMidRun(t *testing.T) {
	rs := newRedis(t)
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	f := newFleet(t, srv, rs.addr)
	ctx, cancel := context.WithCancel(context.Background())
	wait := f.run(ctx)
	require.Eventually(t, func() bool { return len(srv.Refills(f.account)) >= 5 }, 20*time.Second, time.Millisecond)
	rs.stop()
	stoppedAt := len(srv.Refills(f.account))
	time.Sleep(500 * time.Millisecond)
	cancel()
	wait()

	t.Logf("Redis stopped after %d of %d keys credited; %d calls: %d credited, %d found the credit, %d refused",
		stoppedAt, fleetKeyCount, f.calls, f.creditedCount(), f.already, len(f.refused))
	f.assertTyped(t)
	assert.Positive(t, len(f.refused), "calls are refused while Redis is down")
	for reason, n := range f.applied(srv) {
		assert.Equal(t, 1, n, "%s applied once", reason)
	}
}

// TestFleetRedisRestartedEmpty: Redis restarted empty mid-run (its locks and records lost) does
// not lead to a second credit: calls refused while it is down, and the history look guards once
// it is back. In the end each key is credited exactly once.
func TestFleetRedisRestartedEmpty(t *testing.T) {
	rs := newRedis(t)
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	f := newFleet(t, srv, rs.addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := f.run(ctx)
	require.Eventually(t, func() bool { return len(srv.Refills(f.account)) >= 5 }, 20*time.Second, time.Millisecond)
	rs.stop()
	stoppedAt := len(srv.Refills(f.account))
	// Down for longer than a send on loopback takes: the sends already out when Redis went away
	// are applied before the restarted Redis lets anyone look (see the package doc).
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, rs.start())
	require.Eventually(t, func() bool { return len(srv.Refills(f.account)) >= fleetKeyCount }, 20*time.Second, 5*time.Millisecond,
		"every key is credited once Redis is back")
	calls := f.callCount()
	require.Eventually(t, func() bool { return f.callCount() > calls+4*fleetKeyCount }, 20*time.Second, 5*time.Millisecond,
		"more calls on every key")
	cancel()
	wait()

	t.Logf("Redis restarted empty after %d of %d keys credited; %d calls: %d credited, %d found the credit, %d refused",
		stoppedAt, fleetKeyCount, f.calls, f.creditedCount(), f.already, len(f.refused))
	f.assertTyped(t)
	applied := f.applied(srv)
	assert.Len(t, applied, fleetKeyCount)
	for reason, n := range applied {
		assert.Equal(t, 1, n, "%s applied once", reason)
	}
}

// fleet is 4 clients, each with a Redis connection and a Coordinator of its own, on one server.
type fleet struct {
	clients []*probonus.Client
	account int64

	mu       sync.Mutex
	calls    int
	credited map[string]int
	already  int
	refused  []error
}

func newFleet(t *testing.T, srv *probonustest.Server, redisAddr string) *fleet {
	f := &fleet{credited: map[string]int{}}
	for range fleetProcesses {
		coord := probonusredis.NewCoordinator(newRDB(t, redisAddr), probonusredis.WithCoordinatorTimeout(200*time.Millisecond),
			probonusredis.WithPollInterval(20*time.Millisecond))
		c, err := probonus.New(srv.ClientOptions(probonus.WithRefillCoordinator(coord))...)
		require.NoError(t, err)
		f.clients = append(f.clients, c)
	}
	acc, err := f.clients[0].Accounts.FindByPhone(context.Background(), probonustest.DemoPhone)
	require.NoError(t, err)
	f.account = acc.ID
	return f
}

// run calls RefillOnce from 8 goroutines per client, over the 20 keys in turn, until ctx ends.
func (f *fleet) run(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	for _, c := range f.clients {
		for g := range fleetWorkers {
			wg.Go(func() {
				for i := g; ctx.Err() == nil; i++ {
					r := fleetRefill(f.account, i%fleetKeyCount)
					res, err := c.Accounts.RefillOnce(ctx, r)
					f.note(ctx, *r.Reason, res, err)
				}
			})
		}
	}
	return wg.Wait
}

func (f *fleet) note(ctx context.Context, reason string, res *probonus.RefillResult, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err == nil && res.AlreadyApplied:
		f.already++
	case err == nil:
		f.credited[reason]++
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return // the test's own end, not a call's outcome
	default:
		f.refused = append(f.refused, err)
	}
	f.calls++
}

func (f *fleet) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fleet) creditedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.credited {
		n += c
	}
	return n
}

// assertTyped checks that every refused call says it sent nothing (the coordinator unavailable, or
// the lease lost with Redis's memory), or that its send is uncertain.
func (f *fleet) assertTyped(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, err := range f.refused {
		assert.True(t, errors.Is(err, probonus.ErrCoordinatorUnavailable) || errors.Is(err, probonus.ErrOutcomeUnknown) ||
			errors.Is(err, probonus.ErrLeaseLost), "a refused call is typed: %v", err)
	}
	for reason, n := range f.credited {
		assert.Equal(t, 1, n, "%s credited by one call", reason)
	}
}

// applied counts the server's refills per reason.
func (f *fleet) applied(srv *probonustest.Server) map[string]int {
	out := map[string]int{}
	for _, tx := range srv.Refills(f.account) {
		out[tx.Reason]++
	}
	return out
}

// fleetMain is a process of the fleet tests.
func fleetMain() int {
	redis.SetLogger(quietRedis{})
	if os.Getenv(fleetEnv) == "pauser" {
		return pauserMain()
	}
	acc, err := strconv.ParseInt(os.Getenv(fleetAccount), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad account:", err)
		return 2
	}
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(fleetRedis)})
	defer rdb.Close()
	coord := probonusredis.NewCoordinator(rdb, probonusredis.WithPollInterval(20*time.Millisecond), patientRedis)
	opts := probonustest.TestSettings()
	if os.Getenv(fleetEnv) == "holder" {
		opts = holderSettings()
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	client, err := probonus.New(append(opts, probonus.WithBaseURL(os.Getenv(fleetBase)), probonus.WithAPIKey(probonustest.DefaultAPIKey),
		probonus.WithHTTPClient(&http.Client{Transport: tr}), probonus.WithRefillCoordinator(coord))...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if os.Getenv(fleetEnv) == "holder" {
		// Killed by the test while its refill is applied and the answer held back.
		res, err := client.Accounts.RefillOnce(ctx, fleetRefill(acc, 1))
		fmt.Println("the holder was not killed:", res, err)
		return 1
	}

	keys, err1 := strconv.Atoi(os.Getenv(fleetKeys))
	goroutines, err2 := strconv.Atoi(os.Getenv(fleetGoroutines))
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "bad keys or goroutines")
		return 2
	}
	fmt.Println("ready")
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || line != "go\n" {
		fmt.Fprintln(os.Stderr, "no go:", line, err)
		return 2
	}
	rep := workerReport{PID: os.Getpid(), Credited: map[string]int{}, Errors: []string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			// Goroutine g of every process starts on key g: four processes on one key at once.
			for i := range keys {
				r := fleetRefill(acc, (g+i)%keys)
				res, err := client.Accounts.RefillOnce(ctx, r)
				mu.Lock()
				rep.Calls++
				switch {
				case err != nil:
					rep.Errors = append(rep.Errors, err.Error())
				case res.AlreadyApplied:
					rep.Already++
				default:
					rep.Credited[*r.Reason]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 2
	}
	return 0
}

// The fake ProBonus server is probonus serve, built once for the package's tests.
var (
	probonusBinOnce sync.Once
	probonusBin     string
	probonusBinErr  error
	binDir          string // removed when the tests end
)

func probonusBinary(t *testing.T) string {
	t.Helper()
	probonusBinOnce.Do(func() {
		binDir, probonusBinErr = os.MkdirTemp("", "probonusredis-bin-")
		if probonusBinErr != nil {
			return
		}
		bin := filepath.Join(binDir, "probonus")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/probonus")
		cmd.Dir = ".." // the root module
		if out, err := cmd.CombinedOutput(); err != nil {
			probonusBinErr = fmt.Errorf("go build ../cmd/probonus: %w: %s", err, out)
			return
		}
		probonusBin = bin
	})
	require.NoError(t, probonusBinErr)
	return probonusBin
}

// fakeServer is probonus serve --demo --admin on a free port, stopped when the test ends.
type fakeServer struct {
	url string
	tr  *http.Transport // the admin calls'
}

var bannerURL = regexp.MustCompile(`base URL  (http://\S+)`)

func startFake(t *testing.T) *fakeServer {
	t.Helper()
	cmd := exec.Command(probonusBinary(t), "serve", "--addr", "127.0.0.1:0", "--demo", "--admin")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard // a line per request
	require.NoError(t, cmd.Start())
	waited := make(chan struct{})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := bannerURL.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(waited) }()
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
	})
	select {
	case u := <-urls:
		return &fakeServer{url: u, tr: tr}
	case <-waited:
		t.Fatal("probonus serve ended before its banner")
	case <-time.After(20 * time.Second):
		t.Fatal("no banner from probonus serve")
	}
	return nil
}

// admin calls an admin route (AdminPath + path) and decodes its JSON answer into out, unless nil.
func (f *fakeServer) admin(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, f.url+probonustest.AdminPath+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: f.tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, data)
	if out != nil {
		require.NoError(t, json.Unmarshal(data, out), "%s", data)
	}
}

// adminAccount is GET /_probonus/accounts/{id}, as far as the tests read it.
type adminAccount struct {
	Refills []struct {
		Reason string `json:"reason"`
		Sum    string `json:"sum"`
	} `json:"refills"`
}

func (f *fakeServer) account(t *testing.T, id int64) adminAccount {
	var a adminAccount
	f.admin(t, "GET", "accounts/"+strconv.FormatInt(id, 10), "", &a)
	return a
}

// count is how many API requests of method and path the server received.
func (f *fakeServer) count(t *testing.T, method, path string) int {
	var reqs []json.RawMessage
	f.admin(t, "GET", "requests?method="+method+"&path="+path, "", &reqs)
	return len(reqs)
}

// demoAccount is the id of the demo guest.
func (f *fakeServer) demoAccount(t *testing.T) int64 {
	t.Helper()
	var accounts []struct {
		ID    int64  `json:"id"`
		Phone string `json:"phone"`
	}
	f.admin(t, "GET", "accounts", "", &accounts)
	require.Len(t, accounts, 1, "the demo data: one guest")
	return accounts[0].ID
}
