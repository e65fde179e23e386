package probonusredis_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// The fault suite of a fleet (issue 25): a holder paused past its lease, Redis killed and
// restarted empty, an uncertain send that Redis refuses to record. Each scenario counts what the
// fake ProBonus server applied, key by key; a control run without a coordinator shows that the
// same harness sees a double when there is one.
//
// A paused holder is a worker process (this test binary run again with fleetEnv=pauser) stopped
// with SIGSTOP and resumed with SIGCONT, while this process, a second holder, takes the keys it
// held. The worker finds the point to be paused at with a hook, tells this process ("park N" on
// its stdout), and waits there until told to go on ("release" on its stdin, sent while it is
// stopped): so the pause lands exactly at that point, and lasts until the second holder is done.
const (
	pauseReasons = "PROBONUSREDIS_PAUSE_REASONS" // the worker's reasons, joined by "|"
	pausePoint   = "PROBONUSREDIS_PAUSE_POINT"   // where it parks: send, write, look, random
	pausePrefix  = "PROBONUSREDIS_PAUSE_PREFIX"  // the Coordinator's key prefix
)

// pauseSettings are the clients' settings in the fault suite, in both processes: a lease of
// (2+2)×400 ms + 200 ms = 1.8 s, so a holder paused past it is paused for about 2 s.
func pauseSettings() []probonus.Option {
	return []probonus.Option{probonus.WithTimeout(400 * time.Millisecond),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
		probonus.WithRefillSettle(200 * time.Millisecond)}
}

// refillAgain is RefillOnce called again, up to 5 times, while it fails (a look cut off by its
// timeout on a loaded machine, say): what a caller does with a refusal, since it looks first.
func refillAgain(ctx context.Context, c *probonus.Client, r probonus.Refill) (res *probonus.RefillResult, err error) {
	for range 5 {
		if res, err = c.Accounts.RefillOnce(ctx, r); err == nil || ctx.Err() != nil {
			return res, err
		}
	}
	return res, err
}

// pauseCall is one RefillOnce of a worker, as it reports it.
type pauseCall struct {
	Reason      string `json:"reason"`
	Credited    bool   `json:"credited"` // succeeded with a credit of its own
	Already     bool   `json:"already"`
	Err         string `json:"err,omitempty"`
	Lost        bool   `json:"lost"`        // errors.Is(err, probonus.ErrLeaseLost)
	Unknown     bool   `json:"unknown"`     // errors.Is(err, probonus.ErrOutcomeUnknown)
	Unavailable bool   `json:"unavailable"` // errors.Is(err, probonus.ErrCoordinatorUnavailable)
	Attempted   bool   `json:"attempted"`   // a refill attempt of it started (its AttemptStart)
}

func newPauseCall(reason string, res *probonus.RefillResult, err error) pauseCall {
	c := pauseCall{Reason: reason}
	switch {
	case err == nil && res.AlreadyApplied:
		c.Already = true
	case err == nil && res.FromHistory:
		c.Already = true // found after its own uncertain send: maybe its own credit, maybe another's
	case err == nil:
		c.Credited = true
	default:
		c.Err = err.Error()
		c.Lost = errors.Is(err, probonus.ErrLeaseLost)
		c.Unknown = errors.Is(err, probonus.ErrOutcomeUnknown)
		c.Unavailable = errors.Is(err, probonus.ErrCoordinatorUnavailable)
	}
	return c
}

// typed reports whether a refused call says why with the SDK's sentinels.
// A call that failed before any refill attempt (its look cut off by its timeout on a loaded
// machine, say) sent nothing, and says so with the look's own error.
func (c pauseCall) typed() bool {
	return c.Err == "" || c.Lost || c.Unknown || c.Unavailable || !c.Attempted
}

