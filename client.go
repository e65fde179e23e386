package probonus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// Defaults of the options.
const (
	DefaultTimeout         = 30 * time.Second // per attempt
	DefaultMaxAttempts     = 3
	DefaultMaxResponseSize = 32 << 20
	DefaultRefillLookback  = 30 * 24 * time.Hour // how far back RefillOnce looks for a credit
)

// opDo is the operation name of Client.Do's calls.
const opDo = "Do"

// endpoint is one operation's name (as observers see it), method and path. Every path the SDK calls
// stands in this table, so a difference found on a real server is a one-line change.
type endpoint struct{ op, method, path string }

var (
	epLogin             = endpoint{"Auth.Login", http.MethodPost, "/api/v0/auth/login"}
	epRefreshToken      = endpoint{"Auth.Refresh", http.MethodPost, "/api/v0/auth/refresh_token"}
	epAccountGroupsList = endpoint{"AccountGroups.List", http.MethodGet, "/api/v0/account_groups/list"}
	epInsertByTemplate  = endpoint{"Accounts.InsertByTemplate", http.MethodPost, "/api/v0/accounts/insert_by_template"}
	epFindByPhone       = endpoint{"Accounts.FindByPhone", http.MethodGet, "/api/v0/accounts/find_by_phone"}
	epRefill            = endpoint{"Accounts.Refill", http.MethodPost, "/api/v0/accounts/refill"}
	epTransactions      = endpoint{"Accounts.Transactions", http.MethodGet, "/api/v0/accounts/transactions"}
	epLastTransactions  = endpoint{"Accounts.LastTransactions", http.MethodGet, "/api/v0/accounts/transactions"}
	epUpdate            = endpoint{"Accounts.Update", http.MethodPost, "/api/v0/accounts/update"}
	epBalanceExtended   = endpoint{"Accounts.BalanceExtended", http.MethodGet, "/api/v0/accounts/get_balance_extended"}
	epCheckGetByID      = endpoint{"Checks.GetByID", http.MethodGet, "/api/v0/checks/get_by_id"}
)

// The query parameters of the endpoints above (inferred from the seed and the admin UI).
const (
	qPhone     = "phone"
	qAccountID = "accountId"
	qDateFrom  = "dateFrom"
	qDateTo    = "dateTo"
	qCount     = "count"
	qCheckID   = "checkId"
)

var (
	defaultLocation      = time.FixedZone("MSK", 3*60*60)
	defaultRetryPolicy   = RetryPolicy{MaxAttempts: DefaultMaxAttempts, MinBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxRetryAfter: 30 * time.Second}
	errNoBaseURL         = errors.New("probonus: WithBaseURL is required")
	errTwoAuthenticators = errors.New("probonus: more than one of WithAPIKey, WithLogin, WithAuth and WithoutAuth")
	errNoAuth            = errors.New("probonus: no credentials: pass WithAPIKey, WithLogin or WithAuth " +
		"(or WithoutAuth, for a server that needs none)")
)

// Client talks to one ProBonus server. It is safe for concurrent use; make one and share it.
type Client struct {
	Accounts      *AccountsService      // guests: create, find, refill, transactions, update, balance
	AccountGroups *AccountGroupsService // account groups and their templates
	Checks        *ChecksService        // checks down to dishes

	baseURL     *url.URL
	hc          *http.Client
	auth        Authenticator
	timeout     time.Duration
	retry       RetryPolicy
	limiter     Limiter // nil: unlimited
	userAgent   string
	loc         *time.Location
	phoneRegion string
	phones      *phoneCache
	maxBody     int64
	observers   []Observer
	withoutAuth bool // WithoutAuth: no credentials, on purpose

	installation   string        // the base URL's origin and path prefix: RefillOnce's keys are per installation
	refillLookback time.Duration // RefillOnce: how far back it looks for a credit
	refillSettle   time.Duration // RefillOnce: the wait before looking again; 0: the attempt timeout
}

type service struct{ c *Client }

