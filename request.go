package probonus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// Do sends one request through the client's request path (limiter, authentication, per-attempt
// timeout, retries, error parsing) and decodes a JSON response into out. path is relative to the
// base URL, e.g. "/api/v0/accounts/find_by_phone"; in (when not nil) is sent as JSON; out is nil
// (the body is discarded) or a non-nil pointer. Use it for endpoints the SDK does not type.
//
// Unlike a typed method, Do takes an empty or all-white-space 2xx body as a success that leaves
// out unchanged (a 204, say), and decodes a null as encoding/json does (a map, slice or pointer
// becomes nil, a struct stays as it was); a typed method returns a *DecodeError for either.
// Observers see a Do call without its path (which may hold a phone), unless ctx names a template
// (WithPathTemplate).
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) (err error) {
	defer nameInputOp(&err, "Do")
	path, err = validatePath(path)
	if err != nil {
		return err
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		return &InputError{Field: "method", Reason: "empty"}
	}
	if !validMethod(method) {
		return &InputError{Field: "method", Reason: fmt.Sprintf("%q is not an HTTP method (a token: letters, digits, no space)", method)}
	}
	if out != nil {
		if v := reflect.ValueOf(out); v.Kind() != reflect.Pointer || v.IsNil() {
			return &InputError{Field: "out", Reason: fmt.Sprintf("must be nil or a non-nil pointer, not %T", out)}
		}
	}
	cl := &call{endpoint: endpoint{opDo, method, path}, query: query.Encode(), in: in, mayBeEmpty: true}
	if ctx != nil {
		cl.template, _ = ctx.Value(pathTemplateKey{}).(string)
	}
	return c.send(ctx, cl, out)
}

// fetch sends cl and decodes the response into a new T: the body of every typed method.
func fetch[T any](ctx context.Context, c *Client, cl *call) (*T, error) {
	var v T
	if err := c.send(ctx, cl, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// attemptResult is what one attempt ended with: a status, an error, and what the retry decision needs.
type attemptResult struct {
	status    int
	err       error
	written   bool // the request may have reached the server: it was (or may have been) written
	apiErr    *APIError
	req       *http.Request
	final     bool // it failed before sending, in a way another attempt would repeat
	requestID string
}

// send is the one request path: build → limit → authenticate → send → decide retry → decode.
func (c *Client) send(ctx context.Context, cl *call, out any) (err error) {
	if ctx == nil {
		return &InputError{Field: "ctx", Reason: "nil context"}
	}
	fullPath := c.baseURL.Path + cl.path // what errors show: the path the server saw
	var body []byte
	if cl.in != nil {
		if body, err = encodeBody(cl); err != nil {
			return fmt.Errorf("probonus: %s %s: encoding the request: %w", cl.method, fullPath, err)
		}
	}
	u := *c.baseURL
	u.Path = fullPath // the same concatenation: one string, not two, under a base path
	u.RawQuery = cl.query
	var obs *Call
	if len(c.observers) > 0 {
		obs = c.newCall(cl)
		for _, o := range c.observers {
			ctx = o.CallStart(ctx, obs)
		}
		defer func() { c.endCall(ctx, obs, err) }()
	}
	if cl.noAuth {
		ctx = context.WithValue(ctx, noAuthKey{}, true)
	}
	idempotent := cl.idempotent()
	replayed, replaying, retried := false, false, false
	lastReason := "" // why the attempt before was followed by another: the next one's SentBecause
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return fmt.Errorf("probonus: %s %s: %w", cl.method, fullPath, err)
		}
		at, actx := c.startAttempt(ctx, obs, replaying, retried && !replaying, lastReason)
		res := c.attempt(actx, cl, &u, attemptSpec{fullPath: fullPath, body: body, out: out, at: at, idempotent: idempotent})
		d := decide(c.retryInput(ctx, res, attempt, idempotent, !replayed && !res.final && c.mayReplay(cl, res)))
		replaying = false
		if at != nil {
			if d.retry || d.replay {
				at.RetryReason = d.reason
			}
			lastReason = at.RetryReason
			c.endAttempt(actx, at, res)
		}
		switch {
		case res.final:
			return res.err
		case d.replay:
			replayed, replaying = true, true
			attempt-- // the replay is not a retry
			continue
		case !d.retry && d.unknown:
			return &outcomeError{err: c.withContext(ctx, res.err)}
		case !d.retry:
			return res.err
		}
		retried = true
		if err := sleepCtx(ctx, d.wait); err != nil {
			return fmt.Errorf("%w; then, waiting to retry: %w", res.err, err)
		}
	}
}

