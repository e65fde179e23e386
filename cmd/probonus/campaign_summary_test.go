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
