package probonus

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/internal/fixture"
)

// successFixtures maps each success fixture to the type it decodes into.
var successFixtures = map[string]func() any{
	"account_groups/list.http":                  func() any { return &[]AccountGroup{} },
	"accounts/insert_by_template.http":          func() any { return &Account{} },
	"accounts/find_by_phone.http":               func() any { return &Account{} },
	"accounts/find_by_phone_modern.http":        func() any { return &Account{} },
	"accounts/refill.http":                      func() any { return &RefillResult{} },
	"accounts/transactions_last.http":           func() any { return &[]Transaction{} },
	"accounts/transactions_period.http":         func() any { return &[]Transaction{} },
	"accounts/update.http":                      func() any { return &Account{} },
	"accounts/get_balance_extended.http":        func() any { return &BalanceExtended{} },
	"accounts/get_balance_extended_modern.http": func() any { return &BalanceExtended{} },
	"checks/get_by_id.http":                     func() any { return &Check{} },
	"auth/login.http":                           func() any { return &tokenResponse{} },
	"auth/login_snake.http":                     func() any { return &tokenResponse{} },
	"auth/login_minimal.http":                   func() any { return &tokenResponse{} },
	"auth/refresh_token.http":                   func() any { return &tokenResponse{} },
}

// requestFixtures maps each request body fixture to the type the SDK sends it as.
var requestFixtures = map[string]func() any{
	"accounts/insert_by_template.request.json": func() any { return &NewAccount{} },
	"accounts/refill.request.json":             func() any { return &Refill{} },
	"accounts/update.request.json":             func() any { return &AccountUpdate{} },
	"auth/login.request.json":                  func() any { return &map[string]string{} },
	"auth/refresh_token.request.json":          func() any { return &map[string]string{} },
}

// TestFixturesAreTheContract decodes every fixture strictly (every field on the wire is modelled)
// and checks it re-encodes to JSON with the same meaning.
func TestFixturesAreTheContract(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, body []byte, v any) {
		assert.NoError(t, fixture.Contract(body, v))
	}
	for name, newV := range successFixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := fixture.Load("testdata/" + name)
			require.NoError(t, err)
			assert.Equal(t, 200, f.Status)
			v := newV()
			if _, ok := v.(*tokenResponse); ok {
				dec := json.NewDecoder(bytes.NewReader(f.Body))
				dec.DisallowUnknownFields()
				require.NoError(t, dec.Decode(v)) // its snake and camel twins cannot round-trip as one
				return
			}
			check(t, f.Body, v)
		})
	}
	for name, newV := range requestFixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile("testdata/" + name)
			require.NoError(t, err)
			check(t, b, newV())
		})
	}
	files, err := fixtureFiles("testdata")
	require.NoError(t, err)
	for _, f := range files {
		_, success := successFixtures[f]
		_, request := requestFixtures[f]
		isErr := len(f) > 7 && f[:7] == "errors/"
		assert.True(t, success || request || isErr, "fixture %s is not under test", f)
	}
}

func fixtureFiles(root string) ([]string, error) {
	var out []string
	dirs, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "fuzz" || d.Name() == "recorded" {
			continue
		}
		files, err := os.ReadDir(root + "/" + d.Name())
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			out = append(out, d.Name()+"/"+f.Name())
		}
	}
	return out, nil
}