// TestFleetPausedHolder: issue 25 item 1: a worker stopped with SIGSTOP past its lease, then
// resumed, while another holder takes its keys, credits no key twice. The points:
//   - send: after the look that found nothing, before the send (the refill's AttemptStart);
//   - write: in an attempt whose connection is still being dialled (the worker's dialer parks) when
//     the process stops; its deadline passes during the pause, so it fails before writing (net/http
//     asked for a connection and got none), and the SDK's own retry must not send;
//   - look: the look's answer ("not credited") has arrived, and is read after the pause;
//   - answer: the look is out, the server answers 100 ms later, while the worker is stopped (the
//     answer and the look's expired deadline race on resume: either way nothing is sent);
//   - random: at a random moment of a worker whose goroutines call RefillOnce on 8 keys.
//
// Random pauses are kept out of one span: from a refill's AttemptStart to the write of its request.
// That span holds the last confirmation of the lease and the write system call after it, the
// window no client can close (see the package doc); the send point covers the span up to the
// confirmation.
func TestFleetPausedHolder(t *testing.T) {
	rs := newRedis(t) // its own: 25 worker processes at a time keep it busy
	t.Parallel()
	for _, point := range []string{"send", "write", "look", "answer", "random"} {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			results := pauseRuns(t, rs.addr, point, 20)
			doubled, lost := 0, 0
			for _, r := range results {
				doubled += r.doubled
				for _, c := range r.worker {
					assert.True(t, c.typed(), "a refused call is typed: %s", c.Err)
					if c.Lost {
						lost++
					}
					switch point {
					case "random":
					case "answer": // the look failed on its deadline, and the look again found the credit
						assert.True(t, c.Lost || c.Already, "the paused holder sent nothing: %+v", c)
					default:
						assert.True(t, c.Lost, "the paused holder sent nothing, and says its lease was lost: %+v", c)
						assert.False(t, c.Unknown, "it knows it sent nothing (write: net/http got no connection): %+v", c)
					}
				}
			}
			t.Logf("%s: %d runs, %d keys: %d doubled; the paused holders' calls: %d refused with ErrLeaseLost",
				point, len(results), len(results)*pausedKeys(point), doubled, lost)
			assert.Zero(t, doubled, "no key credited twice")
		})
	}
}

// TestFleetPausedHolderWithoutCoordinator is the control run of TestFleetPausedHolder (issue 25):
// the same harness at the send point, without a coordinator, does credit keys twice, so it can
// see a double.
func TestFleetPausedHolderWithoutCoordinator(t *testing.T) {
	needRedis(t)
	t.Parallel()
	results := pauseRuns(t, "", "send", 4)
	doubled := 0
	for _, r := range results {
		doubled += r.doubled
	}
	t.Logf("without a coordinator: %d runs, %d keys: %d doubled", len(results), 2*len(results), doubled)
	assert.Equal(t, 2*len(results), doubled, "every key credited twice: the harness sees a double")
}

func pausedKeys(point string) int {
	if point == "random" {
		return 8
	}
	return 2
}

// pauseHarness is one run's fake ProBonus server (a history of its own, so that each look reads
// only the run's keys), a Redis prefix and the second holder's client.
type pauseHarness struct {
	srv     *probonustest.Server
	account int64
	prefix  string
	redis   string           // the coordinator's Redis; "" for none
	client  *probonus.Client // the second holder
}

func newPauseHarness(t *testing.T, redisAddr string) *pauseHarness {
	h := &pauseHarness{srv: probonustest.NewServer(t, probonustest.WithDemoData()), redis: redisAddr,
		prefix: "test:pause:" + t.Name() + ":"}
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	opts := append(pauseSettings(), probonus.WithBaseURL(h.srv.URL()), probonus.WithAPIKey(h.srv.APIKey()),
		probonus.WithHTTPClient(&http.Client{Transport: tr}))
	if redisAddr != "" {
		rdb := newRDB(t, redisAddr)
		settleMarker(t, rdb, h.prefix)
		opts = append(opts, probonus.WithRefillCoordinator(probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(h.prefix),
			probonusredis.WithPollInterval(20*time.Millisecond), patientRedis)))
	}
	var err error
	h.client, err = probonus.New(opts...)
	require.NoError(t, err)
	acc, err := h.client.Accounts.FindByPhone(context.Background(), probonustest.DemoPhone)
	require.NoError(t, err)
	h.account = acc.ID
	return h
}

// pauseRun is what one run saw.
type pauseRun struct {
	reasons []string
	worker  []pauseCall
	second  []pauseCall
	doubled int
}

// pauseRuns runs n runs of point, up to 5 at a time, each with a server and a worker of its own,
// with a coordinator on the Redis at redisAddr, or without one when it is "". After each run with
// a coordinator every key is called once more.
func pauseRuns(t *testing.T, redisAddr string, point string, n int) []pauseRun {
	results := make([]pauseRun, n)
	sem := make(chan struct{}, 5)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			h := newPauseHarness(t, redisAddr)
			results[i] = h.run(t, point, i)
			if redisAddr != "" {
				h.rerun(t, results[i].reasons)
			}
		})
	}
	wg.Wait()
	return results
}

