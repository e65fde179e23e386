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
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
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

// WithRandomFaults makes each request (login and refresh excepted) fail with probability rate,
// with one of faults picked at random; seed makes a run repeatable. For testing how code copes
// with an unreliable server.
func WithRandomFaults(rate float64, seed uint64, faults ...Fault) Option {
	return func(s *Server) {
		s.chaosRate, s.chaos = rate, faults
		s.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
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

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // without the base path
	Query  url.Values
	Header http.Header // nil when the log keeps it only once authenticated, and it was not (RequestLog)
	Body   []byte      // as Header
	Fault  *Fault      // the fault injected into it; nil when it was served normally
	Status int         // the status answered; 0 while in flight, or when a fault dropped the connection first
}

// Fault is a failure injected into a request. With neither Status, Reset, BreakBody nor StallBody
// it only delays the real answer (a slow server).
//
// The failures a client must survive, and how to make each:
//
//	Fault{Status: 503, Body: "<html>…</html>"}        refused before acting: nothing applied
//	Fault{AfterApply: true, Status: 500}              applied, then a 500 (the handler committed, then failed)
//	Fault{AfterApply: true, Reset: true}              applied, then the connection drops before any answer
//	Fault{AfterApply: true, Delay: time.Minute}       applied, the answer comes after the client gave up
//	Fault{AfterApply: true, BreakBody: true}          applied, the real 200 and Content-Length, half the body, then the connection drops
//	Fault{AfterApply: true, StallBody: true}          applied, the real 200 and half the body, then nothing until the client gives up
type Fault struct {
	Status     int           // answer with this status instead (ignored when Reset)
	Body       string        // the body; JSON when it starts with { or [, HTML when with <, else plain text
	RetryAfter time.Duration // sent as Retry-After in whole seconds when positive
	Reset      bool          // drop the connection without an answer
	AfterApply bool          // carry out the request first, then delay and fail: the server acted, the answer is lost
	Delay      time.Duration // wait this long before answering

	// BreakBody sends the answer's status and headers with its full Content-Length, then the first
	// half of its body, then drops the connection. The answer is the fault's Status and Body when
	// Status is set; otherwise the real one, so the request is carried out (as with AfterApply).
	BreakBody bool
	// StallBody is BreakBody that, instead of dropping the connection at once, waits for the client
	// to give up (or the server to close) first: a body that stalls mid-way.
	StallBody bool
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

// Requests returns the requests received so far, oldest first: those the log kept
// (WithRequestLog; by default every one).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log.entries))
	for i, e := range s.log.entries {
		out[i] = e.Request
	}
	return out
}

// Count returns how many requests for method and path (without the base path) arrived: for a
// route's method and path every one, for others those the log kept.
func (s *Server) Count(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.count(method, path)
}

// AuthCounts returns how many logins and token refreshes succeeded.
func (s *Server) AuthCounts() (logins, refreshes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.refreshN
}

// FailNext makes the next request for method and path answer status with body (and a Retry-After
// of retryAfter when positive) instead of being served. Calls queue up. A method and path the
// server has no route for are refused as Inject refuses them.
func (s *Server) FailNext(method, path string, status int, body string, retryAfter time.Duration) {
	if s.t != nil {
		s.t.Helper()
	}
	s.Inject(method, path, Fault{Status: status, Body: body, RetryAfter: retryAfter})
}

// Inject queues a fault for the next request for method and path (one of the Path… constants,
// without the base path). A fault for a route the server does not have would never fire, so the
// test could pass without testing anything: Inject reports it at once, with t.Errorf for a server
// made with a t, and with a panic otherwise, and queues nothing.
func (s *Server) Inject(method, path string, f Fault) {
	if problem := s.routeProblem(method, path); problem != "" {
		msg := fmt.Sprintf("probonustest: Inject(%q, %q): %s", method, path, problem)
		if s.t == nil {
			panic(msg)
		}
		s.t.Helper()
		s.t.Errorf("%s", msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := method + " " + path
	s.faults[k] = append(s.faults[k], f)
}

// routeProblem says why no request would ever match method and path; "" when one would.
func (s *Server) routeProblem(method, path string) string {
	if rt, ok := routeAt[path]; ok {
		switch {
		case rt.method == method:
			return ""
		case strings.EqualFold(rt.method, method):
			return fmt.Sprintf("the method is %q: methods are upper case", rt.method)
		default:
			return fmt.Sprintf("the route is %s %s, not %s", rt.method, path, method)
		}
	}
	for _, hint := range []struct {
		cond     bool
		fix, why string
	}{
		{strings.Contains(path, "?"), strings.Split(path, "?")[0], "a path has no query"},
		{s.basePath != "" && strings.HasPrefix(path, s.basePath+"/"), strings.TrimPrefix(path, s.basePath), "give the path without the base path"},
		{true, "/api/v0/" + strings.TrimLeft(path, "/"), "paths start with /api/v0"},
		{true, strings.TrimSuffix(path, "/"), "a trailing slash is only redirected"},
	} {
		if _, ok := routeAt[hint.fix]; hint.cond && hint.fix != path && ok {
			return fmt.Sprintf("no such route: %s, did you mean %q (probonustest.Path…)?", hint.why, hint.fix)
		}
	}
	return "no such route: use one of the probonustest.Path… constants"
}

// now is the server's wall-clock time.
func (s *Server) now() time.Time { return time.Now().In(s.loc) }

// serve records the request, applies latency and faults, checks credentials and routes.
func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	// the prefix ends at a segment boundary: under /pb, /pbx/api/v0/... is not found
	path, under := strings.CutPrefix(r.URL.Path, s.basePath)
	if !under || !strings.HasPrefix(path, "/") {
		s.writeJSON(rw, http.StatusNotFound, map[string]any{"detail": "Not Found"})
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeJSON(rw, http.StatusRequestEntityTooLarge, map[string]any{"detail": "Request Entity Too Large"})
		return
	}
	w := &statusWriter{ResponseWriter: rw}
	s.mu.Lock()
	e := s.log.add(r, path, body)
	defer func() {
		s.mu.Lock()
		e.Status = w.status
		s.mu.Unlock()
	}()
	r = withEntry(r, e, body)
	var fault *Fault
	if q := s.faults[r.Method+" "+path]; len(q) > 0 {
		fault = &q[0]
		s.faults[r.Method+" "+path] = q[1:]
	} else if len(s.chaos) > 0 && !routeAt[path].public && s.rnd.Float64() < s.chaosRate {
		fault = &s.chaos[s.rnd.IntN(len(s.chaos))]
	}
	e.Fault = fault
	s.mu.Unlock()

	if !s.sleep(r, s.latency) {
		s.reset(w)
		return
	}
	if fault == nil {
		s.route(w, r, path, body)
		return
	}
	var applied *httptest.ResponseRecorder
	if fault.AfterApply {
		applied = httptest.NewRecorder()
		s.route(applied, r, path, body)
	}
	if !s.sleep(r, fault.Delay) {
		s.reset(w)
		return
	}
	answer := applied
	switch {
	case fault.Reset:
		s.reset(w)
		return
	case fault.Status != 0:
		answer = httptest.NewRecorder()
		s.fail(answer, *fault)
	case answer == nil && !fault.BreakBody && !fault.StallBody: // only slow
		s.route(w, r, path, body)
		return
	case answer == nil: // a broken real answer: the work is done
		answer = httptest.NewRecorder()
		s.route(answer, r, path, body)
	}
	s.replay(w, r, answer, *fault)
}

// replay sends a recorded answer, whole or broken off half-way as the fault says.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, answer *httptest.ResponseRecorder, f Fault) {
	for k, v := range answer.Header() {
		w.Header()[k] = v
	}
	body := answer.Body.Bytes()
	if !f.BreakBody && !f.StallBody {
		w.WriteHeader(answer.Code)
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(answer.Code)
	_, _ = w.Write(body[:len(body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	if f.StallBody {
		select {
		case <-r.Context().Done(): // the client gave up and closed the connection
		case <-s.done:
		}
	}
	s.reset(w)
}

// sleep waits d; false when the client gave up or the server is closing first.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// reset drops the connection, after what was written so far has been flushed.
func (s *Server) reset(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// fail writes a fault's own answer.
func (s *Server) fail(w http.ResponseWriter, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	switch b := strings.TrimSpace(f.Body); {
	case strings.HasPrefix(b, "{") || strings.HasPrefix(b, "["):
		w.Header().Set("Content-Type", "application/json")
	case strings.HasPrefix(b, "<"):
		w.Header().Set("Content-Type", "text/html")
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if b.Len() > 1<<20 {
			return nil, fmt.Errorf("body too large")
		}
		if err != nil {
			return []byte(b.String()), nil
		}
	}
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
