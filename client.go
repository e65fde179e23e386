package probonus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// Defaults of the options.
const (
	DefaultTimeout         = 30 * time.Second // per attempt
	DefaultMaxAttempts     = 3
	DefaultMaxResponseSize = 32 << 20
)

// endpoint is one operation's method and path. Every path the SDK calls stands in this table, so a
// difference found on a real server is a one-line change.
type endpoint struct{ method, path string }

var (
	epLogin             = endpoint{http.MethodPost, "/api/v0/auth/login"}
	epRefreshToken      = endpoint{http.MethodPost, "/api/v0/auth/refresh_token"}
	epAccountGroupsList = endpoint{http.MethodGet, "/api/v0/account_groups/list"}
	epInsertByTemplate  = endpoint{http.MethodPost, "/api/v0/accounts/insert_by_template"}
	epFindByPhone       = endpoint{http.MethodGet, "/api/v0/accounts/find_by_phone"}
	epRefill            = endpoint{http.MethodPost, "/api/v0/accounts/refill"}
	epTransactions      = endpoint{http.MethodGet, "/api/v0/accounts/transactions"}
	epUpdate            = endpoint{http.MethodPost, "/api/v0/accounts/update"}
	epBalanceExtended   = endpoint{http.MethodGet, "/api/v0/accounts/get_balance_extended"}
	epCheckGetByID      = endpoint{http.MethodGet, "/api/v0/checks/get_by_id"}
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
	errTwoAuthenticators = errors.New("probonus: more than one of WithAPIKey, WithLogin and WithAuth")
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
	logger      *slog.Logger
	userAgent   string
	loc         *time.Location
	phoneRegion string
	phones      *phoneCache
	maxBody     int64
	observers   []Observer
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
		logger:      slog.New(slog.DiscardHandler),
		userAgent:   "probonus-go/" + Version,
		loc:         defaultLocation,
		phoneRegion: "RU",
		phones:      &phoneCache{},
		maxBody:     DefaultMaxResponseSize,
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

// checkRedirect strips credentials from a redirect to another origin: Go forwards custom headers
// such as X-API-Key on redirects, and Authorization to subdomains.
func (c *Client) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !c.sameOrigin(req.URL) {
			req.Header.Del("X-API-Key")
			req.Header.Del("Authorization")
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

// call is one logical request: what to send, before any attempt.
type call struct {
	endpoint
	query  url.Values
	in     any
	noAuth bool // login and refresh carry no credentials
}

// Do sends one request through the client's request path (limiter, authentication, per-attempt
// timeout, retries, error parsing) and decodes a JSON response into out. path is relative to the
// base URL, e.g. "/api/v0/accounts/find_by_phone"; in (when not nil) is sent as JSON; out may be
// nil. Use it for endpoints the SDK does not type.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	path, err := checkPath(path)
	if err != nil {
		return err
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		return &InputError{Field: "method", Reason: "empty"}
	}
	return c.send(ctx, &call{endpoint: endpoint{method, path}, query: query, in: in}, out)
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
	connected bool // a connection to the server may have been made, so the request may have been sent
	apiErr    *APIError
	req       *http.Request
	final     bool // it failed before sending, in a way another attempt would repeat
}

// send is the one request path: build → limit → authenticate → send → decide retry → decode.
func (c *Client) send(ctx context.Context, cl *call, out any) error {
	if ctx == nil {
		return &InputError{Field: "ctx", Reason: "nil context"}
	}
	var body []byte
	if cl.in != nil {
		var err error
		if body, err = json.Marshal(cl.in); err != nil {
			return fmt.Errorf("probonus: %s %s: encoding the request: %w", cl.method, cl.path, err)
		}
	}
	u := *c.baseURL
	u.Path += cl.path
	u.RawQuery = cl.query.Encode()
	replayed := false
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return fmt.Errorf("probonus: %s %s: waiting for the rate limiter: %w", cl.method, cl.path, err)
		}
		start := time.Now()
		res := c.attempt(ctx, cl, &u, body, out)
		if res.final {
			return res.err
		}
		retry, reason := shouldRetry(cl.method, res.status, res.err, res.connected, ctx.Err() != nil)
		if !replayed && c.mayReplay(cl, res) {
			// A rejected token is refreshed and the request replayed once; the replay is not a retry.
			replayed = true
			c.logAttempt(ctx, cl, res.status, start, attempt, "credentials rejected: replaying once")
			attempt--
			continue
		}
		if retry && attempt >= c.retry.MaxAttempts {
			retry, reason = false, reason+": no attempts left"
		}
		c.logAttempt(ctx, cl, res.status, start, attempt, reason)
		if !retry {
			if res.status == 0 && res.err != nil && reason != "" && ctx.Err() == nil {
				return fmt.Errorf("%w (%s)", res.err, reason) // say why a transport error was not retried
			}
			return res.err
		}
		wait := c.backoff(attempt, res.apiErr)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return res.err // the deadline ends before the wait: the last error says more than a timeout
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("probonus: %s %s: waiting to retry after %v: %w", cl.method, cl.path, res.err, ctx.Err())
		}
	}
}

// mayReplay reports whether the server rejected the credentials of an authenticated request and
// the Authenticator can get fresh ones. The body is held in memory, so it can always be re-sent.
func (c *Client) mayReplay(cl *call, res attemptResult) bool {
	if cl.noAuth || res.apiErr == nil || !res.apiErr.credentialsRejected() {
		return false
	}
	inv, ok := c.auth.(Invalidator)
	return ok && inv.Invalidate(res.req)
}