// Limiter paces requests; *rate.Limiter is one. Pass a fleet-wide one to WithLimiter.
type Limiter interface {
	Wait(ctx context.Context) error
}

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

// New makes a Client. WithBaseURL is required; an option with a bad value is an error.
func New(opts ...Option) (*Client, error) {
	c := &Client{
		hc:          &http.Client{},
		timeout:     DefaultTimeout,
		retry:       defaultRetryPolicy,
		userAgent:   "probonus-go/" + Version,
		loc:         defaultLocation,
		phoneRegion: "RU",
		phones:      &phoneCache{},
		maxBody:     DefaultMaxResponseSize,

		refillLookback: DefaultRefillLookback,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.baseURL == nil {
		return nil, errNoBaseURL
	}
	if c.auth == nil && !c.withoutAuth {
		return nil, errNoAuth
	}
	c.installation = strings.ToLower(c.baseURL.Scheme) + "://" + hostPort(c.baseURL) + c.baseURL.Path
	c.hc.CheckRedirect = c.checkRedirect(c.hc.CheckRedirect)
	c.Accounts = &AccountsService{c}
	c.AccountGroups = &AccountGroupsService{c}
	c.Checks = &ChecksService{c}
	return c, nil
}

// String describes the client without any credential.
func (c Client) String() string {
	auth := "none"
	switch a := c.auth.(type) {
	case apiKeyAuth:
		auth = "api key"
	case *loginAuth:
		auth = "login " + a.login
	case nil:
	default:
		auth = fmt.Sprintf("%T", a)
	}
	return fmt.Sprintf("probonus.Client{baseURL: %s, auth: %s}", c.baseURL, auth)
}

// Format prints String for every verb, for a Client and a *Client alike, so no verb reaches the
// credentials.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// inScope reports whether u is where credentials may go: the base URL's origin and, below it, its
// path (a gateway may serve other applications under other prefixes of the same origin).
func (c *Client) inScope(u *url.URL) bool {
	if !c.sameOrigin(u) {
		return false
	}
	base := c.baseURL.Path
	return base == "" || u.Path == base || strings.HasPrefix(u.Path, base+"/")
}

// sameOrigin reports whether u is on the base URL's scheme, host and port: the only place
// credentials are sent.
func (c *Client) sameOrigin(u *url.URL) bool {
	if u.Scheme == c.baseURL.Scheme && u.Host == c.baseURL.Host {
		return true // every request the client builds itself
	}
	return strings.EqualFold(u.Scheme, c.baseURL.Scheme) && hostPort(u) == hostPort(c.baseURL)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

// checkRedirect keeps a redirect from carrying anything secret out of the base URL's scope (its
// origin, and its path prefix when it has one). Go forwards custom headers (X-API-Key, an
// Authenticator's own, an observer's traceparent) on redirects, and re-sends the body on 307 and
// 308: a login's password, say. So a redirect out of scope gets only the headers the client itself
// sets, one that would carry a body is refused, as is any redirect of a login or refresh out of
// scope; and a write is never turned into a read of something else.
func (c *Client) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !c.inScope(req.URL) {
			if req.Context().Value(noAuthKey{}) != nil {
				return &redirectError{to: req.URL, why: "a login or refresh is never redirected to another origin"}
			}
			if req.Body != nil && req.Body != http.NoBody {
				return &redirectError{to: req.URL, why: "the request body is never re-sent to another origin"}
			}
		}
		if orig := via[0]; orig.Method != http.MethodGet && orig.Method != http.MethodHead && req.Method != orig.Method {
			// A 301, 302 or 303 turns a write into a GET of something else, whose answer would read
			// as the write's result. After a 303 the server has acted ("see the result there");
			// after a 301 or 302 it has not (a proxy moving the endpoint).
			return &redirectError{to: req.URL, why: fmt.Sprintf("a %s is never turned into a %s", orig.Method, req.Method),
				applied: req.Response != nil && req.Response.StatusCode == http.StatusSeeOther}
		}
		if !c.inScope(req.URL) {
			clean := make(http.Header, 2)
			for _, k := range []string{"Accept", "User-Agent"} {
				if v := req.Header.Values(k); len(v) > 0 {
					clean[k] = v
				}
			}
			req.Header = clean
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// redirectError is a redirect the client refused to follow. The server answered with a redirect,
// not by acting on the request, so the outcome is certain (nothing was applied), except after a
// 303, which says the server acted.
type redirectError struct {
	to      *url.URL
	why     string
	applied bool // a 303: the server acted on the request
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("refused a redirect to %s://%s: %s", e.to.Scheme, e.to.Host, e.why)
}

// noAuthKey marks the context of a login or refresh request, for checkRedirect.
type noAuthKey struct{}

// call is one logical request: what to send, before any attempt.
type call struct {
	endpoint
	query    string // encoded, without the "?"
	in       any
	noAuth   bool   // login and refresh carry their credentials in the body, and no header
	onSend   func() // called as each attempt is handed to the transport (a token's lifetime starts there)
	secret   string // a login's password or a refresh token: redacted from errors before anyone sees them
	fresh    bool   // an answer no cache may give: RefillOnce's looks in the history
	template string // Do's path as observers see it: "" or the caller's WithPathTemplate
	// mayBeEmpty: an empty or null body is a success that leaves out unchanged (Do). A typed
	// method's answer must be an object or a list.
	mayBeEmpty bool
}

// idempotent reports whether the call may be sent again after an uncertain attempt. Login and
// refresh change no state a retry could double.
func (cl *call) idempotent() bool {
	switch cl.method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return cl.noAuth
}

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
	defer inOp(&err, "Do")
	path, err = checkPath(path)
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

// queryParam is one parameter of a typed method's query; an integer is written without a string
// of its own.
type queryParam struct {
	key, s string
	n      int64
	isInt  bool
}

func qStr(key, v string) queryParam       { return queryParam{key: key, s: v} }
func qInt(key string, v int64) queryParam { return queryParam{key: key, n: v, isInt: true} }

// encodeQuery writes the parameters exactly as url.Values.Encode would, given in the order Encode
// sorts them (by key), in one allocation: no map, no sort, no string per value.
func encodeQuery(ps ...queryParam) string {
	var buf [128]byte
	b := buf[:0]
	for i, p := range ps {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendQueryEscape(b, p.key)
		b = append(b, '=')
		if p.isInt {
			b = strconv.AppendInt(b, p.n, 10)
		} else {
			b = appendQueryEscape(b, p.s)
		}
	}
	return string(b)
}

// appendQueryEscape appends s escaped as url.QueryEscape does: letters, digits and -_.~ as they
// are, a space as +, every other byte as %XX.
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// fetch sends cl and decodes the response into a new T: the body of every typed method.
func fetch[T any](ctx context.Context, c *Client, cl *call) (*T, error) {
	var v T
	if err := c.send(ctx, cl, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// checkPath refuses anything that could leave the base URL: an absolute URL, a scheme-relative
// path, a query or fragment, or a ".." segment, encoded or not. It returns the path unescaped.
func checkPath(path string) (string, error) {
	bad := func(reason string) (string, error) { return "", &InputError{Field: "path", Reason: reason} }
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return bad("must start with a single /")
	}
	if strings.ContainsAny(path, "?#\\") {
		return bad("must not hold a query, fragment or backslash (pass the query separately)")
	}
	decoded, err := url.PathUnescape(path)
	if err != nil {
		return bad("bad escape")
	}
	for _, seg := range strings.Split(decoded, "/") {
		if seg == ".." || seg == "." {
			return bad("must not hold . or .. segments")
		}
	}
	if lower := strings.ToLower(path); strings.Contains(lower, "%2f") || strings.Contains(lower, "%3f") ||
		strings.Contains(lower, "%23") || strings.Contains(lower, "%5c") {
		return bad("must not hold an encoded /, ?, # or backslash")
	}
	return decoded, nil
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
		if body, err = json.Marshal(cl.in); err != nil {
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
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return fmt.Errorf("probonus: %s %s: %w", cl.method, fullPath, err)
		}
		var at *Attempt
		actx := ctx
		if obs != nil {
			obs.Attempts++
			at = &Attempt{Call: obs, Number: obs.Attempts, Replay: replaying, Retry: retried && !replaying,
				Header: http.Header{}, Start: time.Now()}
			for _, o := range c.observers {
				actx = o.AttemptStart(actx, at)
			}
		}
		res := c.attempt(actx, cl, &u, fullPath, body, out, at, idempotent)
		replaying = false
		d := shouldRetry(idempotent, res.status, res.err, res.written, ctx.Err() != nil)
		if res.final {
			d = decision{}
		}
		replay := !replayed && !res.final && c.mayReplay(cl, res)
		if d.retry && attempt >= c.retry.MaxAttempts && !replay {
			d.retry, d.reason = false, d.reason+": no attempts left"
		}
		var wait time.Duration
		if d.retry && !replay {
			wait = c.backoff(attempt, res.apiErr)
			if res.apiErr != nil && res.apiErr.RetryAfter > c.retry.MaxRetryAfter {
				// Retrying sooner than the server asked helps no one: the caller decides.
				d.retry, d.reason = false, fmt.Sprintf("the server asks to wait %v, more than MaxRetryAfter", res.apiErr.RetryAfter)
			} else if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				d.retry, d.reason = false, d.reason+": the deadline ends before the next attempt"
			}
		}
		if at != nil {
			switch {
			case replay:
				at.RetryReason = "credentials rejected: replaying once with new ones"
			case d.retry:
				at.RetryReason = d.reason
			}
			c.endAttempt(actx, at, res)
		}
		if res.final {
			return res.err
		}
		if replay {
			// A rejected token is refreshed and the request replayed once; the replay is not a retry.
			replayed, replaying = true, true
			attempt--
			continue
		}
		if !d.retry {
			switch {
			case res.err == nil:
				return nil
			case d.unknown:
				return &outcomeError{err: c.withContext(ctx, res.err)}
			}
			return res.err
		}
		retried = true
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w; then, waiting to retry: %w", res.err, ctx.Err())
		}
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

// wireTrace learns from net/http whether a request reached the wire. Each hook costs an
// allocation per write, so it has only those it needs. No WroteRequest: net/http (HTTP/1 and
// HTTP/2, bundled or x/net's) reports GotConn before it writes a byte, so a written request always
// got its connection first. GetConn only when the transport is not net/http's own (for which
// mayBeWritten needs no more than GotConn): it tells that the trace reached net/http below it.
type wireTrace struct {
	getConn, gotConn atomic.Bool
	trace            httptrace.ClientTrace
}

func (w *wireTrace) start(ctx context.Context, netHTTP bool) context.Context {
	if !netHTTP {
		w.trace.GetConn = func(string) { w.getConn.Store(true) }
	}
	w.trace.GotConn = func(httptrace.GotConnInfo) { w.gotConn.Store(true) }
	return httptrace.WithClientTrace(ctx, &w.trace)
}

// netHTTPTransport reports whether requests go straight to net/http's own transport.
func (c *Client) netHTTPTransport() bool {
	t := c.hc.Transport
	if t == nil {
		t = http.DefaultTransport // which a program may have replaced with a wrapper
	}
	_, ok := t.(*http.Transport)
	return ok
}

// mayBeWritten reports whether a request that failed with err may have reached the server. Go's own
// transport reports, through httptrace, when it has a connection: without one nothing was written
// (a refused dial, a proxy's CONNECT or a TLS handshake that failed, a header value net/http
// refused). A connection counts as written, whether or not the write finished: a cancelled
// request may still be on its way. Another transport (a test double, a wrapper that does not pass
// the trace on) is trusted only for a dial error.
func (c *Client) mayBeWritten(w *wireTrace, err error) bool {
	if w.gotConn.Load() {
		return true
	}
	if w.getConn.Load() || c.netHTTPTransport() {
		return false // the trace reached net/http, which asked for a connection and got none
	}
	return !neverConnected(err)
}

// attempt sends the request once and decodes the response, all within the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, cl *call, u *url.URL, fullPath string, body []byte, out any, at *Attempt, idempotent bool) attemptResult {
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
		res.err = fmt.Errorf("probonus: %s %s: %w", cl.method, fullPath, unwrapURLError(err))
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
		res.apiErr = parseError(resp, cl.method, fullPath, c.attemptSecrets(req, at, cl))
		if loc, err := resp.Location(); err == nil && !idempotent && resp.StatusCode >= 300 && resp.StatusCode <= 399 {
			loc.RawQuery, loc.User = "", nil
			res.apiErr.Detail = "a write follows no redirect; the server sent it to " + loc.String()
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

// drainAndClose reads a little of what is left of a body, so the connection can be reused, and closes it.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	_ = body.Close()
}

// neverConnected reports whether a transport error happened while dialling: no connection was
// made, so the server cannot have seen the request.
func neverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// unwrapURLError drops *url.Error's wrapping, which repeats the full URL (and its query).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decode reads a success body into out, through the size cap. For a typed method, an empty,
// all-white-space or null body is a *DecodeError (no account, list or result); for Do it leaves out
// unchanged (a 204, say). With a nil out any body is read and discarded. After a JSON value
// anything may follow and is ignored, as it always was when the body was streamed into a decoder.
// eof is true when the body was read to its end (nothing is left to drain). transport is true when
// reading failed (the connection broke or the attempt timed out) rather than the body being bad; a
// JSON value read whole before the failure still counts.
func (c *Client) decode(resp *http.Response, cl *call, fullPath string, out any, req *http.Request, at *Attempt) (transport, eof bool, err error) {
	if out == nil {
		capped := &cappedReader{r: resp.Body, left: c.maxBody}
		_, err = io.Copy(io.Discard, capped)
		switch {
		case err == nil:
			return false, true, nil
		case capped.exceeded:
			return false, false, c.tooLarge(cl, fullPath)
		}
		return true, false, fmt.Errorf("probonus: %s %s: reading the response: %w", cl.method, fullPath, err)
	}
	buf := bodyBuffers.Get().(*[]byte)
	defer putBodyBuffer(buf)
	b, exceeded, rerr := readBody(resp.Body, resp.ContentLength, c.maxBody, buf)
	switch {
	case exceeded:
		return false, false, c.tooLarge(cl, fullPath)
	case rerr == nil && len(bytes.TrimSpace(b)) == 0:
		if cl.mayBeEmpty {
			return false, true, nil // an empty body: nothing to decode
		}
		return false, true, &DecodeError{StatusCode: resp.StatusCode, Method: cl.method, Path: fullPath, Err: errEmptyAnswer}
	}
	if !cl.mayBeEmpty && isNull(b) {
		// json leaves out as it was for a null: an account with id 0, a refill of 0.00
		return false, rerr == nil, &DecodeError{StatusCode: resp.StatusCode, Method: cl.method, Path: fullPath, Sample: "null", Err: errNullAnswer}
	}
	if err = unmarshal(b, out); err == nil {
		localize(out, c.loc)
		return false, rerr == nil, nil
	}
	if rerr != nil {
		return true, false, fmt.Errorf("probonus: %s %s: reading the response: %w", cl.method, fullPath, rerr)
	}
	sample := ""
	if !cl.noAuth { // a login's or refresh's body holds tokens
		sample = c.attemptSecrets(req, at, cl).sample(b, 256) // an echoed credential is removed before the cut
	}
	return false, true, &DecodeError{StatusCode: resp.StatusCode, Method: cl.method, Path: fullPath, Sample: sample, Err: err}
}

var (
	errEmptyAnswer = errors.New("the body is empty where an object or a list must be")
	errNullAnswer  = errors.New("the body is null where an object or a list must be")
)

// isNull reports whether the JSON value at the start of b is null.
func isNull(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) >= 4 && string(b[:4]) == "null" && (len(b) == 4 || strings.IndexByte(" \t\r\n", b[4]) >= 0)
}

func (c *Client) tooLarge(cl *call, fullPath string) error {
	return fmt.Errorf("probonus: %s %s: %w (limit %d bytes)", cl.method, fullPath, ErrResponseTooLarge, c.maxBody)
}

// bodyBuffers holds the buffers success bodies are read into, so that a call reuses one instead of
// growing a decoder's buffer from nothing. A buffer that grew beyond maxPooledBody (a body larger
// than a list of 1000 transactions) is left to the garbage collector rather than kept.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

const maxPooledBody = 512 << 10

func putBodyBuffer(buf *[]byte) {
	if poolable(buf) {
		bodyBuffers.Put(buf)
	}
}

// poolable empties buf and reports whether it may go back to the pool: not when it grew beyond
// maxPooledBody.
func poolable(buf *[]byte) bool {
	if cap(*buf) > maxPooledBody {
		return false
	}
	*buf = (*buf)[:0]
	return true
}

// readBody reads body to its end into *buf, growing it as needed (to size at once when the
// Content-Length gives it; size is -1 when unknown), and reading at most limit+1 bytes: one more
// than the cap tells a body of exactly the cap from a longer one. err is the first read error other
// than io.EOF; b holds what was read before it.
func readBody(body io.Reader, size, limit int64, buf *[]byte) (b []byte, exceeded bool, err error) {
	if size > limit {
		return nil, true, nil
	}
	b = (*buf)[:0]
	if size > 0 && int64(cap(b)) <= size {
		b = make([]byte, 0, size+1) // +1: room to see the end without growing
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):cap(b)]
		if left := limit + 1 - int64(len(b)); int64(len(room)) > left {
			room = room[:left]
		}
		n, rerr := body.Read(room)
		b = b[:len(b)+n]
		*buf = b // its growth, for the pool
		switch {
		case int64(len(b)) > limit:
			return nil, true, nil
		case rerr == io.EOF:
			return b, false, nil
		case rerr != nil:
			return b, false, rerr
		}
	}
}