// run is one worker paused at point while this process credits its keys, then resumed.
func (h *pauseHarness) run(t *testing.T, point string, i int) pauseRun {
	reasons := make([]string, pausedKeys(point))
	for k := range reasons {
		reasons[k] = fmt.Sprintf("%s run %d key %d", point, i, k)
	}
	if point == "answer" {
		for range reasons {
			h.srv.Inject("GET", probonustest.PathTransactions, probonustest.Fault{Delay: 100 * time.Millisecond})
		}
	}
	w := h.startWorker(t, point, reasons)
	w.send(t, "go")

	run := pauseRun{reasons: reasons}
	var mu sync.Mutex
	second := func(reason string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := refillAgain(ctx, h.client, h.refill(reason))
		mu.Lock()
		run.second = append(run.second, newPauseCall(reason, res, err))
		mu.Unlock()
	}
	if point == "random" {
		// The second holder calls the same keys meanwhile, and once more while the worker is stopped.
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Go(func() {
				for k := range reasons {
					second(reasons[(k+4*g)%len(reasons)])
				}
			})
		}
		w.expect(t, "stop")
		w.stop(t)
		wg.Wait()
	} else {
		for range reasons {
			w.expect(t, "park")
		}
		w.stop(t)
	}
	var wg sync.WaitGroup
	for _, reason := range reasons {
		wg.Go(func() { second(reason) })
	}
	wg.Wait()
	w.send(t, "release")
	w.resume(t)
	run.worker = w.report(t)
	require.Len(t, run.worker, len(reasons))

	for _, reason := range reasons {
		if n := h.applied(reason); n > 1 {
			run.doubled++
		}
	}
	for _, c := range run.second {
		assert.Empty(t, c.Err, "the second holder's call")
	}
	return run
}

func (h *pauseHarness) refill(reason string) probonus.Refill {
	return probonus.Refill{AccountID: h.account, Amount: probonus.MustAmount("10"), Reason: probonus.Ptr(reason)}
}

// applied is how many credits of reason the server applied.
func (h *pauseHarness) applied(reason string) int {
	n := 0
	for _, tx := range h.srv.Refills(h.account) {
		if tx.Reason == reason {
			n++
		}
	}
	return n
}

// rerun calls RefillOnce once more on every key: each is credited, exactly once.
func (h *pauseHarness) rerun(t *testing.T, reasons []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, reason := range reasons {
		res, err := refillAgain(ctx, h.client, h.refill(reason))
		require.NoError(t, err, "rerun %s", reason)
		assert.True(t, res.AlreadyApplied, "%s was credited before the rerun", reason)
		assert.Equal(t, 1, h.applied(reason), "%s applied once", reason)
	}
}

// pauseWorker is a worker process of the fault suite.
type pauseWorker struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	stderr *bytes.Buffer
}

func (h *pauseHarness) startWorker(t *testing.T, point string, reasons []string) *pauseWorker {
	w := &pauseWorker{cmd: exec.Command(os.Args[0], "-test.run=^$"), lines: make(chan string, 16), stderr: &bytes.Buffer{}}
	w.cmd.Env = append(os.Environ(), fleetEnv+"=pauser", fleetRedis+"="+h.redis, fleetBase+"="+h.srv.URL(),
		fleetAccount+"="+strconv.FormatInt(h.account, 10), pauseReasons+"="+strings.Join(reasons, "|"),
		pausePoint+"="+point, pausePrefix+"="+h.prefix)
	w.cmd.Stderr = &lockedWriter{w: w.stderr}
	var err error
	w.in, err = w.cmd.StdinPipe()
	require.NoError(t, err)
	out, err := w.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, w.cmd.Start())
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = w.cmd.Process.Signal(syscall.SIGCONT)
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
	})
	w.expect(t, "ready")
	return w
}

func (w *pauseWorker) send(t *testing.T, line string) {
	_, err := io.WriteString(w.in, line+"\n")
	require.NoError(t, err)
}

