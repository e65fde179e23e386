package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/openapidiff"
	"github.com/probonus-go/probonus/internal/tokenlife"
	"github.com/probonus-go/probonus/probonustest"
)

// Statuses of a doctor's finding.
const (
	statusOK   = "ok"
	statusWarn = "warn"
	statusFail = "FAIL"
)

// finding is one line of the doctor's output.
type finding struct {
	Name    string   `json:"name"`
	Status  string   `json:"status"` // ok, warn or FAIL
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
}

// doctor checks one installation, step by step, and only reads.
type doctor struct {
	s        *session
	phone    string // normalised; "" without --phone
	base     *url.URL
	findings []finding
	rec      *recorder
	hc       *http.Client     // through rec: every SDK client of the doctor uses it
	reader   *probonus.Client // authenticated, for the reads after the auth checks
	groups   []probonus.AccountGroup
	read     []any // what the guest's reads decoded into, for the money check
	probe    string
	redirect string // where the server redirected the probe, withheld from the report like the host
	// the installation's OpenAPI document and its differences from the SDK's model
	transport   http.RoundTripper
	document    []byte
	differences []openapidiff.Difference
}

func doctorCommand(fs *flag.FlagSet) runner {
	phone := fs.String("phone", "", "a guest's phone: read their account, balance, transactions and a check, and compare every answer with the SDK's model (with --demo: the demo guest)")
	report := fs.String("report", "", "write a report to send us to this file, with phones, names, emails, birth dates, tokens and cards replaced by fakes")
	openapi := fs.String("openapi", "", "compare this OpenAPI document (a file, or a URL) with the SDK's model instead of the installation's own; without a base URL, only that, and nothing is sent")
	return func(ctx context.Context, s *session, _ []string) error {
		d := &doctor{s: s}
		if *openapi != "" && s.cfg.baseURL == "" {
			d.checkOpenAPI(ctx, *openapi) // alone: no server to check
			return d.finish(*report)
		}
		if *phone == "" && s.server != nil {
			*phone = probonustest.DemoPhone
		}
		if *phone != "" {
			p, err := probonus.NormalizePhone(*phone)
			if err != nil {
				return usageErrorf("--phone: %s", strings.TrimPrefix(err.Error(), "probonus: "))
			}
			d.phone = p
		}
		base := http.DefaultTransport.(*http.Transport).Clone()
		if s.roots != nil {
			base.TLSClientConfig = &tls.Config{RootCAs: s.roots}
		}
		defer base.CloseIdleConnections()
		d.rec = &recorder{next: learner{s: s.secrets, next: base}}
		d.hc = &http.Client{Transport: d.rec}
		d.transport = learner{s: s.secrets, next: base}
		d.run(ctx, base, *openapi)
		return d.finish(*report)
	}
}

// add records a finding, without a secret: a finding is printed, in --json and in the report.
func (d *doctor) add(status, name, summary string, details ...string) {
	for i := range details {
		details[i] = d.s.secrets.text(details[i])
	}
	d.findings = append(d.findings, finding{Name: name, Status: status, Summary: d.s.secrets.text(summary), Details: details})
}

// run makes the checks in order; a check that leaves nothing to build on ends the run.
func (d *doctor) run(ctx context.Context, base *http.Transport, openapi string) {
	steps := []func(context.Context) bool{
		d.checkBaseURL,
		d.checkAddress,
		d.checkTLS,
		func(ctx context.Context) bool { return d.checkServer(ctx, base) },
		d.checkAuth,
		d.checkGroups,
		d.checkGuest,
	}
	for _, step := range steps {
		if !step(ctx) {
			break
		}
	}
	if d.base != nil && (openapi != "" || d.reachable()) {
		d.checkOpenAPI(ctx, openapi)
	}
	d.checkContract()
	d.checkMoney()
}

// sdkOptions are the options of the doctor's SDK clients: through the recorder, one attempt (a
// retry would hide what the server does), the configuration's location and log.
func (d *doctor) sdkOptions(auth probonus.Option) []probonus.Option {
	return append(d.s.clientOptions(d.base.String()), probonus.WithHTTPClient(d.hc),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}), auth)
}

// checkAuth tries the API key, and the login followed by a token refresh; either may be configured.
func (d *doctor) checkAuth(ctx context.Context) bool {
	cfg := d.s.cfg
	if cfg.apiKey == "" && cfg.login == "" {
		d.add(statusFail, "auth", "no credentials",
			"set "+envAPIKey+" to an API user's token (made in the admin UI), or "+envLogin+" and "+envPassword)
		return false
	}
	if cfg.apiKey != "" && cfg.login != "" && d.s.server == nil {
		d.add(statusFail, "config", "both an API key and a login are set: the other commands refuse that, as the SDK's FromEnv does; unset one",
			"the doctor checks both below")
	}
	if cfg.apiKey != "" {
		c, err := probonus.New(d.sdkOptions(probonus.WithAPIKey(cfg.apiKey))...)
		if err != nil {
			d.add(statusFail, "API key", d.sdkText(err))
		} else if groups, err := c.AccountGroups.List(ctx); err != nil {
			d.authFailed("API key", err, "make a token for an API user in the admin UI and set "+envAPIKey)
		} else {
			d.add(statusOK, "API key", "accepted")
			d.reader, d.groups = c, groups
		}
	}
	if cfg.login != "" {
		d.checkLogin(ctx)
	}
	return d.reader != nil
}

