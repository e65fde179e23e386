package probonus

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/probonus-go/probonus/internal/redact"
)

// Option configures a Client in New: it fills the settings New turns into the Client.
type Option func(*settings) error

// WithBaseURL sets the server's address, e.g. http://127.0.0.1:11030 for a local install. Required.
// A path in it (a reverse proxy's prefix) is kept in front of every request path.
func WithBaseURL(rawURL string) Option {
	return func(c *settings) error {
		// Errors show the URL without its user info and query, either of which may hold a credential.
		raw := strings.TrimSpace(rawURL)
		if raw != "" && !strings.Contains(raw, "://") {
			return fmt.Errorf("probonus: WithBaseURL: %q has no scheme: write http://%s (or https://)", redact.URL(raw), strings.TrimLeft(redact.URL(raw), "/"))
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("probonus: WithBaseURL: %q is not an http(s) URL with a host", redact.URL(raw))
		}
		var not []string
		if u.User != nil {
			not = append(not, "user info")
		}
		if u.RawQuery != "" || u.ForceQuery {
			not = append(not, "a query")
		}
		if u.Fragment != "" {
			not = append(not, "a fragment")
		}
		if len(not) > 0 {
			return fmt.Errorf("probonus: WithBaseURL: %q: %s not allowed in the base URL "+
				"(credentials go in WithAPIKey or WithLogin)", redact.URL(raw), strings.Join(not, " and ")+map[bool]string{true: " is", false: " are"}[len(not) == 1])
		}
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		for _, page := range []string{"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"} {
			if strings.HasSuffix(strings.ToLower(u.Path), page) {
				// the address of the installation's Swagger page, copied from the browser
				return fmt.Errorf("probonus: WithBaseURL: %q is the installation's %s page; give the server's root "+
					"(the same URL without %s)", redact.URL(raw), page, page)
			}
		}
		if p := strings.ToLower(u.Path); strings.HasSuffix(p, "/api/v0") || strings.HasSuffix(p, "/api") {
			// Every call would be a 404 that reads as "no such guest": say so now.
			return fmt.Errorf("probonus: WithBaseURL: %q ends in %s; give the server's root (e.g. http://127.0.0.1:11030, "+
				"or a proxy's prefix): the SDK adds /api/v0 itself", redact.URL(raw), u.Path[strings.LastIndex(p, "/api"):])
		}
		c.baseURL = u
		return nil
	}
}

// WithAPIKey authenticates every request with a permanent API token in X-API-Key.
func WithAPIKey(key string) Option {
	return func(c *settings) error {
		// A key read from a file or an environment file ends in a newline: trim it. A control
		// character inside cannot be sent in a header; refuse it here, not at the first request.
		// (A new variable: an Option may be applied by many New calls at once.)
		k := strings.TrimSpace(key)
		if k == "" {
			return errors.New("probonus: WithAPIKey: empty key")
		}
		if strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return errors.New("probonus: WithAPIKey: the key holds a control character")
		}
		return c.setAuth(apiKeyAuth{key: newCredential(k)})
	}
}

// WithLogin authenticates with a bearer token from POST /api/v0/auth/login, logging in on the first
// request, refreshing before expiry and on rejection, and logging in again when a refresh fails.
func WithLogin(login, password string) Option {
	return func(c *settings) error {
		if strings.TrimSpace(login) == "" || password == "" {
			return errors.New("probonus: WithLogin: empty login or password")
		}
		return c.setAuth(&loginAuth{login: login, password: newCredential(password), now: time.Now})
	}
}

// WithAuth authenticates with any Authenticator, e.g. one that reads a token from a vault.
func WithAuth(a Authenticator) Option {
	return func(c *settings) error {
		if a == nil {
			return errors.New("probonus: WithAuth: nil Authenticator")
		}
		return c.setAuth(a)
	}
}

// WithoutAuth sends no credentials, for a server that needs none (a test server, or one behind a
// proxy that authenticates). New refuses a client with no credentials unless this is given, since
// every call to a real ProBonus would fail with 401.
func WithoutAuth() Option {
	return func(c *settings) error {
		if c.auth != nil {
			return errTwoAuthenticators
		}
		c.withoutAuth = true
		return nil
	}
}

