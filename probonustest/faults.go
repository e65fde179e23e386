package probonustest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/probonus-go/probonus/internal/statuswriter"
)

// WithRandomFaults makes each request (login and refresh excepted) fail with probability rate,
// with one of faults picked at random; seed makes a run repeatable. For testing how code copes
// with an unreliable server.
func WithRandomFaults(rate float64, seed uint64, faults ...Fault) Option {
	return func(s *Server) {
		s.chaosRate, s.chaos = rate, faults
		s.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
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
	Status     int           `json:"status,omitempty"`     // answer with this status instead (ignored when Reset)
	Body       string        `json:"body,omitempty"`       // the body; JSON when it starts with { or [, HTML when with <, else plain text
	RetryAfter time.Duration `json:"retryAfter,omitempty"` // sent as Retry-After in whole seconds when positive
	Reset      bool          `json:"reset,omitempty"`      // drop the connection without an answer
	AfterApply bool          `json:"afterApply,omitempty"` // carry out the request first, then delay and fail: the server acted, the answer is lost
	Delay      time.Duration `json:"delay,omitempty"`      // wait this long before answering

	// BreakBody sends the answer's status and headers with its full Content-Length, then the first
	// half of its body, then drops the connection. The answer is the fault's Status and Body when
	// Status is set; otherwise the real one, so the request is carried out (as with AfterApply).
	BreakBody bool `json:"breakBody,omitempty"`
	// StallBody is BreakBody that, instead of dropping the connection at once, waits for the client
	// to give up (or the server to close) first: a body that stalls mid-way.
	StallBody bool `json:"stallBody,omitempty"`
}

// MarshalJSON writes the fault as the admin route (POST /_probonus/faults) takes it: the fields
// named as their tags say, the durations as Go writes them ("1.5s").
func (f Fault) MarshalJSON() ([]byte, error) { return json.Marshal(f.form()) }

// UnmarshalJSON reads a fault as the admin route takes it: durations as "1.5s" or a number of
// seconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var form faultForm
	if err := json.Unmarshal(b, &form); err != nil {
		return err
	}
	*f = form.fault()
	return nil
}

// faultForm is a Fault in JSON: Fault's own fields and tags, its durations read and written as
// durations rather than nanoseconds. The admin route decodes it embedded beside the route's method
// and path, so that one decoder refuses a misspelt field of either.
type faultForm struct {
	faultFields
	RetryAfter duration `json:"retryAfter,omitempty"`
	Delay      duration `json:"delay,omitempty"`
}

// faultFields is Fault without its methods, so that faultForm does not marshal through them.
type faultFields Fault

func (f Fault) form() faultForm {
	return faultForm{faultFields: faultFields(f), RetryAfter: duration(f.RetryAfter), Delay: duration(f.Delay)}
}

func (f faultForm) fault() Fault {
	out := Fault(f.faultFields)
	out.RetryAfter, out.Delay = time.Duration(f.RetryAfter), time.Duration(f.Delay)
	return out
}

// duration is a time.Duration in JSON: "1.5s" (Go's form), or a number of seconds.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case float64:
		*d = duration(v * float64(time.Second))
	case string:
		p, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as \"1.5s\" or \"2m\"", v)
		}
		*d = duration(p)
	case nil:
		*d = 0
	default:
		return fmt.Errorf("%s is not a duration such as \"1.5s\" or a number of seconds", b)
	}
	return nil
}

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

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
		s.refuseBody(rw, err)
		return
	}
	w := &statuswriter.Writer{ResponseWriter: rw}
	s.mu.Lock()
	e := s.log.add(r, path, body)
	defer func() {
		s.mu.Lock()
		e.Status = w.Status
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