func (d *doctor) authFailed(name string, err error, hint string) {
	if errors.Is(err, probonus.ErrUnauthorized) {
		d.add(statusFail, name, "refused: "+d.sdkText(err), hint)
		return
	}
	d.add(statusFail, name, d.sdkText(err))
}

// sdkText is an SDK error without its "probonus: " prefixes, nor a secret the server echoed. An
// answer the SDK cannot decode is told by the decoder's error alone: the body's start it also
// carries may hold personal data, and the contract check says what was unreadable.
func (d *doctor) sdkText(err error) string {
	d.s.secrets.scrubErr(err)
	return sdkText(err)
}

func sdkText(err error) string {
	var dec *probonus.DecodeError
	if errors.As(err, &dec) {
		return fmt.Sprintf("%s %s: the SDK cannot read the answer: %s", dec.Method, dec.Path, sdkText(dec.Err))
	}
	return strings.ReplaceAll(err.Error(), "probonus: ", "")
}

// tokenReply is a login or refresh answer in either spelling; tokens stay in memory only.
type tokenReply struct {
	Access       string      `json:"accessToken"`
	AccessSnake  string      `json:"access_token"`
	Refresh      string      `json:"refreshToken"`
	RefreshSnake string      `json:"refresh_token"`
	ExpiresIn    json.Number `json:"expiresIn"`
	ExpiresSnake json.Number `json:"expires_in"`
}

func (t tokenReply) access() string  { return cmp(t.Access, t.AccessSnake) }
func (t tokenReply) refresh() string { return cmp(t.Refresh, t.RefreshSnake) }

// lifetime is the token's lifetime as the SDK reads it (tokenlife.Of); zero when not told.
func (t tokenReply) lifetime() time.Duration {
	d, _ := tokenlife.Of(cmp(t.ExpiresIn, t.ExpiresSnake), t.access())
	return d
}

func cmp[T ~string](a, b T) T {
	if a != "" {
		return a
	}
	return b
}

func describeLifetime(d time.Duration) string {
	if d <= 0 {
		return "lifetime not told (no expiresIn, not a JWT): the SDK renews it when the server refuses it"
	}
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "valid for less than a minute"
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("valid for %dm", m)
	case m == 0:
		return fmt.Sprintf("valid for %dh", h)
	}
	return fmt.Sprintf("valid for %dh%dm", h, m)
}

// bearer sends a token the doctor obtained itself, to prove the token works.
type bearer struct{ token func() string }

func (b bearer) Authenticate(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+b.token())
	return nil
}

// checkLogin logs in and refreshes by hand, so each step is seen on its own, and proves each
// token on a read; then it leaves reading to the SDK's own login when there is no API key.
func (d *doctor) checkLogin(ctx context.Context) {
	cfg := d.s.cfg
	anon, err := probonus.New(d.sdkOptions(probonus.WithoutAuth())...) // login and refresh carry no credentials
	if err != nil {
		d.add(statusFail, "login", d.sdkText(err))
		return
	}
	var tok tokenReply
	err = anon.Do(ctx, http.MethodPost, "/api/v0/auth/login", nil, map[string]string{"login": cfg.login, "password": cfg.password}, &tok)
	switch {
	case errors.Is(err, probonus.ErrNotFound):
		d.add(statusFail, "login", "the server has no /api/v0/auth/login: "+d.sdkText(err), "use an API key ("+envAPIKey+")")
		return
	case err != nil:
		d.authFailed("login", err, "check "+envLogin+" and "+envPassword+": an API user's, made in the admin UI")
		return
	case tok.access() == "":
		d.add(statusFail, "login", "answered without an access token (accessToken or access_token)", "send us the report (--report)")
		return
	}
	if err := d.proveToken(ctx, tok.access()); err != nil {
		d.add(statusFail, "login", "a token the server then refuses: "+d.sdkText(err))
		return
	}
	summary := "accepted: " + describeLifetime(tok.lifetime())
	if tok.refresh() == "" {
		d.add(statusOK, "login", summary+"; no refresh token, so the SDK logs in again when it expires")
	} else {
		d.add(statusOK, "login", summary+", with a refresh token")
		var fresh tokenReply
		err := anon.Do(ctx, http.MethodPost, "/api/v0/auth/refresh_token", nil, map[string]string{"refreshToken": tok.refresh()}, &fresh)
		switch {
		case err != nil:
			d.add(statusWarn, "refresh", "refused: "+d.sdkText(err), "the SDK then logs in again, which works, at the cost of a login per token lifetime")
		case fresh.access() == "":
			d.add(statusWarn, "refresh", "answered without an access token", "the SDK then logs in again")
		default:
			if err := d.proveToken(ctx, fresh.access()); err != nil {
				d.add(statusFail, "refresh", "a token the server then refuses: "+d.sdkText(err))
			} else {
				d.add(statusOK, "refresh", "a new access token, "+describeLifetime(fresh.lifetime()))
			}
		}
	}
	if d.reader == nil {
		c, err := probonus.New(d.sdkOptions(probonus.WithLogin(cfg.login, cfg.password))...)
		if err != nil {
			d.add(statusFail, "login", d.sdkText(err))
			return
		}
		if d.groups, err = c.AccountGroups.List(ctx); err != nil {
			d.add(statusFail, "login", "the SDK's own login failed: "+d.sdkText(err))
			return
		}
		d.reader = c
	}
}

