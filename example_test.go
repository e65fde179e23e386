package probonus_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
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
	// "12345" → "" probonus: invalid phone: not a valid phone number
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
