package probonus_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// authModes builds a client option for each authentication mode the server accepts.
var authModes = map[string]func(*probonustest.Server) probonus.Option{
	"api key": func(s *probonustest.Server) probonus.Option { return probonus.WithAPIKey(s.APIKey()) },
	"login":   func(s *probonustest.Server) probonus.Option { return probonus.WithLogin(s.Login()) },
}

// TestEndToEnd drives every SDK method against probonustest, in both FastAPI flavours and both
// authentication modes.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, flavor := range []probonustest.Flavor{probonustest.Legacy, probonustest.Modern} {
		for mode, auth := range authModes {
			t.Run(flavor.String()+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := probonustest.NewServer(t, probonustest.WithFlavor(flavor), probonustest.WithBasePath("/pb"))
				regular := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79161112233", FirstName: "Пётр", Balance: "300"})
				checkID := srv.AddCheck(probonustest.Check{AccountID: regular, Number: 1207, RestaurantCode: 12, RestaurantName: "Пекарня",
					CashDesk: 3, BonusPaid: "200", BonusAccrued: "42.35",
					Dishes: []probonustest.Dish{{Code: 1024, Name: "Круассан", Quantity: "2", Price: "245"}, {Code: 3001, Name: "Суп", Quantity: "0.5", Price: "534"}}})
				c, err := probonus.New(probonus.WithBaseURL(srv.URL()), auth(srv))
				require.NoError(t, err)
				ctx := context.Background()

				groups, err := c.AccountGroups.List(ctx)
				require.NoError(t, err)
				var template probonus.AccountGroup
				for _, g := range groups {
					if g.HaveTemplate {
						template = g
					}
				}
				require.Equal(t, int64(3), template.ID)

				_, err = c.Accounts.FindByPhone(ctx, "+7 (999) 123-45-67")
				require.ErrorIs(t, err, probonus.ErrNotFound)

				acc, err := c.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: template.ID, Phone: "8 999 123 45 67",
					FirstName: probonus.Ptr("Анна"), Gender: probonus.Ptr(probonus.GenderFemale), BirthDate: &probonus.Date{Year: 1990, Month: 5, Day: 17},
					Identifiers: []probonus.Identifier{{Type: probonus.IdentifierCard, Value: "7001002003"}}})
				require.NoError(t, err)
				assert.Equal(t, "500.00", acc.Balance.String(), "the template's welcome bonus")
				assert.Equal(t, "79991234567", acc.Phone)
				assert.Equal(t, "Базовый", acc.Level.Name)
				assert.Equal(t, probonus.Date{Year: 1990, Month: 5, Day: 17}, acc.BirthDate)
				assert.WithinDuration(t, time.Now(), acc.CreatedAt.Time, time.Minute, "server wall-clock time read in MSK")

				_, err = c.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: template.ID, Phone: "79991234567"})
				require.ErrorIs(t, err, probonus.ErrBadRequest, "a phone that exists")
				require.ErrorIs(t, err, probonus.ErrAccountExists, "a phone that exists")
				_, err = c.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: 1, Phone: "79990000000"})
				require.ErrorIs(t, err, probonus.ErrBadRequest, "a group without a template")
				require.NotErrorIs(t, err, probonus.ErrAccountExists, "a group without a template")

				found, err := c.Accounts.FindByPhone(ctx, "+79991234567")
				require.NoError(t, err)
				assert.Equal(t, acc.ID, found.ID)

				burn := probonus.DateOf(time.Now().AddDate(0, 6, 0))
				res, err := c.Accounts.Refill(ctx, probonus.Refill{AccountID: acc.ID, Amount: probonus.MustAmount("100.50"),
					Reason: probonus.Ptr("Отзыв в приложении"), BurnDate: &burn})
				require.NoError(t, err)
				assert.Equal(t, "600.50", res.Balance.String())
				assert.Equal(t, "600.50", srv.Balance(acc.ID))

				last, err := c.Accounts.LastTransactions(ctx, acc.ID, 10)
				require.NoError(t, err)
				require.Len(t, last, 2)
				assert.Equal(t, res.TransactionID, last[0].ID, "newest first")
				assert.Equal(t, probonus.TransactionRefill, last[0].Type)
				assert.Equal(t, "100.50", last[0].Sum.String())
				assert.Equal(t, "Отзыв в приложении", last[0].Reason)
				one, err := c.Accounts.LastTransactions(ctx, acc.ID, 1)
				require.NoError(t, err)
				assert.Len(t, one, 1)

				period, err := c.Accounts.Transactions(ctx, acc.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
				require.NoError(t, err)
				assert.Len(t, period, 2)
				none, err := c.Accounts.Transactions(ctx, acc.ID, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
				require.NoError(t, err)
				assert.Empty(t, none)

				upd, err := c.Accounts.Update(ctx, probonus.AccountUpdate{AccountID: acc.ID, Email: probonus.Ptr("anna@example.com"), LastName: probonus.Ptr("Иванова")})
				require.NoError(t, err)
				assert.Equal(t, "anna@example.com", upd.Email)
				assert.Equal(t, "Иванова", upd.LastName)
				assert.Equal(t, "Анна", upd.FirstName, "fields not sent are left unchanged")

				bal, err := c.Accounts.BalanceExtended(ctx, acc.ID)
				require.NoError(t, err)
				assert.Equal(t, "600.50", bal.BonusBalance.String())
				require.Len(t, bal.Burnings, 2, "the welcome bonus and the refill burn on different dates")
				assert.Equal(t, burn, bal.Burnings[1].Date)
				assert.Equal(t, "100.50", bal.Burnings[1].Sum.String())

				txs, err := c.Accounts.LastTransactions(ctx, regular, 10)
				require.NoError(t, err)
				var fromCheck int64
				for _, tx := range txs {
					if tx.Type == probonus.TransactionCheckPayment {
						fromCheck = tx.CheckID
						assert.Equal(t, "-200.00", tx.Sum.String())
						assert.Equal(t, probonus.Code("1207"), tx.CheckNumber)
					}
				}
				require.Equal(t, checkID, fromCheck)
				check, err := c.Checks.GetByID(ctx, fromCheck)
				require.NoError(t, err)
				assert.Equal(t, "757.00", check.Sum.String())
				require.Len(t, check.Dishes, 2)
				assert.Equal(t, "267.00", check.Dishes[1].Sum.String())
				assert.True(t, check.Dishes[1].Quantity.Equal(probonus.MustAmount("0.5")))
				regBal, err := c.Accounts.BalanceExtended(ctx, regular)
				require.NoError(t, err)
				assert.Equal(t, "142.35", regBal.BonusBalance.String())

				_, err = c.Checks.GetByID(ctx, 999999)
				assert.ErrorIs(t, err, probonus.ErrNotFound)
				_, err = c.Accounts.Refill(ctx, probonus.Refill{AccountID: 999999, Amount: probonus.MustAmount("1")})
				assert.ErrorIs(t, err, probonus.ErrNotFound)

				var raw []map[string]any
				require.NoError(t, c.Do(ctx, "GET", "/api/v0/account_groups/list", nil, nil, &raw), "Do reaches any endpoint")
				assert.Len(t, raw, 2)
				err = c.Do(ctx, "GET", "/api/v0/accounts/find_by_phone", nil, nil, nil)
				var apiErr *probonus.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.ErrorIs(t, err, probonus.ErrValidation)
				assert.Equal(t, "query.phone", apiErr.Validation[0].Field())

				logins, refreshes := srv.AuthCounts()
				if mode == "login" {
					assert.Equal(t, 1, logins)
				} else {
					assert.Zero(t, logins)
				}
				assert.Zero(t, refreshes)
			})
		}
	}
}