// startAttempt tells the observers an attempt begins; nil and ctx when there are none.
func (c *Client) startAttempt(ctx context.Context, obs *Call, replay, retry bool, because string) (*Attempt, context.Context) {
	if obs == nil {
		return nil, ctx
	}
	obs.Attempts++
	at := &Attempt{Call: obs, Number: obs.Attempts, Replay: replay, Retry: retry, SentBecause: because,
		Header: http.Header{}, Start: time.Now()}
	for _, o := range c.observers {
		ctx = o.AttemptStart(ctx, at)
	}
	return at, ctx
}

// retryInput gathers what decide needs about res, the attempt-th attempt.
func (c *Client) retryInput(ctx context.Context, res attemptResult, attempt int, idempotent, replayable bool) retryInput {
	in := retryInput{idempotent: idempotent, written: res.written, ctxDone: ctx.Err() != nil, final: res.final,
		replayable: replayable, status: res.status, err: res.err, attempt: attempt, maxAttempts: c.retry.MaxAttempts,
		maxRetryAfter: c.retry.MaxRetryAfter}
	if res.err != nil && !res.final && !replayable {
		in.backoff = c.backoff(attempt, res.apiErr)
	}
	if res.apiErr != nil {
		in.retryAfter = res.apiErr.RetryAfter
	}
	if dl, ok := ctx.Deadline(); ok {
		in.hasDeadline, in.untilDeadline = true, time.Until(dl)
	}
	return in
}

// sleepCtx waits d, or until ctx ends (its error then).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// withContext makes the caller's context error reachable from err when the context ended.
func (c *Client) withContext(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", err, cerr)
	}
	return err
}

// mayReplay reports whether the server rejected the credentials of an authenticated request and
// the Authenticator can get fresh ones. The body is held in memory, so it can always be re-sent.
func (c *Client) mayReplay(cl *call, res attemptResult) bool {
	if cl.noAuth || res.apiErr == nil || !res.apiErr.credentialsRejected() || c.auth == nil {
		return false
	}
	inv, ok := c.auth.(Invalidator)
	return ok && inv.Invalidate(res.req)
}

// wait waits on the limiter, if there is one; an unlimited client takes no lock. A limiter's own
// error gives way to the context's, when the context ended.
func (c *Client) wait(ctx context.Context) error {
	if c.limiter == nil {
		return ctx.Err()
	}
	if err := c.limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("waiting for the rate limiter: %w", err)
	}
	return nil
}

// attemptSpec is what one attempt of a call sends and where its answer goes. (The call and its URL
// are parameters of their own: inside the struct, escape analysis would move both to the heap.)
type attemptSpec struct {
	fullPath   string // what errors show: the path the server saw
	body       []byte
	out        any
	at         *Attempt // nil without observers
	idempotent bool
}

// attempt sends the request once and decodes the response, all within the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, cl *call, u *url.URL, a attemptSpec) attemptResult {
	fullPath, body, out, at, idempotent := a.fullPath, a.body, a.out, a.at, a.idempotent
	var res attemptResult
	actx := ctx
	if attemptTimerNeeded(ctx, c.timeout) {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, wt, err := c.newRequest(actx, cl.method, u, body, idempotent)
	if err != nil {
		res.err, res.final = fmt.Errorf("probonus: %s %s: %w", cl.method, fullPath, err), true
		return res
	}
	res.req = req
	if cl.fresh {
		// a caching proxy must not answer the second look with the first one's history
		req.Header["Cache-Control"] = []string{"no-cache"}
	}
	if at != nil {
		for k, v := range at.Header {
			req.Header[k] = v
		}
	}
	if !cl.noAuth && c.auth != nil && c.sameOrigin(req.URL) {
		if err := c.auth.Authenticate(ctx, req); err != nil {
			// nothing was sent; the login or refresh behind it already had its own retries
			res.err, res.final = fmt.Errorf("probonus: %s %s: %w", cl.method, fullPath, err), true
			return res
		}
	}
	if at != nil {
		at.Start = time.Now() // the attempt's duration is the request's, not the wait for a token
	}
	if !idempotent {
		// a RefillOnce's lease is confirmed last, and bounds the attempt
		if gate, _ := ctx.Value(writeGateKey{}).(writeGate); gate != nil {
			until, err := gate(ctx)
			if err != nil {
				res.err, res.final = err, true
				return res
			}
			if dl, ok := req.Context().Deadline(); !until.IsZero() && (!ok || dl.After(until)) {
				gctx, cancel := context.WithDeadline(req.Context(), until)
				defer cancel()
				req = req.WithContext(gctx)
				res.req = req
			}
		}
	}
	if cl.onSend != nil {
		cl.onSend()
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if redirect := (*redirectError)(nil); errors.As(err, &redirect) {
			res.err = fmt.Errorf("probonus: %s %s: %w", cl.method, fullPath, redirect)
			res.final, res.written = !redirect.applied, redirect.applied
			return res
		}
		res.written = idempotent || c.mayBeWritten(wt, err)
		res.err = fmt.Errorf("probonus: %s %s: %w", cl.method, fullPath, withoutLocation(unwrapURLError(err)))
		return res
	}
	res.written = true
	drained := false // the body was read to its end: nothing is left to drain
	defer func() {
		if drained {
			_ = resp.Body.Close()
		} else {
			drainAndClose(resp.Body)
		}
	}()
	res.status = resp.StatusCode
	if at != nil {
		res.requestID = resp.Header.Get("X-Request-Id") // for the observers only
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// the credentials are removed here, before observers, the log or the caller see the error
		secrets := c.attemptSecrets(at, cl, req, resp.Request)
		res.apiErr = parseError(resp, cl.method, fullPath, secrets)
		if loc, err := resp.Location(); err == nil && !idempotent && resp.StatusCode >= 300 && resp.StatusCode <= 399 {
			loc.RawQuery, loc.User, loc.Fragment = "", nil, ""
			res.apiErr.Detail = secrets.redact("a write follows no redirect; the server sent it to " + loc.String())
		}
		res.err = res.apiErr
		return res
	}
	var transport bool
	if transport, drained, err = c.decode(resp, cl, fullPath, out, req, at); err != nil {
		res.err = err
		if transport {
			res.status = 0 // the body broke off: a connection error, not a bad body
		}
	}
	return res
}

