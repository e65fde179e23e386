package probonus

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Observer sees the client's work, the way pgx's QueryTracer does: each logical call (one method
// call, with all its attempts), each attempt (one HTTP request), and each login and token refresh
// (themselves calls, named "Auth.Login" and "Auth.Refresh", made from inside the attempt that needed
// the token). Pass one or more to WithObserver; they are called in order, and must be safe for
// concurrent use.
//
// An Observer never sees a credential, a request or response body, or a query value: paths are
// templates such as "/api/v0/accounts/find_by_phone", and errors are described by Call.Err's and
// Attempt.Err's types and sentinels. Use errors.Is on them; do not log their text where personal data
// must not go (an *APIError's Detail may echo what the server was sent).
type Observer interface {
	// CallStart is called when a call begins. The context it returns is the one the call's attempts
	// and CallEnd receive, so an observer can parent attempt spans on a call span.
	CallStart(ctx context.Context, c *Call) context.Context
	// CallEnd is called once when the call ends, with c's result fields set.
	CallEnd(ctx context.Context, c *Call)
	// AttemptStart is called before each attempt is sent; the context it returns is handed to
	// AttemptEnd. Headers it sets in a.Header (a W3C traceparent, say) are added to the request, and
	// only to a request for the base URL's origin; they never follow a redirect to another origin.
	AttemptStart(ctx context.Context, a *Attempt) context.Context
	// AttemptEnd is called once when the attempt ends, with a's result fields set.
	AttemptEnd(ctx context.Context, a *Attempt)
}

// Call is one logical call as an Observer sees it.
type Call struct {
	Operation string // e.g. "Accounts.Refill", "AccountGroups.List", "Auth.Login", "Do"
	Method    string // HTTP method
	// Path is the path template below the base URL, never a query. For Client.Do it is "" (the
	// caller's literal path may hold a phone or an id), unless the caller named a template with
	// WithPathTemplate.
	Path     string
	BasePath string    // the base URL's own path (a proxy's prefix), "" for none: the server sees BasePath+Path
	Scheme   string    // the base URL's scheme, "http" or "https"
	Host     string    // the base URL's host name
	Port     int       // the base URL's port (80 or 443 when it names none)
	Start    time.Time // when the call began

	// Set before CallEnd.
	Attempts       int           // attempts sent or tried, replays after a token refresh included
	Duration       time.Duration // the whole call, backoff waits included
	Err            error         // the final error; nil on success
	OutcomeUnknown bool          // a write that may have been applied (errors.Is(Err, ErrOutcomeUnknown))
	// Handled is true when Err is an answer the SDK's own method expected and handled itself, so
	// that its caller does not get it as an error: the 404 of FindOrInsert's find of a guest who
	// is not signed up yet. WithLogger logs such a call at Debug, not as a failure.
	Handled bool

	absentOK bool // the method handles a 404 itself: Handled when Err is one
}

// Attempt is one HTTP request of a call.
type Attempt struct {
	Call   *Call // the call it belongs to
	Number int   // 1 for the first attempt; a replay after a token refresh counts as one more
	Replay bool  // sent again once after the server rejected the credentials and they were renewed
	Retry  bool  // sent because the attempt before it failed in a retryable way
	// SentBecause is, for a retry or a replay, the RetryReason of the attempt before it; "" for the first.
	SentBecause string
	Header      http.Header // headers to add to the request (same origin only); never holds a credential
	Start       time.Time   // when the attempt began

	// Set before AttemptEnd.
	StatusCode  int           // the response's status; 0 when none arrived
	Duration    time.Duration // from sending to the end of the body (or the failure)
	Err         error         // the attempt's error; nil on success
	RetryReason string        // why another attempt follows ("rate limited (429)", ...); "" when none does
	RequestID   string        // the response's X-Request-Id, when it had one
}

// observing is a call as the client's observers see it. Without observers it is the zero value,
// and each of its methods does nothing, at no cost: the request path calls them unconditionally.
type observing struct {
	observers []Observer
	call      *Call
}

// observe tells the observers a call of cl begins.
func (c *Client) observe(ctx context.Context, cl *call) (context.Context, observing) {
	if len(c.observers) == 0 {
		return ctx, observing{}
	}
	port, _ := strconv.Atoi(portOf(c.baseURL))
	path := cl.path
	if cl.op == opDo {
		path = cl.template // the caller's literal path may hold personal data
	}
	o := observing{c.observers, &Call{Operation: cl.op, Method: cl.method, Path: path, BasePath: c.baseURL.Path,
		Scheme: c.baseURL.Scheme, Host: c.baseURL.Hostname(), Port: port, Start: time.Now(), absentOK: cl.absentOK}}
	for _, ob := range o.observers {
		ctx = ob.CallStart(ctx, o.call)
	}
	return ctx, o
}

// end tells the observers the call ended with err.
func (o observing) end(ctx context.Context, err error) {
	if o.call == nil {
		return
	}
	o.call.Duration = time.Since(o.call.Start)
	o.call.Err = err
	o.call.OutcomeUnknown = errors.Is(err, ErrOutcomeUnknown)
	o.call.Handled = o.call.absentOK && errors.Is(err, ErrNotFound)
	for _, ob := range o.observers {
		ob.CallEnd(ctx, o.call)
	}
}

// attemptStart tells the observers an attempt begins: a replay, a retry, sent because of what the
// attempt before it ended with. Without observers: nil and ctx.
func (o observing) attemptStart(ctx context.Context, replay, retry bool, because string) (*Attempt, context.Context) {
	if o.call == nil {
		return nil, ctx
	}
	o.call.Attempts++
	at := &Attempt{Call: o.call, Number: o.call.Attempts, Replay: replay, Retry: retry, SentBecause: because,
		Header: http.Header{}, Start: time.Now()}
	for _, ob := range o.observers {
		ctx = ob.AttemptStart(ctx, at)
	}
	return at, ctx
}

// attemptEnd tells the observers at ended with res, followed by another attempt for reason ("" for
// none), which it returns: the next attempt's SentBecause.
func (o observing) attemptEnd(ctx context.Context, at *Attempt, res attemptResult, reason string) string {
	if at == nil {
		return ""
	}
	at.RetryReason = reason
	at.Duration = time.Since(at.Start)
	at.StatusCode = res.status
	at.Err = res.err
	at.RequestID = res.requestID
	for _, ob := range o.observers {
		ob.AttemptEnd(ctx, at)
	}
	return reason
}

// addHeaders adds the headers the observers set to req; nothing for a nil Attempt.
func (a *Attempt) addHeaders(req *http.Request) {
	if a == nil {
		return
	}
	for k, v := range a.Header {
		req.Header[k] = v
	}
}

// begin restarts the attempt's clock once its request is ready to go; nothing for a nil Attempt.
func (a *Attempt) begin() {
	if a != nil {
		a.Start = time.Now()
	}
}

// logObserver is WithLogger: the client's log lines, written as an Observer like any other.
type logObserver struct{ l *slog.Logger }

func (o logObserver) CallStart(ctx context.Context, _ *Call) context.Context       { return ctx }
func (o logObserver) AttemptStart(ctx context.Context, _ *Attempt) context.Context { return ctx }

func (o logObserver) AttemptEnd(ctx context.Context, a *Attempt) {
	level := slog.LevelDebug
	if a.RetryReason != "" {
		level = slog.LevelWarn
	}
	if !o.l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs, slog.String("op", a.Call.Operation), slog.String("method", a.Call.Method))
	if a.Call.Path != "" {
		attrs = append(attrs, slog.String("path", a.Call.Path))
	}
	attrs = append(attrs, slog.Int("status", a.StatusCode), slog.Duration("duration", a.Duration), slog.Int("attempt", a.Number))
	if a.Replay {
		attrs = append(attrs, slog.Bool("replay", true))
	}
	if a.Err != nil {
		attrs = append(attrs, slog.String("error", a.Err.Error()))
	}
	if a.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", a.RequestID))
	}
	if a.RetryReason != "" {
		attrs = append(attrs, slog.String("retry", a.RetryReason))
	}
	o.l.LogAttrs(ctx, level, "probonus request", attrs...)
}