// unmarshal decodes the JSON value at the start of b into out. A typed out goes through
// json.Unmarshal; one that can hold an interface value (Do's map[string]any, say) through a
// decoder with UseNumber, so that money inside it stays exact. Whatever json.Unmarshal refuses
// (data after the value, a truncated value, a type mismatch) is decoded again by that decoder,
// which gives the result and the errors a streamed body always gave.
func unmarshal(b []byte, out any) error {
	if !holdsInterface(reflect.TypeOf(out)) && json.Unmarshal(b, out) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(out)
}

var interfaceTypes sync.Map // reflect.Type → bool: whether decoding into it can fill an interface value

// holdsInterface reports whether encoding/json, decoding into a value of type t, may store into an
// interface (where UseNumber matters).
func holdsInterface(t reflect.Type) bool {
	if v, ok := interfaceTypes.Load(t); ok {
		return v.(bool)
	}
	v := reachesInterface(t, map[reflect.Type]bool{})
	interfaceTypes.Store(t, v)
	return v
}

// reachesInterface walks the types json fills from t, each once (a recursive type meets itself
// again and adds nothing new).
func reachesInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return reachesInterface(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); (f.IsExported() || f.Anonymous) && reachesInterface(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// cappedReader fails once more than left bytes have been read: a body read only to be discarded (a
// nil out) goes through it.
type cappedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (r *cappedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		// one byte more tells a body of exactly the cap from a longer one
		var one [1]byte
		n, err := r.r.Read(one[:])
		if n > 0 {
			r.exceeded = true
			return 0, ErrResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}

// decision is what the retry rules say about one attempt.
type decision struct {
	retry   bool   // send again
	unknown bool   // a write that may have been applied without a definitive answer: ErrOutcomeUnknown
	reason  string // why, for observers and the log
}

// shouldRetry is the one retry decision. An idempotent request (GET, and login and refresh) is
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