// expect waits for the worker's next line, which starts with want.
func (w *pauseWorker) expect(t *testing.T, want string) string {
	select {
	case line, ok := <-w.lines:
		require.True(t, ok, "the worker ended before %q: %s", want, w.stderr)
		require.True(t, strings.HasPrefix(line, want), "the worker said %q, not %q: %s", line, want, w.stderr)
		return line
	case <-time.After(30 * time.Second):
		require.FailNow(t, "no "+want+" from the worker", "%s", w.stderr)
	}
	return ""
}

func (w *pauseWorker) stop(t *testing.T)   { require.NoError(t, w.cmd.Process.Signal(syscall.SIGSTOP)) }
func (w *pauseWorker) resume(t *testing.T) { require.NoError(t, w.cmd.Process.Signal(syscall.SIGCONT)) }

func (w *pauseWorker) report(t *testing.T) []pauseCall {
	line := w.expect(t, "[")
	var calls []pauseCall
	require.NoError(t, json.Unmarshal([]byte(line), &calls))
	require.NoError(t, w.cmd.Wait(), "%s", w.stderr)
	return calls
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// pauserMain is a worker process of the fault suite: it calls RefillOnce on its reasons, one
// goroutine each (random: 4 goroutines over all of them), parks at its point, and prints what
// each call returned as one JSON line.
func pauserMain() int {
	acc, err := strconv.ParseInt(os.Getenv(fleetAccount), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad account:", err)
		return 2
	}
	reasons := strings.Split(os.Getenv(pauseReasons), "|")
	p := &pauser{point: os.Getenv(pausePoint), release: make(chan struct{})}
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	var rt http.RoundTripper = &pauseTransport{p: p, next: tr}
	if p.point == "write" {
		// Every request dials, and a refill's dial parks: net/http itself then fails the attempt
		// on its deadline, knowing it wrote nothing.
		var d net.Dialer
		tr.DisableKeepAlives = true
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if ctx.Value(refillDial{}) != nil {
				p.park(ctx)
				return nil, errors.New("the test's parked dial, abandoned")
			}
			return d.DialContext(ctx, network, addr)
		}
		rt = tr
	}
	opts := append(pauseSettings(), probonus.WithBaseURL(os.Getenv(fleetBase)), probonus.WithAPIKey(probonustest.DefaultAPIKey),
		probonus.WithHTTPClient(&http.Client{Transport: rt}), probonus.WithObserver(p))
	if addr := os.Getenv(fleetRedis); addr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		defer rdb.Close()
		opts = append(opts, probonus.WithRefillCoordinator(probonusredis.NewCoordinator(rdb,
			probonusredis.WithKeyPrefix(os.Getenv(pausePrefix)), probonusredis.WithPollInterval(20*time.Millisecond), patientRedis)))
	}
	client, err := probonus.New(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	p.say("ready")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "go" {
		fmt.Fprintln(os.Stderr, "no go")
		return 2
	}
	go func() {
		for in.Scan() {
			if in.Text() == "release" {
				close(p.release)
				return
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := make([]pauseCall, 0, len(reasons))
	var mu sync.Mutex
	call := func(i int) {
		r := probonus.Refill{AccountID: acc, Amount: probonus.MustAmount("10"), Reason: probonus.Ptr(reasons[i])}
		var res *probonus.RefillResult
		var err error
		attempted := new(atomic.Bool)
		for range 5 {
			res, err = client.Accounts.RefillOnce(context.WithValue(context.WithValue(ctx, reasonIndex{}, i), attemptedKey{}, attempted), r)
			// A call that failed before its point (a look cut off on a loaded machine) is made
			// again, so that each run reaches its point.
			if _, parked := p.parked.Load(i); err == nil || parked || p.point == "random" {
				break
			}
		}
		c := newPauseCall(reasons[i], res, err)
		c.Attempted = attempted.Load()
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	if p.point == "random" {
		wg.Go(func() {
			time.Sleep(rand.N(30 * time.Millisecond)) // a random point of the run
			p.sends.Lock()                            // no refill between its AttemptStart and its write
			p.say("stop")
			<-p.release
			p.sends.Unlock()
		})
		for g := range 4 {
			wg.Go(func() {
				for k := range reasons {
					call((k + 2*g) % len(reasons))
				}
			})
		}
	} else {
		for i := range reasons {
			wg.Go(func() { call(i) })
		}
	}
	wg.Wait()
	if p.point == "random" {
		// each key was called 4 times: report each key's calls as one, the worst
		calls = worstPerReason(calls)
	}
	data, err := json.Marshal(calls)
	if err != nil {
		return 2
	}
	p.say(string(data))
	return 0
}

// worstPerReason keeps one call per reason: a refused one if any, else a credit, else a find.
func worstPerReason(calls []pauseCall) []pauseCall {
	rank := func(c pauseCall) int {
		switch {
		case c.Err != "":
			return 2
		case c.Credited:
			return 1
		}
		return 0
	}
	var out []pauseCall
	idx := map[string]int{}
	for _, c := range calls {
		i, ok := idx[c.Reason]
		switch {
		case !ok:
			idx[c.Reason] = len(out)
			out = append(out, c)
		case rank(c) > rank(out[i]):
			out[i] = c
		}
	}
	return out
}

type reasonIndex struct{}

// refillDial marks the context of a refill's attempt at the write point: its dial parks.
type refillDial struct{}

// attemptedKey is the context key of a worker call's *atomic.Bool: set when a refill attempt of
// the call starts.
type attemptedKey struct{}

// pauser parks a worker's calls at its point; it is the worker's Observer.
type pauser struct {
	point   string
	release chan struct{}
	sends   sync.RWMutex // random: held for reading from a refill's AttemptStart to its write
	outMu   sync.Mutex
	parked  sync.Map // reason index → parked once
}

type sendHold struct{ once sync.Once }

func (p *pauser) say(line string) {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	fmt.Println(line)
}

// park tells the test that the call of ctx is at the point, once per call, and waits for release.
func (p *pauser) park(ctx context.Context) {
	i, _ := ctx.Value(reasonIndex{}).(int)
	if _, again := p.parked.LoadOrStore(i, true); again {
		return
	}
	p.say("park " + strconv.Itoa(i))
	<-p.release
}

func isRefill(method, path string) bool {
	return method == http.MethodPost && strings.HasSuffix(path, probonustest.PathRefill)
}

func (p *pauser) CallStart(ctx context.Context, _ *probonus.Call) context.Context { return ctx }
func (p *pauser) CallEnd(context.Context, *probonus.Call)                         {}

func (p *pauser) AttemptStart(ctx context.Context, a *probonus.Attempt) context.Context {
	if !isRefill(a.Call.Method, a.Call.Path) {
		return ctx
	}
	if b, _ := ctx.Value(attemptedKey{}).(*atomic.Bool); b != nil {
		b.Store(true)
	}
	switch p.point {
	case "send":
		p.park(ctx)
	case "write":
		return context.WithValue(ctx, refillDial{}, true)
	case "random":
		p.sends.RLock()
		return context.WithValue(ctx, sendHold{}, &sendHold{})
	}
	return ctx
}

func (p *pauser) AttemptEnd(ctx context.Context, _ *probonus.Attempt) { p.unhold(ctx) }

// unhold ends the span of ctx's refill attempt in which a random pause must not land.
func (p *pauser) unhold(ctx context.Context) {
	if h, _ := ctx.Value(sendHold{}).(*sendHold); h != nil {
		h.once.Do(p.sends.RUnlock)
	}
}

// pauseTransport parks the worker's requests at the look point, tells the test when a look is out
// at the answer point, and keeps random pauses out of a refill's write.
type pauseTransport struct {
	p    *pauser
	next http.RoundTripper
}

func (t *pauseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	switch {
	case t.p.point == "answer" && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, probonustest.PathTransactions):
		// The look is out: the test stops the process before its answer comes.
		i, _ := ctx.Value(reasonIndex{}).(int)
		if _, again := t.p.parked.LoadOrStore(i, true); !again {
			t.p.say("park " + strconv.Itoa(i))
		}
	case t.p.point == "look" && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, probonustest.PathTransactions):
		resp, err := t.next.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		// The answer is in; the process stops before the SDK reads it.
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		t.p.park(ctx)
		return resp, nil
	case t.p.point == "random" && isRefill(req.Method, req.URL.Path):
		req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { t.p.unhold(ctx) },
		}))
		defer t.p.unhold(ctx)
	}
	return t.next.RoundTrip(req)
}