func TestEndToEndRejectedCredentials(t *testing.T) {
	t.Parallel()
	for _, flavor := range []probonustest.Flavor{probonustest.Legacy, probonustest.Modern} {
		t.Run(flavor.String(), func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithFlavor(flavor))
			bad, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey("wrong-key"))
			require.NoError(t, err)
			_, err = bad.AccountGroups.List(context.Background())
			assert.ErrorIs(t, err, probonus.ErrUnauthorized)
			assert.False(t, errors.Is(err, probonus.ErrForbidden), "a 403 about credentials is not ErrForbidden")

			none, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithoutAuth())
			require.NoError(t, err)
			_, err = none.AccountGroups.List(context.Background())
			assert.ErrorIs(t, err, probonus.ErrUnauthorized)

			login, _ := srv.Login()
			wrong, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithLogin(login, "wrong-password"))
			require.NoError(t, err)
			_, err = wrong.AccountGroups.List(context.Background())
			var ae *probonus.AuthError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "login", ae.Op)
			assert.NotContains(t, err.Error(), "wrong-password")
		})
	}
}

// TestEndToEndTokenRefresh uses tokens that live one second: the client refreshes them, and no
// call fails. It calls until two refreshes happened (at most ten seconds: a loaded machine makes
// fewer calls a second), and holds the count of refreshes to the time it took.
func TestEndToEndTokenRefresh(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithTokenLifetime(time.Second))
	c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithLogin(srv.Login()))
	require.NoError(t, err)
	start := time.Now()
	calls := 0
	for time.Since(start) < 10*time.Second {
		if _, refreshes := srv.AuthCounts(); refreshes >= 2 {
			break
		}
		_, err := c.AccountGroups.List(context.Background())
		require.NoError(t, err)
		calls++
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	logins, refreshes := srv.AuthCounts()
	assert.Equal(t, 1, logins)
	assert.GreaterOrEqual(t, refreshes, 2, "%d calls in %v of one-second tokens", calls, elapsed)
	// refreshed at 4/5 of a lifetime: at most one per 0.8s, plus one in flight
	assert.LessOrEqual(t, refreshes, int(elapsed/(800*time.Millisecond))+1)
}

