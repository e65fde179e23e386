package probonustest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Seed is test data read from a JSON file by ParseSeed: groups, guests, their transactions and
// checks, so that a team can share one data set between its Go tests (Server.Load) and the fake
// that probonus serve runs for everyone else (--seed FILE).
//
// The file is one object with up to four lists, each optional; names are the wire model's:
//
//	{
//	  "comment": "anything: ignored",
//	  "groups": [{"id": 7, "name": "Гости кафе", "haveTemplate": true, "parentId": 1,
//	              "welcomeBonus": 100, "burnAfterDays": 90,
//	              "level": {"id": 2, "name": "Серебро", "discountPercent": 5, "bonusPercent": 7}}],
//	  "accounts": [{"id": 2001, "groupId": 7, "phone": "+7 916 555-00-01", "firstName": "Анна",
//	                "lastName": "Иванова", "middleName": "", "email": "", "gender": "female",
//	                "birthDate": "1990-05-17", "balance": "250.00", "burnDate": "2030-01-31",
//	                "createdAt": "2025-01-10T12:00:00", "isBlocked": false, "tags": ["vip"],
//	                "coupons": [{"name": "Десерт", "dishCode": 1024, "discountCode": 17, "quantity": 1,
//	                             "validUntil": "2030-12-31T23:59:00"}],
//	                "identifiers": [{"type": "card", "value": "7001002003"}]}],
//	  "transactions": [{"phone": "+7 916 555-00-01", "datetime": "2025-02-01T10:00:00",
//	                    "type": "refill", "sum": 100, "reason": "Отзыв", "burnDate": "2030-06-01"}],
//	  "checks": [{"id": 7001, "accountId": 2001, "number": 12, "datetime": "2025-02-03T13:15:00",
//	              "restaurantCode": 1, "restaurantName": "Кафе на Садовой", "cashDesk": 2,
//	              "bonusPaid": 50, "bonusAccrued": "12.50", "accrueOn": "",
//	              "dishes": [{"code": 1, "name": "Чай", "quantity": 2, "price": 150, "discountSum": 0}]}]
//	}
//
// What each entry means is what Group, Account and Check say; "balance" is a starting balance (no
// transaction), and "isBlocked" is Account.Blocked. A transaction or a check names its guest by
// "accountId" or by "phone". A transaction's "sum" is signed: a credit (burning on "burnDate", or by
// the group's rule) or a debit; its "type" is any the wire model knows ("refill", "withdrawal",
// "burn", …, or one it does not), except the check types, which "checks" make. Amounts are JSON
// numbers or strings; timestamps are "YYYY-MM-DDTHH:MM[:SS]" in the server's time zone (or carry an
// offset, or are a date); dates are "YYYY-MM-DD". Ids may be left out (the next free one is used).
// The groups 1 and 3 are the server's own. The lists are applied in the order groups, accounts,
// transactions, checks, whatever their order in the file.
type Seed struct {
	entries []seedEntry // in the order they are applied
}

// SeedError is a mistake in a seed file, with the line it is on.
type SeedError struct {
	Line  int    // 1-based; 0 when unknown
	Entry string // the entry at fault, e.g. "accounts[2]"; "" for the file as a whole
	Err   error
}