func (c *settings) setAuth(a Authenticator) error {
	if c.auth != nil || c.withoutAuth {
		return errTwoAuthenticators
	}
	c.auth = a
	return nil
}

// WithHTTPClient sends requests through a copy of hc; hc itself is never changed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *settings) error {
		if hc == nil {
			return errors.New("probonus: WithHTTPClient: nil client")
		}
		cp := *hc
		c.hc = &cp
		return nil
	}
}

// WithTimeout bounds each attempt, response body included. Default 30s.
func WithTimeout(d time.Duration) Option {
	return positiveDuration("WithTimeout", d, func(c *settings) *time.Duration { return &c.timeout })
}

// WithRetry sets the retry policy. Default: 3 attempts; RetryPolicy{MaxAttempts: 1} turns retries off.
func WithRetry(p RetryPolicy) Option {
	return func(c *settings) error {
		if p.MaxAttempts < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 || p.MaxRetryAfter < 0 {
			return errors.New("probonus: WithRetry: negative value")
		}
		c.retry = p.withDefaults()
		return nil
	}
}

// WithRateLimit paces this client's requests, retries included, with a token bucket of r requests
// per second and the given burst. Default: unlimited.
func WithRateLimit(r rate.Limit, burst int) Option {
	return func(c *settings) error {
		if r <= 0 || burst <= 0 {
			return errors.New("probonus: WithRateLimit: rate and burst must be positive")
		}
		c.limiter = rate.NewLimiter(r, burst)
		return nil
	}
}

// WithLimiter paces requests with l, for example one limiter shared by a fleet of processes.
func WithLimiter(l Limiter) Option {
	return func(c *settings) error {
		if l == nil {
			return errors.New("probonus: WithLimiter: nil limiter")
		}
		c.limiter = l
		return nil
	}
}

// WithLogger logs through l: one line per attempt at Debug (method, path, status, duration,
// attempt, and the retry reason, error and request id when there are any), a retry and a failed
// call at Warn; a call whose error the SDK handled itself (Call.Handled: FindOrInsert's 404 for a
// new guest) at Debug. Never a header value, a body or a query. It is one Observer among those
// given to WithObserver, called in the order the options are given. Default: silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *settings) error {
		if l == nil {
			return errors.New("probonus: WithLogger: nil logger")
		}
		c.observers = append(c.observers, logObserver{l})
		return nil
	}
}

// WithUserAgent appends ua to the User-Agent "probonus-go/<version>".
func WithUserAgent(ua string) Option {
	return func(c *settings) error {
		if ua = strings.TrimSpace(ua); ua != "" {
			c.userAgent += " " + ua
		}
		return nil
	}
}

// WithLocation sets how timestamps without an offset are read, and how times are written in
// requests. Default: Moscow time (UTC+3), where ProBonus servers usually run.
func WithLocation(loc *time.Location) Option {
	return func(c *settings) error {
		if loc == nil {
			return errors.New("probonus: WithLocation: nil location")
		}
		c.loc = loc
		return nil
	}
}

// WithPhoneRegion sets the region (ISO 3166 code) of phone numbers written without a country
// code. Default: "RU".
func WithPhoneRegion(region string) Option {
	return func(c *settings) error {
		region = strings.ToUpper(strings.TrimSpace(region))
		if !knownRegion(region) {
			return fmt.Errorf("probonus: WithPhoneRegion: unknown region %q", region)
		}
		c.phoneRegion = region
		return nil
	}
}

// WithMaxResponseSize caps how much of a success body is read; a longer one fails with
// ErrResponseTooLarge. Default 32 MiB.
func WithMaxResponseSize(n int64) Option {
	return func(c *settings) error {
		if n <= 0 {
			return errors.New("probonus: WithMaxResponseSize: must be positive")
		}
		c.maxBody = n
		return nil
	}
}

// WithObserver adds an Observer of calls, attempts, logins and refreshes (see Observer). Several
// may be given; they are called in the order given. Without any, the request path does no extra work.
func WithObserver(o Observer) Option {
	return func(c *settings) error {
		if o == nil {
			return errors.New("probonus: WithObserver: nil observer")
		}
		c.observers = append(c.observers, o)
		return nil
	}
}

