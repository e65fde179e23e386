package probonustest

import (
	"context"
	"net"
	"net/http"
	"time"
)

// WithListener serves on l instead of a new local port, so the server can stand at a fixed address
// for programs other than a Go test (probonus serve does). URL() is http:// and l's address; the
// server closes l when it closes.
func WithListener(l net.Listener) Option { return func(s *Server) { s.listener = l } }

// Timeouts are how long the server waits on a slow client: http.Server's fields of the same
// names. A zero one does not time out, as a Go test's server needs none; a server others can
// reach sets them all (probonus serve does), so that a client sending a byte at a time cannot
// hold its connections (a slow-loris attack).
type Timeouts struct {
	ReadHeader time.Duration // to read a request's headers
	Read       time.Duration // to read a whole request, its body included; the answer is not bounded, so faults' delays still work
	Idle       time.Duration // a kept-alive connection's wait for its next request
}

// WithTimeouts sets the server's timeouts on slow clients.
func WithTimeouts(t Timeouts) Option { return func(s *Server) { s.timeouts = t } }

// WithMiddleware wraps the server's handler (the API and, with WithAdmin, the admin routes), e.g.
// to log each request. Several wrap in order: the last given is the outermost. A wrapper must keep
// the ResponseWriter's http.Flusher and http.Hijacker, through which faults break answers off.
func WithMiddleware(m func(http.Handler) http.Handler) Option {
	return func(s *Server) { s.middleware = append(s.middleware, m) }
}

// Shutdown stops accepting connections and waits for the requests in flight to finish. When ctx
// ends first, it ends the stalled and delayed answers and drops every connection left, then
// returns ctx's error. Close may follow; it does nothing more.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ts.Config.SetKeepAlivesEnabled(false) // a connection closes after the answer in flight on it
	_ = s.ts.Listener.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
	for err == nil && s.active.Load() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.Close() // ends what is stalled or delayed, drops idle connections, waits for the rest
	return err
}

// counted keeps the number of requests in flight, for Shutdown.
func (s *Server) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.active.Add(1)
		defer s.active.Add(-1)
		h.ServeHTTP(w, r)
	})
}
