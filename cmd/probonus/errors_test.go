package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/probonus-go/probonus/probonustest"
)

func TestExitCodes(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	env := keyEnv(srv)
	acc := fmt.Sprint(f.account)
	cases := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"no command", env, nil, exitUsage, "Usage: probonus"},
		{"unknown command", env, []string{"fly"}, exitUsage, `unknown command "fly"`},
		{"unknown flag", env, []string{"find", "--colour", "x"}, exitUsage, "flag provided but not defined: -colour"},
		{"too many arguments", env, []string{"balance", acc, acc}, exitUsage, "want ACCOUNT, got 2 argument(s)"},
		{"not a number", env, []string{"balance", "abc"}, exitUsage, `ACCOUNT must be a positive number, got "abc"`},
		{"invalid phone, nothing sent", env, []string{"find", "12"}, exitUsage, "invalid phone"},
		{"no base URL", map[string]string{envAPIKey: "k"}, []string{"groups"}, exitUsage, "no base URL: set PROBONUS_BASE_URL"},
		{"base URL with /api/v0", map[string]string{envBaseURL: srv.URL() + "/api/v0/", envAPIKey: "k"}, []string{"groups"}, exitUsage,
			"the base URL ends in /api/v0, which the SDK adds itself: use " + srv.URL()},
		{"no credentials", map[string]string{envBaseURL: srv.URL()}, []string{"groups"}, exitUsage, "set PROBONUS_API_KEY, or PROBONUS_LOGIN and PROBONUS_PASSWORD"},
		{"both credentials", map[string]string{envBaseURL: srv.URL(), envAPIKey: "k", envLogin: "l", envPassword: "p"}, []string{"groups"}, exitUsage,
			"both PROBONUS_API_KEY and PROBONUS_LOGIN/PROBONUS_PASSWORD are set"},
		{"a flag overrides the environment's mode", map[string]string{envBaseURL: srv.URL(), envLogin: "nobody", envPassword: "wrong"},
			[]string{"groups", "--api-key", srv.APIKey()}, exitOK, ""},
		{"wrong API key", map[string]string{envBaseURL: srv.URL(), envAPIKey: "not-the-key"}, []string{"groups"}, exitFailed,
			"401 Unauthorized: Could not validate credentials; check PROBONUS_API_KEY"},
		{"wrong password", map[string]string{envBaseURL: srv.URL(), envLogin: "api-user", envPassword: "wrong"}, []string{"groups"}, exitFailed,
			"login failed"},
		{"server down", map[string]string{envBaseURL: "http://127.0.0.1:1", envAPIKey: "k"}, []string{"groups", "--timeout", "2s"}, exitFailed,
			"is the server up and PROBONUS_BASE_URL right? probonus doctor checks"},
		{"not found", env, []string{"find", "+7 999 000-00-00"}, exitNotFound, "no guest with phone 79990000000"},
		{"--to without --from", env, []string{"history", acc, "--to", "2024-02-01"}, exitUsage, "--to needs --from"},
		{"--last and a period", env, []string{"history", acc, "--last", "3", "--from", "2024-02-01"}, exitUsage, "not both"},
		{"--last too large", env, []string{"history", acc, "--last", "1001"}, exitUsage, "--last must be between 1 and 1000"},
		{"--last 0", env, []string{"history", acc, "--last", "0"}, exitUsage, "--last must be between 1 and 1000"},
		{"--last -1", env, []string{"history", acc, "--last", "-1"}, exitUsage, "--last must be between 1 and 1000"},
		{"--last 0 and a period", env, []string{"history", acc, "--last", "0", "--from", "2024-02-01"}, exitUsage, "not both"},
		{"an inverted period", env, []string{"history", acc, "--from", "2024-03-01", "--to", "2024-02-01"}, exitUsage,
			"--from 2024-03-01 is after --to 2024-02-01"},
		{"a period from the future", env, []string{"history", acc, "--from", "2999-01-01"}, exitUsage,
			"--from 2999-01-01 is in the future (without --to, the period ends now)"},
		{"a negative amount", env, []string{"refill", acc, "-5", "--reason", "x", "--yes"}, exitUsage, `AMOUNT must be a positive number such as 50 or 12.50, got "-5"`},
		{"a negative amount after a flag", env, []string{"refill", "--reason", "x", acc, "-5.50", "--yes"}, exitUsage, `got "-5.50"`},
		{"a negative account", env, []string{"balance", "-1001"}, exitUsage, `ACCOUNT must be a positive number, got "-1001"`},
		{"bad date", env, []string{"history", acc, "--from", "15.02.2024"}, exitUsage, `--from "15.02.2024": want YYYY-MM-DD`},
		{"bad time zone", env, []string{"groups", "--tz", "Mars/Olympus"}, exitUsage, `--tz "Mars/Olympus"`},
		{"--demo with a server", env, []string{"--demo", "--base-url", srv.URL(), "groups"}, exitUsage, "--demo uses an embedded server"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, tc.env, tc.args...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.stderr)
			if tc.code != exitOK && len(tc.args) > 0 {
				assert.Empty(t, r.stdout, "a failure prints nothing on stdout")
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "an error is one line: %q", r.stderr)
			}
		})
	}
}