// settleMarker writes prefix's fleet marker as one made an hour ago by the running redis-server,
// so that the test's first leases do not count as taken after Redis lost its memory.
func settleMarker(tb testing.TB, rdb *redis.Client, prefix string) {
	tb.Helper()
	at := time.Now().Add(-time.Hour).UnixMicro()
	require.NoError(tb, rdb.Set(context.Background(), prefix+"epoch", strconv.FormatInt(at, 10)+" "+redisRunID(tb, rdb), 0).Err())
}

// redisRunID is the run_id of the redis-server rdb talks to: its INFO server's.
func redisRunID(tb testing.TB, rdb *redis.Client) string {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "server").Result()
	require.NoError(tb, err)
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return v
		}
	}
	require.FailNow(tb, "no run_id in INFO server")
	return ""
}

// TestFleetRedisRestartedEmptyMidRefill: issue 25 item 2: Redis killed with SIGKILL and restarted
// empty while a holder is between its look and its send, or has its send out (the server applies
// it after 150 ms, within the settle time), while a second holder takes the same keys in the new
// Redis. Each variant: 4 restarts × 5 keys, 0 doubled keys; the first holder's refusals say its
// lease was lost (or the coordinator unavailable), and a rerun finds every key credited once.
//   - look: released right after the restart;
//   - wait: released right after the restart, then waits 300 ms before its send (as on a rate
//     limiter), by when the second holder has the key;
//   - send: its request out when Redis dies: the second holder finds no marker in the new Redis,
//     so it waits its settle time before it looks, and finds the first holder's credit.
func TestFleetRedisRestartedEmptyMidRefill(t *testing.T) {
	needRedis(t)
	t.Parallel()
	for _, point := range []string{"look", "wait", "send"} {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			rs := newRedis(t)
			prefix := "test:restart:"
			doubled, firstLost, firstCredited := 0, 0, 0
			for round := range 4 {
				r := restartRound(t, rs, prefix, point, round)
				doubled += r.doubled
				for _, c := range r.worker {
					assert.True(t, c.typed(), "a refused call is typed: %s", c.Err)
					if point != "send" {
						assert.True(t, c.Lost || c.Unavailable, "the first holder sent nothing: %+v", c)
					}
					if c.Lost {
						firstLost++
					}
					if c.Credited || c.Already {
						firstCredited++
					}
				}
				for _, c := range r.second {
					assert.Empty(t, c.Err, "the second holder's call")
				}
			}
			t.Logf("%s: 4 restarts, 20 keys: %d doubled; the first holder: %d refused with ErrLeaseLost, %d credited or found",
				point, doubled, firstLost, firstCredited)
			assert.Zero(t, doubled, "no key credited twice")
		})
	}
}

