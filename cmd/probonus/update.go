package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/probonus-go/probonus"
)

// updateOptions is what update runs with.
type updateOptions struct {
	update  probonus.AccountUpdate // its Phone as given: the run normalises it with the client's region
	changes []string               // the flags given, name="value", for the confirmation
}

// newUpdateCmd registers update's flags and returns what parses them with the account and runs it.
func newUpdateCmd(fs *flag.FlagSet, runF runFunc[updateOptions]) runner {
	var phone, email, first, last, middle, gender, birth, blocked, info, screen, prn, discount, bonusType, lifetime *string
	for _, f := range []struct {
		p          **string
		name, help string
	}{
		{&phone, "phone", "phone, any common form"},
		{&email, "email", "email; \"\" clears it"},
		{&first, "first-name", "first name"},
		{&last, "last-name", "last name"},
		{&middle, "middle-name", "middle name (patronymic)"},
		{&gender, "gender", "male or female"},
		{&birth, "birth-date", "birth date, YYYY-MM-DD"},
		{&blocked, "blocked", "true blocks the account, false unblocks it"},
		{&info, "info", "a note on the account"},
		{&screen, "screen-message", "a message shown to the cashier"},
		{&prn, "print-message", "a message printed on the check"},
		{&discount, "discount-code", "the r_keeper code of the discount the account gets"},
		{&bonusType, "bonus-type-code", "the r_keeper code of the bonus type it accrues"},
		{&lifetime, "bonus-lifetime-days", "how many days its bonuses live"},
	} {
		fs.Var(optString{f.p}, f.name, f.help)
	}
	return func(ctx context.Context, s *session, args []string) error {
		accountID, err := parseID("ACCOUNT", args[0])
		if err != nil {
			return err
		}
		u := probonus.AccountUpdate{AccountID: accountID, Phone: phone, Email: email, FirstName: first, LastName: last,
			MiddleName: middle, Info: info, ScreenMessage: screen, PrintMessage: prn}
		if gender != nil {
			g, err := parseGender(*gender)
			if err != nil {
				return err
			}
			u.Gender = &g
		}
		if birth != nil {
			d, err := parseDateFlag("--birth-date", *birth)
			if err != nil {
				return err
			}
			u.BirthDate = &d
		}
		if blocked != nil {
			b, err := strconv.ParseBool(*blocked)
			if err != nil {
				return usageErrorf("--blocked %q: want true or false", *blocked)
			}
			u.IsBlocked = &b
		}
		for _, code := range []struct {
			in  *string
			out **probonus.Code
		}{{discount, &u.DiscountCode}, {bonusType, &u.BonusTypeCode}} {
			if code.in != nil {
				c := probonus.Code(*code.in)
				*code.out = &c
			}
		}
		if lifetime != nil {
			n, err := strconv.Atoi(*lifetime)
			if err != nil || n < 0 {
				return usageErrorf("--bonus-lifetime-days %q: want a number of days", *lifetime)
			}
			u.BonusLifetimeDays = &n
		}
		var changes []string
		fs.Visit(func(f *flag.Flag) {
			if _, ok := f.Value.(optString); ok {
				changes = append(changes, fmt.Sprintf("%s=%q", f.Name, f.Value.(optString).value()))
			}
		})
		if len(changes) == 0 {
			return usageErrorf("nothing to change: pass at least one field, e.g. --email or --first-name (probonus help update lists them)")
		}
		return runF(ctx, s, updateOptions{update: u, changes: changes})
	}
}

// runUpdate changes some of a guest's fields, once confirmed.
func runUpdate(ctx context.Context, s *session, o updateOptions) error {
	u := o.update
	c, err := s.connect()
	if err != nil {
		return err
	}
	if u.Phone != nil {
		p, err := c.NormalizePhone(*u.Phone)
		if err != nil {
			return err
		}
		u.Phone = &p
	}
	if err := s.confirm(ctx, fmt.Sprintf("change account %d: %s", u.AccountID, strings.Join(o.changes, ", "))); err != nil {
		return err
	}
	acc, err := c.Accounts.Update(ctx, u)
	if errors.Is(err, probonus.ErrOutcomeUnknown) {
		return withHint(err, "the change may have been applied: probonus find PHONE shows the account")
	}
	if err != nil {
		return accountErr(err, u.AccountID)
	}
	if s.cfg.json {
		return printJSON(s.stdout, acc)
	}
	fmt.Fprintf(s.stdout, "Updated account %d.\n\n", acc.ID)
	return printAccount(s.stdout, acc)
}
