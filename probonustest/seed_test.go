package probonustest_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestExampleSeedLoads: the example under examples/serve is what the Seed documentation says.
func TestExampleSeedLoads(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../examples/serve/seed.json")
	require.NoError(t, err)
	seed, err := probonustest.ParseSeed(data)
	require.NoError(t, err)
	srv := probonustest.NewServer(t)
	require.NoError(t, srv.Load(seed))

	assert.Equal(t, "282.50", srv.Balance(2001), "250 carried over, +100 refill, -30 withdrawal, -50 paid, +12.50 earned")
	assert.Empty(t, srv.Refills(2001), "a seeded transaction is not a refill made through the API")
	txs := srv.Transactions(2001)
	require.Len(t, txs, 4)
	assert.Equal(t, []string{"refill", "check_payment", "check_accrual", "withdrawal"}, []string{txs[0].Type, txs[1].Type, txs[2].Type, txs[3].Type})
	assert.Len(t, srv.Checks(2001), 2)
	assert.Equal(t, "0.00", srv.Balance(2002))
	assert.Equal(t, "0.00", srv.Balance(2003), "an account without an id takes the next free one")

	resp, acc, _ := call(t, srv, "GET", probonustest.PathFindByPhone+"?phone=79165550001", "", nil)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "Серебро", acc["level"].(map[string]any)["name"])
	assert.Equal(t, "Гости кафе", acc["groupName"])
	_, bal, _ := call(t, srv, "GET", probonustest.PathBalanceExtended+"?accountId=2001", "", nil)
	assert.Equal(t, "9.00", bal["bonusAwaitingIssue"])
	_, check, _ := call(t, srv, "GET", probonustest.PathCheckByID+"?checkId=7001", "", nil)
	assert.Equal(t, "620.00", check["sum"])
	assert.Equal(t, "16.00", check["discountSum"])
}

// TestSeedErrorsNameTheLine: every mistake is refused with the line it is on.
func TestSeedErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		line       int
		msg        string
	}{
		{"not an object", "\n[1]", 2, "a seed file is a JSON object"},
		{"broken JSON", "{\n  \"groups\": [\n    {\"name\": \"a\",}\n  ]\n}", 3, "invalid character '}'"},
		{"cut short", "{\n  \"groups\": [\n", 3, "the file ends before the JSON does"},
		{"unknown key", "{\n  \"guests\": []\n}", 2, `unknown key "guests"`},
		{"key twice", "{\"groups\": [],\n\"groups\": []}", 2, `"groups" is given twice`},
		{"not a list", "{\"accounts\":\n {}}", 2, "accounts: want a list"},
		{"unknown field", "{\"accounts\": [\n  {\"groupId\": 3,\n   \"phnoe\": \"79991234567\"}]}", 3, `accounts[0]: unknown field "phnoe"`},
		{"wrong type", "{\"accounts\": [\n  {\"groupId\": 3},\n  {\"groupId\":\n \"3\"}]}", 4, "accounts[1]: groupId: want a whole number, got string"},
		{"bad phone", "{\"accounts\": [{\"groupId\": 3,\n \"phone\": \"12-34\"}]}", 2, `phone "12-34" has 4 digits`},
		{"bad amount", "{\"accounts\": [{\"groupId\": 3,\n\n \"balance\": \"1,5\"}]}", 3, `balance: "1,5" is not an amount`},
		{"bad date", "{\"checks\": [{\"accountId\": 1001, \"accrueOn\": \"15.02.2030\"}]}", 1, "accrueOn \"15.02.2030\": want YYYY-MM-DD"},
		{"check type as a transaction", "{\"transactions\": [\n{\"accountId\": 1, \"type\": \"check_accrual\", \"sum\": 5}]}", 2, "list the check under checks"},
		{"more after the object", "{}\n{}", 2, "one object per file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := probonustest.ParseSeed([]byte(tc.file))
			var serr *probonustest.SeedError
			require.True(t, errors.As(err, &serr), "%v", err)
			assert.Equal(t, tc.line, serr.Line, "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestLoadRefusesWhatTheStateCannotTake: ids and phones taken, references to nothing, with lines.
func TestLoadRefusesWhatTheStateCannotTake(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		line       int
		msg        string
	}{
		{"a server's own group", "{\"groups\": [\n{\"id\": 3, \"name\": \"x\"}]}", 2, "group 3 exists"},
		{"no such group", "{\"accounts\": [\n{\"groupId\": 3},\n{\"groupId\": 9}]}", 3, "accounts[1]: group 9 does not exist"},
		{"phone twice", "{\"accounts\": [{\"groupId\": 3, \"phone\": \"79991234567\"},\n{\"groupId\": 3, \"phone\": \"89991234567\"}]}", 2, "already exists"},
		{"no such guest", "{\"checks\": [\n\n{\"phone\": \"+7 999 000-00-00\"}]}", 3, "no account has phone 79990000000"},
		{"the demo's phone", "{\"accounts\": [{\"groupId\": 3, \"phone\": \"" + probonustest.DemoPhone + "\"}]}", 1, "already exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seed, err := probonustest.ParseSeed([]byte(tc.file))
			require.NoError(t, err)
			err = probonustest.NewServer(t, probonustest.WithDemoData()).Load(seed)
			var serr *probonustest.SeedError
			require.True(t, errors.As(err, &serr), "%v", err)
			assert.Equal(t, tc.line, serr.Line, "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestResetGoesBackToTheSeed: what the API changed is undone; the demo and the seeds come back.
func TestResetGoesBackToTheSeed(t *testing.T) {
	t.Parallel()
	seed, err := probonustest.ParseSeed([]byte(`{"accounts": [{"id": 2001, "groupId": 3, "phone": "79165550001", "balance": 10}]}`))
	require.NoError(t, err)
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	require.NoError(t, srv.Load(seed))
	resp, _, _ := call(t, srv, "POST", probonustest.PathRefill, `{"accountId": 2001, "amount": 5}`, nil)
	require.Equal(t, 200, resp.StatusCode)
	resp, _, _ = call(t, srv, "POST", probonustest.PathInsertByTemplate, `{"accountId": 3, "phone": "79990001122"}`, nil)
	require.Equal(t, 200, resp.StatusCode)
	srv.Inject("GET", probonustest.PathAccountGroupsList, probonustest.Fault{Status: 503})
	require.Equal(t, "15.00", srv.Balance(2001))

	require.NoError(t, srv.Reset())
	assert.Equal(t, "10.00", srv.Balance(2001))
	assert.Empty(t, srv.Refills(2001))
	assert.Empty(t, srv.Requests())
	assert.Equal(t, "142.35", srv.Balance(1001), "the demo guest is back")
	resp, _, _ = call(t, srv, "GET", probonustest.PathFindByPhone+"?phone=79990001122", "", nil)
	assert.Equal(t, 404, resp.StatusCode, "the guest signed up through the API is gone")
	resp, _, _ = call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
	assert.Equal(t, 200, resp.StatusCode, "the queued fault is gone")
	_, _, txs := call(t, srv, "GET", probonustest.PathTransactions+"?accountId=1001&count=10", "", nil)
	assert.Len(t, txs, 2, "the demo's checks once, not twice")
	var ids []json.Number
	for _, tx := range txs {
		ids = append(ids, tx.(map[string]any)["checkId"].(json.Number))
	}
	assert.Equal(t, []json.Number{"5001", "5001"}, ids, "the same ids as before the reset")
}