// WithRefillLookback sets how far back RefillOnce looks in an account's history for a credit with
// the same reason and amount. Default 30 days: a key used again after that credits again.
func WithRefillLookback(d time.Duration) Option {
	return positiveDuration("WithRefillLookback", d, func(c *settings) *time.Duration { return &c.refillLookback })
}

// WithRefillSettle sets how long RefillOnce waits, after a send whose outcome is unknown, before
// it looks in the history again. Default: the per-attempt timeout (WithTimeout). Make it longer
// than any delay your network can hold a request (see RefillOnce).
func WithRefillSettle(d time.Duration) Option {
	return positiveDuration("WithRefillSettle", d, func(c *settings) *time.Duration { return &c.refillSettle })
}

// WithRefillCoordinator makes RefillOnce serialise its keys and remember uncertain sends through rc
// instead of in the process: probonusredis.NewCoordinator shares them across a fleet, so two pods
// handling the same webhook credit once. See RefillCoordinator.
func WithRefillCoordinator(rc RefillCoordinator) Option {
	return func(c *settings) error {
		if rc == nil {
			return errors.New("probonus: WithRefillCoordinator: nil coordinator")
		}
		c.coordinator = rc
		return nil
	}
}

// FromEnv returns the options that connect to the server the environment names, read through
// getenv (os.Getenv when nil; a map lookup in a test): PROBONUS_BASE_URL, and either
// PROBONUS_API_KEY or both PROBONUS_LOGIN and PROBONUS_PASSWORD. There is no precedence between
// the two ways to authenticate: setting both is an error rather than a silent choice, as is a login
// without its password. A variable set to spaces only counts as unset. Each error names the
// variable and never a credential; options given after these to New may add to them (a timeout, a
// logger), not replace the credentials.
//
//	opts, err := probonus.FromEnv(os.Getenv)
//	if err != nil { ... }
//	client, err := probonus.New(append(opts, probonus.WithTimeout(10*time.Second))...)
func FromEnv(getenv func(string) string) ([]Option, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(name string) string {
		if v := getenv(name); strings.TrimSpace(v) != "" {
			return v
		}
		return ""
	}
	base, key, login, password := get("PROBONUS_BASE_URL"), get("PROBONUS_API_KEY"), get("PROBONUS_LOGIN"), get("PROBONUS_PASSWORD")
	var opts []Option
	var err error
	switch {
	case base == "":
		err = errors.New("PROBONUS_BASE_URL is not set (e.g. http://127.0.0.1:11030)")
	case key != "" && (login != "" || password != ""):
		err = errors.New("both PROBONUS_API_KEY and PROBONUS_LOGIN/PROBONUS_PASSWORD are set: unset one of them")
	case key != "":
		opts = []Option{WithBaseURL(base), WithAPIKey(key)}
	case login != "" && password == "":
		err = errors.New("PROBONUS_LOGIN is set but PROBONUS_PASSWORD is not")
	case login == "" && password != "":
		err = errors.New("PROBONUS_PASSWORD is set but PROBONUS_LOGIN is not")
	case login != "":
		opts = []Option{WithBaseURL(base), WithLogin(login, password)}
	default:
		err = errors.New("set PROBONUS_API_KEY, or PROBONUS_LOGIN and PROBONUS_PASSWORD")
	}
	if err != nil {
		return nil, fmt.Errorf("probonus: FromEnv: %w", err)
	}
	// Check the values now, so the error names the variable rather than the option.
	names := []string{"PROBONUS_BASE_URL", "PROBONUS_API_KEY"}
	if key == "" {
		names[1] = "PROBONUS_LOGIN and PROBONUS_PASSWORD"
	}
	for i, opt := range opts {
		if err := opt(&settings{}); err != nil {
			return nil, fmt.Errorf("probonus: FromEnv: %s: %s", names[i], strings.TrimPrefix(err.Error(), "probonus: "))
		}
	}
	return opts, nil
}

// positiveDuration is an option that sets the duration field names to d, which must be positive.
func positiveDuration(name string, d time.Duration, field func(*settings) *time.Duration) Option {
	return func(c *settings) error {
		if d <= 0 {
			return fmt.Errorf("probonus: %s: %v is not positive", name, d)
		}
		*field(c) = d
		return nil
	}
}
