package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/probonus-go/probonus"
)

// balanceOptions is what balance runs with.
type balanceOptions struct {
	accountID int64
}

// newBalanceCmd registers balance's flags (none) and returns what parses its argument and runs it.
func newBalanceCmd(_ *flag.FlagSet, runF runFunc[balanceOptions]) runner {
	return func(ctx context.Context, s *session, args []string) error {
		accountID, err := parseID("ACCOUNT", args[0])
		if err != nil {
			return err
		}
		return runF(ctx, s, balanceOptions{accountID: accountID})
	}
}

// runBalance shows an account's balance with what arrives and what burns when.
func runBalance(ctx context.Context, s *session, o balanceOptions) error {
	c, err := s.connect()
	if err != nil {
		return err
	}
	b, err := c.Accounts.BalanceExtended(ctx, o.accountID)
	if err != nil {
		return accountErr(err, o.accountID)
	}
	if s.cfg.json {
		return printJSON(s.stdout, b)
	}
	return printBalance(s.stdout, b)
}

// parseID reads a positive id given as an argument.
func parseID(what, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, usageErrorf("%s must be a positive number, got %q", what, s)
	}
	return n, nil
}

// accountErr names the account in a 404.
func accountErr(err error, accountID int64) error {
	if errors.Is(err, probonus.ErrNotFound) {
		return notFound(fmt.Errorf("no account %d: %w", accountID, err), "find a guest's account with probonus find PHONE")
	}
	return err
}

// printBalance prints the balance and, in date order, what arrives and what burns when.
func printBalance(w io.Writer, b *probonus.BalanceExtended) error {
	f := newFields()
	f.add("account", id(b.AccountID))
	f.addMoney("balance", b.BonusBalance)
	f.addMoney("awaiting issue", b.BonusAwaitingIssue)
	f.addMoney("never burns", b.NeverBurns)
	if err := f.write(w); err != nil {
		return err
	}
	type event struct {
		probonus.Tranche
		what string
	}
	var events []event
	for _, l := range b.LateIssues {
		events = append(events, event{l, "arrives"})
	}
	for _, t := range b.Burnings {
		events = append(events, event{t, "burns"})
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Date.Before(events[j].Date) })
	fmt.Fprintln(w)
	if len(events) == 0 {
		_, err := fmt.Fprintln(w, "Nothing is scheduled to arrive or burn.")
		return err
	}
	t := newTable("DATE", "EVENT", "SUM>")
	for _, e := range events {
		t.add(date(e.Date), e.what, money(e.Sum))
	}
	return t.write(w)
}
