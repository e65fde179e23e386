package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestBalanceParse: the account is a positive number, refused otherwise before anything is sent.
func TestBalanceParse(t *testing.T) {
	t.Parallel()
	o, err := parseCmd(t, newBalanceCmd, nil, "1001")
	require.NoError(t, err)
	assert.Equal(t, balanceOptions{accountID: 1001}, o)
	for _, bad := range []string{"abc", "0", "-1001"} {
		_, err := parseCmd(t, newBalanceCmd, nil, bad)
		assert.Equal(t, exitUsage, exitCode(err), bad)
		assert.ErrorContains(t, err, fmt.Sprintf("ACCOUNT must be a positive number, got %q", bad))
	}
}

// TestRunBalance runs balance without flags: what arrives and burns in date order, and a 404
// that names the account.
func TestRunBalance(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Legacy)
	s, stdout, _ := testSession(t, srv)
	require.NoError(t, runBalance(context.Background(), s, balanceOptions{accountID: f.account}))
	assert.Regexp(t, `balance\s+242\.35\n`, stdout.String())
	assert.Regexp(t, `2030-01-15  arrives   15\.00\n2030-01-31  burns    200\.00\n`, stdout.String())

	err := runBalance(context.Background(), s, balanceOptions{accountID: 999999})
	assert.Equal(t, exitNotFound, exitCode(err))
	assert.ErrorContains(t, err, "no account 999999")
}
