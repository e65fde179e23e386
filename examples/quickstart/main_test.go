package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/internal/exampleenv"
	"github.com/probonus-go/probonus/probonustest"
)

func TestQuickstartEmbedded(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(nil, func(string) string { return "" }, &out)
	require.Equal(t, 0, code, out.String())
	for _, line := range []string{
		"using an embedded probonustest server",
		`new guests go to 3 "Самостоятельно зарегистрировавшиеся"`,
		"is not a guest yet: created account",
		"balance 500.00 (the template's welcome bonus)",
		"credited 50.00 for a review in the app",
		"balance now 550.00",
		"last check #1207 at Пекарня на Невском",
		"Суп дня, полпорции         0.5 ×   534.00 =   267.00",
		"8. balance 142.35, awaiting issue 15.00",
	} {
		assert.Contains(t, out.String(), line)
	}
}

// TestQuickstartAgainstAServerChangesNothingWithoutWrite points the example at a server through the
// environment, as a user would point it at theirs.
func TestQuickstartAgainstAServerChangesNothingWithoutWrite(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	exampleenv.Seed(srv)
	env := map[string]string{exampleenv.EnvBaseURL: srv.URL(), exampleenv.EnvAPIKey: srv.APIKey()}
	var out bytes.Buffer
	require.Equal(t, 0, run(nil, func(k string) string { return env[k] }, &out), out.String())
	assert.Contains(t, out.String(), "read-only (pass -write to let it change data)")
	assert.Contains(t, out.String(), "is not a guest; run with -write to sign them up")
	for _, r := range srv.Requests() {
		assert.Equal(t, "GET", r.Method, "%s %s", r.Method, r.Path)
	}

	out.Reset()
	require.Equal(t, 0, run([]string{"-write"}, func(k string) string { return env[k] }, &out), out.String())
	assert.Contains(t, out.String(), "created account")
	assert.Equal(t, 1, srv.Count("POST", "/api/v0/accounts/refill"))
}

func TestQuickstartNeedsCredentialsForARealServer(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(nil, func(k string) string { return map[string]string{exampleenv.EnvBaseURL: "http://127.0.0.1:1"}[k] }, &out)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "set PROBONUS_API_KEY")
}
