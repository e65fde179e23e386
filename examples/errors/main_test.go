package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

func TestErrorsExample(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(nil, func(string) string { return "" }, &out)
	require.Equal(t, 0, code, out.String())
	for _, line := range []string{
		`errors.As(*InputError): field "phone"`,
		`errors.As(*InputError): field "Refill.Amount", has a fraction of a kopeck`,
		"errors.Is(probonus.ErrNotFound)",
		"errors.Is(probonus.ErrUnauthorized)",
		"errors.Is(probonus.ErrBadRequest)",
		"body.amount: Input should be greater than 0",
		"errors.Is(probonus.ErrServer)",
		"a 429 with Retry-After: 1, then success (2 groups)\n   err: <nil>",
		"errors.Is(context.DeadlineExceeded)",
		"== a refill whose answer was lost (applied, then the connection dropped)\n",
		"== a refill whose 200 answer broke off half-way\n",
		"== a refill answered 500 after it was applied\n",
		"requests sent: 1; the guest's refills went from 0 to 1",
		"requests sent: 1; the guest's refills went from 1 to 2",
		"requests sent: 1; the guest's refills went from 2 to 3",
	} {
		assert.Contains(t, out.String(), line)
	}
	assert.Equal(t, 3, strings.Count(out.String(), "→ errors.Is(probonus.ErrOutcomeUnknown)"), "each lost refill, and nothing else")
}

// TestErrorsAgainstAServerChangesNothingWithoutWrite points the example at a server through the
// environment, as a user would point it at theirs: only the read-only cases run.
func TestErrorsAgainstAServerChangesNothingWithoutWrite(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	env := map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey()}
	var out bytes.Buffer
	require.Equal(t, 0, run(nil, func(k string) string { return env[k] }, &out), out.String())
	assert.Contains(t, out.String(), "# using "+srv.URL())
	assert.Contains(t, out.String(), "errors.Is(probonus.ErrUnauthorized)")
	assert.NotContains(t, out.String(), "signing up")
	for _, r := range srv.Requests() {
		assert.Equal(t, "GET", r.Method, "%s %s", r.Method, r.Path)
	}
}
