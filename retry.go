package probonus

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says how often and how patiently a request is retried. Zero fields take the defaults.
type RetryPolicy struct {
	MaxAttempts   int           // attempts in all, the first included; default 3; 1 turns retries off
	MinBackoff    time.Duration // the first backoff; default 250ms, doubled per retry, with jitter
	MaxBackoff    time.Duration // the longest backoff; default 5s
	MaxRetryAfter time.Duration // a server's Retry-After is honoured up to this; default 30s
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := defaultRetryPolicy
	if p.MaxAttempts > 0 {
		d.MaxAttempts = p.MaxAttempts
	}
	if p.MinBackoff > 0 {
		d.MinBackoff = p.MinBackoff
	}
	if p.MaxBackoff > 0 {
		d.MaxBackoff = p.MaxBackoff
	}
	if p.MaxRetryAfter > 0 {
		d.MaxRetryAfter = p.MaxRetryAfter
	}
	return d
}

// decision is what the retry rules say about one attempt.
type decision struct {
	retry   bool          // send again, after wait
	replay  bool          // send again at once, with the credentials renewed; not a retry
	unknown bool          // a write that may have been applied without a definitive answer: ErrOutcomeUnknown
	wait    time.Duration // the backoff before a retry
	reason  string        // why, for observers and the log
}

// retryInput is everything the retry decision looks at after an attempt: plain values, so the
// decision is a pure function, table-tested.
type retryInput struct {
	idempotent, written, ctxDone bool
	final                        bool // the attempt failed before sending, in a way another would repeat
	replayable                   bool // the credentials were rejected and renewed, and the call was not replayed yet
	status                       int
	err                          error
	attempt, maxAttempts         int
	backoff                      time.Duration // the wait before another attempt, jitter included
	retryAfter, maxRetryAfter    time.Duration
	hasDeadline                  bool
	untilDeadline                time.Duration
}

// decide is the whole retry decision: shouldRetry's rule for the attempt's outcome, then the
// limits on it (attempts left, a Retry-After longer than the policy honours, a deadline that ends
// before the next attempt), and the replay after renewed credentials, which is not a retry.
func decide(in retryInput) decision {
	switch {
	case in.final:
		return decision{}
	case in.replayable:
		return decision{replay: true, reason: "credentials rejected: replaying once with new ones"}
	}
	d := shouldRetry(in.idempotent, in.status, in.err, in.written, in.ctxDone)
	switch {
	case !d.retry:
	case in.attempt >= in.maxAttempts:
		d.retry, d.reason = false, d.reason+": no attempts left"
	case in.retryAfter > in.maxRetryAfter:
		// Retrying sooner than the server asked helps no one: the caller decides.
		d.retry, d.reason = false, fmt.Sprintf("the server asks to wait %v, more than MaxRetryAfter", in.retryAfter)
	case in.hasDeadline && in.untilDeadline < in.backoff:
		d.retry, d.reason = false, d.reason+": the deadline ends before the next attempt"
	default:
		d.wait = in.backoff
	}
	return d
}

// shouldRetry is the rule for an attempt's outcome. An idempotent request (GET, and login and refresh) is
// retried on connection errors and on 429, 502, 503 and 504. A write is resent only when the
// server certainly did not act on it: it was never written, or the server answered 429. A write
// that was written and then got no definitive answer (the connection broke, the body broke off,
// the time ran out, or a 5xx came) is never resent and its outcome is unknown.
func shouldRetry(idempotent bool, status int, err error, written, ctxDone bool) decision {
	switch {
	case err == nil:
		return decision{}
	case !idempotent && written && (status == 0 || status >= 500 || status >= 200 && status <= 299):
		// a 2xx whose body could not be read or decoded: applied, but with what result?
		return decision{unknown: true, reason: "not resent: the server may have applied it"}
	case ctxDone:
		return decision{reason: "context done"}
	case status == 0 && idempotent:
		return decision{retry: true, reason: "connection error"}
	case status == 0:
		return decision{retry: true, reason: "not sent: nothing reached the server"}
	case status == http.StatusTooManyRequests:
		return decision{retry: true, reason: "rate limited (429)"}
	case idempotent && (status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout):
		return decision{retry: true, reason: fmt.Sprintf("server unavailable (%d)", status)}
	}
	return decision{}
}

// backoff is the wait before retry number attempt: the server's Retry-After when it gave one, else
// exponential backoff with jitter.
func (c *Client) backoff(attempt int, apiErr *APIError) time.Duration {
	p := c.retry
	if apiErr != nil && apiErr.RetryAfter > 0 {
		return apiErr.RetryAfter
	}
	d := p.MinBackoff << min(attempt-1, 20)
	if d <= 0 || d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	return d/2 + rand.N(d/2+1) // equal jitter: at least half the step, so retries spread but still back off
}

// maxRetryAfterSeconds bounds a Retry-After (about 31 years) so it fits a time.Duration; a long
// one, in seconds or as a date, is kept as long, and the client does not retry before it.
const maxRetryAfterSeconds = 1e9

// parseRetryAfter reads Retry-After in seconds or as an HTTP date; zero when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs != secs {
			return 0
		}
		return time.Duration(min(secs, maxRetryAfterSeconds) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfterSeconds*time.Second)
		}
	}
	return 0
}
