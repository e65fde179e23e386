package probonustest_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

func TestDemoDataIsAReturningGuestWithVisits(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	resp, acc, _ := call(t, srv, "GET", probonustest.PathFindByPhone+"?phone=79161112233", "", nil)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "Пётр", acc["firstName"])
	assert.Equal(t, "142.35", acc["balance"], "300 seeded, 200 paid, 42.35 earned")

	id := acc["id"].(json.Number).String()
	_, bal, _ := call(t, srv, "GET", probonustest.PathBalanceExtended+"?accountId="+id, "", nil)
	assert.Equal(t, "15.00", bal["bonusAwaitingIssue"], "the second visit's accrual is deferred")

	_, _, txs := call(t, srv, "GET", probonustest.PathTransactions+"?count=10&accountId="+id, "", nil)
	require.NotEmpty(t, txs)
	newest := txs[0].(map[string]any)
	_, check, _ := call(t, srv, "GET", probonustest.PathCheckByID+"?checkId="+newest["checkId"].(json.Number).String(), "", nil)
	assert.Equal(t, json.Number("1207"), check["number"])
	assert.Len(t, check["dishes"], 3)

	resp, _, _ = call(t, srv, "GET", probonustest.PathFindByPhone+"?phone=79991234567", "", nil)
	assert.Equal(t, 404, resp.StatusCode, "DemoNewPhone is not signed up")
}

func TestSeedDemoReturnsWhatItAdded(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	d := probonustest.SeedDemo(srv)
	assert.Equal(t, "142.35", srv.Balance(d.AccountID))
	require.Len(t, d.CheckIDs, 2)
	resp, check, _ := call(t, srv, "GET", fmt.Sprintf(probonustest.PathCheckByID+"?checkId=%d", d.CheckIDs[1]), "", nil)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, json.Number("1311"), check["number"])
}
