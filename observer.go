package probonus

import (
	"context"
	"net/http"
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
	Operation string    // e.g. "Accounts.Refill", "AccountGroups.List", "Auth.Login", "Do"
	Method    string    // HTTP method
	Path      string    // path template below the base URL, never a query
	Host      string    // the base URL's host name
	Port      int       // the base URL's port (80 or 443 when it names none)
	Start     time.Time // when the call began

	// Set before CallEnd.
	Attempts       int           // attempts sent or tried, replays after a token refresh included
	Duration       time.Duration // the whole call, backoff waits included
	Err            error         // the final error; nil on success
	OutcomeUnknown bool          // a write that may have been applied (errors.Is(Err, ErrOutcomeUnknown))
}

// Attempt is one HTTP request of a call.
type Attempt struct {
	Call   *Call       // the call it belongs to
	Number int         // 1 for the first attempt; a replay after a token refresh counts as one more
	Replay bool        // sent again once after the server rejected the credentials and they were renewed
	Retry  bool        // sent because the attempt before it failed in a retryable way
	Header http.Header // headers to add to the request (same origin only); never holds a credential
	Start  time.Time   // when the attempt began

	// Set before AttemptEnd.
	StatusCode  int           // the response's status; 0 when none arrived
	Duration    time.Duration // from sending to the end of the body (or the failure)
	Err         error         // the attempt's error; nil on success
	RetryReason string        // why another attempt follows ("rate limited (429)", ...); "" when none does
}
