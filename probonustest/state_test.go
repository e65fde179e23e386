package probonustest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

func TestSeededBalanceIsNotARefill(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567", Balance: "300"})
	assert.Equal(t, "300.00", srv.Balance(id))
	assert.Empty(t, srv.Transactions(id), "the starting balance predates the history")
	assert.Empty(t, srv.Refills(id))
	assert.Equal(t, 0, srv.TransactionCount(id, "refill"))
	_, _, txs := call(t, srv, "GET", fmt.Sprintf("%s?accountId=%d&count=10", probonustest.PathTransactions, id), "", nil)
	assert.Empty(t, txs, "nor on the wire")

	call(t, srv, "POST", probonustest.PathRefill, fmt.Sprintf(`{"accountId":%d,"amount":"50"}`, id), nil)
	assert.Equal(t, "350.00", srv.Balance(id))
	assert.Equal(t, 1, srv.TransactionCount(id, "refill"), "one refill, the one the test made")
}

func TestWelcomeBonusIsATransactionButNotARefill(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	_, acc, _ := call(t, srv, "POST", probonustest.PathInsertByTemplate, `{"accountId":3,"phone":"+7 999 123-45-67"}`, nil)
	var id int64
	_, err := fmt.Sscan(fmt.Sprint(acc["id"]), &id)
	require.NoError(t, err)
	txs := srv.Transactions(id)
	require.Len(t, txs, 1)
	assert.Equal(t, "refill", txs[0].Type, "on the wire a welcome bonus is a refill")
	assert.Equal(t, "500.00", txs[0].Sum)
	assert.Empty(t, srv.Refills(id), "but no refill call made it")
}

func TestGettersReadWhatTheServerHolds(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	srv := probonustest.NewServer(t, probonustest.WithLocation(msk))
	id := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "8 (916) 111-22-33", Balance: "300"})
	late := srv.AddCheck(probonustest.Check{AccountID: id, Number: 2, Datetime: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), BonusAccrued: "5",
		Dishes: []probonustest.Dish{{Code: 1, Name: "Чай", Quantity: "1", Price: "100"}}})
	early := srv.AddCheck(probonustest.Check{AccountID: id, Number: 1, Datetime: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), BonusPaid: "200",
		Dishes: []probonustest.Dish{{Code: 2, Name: "Кофе", Quantity: "2", Price: "150"}}})

	checks := srv.Checks(id)
	require.Len(t, checks, 2)
	assert.Equal(t, early, checks[0].ID, "oldest first")
	assert.Equal(t, late, checks[1].ID)
	assert.Equal(t, "Кофе", checks[0].Dishes[0].Name)
	assert.Equal(t, msk, checks[0].Datetime.Location(), "in the server's location")
	checks[0].Dishes[0].Name = "changed"
	assert.Equal(t, "Кофе", srv.Checks(id)[0].Dishes[0].Name, "a copy")

	txs := srv.Transactions(id)
	require.Len(t, txs, 2)
	assert.Equal(t, probonustest.Transaction{ID: txs[0].ID, AccountID: id, Datetime: time.Date(2026, 3, 1, 12, 0, 0, 0, msk),
		Type: "check_payment", Sum: "-200.00", CheckID: early, CheckNumber: 1}, txs[0])
	assert.Equal(t, "check_accrual", txs[1].Type)
	assert.Equal(t, "5.00", txs[1].Sum)
	assert.Equal(t, "105.00", srv.Balance(id))

	assert.Empty(t, srv.Checks(999), "no such account")
	assert.Empty(t, srv.Transactions(999))
	assert.Equal(t, "", srv.Balance(999))
}

func TestAddAccountRefusesAnInvalidPhoneClearly(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	tests := []struct{ phone, want string }{
		{"12345", `probonustest: AddAccount: phone "12345" has 5 digits, not 10 to 15`},
		{"+7 999 123-45-67-89-01-23", `phone "+7 999 123-45-67-89-01-23" has 17 digits`},
		{"+7 999 ABC-45-67", `phone "+7 999 ABC-45-67" has 'A': a phone holds digits`},
		{"79991234567\n", `has '\n'`},
	}
	for _, tt := range tests {
		msg, _ := panicValue(func() { srv.AddAccount(probonustest.Account{GroupID: 1, Phone: tt.phone}) }).(string)
		assert.Contains(t, msg, tt.want)
		assert.Equal(t, 1, strings.Count(msg, "probonustest:"), "one prefix: %s", msg)
	}
	msg, _ := panicValue(func() { srv.AddAccount(probonustest.Account{GroupID: 1, Balance: "1.005"}) }).(string)
	assert.Equal(t, `probonustest: AddAccount: balance: "1.005" has a fraction of a kopeck`, msg)
	// a balance past int64 kopecks wrapped around (the adversarial review of issue 26, money)
	msg, _ = panicValue(func() { srv.AddAccount(probonustest.Account{GroupID: 1, Balance: "184467440737095516.17"}) }).(string)
	assert.Equal(t, `probonustest: AddAccount: balance: "184467440737095516.17" is more than an amount holds (9999999999999999.99)`, msg)
	msg, _ = panicValue(func() {
		srv.AddCheck(probonustest.Check{AccountID: srv.AddAccount(probonustest.Account{GroupID: 1}), BonusPaid: "x"})
	}).(string)
	assert.Equal(t, `probonustest: AddCheck: bonus paid: "x" is not an amount`, msg)
	for _, phone := range []string{"", "+44 20 7946 0958", "8 (999) 123-45-67", "+375 29 123-45-67"} {
		assert.NotPanics(t, func() { srv.AddAccount(probonustest.Account{GroupID: 1, Phone: phone}) }, phone)
	}
}
