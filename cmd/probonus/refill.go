package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/probonus-go/probonus"
)

// refillOutput is a RefillResult as --json prints it: AlreadyApplied is not on the wire, so the
// SDK's type does not encode it.
type refillOutput struct {
	probonus.RefillResult
	AlreadyApplied bool `json:"alreadyApplied"`
}

// refillOptions is what refill runs with: one credit, or a file of them.
type refillOptions struct {
	campaign *campaignOptions // --file: a run of its rows, each through RefillOnce; nil: one credit
	refill   probonus.Refill  // one credit
	once     bool             // through RefillOnce
}

// newRefillCmd registers refill's flags and returns what parses them with the account and amount
// and runs it.
func newRefillCmd(fs *flag.FlagSet, runF runFunc[refillOptions]) runner {
	reason := fs.String("reason", "", "why, shown in the guest's history; required")
	once := fs.Bool("once", false, "credit only if the last 30 days of history hold no credit of this amount and reason: safe to run again (the SDK's RefillOnce)")
	burn := fs.String("burn-date", "", "when these bonuses burn, YYYY-MM-DD (default: the group's rule)")
	file := newCampaignFlags(fs, refillCampaign)
	return func(ctx context.Context, s *session, args []string) error {
		if file.given() {
			if *reason != "" || *burn != "" {
				return usageErrorf("with --file, each row has its reason and burn_date in its columns: drop --reason and --burn-date")
			}
			o, err := file.parse(0) // every row goes through RefillOnce: --once is implied
			if err != nil {
				return err
			}
			return runF(ctx, s, refillOptions{campaign: &o})
		}
		if err := file.unused(); err != nil {
			return err
		}
		accountID, err := parseID("ACCOUNT", args[0])
		if err != nil {
			return err
		}
		amount, err := probonus.ParseAmount(args[1])
		if err != nil || amount.Sign() <= 0 {
			return usageErrorf("AMOUNT must be a positive number such as 50 or 12.50, got %q", args[1])
		}
		if _, whole := amount.Minor(); !whole {
			return usageErrorf("AMOUNT %q has a fraction of a kopeck", args[1])
		}
		if *reason == "" {
			return usageErrorf("--reason is required: it is shown in the guest's history (and --once finds the credit by it)")
		}
		r := probonus.Refill{AccountID: accountID, Amount: amount, Reason: reason}
		if *burn != "" {
			d, err := parseDateFlag("--burn-date", *burn)
			if err != nil {
				return err
			}
			r.BurnDate = &d
		}
		return runF(ctx, s, refillOptions{refill: r, once: *once})
	}
}

// runRefill credits bonuses to an account, once confirmed, or runs a file of credits.
func runRefill(ctx context.Context, s *session, o refillOptions) error {
	if o.campaign != nil {
		return watchCampaign(ctx, s, *o.campaign)
	}
	r := o.refill
	accountID, amount, reason := r.AccountID, r.Amount, *r.Reason
	c, err := s.connect()
	if err != nil {
		return err
	}
	// Reading the balance first shows the person confirming what changes, and stops at a
	// wrong account before anything is written.
	before, err := c.Accounts.BalanceExtended(ctx, accountID)
	if err != nil {
		return accountErr(err, accountID)
	}
	what := fmt.Sprintf("credit %s to account %d (balance %s) with reason %q", money(amount), accountID, money(before.BonusBalance), reason)
	if o.once {
		what += ", unless its history has this credit already"
	}
	if err := s.confirm(ctx, what); err != nil {
		return err
	}
	var res *probonus.RefillResult
	if o.once {
		res, err = c.Accounts.RefillOnce(ctx, r)
	} else {
		res, err = c.Accounts.Refill(ctx, r)
	}
	if errors.Is(err, probonus.ErrOutcomeUnknown) {
		if o.once {
			return withHint(err, "run the same command again: --once looks in the history before it credits")
		}
		return withHint(err, fmt.Sprintf("the credit may have been applied: look with probonus history %d --last 5 before crediting again, or repeat with --once, which looks first", accountID))
	}
	if err != nil {
		return accountErr(err, accountID)
	}
	if s.cfg.json {
		return printJSON(s.stdout, refillOutput{RefillResult: *res, AlreadyApplied: res.AlreadyApplied})
	}
	if res.AlreadyApplied {
		_, err = fmt.Fprintf(s.stdout, "Already credited: transaction %d has this credit, nothing was sent. Balance %s.\n", res.TransactionID, money(res.Balance))
		return err
	}
	_, err = fmt.Fprintf(s.stdout, "Credited %s to account %d: transaction %d, balance %s.\n", money(amount), accountID, res.TransactionID, money(res.Balance))
	return err
}
