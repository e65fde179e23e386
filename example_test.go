package probonus_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// The examples run against probonustest, an in-memory ProBonus server; against a real one, pass
// its address (e.g. http://127.0.0.1:11030) and your key instead.

func ExampleNew_apiKey() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()

	client, err := probonus.New(
		probonus.WithBaseURL(srv.URL()),
		probonus.WithAPIKey(srv.APIKey()),
		probonus.WithTimeout(10*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	groups, err := client.AccountGroups.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(groups), "groups")
	// Output: 2 groups
}

func ExampleNew_login() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	login, password := srv.Login()

	// Logs in on the first request; refreshes the token before it expires and when it is rejected.
	client, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithLogin(login, password))
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		if _, err := client.AccountGroups.List(context.Background()); err != nil {
			log.Fatal(err)
		}
	}
	logins, _ := srv.AuthCounts()
	fmt.Println("logins:", logins) // one login serves every request while the token lives
	// Output: logins: 1
}

// FromEnv reads the server and the credentials from the environment: os.Getenv in a program, a
// map in a test.
func ExampleFromEnv() {
	env := map[string]string{"PROBONUS_BASE_URL": "http://127.0.0.1:11030"}
	_, err := probonus.FromEnv(func(name string) string { return env[name] })
	fmt.Println(err)

	env["PROBONUS_API_KEY"] = "key-from-the-admin-ui"
	opts, err := probonus.FromEnv(func(name string) string { return env[name] })
	if err != nil {
		log.Fatal(err)
	}
	client, err := probonus.New(append(opts, probonus.WithTimeout(10*time.Second))...)
	fmt.Println(client, err)
	// Output:
	// probonus: FromEnv: set PROBONUS_API_KEY, or PROBONUS_LOGIN and PROBONUS_PASSWORD
	// probonus.Client{baseURL: http://127.0.0.1:11030, auth: api key} <nil>
}

// Branching on an error: bad input is an *InputError and nothing was sent; an answer from the
// server is an *APIError, whose kind the sentinels name (ErrNotFound, ErrBadRequest, ...); a write
// that may have been applied matches ErrOutcomeUnknown and must not simply be sent again.
func Example_errors() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	client, _ := probonus.New(srv.ClientOptions()...) // the server's URL and key, with quick test settings
	ctx := context.Background()

	explain := func(err error) string {
		var input *probonus.InputError
		var api *probonus.APIError
		switch {
		case err == nil:
			return "ok"
		case errors.As(err, &input):
			return fmt.Sprintf("bad input in %s, nothing sent", input.Field)
		case errors.Is(err, probonus.ErrOutcomeUnknown):
			return "may have been applied: look at the history before sending it again"
		case errors.Is(err, probonus.ErrNotFound) && errors.As(err, &api):
			return fmt.Sprintf("no such guest (%d %q)", api.StatusCode, api.Detail)
		case errors.As(err, &api):
			return fmt.Sprintf("refused: %d", api.StatusCode)
		default:
			return "no answer: " + err.Error()
		}
	}

	_, err := client.Accounts.FindByPhone(ctx, "12345")
	fmt.Println(explain(err))
	fmt.Println("requests so far:", len(srv.Requests()))

	_, err = client.Accounts.FindByPhone(ctx, "+7 900 000-00-01")
	fmt.Println(explain(err))

	srv.Inject("POST", probonustest.PathRefill, probonustest.Fault{AfterApply: true, Status: 500, Body: "Internal Server Error"})
	_, err = client.Accounts.Refill(ctx, probonus.Refill{AccountID: id, Amount: probonus.MustAmount("50")})
	fmt.Println(explain(err))
	fmt.Println("applied:", len(srv.Refills(id)))
	// Output:
	// bad input in phone, nothing sent
	// requests so far: 0
	// no such guest (404 "Счёт не найден")
	// may have been applied: look at the history before sending it again
	// applied: 1
}

// A log line per HTTP attempt: Debug for an attempt that ends the call, Warn for one that is
// retried. This example keeps a few attributes so its output stays the same from run to run; a
// real line also has the operation, the duration, and the error, request id and retry reason
// when there are any. Never a header value, a body or a query.
func ExampleWithLogger() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	keep := map[string]bool{slog.LevelKey: true, slog.MessageKey: true, "method": true, "path": true, "status": true, "attempt": true}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if !keep[a.Key] {
				return slog.Attr{} // the time and duration differ on every run
			}
			return a
		},
	}))
	client, _ := probonus.New(srv.ClientOptions(probonus.WithLogger(logger))...)

	srv.FailNext("GET", probonustest.PathAccountGroupsList, 503, "<html>503 Service Unavailable</html>", 0)
	if _, err := client.AccountGroups.List(context.Background()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// level=WARN msg="probonus request" method=GET path=/api/v0/account_groups/list status=503 attempt=1
	// level=DEBUG msg="probonus request" method=GET path=/api/v0/account_groups/list status=200 attempt=2
}

