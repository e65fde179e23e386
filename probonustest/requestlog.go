package probonustest

import (
	"context"
	"net/http"
	"net/url"
)

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

// RequestLog bounds what the server keeps of the requests it receives: what Requests, Count and
// the admin route GET /_probonus/requests read. The zero value keeps every request whole, as a Go
// test wants; probonus serve, which runs for days and takes requests from anyone who can reach
// it, keeps the last 10,000, within 32 MiB, their headers and bodies only once authenticated.
type RequestLog struct {
	// Max is how many of the latest requests are kept; the older ones are dropped. 0: all.
	Max int
	// MaxBytes bounds what the requests kept hold (their paths, queries, headers and bodies),
	// the oldest dropped first; the latest request is kept even when it alone is larger. 0: no
	// bound.
	MaxBytes int
	// AuthenticatedOnly keeps a request's headers and body only once its credentials were
	// accepted: a refused request, a login, a refresh and a path no route has are kept as their
	// method, path, query, fault and status alone.
	AuthenticatedOnly bool
}

// WithRequestLog bounds the request log. Count stays exact for the Path… routes whatever was
// dropped; DroppedRequests says how many were.
func WithRequestLog(l RequestLog) Option { return func(s *Server) { s.log.cfg = l } }

// requestLog is the requests kept, oldest first, and what was dropped. Guarded by Server.mu.
type requestLog struct {
	cfg     RequestLog
	entries []*entry
	bytes   int            // what entries hold, by size
	dropped int            // since the start or the last Reset
	counts  map[string]int // "METHOD path" of a route → requests received, dropped ones included
}

// entry is a request kept, and what it holds for MaxBytes.
type entry struct {
	Request
	auth string // authMode of its headers, kept when the headers are not
	size int
}

// overhead is what an entry costs beyond its strings: the structs, maps and slice headers.
const overhead = 512

// add keeps a new request, its headers and body only when the log keeps them before
// authentication, and returns it for keep.
func (l *requestLog) add(r *http.Request, path string, body []byte) *entry {
	e := &entry{Request: Request{Method: r.Method, Path: path, Query: r.URL.Query()}, auth: authMode(r.Header)}
	e.size = overhead + len(r.Method) + len(path) + 2*len(r.URL.RawQuery)
	if !l.cfg.AuthenticatedOnly {
		e.Header, e.Body = r.Header.Clone(), body
		e.size += headerSize(r.Header) + len(body)
	}
	if rt, ok := routeAt[path]; ok && rt.method == r.Method {
		if l.counts == nil {
			l.counts = map[string]int{}
		}
		l.counts[r.Method+" "+path]++
	}
	l.entries = append(l.entries, e)
	l.bytes += e.size
	l.trim()
	return e
}

// keep records an authenticated request's headers and body, when the log waited for that.
func (l *requestLog) keep(e *entry, h http.Header, body []byte) {
	if !l.cfg.AuthenticatedOnly || e.Header != nil {
		return
	}
	e.Header, e.Body = h.Clone(), body
	grown := headerSize(h) + len(body)
	e.size += grown
	if l.holds(e) {
		l.bytes += grown
		l.trim()
	}
}

// holds reports whether e is still among the entries (the newest are at the end).
func (l *requestLog) holds(e *entry) bool {
	for i := len(l.entries) - 1; i >= 0; i-- {
		if l.entries[i] == e {
			return true
		}
	}
	return false
}

// trim drops the oldest entries beyond Max and MaxBytes, keeping the newest one.
func (l *requestLog) trim() {
	n := 0
	for len(l.entries)-n > 1 && ((l.cfg.Max > 0 && len(l.entries)-n > l.cfg.Max) || (l.cfg.MaxBytes > 0 && l.bytes > l.cfg.MaxBytes)) {
		l.bytes -= l.entries[n].size
		l.entries[n] = nil
		n++
	}
	if n > 0 {
		l.entries = l.entries[n:]
		l.dropped += n
	}
}

// count is how many requests for method and path arrived: exact for a route, from the entries
// kept otherwise.
func (l *requestLog) count(method, path string) int {
	if rt, ok := routeAt[path]; ok && rt.method == method {
		return l.counts[method+" "+path]
	}
	n := 0
	for _, e := range l.entries {
		if e.Method == method && e.Path == path {
			n++
		}
	}
	return n
}

func (l *requestLog) reset() {
	l.entries, l.bytes, l.dropped, l.counts = nil, 0, 0, nil
}

func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += len(k)
		for _, v := range vs {
			n += len(v) + 16
		}
	}
	return n
}

// DroppedRequests is how many requests the log dropped (WithRequestLog) since the server started
// or was last Reset.
func (s *Server) DroppedRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.dropped
}

// entryKey carries a request's log entry and what it came with from serve to the endpoint, which
// keeps its headers and body once the credentials are accepted.
type entryKey struct{}

type pending struct {
	e    *entry
	body []byte
}

// authenticated records, for a request whose credentials were accepted, what the log waited for.
func (s *Server) authenticated(r *http.Request) {
	p, ok := r.Context().Value(entryKey{}).(pending)
	if !ok {
		return
	}
	s.mu.Lock()
	s.log.keep(p.e, r.Header, p.body)
	s.mu.Unlock()
}

func withEntry(r *http.Request, e *entry, body []byte) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), entryKey{}, pending{e: e, body: body}))
}
