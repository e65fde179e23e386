package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// issue 26 item 18: --json's money is what the API writes, a string with two decimals.
func TestCampaignJSONMoney(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", fmt.Sprintf("account,amount,reason\n%d,100,Отзыв\n", f.account))
	r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sum))
	assert.Equal(t, "100.00", sum["credited"])
	assert.Equal(t, "0.00", sum["alreadyCredited"])
}

// From the adversarial review of issue 26 (item 18).
// issue 26 item 18: --json makes a run's summary JSON with money as strings; a dry run with
// --json printed human text ("Would credit 5.00 in all: 1 row."), which a script cannot parse.
// It prints JSON, money as strings.
func TestReview26DryRunJSON(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", fmt.Sprintf("account,amount,reason\n%d,5,Отзыв\n1,7,Отзыв\n", f.account))
	r := runCLI(t, keyEnv(srv), "--json", "refill", "--file", path, "--dry-run")
	assert.Equal(t, exitFailed, r.code, "a row would fail: %s", r.stderr)
	var out dryRunOutput
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "--json --dry-run printed:\n%s", r.stdout)
	assert.Contains(t, r.stdout, `"creditUpTo": "5.00"`, "the money that would be credited, as a string")
	assert.True(t, out.DryRun)
	assert.Equal(t, 1, out.Ready)
	assert.Nil(t, out.AlreadyExists, "a credit has no guests who exist already")
	require.Len(t, out.WouldFail, 1)
	assert.Equal(t, problemJSON{Line: 3, Column: "account", Error: "no account 1"}, out.WouldFail[0])
}

// issue 26 item 18: a sign-up's dry run with --json counts the guests who have an account, and
// has no money.
func TestCampaignDryRunJSONSignup(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	path := writeCSV(t, "g.csv", "phone\n\""+guestPhone+"\"\n+79001112233\n")
	r := runCLI(t, keyEnv(srv), "--json", "signup", "--file", path, "--group", "3", "--dry-run")
	require.Equal(t, exitOK, r.code, r.stderr)
	var out dryRunOutput
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	assert.NotContains(t, r.stdout, "creditUpTo")
	require.NotNil(t, out.AlreadyExists)
	assert.Equal(t, dryRunOutput{DryRun: true, File: path, Rows: 2, Columns: []string{"phone"}, Delimiter: ",", Ready: 1, Group: 3,
		AlreadyExists: out.AlreadyExists, WouldFail: []problemJSON{}}, out)
	assert.Equal(t, 1, *out.AlreadyExists)
}
