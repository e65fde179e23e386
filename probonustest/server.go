// Package probonustest is an in-memory ProBonus server for testing code that uses the SDK (or any
// other ProBonus client) without a real installation.
//
// It implements every endpoint of the SDK's wire model with real semantics: groups with templates,
// accounts created by template with a welcome bonus, find by phone, refills that schedule their
// burning, transactions by period and last N, partial updates, checks with dishes, and the extended
// balance. It accepts both authentication modes (an API key, and login with refreshable,
// expiring JWTs), and speaks either FastAPI flavour (Legacy or Modern). It writes JSON from its own
// maps, not from the SDK's types, so a test that passes against it proves a client reads the wire.
//
//	srv := probonustest.NewServer(t)
//	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+7 999 123-45-67", Balance: "100"})
//	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))
//	// ... run the code under test, then read what the server applied:
//	// srv.Balance(id), srv.Refills(id), srv.Transactions(id), srv.Checks(id), srv.Requests()
//
// Inject makes a request fail in each way a network can (see Fault); the Path… constants name the
// routes. WithDemoData seeds a returning guest for demos; ParseSeed and Load seed a team's data
// from a JSON file, and Reset goes back to it.
//
// The same server runs outside Go tests as probonus serve (cmd/probonus): WithListener puts it on
// a fixed address, WithAdmin adds routes under AdminPath that do over HTTP what the methods here
// do, WithMiddleware logs, and Shutdown lets the requests in flight finish.
//
// A new server holds the two groups of the vendor's test database: 1 "Все гости" and
// 3 "Самостоятельно зарегистрировавшиеся", a template group with a 500-bonus welcome.
package probonustest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
)

// Flavor is the FastAPI / Pydantic generation the server imitates.
type Flavor int

const (
	// Modern is FastAPI ≥ 0.122 with Pydantic v2: 401 with WWW-Authenticate for missing or bad
	// credentials, money as strings ("150.50"), 422 items with input and ctx.
	Modern Flavor = iota
	// Legacy is FastAPI ≤ 0.121 with Pydantic v1: 403 "Not authenticated", money as JSON numbers,
	// 422 items with loc, msg and type only.
	Legacy
)

// String names the flavour.
func (f Flavor) String() string {
	if f == Legacy {
		return "Legacy"
	}
	return "Modern"
}

// Option configures a Server.
type Option func(*Server)

// WithFlavor sets the FastAPI flavour. Default: Modern.
func WithFlavor(f Flavor) Option { return func(s *Server) { s.flavor = f } }

// WithTokenLifetime sets how long bearer tokens live, so refresh paths can be tested in seconds.
// Default: one hour.
func WithTokenLifetime(d time.Duration) Option { return func(s *Server) { s.tokenLifetime = d } }

// WithLatency delays every response by d.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithLocation sets the server's local time zone: timestamps are written in it without an offset,
// and read so. Default: Moscow (UTC+3).
func WithLocation(loc *time.Location) Option { return func(s *Server) { s.loc = loc } }

// WithBasePath mounts the API under a prefix, as a reverse proxy might: URL() includes it.
// "" and "/" mount it at the root, as without the option.
func WithBasePath(p string) Option {
	return func(s *Server) {
		s.basePath = ""
		if p = strings.Trim(p, "/"); p != "" {
			s.basePath = "/" + p
		}
	}
}

// WithExtraField adds a field to every object of a kind the server writes ("account", "group",
// "transaction", "check", "dish", "balance", "refill", "token"), imitating a server newer than the model.
func WithExtraField(kind, name string, value any) Option {
	return func(s *Server) { s.extra[kind] = append(s.extra[kind], [2]any{name, value}) }
}

// WithRenamedField renames a field of every object of a kind the server writes, imitating a server
// whose field names differ from the model.
func WithRenamedField(kind, from, to string) Option {
	return func(s *Server) { s.renamed[kind] = append(s.renamed[kind], [2]string{from, to}) }
}

// The credentials a server accepts unless WithCredentials says others.
const (
	DefaultAPIKey   = "probonustest-api-key"
	DefaultLogin    = "api-user"
	DefaultPassword = "probonustest-password"
)

// WithCredentials sets the API key, login and password the server accepts.
func WithCredentials(apiKey, login, password string) Option {
	return func(s *Server) { s.apiKey, s.login, s.password = apiKey, login, password }
}