// A read is retried on a connection error, 429, 502, 503 and 504, with growing backoff; a write
// only when it certainly was not applied (429, or never sent).
func ExampleWithRetry() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	client, _ := probonus.New(srv.ClientOptions(
		probonus.WithRetry(probonus.RetryPolicy{
			MaxAttempts:   4,                     // the first attempt included
			MinBackoff:    10 * time.Millisecond, // doubled per retry, with jitter
			MaxBackoff:    time.Second,
			MaxRetryAfter: 5 * time.Second, // a longer Retry-After ends the call with the error
		}))...)
	ctx := context.Background()

	for range 3 {
		srv.FailNext("GET", probonustest.PathAccountGroupsList, 503, "<html>503</html>", 0)
	}
	groups, err := client.AccountGroups.List(ctx)
	fmt.Println(len(groups), "groups after", srv.Count("GET", probonustest.PathAccountGroupsList), "requests", err)

	srv.FailNext("POST", probonustest.PathRefill, 429, `{"detail":"Too Many Requests"}`, 0)
	_, err = client.Accounts.Refill(ctx, probonus.Refill{AccountID: id, Amount: probonus.MustAmount("50")})
	fmt.Println("refill after", srv.Count("POST", probonustest.PathRefill), "requests, applied", len(srv.Refills(id)), err)

	srv.FailNext("POST", probonustest.PathRefill, 503, "<html>503</html>", 0)
	_, err = client.Accounts.Refill(ctx, probonus.Refill{AccountID: id, Amount: probonus.MustAmount("50")})
	fmt.Println("a 503 to a refill is not resent:", errors.Is(err, probonus.ErrOutcomeUnknown), srv.Count("POST", probonustest.PathRefill)-2)
	// Output:
	// 2 groups after 4 requests <nil>
	// refill after 2 requests, applied 1 <nil>
	// a 503 to a refill is not resent: true 1
}

func ExampleAccountGroupsService_List() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	groups, err := client.AccountGroups.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range groups {
		fmt.Printf("%d %s template=%v\n", g.ID, g.Name, g.HaveTemplate)
	}
	// Output:
	// 1 Все гости template=false
	// 3 Самостоятельно зарегистрировавшиеся template=true
}

func ExampleAccountsService_InsertByTemplate() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	acc, err := client.Accounts.InsertByTemplate(context.Background(), probonus.NewAccount{
		GroupID:   3, // a group with a template ("Шаблон для API")
		Phone:     "8 (999) 123-45-67",
		FirstName: probonus.Ptr("Анна"),
		BirthDate: &probonus.Date{Year: 1990, Month: time.May, Day: 17},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(acc.ID, acc.Phone, acc.FirstName, acc.Balance, acc.Level.Name)

	_, err = client.Accounts.InsertByTemplate(context.Background(), probonus.NewAccount{GroupID: 3, Phone: "+79991234567"})
	fmt.Println("again:", errors.Is(err, probonus.ErrBadRequest))
	// Output:
	// 1001 79991234567 Анна 500.00 Базовый
	// again: true
}

func ExampleAccountsService_FindByPhone() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567", FirstName: "Анна", Balance: "150.50"})
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	acc, err := client.Accounts.FindByPhone(context.Background(), "+7 (999) 123-45-67")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(acc.ID, acc.FirstName, acc.Balance)

	_, err = client.Accounts.FindByPhone(context.Background(), "+7 (900) 000-00-01")
	fmt.Println("absent:", errors.Is(err, probonus.ErrNotFound))
	// Output:
	// 1001 Анна 150.50
	// absent: true
}

func ExampleAccountsService_Refill() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567", Balance: "100"})
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	res, err := client.Accounts.Refill(context.Background(), probonus.Refill{
		AccountID: id,
		Amount:    probonus.MustAmount("50.25"),
		Reason:    probonus.Ptr("Отзыв в приложении"),
		BurnDate:  &probonus.Date{Year: 2030, Month: time.January, Day: 31},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("balance:", res.Balance)
	// Output: balance: 150.25
}

// RefillOnce credits once per (account, reason, amount): here the first answer is lost after
// the server applied the credit, the call finds it in the history instead of sending again, and a
// job that runs again sends nothing.
func ExampleAccountsService_RefillOnce() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	// ClientOptions: a RefillOnce settle time of 50ms instead of the 30s attempt timeout
	client, _ := probonus.New(srv.ClientOptions()...)
	srv.Inject("POST", probonustest.PathRefill, probonustest.Fault{AfterApply: true, Reset: true})

	review := probonus.Refill{AccountID: id, Amount: probonus.MustAmount("50"), Reason: probonus.Ptr("Отзыв о заказе 1234")}
	for range 2 {
		res, err := client.Accounts.RefillOnce(context.Background(), review)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("balance:", res.Balance, "already applied:", res.AlreadyApplied)
	}
	fmt.Println("refills applied:", len(srv.Refills(id)))
	// Output:
	// balance: 50.00 already applied: false
	// balance: 50.00 already applied: true
	// refills applied: 1
}

