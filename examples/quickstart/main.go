// Command quickstart walks through the integration guide's typical scenario: find the template
// group, find a guest by phone and sign them up when absent, credit bonuses for an activity in your
// app, show the last transactions and the balance with what burns when, and a returning guest's
// check down to dishes.
//
//	go run ./examples/quickstart                # an embedded probonustest server, no setup
//	PROBONUS_BASE_URL=http://127.0.0.1:11030 PROBONUS_API_KEY=... go run ./examples/quickstart -write
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout)) }

func run(args []string, getenv func(string) string, out io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(out)
	writeFlag := fs.Bool("write", false, "allow changes (sign-up, refill) on a real server")
	phone := fs.String("phone", probonustest.DemoNewPhone, "the guest who signs up in your app")
	returning := fs.String("returning", probonustest.DemoPhone, "a guest with visits, whose check is shown")
	if fs.Parse(args) != nil {
		return 2
	}
	c, srv, err := connect(getenv, out)
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	write := *writeFlag
	if srv != nil {
		defer srv.Close()
		write = true // demo data may always change
	} else if write {
		fmt.Fprintf(out, "# using %s, writing\n", getenv("PROBONUS_BASE_URL"))
	} else {
		fmt.Fprintf(out, "# using %s, read-only (pass -write to let it change data)\n", getenv("PROBONUS_BASE_URL"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := quickstart(ctx, c, write, *phone, *returning, out); err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	return 0
}

// connect makes a client for the server the environment names (see probonus.FromEnv). Without
// PROBONUS_BASE_URL it starts an embedded probonustest server with demo data instead, and returns
// it too, for the caller to close; srv is nil for a real server.
func connect(getenv func(string) string, out io.Writer) (c *probonus.Client, srv *probonustest.Server, err error) {
	if getenv("PROBONUS_BASE_URL") == "" {
		srv = probonustest.NewServer(nil, probonustest.WithDemoData())
		fmt.Fprintf(out, "# PROBONUS_BASE_URL is not set: using an embedded probonustest server at %s with demo data\n", srv.URL())
		c, err = probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()), probonus.WithUserAgent("quickstart-example"))
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return c, srv, nil
	}
	opts, err := probonus.FromEnv(getenv)
	if err != nil {
		return nil, nil, err
	}
	c, err = probonus.New(append(opts, probonus.WithUserAgent("quickstart-example"))...)
	return c, nil, err
}

func quickstart(ctx context.Context, c *probonus.Client, write bool, phone, returning string, out io.Writer) error {
	// 1. The group new guests go to: one with a template for the API.
	groups, err := c.AccountGroups.List(ctx)
	if err != nil {
		return err
	}
	var group *probonus.AccountGroup
	for i, g := range groups {
		if g.HaveTemplate {
			group = &groups[i]
			break
		}
	}
	if group == nil {
		return errors.New("no account group has a template for the API (\"Шаблон для API\")")
	}
	fmt.Fprintf(out, "1. %d account groups; new guests go to %d %q (it has a template)\n", len(groups), group.ID, group.Name)

	// 2. Find the guest by phone; sign them up from the template when absent.
	acc, err := c.Accounts.FindByPhone(ctx, phone)
	switch {
	case errors.Is(err, probonus.ErrNotFound) && write:
		// FindOrInsert is race-safe: a sign-up of the same guest by another request meanwhile
		// gives this one the same account
		acc, _, err = c.Accounts.FindOrInsert(ctx, probonus.NewAccount{
			GroupID: group.ID, Phone: phone, FirstName: probonus.Ptr("Анна"), LastName: probonus.Ptr("Иванова"),
			Gender: probonus.Ptr(probonus.GenderFemale),
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "2. %s is not a guest yet: created account %d, balance %s (the template's welcome bonus)\n", phone, acc.ID, acc.Balance)
	case errors.Is(err, probonus.ErrNotFound):
		fmt.Fprintf(out, "2. %s is not a guest; run with -write to sign them up\n", phone)
	case err != nil:
		return err
	default:
		fmt.Fprintf(out, "2. %s is account %d (%s %s), balance %s\n", phone, acc.ID, acc.FirstName, acc.LastName, acc.Balance)
	}

	if acc != nil {
		// 3. Credit bonuses for an activity in your app. Never sent twice unless certainly not applied.
		if write {
			res, err := c.Accounts.Refill(ctx, probonus.Refill{AccountID: acc.ID, Amount: probonus.MustAmount("50"),
				Reason: probonus.Ptr("Отзыв в приложении")})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "3. credited 50.00 for a review in the app: transaction %d, balance now %s\n", res.TransactionID, res.Balance)
		} else {
			fmt.Fprintln(out, "3. (a refill needs -write)")
		}
		if err := history(ctx, c, acc.ID, 4, out); err != nil {
			return err
		}
	}

	// 6. A returning guest's last visit, down to dishes.
	guest, err := c.Accounts.FindByPhone(ctx, returning)
	if errors.Is(err, probonus.ErrNotFound) {
		fmt.Fprintf(out, "6. %s is not a guest; pass -returning with a guest's phone to see a check\n", returning)
		return nil
	} else if err != nil {
		return err
	}
	txs, err := c.Accounts.LastTransactions(ctx, guest.ID, 50)
	if err != nil {
		return err
	}
	for _, tx := range txs {
		if tx.CheckID == 0 {
			continue
		}
		check, err := c.Checks.GetByID(ctx, tx.CheckID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "6. returning guest %s (account %d): last check #%s at %s, %s, sum %s, bonuses paid %s, earned %s\n", returning, guest.ID,
			check.Number, check.RestaurantName, check.Datetime.Format("2006-01-02 15:04"), check.Sum, check.BonusPaid, check.BonusAccrued)
		for _, d := range check.Dishes {
			fmt.Fprintf(out, "     %-24s %5s × %8s = %8s\n", d.Name, d.Quantity.Decimal().String(), d.Price, d.Sum)
		}
		return history(ctx, c, guest.ID, 7, out)
	}
	fmt.Fprintf(out, "6. %s has no checks yet\n", returning)
	return nil
}

// history prints an account's last transactions and its balance with the burn schedule.
func history(ctx context.Context, c *probonus.Client, accountID int64, step int, out io.Writer) error {
	txs, err := c.Accounts.LastTransactions(ctx, accountID, 5)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d. last transactions of account %d, newest first:\n", step, accountID)
	for _, tx := range txs {
		fmt.Fprintf(out, "     %s  %-16s %9s  %s\n", tx.Datetime.Format("2006-01-02 15:04"), tx.Type, tx.Sum, tx.Reason)
	}
	bal, err := c.Accounts.BalanceExtended(ctx, accountID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d. balance %s, awaiting issue %s, never burns %s\n", step+1, bal.BonusBalance, bal.BonusAwaitingIssue, bal.NeverBurns)
	for _, b := range bal.Burnings {
		fmt.Fprintf(out, "     burns %8s on %s\n", b.Sum, b.Date)
	}
	for _, l := range bal.LateIssues {
		fmt.Fprintf(out, "     arrives %6s on %s\n", l.Sum, l.Date)
	}
	return nil
}