func (c *Client) logAttempt(ctx context.Context, cl *call, status int, start time.Time, attempt int, reason string) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "probonus request",
		slog.String("method", cl.method), slog.String("path", cl.path), slog.Int("status", status),
		slog.Duration("duration", time.Since(start)), slog.Int("attempt", attempt), slog.String("retry", reason))
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
		return err
	}
	return nil
}

// attempt sends the request once and decodes the response, all within the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, cl *call, u *url.URL, body []byte, out any) attemptResult {
	var res attemptResult
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, u.String(), rdr)
	if err != nil {
		res.err = fmt.Errorf("probonus: %s %s: %w", cl.method, cl.path, err)
		return res
	}
	res.req = req
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !cl.noAuth && c.auth != nil && c.sameOrigin(req.URL) {
		if err := c.auth.Authenticate(ctx, req); err != nil {
			// nothing was sent; the login or refresh behind it already had its own retries
			res.err, res.final = fmt.Errorf("probonus: %s %s: %w", cl.method, cl.path, err), true
			return res
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		res.connected = !neverConnected(err)
		res.err = fmt.Errorf("probonus: %s %s: %w", cl.method, cl.path, unwrapURLError(err))
		return res
	}
	defer drainAndClose(resp.Body)
	res.status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.apiErr = parseError(resp, cl.method, cl.path)
		res.err = res.apiErr
		return res
	}
	if err, transport := c.decode(resp, cl, out); err != nil {
		res.err = err
		if transport {
			res.status = 0 // the body broke off: a connection error, not a bad body
		}
	}
	return res
}

// drainAndClose reads a little of what is left of a body, so the connection can be reused, and closes it.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	_ = body.Close()
}

// neverConnected reports whether a transport error happened while dialling: no connection was
// made, so the server cannot have seen the request. Every later failure (TLS, writing, reading)
// counts as "maybe seen".
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

// decode streams a success body into out through the size cap; an empty body is fine for a nil out.
// transport is true when reading failed (the connection broke or the attempt timed out) rather
// than the body being bad.
func (c *Client) decode(resp *http.Response, cl *call, out any) (err error, transport bool) {
	capped := &cappedReader{r: resp.Body, left: c.maxBody}
	dec := json.NewDecoder(capped)
	dec.UseNumber() // an any in out keeps money exact
	target := out
	if target == nil {
		target = &json.RawMessage{}
	}
	err = dec.Decode(target)
	switch {
	case err == nil:
		if out != nil {
			localize(out, c.loc)
		}
		return nil, false
	case capped.exceeded:
		return fmt.Errorf("probonus: %s %s: %w (limit %d bytes)", cl.method, cl.path, ErrResponseTooLarge, c.maxBody), false
	case capped.err != nil:
		return fmt.Errorf("probonus: %s %s: reading the response: %w", cl.method, cl.path, capped.err), true
	case errors.Is(err, io.EOF) && capped.read == 0 && out == nil:
		return nil, false
	}
	return &DecodeError{StatusCode: resp.StatusCode, Method: cl.method, Path: cl.path, Sample: string(capped.sample()), Err: err}, false
}

// cappedReader fails once more than left bytes have been read, remembers a read error, and keeps
// the start of the body for a DecodeError.
type cappedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
	err      error // the first read error other than io.EOF
	read     int64
	head     [256]byte
}

func (r *cappedReader) sample() []byte { return r.head[:min(r.read, int64(len(r.head)))] }

func (r *cappedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		// one byte more tells a body of exactly the cap from a longer one
		var one [1]byte
		n, err := r.r.Read(one[:])
		if n > 0 {
			r.exceeded = true
			return 0, ErrResponseTooLarge
		}
		return 0, r.note(err)
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	if r.read < int64(len(r.head)) {
		copy(r.head[r.read:], p[:n])
	}
	r.read += int64(n)
	r.left -= int64(n)
	return n, r.note(err)
}

func (r *cappedReader) note(err error) error {
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return err
}

// shouldRetry is the one retry decision. A GET is retried on connection errors and on 429, 502,
// 503 and 504. A POST is retried only when the server certainly did not act on it: the connection
// was never established, or it answered 429. It returns why, for the log.
func shouldRetry(method string, status int, err error, connected, ctxDone bool) (bool, string) {
	idempotent := method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
	switch {
	case ctxDone:
		return false, "context done"
	case status == 0 && err == nil:
		return false, ""
	case status == 0 && !connected:
		return true, "connection not established"
	case status == 0 && idempotent:
		return true, "connection error"
	case status == 0:
		return false, "not resent: the server may have acted on it"
	case status == http.StatusTooManyRequests:
		return true, "rate limited (429)"
	case idempotent && (status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout):
		return true, fmt.Sprintf("server unavailable (%d)", status)
	}
	return false, ""
}

// backoff is the wait before retry number attempt: the server's Retry-After (capped) when it gave
// one, else exponential backoff with jitter.
func (c *Client) backoff(attempt int, apiErr *APIError) time.Duration {
	p := c.retry
	if apiErr != nil && apiErr.RetryAfter > 0 {
		return min(apiErr.RetryAfter, p.MaxRetryAfter)
	}
	d := p.MinBackoff << min(attempt-1, 20)
	if d <= 0 || d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	return d/2 + rand.N(d/2+1) // equal jitter: at least half the step, so retries spread but still back off
}