// restartRound is one restart of TestFleetRedisRestartedEmptyMidRefill: 5 keys.
func restartRound(t *testing.T, rs *redisServer, prefix, point string, round int) pauseRun {
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	parked := make(chan struct{}, 5)
	release := make(chan struct{})
	hook := &restartHook{point: point, parked: parked, release: release}
	newHolder := func(first bool) *probonus.Client {
		rdb := newRDB(t, rs.addr)
		tr := &http.Transport{MaxIdleConnsPerHost: 16}
		t.Cleanup(tr.CloseIdleConnections)
		var rt http.RoundTripper = tr
		opts := append(pauseSettings(), probonus.WithRefillCoordinator(probonusredis.NewCoordinator(rdb,
			probonusredis.WithKeyPrefix(prefix), probonusredis.WithPollInterval(20*time.Millisecond), patientRedis)))
		if first {
			rt = &restartTransport{h: hook, next: tr}
			opts = append(opts, probonus.WithObserver(hook))
		}
		c, err := probonus.New(append(opts, probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()),
			probonus.WithHTTPClient(&http.Client{Transport: rt}))...)
		require.NoError(t, err)
		return c
	}
	first, second := newHolder(true), newHolder(false)
	acc, err := second.Accounts.FindByPhone(context.Background(), probonustest.DemoPhone)
	require.NoError(t, err)
	settleMarker(t, newRDB(t, rs.addr), prefix)
	refill := func(reason string) probonus.Refill {
		return probonus.Refill{AccountID: acc.ID, Amount: probonus.MustAmount("10"), Reason: probonus.Ptr(reason)}
	}
	reasons := make([]string, 5)
	for k := range reasons {
		reasons[k] = fmt.Sprintf("%s round %d key %d", point, round, k)
		if point == "send" {
			srv.Inject("POST", probonustest.PathRefill, probonustest.Fault{Delay: 150 * time.Millisecond})
		}
	}

	run := pauseRun{reasons: reasons}
	var mu sync.Mutex
	call := func(c *probonus.Client, reason string, into *[]pauseCall) {
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), reasonIndex{}, reason), 30*time.Second)
		defer cancel()
		var res *probonus.RefillResult
		var err error
		if c == first {
			res, err = c.Accounts.RefillOnce(ctx, refill(reason))
		} else {
			res, err = refillAgain(ctx, c, refill(reason))
		}
		mu.Lock()
		*into = append(*into, newPauseCall(reason, res, err))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, reason := range reasons {
		wg.Go(func() { call(first, reason, &run.worker) })
	}
	for range reasons {
		select {
		case <-parked:
		case <-time.After(30 * time.Second):
			require.FailNow(t, "the first holder did not reach its point")
		}
	}
	rs.stop() // SIGKILL
	require.NoError(t, rs.start())
	for _, reason := range reasons {
		wg.Go(func() { call(second, reason, &run.second) })
	}
	close(release)
	wg.Wait()

	for _, reason := range reasons {
		n := 0
		for _, tx := range srv.Refills(acc.ID) {
			if tx.Reason == reason {
				n++
			}
		}
		if n > 1 {
			run.doubled++
		}
		res, err := refillAgain(context.Background(), second, refill(reason))
		require.NoError(t, err, "rerun %s", reason)
		assert.True(t, res.AlreadyApplied, "%s credited before the rerun", reason)
	}
	return run
}

