package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/probonus-go/probonus"
)

// probePath is what the doctor asks for without credentials: an API route every installation has.
const probePath = "/api/v0/account_groups/list"

// rttSamples is how many unauthenticated requests measure the round trip.
const rttSamples = 3

// checkServer asks for the groups without credentials: a ProBonus API answers that it wants
// them, and how it does tells the FastAPI generation. It measures the round trip on the way.
func (d *doctor) checkServer(ctx context.Context, base http.RoundTripper) bool {
	hc := &http.Client{Transport: base, Timeout: d.s.cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	target := d.base.String() + probePath
	var best time.Duration
	var resp *http.Response
	var body []byte
	for i := range rttSamples {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			d.add(statusFail, "server", err.Error())
			return false
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "probonus-cli/"+probonus.Version)
		start := time.Now()
		r, err := hc.Do(req)
		if err != nil {
			d.add(statusFail, "server", "no answer: "+unwrapURL(err).Error(),
				"is the server running, the port right (a local install listens on 11030), no firewall between?")
			return false
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		_ = r.Body.Close()
		if took := time.Since(start); i == 0 || took < best {
			best = took
		}
		resp, body = r, b
	}
	rtt := fmt.Sprintf("round trip %s (best of %d)", roundDuration(best), rttSamples)
	detail := d.errorDetail(body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		d.probe = "401"
		d.add(statusOK, "server", "a ProBonus API: asks for credentials with 401 (FastAPI 0.122 or newer), "+rtt)
	case resp.StatusCode == http.StatusForbidden && strings.EqualFold(detail, "Not authenticated"):
		d.probe = "403"
		d.add(statusOK, "server", "a ProBonus API: asks for credentials with 403 (FastAPI 0.121 or older), "+rtt)
	case resp.StatusCode == http.StatusOK:
		d.add(statusWarn, "server", "answers "+probePath+" without credentials, "+rtt,
			"anyone who can reach it can read guests' data: require an API key or a login")
	case resp.StatusCode == http.StatusNotFound:
		hint := "if a reverse proxy serves the API under a prefix, add it to the base URL: https://host/prefix"
		if p := strings.TrimRight(d.base.Path, "/"); p != "" {
			hint = "is the path " + p + " right? A local install answers at http://127.0.0.1:11030, without a path"
		}
		d.add(statusFail, "server", fmt.Sprintf("no ProBonus API here: GET %s%s is 404 %s", d.base.Path, probePath, detail), hint)
		return false
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		d.redirect = resp.Header.Get("Location")
		d.add(statusFail, "server", fmt.Sprintf("redirects (%d) to %s", resp.StatusCode, displayURL(resp.Header.Get("Location"))),
			"use the address it redirects to as the base URL: the SDK does not send credentials along a redirect to another origin")
		return false
	case resp.StatusCode >= 500:
		d.add(statusFail, "server", fmt.Sprintf("fails: %d %s", resp.StatusCode, detail),
			"a proxy in front answers while ProBonus behind it is down, or ProBonus fails: look at its log")
		return false
	default:
		d.add(statusWarn, "server", fmt.Sprintf("answers %d %s without credentials, which no ProBonus version does; %s", resp.StatusCode, detail, rtt))
	}
	return true
}

// errorDetail reads FastAPI's detail, or the start of a non-JSON body: secrets removed first,
// then cut.
func (d *doctor) errorDetail(body []byte) string {
	var v struct {
		Detail any `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil {
		if s, ok := v.Detail.(string); ok {
			return d.s.secrets.text(s)
		}
	}
	return d.s.secrets.cut(strings.Join(strings.Fields(string(body)), " "), 80)
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
