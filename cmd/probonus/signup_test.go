package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// TestSignupParse: one guest's fields become the request (the phone as given), a file's flags
// its run's options, and what cannot go together is refused before anything is sent.
func TestSignupParse(t *testing.T) {
	t.Parallel()
	o, err := parseCmd(t, newSignupCmd, nil, "+7 999 123-45-67", "--group", "3", "--first-name", "Анна",
		"--gender", "Female", "--birth-date", "1990-05-01", "--card", "42")
	require.NoError(t, err)
	birth, err := probonus.ParseDate("1990-05-01")
	require.NoError(t, err)
	assert.Equal(t, signupOptions{account: probonus.NewAccount{Phone: "+7 999 123-45-67", GroupID: 3, FirstName: probonus.Ptr("Анна"),
		Gender: probonus.Ptr(probonus.GenderFemale), BirthDate: &birth,
		Identifiers: []probonus.Identifier{{Type: probonus.IdentifierCard, Value: "42"}}}}, o)

	o, err = parseCmd(t, newSignupCmd, nil, "--file", "guests.csv", "--group", "3", "--concurrency", "2")
	require.NoError(t, err)
	require.NotNil(t, o.campaign)
	assert.Equal(t, campaignOptions{kind: signupCampaign, file: "guests.csv", concurrency: 2, group: 3,
		progress: progressAuto, every: progressEvery, stopAfter: systemicStreak}, *o.campaign)

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"+7 999 123-45-67"}, "--group is required"},
		{[]string{"+7 999 123-45-67", "--group", "3", "--gender", "x"}, `--gender "x": want male or female`},
		{[]string{"+7 999 123-45-67", "--group", "3", "--birth-date", "01.05.1990"}, `--birth-date "01.05.1990": want YYYY-MM-DD`},
		{[]string{"+7 999 123-45-67", "--group", "3", "--dry-run"}, "--dry-run, --out and --concurrency go with --file"},
		{[]string{"--file", "guests.csv", "--group", "3", "--email", "a@b.c"}, "with --file, each guest's fields are in its columns"},
		{[]string{"--file", "guests.csv"}, "--group is required"},
	} {
		_, err := parseCmd(t, newSignupCmd, nil, tc.args...)
		assert.Equal(t, exitUsage, exitCode(err), "%v", tc.args)
		assert.ErrorContains(t, err, tc.err, "%v", tc.args)
	}
}

// TestRunSignup runs signup without flags: a guest created once confirmed (--yes), the phone
// normalised; a second time the guest exists.
func TestRunSignup(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	s, stdout, stderr := testSession(t, srv)
	o := signupOptions{account: probonus.NewAccount{Phone: "8 (999) 123-45-67", GroupID: 3, FirstName: probonus.Ptr("Анна")}}
	require.NoError(t, runSignup(context.Background(), s, o))
	assert.Contains(t, stderr.String(), "about to create a guest with phone 79991234567 in group 3 named Анна.")
	assert.Regexp(t, `^Created account \d+\.\n\n`, stdout.String())
	assert.Regexp(t, `phone\s+79991234567\n`, stdout.String())

	err := runSignup(context.Background(), s, o)
	assert.ErrorIs(t, err, probonus.ErrAccountExists)
	assert.ErrorContains(t, err, "probonus find 79991234567 shows the guest")
}

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
