package probonus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

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

// attemptSpec is what one attempt of a call sends and where its answer goes. (The call and its URL
// are parameters of their own: inside the struct, escape analysis would move both to the heap.)
type attemptSpec struct {
	fullPath   string // what errors show: the path the server saw
	body       []byte
	out        any
	at         *Attempt // nil without observers
	idempotent bool
}

// attempt sends the request once and reads its answer, all within the per-attempt timeout: build
// the request, authenticate it, let a write's gate have the last word, send, read the answer.
func (c *Client) attempt(ctx context.Context, cl *call, u *url.URL, a attemptSpec) attemptResult {
	actx := ctx
	if attemptTimerNeeded(ctx, c.timeout) {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, wt, err := c.newRequest(actx, cl.method, u, a.body, a.idempotent)
	if err != nil {
		return c.notSent(cl, a, err)
	}
	if cl.fresh {
		// a caching proxy must not answer the second look with the first one's history
		req.Header["Cache-Control"] = []string{"no-cache"}
	}
	a.at.addHeaders(req)
	if !cl.noAuth && c.auth != nil && c.sameOrigin(req.URL) {
		if err := c.auth.Authenticate(ctx, req); err != nil {
			// nothing was sent; the login or refresh behind it already had its own retries
			return c.notSent(cl, a, err)
		}
	}
	a.at.begin() // the attempt's duration is the request's, not the wait for a token
	if cl.gate != nil && !a.idempotent {
		until, lost, err := cl.gate(ctx)
		if err != nil {
			return attemptResult{err: err, final: true, req: req} // it says what was not sent
		}
		var cancel context.CancelFunc
		req, cancel = boundedBy(req, until, lost)
		defer cancel()
	}
	if cl.onSend != nil {
		cl.onSend()
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.unanswered(cl, a, req, wt, err)
	}
	return c.answered(cl, a, req, resp)
}

// notSent is an attempt that failed before its request was handed to the transport, in a way
// another attempt would repeat.
func (c *Client) notSent(cl *call, a attemptSpec, err error) attemptResult {
	return attemptResult{err: fmt.Errorf("probonus: %s %s: %w", cl.method, a.fullPath, err), final: true}
}

// unanswered is an attempt whose request got no response: whether it may have been written
// decides what the retry decision may do.
func (c *Client) unanswered(cl *call, a attemptSpec, req *http.Request, wt *wireTrace, err error) attemptResult {
	res := attemptResult{req: req}
	if redirect := (*redirectError)(nil); errors.As(err, &redirect) {
		res.err = fmt.Errorf("probonus: %s %s: %w", cl.method, a.fullPath, redirect)
		res.final, res.written = !redirect.applied, redirect.applied
		return res
	}
	res.written = a.idempotent || c.mayBeWritten(wt, err)
	res.err = fmt.Errorf("probonus: %s %s: %w", cl.method, a.fullPath, withoutLocation(unwrapURLError(err)))
	return res
}

// answered reads a response: an error answer becomes an *APIError with the attempt's secrets
// removed, a success is decoded into a.out.
func (c *Client) answered(cl *call, a attemptSpec, req *http.Request, resp *http.Response) attemptResult {
	res := attemptResult{req: req, written: true, status: resp.StatusCode}
	drained := false // the body was read to its end: nothing is left to drain
	defer func() {
		if drained {
			_ = resp.Body.Close()
		} else {
			drainAndClose(resp.Body)
		}
	}()
	if a.at != nil {
		res.requestID = resp.Header.Get("X-Request-Id") // for the observers only
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// the credentials are removed here, before observers, the log or the caller see the error
		secrets := c.attemptSecrets(a.at, cl, req, resp.Request)
		res.apiErr = parseError(resp, cl.method, a.fullPath, secrets)
		if loc, err := resp.Location(); err == nil && !a.idempotent && resp.StatusCode >= 300 && resp.StatusCode <= 399 {
			loc.RawQuery, loc.User, loc.Fragment = "", nil, ""
			res.apiErr.Detail = secrets.Redact("a write follows no redirect; the server sent it to " + loc.String())
		}
		res.err = res.apiErr
		return res
	}
	var transport bool
	var err error
	if transport, drained, err = c.decode(resp, cl, a.fullPath, a.out, req, a.at); err != nil {
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

// boundedBy is req ending by until (unless zero) and as soon as lost closes (unless nil): a
// RefillOnce's attempt never outlives its lease.
func boundedBy(req *http.Request, until time.Time, lost <-chan struct{}) (*http.Request, context.CancelFunc) {
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); !until.IsZero() && (!ok || dl.After(until)) {
		ctx, cancel = context.WithDeadline(ctx, until)
	}
	if lost != nil {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		go func(ctx context.Context) {
			select {
			case <-lost:
				stop()
			case <-ctx.Done(): // the attempt ended (or its deadline did)
			}
		}(ctx)
		prev := cancel
		cancel = func() { stop(); prev() }
	}
	if ctx == req.Context() {
		return req, cancel
	}
	return req.WithContext(ctx), cancel
}
