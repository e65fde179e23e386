package main

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestSignupSaysWhyTheServerRefused (issue 17, item 16): a group without a template, or with no
// such group, points at probonus groups; only a duplicate says the guest may exist already.
func TestSignupSaysWhyTheServerRefused(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		srv, _ := newServer(t, flavor)
		for _, tc := range []struct {
			name, phone, group string
			want, not          string
		}{
			{"no template", "+7 999 123-45-67", "1", "group 1 has no template: probonus groups lists those that have one", "may exist already"},
			{"no such group", "+7 999 123-45-67", "77", "no group 77: probonus groups lists those with a template", "may exist already"},
			{"a duplicate", guestPhone, "3", "(an account with this phone exists); probonus find 79161234567 shows the guest", "probonus groups"},
		} {
			r := runCLI(t, keyEnv(srv), "signup", tc.phone, "--group", tc.group, "--yes")
			assert.Equal(t, exitFailed, r.code, "%s: %s", tc.name, r.stderr)
			assert.Contains(t, r.stderr, tc.want, tc.name)
			assert.NotContains(t, r.stderr, tc.not, tc.name)
		}
	}
}

// TestDevNullIsNotATerminal (issue 17, item 16): </dev/null is a character device but no
// terminal: a write is refused without a question.
func TestDevNullIsNotATerminal(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	devNull, err := os.Open(os.DevNull)
	require.NoError(t, err)
	t.Cleanup(func() { _ = devNull.Close() })
	env := keyEnv(srv)
	var stdout, stderr bytes.Buffer
	code := run([]string{"refill", fmt.Sprint(f.account), "50", "--reason", "Отзыв"}, devNull, &stdout, &stderr, func(k string) string { return env[k] })
	assert.Equal(t, exitUsage, code, stderr.String())
	assert.Contains(t, stderr.String(), "not done: stdin is not a terminal; pass --yes")
	assert.NotContains(t, stderr.String(), "Go ahead?")
	assert.Empty(t, stdout.String())
	assert.Zero(t, srv.Count("POST", refillPath))
}