// Server is an in-memory ProBonus server on a local port. It is safe for concurrent use.
type Server struct {
	ts            *httptest.Server
	mux           *http.ServeMux // the routes, newMux
	flavor        Flavor
	tokenLifetime time.Duration
	latency       time.Duration
	loc           *time.Location
	basePath      string
	extra         map[string][][2]any
	renamed       map[string][][2]string
	apiKey        string
	login         string
	password      string
	demo          bool
	admin         bool                              // WithAdmin: the routes under AdminPath
	adminHosts    []string                          // WithAdminHosts, canonical
	corsOrigins   []string                          // WithCORS
	timeouts      Timeouts                          // WithTimeouts
	listener      net.Listener                      // WithListener; nil: a new local port
	middleware    []func(http.Handler) http.Handler // WithMiddleware, innermost first
	seeds         []*Seed                           // what Load applied, for Reset
	active        atomic.Int64                      // requests in flight, for Shutdown
	t             testing.TB                        // nil when the caller closes the server
	done          chan struct{}                     // closed by Close: ends stalled answers
	closeOnce     sync.Once

	chaosRate float64
	chaos     []Fault
	rnd       *rand.Rand // guarded by mu

	mu       sync.Mutex
	st       state
	log      requestLog
	faults   map[string][]Fault
	tokens   map[string]time.Time // access token → expiry
	refresh  map[string]bool      // refresh tokens not yet used
	logins   int
	refreshN int
	seq      int
}

// NewServer starts a server. With a non-nil t it closes when the test ends; with nil, call Close.
func NewServer(t testing.TB, opts ...Option) *Server {
	s := &Server{
		tokenLifetime: time.Hour,
		loc:           probonus.Moscow,
		extra:         map[string][][2]any{},
		renamed:       map[string][][2]string{},
		apiKey:        DefaultAPIKey,
		login:         DefaultLogin,
		password:      DefaultPassword,
		faults:        map[string][]Fault{},
		tokens:        map[string]time.Time{},
		refresh:       map[string]bool{},
		t:             t,
		done:          make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.st = newState(s.loc)
	if s.demo {
		s.seedDemo()
	}
	s.mux = s.newMux()
	var h http.Handler = http.HandlerFunc(s.serve)
	if len(s.corsOrigins) > 0 {
		h = s.withCORS(h)
	}
	if s.admin {
		h = s.withAdmin(h)
	}
	for _, m := range s.middleware {
		h = m(h)
	}
	h = s.counted(h)
	s.ts = httptest.NewUnstartedServer(h)
	if s.listener != nil {
		_ = s.ts.Listener.Close() // the local port httptest opened, unused
		s.ts.Listener = s.listener
	}
	s.ts.Config.ReadHeaderTimeout = s.timeouts.ReadHeader
	s.ts.Config.ReadTimeout = s.timeouts.Read
	s.ts.Config.IdleTimeout = s.timeouts.Idle
	s.ts.Start()
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
}

// URL is the base URL to pass to probonus.WithBaseURL.
func (s *Server) URL() string { return s.ts.URL + s.basePath }

// APIKey is the X-API-Key the server accepts.
func (s *Server) APIKey() string { return s.apiKey }

// Login returns the login and password the server accepts at /api/v0/auth/login.
func (s *Server) Login() (login, password string) { return s.login, s.password }

// Flavor is the server's FastAPI flavour.
func (s *Server) Flavor() Flavor { return s.flavor }

// Close shuts the server down, ending any stalled or delayed answer first (by dropping its
// connection), then waiting for every other request in flight. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.ts.Close()
}

// Client returns an *http.Client for the server (the httptest one).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// AuthCounts returns how many logins and token refreshes succeeded.
func (s *Server) AuthCounts() (logins, refreshes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.refreshN
}

// now is the server's wall-clock time.
func (s *Server) now() time.Time { return time.Now().In(s.loc) }

// errTooLarge is a body past the fake's 1 MiB.
var errTooLarge = errors.New("body too large")

// readBody reads the whole body. A read error other than its end (the client closed mid-body,
// Content-Length promised more, the read timeout) is returned: a body cut short is never served
// as if complete (the adversarial review of issue 26, item 8).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	var b bytes.Buffer
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if b.Len() > 1<<20 {
			return nil, errTooLarge
		}
		switch {
		case errors.Is(err, io.EOF):
			return b.Bytes(), nil
		case err != nil:
			return nil, err
		}
	}
}

// refuseBody answers a body readBody refused: 413 for one too large, and for one cut short
// FastAPI's answer when reading the body fails (Starlette's ClientDisconnect), which a client
// that is still there can read.
func (s *Server) refuseBody(w http.ResponseWriter, err error) {
	if errors.Is(err, errTooLarge) {
		s.writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"detail": "Request Entity Too Large"})
		return
	}
	w.Header().Set("Connection", "close")
	s.detail(w, http.StatusBadRequest, "There was an error parsing the body")
}

// writeJSON writes v, shaped by the extra and renamed fields of its kind.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// object is one JSON object the server writes, with its kind for WithExtraField and WithRenamedField.
func (s *Server) object(kind string, m map[string]any) map[string]any {
	for _, kv := range s.renamed[kind] {
		if v, ok := m[kv[0]]; ok {
			delete(m, kv[0])
			m[kv[1]] = v
		}
	}
	for _, kv := range s.extra[kind] {
		m[kv[0].(string)] = kv[1]
	}
	return m
}