// restartHook is the first holder's Observer in TestFleetRedisRestartedEmptyMidRefill: at wait,
// each refill attempt waits 300 ms before it goes on to its confirmation and send.
type restartHook struct {
	point   string
	parked  chan struct{}
	release chan struct{}
}

func (h *restartHook) CallStart(ctx context.Context, _ *probonus.Call) context.Context { return ctx }
func (h *restartHook) CallEnd(context.Context, *probonus.Call)                         {}
func (h *restartHook) AttemptEnd(context.Context, *probonus.Attempt)                   {}
func (h *restartHook) AttemptStart(ctx context.Context, a *probonus.Attempt) context.Context {
	if h.point == "wait" && isRefill(a.Call.Method, a.Call.Path) {
		time.Sleep(300 * time.Millisecond)
	}
	return ctx
}

// restartTransport tells the test when the first holder has looked (look, wait: then waits for
// the restart) or has its request out (send).
type restartTransport struct {
	h    *restartHook
	next http.RoundTripper
	once sync.Map // reason → told
}

func (t *restartTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	first := func() bool {
		_, again := t.once.LoadOrStore(req.Context().Value(reasonIndex{}), true)
		return !again
	}
	switch {
	case t.h.point == "send" && isRefill(req.Method, req.URL.Path):
		t.h.parked <- struct{}{}
	case t.h.point != "send" && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, probonustest.PathTransactions):
		resp, err := t.next.RoundTrip(req)
		if err != nil || !first() {
			return resp, err
		}
		t.h.parked <- struct{}{}
		<-t.h.release
		return resp, nil
	}
	return t.next.RoundTrip(req)
}

