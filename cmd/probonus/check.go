package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/probonus-go/probonus"
)

// checkOptions is what check runs with.
type checkOptions struct {
	checkID int64
}

// newCheckCmd registers check's flags (none) and returns what parses its argument and runs it.
func newCheckCmd(_ *flag.FlagSet, runF runFunc[checkOptions]) runner {
	return func(ctx context.Context, s *session, args []string) error {
		checkID, err := parseID("CHECK", args[0])
		if err != nil {
			return err
		}
		return runF(ctx, s, checkOptions{checkID: checkID})
	}
}

// runCheck shows a check down to its dishes.
func runCheck(ctx context.Context, s *session, o checkOptions) error {
	c, err := s.connect()
	if err != nil {
		return err
	}
	ch, err := c.Checks.GetByID(ctx, o.checkID)
	if errors.Is(err, probonus.ErrNotFound) {
		return notFound(fmt.Errorf("no check %d: %w", o.checkID, err), "a guest's checks are in the CHECK column of probonus history ACCOUNT")
	}
	if err != nil {
		return err
	}
	if s.cfg.json {
		return printJSON(s.stdout, ch)
	}
	return printCheck(s.stdout, ch)
}

// printCheck prints a check's header, its sums and its dishes.
func printCheck(w io.Writer, c *probonus.Check) error {
	f := newFields()
	f.add("check", id(c.ID))
	f.add("number", string(c.Number))
	f.add("time", stamp(c.Datetime))
	f.add("restaurant", join(" ", string(c.RestaurantCode), c.RestaurantName))
	f.add("cash desk", string(c.CashDesk))
	f.add("account", id(c.AccountID))
	f.addMoney("sum", c.Sum)
	f.addMoney("discount", c.DiscountSum)
	f.addMoney("bonuses paid", c.BonusPaid)
	f.addMoney("bonuses earned", c.BonusAccrued)
	if err := f.write(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(c.Dishes) == 0 {
		_, err := fmt.Fprintln(w, "The check has no dishes.")
		return err
	}
	t := newTable("CODE", "DISH", "QTY>", "PRICE>", "DISCOUNT>", "SUM>")
	for _, d := range c.Dishes {
		t.add(string(d.Code), d.Name, number(d.Quantity), money(d.Price), money(d.DiscountSum), money(d.Sum))
	}
	return t.write(w)
}
