package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/probonus-go/probonus"
)

// signupCampaign signs guests up: a row is a phone and perhaps a name, an email, a gender, a birth
// date and a card, and goes through FindOrInsert into the run's group.
var signupCampaign campaignKind = signupKind{}

type signupKind struct{}

func (signupKind) fileUsage() string {
	return "sign up the guests of a CSV file: column phone, optional first_name, last_name, middle_name, email, gender, birth_date, card"
}

func (signupKind) checkFlags(o campaignOptions) error {
	if o.group <= 0 {
		return usageErrorf("--group is required: the id of a group with a template (probonus groups lists them)")
	}
	return nil
}

func (signupKind) columns() []string {
	return []string{colPhone, colFirstName, colLastName, colMiddleName, colEmail, colGender, colBirthDate, colCard}
}

// header wants the phone: a guest is signed up by it.
func (k signupKind) header(f *campaignFile, cols map[string]int) error {
	if _, ok := cols[colPhone]; !ok {
		return usageErrorf("%s: the header has no phone column (want %s)", f.name, k.example(f.comma))
	}
	f.idColumn = colPhone
	return nil
}

func (signupKind) example(comma rune) string {
	return strings.Join([]string{colPhone, colFirstName, colLastName, colEmail}, string(comma))
}

// parse reads the guest's optional fields: an empty cell sends nothing.
func (signupKind) parse(_ campaignReader, row *campaignRow, _ *campaignFile, get func(string) (string, bool), bad func(column, format string, args ...any)) {
	g := &row.guest
	g.Phone = row.phone
	opt := func(c string) *string {
		if v, _ := get(c); v != "" {
			return &v
		}
		return nil
	}
	g.FirstName, g.LastName, g.MiddleName, g.Email = opt(colFirstName), opt(colLastName), opt(colMiddleName), opt(colEmail)
	if v := opt(colGender); v != nil {
		if gender, err := parseGender(*v); err != nil {
			bad(colGender, "%q: want male or female", *v)
		} else {
			g.Gender = &gender
		}
	}
	if v := opt(colBirthDate); v != nil {
		if d, err := parseFileDate(*v); err != nil {
			bad(colBirthDate, "%q: want YYYY-MM-DD or DD.MM.YYYY", *v)
		} else {
			g.BirthDate = &d
		}
	}
	if v := opt(colCard); v != nil {
		g.Identifiers = []probonus.Identifier{{Type: probonus.IdentifierCard, Value: *v}}
	}
}

// key is the phone: one guest a phone.
func (signupKind) key(r *campaignRow) string { return r.phone }

func (signupKind) duplicate(first int) string {
	return fmt.Sprintf("the same phone as line %d", first)
}

// prepare stops a sign-up whose group cannot take one before any row is sent: every row would be
// refused the same way.
func (signupKind) prepare(ctx context.Context, c *probonus.Client, o campaignOptions) error {
	groups, err := c.AccountGroups.List(ctx)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.ID == o.group {
			if !g.HaveTemplate {
				return usageErrorf("group %d (%s) has no template: probonus groups lists those that have one", o.group, g.Name)
			}
			return nil
		}
	}
	return usageErrorf("no group %d: probonus groups lists those with a template", o.group)
}

func (signupKind) confirmation(f *campaignFile, o campaignOptions) string {
	return fmt.Sprintf("sign up the guests of %s in group %d: %s, %d at a time, each through FindOrInsert (a guest who has an account is left as is)",
		f.name, o.group, howMany(f.valid, "row"), o.concurrency)
}

// look tells a guest to sign up from one who has an account, by reading only.
func (signupKind) look(ctx context.Context, c *probonus.Client, row *campaignRow) rowResult {
	acc, err := c.Accounts.FindByPhone(ctx, row.phone)
	switch {
	case errors.Is(err, probonus.ErrNotFound):
		return rowResult{status: statusReady}
	case err != nil:
		return failed(rowResult{}, err)
	}
	return rowResult{status: statusExists, account: acc.ID}
}

// send signs one guest up through FindOrInsert.
func (signupKind) send(ctx context.Context, c *probonus.Client, o campaignOptions, row *campaignRow) rowResult {
	g := row.guest
	g.GroupID = o.group
	acc, created, err := c.Accounts.FindOrInsert(ctx, g)
	if err != nil {
		return failed(rowResult{}, err)
	}
	res := rowResult{account: acc.ID, status: statusExists}
	if created {
		res.status = statusCreated
	}
	return res
}

func (signupKind) resultColumns() []string { return []string{"status"} }

func (signupKind) resultCells(_ *resultsFile, _ *campaignRow, res rowResult) []string {
	return []string{res.status}
}

func (signupKind) statuses() []string {
	return []string{statusCreated, statusExists, statusRefused, statusUnknown, statusSkipped}
}

func (signupKind) money() bool { return false }

func (signupKind) verb(bool) string { return statusCreated }

func (signupKind) done(t *tally) string {
	return fmt.Sprintf("Signed up %s; %s had an account already.", howMany(t.counts[statusCreated], "guest"), howMany(t.counts[statusExists], "guest"))
}

func (signupKind) summarize(*tally, *campaignSummary) {}

func (signupKind) wouldDo(ready, exists int, _ probonus.Amount, o campaignOptions) string {
	return fmt.Sprintf("Would sign up %s in group %d; %s %s an account already.", howMany(ready, "guest"), o.group, howMany(exists, "guest"), has(exists))
}

func has(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