// outgoing is what an attempt's request is made of besides the http.Request itself, in one
// allocation instead of one per part. Nothing in it is shared with another attempt or another
// call, so a transport or an Authenticator may change any of it, header values included.
type outgoing struct {
	url    url.URL
	header [3]string // the values of Accept, User-Agent and Content-Type
	body   bytes.Reader
}

// outgoingWrite is a write's outgoing, with its wire trace in the same allocation.
type outgoingWrite struct {
	outgoing
	wire wireTrace
}

// newRequest makes what http.NewRequestWithContext would for u and body, with the client's
// constant headers, without printing u and parsing it back. Only a write needs to know whether it
// was sent (reads are resent either way): it gets a wire trace, returned. A write has no GetBody:
// then nothing below the SDK can send a write twice (not net/http's HTTP/2 transport after a
// stream reset, nor its HTTP/1 replay of a request it thinks safe, one with an Idempotency-Key
// header, nor a retrying RoundTripper a user wrapped around it), and a 307 or 308 comes back as an
// answer instead of being followed. Only send decides whether a write goes out again.
func (c *Client) newRequest(ctx context.Context, method string, u *url.URL, body []byte, idempotent bool) (*http.Request, *wireTrace, error) {
	if !validMethod(method) {
		return nil, nil, fmt.Errorf("net/http: invalid method %q", method)
	}
	var o *outgoing
	var wt *wireTrace
	if idempotent {
		o = &outgoing{}
	} else {
		ow := &outgoingWrite{}
		o, wt = &ow.outgoing, &ow.wire
		ctx = wt.start(ctx, c.netHTTPTransport())
	}
	o.url = *u
	if i := strings.LastIndexByte(o.url.Host, ':'); i > strings.LastIndexByte(o.url.Host, ']') && i == len(o.url.Host)-1 {
		o.url.Host = o.url.Host[:i] // "host:" means the default port, as net/http reads it
	}
	o.header = [3]string{"application/json", c.userAgent, "application/json"}
	// Full slice expressions: an append to one header's values copies them away from the others.
	h := make(http.Header, 4)
	h["Accept"] = o.header[0:1:1]
	h["User-Agent"] = o.header[1:2:2]
	r := http.Request{Method: method, URL: &o.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Host: o.url.Host}
	if body != nil {
		h["Content-Type"] = o.header[2:3:3]
		r.ContentLength = int64(len(body))
		o.body.Reset(body)
		// io.NopCloser around a *bytes.Reader is a body net/http knows to be in memory: it writes
		// it with the headers, in one write, instead of flushing the headers first.
		r.Body = io.NopCloser(&o.body)
		if idempotent {
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		if len(body) == 0 {
			r.Body, r.GetBody = http.NoBody, nil
		}
	}
	return r.WithContext(ctx), wt, nil
}

// validMethod reports whether method is an HTTP token, as net/http requires.
func validMethod(method string) bool {
	if method == "" {
		return false
	}
	for i := 0; i < len(method); i++ {
		switch c := method[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// attemptTimerNeeded reports whether an attempt needs a timer of its own: not when the caller's
// context already ends before the attempt timeout would. context.WithTimeout would then only wrap
// the caller's deadline, at the price of a context, a cancel func and the transport's
// registration with it: the largest cost of a call.
func attemptTimerNeeded(ctx context.Context, timeout time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > timeout
}
