package probonustest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// The usual setup of a test: a server, a seeded guest, a client pointed at the server, the code
// under test, then what the server applied. In a test, NewServer(t) closes the server when the
// test ends.
func Example() {
	srv := probonustest.NewServer(nil) // in a test: probonustest.NewServer(t)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+7 999 123-45-67", Balance: "100"})
	client, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}

	// the code under test credits a review
	_, err = client.Accounts.Refill(context.Background(), probonus.Refill{AccountID: id,
		Amount: probonus.MustAmount("50"), Reason: probonus.Ptr("Отзыв о заказе 1234")})
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("balance:", srv.Balance(id))
	for _, r := range srv.Refills(id) {
		fmt.Println("refill:", r.Sum, r.Reason)
	}
	// Output:
	// balance: 150.00
	// refill: 50.00 Отзыв о заказе 1234
}

// A refill whose 200 answer breaks off half-way: the server applied it, the client cannot know.
// The test checks the code under test neither loses the credit nor doubles it.
func ExampleServer_Inject() {
	srv := probonustest.NewServer(nil)
	defer srv.Close()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+7 999 123-45-67"})
	client, err := probonus.New(srv.ClientOptions()...) // its URL and key, with quick test settings
	if err != nil {
		log.Fatal(err)
	}

	srv.Inject("POST", probonustest.PathRefill, probonustest.Fault{AfterApply: true, BreakBody: true})
	_, err = client.Accounts.Refill(context.Background(), probonus.Refill{AccountID: id, Amount: probonus.MustAmount("50")})

	fmt.Println("outcome unknown:", errors.Is(err, probonus.ErrOutcomeUnknown))
	fmt.Println("requests:", srv.Count("POST", probonustest.PathRefill), "refills applied:", len(srv.Refills(id)))
	// Output:
	// outcome unknown: true
	// requests: 1 refills applied: 1
}

// A server with demo data: a returning guest with visits, for a demo or a first try.
func ExampleWithDemoData() {
	srv := probonustest.NewServer(nil, probonustest.WithDemoData())
	defer srv.Close()
	client, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}

	guest, err := client.Accounts.FindByPhone(context.Background(), probonustest.DemoPhone)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(guest.FirstName, guest.LastName, guest.Balance)
	// Output: Пётр Смирнов 142.35
}