// Error reads "line 12: accounts[2]: group 9 does not exist".
func (e *SeedError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Entry != "" {
		b.WriteString(e.Entry + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the mistake without its place.
func (e *SeedError) Unwrap() error { return e.Err }

type seedEntry struct {
	name string // "accounts[2]"
	line int
	v    seedApplier
}

type seedApplier interface {
	check() (field string, err error) // what can be told without the server's state
	apply(st *state, now time.Time) error
}

// seedAmount is money or a quantity as a JSON number or string, kept as its text.
type seedAmount string

func (a *seedAmount) UnmarshalJSON(b []byte) error {
	var s string
	switch {
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	case string(b) == "null":
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		s = string(b)
	default:
		return fmt.Errorf("want an amount such as 150 or \"150.50\", got %s", b)
	}
	*a = seedAmount(s)
	return nil
}

type seedLevel struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	DiscountPercent seedAmount `json:"discountPercent"`
	BonusPercent    seedAmount `json:"bonusPercent"`
}

type seedGroup struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	HaveTemplate  bool       `json:"haveTemplate"`
	ParentID      int64      `json:"parentId"`
	WelcomeBonus  seedAmount `json:"welcomeBonus"`
	BurnAfterDays int        `json:"burnAfterDays"`
	Level         seedLevel  `json:"level"`
}

func (g *seedGroup) check() (string, error) {
	if g.Name == "" {
		return "name", errors.New("a group needs a name")
	}
	if g.BurnAfterDays < 0 {
		return "burnAfterDays", fmt.Errorf("burnAfterDays %d is negative", g.BurnAfterDays)
	}
	for _, f := range []struct {
		name string
		v    seedAmount
	}{{"welcomeBonus", g.WelcomeBonus}, {"discountPercent", g.Level.DiscountPercent}, {"bonusPercent", g.Level.BonusPercent}} {
		if m, err := parseMoney(string(f.v)); err != nil || m < 0 {
			return f.name, fmt.Errorf("%s: %q is not an amount of 0 or more", f.name, f.v)
		}
	}
	return "", nil
}

func (g *seedGroup) apply(st *state, _ time.Time) error {
	if g.ID != 0 && st.group(g.ID) != nil {
		return fmt.Errorf("group %d exists (the server has groups 1 and 3 of its own)", g.ID)
	}
	if g.ParentID != 0 && st.group(g.ParentID) == nil {
		return fmt.Errorf("parent group %d does not exist (list it before)", g.ParentID)
	}
	st.addGroup(Group{ID: g.ID, Name: g.Name, HaveTemplate: g.HaveTemplate, ParentID: g.ParentID,
		WelcomeBonus: string(g.WelcomeBonus), BurnAfterDays: g.BurnAfterDays,
		Level: Level{ID: g.Level.ID, Name: g.Level.Name, DiscountPercent: string(g.Level.DiscountPercent), BonusPercent: string(g.Level.BonusPercent)}})
	return nil
}

type seedCoupon struct {
	Name         string `json:"name"`
	DishCode     int    `json:"dishCode"`
	DiscountCode int    `json:"discountCode"`
	Quantity     int    `json:"quantity"`
	ValidUntil   string `json:"validUntil"`
}

type seedIdentifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type seedAccount struct {
	ID          int64            `json:"id"`
	GroupID     int64            `json:"groupId"`
	Phone       string           `json:"phone"`
	FirstName   string           `json:"firstName"`
	LastName    string           `json:"lastName"`
	MiddleName  string           `json:"middleName"`
	Email       string           `json:"email"`
	Gender      string           `json:"gender"`
	BirthDate   string           `json:"birthDate"`
	Balance     seedAmount       `json:"balance"`
	BurnDate    string           `json:"burnDate"`
	CreatedAt   string           `json:"createdAt"`
	IsBlocked   bool             `json:"isBlocked"`
	Tags        []string         `json:"tags"`
	Coupons     []seedCoupon     `json:"coupons"`
	Identifiers []seedIdentifier `json:"identifiers"`
}

func (a *seedAccount) check() (string, error) {
	switch {
	case a.GroupID == 0:
		return "groupId", errors.New("an account needs a groupId")
	case phoneProblem(a.Phone) != "":
		return "phone", fmt.Errorf("phone %q %s", a.Phone, phoneProblem(a.Phone))
	case a.Gender != "" && a.Gender != "male" && a.Gender != "female":
		return "gender", fmt.Errorf("gender %q: want \"male\" or \"female\"", a.Gender)
	}
	if m, err := parseMoney(string(a.Balance)); err != nil || m < 0 {
		return "balance", fmt.Errorf("balance: %q is not an amount of 0 or more", a.Balance)
	}
	for _, d := range []struct{ name, v string }{{"birthDate", a.BirthDate}, {"burnDate", a.BurnDate}} {
		if field, err := checkDate(d.name, d.v); err != nil {
			return field, err
		}
	}
	if field, err := checkTime("createdAt", a.CreatedAt); err != nil {
		return field, err
	}
	for _, c := range a.Coupons {
		if field, err := checkTime("validUntil", c.ValidUntil); err != nil {
			return field, err
		}
	}
	return "", nil
}

func (a *seedAccount) apply(st *state, now time.Time) error {
	acc := Account{ID: a.ID, GroupID: a.GroupID, Phone: a.Phone, FirstName: a.FirstName, LastName: a.LastName,
		MiddleName: a.MiddleName, Email: a.Email, Gender: a.Gender, BirthDate: a.BirthDate, Balance: string(a.Balance),
		BurnDate: a.BurnDate, Blocked: a.IsBlocked, Tags: a.Tags}
	acc.CreatedAt, _ = parseSeedTime(a.CreatedAt, st.loc)
	for _, c := range a.Coupons {
		until, _ := parseSeedTime(c.ValidUntil, st.loc)
		acc.Coupons = append(acc.Coupons, Coupon{Name: c.Name, DishCode: c.DishCode, DiscountCode: c.DiscountCode, Quantity: c.Quantity, ValidUntil: until})
	}
	for _, id := range a.Identifiers {
		acc.Identifiers = append(acc.Identifiers, Identifier(id))
	}
	_, err := st.addAccount(acc, now)
	return err
}

// seedGuest is how a transaction or a check names its account: by id or by phone.
type seedGuest struct {
	AccountID int64  `json:"accountId"`
	Phone     string `json:"phone"`
}

func (g seedGuest) check() (string, error) {
	switch {
	case g.AccountID == 0 && g.Phone == "":
		return "accountId", errors.New("name the guest by accountId or phone")
	case g.AccountID != 0 && g.Phone != "":
		return "phone", errors.New("name the guest by accountId or phone, not both")
	case phoneProblem(g.Phone) != "":
		return "phone", fmt.Errorf("phone %q %s", g.Phone, phoneProblem(g.Phone))
	}
	return "", nil
}

func (g seedGuest) account(st *state) (*account, error) {
	if g.Phone != "" {
		id, ok := st.byPhone[normalizePhone(g.Phone)]
		if !ok {
			return nil, fmt.Errorf("no account has phone %s (list it under accounts)", normalizePhone(g.Phone))
		}
		return st.accounts[id], nil
	}
	a := st.accounts[g.AccountID]
	if a == nil {
		return nil, fmt.Errorf("account %d does not exist (list it under accounts)", g.AccountID)
	}
	return a, nil
}

type seedTransaction struct {
	seedGuest
	Datetime string     `json:"datetime"`
	Type     string     `json:"type"`
	Sum      seedAmount `json:"sum"`
	Reason   string     `json:"reason"`
	BurnDate string     `json:"burnDate"`
}

func (t *seedTransaction) check() (string, error) {
	if field, err := t.seedGuest.check(); err != nil {
		return field, err
	}
	switch {
	case t.Type == "":
		return "type", errors.New("a transaction needs a type, e.g. \"refill\" or \"withdrawal\"")
	case strings.HasPrefix(t.Type, "check_"):
		return "type", fmt.Errorf("type %q: list the check under checks, which makes its transactions", t.Type)
	}
	if m, err := parseMoney(string(t.Sum)); err != nil || m == 0 {
		return "sum", fmt.Errorf("sum: %q is not a nonzero amount (credits positive, debits negative)", t.Sum)
	}
	if field, err := checkDate("burnDate", t.BurnDate); err != nil {
		return field, err
	}
	return checkTime("datetime", t.Datetime)
}

func (t *seedTransaction) apply(st *state, now time.Time) error {
	a, err := t.account(st)
	if err != nil {
		return err
	}
	at, _ := parseSeedTime(t.Datetime, st.loc)
	if at.IsZero() {
		at = now
	}
	m := mustMoney(string(t.Sum))
	if m > 0 {
		burn := t.BurnDate
		if burn == "" {
			burn = st.burnDate(st.group(a.GroupID), at)
		}
		a.lots = append(a.lots, lot{left: m, burn: burn})
	} else {
		a.spend(-m)
	}
	st.addTx(&transaction{accountID: a.ID, at: at, typ: t.Type, sum: m, reason: t.Reason})
	return nil
}

type seedDish struct {
	Code        int        `json:"code"`
	Name        string     `json:"name"`
	Quantity    seedAmount `json:"quantity"`
	Price       seedAmount `json:"price"`
	DiscountSum seedAmount `json:"discountSum"`
}

type seedCheck struct {
	ID int64 `json:"id"`
	seedGuest
	Number         int        `json:"number"`
	Datetime       string     `json:"datetime"`
	RestaurantCode int        `json:"restaurantCode"`
	RestaurantName string     `json:"restaurantName"`
	CashDesk       int        `json:"cashDesk"`
	BonusPaid      seedAmount `json:"bonusPaid"`
	BonusAccrued   seedAmount `json:"bonusAccrued"`
	AccrueOn       string     `json:"accrueOn"`
	Dishes         []seedDish `json:"dishes"`
}

func (c *seedCheck) check() (string, error) {
	if field, err := c.seedGuest.check(); err != nil {
		return field, err
	}
	for _, f := range []struct {
		name string
		v    seedAmount
	}{{"bonusPaid", c.BonusPaid}, {"bonusAccrued", c.BonusAccrued}} {
		if m, err := parseMoney(string(f.v)); err != nil || m < 0 {
			return f.name, fmt.Errorf("%s: %q is not an amount of 0 or more", f.name, f.v)
		}
	}
	for i, d := range c.Dishes {
		if q := string(d.Quantity); q == "" || strings.HasPrefix(q, "-") || !numeric.MatchString(q) {
			return "quantity", fmt.Errorf("dishes[%d]: quantity %q is not a positive number", i, q)
		}
		for _, f := range []struct {
			name string
			v    seedAmount
		}{{"price", d.Price}, {"discountSum", d.DiscountSum}} {
			if m, err := parseMoney(string(f.v)); err != nil || m < 0 {
				return f.name, fmt.Errorf("dishes[%d]: %s: %q is not an amount of 0 or more", i, f.name, f.v)
			}
		}
	}
	if field, err := checkDate("accrueOn", c.AccrueOn); err != nil {
		return field, err
	}
	return checkTime("datetime", c.Datetime)
}

var numeric = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func (c *seedCheck) apply(st *state, now time.Time) error {
	a, err := c.account(st)
	if err != nil {
		return err
	}
	if c.ID != 0 && st.checks[c.ID] != nil {
		return fmt.Errorf("check %d exists", c.ID)
	}
	at, _ := parseSeedTime(c.Datetime, st.loc)
	ch := Check{ID: c.ID, AccountID: a.ID, Number: c.Number, Datetime: at, RestaurantCode: c.RestaurantCode,
		RestaurantName: c.RestaurantName, CashDesk: c.CashDesk, BonusPaid: string(c.BonusPaid),
		BonusAccrued: string(c.BonusAccrued), AccrueOn: c.AccrueOn}
	for _, d := range c.Dishes {
		ch.Dishes = append(ch.Dishes, Dish{Code: d.Code, Name: d.Name, Quantity: string(d.Quantity), Price: string(d.Price), DiscountSum: string(d.DiscountSum)})
	}
	_, err = st.addCheck(ch, now)
	return err
}

func checkDate(field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return field, fmt.Errorf("%s %q: want YYYY-MM-DD", field, v)
	}
	return "", nil
}

