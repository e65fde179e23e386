package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/probonus-go/probonus"
)

// findOptions is what find runs with.
type findOptions struct {
	phone string // as given: the run normalises it with the client's region
}

// newFindCmd registers find's flags (none) and returns what parses its argument and runs it.
func newFindCmd(_ *flag.FlagSet, runF runFunc[findOptions]) runner {
	return func(ctx context.Context, s *session, args []string) error {
		return runF(ctx, s, findOptions{phone: args[0]})
	}
}

// runFind shows the guest with a phone.
func runFind(ctx context.Context, s *session, o findOptions) error {
	c, err := s.connect()
	if err != nil {
		return err
	}
	phone, err := c.NormalizePhone(o.phone)
	if err != nil {
		return err
	}
	acc, err := c.Accounts.FindByPhone(ctx, phone)
	if errors.Is(err, probonus.ErrNotFound) {
		return notFound(fmt.Errorf("no guest with phone %s: %w", phone, err),
			"sign them up with probonus signup "+phone+" --group ID")
	}
	if err != nil {
		return err
	}
	if s.cfg.json {
		return printJSON(s.stdout, acc)
	}
	return printAccount(s.stdout, acc)
}

// notFound adds a hint to a 404. FastAPI answers an unknown route with the detail "Not Found", so
// such a 404 more likely means a wrong base URL than a missing guest.
func notFound(err error, hint string) error {
	var api *probonus.APIError
	if errors.As(err, &api) && api.Detail == "Not Found" {
		hint = "if it exists, the base URL may be wrong (the server has no such route): run probonus doctor"
	}
	return withHint(err, hint)
}

// printAccount prints a guest's profile, balance, level and coupons.
func printAccount(w io.Writer, a *probonus.Account) error {
	f := newFields()
	f.add("account", id(a.ID))
	f.add("name", join(" ", a.FirstName, a.MiddleName, a.LastName))
	f.add("phone", a.Phone)
	var more []string
	for _, p := range a.Phones {
		if p != a.Phone {
			more = append(more, p)
		}
	}
	f.add("other phones", strings.Join(more, ", "))
	f.add("email", a.Email)
	f.add("gender", string(a.Gender))
	f.add("birth date", date(a.BirthDate))
	f.add("group", join(" ", id(a.GroupID), a.GroupName))
	if a.Level != nil {
		f.add("level", fmt.Sprintf("%s (discount %s%%, bonus %s%%)", a.Level.Name, number(a.Level.DiscountPercent), number(a.Level.BonusPercent)))
	}
	f.addMoney("balance", a.Balance)
	if !a.DiscountPercent.IsZero() {
		f.add("discount", number(a.DiscountPercent)+"%")
	}
	if !a.SpentSumDay.IsZero() {
		f.addMoney("spent today", a.SpentSumDay)
	}
	if !a.SpentSumDiscountPeriod.IsZero() {
		f.addMoney("spent in period", a.SpentSumDiscountPeriod)
	}
	if a.IsBlocked {
		f.add("blocked", "yes: the guest can neither earn nor spend bonuses")
	}
	f.add("created", stamp(a.CreatedAt))
	for _, ident := range a.Identifiers {
		if ident.Type != probonus.IdentifierPhone {
			f.add(string(ident.Type), ident.Value)
		}
	}
	f.add("tags", strings.Join(a.Tags, ", "))
	f.add("info", a.Info)
	f.add("screen message", a.ScreenMessage)
	f.add("print message", a.PrintMessage)
	if len(a.Coupons) == 0 {
		f.add("coupons", "none")
	}
	if err := f.write(w); err != nil {
		return err
	}
	if len(a.Coupons) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t := newTable("COUPON", "QTY>", "DISH", "DISCOUNT", "VALID UNTIL")
	for _, c := range a.Coupons {
		until := "no end"
		if c.ValidUntil != nil {
			until = stamp(*c.ValidUntil)
		}
		t.add(c.Name, fmt.Sprint(c.Quantity), string(c.DishCode), string(c.DiscountCode), until)
	}
	return t.write(w)
}