// TestFleetUnrecordedUncertainSend: issue 25 item 3: a send cut off by its deadline (a proxy holds
// it 400 ms, then hands it to the server, which applies it; the settle time is 700 ms) whose record as an uncertain send Redis refuses (a go-redis
// hook fails the record script). The holder returns ErrOutcomeUnknown and frees the key keeping
// its holder mark; the next holder, taking the key at once, waits its settle time before it looks,
// finds the credit and sends nothing: one credit per key, 20 keys.
func TestFleetUnrecordedUncertainSend(t *testing.T) {
	needRedis(t)
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	held := newHoldingProxy(t, srv.URL(), 1200*time.Millisecond)
	const prefix = "test:unrecorded:"
	refused := &refuseRecords{}
	rdb := newRDB(t, sharedRedis.addr)
	rdb.AddHook(refused)
	settleMarker(t, rdb, prefix)
	newHolder := func(rdb *redis.Client) *probonus.Client {
		// The network holds a refill 1.2 s, within the settle time.
		c, err := probonus.New(probonus.WithTimeout(2*time.Second), probonus.WithRefillSettle(2*time.Second),
			probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
			probonus.WithBaseURL(held.URL()), probonus.WithAPIKey(srv.APIKey()),
			probonus.WithRefillCoordinator(probonusredis.NewCoordinator(rdb, probonusredis.WithKeyPrefix(prefix),
				probonusredis.WithPollInterval(20*time.Millisecond), patientRedis)))
		require.NoError(t, err)
		return c
	}
	first, next := newHolder(rdb), newHolder(newRDB(t, sharedRedis.addr))
	acc, err := next.Accounts.FindByPhone(context.Background(), probonustest.DemoPhone)
	require.NoError(t, err)
	const keys = 20

	var wg sync.WaitGroup
	var mu sync.Mutex
	var firsts, nexts []pauseCall
	for k := range keys {
		wg.Go(func() {
			r := probonus.Refill{AccountID: acc.ID, Amount: probonus.MustAmount("10"), Reason: probonus.Ptr(fmt.Sprintf("unrecorded %d", k))}
			// The first holder gives up after 1 s, before the credit is applied.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			res, err := first.Accounts.RefillOnce(ctx, r)
			cancel()
			f := newPauseCall(*r.Reason, res, err)
			ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err = refillAgain(ctx, next, r)
			mu.Lock()
			defer mu.Unlock()
			firsts = append(firsts, f)
			nexts = append(nexts, newPauseCall(*r.Reason, res, err))
		})
	}
	wg.Wait()
	held.wait()

	applied := map[string]int{}
	for _, tx := range srv.Refills(acc.ID) {
		applied[tx.Reason]++
	}
	doubled, cut := 0, 0
	for i, c := range firsts {
		assert.True(t, c.typed(), "a refused call is typed: %s", c.Err)
		assert.False(t, c.Credited || c.Already, "the first holder's answer was cut off: %+v", c)
		if c.Unknown {
			cut++
			// A first holder too slow to send before its deadline (a loaded machine) leaves the
			// credit to the next one; one that sent leaves it the credit to find.
			assert.True(t, nexts[i].Already, "the next holder found the credit: %+v", nexts[i])
		}
	}
	for _, c := range nexts {
		assert.Empty(t, c.Err, "the next holder's call")
		assert.Equal(t, 1, applied[c.Reason], "%s applied once", c.Reason)
		if applied[c.Reason] > 1 {
			doubled++
		}
	}
	t.Logf("%d keys: %d sends cut off with their record refused (%d records refused in all); %d doubled", keys, cut, refused.count(), doubled)
	assert.Positive(t, refused.count(), "Redis refused the records")
	assert.Positive(t, cut, "sends were cut off")
	assert.Len(t, applied, keys, "every key credited")
}

// refuseRecords is a go-redis hook that fails every script on one uncertain-send record alone:
// RecordUncertain's.
type refuseRecords struct {
	mu sync.Mutex
	n  int
}

func (r *refuseRecords) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *refuseRecords) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *refuseRecords) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (r *refuseRecords) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if name := cmd.Name(); (name == "evalsha" || name == "eval") && len(args) > 3 && fmt.Sprint(args[2]) == "1" &&
			strings.Contains(fmt.Sprint(args[3]), "uncertain:") {
			r.mu.Lock()
			r.n++
			r.mu.Unlock()
			err := errors.New("refused by the test's hook")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// holdingProxy is a network that cuts each refill off from its client (the connection drops once
// the request is in: the client cannot know whether it was applied) and hands it to the server
// after a while.
type holdingProxy struct {
	srv *httptest.Server
	wg  sync.WaitGroup
}

func newHoldingProxy(t *testing.T, target string, hold time.Duration) *holdingProxy {
	tr := &http.Transport{}
	p := &holdingProxy{}
	forward := func(r *http.Request, body []byte) (*http.Response, error) {
		out, err := http.NewRequestWithContext(context.Background(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		out.Header = r.Header.Clone()
		return tr.RoundTrip(out)
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if isRefill(r.Method, r.URL.Path) {
			p.wg.Go(func() {
				time.Sleep(hold)
				if resp, err := forward(r, body); err == nil {
					drainClose(resp)
				}
			})
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		resp, err := forward(r, body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer drainClose(resp)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(func() {
		p.srv.Close()
		p.wait()
		tr.CloseIdleConnections()
	})
	return p
}

func drainClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

func (p *holdingProxy) URL() string { return p.srv.URL }

// wait waits until every request held has reached the server.
func (p *holdingProxy) wait() { p.wg.Wait() }