func checkTime(field, v string) (string, error) {
	if _, err := parseSeedTime(v, time.UTC); err != nil {
		return field, fmt.Errorf("%s %q: want YYYY-MM-DDTHH:MM:SS (the server's time zone), with an offset, or a date", field, v)
	}
	return "", nil
}

// parseSeedTime reads a seed's timestamp; "" is the zero time.
func parseSeedTime(v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	var err error
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05", time.DateOnly} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// seedKinds are the lists of a seed file, in the order they are applied.
var seedKinds = []struct {
	key  string
	make func() seedApplier
}{
	{"groups", func() seedApplier { return &seedGroup{} }},
	{"accounts", func() seedApplier { return &seedAccount{} }},
	{"transactions", func() seedApplier { return &seedTransaction{} }},
	{"checks", func() seedApplier { return &seedCheck{} }},
}

// ParseSeed reads a seed file (the format is Seed's). A mistake is a *SeedError with its line:
// broken JSON, an unknown or mistyped field, a value the server would refuse. Whether ids and
// phones are free and the accounts named exist is told by Load.
func ParseSeed(data []byte) (*Seed, error) {
	p := seedParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	return p.parse()
}

type seedParser struct {
	data []byte
	dec  *json.Decoder
}

// line is the 1-based line of a byte offset.
func (p *seedParser) line(off int64) int {
	if off > int64(len(p.data)) {
		off = int64(len(p.data))
	}
	return bytes.Count(p.data[:off], []byte("\n")) + 1
}

// next is the offset of the next token: past blanks and the comma or colon the decoder stopped before.
func (p *seedParser) next() int64 {
	off := p.dec.InputOffset()
	for off < int64(len(p.data)) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	return off
}

func (p *seedParser) fail(off int64, entry string, format string, args ...any) error {
	return &SeedError{Line: p.line(off), Entry: entry, Err: fmt.Errorf(format, args...)}
}

// syntax turns a decoder error into a SeedError on the line it points at.
func (p *seedParser) syntax(err error, entry string) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn) && !strings.Contains(syn.Error(), "unexpected end of JSON input"):
		return p.fail(syn.Offset, entry, "%s", strings.TrimPrefix(syn.Error(), "json: "))
	// io.ErrUnexpectedEOF from Go 1.26's decoder, a syntax error saying so from Go 1.27's
	case syn != nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return p.fail(int64(len(p.data)), entry, "the file ends before the JSON does (a missing } or ]?)")
	}
	return p.fail(p.dec.InputOffset(), entry, "%v", err)
}