// CallEnd warns of a failed call, and only of what the caller gets as an error: an answer the SDK
// handled itself (Call.Handled) is logged at Debug.
func (o logObserver) CallEnd(ctx context.Context, c *Call) {
	level, msg := slog.LevelWarn, "probonus call failed"
	if c.Handled {
		level, msg = slog.LevelDebug, "probonus call handled"
	}
	if c.Err == nil || !o.l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("op", c.Operation), slog.String("method", c.Method))
	if c.Path != "" {
		attrs = append(attrs, slog.String("path", c.Path))
	}
	attrs = append(attrs, slog.Int("attempts", c.Attempts), slog.Duration("duration", c.Duration),
		slog.Bool("outcome_unknown", c.OutcomeUnknown), slog.String("error", c.Err.Error()))
	o.l.LogAttrs(ctx, level, msg, attrs...)
}

// pathTemplateKey carries WithPathTemplate's template in a context.
type pathTemplateKey struct{}

// WithPathTemplate names the path template of the Client.Do calls made with the returned context,
// e.g. "/api/v0/accounts/{account_id}/cards", for observers (Call.Path, and so probonusotel's
// url.template and span name, and the log's path). Without it a Do call's path is not shown to
// observers at all: the literal path may hold a phone or an id, and a metric's attribute must not
// take one value per guest. The typed methods always show their own template and ignore it. The
// template is not checked against the path: give one without personal data.
func WithPathTemplate(ctx context.Context, template string) context.Context {
	return context.WithValue(ctx, pathTemplateKey{}, template)
}
