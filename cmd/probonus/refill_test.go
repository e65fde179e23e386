package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// TestRefillParse: one credit's arguments and flags become the request, a file's flags its run's
// options, and what cannot work is refused before anything is sent.
func TestRefillParse(t *testing.T) {
	t.Parallel()
	o, err := parseCmd(t, newRefillCmd, nil, "1001", "12.50", "--reason", "Отзыв", "--once", "--burn-date", "2030-01-31")
	require.NoError(t, err)
	burn, err := probonus.ParseDate("2030-01-31")
	require.NoError(t, err)
	amount, err := probonus.ParseAmount("12.50")
	require.NoError(t, err)
	assert.Equal(t, refillOptions{refill: probonus.Refill{AccountID: 1001, Amount: amount, Reason: probonus.Ptr("Отзыв"), BurnDate: &burn}, once: true}, o)

	o, err = parseCmd(t, newRefillCmd, nil, "--file", "credits.csv", "--dry-run")
	require.NoError(t, err)
	require.NotNil(t, o.campaign)
	assert.Equal(t, campaignOptions{kind: refillCampaign, file: "credits.csv", dryRun: true, concurrency: defaultConcurrency,
		progress: progressAuto, every: progressEvery, stopAfter: systemicStreak}, *o.campaign)

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"1001", "50"}, "--reason is required"},
		{[]string{"1001", "-5", "--reason", "x"}, `AMOUNT must be a positive number such as 50 or 12.50, got "-5"`},
		{[]string{"1001", "0.001", "--reason", "x"}, "has a fraction of a kopeck"},
		{[]string{"abc", "50", "--reason", "x"}, `ACCOUNT must be a positive number, got "abc"`},
		{[]string{"1001", "50", "--reason", "x", "--burn-date", "31.01.2030"}, `--burn-date "31.01.2030": want YYYY-MM-DD`},
		{[]string{"1001", "50", "--reason", "x", "--out", "r.csv"}, "--dry-run, --out and --concurrency go with --file"},
		{[]string{"--file", "credits.csv", "--reason", "x"}, "drop --reason and --burn-date"},
		{[]string{"--file", "credits.csv", "--concurrency", "0"}, "--concurrency must be between 1 and 64, got 0"},
	} {
		_, err := parseCmd(t, newRefillCmd, nil, tc.args...)
		assert.Equal(t, exitUsage, exitCode(err), "%v", tc.args)
		assert.ErrorContains(t, err, tc.err, "%v", tc.args)
	}
}

// TestRunRefill runs refill without flags: a credit once confirmed (--yes), and with once the
// same credit again found in the history and not sent.
func TestRunRefill(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	s, stdout, stderr := testSession(t, srv)
	o := refillOptions{refill: probonus.Refill{AccountID: f.account, Amount: probonus.AmountFromMinor(5000), Reason: probonus.Ptr("Отзыв")}, once: true}
	require.NoError(t, runRefill(context.Background(), s, o))
	assert.Contains(t, stderr.String(), `about to credit 50.00 to account 1001 (balance 242.35) with reason "Отзыв", unless its history has this credit already.`)
	assert.Regexp(t, `^Credited 50\.00 to account 1001: transaction \d+, balance 292\.35\.\n$`, stdout.String())
	assert.Equal(t, "292.35", srv.Balance(f.account))

	s, stdout, _ = testSession(t, srv)
	require.NoError(t, runRefill(context.Background(), s, o))
	assert.Contains(t, stdout.String(), "Already credited")
	assert.Equal(t, "292.35", srv.Balance(f.account), "not credited twice")

	err := runRefill(context.Background(), s, refillOptions{refill: probonus.Refill{AccountID: 999999, Amount: probonus.AmountFromMinor(100), Reason: probonus.Ptr("x")}})
	assert.Equal(t, exitNotFound, exitCode(err))
	assert.ErrorContains(t, err, "no account 999999")
}