func (p *seedParser) parse() (*Seed, error) {
	start := p.next()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntax(err, "")
	}
	if tok != json.Delim('{') {
		return nil, p.fail(start, "", `a seed file is a JSON object: {"groups": [...], "accounts": [...], "transactions": [...], "checks": [...]}`)
	}
	byKind := map[string][]seedEntry{}
	seen := map[string]bool{}
	for p.dec.More() {
		keyAt := p.next()
		tok, err := p.dec.Token()
		if err != nil {
			return nil, p.syntax(err, "")
		}
		key := tok.(string) // the decoder checks that an object's keys are strings
		if seen[key] {
			return nil, p.fail(keyAt, "", "%q is given twice", key)
		}
		seen[key] = true
		if key == "comment" {
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return nil, p.syntax(err, key)
			}
			continue
		}
		kind := -1
		for i, k := range seedKinds {
			if k.key == key {
				kind = i
			}
		}
		if kind < 0 {
			return nil, p.fail(keyAt, "", "unknown key %q: want groups, accounts, transactions, checks (or comment)", key)
		}
		listAt := p.next()
		if tok, err := p.dec.Token(); err != nil {
			return nil, p.syntax(err, key)
		} else if tok != json.Delim('[') {
			return nil, p.fail(listAt, key, "want a list: [...]")
		}
		for i := 0; p.dec.More(); i++ {
			entry := fmt.Sprintf("%s[%d]", key, i)
			at := p.next()
			var raw json.RawMessage
			if err := p.dec.Decode(&raw); err != nil {
				return nil, p.syntax(err, entry)
			}
			v := seedKinds[kind].make()
			if err := p.entry(raw, at, entry, v); err != nil {
				return nil, err
			}
			byKind[key] = append(byKind[key], seedEntry{name: entry, line: p.line(at), v: v})
		}
		if _, err := p.dec.Token(); err != nil { // ]
			return nil, p.syntax(err, key)
		}
	}
	if _, err := p.dec.Token(); err != nil { // }
		return nil, p.syntax(err, "")
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p.fail(p.next(), "", "more after the seed object: one object per file")
	}
	seed := &Seed{}
	for _, k := range seedKinds {
		seed.entries = append(seed.entries, byKind[k.key]...)
	}
	return seed, nil
}

