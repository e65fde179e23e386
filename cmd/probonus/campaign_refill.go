package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/probonus-go/probonus"
)

// refillCampaign credits bonuses: a row names a guest by phone or account, an amount, a reason and
// perhaps a burn date, and goes through RefillOnce.
var refillCampaign campaignKind = refillKind{}

type refillKind struct{}

func (refillKind) fileUsage() string {
	return "credit the rows of a CSV file: columns phone or account, amount, reason, optional burn_date (comma or semicolon separated, UTF-8)"
}

func (refillKind) checkFlags(campaignOptions) error { return nil }

func (refillKind) columns() []string {
	return []string{colPhone, colAccount, colAmount, colReason, colBurnDate}
}

// header wants the guest by phone or by account (not both: rows are found by it), an amount and
// a reason.
func (k refillKind) header(f *campaignFile, cols map[string]int) error {
	_, phone := cols[colPhone]
	_, account := cols[colAccount]
	switch {
	case phone && account:
		return usageErrorf("%s: the header has both phone and account: keep one (rows are found by it)", f.name)
	case !phone && !account:
		return usageErrorf("%s: the header has neither a phone nor an account column (want %s)", f.name, k.example(f.comma))
	case phone:
		f.idColumn = colPhone
	default:
		f.idColumn = colAccount
	}
	for _, c := range []string{colAmount, colReason} {
		if _, ok := cols[c]; !ok {
			return usageErrorf("%s: the header has no %s column (want %s)", f.name, c, k.example(f.comma))
		}
	}
	return nil
}

func (refillKind) example(comma rune) string {
	return strings.Join([]string{colPhone, colAmount, colReason, colBurnDate}, string(comma))
}

// parse reads the amount (as the file's dialect writes it), the reason and the burn date.
func (refillKind) parse(cr campaignReader, row *campaignRow, f *campaignFile, get func(string) (string, bool), bad func(column, format string, args ...any)) {
	row.rawAmount, _ = get(colAmount)
	if a, msg := parseCampaignAmount(row.rawAmount, f.comma); msg != "" {
		bad(colAmount, "%s", msg)
	} else {
		row.amount = a
	}
	row.reason, _ = get(colReason)
	if row.reason == "" {
		bad(colReason, "empty: the reason is shown in the guest's history, and a rerun finds the credit by it")
	}
	if v, ok := get(colBurnDate); ok && v != "" {
		d, err := parseFileDate(v)
		switch {
		case err != nil:
			bad(colBurnDate, "%q: want YYYY-MM-DD or DD.MM.YYYY", v)
		case d.Before(cr.today):
			bad(colBurnDate, "%s is in the past", d)
		default:
			row.burn = &d
		}
	}
}

// key is RefillOnce's: the guest, the reason and the amount.
func (refillKind) key(r *campaignRow) string {
	id := r.phone
	if id == "" {
		id = strconv.FormatInt(r.account, 10)
	}
	return id + "\x00" + r.reason + "\x00" + r.amount.Decimal().String()
}

func (refillKind) duplicate(first int) string {
	return fmt.Sprintf("the same guest, amount and reason as line %d: a second credit would be taken for the first one", first)
}

func (refillKind) prepare(context.Context, *probonus.Client, campaignOptions) error { return nil }

// confirmation gives the total as a ceiling: a row credited by a run before is found and not
// sent again.
func (refillKind) confirmation(f *campaignFile, o campaignOptions) string {
	return fmt.Sprintf("credit up to %s in all from %s: %s, %d at a time, each through RefillOnce (a row credited before is not credited again)",
		money(f.sum), f.name, howMany(f.valid, "row"), o.concurrency)
}

// look finds a row's guest by reading only: by phone, or the account's balance.
func (refillKind) look(ctx context.Context, c *probonus.Client, row *campaignRow) rowResult {
	var err error
	if row.phone != "" {
		_, err = c.Accounts.FindByPhone(ctx, row.phone)
	} else {
		_, err = c.Accounts.BalanceExtended(ctx, row.account)
	}
	if err != nil {
		return failed(rowResult{}, err)
	}
	return rowResult{status: statusReady}
}

// send credits one row through RefillOnce, finding the guest by phone first when the file names
// guests by phone.
func (refillKind) send(ctx context.Context, c *probonus.Client, _ campaignOptions, row *campaignRow) rowResult {
	res := rowResult{account: row.account}
	if row.phone != "" {
		acc, err := c.Accounts.FindByPhone(ctx, row.phone)
		if err != nil {
			return namedNotFound(failed(res, err), row)
		}
		res.account = acc.ID
	}
	reason := row.reason
	out, err := c.Accounts.RefillOnce(ctx, probonus.Refill{AccountID: res.account, Amount: row.amount, Reason: &reason, BurnDate: row.burn})
	if out != nil {
		// a credit found whose balance could not be read comes with an error: it is credited
		res.status, res.tx, res.err = statusCredited, out.TransactionID, err
		if out.AlreadyApplied {
			res.status = statusAlready
		}
		if err == nil {
			res.balance = &out.Balance
		}
		return res
	}
	return namedNotFound(failed(res, err), row)
}

func (refillKind) resultColumns() []string {
	return []string{"amount", "reason", "status", "transaction", "balance"}
}

// resultCells are the amount (as read when it did not read), the reason, the status, the
// transaction and the balance after.
func (refillKind) resultCells(rf *resultsFile, row *campaignRow, res rowResult) []string {
	amount := row.rawAmount
	if row.valid() {
		amount = rf.amount(row.amount)
	}
	balance := ""
	if res.balance != nil {
		balance = rf.amount(*res.balance)
	}
	return []string{amount, row.reason, res.status, id(res.tx), balance}
}

func (refillKind) statuses() []string {
	return []string{statusCredited, statusAlready, statusNotFound, statusRefused, statusUnknown, statusSkipped}
}

func (refillKind) money() bool { return true }

func (refillKind) verb(dryRun bool) string {
	if dryRun {
		return "checked"
	}
	return statusCredited
}

// done is the summary's line under the table: the sum credited, and what had been before.
func (refillKind) done(t *tally) string {
	line := fmt.Sprintf("Credited %s in all by this run", money(t.sums[statusCredited]))
	if t.counts[statusAlready] > 0 {
		line += fmt.Sprintf("; %s had been credited before (%s), nothing sent for them", howMany(t.counts[statusAlready], "row"), money(t.sums[statusAlready]))
	}
	return line + "."
}

func (refillKind) summarize(t *tally, sum *campaignSummary) {
	sum.Credited, sum.AlreadyCredited = money(t.sums[statusCredited]), money(t.sums[statusAlready])
}

// wouldDo gives the total as a ceiling, as the confirmation does: the look finds the guest, not a
// credit made by a run before, which the run then finds and does not make again.
func (refillKind) wouldDo(ready, _ int, sum probonus.Amount, _ campaignOptions) string {
	return fmt.Sprintf("Would credit up to %s in all: %s; a row credited by a run before is not credited again.", money(sum), howMany(ready, "row"))
}
