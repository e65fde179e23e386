// Package capture runs the SDK's read-only calls for one guest against a server and keeps each raw
// response: the recorder writes them as fixtures, the live contract check compares them with the
// model. Its transport refuses anything but a GET, and the login and token refresh, whose answers
// (tokens) are never kept.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/fixture"
)

// Capture is one raw response and the type the SDK decodes it into.
type Capture struct {
	Name     string // fixture name, e.g. "accounts/find_by_phone"
	Response *fixture.Response
	New      func() any // a pointer to a new value of the type
}

// Options say what to read.
type Options struct {
	Phone  string            // the guest
	Days   int               // the period of transactions, back from now; default 90
	Count  int               // how many last transactions; default 50
	Checks int               // at most this many checks named by the transactions; default 5
	Out    io.Writer         // a progress line per call; default none
	Client []probonus.Option // base URL and credentials, and any other option
	// Transport is the transport under the capturing one; default http.DefaultTransport.
	Transport http.RoundTripper
}

// keptHeaders are the response headers a capture keeps; the rest may identify the installation.
var keptHeaders = []string{"Content-Type", "Retry-After", "Www-Authenticate"}

// Run makes the calls and returns what came back, in order. A call the server refuses (a 404 for
// an unknown phone, say) is captured too; a transport failure ends the run.
func Run(ctx context.Context, o Options) ([]Capture, error) {
	if o.Phone == "" {
		return nil, errors.New("no phone to read")
	}
	o.Days, o.Count, o.Checks = orDefault(o.Days, 90), orDefault(o.Count, 50), orDefault(o.Checks, 5)
	if o.Out == nil {
		o.Out = io.Discard
	}
	t := &transport{next: o.Transport, got: map[string]*fixture.Response{}}
	if t.next == nil {
		t.next = http.DefaultTransport
	}
	c, err := probonus.New(append(append([]probonus.Option{}, o.Client...),
		probonus.WithHTTPClient(&http.Client{Transport: t}), probonus.WithUserAgent("probonus-go-capture"))...)
	if err != nil {
		return nil, err
	}
	var caps []Capture
	step := func(name string, call func() (string, error)) error {
		t.start(name)
		summary, err := call()
		r := t.response(name)
		if r == nil {
			fmt.Fprintf(o.Out, "%-36s failed: %v\n", name, err)
			return fmt.Errorf("%s: %w", name, err)
		}
		if err != nil {
			summary = err.Error()
		}
		fmt.Fprintf(o.Out, "%-36s %d %s\n", name, r.Status, summary)
		caps = append(caps, Capture{Name: name, Response: r, New: TypeFor(name)})
		return nil
	}

	if err := step("account_groups/list", func() (string, error) {
		g, err := c.AccountGroups.List(ctx)
		return fmt.Sprintf("(%d groups)", len(g)), err
	}); err != nil {
		return caps, err
	}
	var acc *probonus.Account
	if err := step("accounts/find_by_phone", func() (string, error) {
		var err error
		acc, err = c.Accounts.FindByPhone(ctx, o.Phone)
		return "(the guest)", err
	}); err != nil || acc == nil {
		return caps, err
	}
	var txs []probonus.Transaction
	if err := step("accounts/transactions_last", func() (string, error) {
		var err error
		txs, err = c.Accounts.LastTransactions(ctx, acc.ID, o.Count)
		return fmt.Sprintf("(%d transactions)", len(txs)), err
	}); err != nil {
		return caps, err
	}
	if err := step("accounts/transactions_period", func() (string, error) {
		period, err := c.Accounts.Transactions(ctx, acc.ID, time.Now().AddDate(0, 0, -o.Days), time.Now())
		return fmt.Sprintf("(%d transactions in %d days)", len(period), o.Days), err
	}); err != nil {
		return caps, err
	}
	if err := step("accounts/get_balance_extended", func() (string, error) {
		b, err := c.Accounts.BalanceExtended(ctx, acc.ID)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("(%d burnings, %d deferred)", len(b.Burnings), len(b.LateIssues)), nil
	}); err != nil {
		return caps, err
	}
	seen := map[int64]bool{}
	for _, tx := range txs {
		if tx.CheckID == 0 || seen[tx.CheckID] || len(seen) >= o.Checks {
			continue
		}
		seen[tx.CheckID] = true
		name := fmt.Sprintf("checks/get_by_id_%d", len(seen))
		if err := step(name, func() (string, error) {
			ch, err := c.Checks.GetByID(ctx, tx.CheckID)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("(%d dishes)", len(ch.Dishes)), nil
		}); err != nil {
			return caps, err
		}
	}
	return caps, nil
}

// TypeFor returns a constructor of the type a capture (or a fixture of that name) decodes into, or
// nil for a name Run does not make.
func TypeFor(name string) func() any {
	switch {
	case strings.HasPrefix(name, "account_groups/list"):
		return func() any { return &[]probonus.AccountGroup{} }
	case strings.HasPrefix(name, "accounts/find_by_phone"):
		return func() any { return &probonus.Account{} }
	case strings.HasPrefix(name, "accounts/transactions_"):
		return func() any { return &[]probonus.Transaction{} }
	case strings.HasPrefix(name, "accounts/get_balance_extended"):
		return func() any { return &probonus.BalanceExtended{} }
	case strings.HasPrefix(name, "checks/get_by_id"):
		return func() any { return &probonus.Check{} }
	}
	return nil
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// transport keeps the last response of each step, and refuses anything that could change data.
type transport struct {
	next http.RoundTripper
	mu   sync.Mutex
	step string
	got  map[string]*fixture.Response
}

func (t *transport) start(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.step = name
}

func (t *transport) response(name string) *fixture.Response {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.got[name]
}

// RoundTrip sends GETs, and logins and refreshes without keeping their answers; it refuses the rest.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	auth := strings.Contains(req.URL.Path, "/api/v0/auth/")
	if req.Method != http.MethodGet && !auth {
		return nil, fmt.Errorf("capture: refusing to send %s %s: only read-only endpoints are called", req.Method, req.URL.Path)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || auth {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	f := &fixture.Response{Status: resp.StatusCode, Header: http.Header{}, Body: body}
	for _, h := range keptHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			f.Header[h] = v
		}
	}
	t.mu.Lock()
	t.got[t.step] = f
	t.mu.Unlock()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp, nil
}

// FromEnv reads the server and credentials from PROBONUS_BASE_URL and PROBONUS_API_KEY, or
// PROBONUS_LOGIN and PROBONUS_PASSWORD.
func FromEnv(getenv func(string) string) ([]probonus.Option, error) {
	base := getenv("PROBONUS_BASE_URL")
	if base == "" {
		return nil, errors.New("set PROBONUS_BASE_URL, and PROBONUS_API_KEY or PROBONUS_LOGIN and PROBONUS_PASSWORD")
	}
	if key := getenv("PROBONUS_API_KEY"); key != "" {
		return []probonus.Option{probonus.WithBaseURL(base), probonus.WithAPIKey(key)}, nil
	}
	return []probonus.Option{probonus.WithBaseURL(base), probonus.WithLogin(getenv("PROBONUS_LOGIN"), getenv("PROBONUS_PASSWORD"))}, nil
}