// TestEveryMethodAgainstFixtures calls each method and checks method, path, query and body of the
// request, and the decoded result.
func TestEveryMethodAgainstFixtures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*3600)
	tests := []struct {
		name     string
		method   string
		path     string
		query    url.Values
		request  string // fixture of the expected body; "" for none
		response string
		call     func(c *Client) (any, error)
		check    func(t *testing.T, v any)
	}{
		{
			name: "AccountGroups.List", method: "GET", path: "/api/v0/account_groups/list",
			response: "account_groups/list.http",
			call:     func(c *Client) (any, error) { return c.AccountGroups.List(ctx) },
			check: func(t *testing.T, v any) {
				groups := v.([]AccountGroup)
				require.Len(t, groups, 3)
				assert.Equal(t, AccountGroup{ID: 3, Name: "Самостоятельно зарегистрировавшиеся", HaveTemplate: true, ParentID: 1}, groups[1])
				assert.Zero(t, groups[0].ParentID, "null reads as zero")
			},
		},
		{
			name: "Accounts.InsertByTemplate", method: "POST", path: "/api/v0/accounts/insert_by_template",
			request: "accounts/insert_by_template.request.json", response: "accounts/insert_by_template.http",
			call: func(c *Client) (any, error) {
				return c.Accounts.InsertByTemplate(ctx, NewAccount{
					GroupID: 3, Phone: "+7 (999) 123-45-67", FirstName: Ptr("Анна"), LastName: Ptr("Иванова"),
					Gender: Ptr(GenderFemale), BirthDate: &Date{1990, time.May, 17}, Email: Ptr("anna@example.com"),
					Identifiers: []Identifier{{Type: IdentifierCard, Value: "7001002003"}},
				})
			},
			check: func(t *testing.T, v any) {
				a := v.(*Account)
				assert.Equal(t, int64(1043), a.ID)
				assert.Equal(t, "500.00", a.Balance.String(), "the template's welcome bonus")
				assert.Equal(t, "Базовый", a.Level.Name)
				assert.Empty(t, a.MiddleName, "null reads as empty")
			},
		},
		{
			name: "Accounts.FindByPhone", method: "GET", path: "/api/v0/accounts/find_by_phone",
			query: url.Values{"phone": {"79991234567"}}, response: "accounts/find_by_phone.http",
			call: func(c *Client) (any, error) { return c.Accounts.FindByPhone(ctx, "8 999 123 45 67") },
			check: func(t *testing.T, v any) {
				a := v.(*Account)
				assert.Equal(t, int64(1042), a.ID)
				assert.Equal(t, "150.50", a.Balance.String())
				assert.Equal(t, "7.50", a.Level.BonusPercent.String())
				assert.Equal(t, time.Date(2026, 2, 16, 9, 42, 0, 0, msk), a.CreatedAt.Time, "no offset: read in MSK")
				assert.Equal(t, Date{1990, time.May, 17}, a.BirthDate)
				assert.Equal(t, GenderFemale, a.Gender)
				require.Len(t, a.Coupons, 2)
				assert.Equal(t, Code("1024"), a.Coupons[0].DishCode, "a number")
				assert.Equal(t, Code("2048"), a.Coupons[1].DishCode, "a string")
				assert.Nil(t, a.Coupons[1].ValidUntil, "null: no end")
				assert.Equal(t, "12400.75", a.SpentSumDiscountPeriod.String())
				assert.Equal(t, []string{"app", "birthday-club"}, a.Tags)
			},
		},
		{
			name: "Accounts.FindByPhone modern encoding", method: "GET", path: "/api/v0/accounts/find_by_phone",
			query: url.Values{"phone": {"79991234567"}}, response: "accounts/find_by_phone_modern.http",
			call: func(c *Client) (any, error) { return c.Accounts.FindByPhone(ctx, "79991234567") },
			check: func(t *testing.T, v any) {
				a := v.(*Account)
				assert.True(t, a.Balance.Equal(MustAmount("150.5")), "money as a string")
				assert.True(t, a.CreatedAt.Equal(time.Date(2026, 2, 16, 9, 42, 0, 123456000, msk)), "Z with fraction")
				assert.True(t, a.Coupons[0].ValidUntil.Equal(time.Date(2026, 12, 31, 23, 59, 59, 0, msk)), "+03:00")
			},
		},
		{
			name: "Accounts.Refill", method: "POST", path: "/api/v0/accounts/refill",
			request: "accounts/refill.request.json", response: "accounts/refill.http",
			call: func(c *Client) (any, error) {
				return c.Accounts.Refill(ctx, Refill{AccountID: 1042, Amount: AmountFromMinor(10050),
					Reason: Ptr("Отзыв в приложении"), BurnDate: &Date{2027, time.January, 31}})
			},
			check: func(t *testing.T, v any) {
				r := v.(*RefillResult)
				assert.Equal(t, int64(88017), r.TransactionID)
				assert.Equal(t, "251.00", r.Balance.String())
			},
		},
		{
			name: "Accounts.Transactions", method: "GET", path: "/api/v0/accounts/transactions",
			query:    url.Values{"accountId": {"1042"}, "dateFrom": {"2026-11-26T00:00:00"}, "dateTo": {"2026-11-26T23:59:59"}},
			response: "accounts/transactions_period.http",
			call: func(c *Client) (any, error) {
				// given in UTC, sent as Moscow wall-clock time
				return c.Accounts.Transactions(ctx, 1042, time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 20, 59, 59, 0, time.UTC))
			},
			check: func(t *testing.T, v any) {
				txs := v.([]Transaction)
				require.Len(t, txs, 2)
				assert.Equal(t, "-200.00", txs[1].Sum.String())
				assert.True(t, txs[0].Datetime.Equal(txs[1].Datetime.Add(500*time.Millisecond)), "Z and +03:00 agree")
			},
		},
		{
			name: "Accounts.LastTransactions", method: "GET", path: "/api/v0/accounts/transactions",
			query: url.Values{"accountId": {"1042"}, "count": {"5"}}, response: "accounts/transactions_last.http",
			call: func(c *Client) (any, error) { return c.Accounts.LastTransactions(ctx, 1042, 5) },
			check: func(t *testing.T, v any) {
				txs := v.([]Transaction)
				require.Len(t, txs, 5)
				assert.Equal(t, TransactionRefill, txs[0].Type)
				assert.Equal(t, TransactionType("loyalty_bonus_v2"), txs[4].Type, "unknown types survive")
				assert.Equal(t, int64(5501), txs[1].CheckID)
				assert.Equal(t, Code("1207"), txs[1].CheckNumber)
				assert.Equal(t, Code("3"), txs[2].CashDesk)
				assert.Equal(t, IdentifierCard, txs[2].IdentifierType)
				assert.Equal(t, 500*time.Millisecond, time.Duration(txs[1].Datetime.Nanosecond()))
			},
		},
		{
			name: "Accounts.Update", method: "POST", path: "/api/v0/accounts/update",
			request: "accounts/update.request.json", response: "accounts/update.http",
			call: func(c *Client) (any, error) {
				return c.Accounts.Update(ctx, AccountUpdate{AccountID: 1042, Email: Ptr("anna.ivanova@example.com"),
					LastName: Ptr("Петрова"), IsBlocked: Ptr(false), BonusLifetimeDays: Ptr(90)})
			},
			check: func(t *testing.T, v any) { assert.Equal(t, "Петрова", v.(*Account).LastName) },
		},
		{
			name: "Accounts.BalanceExtended", method: "GET", path: "/api/v0/accounts/get_balance_extended",
			query: url.Values{"accountId": {"1042"}}, response: "accounts/get_balance_extended.http",
			call: func(c *Client) (any, error) { return c.Accounts.BalanceExtended(ctx, 1042) },
			check: func(t *testing.T, v any) {
				b := v.(*BalanceExtended)
				assert.Equal(t, "251.00", b.BonusBalance.String())
				assert.Equal(t, "42.35", b.BonusAwaitingIssue.String())
				assert.Equal(t, []Tranche{{MustAmount("42.35"), Date{2026, 12, 10}}}, b.LateIssues)
				require.Len(t, b.Burnings, 2)
				assert.Equal(t, Date{2027, 1, 31}, b.Burnings[1].Date)
				assert.Equal(t, "100.50", b.NeverBurns.String())
			},
		},
		{
			name: "Accounts.BalanceExtended modern", method: "GET", path: "/api/v0/accounts/get_balance_extended",
			query: url.Values{"accountId": {"1042"}}, response: "accounts/get_balance_extended_modern.http",
			call: func(c *Client) (any, error) { return c.Accounts.BalanceExtended(ctx, 1042) },
			check: func(t *testing.T, v any) {
				b := v.(*BalanceExtended)
				assert.Equal(t, "100.50", b.Burnings[1].Sum.String())
				assert.Equal(t, "100.50", b.NeverBurns.String())
			},
		},
		{
			name: "Checks.GetByID", method: "GET", path: "/api/v0/checks/get_by_id",
			query: url.Values{"checkId": {"5501"}}, response: "checks/get_by_id.http",
			call: func(c *Client) (any, error) { return c.Checks.GetByID(ctx, 5501) },
			check: func(t *testing.T, v any) {
				ch := v.(*Check)
				assert.Equal(t, Code("1207"), ch.Number)
				require.Len(t, ch.Dishes, 3)
				assert.Equal(t, "0.50", ch.Dishes[2].Quantity.String())
				sum := Amount{}
				for _, d := range ch.Dishes {
					sum = sum.Add(d.Sum)
				}
				assert.True(t, sum.Equal(ch.Sum), "dishes add up exactly")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			var got *http.Request
			var body []byte
			resp := serveFixture(t, tt.response)
			mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
				got = req
				if req.Body != nil {
					body, _ = io.ReadAll(req.Body)
				}
				return resp(req)
			})
			v, err := tt.call(c)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, tt.method, got.Method)
			assert.Equal(t, "/pb"+tt.path, got.URL.Path, "under the base URL's path")
			if tt.query == nil {
				tt.query = url.Values{}
			}
			assert.Equal(t, tt.query, got.URL.Query())
			if tt.request == "" {
				assert.Empty(t, body)
			} else {
				want, err := os.ReadFile("testdata/" + tt.request)
				require.NoError(t, err)
				assert.JSONEq(t, string(want), string(body))
				assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
			}
			tt.check(t, v)
		})
	}
}

