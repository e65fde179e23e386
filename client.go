package probonus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

var (
	defaultLocation      = Moscow
	defaultRetryPolicy   = RetryPolicy{MaxAttempts: DefaultMaxAttempts, MinBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxRetryAfter: 30 * time.Second}
	errNoBaseURL         = errors.New("probonus: WithBaseURL is required")
	errTwoAuthenticators = errors.New("probonus: more than one of WithAPIKey, WithLogin, WithAuth and WithoutAuth")
	errNoAuth            = errors.New("probonus: no credentials: pass WithAPIKey, WithLogin or WithAuth " +
		"(or WithoutAuth, for a server that needs none)")
)

// Moscow is Moscow time (UTC+3, no daylight saving), where ProBonus servers usually run: the
// location WithLocation defaults to, in which timestamps without an offset are read and written.
var Moscow = time.FixedZone("MSK", 3*60*60)

// Client talks to one ProBonus server. It is safe for concurrent use; make one and share it.
type Client struct {
	Accounts      *AccountsService      // guests: create, find, refill, transactions, update, balance
	AccountGroups *AccountGroupsService // account groups and their templates
	Checks        *ChecksService        // checks down to dishes

	settings
	installation string      // the base URL's origin and path prefix: RefillOnce's keys are per installation
	phones       *phoneCache // phones already seen in the API's form
	held         *heldForms  // the forms of the client's own credentials, for the redactor of an error
}

// settings is what the options fill, plain data: New checks it and turns it into a Client once.
type settings struct {
	baseURL     *url.URL
	hc          *http.Client
	auth        Authenticator
	timeout     time.Duration
	retry       RetryPolicy
	limiter     Limiter // nil: unlimited
	userAgent   string
	loc         *time.Location
	phoneRegion string
	maxBody     int64
	observers   []Observer
	withoutAuth bool // WithoutAuth: no credentials, on purpose

	coordinator    RefillCoordinator // RefillOnce's locks and uncertain sends: the process's, or a fleet's
	refillLookback time.Duration     // RefillOnce: how far back it looks for a credit
	refillSettle   time.Duration     // RefillOnce: the wait before looking again; 0: the attempt timeout
}

// defaultSettings are the settings before any option.
func defaultSettings() settings {
	return settings{
		hc:             &http.Client{},
		timeout:        DefaultTimeout,
		retry:          defaultRetryPolicy,
		userAgent:      "probonus-go/" + Version,
		loc:            defaultLocation,
		phoneRegion:    "RU",
		maxBody:        DefaultMaxResponseSize,
		refillLookback: DefaultRefillLookback,
		coordinator:    processCoordinator,
	}
}

type service struct{ c *Client }

// Limiter paces requests; *rate.Limiter is one. Pass a fleet-wide one to WithLimiter.
type Limiter interface {
	Wait(ctx context.Context) error
}

// New makes a Client. WithBaseURL is required; an option with a bad value is an error.
func New(opts ...Option) (*Client, error) {
	s := defaultSettings()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&s); err != nil {
			return nil, err
		}
	}
	if s.baseURL == nil {
		return nil, errNoBaseURL
	}
	if s.auth == nil && !s.withoutAuth {
		return nil, errNoAuth
	}
	c := &Client{settings: s}
	c.phones, c.held = &phoneCache{}, &heldForms{}
	c.installation = installationOf(c.baseURL)
	c.hc.CheckRedirect = c.checkRedirect(c.hc.CheckRedirect)
	if la, ok := c.auth.(*loginAuth); ok {
		la.bind(c)
	}
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
