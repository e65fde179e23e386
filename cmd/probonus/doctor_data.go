package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/apimodel"
	"github.com/probonus-go/probonus/internal/contract"
)

// checkGroups says which groups can receive sign-ups.
func (d *doctor) checkGroups(context.Context) bool {
	var with []string
	for _, g := range d.groups {
		if g.HaveTemplate {
			with = append(with, fmt.Sprintf("%d %q", g.ID, g.Name))
		}
	}
	n := fmt.Sprintf("%d groups", len(d.groups))
	switch len(with) {
	case 0:
		d.add(statusWarn, "groups", n+", none with a template: signup cannot create guests",
			"tick \"Шаблон для API\" on a group in the admin UI")
	case 1:
		d.add(statusOK, "groups", n+"; signup creates guests in "+with[0]+", the one with a template")
	default:
		d.add(statusOK, "groups", n+"; "+fmt.Sprint(len(with))+" with a template: "+strings.Join(with, ", "))
	}
	return true
}

// checkGuest reads one guest's data the way the SDK's users do, for the contract and money checks.
func (d *doctor) checkGuest(ctx context.Context) bool {
	if d.phone == "" {
		return false
	}
	c := d.reader
	acc, err := c.Accounts.FindByPhone(ctx, d.phone)
	if errors.Is(err, probonus.ErrNotFound) {
		d.add(statusWarn, "guest", "no guest with phone "+d.phone, "pass --phone with an existing guest's number to compare their data with the model")
		return false
	}
	if err != nil {
		d.add(statusFail, "guest", "find_by_phone: "+d.sdkText(err))
		return false
	}
	d.read = append(d.read, acc)
	var problems []string
	last, err := c.Accounts.LastTransactions(ctx, acc.ID, 50)
	if err != nil {
		problems = append(problems, "last transactions: "+d.sdkText(err))
	}
	d.read = append(d.read, last)
	now := time.Now().In(d.s.loc)
	period, err := c.Accounts.Transactions(ctx, acc.ID, now.AddDate(0, 0, -90), now)
	if err != nil {
		problems = append(problems, "transactions of 90 days: "+d.sdkText(err))
	}
	d.read = append(d.read, period)
	bal, err := c.Accounts.BalanceExtended(ctx, acc.ID)
	if err != nil {
		problems = append(problems, "balance: "+d.sdkText(err))
	} else {
		d.read = append(d.read, bal)
	}
	checkNote := "no check among them"
	for _, tx := range append(last, period...) {
		if tx.CheckID == 0 {
			continue
		}
		ch, err := c.Checks.GetByID(ctx, tx.CheckID)
		if err != nil {
			problems = append(problems, fmt.Sprintf("check %d: %s", tx.CheckID, d.sdkText(err)))
			checkNote = fmt.Sprintf("check %d unreadable", tx.CheckID)
		} else {
			d.read = append(d.read, ch)
			checkNote = fmt.Sprintf("check %d with %d dish%s", ch.ID, len(ch.Dishes), map[bool]string{true: "es"}[len(ch.Dishes) != 1])
		}
		break
	}
	summary := fmt.Sprintf("%s is account %d: %d transactions (%d in the last 90 days), %s", d.phone, acc.ID, len(last), len(period), checkNote)
	if bal != nil {
		summary += ", balance " + money(bal.BonusBalance)
	}
	if len(problems) > 0 {
		d.add(statusFail, "guest", summary, problems...)
		return true
	}
	d.add(statusOK, "guest", summary)
	return true
}

// modelOf returns a pointer to a new value of the type the SDK decodes a path's answer into: the
// SDK's own endpoint table says (internal/apimodel), for every read.
func modelOf(path string) any { return apimodel.New(path) }

