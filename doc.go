// Package probonus is a typed client for the ProBonus loyalty API (Carbis, for restaurants on
// r_keeper): sign guests up by a group's template, find them by phone, credit bonuses, show their
// transactions, balances with the burn schedule, and checks down to dishes.
//
// # Getting started
//
// Make one Client and share it; it is safe for concurrent use.
//
//	client, err := probonus.New(
//		probonus.WithBaseURL("http://127.0.0.1:11030"), // the server's root; the SDK adds /api/v0
//		probonus.WithAPIKey(os.Getenv("PROBONUS_API_KEY")),
//	)
//	if err != nil {
//		return err
//	}
//	guest, created, err := client.Accounts.FindOrInsert(ctx, probonus.NewAccount{GroupID: 3, Phone: "+7 (999) 123-45-67"})
//
// The services follow the vendor's integration guide: AccountGroups.List, Accounts.InsertByTemplate,
// Accounts.FindByPhone, Accounts.Refill, Accounts.Transactions, Accounts.LastTransactions,
// Accounts.Update, Accounts.BalanceExtended and Checks.GetByID. Accounts.FindOrInsert is the
// race-safe sign-up (find, else insert; a concurrent sign-up gives the same account), and
// Accounts.RefillOnce credits exactly once per account, reason and amount. FromEnv reads the server and credentials from
// PROBONUS_BASE_URL, PROBONUS_API_KEY or PROBONUS_LOGIN and PROBONUS_PASSWORD.
//
// # Authentication
//
// ProBonus accepts a permanent API token (WithAPIKey, sent as X-API-Key) or a login and password
// (WithLogin); New refuses a client with neither unless WithoutAuth says so. With WithLogin the
// client logs in on the first request, reads the token's lifetime on its own clock (expiresIn, or
// the JWT's exp minus its iat, so a skewed server clock does no harm), refreshes it shortly before
// it expires and whenever the
// server rejects it (a 401, or a 403 / 422 saying the credentials are invalid), replays the
// rejected request once, and logs in again when a refresh fails. However many goroutines need a
// new token at once, one request goes out; each waits only as long as its own context allows.
// Anything else (a token from a vault) plugs in through WithAuth and the Authenticator interface.
//
// Credentials are sent only to the base URL's scheme, host and port. A redirect to anywhere else
// carries none (an Authenticator's own headers included), a login is never redirected there, and a
// redirect that would re-send a body there is refused. Keys, passwords and tokens appear in no
// error, log line or String(). A failed login is an *AuthError matching ErrUnauthorized only.
//
// # Errors
//
// Every failure is typed. Bad input is an *InputError (errors.Is ErrInvalidInput) naming the field,
// returned before anything is sent: an invalid phone, a zero id, a non-positive amount or one with a
// fraction of a kopeck, an inverted period. A non-2xx answer is an *APIError with the status, the
// FastAPI detail, the 422 validation items, Retry-After and X-Request-Id; branch on it with the
// sentinels:
//
//	switch {
//	case errors.Is(err, probonus.ErrNotFound):      // 404: no such guest or check
//	case errors.Is(err, probonus.ErrAccountExists): // 400 to a sign-up: the phone has an account
//	case errors.Is(err, probonus.ErrBadRequest):    // 400: e.g. the group has no template
//	case errors.Is(err, probonus.ErrValidation):   // 422: the server refused a field
//	case errors.Is(err, probonus.ErrUnauthorized): // 401, a 403 about credentials, a failed login
//	case errors.Is(err, probonus.ErrRateLimited):  // 429, after the retries
//	case errors.Is(err, probonus.ErrServer):       // 5xx, after the retries
//	}
//
// A failed login or refresh is an *AuthError; a 2xx body that cannot be decoded is a *DecodeError,
// and so is a typed method's 2xx whose body is empty or null (no account is not an account 0);
// a body over the cap (WithMaxResponseSize, 32 MiB by default) matches ErrResponseTooLarge. A
// context's error stays reachable: errors.Is(err, context.DeadlineExceeded).
//
// # Retries and rate limits
//
// One rule decides retries. A GET (and a login or token refresh) is retried on connection errors,
// timeouts, 429, 502, 503 and 504. A POST (a refill, a sign-up, an update) is resent only when the
// server certainly did not act on it: nothing was written (a refused connection, a failed TLS
// handshake or proxy CONNECT), or the server answered 429. A POST that was written and got no
// definitive answer (the connection broke, a 2xx body broke off or stalled, the caller's context
// ended, a 5xx came) is never resent, and its error matches ErrOutcomeUnknown, with the cause still
// reachable:
//
//	res, err := client.Accounts.Refill(ctx, refill)
//	if errors.Is(err, probonus.ErrOutcomeUnknown) {
//		// maybe applied: look at the last transactions before crediting again
//	}
//
// AccountsService.RefillOnce does that looking itself: it credits exactly once per account,
// reason and amount, serialised per key across every Client of the process (across a fleet with
// WithRefillCoordinator and the probonusredis module), waits for a remembered uncertain send to
// settle before it looks, and documents the one risk it cannot remove.
//
// Retry-After (seconds or an HTTP date) is honoured up to RetryPolicy.MaxRetryAfter; a longer one
// is not retried early but returned (APIError.RetryAfter) for the caller to decide. Otherwise the
// wait doubles from MinBackoff with jitter. Every wait ends with the context, and a wait that would
// outlast the context's deadline is not started. WithRetry sets the policy
// (RetryPolicy{MaxAttempts: 1} turns retries off); WithTimeout bounds each attempt.
//
// WithRateLimit paces the client with a token bucket (golang.org/x/time/rate); WithLimiter takes any
// Limiter, such as one shared by a fleet of processes. The limiter is waited on before every
// attempt, retries and token refreshes included.
//
// # Money, phones and time
//
// Amounts are Amount, an exact decimal (github.com/shopspring/decimal) that reads a JSON number or a
// string ("150.50", as Pydantic v2 writes it) and never passes through a float64. A bonus is
// computed with [Amount.Percent] or [Amount.Mul], which round the exact result once, to the
// kopeck, by the [RoundingMode] the caller names (RoundHalfUp, as receipts round; RoundHalfEven;
// RoundDown, never above the rate; ...):
//
//	bonus, err := total.Percent(account.Level.BonusPercent, probonus.RoundHalfUp) // 5% of 1234.50: 61.73
//
// Phones are normalised with NormalizePhone (github.com/nyaruka/phonenumbers): "+7 (999) 123-45-67",
// "8 999 123 45 67" and "9991234567" are all sent as "79991234567"; WithPhoneRegion sets the
// region of numbers without a country code. Timestamps are Time: "Z", offsets and fractional seconds are
// read as written, and a timestamp without an offset (the server's wall-clock time) is read in the
// client's location, Moscow by default (WithLocation). Birth and burn dates are Date.
//
// # Testing your code
//
// Package probonustest is an in-memory ProBonus server: point the client at it and seed it.
//
//	srv := probonustest.NewServer(t)
//	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567", Balance: "150"})
//	client, _ := probonus.New(srv.ClientOptions()...) // its URL and key, with quick test settings
//	// ... run your code, then assert on srv.Balance(id), srv.Requests(), ...
//
// It speaks both FastAPI flavours, both authentication modes (with short-lived tokens for refresh
// tests), and injects faults (FailNext, Inject with a Fault: a reset, a 500 after applying, a 2xx
// whose body breaks off or stalls); srv.Refills(id) and srv.Transactions(id) show what it applied,
// and its Path constants name the routes. To mock at the HTTP level instead, give the client
// an *http.Client whose Transport is an httpmock.MockTransport (github.com/jarcoal/httpmock), through
// WithHTTPClient.
//
// # Observing
//
// WithObserver takes an Observer that sees each call, each attempt (retries and replays marked),
// and each login and refresh, with path templates only: never a credential, a body or a query
// value (a Client.Do call shows no path unless its context names a template: WithPathTemplate).
// WithLogger is one such observer. The module github.com/probonus-go/probonus/probonusotel
// turns it into OpenTelemetry spans and metrics.
//
// # Calling other endpoints
//
// Client.Do sends any request through the same path (limiter, credentials, timeout, retries, error
// parsing) and decodes the JSON answer into any value; a map[string]any keeps numbers exact as
// json.Number.
//
//	var out map[string]any
//	err := client.Do(ctx, "GET", "/api/v0/some/endpoint", url.Values{"id": {"1"}}, nil, &out)
package probonus