func ExampleAccountsService_Transactions() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	srv.AddCheck(probonustest.Check{AccountID: id, Number: 7, Datetime: time.Now().Add(-3 * 24 * time.Hour), BonusAccrued: "12",
		Dishes: []probonustest.Dish{{Code: 1, Name: "Чай", Quantity: "1", Price: "240"}}})
	srv.AddCheck(probonustest.Check{AccountID: id, Number: 8, Datetime: time.Now().Add(-30 * 24 * time.Hour), BonusAccrued: "5",
		Dishes: []probonustest.Dish{{Code: 1, Name: "Чай", Quantity: "1", Price: "100"}}})
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	lastWeek, err := client.Accounts.Transactions(context.Background(), id, time.Now().AddDate(0, 0, -7), time.Now())
	if err != nil {
		log.Fatal(err)
	}
	for _, tx := range lastWeek {
		fmt.Println(tx.Type, tx.Sum, "check", tx.CheckNumber)
	}
	// Output: check_accrual 12.00 check 7
}

func ExampleAccountsService_LastTransactions() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))
	for _, sum := range []string{"10", "20", "30"} {
		if _, err := client.Accounts.Refill(context.Background(), probonus.Refill{AccountID: id, Amount: probonus.MustAmount(sum)}); err != nil {
			log.Fatal(err)
		}
	}

	txs, err := client.Accounts.LastTransactions(context.Background(), id, 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, tx := range txs {
		fmt.Println(tx.Type, tx.Sum)
	}
	// Output:
	// refill 30.00
	// refill 20.00
}

func ExampleAccountsService_Update() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567", FirstName: "Анна", LastName: "Иванова"})
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	acc, err := client.Accounts.Update(context.Background(), probonus.AccountUpdate{
		AccountID: id,
		LastName:  probonus.Ptr("Петрова"),
		Email:     probonus.Ptr("anna@example.com"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(acc.FirstName, acc.LastName, acc.Email)
	// Output: Анна Петрова anna@example.com
}

func ExampleAccountsService_BalanceExtended() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567", Balance: "100", BurnDate: "2030-12-31"})
	srv.AddCheck(probonustest.Check{AccountID: id, BonusAccrued: "15", AccrueOn: "2030-01-15",
		Dishes: []probonustest.Dish{{Code: 1, Name: "Чай", Quantity: "1", Price: "300"}}})
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	bal, err := client.Accounts.BalanceExtended(context.Background(), id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("balance", bal.BonusBalance, "awaiting", bal.BonusAwaitingIssue)
	for _, b := range bal.Burnings {
		fmt.Println("burns", b.Sum, "on", b.Date)
	}
	for _, l := range bal.LateIssues {
		fmt.Println("arrives", l.Sum, "on", l.Date)
	}
	// Output:
	// balance 100.00 awaiting 15.00
	// burns 100.00 on 2030-12-31
	// arrives 15.00 on 2030-01-15
}

func ExampleChecksService_GetByID() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	checkID := srv.AddCheck(probonustest.Check{AccountID: id, Number: 1207, RestaurantName: "Пекарня", Dishes: []probonustest.Dish{
		{Code: 1024, Name: "Круассан", Quantity: "2", Price: "245"},
		{Code: 3001, Name: "Суп, полпорции", Quantity: "0.5", Price: "534"},
	}})
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	check, err := client.Checks.GetByID(context.Background(), checkID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("check", check.Number, check.RestaurantName, check.Sum)
	for _, d := range check.Dishes {
		fmt.Println(d.Name, d.Quantity.Decimal(), "×", d.Price, "=", d.Sum)
	}
	// Output:
	// check 1207 Пекарня 757.00
	// Круассан 2 × 245.00 = 490.00
	// Суп, полпорции 0.5 × 534.00 = 267.00
}

func ExampleClient_Do() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567", Balance: "150.50"})
	client, _ := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))

	// Any endpoint, through the same limiter, credentials, retries and errors.
	var raw map[string]any
	err := client.Do(context.Background(), "GET", "/api/v0/accounts/find_by_phone", url.Values{"phone": {"79991234567"}}, nil, &raw)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(raw["balance"])
	// Output: 150.50
}

func ExampleNormalizePhone() {
	for _, p := range []string{"+7 (999) 123-45-67", "8 999 123 45 67", "9991234567", "12345"} {
		n, err := probonus.NormalizePhone(p)
		fmt.Printf("%q → %q %v\n", p, n, err)
	}
	// Output:
	// "+7 (999) 123-45-67" → "79991234567" <nil>
	// "8 999 123 45 67" → "79991234567" <nil>
	// "9991234567" → "79991234567" <nil>
	// "12345" → "" probonus: invalid phone: not a valid phone number for region RU (5 digits given): want a national number of 10 digits, optionally after 8 or 7, or + and the country code
}

func ExampleAmount() {
	a := probonus.MustAmount("0.1").Add(probonus.MustAmount("0.2"))
	fmt.Println(a, a.Equal(probonus.MustAmount("0.3")))
	kopecks, whole := probonus.MustAmount("150.5").Minor()
	fmt.Println(kopecks, whole, probonus.AmountFromMinor(15050))
	// Output:
	// 0.30 true
	// 15050 true 150.50
}
