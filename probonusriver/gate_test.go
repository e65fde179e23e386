package probonusriver

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probonus-go/probonus/probonustest"
	"github.com/stretchr/testify/require"
)

// gate stands between the workers and the fake ProBonus server, on a loopback port of its own:
// open, closed (connections refused: nothing listens), or answering every request with a 503.
// It notes when each request passed it.
type gate struct {
	t      *testing.T
	addr   string
	proxy  *httputil.ReverseProxy
	mu     sync.Mutex
	srv    *http.Server
	busy   bool          // answer 503
	after  time.Duration // Retry-After of the 503s
	hits   []hit
	closed bool
	// onRefill, when set, runs once a POST refill has been applied by the server and before its
	// answer goes back: the moment to kill a worker whose credit is applied.
	onRefill func()
}

type hit struct {
	at           time.Time
	method, path string
	query        url.Values
}

func newGate(t *testing.T, fake *probonustest.Server) *gate {
	t.Helper()
	target, err := url.Parse(fake.URL())
	require.NoError(t, err)
	g := &gate{t: t, addr: net.JoinHostPort("127.0.0.1", "0"), proxy: httputil.NewSingleHostReverseProxy(target)}
	g.proxy.ErrorLog = log.New(io.Discard, "", 0)
	g.proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodPost || !strings.HasSuffix(resp.Request.URL.Path, probonustest.PathRefill) {
			return nil
		}
		g.mu.Lock()
		f := g.onRefill
		g.onRefill = nil
		g.mu.Unlock()
		if f != nil {
			f()
			return errors.New("the worker was killed before this answer")
		}
		return nil
	}
	g.open()
	t.Cleanup(g.close)
	return g
}

// URL is the base URL the workers use.
func (g *gate) URL() string { return "http://" + g.addr }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	busy, after := g.busy, g.after
	g.hits = append(g.hits, hit{at: time.Now(), method: r.Method, path: r.URL.Path, query: r.URL.Query()})
	g.mu.Unlock()
	if busy {
		if after > 0 {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, `{"detail":"maintenance"}`, http.StatusServiceUnavailable)
		return
	}
	g.proxy.ServeHTTP(w, r)
}

// open listens again, on the same port once it has one.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var l net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if l, err = net.Listen("tcp", g.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	require.NoError(g.t, err)
	g.addr = l.Addr().String()
	g.srv = &http.Server{Handler: g, ReadHeaderTimeout: 5 * time.Second}
	g.closed = false
	go func(s *http.Server) {
		if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.t.Errorf("gate: %v", err)
		}
	}(g.srv)
}

// close stops listening and drops every connection: the workers' connections are refused.
func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		_ = g.srv.Close()
		g.closed = true
	}
}

// setBusy makes every request a 503 (with Retry-After when after > 0), or not.
func (g *gate) setBusy(busy bool, after time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.busy, g.after = busy, after
}

func (g *gate) hitsOf(method, path string) []hit {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []hit
	for _, h := range g.hits {
		if h.method == method && h.path == path {
			out = append(out, h)
		}
	}
	return out
}

// newFake is the fake ProBonus server with n accounts in one group.
func newFake(t *testing.T, n int) (*probonustest.Server, []int64) {
	t.Helper()
	srv := probonustest.NewServer(t)
	g := srv.AddGroup(probonustest.Group{Name: "Guests"})
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = srv.AddAccount(probonustest.Account{GroupID: g})
	}
	return srv, ids
}