func TestFindByPhoneNotFound(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/accounts/find_by_phone"), serveFixture(t, "errors/404_account_not_found.http"))
	a, err := c.Accounts.FindByPhone(context.Background(), "79991234567")
	assert.Nil(t, a)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestInsertDuplicateIsBadRequest(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/accounts/insert_by_template"), serveFixture(t, "errors/400_duplicate_account.http"))
	_, err := c.Accounts.InsertByTemplate(context.Background(), NewAccount{GroupID: 3, Phone: "79991234567"})
	assert.ErrorIs(t, err, ErrBadRequest)
	assert.ErrorIs(t, err, ErrAccountExists, "the look that would prove it fails here: the detail says so")
	assert.Equal(t, 1, mt.GetCallCountInfo()["POST "+mockURL("/api/v0/accounts/insert_by_template")], "not resent")
}

func TestTransactionsInTheClientsLocation(t *testing.T) {
	t.Parallel()
	ekb := time.FixedZone("YEKT", 5*3600)
	c, mt := setup(t, WithLocation(ekb))
	var q url.Values
	resp := serveFixture(t, "accounts/transactions_last.http")
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) { q = req.URL.Query(); return resp(req) })
	txs, err := c.Accounts.Transactions(context.Background(), 1042, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "2026-11-01T05:00:00", q.Get("dateFrom"))
	assert.Equal(t, "2026-11-02T05:00:00", q.Get("dateTo"))
	assert.Equal(t, time.Date(2026, 11, 27, 12, 0, 5, 0, ekb), txs[0].Datetime.Time, "no offset: read in the client's location")
}

