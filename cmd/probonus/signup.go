package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/probonus-go/probonus"
)

// signupOptions is what signup runs with: one guest, or a file of them.
type signupOptions struct {
	campaign *campaignOptions    // --file: a run of its rows; nil: one guest
	account  probonus.NewAccount // one guest, its Phone as given: the run normalises it with the client's region
}

// newSignupCmd registers signup's flags and returns what parses them with the phone and runs it.
func newSignupCmd(fs *flag.FlagSet, runF runFunc[signupOptions]) runner {
	group := fs.Int64("group", 0, "the group to create the guest in: one with a template (see probonus groups); required")
	var first, last, middle, email, gender, birth, card *string
	fs.Var(optString{&first}, "first-name", "first name")
	fs.Var(optString{&last}, "last-name", "last name")
	fs.Var(optString{&middle}, "middle-name", "middle name (patronymic)")
	fs.Var(optString{&email}, "email", "email")
	fs.Var(optString{&gender}, "gender", "male or female")
	fs.Var(optString{&birth}, "birth-date", "birth date, YYYY-MM-DD")
	fs.Var(optString{&card}, "card", "a loyalty card number to attach")
	file := newCampaignFlags(fs, signupCampaign)
	return func(ctx context.Context, s *session, args []string) error {
		if file.given() {
			for _, p := range []*string{first, last, middle, email, gender, birth, card} {
				if p != nil {
					return usageErrorf("with --file, each guest's fields are in its columns: drop --first-name, --email and the like")
				}
			}
			o, err := file.parse(*group)
			if err != nil {
				return err
			}
			return runF(ctx, s, signupOptions{campaign: &o})
		}
		if err := file.unused(); err != nil {
			return err
		}
		if *group <= 0 {
			return usageErrorf("--group is required: the id of a group with a template (probonus groups lists them)")
		}
		n := probonus.NewAccount{Phone: args[0], GroupID: *group, FirstName: first, LastName: last, MiddleName: middle, Email: email}
		if gender != nil {
			g, err := parseGender(*gender)
			if err != nil {
				return err
			}
			n.Gender = &g
		}
		if birth != nil {
			d, err := parseDateFlag("--birth-date", *birth)
			if err != nil {
				return err
			}
			n.BirthDate = &d
		}
		if card != nil {
			n.Identifiers = []probonus.Identifier{{Type: probonus.IdentifierCard, Value: *card}}
		}
		return runF(ctx, s, signupOptions{account: n})
	}
}

// runSignup creates a guest from a group's template, once confirmed, or runs a file of them.
func runSignup(ctx context.Context, s *session, o signupOptions) error {
	if o.campaign != nil {
		return watchCampaign(ctx, s, *o.campaign)
	}
	n := o.account
	c, err := s.connect()
	if err != nil {
		return err
	}
	if n.Phone, err = c.NormalizePhone(n.Phone); err != nil {
		return err
	}
	what := fmt.Sprintf("create a guest with phone %s in group %d", n.Phone, n.GroupID)
	if name := join(" ", deref(n.FirstName), deref(n.MiddleName), deref(n.LastName)); name != "" {
		what += " named " + name
	}
	if err := s.confirm(ctx, what); err != nil {
		return err
	}
	acc, err := c.Accounts.InsertByTemplate(ctx, n)
	if errors.Is(err, probonus.ErrAccountExists) {
		return withHint(err, "probonus find "+n.Phone+" shows the guest")
	}
	if errors.Is(err, probonus.ErrBadRequest) {
		return withHint(err, signupRefusal(err, n))
	}
	if errors.Is(err, probonus.ErrOutcomeUnknown) {
		return withHint(err, "the guest may have been created: probonus find "+n.Phone+" tells")
	}
	if err != nil {
		return err
	}
	if s.cfg.json {
		return printJSON(s.stdout, acc)
	}
	fmt.Fprintf(s.stdout, "Created account %d.\n\n", acc.ID)
	return printAccount(s.stdout, acc)
}

// signupRefusal says what to do about a 400 from insert_by_template that is not
// probonus.ErrAccountExists, from the server's detail (both flavours send these Russian texts; the
// English ones are probable translations): a group without a template or no such group points at
// the groups. A duplicate the SDK could not prove (its find failed) is still told by its words.
func signupRefusal(err error, n probonus.NewAccount) string {
	var api *probonus.APIError
	detail := ""
	if errors.As(err, &api) {
		detail = strings.ToLower(api.Detail)
	}
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(detail, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("шаблон", "template"):
		return fmt.Sprintf("group %d has no template: probonus groups lists those that have one", n.GroupID)
	case has("групп", "group") && has("не найден", "not found", "does not exist", "no such"):
		return fmt.Sprintf("no group %d: probonus groups lists those with a template", n.GroupID)
	case has("существует", "exist", "duplicate"):
		return "a guest with this phone exists already: probonus find " + n.Phone
	case has("телефон", "phone"):
		return "the server refused the phone " + n.Phone
	}
	return "the server refused the sign-up; probonus groups lists the groups with a template, probonus find " + n.Phone + " tells whether the guest exists"
}

func parseGender(v string) (probonus.Gender, error) {
	switch g := probonus.Gender(strings.ToLower(strings.TrimSpace(v))); g {
	case probonus.GenderMale, probonus.GenderFemale:
		return g, nil
	}
	return "", usageErrorf("--gender %q: want male or female", v)
}

func parseDateFlag(name, v string) (probonus.Date, error) {
	d, err := probonus.ParseDate(v)
	if err != nil {
		return probonus.Date{}, usageErrorf("%s %q: want YYYY-MM-DD", name, v)
	}
	return d, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
