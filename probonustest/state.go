package probonustest

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// money is an amount in kopecks.
type money int64

func parseMoney(s string) (money, error) {
	if s == "" {
		return 0, nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	k := d.Shift(2)
	if !k.IsInteger() {
		return 0, fmt.Errorf("%q has a fraction of a kopeck", s)
	}
	if k.Abs().GreaterThan(decimal.NewFromInt(int64(maxMoney))) {
		return 0, fmt.Errorf("%q is more than an amount holds (%s)", s, maxMoney.decimal().StringFixed(2))
	}
	return money(k.IntPart()), nil
}

// maxMoney is the largest amount a NUMERIC(18,2) column holds, 9999999999999999.99: the fake refuses
// any larger, never wrapping around int64.
const maxMoney money = 999_999_999_999_999_999

func mustMoney(s string) money {
	m, err := parseMoney(s)
	if err != nil {
		panic("probonustest: " + err.Error())
	}
	return m
}

func (m money) decimal() decimal.Decimal { return decimal.New(int64(m), -2) }

// lot is credited bonuses that burn together (or never, when burn is empty).
type lot struct {
	left money
	burn string // "YYYY-MM-DD"
}

type account struct {
	Account
	createdAt         time.Time
	lots              []lot
	deferred          []lot // deferred accruals: burn holds the date they arrive
	discountCode      string
	bonusTypeCode     string
	bonusLifetimeDays int
	info, screen, prn string
	level             Level
	spentDay          money
	spentPeriod       money
}

func (a *account) balance() money {
	var sum money
	for _, l := range a.lots {
		sum += l.left
	}
	return sum
}

// spend takes bonuses from the lots that burn soonest, then from those that never burn.
func (a *account) spend(m money) {
	sort.SliceStable(a.lots, func(i, j int) bool {
		bi, bj := a.lots[i].burn, a.lots[j].burn
		return bi != "" && (bj == "" || bi < bj)
	})
	for i := range a.lots {
		take := min(m, a.lots[i].left)
		a.lots[i].left -= take
		m -= take
	}
	if m > 0 && len(a.lots) > 0 { // an overdraft stays on the last lot
		a.lots[len(a.lots)-1].left -= m
	}
}

type transaction struct {
	id             int64
	accountID      int64
	at             time.Time
	typ            string
	sum            money
	reason         string
	checkID        int64
	checkNumber    int
	restaurantCode int
	restaurantName string
	cashDesk       int
	identType      string
	ident          string
	byRefill       bool // applied by POST PathRefill, not a welcome bonus or a check
}

type check struct {
	Check
	sum, discountSum, bonusPaid, bonusAccrued money
	dishes                                    []dishLine
}

type dishLine struct {
	Dish
	qty                     decimal.Decimal
	price, sum, discountSum money
}

// state is everything the server knows. The Server's mutex guards it.
type state struct {
	loc      *time.Location
	groups   []*Group
	accounts map[int64]*account
	byPhone  map[string]int64
	txs      []*transaction
	checks   map[int64]*check
	nextID   map[string]int64
}

func newState(loc *time.Location) state {
	st := state{loc: loc, accounts: map[int64]*account{}, byPhone: map[string]int64{}, checks: map[int64]*check{},
		nextID: map[string]int64{"group": 1, "account": 1001, "tx": 50001, "check": 5001}}
	st.addGroup(Group{ID: 1, Name: "Все гости"})
	st.addGroup(Group{ID: 3, Name: "Самостоятельно зарегистрировавшиеся", HaveTemplate: true, ParentID: 1,
		WelcomeBonus: "500", BurnAfterDays: 90, Level: Level{ID: 1, Name: "Базовый", DiscountPercent: "0", BonusPercent: "5"}})
	return st
}

func (st *state) id(kind string, want int64) int64 {
	if want == 0 {
		want = st.nextID[kind]
	}
	if want >= st.nextID[kind] {
		st.nextID[kind] = want + 1
	}
	return want
}

func (st *state) group(id int64) *Group {
	for _, g := range st.groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (st *state) addGroup(g Group) int64 {
	if st.group(g.ID) != nil && g.ID != 0 {
		panic(fmt.Sprintf("probonustest: group %d exists", g.ID))
	}
	g.ID = st.id("group", g.ID)
	mustMoney(g.WelcomeBonus)
	st.groups = append(st.groups, &g)
	return g.ID
}

// burnDate is when bonuses credited today burn under a group's rule; "" for never.
func (st *state) burnDate(g *Group, now time.Time) string {
	if g == nil || g.BurnAfterDays <= 0 {
		return ""
	}
	return now.AddDate(0, 0, g.BurnAfterDays).Format(time.DateOnly)
}

func (st *state) addAccount(a Account, now time.Time) (*account, error) {
	if problem := phoneProblem(a.Phone); problem != "" {
		return nil, fmt.Errorf("phone %q %s", a.Phone, problem)
	}
	a.Phone = normalizePhone(a.Phone)
	g := st.group(a.GroupID)
	if g == nil {
		return nil, fmt.Errorf("group %d does not exist", a.GroupID)
	}
	if a.Phone != "" {
		if _, dup := st.byPhone[a.Phone]; dup {
			return nil, fmt.Errorf("an account with phone %s already exists", a.Phone)
		}
	}
	if _, dup := st.accounts[a.ID]; dup && a.ID != 0 {
		return nil, fmt.Errorf("account %d exists", a.ID)
	}
	balance, err := parseMoney(a.Balance)
	if err != nil {
		return nil, fmt.Errorf("balance: %w", err)
	}
	if !a.CreatedAt.IsZero() {
		now = a.CreatedAt
	}
	acc := &account{Account: a, createdAt: now, level: g.Level}
	acc.ID = st.id("account", a.ID)
	st.accounts[acc.ID] = acc
	if a.Phone != "" {
		st.byPhone[a.Phone] = acc.ID
	}
	if balance != 0 {
		// a lot without a transaction: a test counting refills counts only what it did
		acc.lots = append(acc.lots, lot{left: balance, burn: a.BurnDate})
	}
	return acc, nil
}

// credit adds bonuses as a transaction and a lot.
func (st *state) credit(a *account, typ string, m money, reason, burn string, now time.Time) *transaction {
	a.lots = append(a.lots, lot{left: m, burn: burn})
	return st.addTx(&transaction{accountID: a.ID, at: now, typ: typ, sum: m, reason: reason})
}

func (st *state) addTx(t *transaction) *transaction {
	t.id = st.id("tx", 0)
	st.txs = append(st.txs, t)
	return t
}

func (st *state) addCheck(c Check, now time.Time) (*check, error) {
	a := st.accounts[c.AccountID]
	if a == nil {
		return nil, fmt.Errorf("account %d does not exist", c.AccountID)
	}
	if c.Datetime.IsZero() {
		c.Datetime = now
	}
	ch := &check{Check: c}
	for _, d := range c.Dishes {
		qty, err := decimal.NewFromString(d.Quantity)
		if err != nil {
			return nil, fmt.Errorf("dish %q: quantity %q", d.Name, d.Quantity)
		}
		price, err := parseMoney(d.Price)
		if err != nil {
			return nil, fmt.Errorf("dish %q: price: %w", d.Name, err)
		}
		disc, err := parseMoney(d.DiscountSum)
		if err != nil {
			return nil, fmt.Errorf("dish %q: discount: %w", d.Name, err)
		}
		sum := money(qty.Mul(price.decimal()).Shift(2).Round(0).IntPart())
		ch.dishes = append(ch.dishes, dishLine{Dish: d, qty: qty, price: price, sum: sum, discountSum: disc})
		ch.sum += sum
		ch.discountSum += disc
	}
	var err error
	if ch.bonusPaid, err = parseMoney(c.BonusPaid); err != nil {
		return nil, fmt.Errorf("bonus paid: %w", err)
	}
	if ch.bonusAccrued, err = parseMoney(c.BonusAccrued); err != nil {
		return nil, fmt.Errorf("bonus accrued: %w", err)
	}
	ch.ID = st.id("check", c.ID)
	st.checks[ch.ID] = ch
	onCheck := func(typ string, m money) {
		st.addTx(&transaction{accountID: a.ID, at: c.Datetime, typ: typ, sum: m, checkID: ch.ID, checkNumber: c.Number,
			restaurantCode: c.RestaurantCode, restaurantName: c.RestaurantName, cashDesk: c.CashDesk,
			identType: "phone", ident: a.Phone})
	}
	if ch.bonusPaid > 0 {
		a.spend(ch.bonusPaid)
		onCheck("check_payment", -ch.bonusPaid)
	}
	if ch.bonusAccrued > 0 {
		if c.AccrueOn != "" {
			a.deferred = append(a.deferred, lot{left: ch.bonusAccrued, burn: c.AccrueOn})
		} else {
			a.lots = append(a.lots, lot{left: ch.bonusAccrued, burn: st.burnDate(st.group(a.GroupID), c.Datetime)})
			onCheck("check_accrual", ch.bonusAccrued)
		}
	}
	a.spentDay += ch.sum - ch.discountSum
	a.spentPeriod += ch.sum - ch.discountSum
	return ch, nil
}

// transactions returns an account's transactions, newest first.
func (st *state) transactions(accountID int64) []*transaction {
	var out []*transaction
	for _, t := range st.txs {
		if t.accountID == accountID {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.After(out[j].at)
		}
		return out[i].id > out[j].id
	})
	return out
}

// phoneProblem says why p is not a phone number AddAccount takes; "" when it is one.
func phoneProblem(p string) string {
	digits := 0
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case !strings.ContainsRune("+-() .", r):
			return fmt.Sprintf("has %q: a phone holds digits and + - ( ) . and spaces only", r)
		}
	}
	if p != "" && (digits < 10 || digits > 15) {
		return fmt.Sprintf("has %d digits, not 10 to 15 (e.g. \"+7 999 123-45-67\")", digits)
	}
	return ""
}

// normalizePhone keeps the digits, turning a leading 8 of an 11-digit number into 7.
func normalizePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '8' {
		d = "7" + d[1:]
	}
	return d
}