// TestSignUpRace (issue 17 #15): concurrent sign-ups of one new phone give one account; every other
// insert matches ErrAccountExists, and the find after it returns the one account.
func TestSignUpRace(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithLatency(10*time.Millisecond))
	// group 3 is the server's own "Шаблон для API", with a template
	c, err := probonus.New(srv.ClientOptions()...)
	require.NoError(t, err)
	ids := make([]int64, 10)
	var wg sync.WaitGroup
	created := atomic.Int32{}
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc, err := c.Accounts.InsertByTemplate(context.Background(), probonus.NewAccount{GroupID: 3, Phone: "+7 999 765-43-21"})
			if errors.Is(err, probonus.ErrAccountExists) {
				acc, err = c.Accounts.FindByPhone(context.Background(), "+7 999 765-43-21")
			} else if err == nil {
				created.Add(1)
			}
			if assert.NoError(t, err) {
				ids[i] = acc.ID
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), created.Load())
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
}

// TestFindOrInsertRace (issue 20 #2): 20 concurrent FindOrInsert calls for one new phone give one
// account; every call returns it and exactly one says it created it.
func TestFindOrInsertRace(t *testing.T) {
	t.Parallel()
	for _, flavor := range []probonustest.Flavor{probonustest.Legacy, probonustest.Modern} {
		t.Run(flavor.String(), func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithFlavor(flavor), probonustest.WithLatency(5*time.Millisecond))
			c, err := probonus.New(srv.ClientOptions()...)
			require.NoError(t, err)
			ids := make([]int64, 20)
			var created atomic.Int32
			var wg sync.WaitGroup
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					acc, made, err := c.Accounts.FindOrInsert(context.Background(), probonus.NewAccount{GroupID: 3, Phone: "8 (999) 765-43-21"})
					if assert.NoError(t, err) {
						ids[i] = acc.ID
					}
					if made {
						created.Add(1)
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, int32(1), created.Load(), "created by exactly one call")
			for _, id := range ids {
				assert.Equal(t, ids[0], id)
			}

			// bad input is refused before anything is sent
			before := len(srv.Requests())
			_, _, err = c.Accounts.FindOrInsert(context.Background(), probonus.NewAccount{GroupID: 3, Phone: "12345"})
			var input *probonus.InputError
			require.ErrorAs(t, err, &input)
			assert.Equal(t, "Accounts.FindOrInsert", input.Op)
			assert.Len(t, srv.Requests(), before)
		})
	}
}
