package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

func TestBearerRefreshesInTheLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	out := &lockedWriter{w: &buf} // a background refresh may still be logging when run returns
	code := run([]string{"-for", "4500ms", "-every", "250ms"}, func(string) string { return "" }, out)
	out.mu.Lock()
	log := buf.String()
	out.mu.Unlock()
	require.Equal(t, 0, code, log)
	assert.Equal(t, 1, strings.Count(log, "path=/api/v0/auth/login"), log)
	assert.GreaterOrEqual(t, strings.Count(log, "path=/api/v0/auth/refresh_token"), 2, log)
	assert.Contains(t, log, "listed 2 account groups")
	assert.Regexp(t, regexp.MustCompile(`the server saw 1 login and [2-9] token refreshes`), log)
	assert.NotContains(t, log, "probonustest-password")
	assert.NotContains(t, log, "probonustest-refresh-")
	assert.NotContains(t, log, "eyJ", "no token in the log")
}

// TestBearerAgainstAServerLogsInEvenWithAKeySet points the example at a server through the
// environment, as a user would point it at theirs: the login is used, the key ignored.
func TestBearerAgainstAServerLogsInEvenWithAKeySet(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	login, password := srv.Login()
	env := map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey(),
		"PROBONUS_LOGIN": login, "PROBONUS_PASSWORD": password}
	var buf bytes.Buffer
	out := &lockedWriter{w: &buf}
	code := run([]string{"-for", "1ms"}, func(k string) string { return env[k] }, out)
	out.mu.Lock()
	log := buf.String()
	out.mu.Unlock()
	require.Equal(t, 0, code, log)
	assert.Contains(t, log, "# using "+srv.URL())
	assert.Contains(t, log, "listed 2 account groups")
	logins, _ := srv.AuthCounts()
	assert.Equal(t, 1, logins)
	for _, r := range srv.Requests() {
		assert.Empty(t, r.Header.Get("X-API-Key"), "%s %s", r.Method, r.Path)
	}

	delete(env, "PROBONUS_PASSWORD")
	buf.Reset()
	assert.Equal(t, 1, run(nil, func(k string) string { return env[k] }, out))
	assert.Contains(t, buf.String(), "PROBONUS_LOGIN is set but PROBONUS_PASSWORD is not")
}

// issue 26 item 13: with only an API key set, the example says that it logs in and which
// variables it needs, not FromEnv's "set PROBONUS_API_KEY, or …" (the key is set, and ignored).
func TestBearerWithOnlyAnAPIKeyAsksForTheLogin(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	env := map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey()}
	var buf bytes.Buffer
	out := &lockedWriter{w: &buf}
	code := run(nil, func(k string) string { return env[k] }, out)
	assert.Equal(t, 1, code)
	assert.Equal(t, "error: this example logs in with a login and password: set PROBONUS_LOGIN and PROBONUS_PASSWORD "+
		"(PROBONUS_API_KEY is set, but not used here; examples/quickstart uses it)\n", buf.String())
	assert.NotContains(t, buf.String(), srv.APIKey())
	assert.Empty(t, srv.Requests(), "nothing is sent")

	delete(env, "PROBONUS_API_KEY")
	buf.Reset()
	assert.Equal(t, 1, run(nil, func(k string) string { return env[k] }, out))
	assert.Equal(t, "error: this example logs in with a login and password: set PROBONUS_LOGIN and PROBONUS_PASSWORD\n", buf.String())
}
