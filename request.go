package probonus

import (
	"context"
	"errors"
	"fmt"
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
	ctx, obs := c.observe(ctx, cl)
	defer func() { obs.end(ctx, err) }()
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
		at, actx := obs.attemptStart(ctx, replaying, retried && !replaying, lastReason)
		res := c.attempt(actx, cl, &u, attemptSpec{fullPath: fullPath, body: body, out: out, at: at, idempotent: idempotent})
		d := decide(c.retryInput(ctx, res, attempt, idempotent, !replayed && !res.final && c.mayReplay(cl, res)))
		replaying = false
		reason := ""
		if d.retry || d.replay {
			reason = d.reason
		}
		lastReason = obs.attemptEnd(actx, at, res, reason)
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
