package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// TestUpdateParse: the flags given, and only those, become the request's fields ("" clears one);
// each is named for the confirmation; what cannot be sent is refused before anything is.
func TestUpdateParse(t *testing.T) {
	t.Parallel()
	o, err := parseCmd(t, newUpdateCmd, nil, "1001", "--email", "", "--phone", "8 916 000 00 00", "--blocked", "true",
		"--discount-code", "17", "--bonus-lifetime-days", "30")
	require.NoError(t, err)
	assert.Equal(t, updateOptions{
		update: probonus.AccountUpdate{AccountID: 1001, Email: probonus.Ptr(""), Phone: probonus.Ptr("8 916 000 00 00"),
			IsBlocked: probonus.Ptr(true), DiscountCode: probonus.Ptr(probonus.Code("17")), BonusLifetimeDays: probonus.Ptr(30)},
		changes: []string{`blocked="true"`, `bonus-lifetime-days="30"`, `discount-code="17"`, `email=""`, `phone="8 916 000 00 00"`},
	}, o)

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"1001"}, "nothing to change"},
		{[]string{"1001", "--blocked", "maybe"}, `--blocked "maybe": want true or false`},
		{[]string{"1001", "--bonus-lifetime-days", "-1"}, "want a number of days"},
		{[]string{"1001", "--gender", "x"}, `--gender "x": want male or female`},
		{[]string{"0", "--email", "a@b.c"}, `ACCOUNT must be a positive number, got "0"`},
	} {
		_, err := parseCmd(t, newUpdateCmd, nil, tc.args...)
		assert.Equal(t, exitUsage, exitCode(err), "%v", tc.args)
		assert.ErrorContains(t, err, tc.err, "%v", tc.args)
	}
}

// TestRunUpdate runs update without flags: the change confirmed (--yes) as given, the phone
// normalised before it is sent.
func TestRunUpdate(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	s, stdout, stderr := testSession(t, srv)
	o := updateOptions{update: probonus.AccountUpdate{AccountID: f.account, Phone: probonus.Ptr("8 (916) 765-43-21"), Email: probonus.Ptr("ivan.petrov@example.com")},
		changes: []string{`email="ivan.petrov@example.com"`, `phone="8 (916) 765-43-21"`}}
	require.NoError(t, runUpdate(context.Background(), s, o))
	assert.Contains(t, stderr.String(), `about to change account 1001: email="ivan.petrov@example.com", phone="8 (916) 765-43-21".`)
	assert.Regexp(t, `^Updated account 1001\.\n\n`, stdout.String())
	assert.Regexp(t, `phone\s+79167654321\n`, stdout.String())
	assert.Regexp(t, `email\s+ivan\.petrov@example\.com\n`, stdout.String())

	err := runUpdate(context.Background(), s, updateOptions{update: probonus.AccountUpdate{AccountID: 999999, Email: probonus.Ptr("a@b.c")}, changes: []string{`email="a@b.c"`}})
	assert.Equal(t, exitNotFound, exitCode(err))
	assert.ErrorContains(t, err, "no account 999999")
}
