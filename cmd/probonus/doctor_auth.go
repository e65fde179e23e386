package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/tokenreply"
)

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

// tokenReply is a login or refresh answer as the SDK reads it; its tokens stay in memory only.
type tokenReply = tokenreply.Reply

// lifetimeOf is the token's lifetime as the SDK reads it; zero when not told.
func lifetimeOf(t tokenReply) time.Duration {
	d, _ := t.Lifetime()
	return d
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
	case tok.Access() == "":
		d.add(statusFail, "login", "answered without an access token (accessToken or access_token)", "send us the report (--report)")
		return
	}
	if err := d.proveToken(ctx, tok.Access()); err != nil {
		d.add(statusFail, "login", "a token the server then refuses: "+d.sdkText(err))
		return
	}
	summary := "accepted: " + describeLifetime(lifetimeOf(tok))
	if tok.Refresh() == "" {
		d.add(statusOK, "login", summary+"; no refresh token, so the SDK logs in again when it expires")
	} else {
		d.add(statusOK, "login", summary+", with a refresh token")
		var fresh tokenReply
		err := anon.Do(ctx, http.MethodPost, "/api/v0/auth/refresh_token", nil, map[string]string{"refreshToken": tok.Refresh()}, &fresh)
		switch {
		case err != nil:
			d.add(statusWarn, "refresh", "refused: "+d.sdkText(err), "the SDK then logs in again, which works, at the cost of a login per token lifetime")
		case fresh.Access() == "":
			d.add(statusWarn, "refresh", "answered without an access token", "the SDK then logs in again")
		default:
			if err := d.proveToken(ctx, fresh.Access()); err != nil {
				d.add(statusFail, "refresh", "a token the server then refuses: "+d.sdkText(err))
			} else {
				d.add(statusOK, "refresh", "a new access token, "+describeLifetime(lifetimeOf(fresh)))
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