// checkContract compares every successful answer with the SDK's model (internal/contract): fields
// the server sends that the model lacks, modelled fields that never came, values the SDK cannot read.
func (d *doctor) checkContract() {
	k := contract.NewChecker()
	for _, e := range d.rec.answers() {
		if e.Status == http.StatusOK {
			if v := modelOf(e.Path); v != nil {
				k.Check(e.Body, v)
			}
		}
	}
	r := k.Report()
	if r.Responses == 0 {
		return
	}
	scope := ""
	if d.read == nil {
		scope = " (only the groups: add --phone with a guest's number to compare their data too)"
	}
	if r.Empty() {
		d.add(statusOK, "contract", fmt.Sprintf("%d answer%s compared with the SDK's model: no difference%s", r.Responses, plural(r.Responses), scope))
		return
	}
	var details []string
	if len(r.Unknown) > 0 {
		details = append(details, "sent, not in the model (the SDK ignores them): "+strings.Join(r.Unknown, ", "))
	}
	if len(r.Missing) > 0 {
		missing := make([]string, len(r.Missing))
		for i, m := range r.Missing {
			missing[i] = m + renameGuess(m, r.Unknown)
		}
		details = append(details, "in the model, never sent (the SDK leaves them empty): "+strings.Join(missing, ", "))
	}
	for _, m := range r.Mismatches {
		details = append(details, "unreadable: "+m)
	}
	n := len(r.Unknown) + len(r.Missing) + len(r.Mismatches)
	status := statusWarn
	if len(r.Mismatches) > 0 {
		status = statusFail
	}
	d.add(status, "contract", fmt.Sprintf("%d answer%s compared with the SDK's model: %d difference%s%s", r.Responses, plural(r.Responses), n, plural(n), scope), details...)
}

// renameGuess names the field a missing one was perhaps renamed to: the only unknown field of the
// same type.
func renameGuess(missing string, unknown []string) string {
	typ, _, _ := strings.Cut(missing, ".")
	var same []string
	for _, u := range unknown {
		if t, name, _ := strings.Cut(u, "."); t == typ {
			same = append(same, name)
		}
	}
	if len(same) == 1 {
		return " (renamed " + same[0] + "?)"
	}
	return ""
}

// moneyValue is one amount the guest's reads decoded, named like the contract's fields.
type moneyValue struct {
	name string
	v    probonus.Amount
}

var amountType = reflect.TypeFor[probonus.Amount]()

// collectMoney finds the money amounts in v: every Amount field but percentages and quantities.
func collectMoney(v reflect.Value, out *[]moneyValue) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectMoney(v.Elem(), out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			collectMoney(v.Index(i), out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Type == amountType {
				if strings.Contains(f.Name, "Percent") || f.Name == "Quantity" {
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				*out = append(*out, moneyValue{t.Name() + "." + name, v.Field(i).Interface().(probonus.Amount)})
				continue
			}
			collectMoney(v.Field(i), out)
		}
	}
}

// Kopecks are suspected when at least minMoneyValues non-zero amounts are all whole numbers of at
// least kopeckFloor: rubles earned as a percentage almost always bring kopecks with them.
const (
	minMoneyValues = 3
	kopeckFloor    = 100
)

// checkMoney looks for money sent in kopecks rather than rubles: the SDK would read 30000 kopecks
// as 30000.00 rubles, a hundred times too much.
func (d *doctor) checkMoney() {
	if d.read == nil {
		return
	}
	var all []moneyValue
	for _, v := range d.read {
		collectMoney(reflect.ValueOf(v), &all)
	}
	var nonzero []moneyValue
	fractional := 0
	smallest := probonus.Amount{}
	for _, m := range all {
		if m.v.IsZero() {
			continue
		}
		abs := m.v
		if abs.Sign() < 0 {
			abs = abs.Neg()
		}
		if len(nonzero) == 0 || abs.Cmp(smallest) < 0 {
			smallest = abs
		}
		nonzero = append(nonzero, m)
		if !abs.Decimal().IsInteger() {
			fractional++
		}
	}
	switch {
	case len(nonzero) < minMoneyValues:
		d.add(statusOK, "money", fmt.Sprintf("%d non-zero amounts: too few to tell rubles from kopecks", len(nonzero)))
	case fractional > 0:
		d.add(statusOK, "money", fmt.Sprintf("%d non-zero amounts, %d with kopecks: in rubles, as the SDK reads them", len(nonzero), fractional))
	case smallest.Cmp(probonus.AmountFromMinor(kopeckFloor*100)) >= 0:
		examples := make([]string, 0, 3)
		for _, m := range nonzero[:min(3, len(nonzero))] {
			examples = append(examples, m.name+" "+number(m.v))
		}
		d.add(statusWarn, "money", fmt.Sprintf("all %d non-zero amounts are whole numbers of %d or more: are they kopecks?", len(nonzero), kopeckFloor),
			"e.g. "+strings.Join(examples, ", "),
			"the SDK reads them as rubles: "+number(nonzero[0].v)+" becomes "+money(nonzero[0].v)+" rubles; if the admin UI shows a hundred times less, send us the report")
	default:
		d.add(statusOK, "money", fmt.Sprintf("%d non-zero amounts, all whole, some under %d: rubles", len(nonzero), kopeckFloor))
	}
}
