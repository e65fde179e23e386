// Package probonus is a typed client for the ProBonus loyalty API (Carbis, for restaurants on
// r_keeper): sign guests up from a group's template, find them by phone, credit bonuses, show their
// transactions, balances with the burn schedule, and checks down to dishes, without hand-writing
// net/http code. Money is an exact decimal, phones are normalised, timestamps are read in the
// restaurant's time zone, every failure is a typed error, and retries never send a bonus credit
// twice.
//
// This is the package guide: configuration, authentication, errors, retries and crediting once,
// observability, and testing with the in-memory server. The repository's README is the front page,
// and its docs folder covers the command-line tool, the fake server for teams that do not write
// Go, the wire model, fleets and performance.
//
// # Getting started
//
// Make one [Client] with [New] and share it; it is safe for concurrent use.
//
//	client, err := probonus.New(
//		probonus.WithBaseURL("http://127.0.0.1:11030"), // the server's root; the SDK adds /api/v0
//		probonus.WithAPIKey(os.Getenv("PROBONUS_API_KEY")),
//	)
//	if err != nil {
//		return err
//	}
//	guest, created, err := client.Accounts.FindOrInsert(ctx, probonus.NewAccount{
//		GroupID: 3, Phone: "+7 (999) 123-45-67", FirstName: probonus.Ptr("Анна"),
//	})
//
// Every operation of the vendor's integration guide has a method:
//
//   - /api/v0/account_groups/list: [AccountGroupsService.List]
//   - /api/v0/accounts/insert_by_template: [AccountsService.InsertByTemplate]
//   - /api/v0/accounts/find_by_phone: [AccountsService.FindByPhone] ([ErrNotFound] when absent)
//   - /api/v0/accounts/refill: [AccountsService.Refill], and [AccountsService.RefillOnce] to credit
//     exactly once per account, reason and amount
//   - /api/v0/accounts/transactions: [AccountsService.Transactions] (a period) and
//     [AccountsService.LastTransactions] (the last N, newest first)
//   - /api/v0/accounts/update: [AccountsService.Update]
//   - /api/v0/checks/get_by_id: [ChecksService.GetByID]
//   - /api/v0/accounts/get_balance_extended: [AccountsService.BalanceExtended]
//   - find, else sign up: [AccountsService.FindOrInsert], race-safe, so two requests for one new
//     guest give one account (by hand: FindByPhone; on ErrNotFound InsertByTemplate; on its
//     [ErrAccountExists] or [ErrOutcomeUnknown], FindByPhone again)
//   - anything else: [Client.Do]
//
// Group 3 is the vendor's test group with a template ("Шаблон для API"); [AccountGroupsService.List]
// marks the groups that have one.
//
// # Configuration
//
// [New] takes options; an option with a bad value (an empty key, an unparsable URL, a nil client)
// makes New return an error naming it, and New refuses a client with no credentials unless
// [WithoutAuth] says so. [FromEnv] returns the first three options below from the environment:
// WithBaseURL from PROBONUS_BASE_URL, and WithAPIKey from PROBONUS_API_KEY or WithLogin from
// PROBONUS_LOGIN and PROBONUS_PASSWORD; its error names a missing or conflicting variable, never
// a credential. The examples and the command-line tool use it:
//
//	opts, err := probonus.FromEnv(os.Getenv) // or FromEnv(nil)
//	client, err := probonus.New(opts...)
//
// The options, with their defaults:
//
//   - [WithBaseURL] (required): the server's root, e.g. http://127.0.0.1:11030; a proxy's path
//     prefix is kept; a path ending in /api/v0 is refused (the SDK adds it).
//   - [WithAPIKey]: a permanent API token, sent as X-API-Key; surrounding white space (a key
//     file's newline) is trimmed.
//   - [WithLogin]: a bearer token from /api/v0/auth/login, refreshed automatically.
//   - [WithAuth]: any [Authenticator] (a token from a vault, say).
//   - [WithoutAuth]: no credentials, on purpose (a test server, an authenticating proxy).
//   - [WithHTTPClient] (default a new http.Client): your transport, proxy or TLS settings; copied,
//     never changed.
//   - [WithTimeout] (30s): bounds each attempt, body included.
//   - [WithRetry] (3 attempts, 250ms–5s backoff, Retry-After up to 30s): RetryPolicy{MaxAttempts: 1}
//     turns retries off.
//   - [WithRateLimit] (unlimited): a token bucket for this client (golang.org/x/time/rate).
//   - [WithLimiter] (unlimited): any [Limiter], a Wait(ctx) error, e.g. one shared by a fleet.
//   - [WithLogger] (silent): a log/slog line per attempt at Debug; a retry and a failed call at
//     Warn, but an answer the SDK handles itself (FindOrInsert's 404 for a new guest) at Debug;
//     with the error and request id, and no header values, bodies or queries.
//   - [WithObserver] (none): an [Observer] of calls, attempts, logins and refreshes (see
//     Observability).
//   - [WithRefillLookback] (30 days): how far back RefillOnce looks for a credit.
//   - [WithRefillSettle] (the attempt timeout): how long RefillOnce waits after an uncertain send
//     before it looks again.
//   - [WithRefillCoordinator] (in memory): where RefillOnce's keys are locked; a fleet shares one.
//   - [WithUserAgent] (probonus-go/<version>): appended to the User-Agent.
//   - [WithLocation] ([Moscow], UTC+3): how timestamps without an offset are read, and times written.
//   - [WithPhoneRegion] (RU): the region of phone numbers written without a country code.
//   - [WithMaxResponseSize] (32 MiB): longer success bodies fail with [ErrResponseTooLarge].
//
// # Authentication
//
// ProBonus accepts a permanent API token ([WithAPIKey], the simplest; the vendor recommends it) or
// a login and password ([WithLogin]):
//
//	client, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey(key))
//	// or: logs in on the first request, refreshes before expiry and on rejection
//	client, err := probonus.New(probonus.WithBaseURL(base), probonus.WithLogin(login, password))
//
// With WithLogin, however many goroutines find the token expired at once, one refresh goes out and
// the others wait (each only as long as its own context allows). A request the server rejects for
// its credentials (401, or a 403 / 422 about them) is replayed once with a fresh token; a failed
// refresh is followed by one new login; a failed login is an [*AuthError] that matches
// [ErrUnauthorized] and no other status sentinel (a login refused with 404 is not "no such
// guest"; [AuthError].StatusCode keeps the status). A login or refresh is retried like a read (it
// changes nothing a retry could double). A token's lifetime is measured on this machine's clock
// from when it arrived (expiresIn, else a JWT's exp minus its iat), so a server clock hours off
// does not make every request refresh. Anything else (a token from a vault) plugs in through
// [WithAuth] and the [Authenticator] interface.
//
// Credentials go only to the base URL's scheme, host and port. A redirect to another origin gets
// none of the credential headers (nor an Authenticator's own, nor an observer's traceparent), a
// login or refresh is never redirected there, and a redirect that would re-send a request body
// there is refused. Credentials never reach errors, logs or fmt output; a secret a server echoes
// back is redacted as sent, URL-encoded, HTML-escaped or JSON-escaped (up to three layers deep),
// before any text is cut; the SDK and the CLI follow the same rules.
//
// # Errors
//
// Every failure is typed. Bad input is an [*InputError] (matching [ErrInvalidInput]) naming the
// field, returned before anything is sent: an invalid phone, a zero id, a non-positive amount or
// one with a fraction of a kopeck, an inverted period. A non-2xx answer is an [*APIError] with the
// status, FastAPI's detail, the 422 validation items, Retry-After and X-Request-Id:
//
//	acc, err := client.Accounts.FindByPhone(ctx, phone)
//	var input *probonus.InputError
//	var api *probonus.APIError
//	switch {
//	case errors.As(err, &input): // bad input, caught before sending: input.Field says which
//	case errors.Is(err, probonus.ErrOutcomeUnknown): // a write that may have been applied
//	case errors.Is(err, probonus.ErrNotFound): // 404: no such guest or check
//	case errors.Is(err, probonus.ErrAccountExists): // 400 to a sign-up: the phone has an account
//	case errors.Is(err, probonus.ErrUnauthorized): // 401, a 403 about credentials, a failed login
//	case errors.As(err, &api): // any other status: api.StatusCode, api.Detail, api.Validation
//	case errors.Is(err, context.DeadlineExceeded): // out of time
//	}
//
// The sentinels, matched with errors.Is ([Sentinels] lists them):
//
//   - [ErrBadRequest]: 400 (e.g. the group has no template)
//   - [ErrAccountExists]: InsertByTemplate's 400 for a phone that has an account (also ErrBadRequest)
//   - [ErrUnauthorized]: 401, a 403 or 422 about credentials, a failed login or refresh
//   - [ErrForbidden]: a 403 not about credentials
//   - [ErrNotFound]: 404
//   - [ErrValidation]: 422, the server refused a field
//   - [ErrRateLimited]: 429, after the retries
//   - [ErrServer]: 5xx, after the retries
//   - [ErrInvalidInput]: an [*InputError], nothing sent
//   - [ErrResponseTooLarge]: a success body over [WithMaxResponseSize]
//   - [ErrOutcomeUnknown]: a write without a definitive answer; the cause stays reachable too
//   - [ErrCoordinatorUnavailable]: RefillOnce's coordinator could not be reached; nothing was sent
//   - [ErrLeaseLost]: RefillOnce's lease on its key lapsed or was taken; nothing was sent
//
// [*APIError] reads FastAPI's detail in every shape (text, object, Pydantic v1 and v2 validation
// lists), rate limiters' {"error": ...}, plain-text 500s and HTML pages from a proxy. A failed
// login or refresh is an [*AuthError]; a 2xx body that cannot be decoded is a [*DecodeError], and
// so is a typed method's 2xx whose body is empty or null (no account is not an account 0). A
// context's error stays reachable: errors.Is(err, context.DeadlineExceeded).
//
// # Retries, idempotency and rate limits
//
// One rule decides retries. A GET (and a login or token refresh, which change nothing a retry
// could double) is retried on connection errors, timeouts, 429, 502, 503 and 504. A POST (a
// refill, a sign-up, an update) is resent only when the server certainly did not act on it:
// nothing was written (a refused connection, a failed TLS handshake or proxy CONNECT), or it
// answered 429. A write whose answer was lost is never resent: written and then the connection
// broke, a 200 whose body broke off or stalled, the caller's context ended, or a 5xx came back (the
// handler may have committed before failing). The error then matches [ErrOutcomeUnknown], and its
// cause stays reachable ([ErrServer], context.DeadlineExceeded, ...):
//
//	res, err := client.Accounts.Refill(ctx, refill)
//	switch {
//	case errors.Is(err, probonus.ErrOutcomeUnknown):
//		// The credit may or may not have been applied. Do not simply send it again: look at
//		// the account's last transactions first, or use RefillOnce, which does that for you.
//	case err != nil:
//		// A definitive failure: nothing was applied.
//	}
//
// Retry-After (seconds or an HTTP date) is honoured up to [RetryPolicy].MaxRetryAfter; a server
// asking for a longer wait is not retried early: the error comes back with [APIError].RetryAfter
// set, for you to decide. Otherwise the wait doubles from MinBackoff with jitter. Every wait ends
// with the context, and a wait that would outlast the context's deadline is not started.
// [WithRetry] sets the policy; [WithTimeout] bounds each attempt.
//
// Nothing below the SDK resends a write either: its request carries no GetBody, so neither
// net/http (HTTP/2 after a stream reset, HTTP/1 with an Idempotency-Key) nor a retrying transport
// you wrap around it can send it twice; and a write follows no redirect (a 307/308 comes back as
// an error naming the target; a 303, which says the server acted, is ErrOutcomeUnknown).
//
// The limiter is waited on before every attempt, retries and token refreshes included.
// [WithRateLimit] paces one process; [WithLimiter] takes any [Limiter]. A fleet (several pods,
// workers or cron jobs calling the same ProBonus server) needs one budget for all of them, or ten
// pods at 10/s send 100/s to a server sized for 10: the module
// [github.com/probonus-go/probonus/probonusredis] keeps that budget in Redis.
//
// # Crediting once: Refill or RefillOnce
//
// [AccountsService.Refill] sends one credit and tells you when its outcome is unknown.
// [AccountsService.RefillOnce] credits exactly once per (AccountID, Reason, Amount): the reason
// ("Отзыв о заказе 1234") is the idempotency key you already have. It looks for that credit in the
// account's history (the last 30 days, [WithRefillLookback]) before sending, returns it with
// [RefillResult].AlreadyApplied when found, and after an uncertain send waits a settle time
// ([WithRefillSettle], default the attempt timeout), looks again and resends only when the credit
// is still absent. Use it for anything a job may run twice.
//
// Calls with the same key run one at a time in the whole process, on any Client of the same
// installation, and an uncertain send is remembered per key: a later RefillOnce waits until it is
// older than the settle time before it looks. A short deadline never resends: when it ends before
// the settle time, RefillOnce waits half of what remains of the deadline (the other half is the
// look's), looks, returns the credit as a success when it is there, and otherwise sends nothing and
// returns [ErrOutcomeUnknown] (call again later: it looks first). The look fails closed: an entry
// with the same reason and amount counts unless its type is one known not to be a credit.
//
// RefillOnce never returns a result together with an error: a credit found whose balance could
// not be read is a success with [RefillResult].BalanceErr set. FromHistory says the result was
// read from the history (after its own lost answer it cannot know whose credit it found), and
// Duplicates lists other credits of the same key, so two are never reported as one.
//
// One risk remains: a request held inside a proxy for longer than the settle time and applied
// after the second look is applied twice; set the settle time above any delay your network can
// hold a request. Processes are serialised with each other only through a shared
// [RefillCoordinator]: give a fleet WithRefillCoordinator(probonusredis.NewCoordinator(rdb)), or
// each key one process. When the coordinator cannot be reached, RefillOnce fails closed: nothing
// looked at, nothing sent, an error matching [ErrCoordinatorUnavailable]. A fleet's lock is a
// [RefillLease]: RefillOnce trusts a look that found nothing only when its answer came back while
// the lease held, confirms the lease as the last step before each write, and sends nothing once it
// is lost ([ErrLeaseLost]).
//
// # Recipe: an order webhook that credits once
//
// The most common integration: your order system calls a webhook when an order completes, and the
// guest earns bonuses for it. Senders deliver at least once (again after a timeout, a 5xx, a lost
// answer), so the handler must credit once however often the same order arrives. The repository's
// examples/webhook is that handler, a server around it, and its tests on probonustest (go run
// ./examples/webhook plays the sender against an embedded server). Its core:
//
//	// under the sender's 10s
//	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 8*time.Second)
//	defer cancel()
//	res, err := client.Accounts.RefillOnce(ctx, probonus.Refill{
//		AccountID: order.AccountID, Amount: *order.Bonus,
//		Reason:    probonus.Ptr("Бонус за заказ " + order.OrderID),
//	})
//	if err != nil { // read res only when err is nil
//		// 503 + Retry-After, 400 or 422: see below
//	}
//	// 200, whether this call credited it or found it credited (res.AlreadyApplied)
//
// What RefillOnce's result becomes:
//
//   - success, AlreadyApplied or not: 200; the order's bonus is credited, once.
//   - [ErrOutcomeUnknown], a transport error or timeout, [ErrServer], [ErrRateLimited],
//     [ErrCoordinatorUnavailable], [ErrUnauthorized]: 503 with Retry-After; safe to deliver again,
//     since RefillOnce looks in the history before it sends.
//   - [*InputError] (or a payload that does not parse): 400; a retry would fail the same way, and
//     nothing was sent.
//   - [ErrNotFound] (no such account), [ErrBadRequest], [ErrValidation]: 422; ProBonus refuses it,
//     and a retry would too.
//
// Deadlines follow the sender's timeout. The work of a delivery gets about 80% of it (8s of 10s),
// the rest is for reading the request and writing the answer; [WithTimeout] (each attempt) about a
// quarter of that (2s), since a lost answer costs the send, the settle time (by default the
// attempt timeout) and a look. A delivery that runs out of time answers 503; the redelivery looks.
// The context is detached from the request's (context.WithoutCancel): a sender that hangs up does
// not cut a credit off mid-send, which would only make its outcome unknown.
//
// The key is the order. RefillOnce's key is the account, the reason and the amount: put the order
// id in the reason, and derive the bonus from the order alone (a sender that recomputed a
// different amount on a redelivery would get a second credit). Redeliveries must come within the
// lookback ([WithRefillLookback], 30 days). Make Retry-After at least the settle time, so a
// redelivery that reaches another process looks only once a lost send has settled; with several
// pods, give them one coordinator. Check the sender's signature before anything else (the example
// takes GitHub's HMAC-SHA256 scheme; use your sender's), bound the body, and check ProBonus at
// start: a wrong base URL's 404 would otherwise read as "no such account" on every delivery.
//
// # Money, phones and time
//
// Amounts are [Amount], an exact decimal (github.com/shopspring/decimal) that reads a JSON number
// or a string ("150.50", as Pydantic v2 writes it) and never passes through a float64. A bonus is
// computed with [Amount.Percent] or [Amount.Mul], which round the exact result once, to the
// kopeck, by the [RoundingMode] the caller names ([RoundHalfUp], as receipts round;
// [RoundHalfEven]; [RoundDown], never above the rate; ...):
//
//	bonus, err := total.Percent(level.BonusPercent, probonus.RoundHalfUp) // 5% of 1234.50: 61.73
//
// Phones are normalised with [NormalizePhone] (github.com/nyaruka/phonenumbers): "+7 (999) 123-45-67",
// "8 999 123 45 67" and "9991234567" are all sent as "79991234567"; [WithPhoneRegion] sets the
// region of numbers without a country code. Timestamps are [Time]: "Z", offsets and fractional
// seconds are read as written, and a timestamp without an offset (the server's wall-clock time) is
// read in the client's location, [Moscow] by default ([WithLocation]). Birth and burn dates are
// [Date].
//
// # Observability
//
// [WithObserver] takes an [Observer] that sees each [Call], each [Attempt] (retries and replays
// marked), and each login and refresh, with path templates only: never a credential, a body or a
// query value. [WithLogger] is one such observer. An Observer costs nothing when there is none.
//
// OpenTelemetry traces and metrics come from the module
// [github.com/probonus-go/probonus/probonusotel] (Go 1.26, its own go.mod), so a program without
// them never downloads OpenTelemetry:
//
//	import "github.com/probonus-go/probonus/probonusotel" // go get it: a module of its own
//
//	client, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey(key),
//		probonus.WithObserver(probonusotel.New())) // global TracerProvider, MeterProvider, propagator
//
// Each call is a span "probonus Accounts.Refill" (kind client) with one child span per HTTP
// attempt ("POST /api/v0/accounts/refill", with the HTTP client semantic conventions:
// http.request.method, server.address, server.port, url.template, http.response.status_code,
// error.type, http.request.resend_count). A retry has probonus.retry and the failed attempt before
// it probonus.retry.reason; a login or token refresh is a span "probonus Auth.Refresh" under the
// attempt that needed it; a write that may have been applied has probonus.outcome_unknown. The
// metrics are http.client.request.duration (per attempt), probonus.client.operation.duration (per
// call, backoff included), probonus.client.retries, probonus.client.token.refreshes and
// probonus.client.outcome_unknown.
//
// No attribute holds a phone, a name, a query or a credential: paths are templates, and errors
// are named by status code or type (503, context.DeadlineExceeded), never by their text. A
// [Client.Do] path is the literal one and may hold a phone, so it is recorded nowhere: the call is
// the span "probonus Do", its attempts are named by their method alone (GET), and neither they
// nor the metrics have url.template, unless you name the template with [WithPathTemplate]:
//
//	ctx = probonus.WithPathTemplate(ctx, "/api/v0/accounts/{account_id}/cards")
//	err := client.Do(ctx, "GET", path, nil, nil, &out)
//
// The propagator's headers (traceparent, once you set
// otel.SetTextMapPropagator(propagation.TraceContext{})) go only to the base URL's origin, never
// through a redirect to another. probonusotel's WithTracerProvider, WithMeterProvider and
// WithPropagator replace the globals; `cd probonusotel && go run ./example` prints a retried
// call's spans.
//
// # Testing your code with probonustest
//
// Package [github.com/probonus-go/probonus/probonustest] is an in-memory ProBonus server: point
// the client at it, seed it, break it, and look at what it applied.
//
//	func TestReviewCreditsOnce(t *testing.T) {
//		srv := probonustest.NewServer(t) // closes when the test ends
//		id := srv.AddAccount(probonustest.Account{
//			GroupID: 3, Phone: "+7 (999) 123-45-67", Balance: "100",
//		})
//		// the server's URL and key, with test settings: RefillOnce settles in 50ms,
//		// not the 30s timeout
//		client, _ := probonus.New(srv.ClientOptions()...)
//
//		// the answer to the first refill breaks off after the server applied it
//		srv.Inject("POST", probonustest.PathRefill,
//			probonustest.Fault{AfterApply: true, BreakBody: true})
//		yourapp.CreditReview(client, id, 1234) // your code under test
//
//		if got := len(srv.Refills(id)); got != 1 {
//			t.Fatalf("%d credits for one review", got)
//		}
//		if got := srv.Balance(id); got != "150.00" {
//			t.Fatalf("balance %s", got)
//		}
//	}
//
// The server starts with the vendor's two test groups (3 has a template with a 500-bonus
// welcome), and is seeded with AddGroup, AddAccount (a starting Balance is carried over, not a
// refill) and AddCheck; WithDemoData adds a returning guest with visits (probonustest.DemoPhone).
// It implements every endpoint with real semantics (duplicates refused, refills scheduled to burn,
// deferred accruals, newest-first history), both FastAPI flavours (WithFlavor with Legacy or
// Modern), both auth modes (with WithTokenLifetime for refresh tests), and every failure a client
// must survive, through FailNext and Inject on a route named by its Path… constant, with a
// probonustest.Fault:
//
//   - Status: 503, Body: "<html>…": a proxy's refusal; not applied.
//   - AfterApply: true, Status: 500: a 500 after the handler committed; applied.
//   - AfterApply: true, Reset: true: the connection drops before any answer; applied.
//   - AfterApply: true, BreakBody: true: the real 200 and Content-Length, half the body, then the
//     connection drops; applied.
//   - AfterApply: true, StallBody: true: the real 200 and half the body, then nothing until the
//     client gives up; applied.
//   - Delay: d: a slow server; applied only if the client still waits after d.
//   - AfterApply: true, Delay: d: an answer that comes after the client gave up; applied.
//
// A fault for a route the server does not have ("post", a path without /api/v0) would never fire,
// so Inject fails the test at once, saying which route was meant. What the server received is in
// Requests and Count; what it applied, in Balance(id), Refills(id) (only the credits made through
// the refill endpoint), Transactions(id) and Checks(id). probonustest shares none of the SDK's
// request, decoding or validation code, so it cannot share their bugs: it imports only the SDK's
// public options (for ClientOptions) and its Moscow location. A team's seed file (ParseSeed and
// Server.Load) serves Go tests and the command-line fake (probonus serve --seed) alike.
//
// To mock at the HTTP level instead, give the client an *http.Client whose Transport is an
// httpmock.MockTransport (github.com/jarcoal/httpmock), through [WithHTTPClient].
//
// # Calling other endpoints
//
// [Client.Do] sends any request through the same path (limiter, credentials, timeout, retries,
// error parsing) and decodes the JSON answer into any value; a map[string]any keeps numbers exact
// as json.Number. Until the SDK models a server that differs from it, Do calls any endpoint with
// your own types.
//
//	var out map[string]any
//	err := client.Do(ctx, "GET", "/api/v0/some/endpoint", url.Values{"id": {"1"}}, nil, &out)
package probonus