func (d *doctor) proveToken(ctx context.Context, token string) error {
	c, err := probonus.New(d.sdkOptions(probonus.WithAuth(bearer{token: func() string { return token }}))...)
	if err != nil {
		return err
	}
	_, err = c.AccountGroups.List(ctx)
	return err
}

// checkGroups says which groups can receive sign-ups.
func (d *doctor) checkGroups(context.Context) bool {
	var with []string
	for _, g := range d.groups {
		if g.HaveTemplate {
			with = append(with, fmt.Sprintf("%d %q", g.ID, g.Name))
		}
	}
	n := fmt.Sprintf("%d groups", len(d.groups))
	switch len(with) {
	case 0:
		d.add(statusWarn, "groups", n+", none with a template: signup cannot create guests",
			"tick \"Шаблон для API\" on a group in the admin UI")
	case 1:
		d.add(statusOK, "groups", n+"; signup creates guests in "+with[0]+", the one with a template")
	default:
		d.add(statusOK, "groups", n+"; "+fmt.Sprint(len(with))+" with a template: "+strings.Join(with, ", "))
	}
	return true
}

// checkGuest reads one guest's data the way the SDK's users do, for the contract and money checks.
func (d *doctor) checkGuest(ctx context.Context) bool {
	if d.phone == "" {
		return false
	}
	c := d.reader
	acc, err := c.Accounts.FindByPhone(ctx, d.phone)
	if errors.Is(err, probonus.ErrNotFound) {
		d.add(statusWarn, "guest", "no guest with phone "+d.phone, "pass --phone with an existing guest's number to compare their data with the model")
		return false
	}
	if err != nil {
		d.add(statusFail, "guest", "find_by_phone: "+d.sdkText(err))
		return false
	}
	d.read = append(d.read, acc)
	var problems []string
	last, err := c.Accounts.LastTransactions(ctx, acc.ID, 50)
	if err != nil {
		problems = append(problems, "last transactions: "+d.sdkText(err))
	}
	d.read = append(d.read, last)
	now := time.Now().In(d.s.loc)
	period, err := c.Accounts.Transactions(ctx, acc.ID, now.AddDate(0, 0, -90), now)
	if err != nil {
		problems = append(problems, "transactions of 90 days: "+d.sdkText(err))
	}
	d.read = append(d.read, period)
	bal, err := c.Accounts.BalanceExtended(ctx, acc.ID)
	if err != nil {
		problems = append(problems, "balance: "+d.sdkText(err))
	} else {
		d.read = append(d.read, bal)
	}
	checkNote := "no check among them"
	for _, tx := range append(last, period...) {
		if tx.CheckID == 0 {
			continue
		}
		ch, err := c.Checks.GetByID(ctx, tx.CheckID)
		if err != nil {
			problems = append(problems, fmt.Sprintf("check %d: %s", tx.CheckID, d.sdkText(err)))
			checkNote = fmt.Sprintf("check %d unreadable", tx.CheckID)
		} else {
			d.read = append(d.read, ch)
			checkNote = fmt.Sprintf("check %d with %d dish%s", ch.ID, len(ch.Dishes), map[bool]string{true: "es"}[len(ch.Dishes) != 1])
		}
		break
	}
	summary := fmt.Sprintf("%s is account %d: %d transactions (%d in the last 90 days), %s", d.phone, acc.ID, len(last), len(period), checkNote)
	if bal != nil {
		summary += ", balance " + money(bal.BonusBalance)
	}
	if len(problems) > 0 {
		d.add(statusFail, "guest", summary, problems...)
		return true
	}
	d.add(statusOK, "guest", summary)
	return true
}

// outcome counts the findings by status.
func (d *doctor) outcome() (fails, warns int) {
	for _, f := range d.findings {
		switch f.Status {
		case statusFail:
			fails++
		case statusWarn:
			warns++
		}
	}
	return fails, warns
}