// TestBadInputSendsNothing checks every validation: a typed error naming the field, no request.
func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name  string
		field string
		call  func(c *Client) error
	}{
		{"insert zero group", "NewAccount.GroupID", func(c *Client) error {
			_, err := c.Accounts.InsertByTemplate(ctx, NewAccount{Phone: "79991234567"})
			return err
		}},
		{"insert bad phone", "NewAccount.Phone", func(c *Client) error {
			_, err := c.Accounts.InsertByTemplate(ctx, NewAccount{GroupID: 3, Phone: "12345"})
			return err
		}},
		{"insert empty phone", "NewAccount.Phone", func(c *Client) error {
			_, err := c.Accounts.InsertByTemplate(ctx, NewAccount{GroupID: 3})
			return err
		}},
		{"insert bad email", "NewAccount.Email", func(c *Client) error {
			_, err := c.Accounts.InsertByTemplate(ctx, NewAccount{GroupID: 3, Phone: "79991234567", Email: Ptr("Anna <anna@example.com>")})
			return err
		}},
		{"insert empty identifier", "NewAccount.Identifiers", func(c *Client) error {
			_, err := c.Accounts.InsertByTemplate(ctx, NewAccount{GroupID: 3, Phone: "79991234567", Identifiers: []Identifier{{Type: IdentifierCard}}})
			return err
		}},
		{"find bad phone", "phone", func(c *Client) error { _, err := c.Accounts.FindByPhone(ctx, "+7 (999) 123"); return err }},
		{"find letters", "phone", func(c *Client) error { _, err := c.Accounts.FindByPhone(ctx, "call me"); return err }},
		{"refill zero account", "Refill.AccountID", func(c *Client) error {
			_, err := c.Accounts.Refill(ctx, Refill{Amount: MustAmount("1")})
			return err
		}},
		{"refill zero amount", "Refill.Amount", func(c *Client) error {
			_, err := c.Accounts.Refill(ctx, Refill{AccountID: 1})
			return err
		}},
		{"refill negative amount", "Refill.Amount", func(c *Client) error {
			_, err := c.Accounts.Refill(ctx, Refill{AccountID: 1, Amount: MustAmount("-5")})
			return err
		}},
		{"refill sub-kopeck amount", "Refill.Amount", func(c *Client) error {
			_, err := c.Accounts.Refill(ctx, Refill{AccountID: 1, Amount: MustAmount("10.005")})
			return err
		}},
		{"transactions zero account", "accountID", func(c *Client) error {
			_, err := c.Accounts.Transactions(ctx, 0, now.Add(-time.Hour), now)
			return err
		}},
		{"transactions inverted period", "from", func(c *Client) error {
			_, err := c.Accounts.Transactions(ctx, 1, now, now.Add(-time.Hour))
			return err
		}},
		{"transactions no from", "from", func(c *Client) error {
			_, err := c.Accounts.Transactions(ctx, 1, time.Time{}, now)
			return err
		}},
		{"transactions no to", "to", func(c *Client) error {
			_, err := c.Accounts.Transactions(ctx, 1, now, time.Time{})
			return err
		}},
		{"last zero", "n", func(c *Client) error { _, err := c.Accounts.LastTransactions(ctx, 1, 0); return err }},
		{"last too many", "n", func(c *Client) error { _, err := c.Accounts.LastTransactions(ctx, 1, 1001); return err }},
		{"last negative account", "accountID", func(c *Client) error { _, err := c.Accounts.LastTransactions(ctx, -1, 10); return err }},
		{"update zero account", "AccountUpdate.AccountID", func(c *Client) error {
			_, err := c.Accounts.Update(ctx, AccountUpdate{FirstName: Ptr("A")})
			return err
		}},
		{"update nothing", "AccountUpdate", func(c *Client) error { _, err := c.Accounts.Update(ctx, AccountUpdate{AccountID: 1}); return err }},
		{"update bad phone", "AccountUpdate.Phone", func(c *Client) error {
			_, err := c.Accounts.Update(ctx, AccountUpdate{AccountID: 1, Phone: Ptr("0")})
			return err
		}},
		{"update bad email", "AccountUpdate.Email", func(c *Client) error {
			_, err := c.Accounts.Update(ctx, AccountUpdate{AccountID: 1, Email: Ptr("anna@")})
			return err
		}},
		{"update negative lifetime", "AccountUpdate.BonusLifetimeDays", func(c *Client) error {
			_, err := c.Accounts.Update(ctx, AccountUpdate{AccountID: 1, BonusLifetimeDays: Ptr(-1)})
			return err
		}},
		{"balance zero account", "accountID", func(c *Client) error { _, err := c.Accounts.BalanceExtended(ctx, 0); return err }},
		{"check zero id", "checkID", func(c *Client) error { _, err := c.Checks.GetByID(ctx, 0); return err }},
		{"do nil context", "ctx", func(c *Client) error {
			var nilCtx context.Context
			return c.Do(nilCtx, http.MethodGet, "/api/v0/x", nil, nil, nil)
		}},
		{"do empty method", "method", func(c *Client) error { return c.Do(ctx, " ", "/api/v0/x", nil, nil, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			err := tt.call(c)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			assert.ErrorIs(t, err, ErrInvalidInput)
			assert.Contains(t, err.Error(), tt.field)
			assert.Zero(t, mt.GetTotalCallCount(), "nothing was sent")
		})
	}
}

func TestInputIsNotMutated(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterNoResponder(serveFixture(t, "accounts/update.http"))
	phone := "8 (999) 123-45-67"
	u := AccountUpdate{AccountID: 1042, Phone: &phone}
	_, err := c.Accounts.Update(context.Background(), u)
	require.NoError(t, err)
	assert.Equal(t, "8 (999) 123-45-67", phone, "the caller's value is left as it was")
	a := NewAccount{GroupID: 3, Phone: "8 999 123 45 67"}
	mt.RegisterNoResponder(serveFixture(t, "accounts/insert_by_template.http"))
	_, err = c.Accounts.InsertByTemplate(context.Background(), a)
	require.NoError(t, err)
	assert.Equal(t, "8 999 123 45 67", a.Phone)
}
