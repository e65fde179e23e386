package contract_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/internal/capture"
	"github.com/probonus-go/probonus/internal/contract"
	"github.com/probonus-go/probonus/probonustest"
)

// check reads a guest's data through the SDK and compares every 200 response with the model.
func check(t *testing.T, o capture.Options) contract.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	caps, err := capture.Run(ctx, o)
	require.NoError(t, err)
	k := contract.NewChecker()
	for _, c := range caps {
		if c.Response.Status == 200 {
			k.Check(c.Response.Body, c.New())
		}
	}
	return k.Report()
}

// TestLive checks a real server: PROBONUS_LIVE=1 with PROBONUS_BASE_URL, PROBONUS_API_KEY (or
// PROBONUS_LOGIN and PROBONUS_PASSWORD) and PROBONUS_PHONE, a guest whose data is read. It only reads.
func TestLive(t *testing.T) {
	if os.Getenv("PROBONUS_LIVE") == "" {
		t.Skip("the live contract check needs a server: PROBONUS_LIVE=1 PROBONUS_BASE_URL=... PROBONUS_API_KEY=... PROBONUS_PHONE=79991234567 go test -v -run Live ./...")
	}
	opts, err := capture.FromEnv(os.Getenv)
	require.NoError(t, err)
	phone := os.Getenv("PROBONUS_PHONE")
	require.NotEmpty(t, phone, "set PROBONUS_PHONE to a guest whose data the check may read")
	var progress bytes.Buffer
	rep := check(t, capture.Options{Phone: phone, Client: opts, Out: &progress})
	t.Log("\n" + progress.String() + rep.String())
	assert.Empty(t, rep.Mismatches, "the SDK cannot read these values")
}

// seed gives a server a guest with everything the model has: a level, coupons, identifiers, checks
// with dishes, a deferred accrual and bonuses that burn.
func seed(srv *probonustest.Server) {
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79161234567", FirstName: "Иван", LastName: "Петров", MiddleName: "Сергеевич",
		Email: "ivan@example.com", Gender: "male", BirthDate: "1987-03-14", Balance: "300", BurnDate: "2030-01-31", Tags: []string{"vip"},
		Coupons:     []probonustest.Coupon{{Name: "Десерт", DishCode: 1024, DiscountCode: 17, Quantity: 1, ValidUntil: time.Now().AddDate(0, 1, 0)}},
		Identifiers: []probonustest.Identifier{{Type: "card", Value: "7001002003"}}})
	srv.AddCheck(probonustest.Check{AccountID: id, Number: 1207, RestaurantCode: 12, RestaurantName: "Пекарня", CashDesk: 3, BonusPaid: "100", BonusAccrued: "42.35",
		Dishes: []probonustest.Dish{{Code: 1024, Name: "Круассан", Quantity: "2", Price: "245", DiscountSum: "24.50"}}})
	srv.AddCheck(probonustest.Check{AccountID: id, Number: 1208, BonusAccrued: "15", AccrueOn: "2030-01-15",
		Dishes: []probonustest.Dish{{Code: 2048, Name: "Капучино", Quantity: "1", Price: "290"}}})
}

// TestLiveAgainstProbonustest runs the live check in make test: against probonustest it finds no
// difference in either flavour, and it finds an extra, a renamed and an unreadable field.
func TestLiveAgainstProbonustest(t *testing.T) {
	t.Parallel()
	for _, flavor := range []probonustest.Flavor{probonustest.Legacy, probonustest.Modern} {
		t.Run(flavor.String(), func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithFlavor(flavor))
			seed(srv)
			login, password := srv.Login()
			env := map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_LOGIN": login, "PROBONUS_PASSWORD": password}
			opts, err := capture.FromEnv(func(k string) string { return env[k] })
			require.NoError(t, err)
			rep := check(t, capture.Options{Phone: "+7 916 123-45-67", Client: opts})
			assert.True(t, rep.Empty(), rep.String())
			assert.Equal(t, 6, rep.Responses)
			assert.Contains(t, rep.String(), "6 responses compared with the model: no difference")
		})
	}
	tests := []struct {
		name   string
		option probonustest.Option
		want   func(t *testing.T, r contract.Report)
	}{
		{"an extra field", probonustest.WithExtraField("transaction", "loyaltyProgram", "Кофейня+"), func(t *testing.T, r contract.Report) {
			assert.Equal(t, []string{"Transaction.loyaltyProgram"}, r.Unknown)
			assert.Empty(t, r.Missing)
		}},
		{"a renamed field", probonustest.WithRenamedField("account", "firstName", "givenName"), func(t *testing.T, r contract.Report) {
			assert.Equal(t, []string{"Account.givenName"}, r.Unknown)
			assert.Equal(t, []string{"Account.firstName"}, r.Missing)
		}},
		{"a timestamp format the SDK does not read", probonustest.WithExtraField("check", "datetime", "26.11.2026 19:31"), func(t *testing.T, r contract.Report) {
			require.Len(t, r.Mismatches, 1)
			assert.Contains(t, r.Mismatches[0], "Check.datetime: Time does not read")
		}},
		{"a number where a string is expected", probonustest.WithExtraField("group", "name", 42), func(t *testing.T, r contract.Report) {
			assert.Contains(t, r.Mismatches, "AccountGroup.name: string does not read 42")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, tt.option)
			seed(srv)
			env := map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey()}
			opts, err := capture.FromEnv(func(k string) string { return env[k] })
			require.NoError(t, err)
			rep := check(t, capture.Options{Phone: "79161234567", Client: opts})
			assert.False(t, rep.Empty())
			tt.want(t, rep)
			t.Log(rep.String())
		})
	}
}