var unknownField = regexp.MustCompile(`unknown field "([^"]*)"`)

// entry decodes one entry strictly and checks it, naming the line of the field at fault.
func (p *seedParser) entry(raw json.RawMessage, at int64, entry string, v seedApplier) error {
	if len(raw) == 0 || raw[0] != '{' {
		return p.fail(at, entry, "want an object: {...}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &typ):
		return p.fail(at+typ.Offset, entry, "%s: want %s, got %s", typ.Field, kindName(typ.Type), typ.Value)
	case unknownField.MatchString(err.Error()):
		name := unknownField.FindStringSubmatch(err.Error())[1]
		return p.fail(at+fieldOffset(raw, name), entry, "unknown field %q", name)
	default:
		return p.fail(at, entry, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if field, err := v.check(); err != nil {
		return p.fail(at+fieldOffset(raw, field), entry, "%v", err)
	}
	return nil
}

// fieldOffset is where "name": first stands in an entry; 0 (the entry's start) when it does not.
func fieldOffset(raw []byte, name string) int64 {
	if name == "" {
		return 0
	}
	re := regexp.MustCompile(`"` + regexp.QuoteMeta(name) + `"\s*:`)
	if loc := re.FindIndex(raw); loc != nil {
		return int64(loc[0])
	}
	return 0
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

// Load applies a seed to the server, after what it holds already; Reset applies it again. An
// error is a *SeedError naming the entry's line: an id or phone taken, a group or account that does
// not exist. The entries before the one at fault stay applied.
func (s *Server) Load(seed *Seed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.st.load(seed, s.now()); err != nil {
		return err
	}
	s.seeds = append(s.seeds, seed)
	return nil
}

func (st *state) load(seed *Seed, now time.Time) error {
	for _, e := range seed.entries {
		if err := e.v.apply(st, now); err != nil {
			return &SeedError{Line: e.line, Entry: e.name, Err: err}
		}
	}
	return nil
}

// Reset puts the server back as it started: its own groups, the demo data (WithDemoData, with dates
// relative to now again) and every seed Load applied, in that order. It forgets the requests
// received, the faults not yet fired and the counts of AuthCounts; what AddGroup, AddAccount and
// AddCheck added is gone too. Issued tokens stay valid, so a client logged in before keeps working.
// An error means a seed no longer applies (it named what AddAccount had added, say); the state is
// then left as it was.
func (s *Server) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := newState(s.loc)
	now := s.now()
	if s.demo {
		st.addDemo(now)
	}
	for _, seed := range s.seeds {
		if err := st.load(seed, now); err != nil {
			return err
		}
	}
	s.st = st
	s.log.reset()
	s.faults = map[string][]Fault{}
	s.logins, s.refreshN = 0, 0
	return nil
}

// counts says how much the state holds, for the admin's answers.
func (st *state) counts() map[string]int {
	return map[string]int{"groups": len(st.groups), "accounts": len(st.accounts), "transactions": len(st.txs), "checks": len(st.checks)}
}

// sortedAccounts is every account by id.
func (st *state) sortedAccounts() []*account {
	out := make([]*account, 0, len(st.accounts))
	for _, a := range st.accounts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
