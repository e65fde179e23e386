package probonustest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// From the adversarial review of issue 26 (money in the fake).
// Money in the fake: an amount beyond what int64 kopecks hold wrapped around. 2^64+1 kopecks
// ("184467440737095516.17") was credited as 0.01 and answered 200: a client test of large
// amounts passed against a fake that silently changed the amount. It is refused (the amount is
// condecimal(max_digits=18, decimal_places=2)), never credited as another amount.
func TestReview26HugeAmountIsNotWrapped(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+79000000003", Balance: "0"})
	status, out := postBody(t, srv, probonustest.PathRefill, "application/json", fmt.Sprintf(`{"accountId":%d,"amount":"184467440737095516.17"}`, id))
	if status == http.StatusOK {
		assert.Equal(t, "184467440737095516.17", out["balance"], "credited as another amount")
	} else {
		assert.Equal(t, "0.00", srv.Balance(id))
	}
	assert.NotEqual(t, "0.01", srv.Balance(id))
}

// A balance the column cannot hold is refused as the database would (500), and nothing is
// credited: many refills of the largest amount never wrap the balance around int64 either.
func TestRefillBeyondTheLargestBalanceIsRefused(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+79000000004", Balance: "9999999999999999.00"})
	body := fmt.Sprintf(`{"accountId":%d,"amount":"0.99"}`, id)
	status, _ := postBody(t, srv, probonustest.PathRefill, "application/json", body)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "9999999999999999.99", srv.Balance(id))

	req, err := http.NewRequest(http.MethodPost, srv.URL()+probonustest.PathRefill, strings.NewReader(
		fmt.Sprintf(`{"accountId":%d,"amount":"0.01"}`, id)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", srv.APIKey())
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "9999999999999999.99", srv.Balance(id), "nothing credited")
}
