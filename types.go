package probonus

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/shopspring/decimal"
)

// The JSON names below follow ../shared/api/wire-model.md. Names marked inferred there live only
// in these struct tags, so a difference found on a real server is a one-line change.

// AccountGroup is a group of accounts; only groups with a template (HaveTemplate) can receive
// accounts created by InsertByTemplate.
type AccountGroup struct {
	ID           int64  `json:"id"`                 // group id: NewAccount.GroupID
	Name         string `json:"name,omitempty"`     // display name
	HaveTemplate bool   `json:"haveTemplate"`       // "Шаблон для API": new accounts get the template's level, bonuses, burn rules
	ParentID     int64  `json:"parentId,omitempty"` // parent group; zero for a top-level group
}

// NewAccount is a guest to create in a template group.
type NewAccount struct {
	GroupID     int64        `json:"accountId"` // the group to create the account in (the API names it accountId)
	Phone       string       `json:"phone"`     // any common form; sent normalised, e.g. 79991234567
	FirstName   *string      `json:"firstName,omitempty"`
	LastName    *string      `json:"lastName,omitempty"`
	MiddleName  *string      `json:"middleName,omitempty"`
	Gender      *Gender      `json:"gender,omitempty"`
	BirthDate   *Date        `json:"birthDate,omitempty"`
	Email       *string      `json:"email,omitempty"`
	Identifiers []Identifier `json:"identifiers,omitempty"` // cards and other identifiers besides the phone
}

// Account is a guest's account: profile, balance, level, coupons.
type Account struct {
	ID                     int64        `json:"id"`
	GroupID                int64        `json:"groupId,omitempty"`
	GroupName              string       `json:"groupName,omitempty"`
	Phone                  string       `json:"phone,omitempty"`
	Phones                 []string     `json:"phones,omitempty"`
	Email                  string       `json:"email,omitempty"`
	FirstName              string       `json:"firstName,omitempty"`
	LastName               string       `json:"lastName,omitempty"`
	MiddleName             string       `json:"middleName,omitempty"`
	Gender                 Gender       `json:"gender,omitempty"`
	BirthDate              Date         `json:"birthDate,omitzero"`
	CreatedAt              Time         `json:"createdAt,omitzero"`
	IsBlocked              bool         `json:"isBlocked,omitempty"`
	Balance                Amount       `json:"balance"`
	DiscountPercent        Amount       `json:"discountPercent,omitzero"`
	Level                  *Level       `json:"level,omitempty"`
	Coupons                []Coupon     `json:"coupons,omitempty"`
	Identifiers            []Identifier `json:"identifiers,omitempty"`
	Tags                   []string     `json:"tags,omitempty"`
	SpentSumDay            Amount       `json:"spentSumDay,omitzero"`            // spent today
	SpentSumDiscountPeriod Amount       `json:"spentSumDiscountPeriod,omitzero"` // spent in the discount period
	Info                   string       `json:"info,omitempty"`
	ScreenMessage          string       `json:"screenMessage,omitempty"` // shown to the cashier
	PrintMessage           string       `json:"printMessage,omitempty"`  // printed on the check
}

// Level is an account's loyalty level.
type Level struct {
	ID              int64  `json:"id"`
	Name            string `json:"name,omitempty"`
	DiscountPercent Amount `json:"discountPercent,omitzero"`
	BonusPercent    Amount `json:"bonusPercent,omitzero"`
}

// Coupon is a coupon on an account.
type Coupon struct {
	ID           int64  `json:"id"`
	Name         string `json:"name,omitempty"`
	DishCode     Code   `json:"dishCode,omitempty"`
	DiscountCode Code   `json:"discountCode,omitempty"`
	Quantity     int    `json:"quantity,omitempty"`
	ValidUntil   *Time  `json:"validUntil,omitempty"` // nil: no end
}

// Identifier is a card, phone or other identifier of a guest.
type Identifier struct {
	Type  IdentifierType `json:"type"`
	Value string         `json:"value"`
}

// Refill credits bonuses to an account.
type Refill struct {
	AccountID int64   `json:"accountId"`
	Amount    Amount  `json:"amount"`             // positive, at most two decimals
	Reason    *string `json:"reason,omitempty"`   // shown in the account's history
	BurnDate  *Date   `json:"burnDate,omitempty"` // when these bonuses burn; nil: the group's rule
}

// RefillResult is the outcome of a refill.
type RefillResult struct {
	TransactionID int64  `json:"transactionId"`
	Balance       Amount `json:"balance"` // after the refill
}

// AccountUpdate changes an account; nil fields are left unchanged.
type AccountUpdate struct {
	AccountID         int64   `json:"accountId"`
	Phone             *string `json:"phone,omitempty"` // sent normalised
	Email             *string `json:"email,omitempty"`
	FirstName         *string `json:"firstName,omitempty"`
	LastName          *string `json:"lastName,omitempty"`
	MiddleName        *string `json:"middleName,omitempty"`
	Gender            *Gender `json:"gender,omitempty"`
	BirthDate         *Date   `json:"birthDate,omitempty"`
	IsBlocked         *bool   `json:"isBlocked,omitempty"`
	Info              *string `json:"info,omitempty"`
	ScreenMessage     *string `json:"screenMessage,omitempty"`
	PrintMessage      *string `json:"printMessage,omitempty"`
	DiscountCode      *Code   `json:"discountCode,omitempty"`      // the discount the account gets
	BonusTypeCode     *Code   `json:"bonusTypeCode,omitempty"`     // the bonus type it accrues
	BonusLifetimeDays *int    `json:"bonusLifetimeDays,omitempty"` // how long its bonuses live
}

// Transaction is one movement on an account. Sum is signed: debits are negative.
type Transaction struct {
	ID             int64           `json:"id"`
	Datetime       Time            `json:"datetime,omitzero"`
	Type           TransactionType `json:"type,omitempty"`
	Sum            Amount          `json:"sum"`
	Reason         string          `json:"reason,omitempty"`
	CheckID        int64           `json:"checkId,omitempty"` // for ChecksService.GetByID
	CheckNumber    Code            `json:"checkNumber,omitempty"`
	RestaurantCode Code            `json:"restaurantCode,omitempty"`
	RestaurantName string          `json:"restaurantName,omitempty"`
	CashDesk       Code            `json:"cashDesk,omitempty"`
	IdentifierType IdentifierType  `json:"identifierType,omitempty"`
	Identifier     string          `json:"identifier,omitempty"`
}

// Check is a guest's check, down to dishes.
type Check struct {
	ID             int64  `json:"id"`
	Number         Code   `json:"number,omitempty"`
	Datetime       Time   `json:"datetime,omitzero"`
	RestaurantCode Code   `json:"restaurantCode,omitempty"`
	RestaurantName string `json:"restaurantName,omitempty"`
	CashDesk       Code   `json:"cashDesk,omitempty"`
	AccountID      int64  `json:"accountId,omitempty"`
	Sum            Amount `json:"sum"`
	DiscountSum    Amount `json:"discountSum,omitzero"`
	BonusPaid      Amount `json:"bonusPaid,omitzero"`    // paid with bonuses
	BonusAccrued   Amount `json:"bonusAccrued,omitzero"` // bonuses earned
	Dishes         []Dish `json:"dishes,omitempty"`
}

// Dish is one line of a check.
type Dish struct {
	Code        Code   `json:"code,omitempty"`
	Name        string `json:"name,omitempty"`
	Quantity    Amount `json:"quantity"` // may be fractional (half a portion)
	Price       Amount `json:"price"`
	Sum         Amount `json:"sum"`
	DiscountSum Amount `json:"discountSum,omitzero"`
}

// BalanceExtended is a balance with its schedule: what is still to be credited, what burns when.
type BalanceExtended struct {
	AccountID          int64     `json:"accountId,omitempty"`
	BonusBalance       Amount    `json:"bonusBalance"`
	BonusAwaitingIssue Amount    `json:"bonusAwaitingIssue,omitzero"` // deferred accruals not yet credited
	LateIssues         []Tranche `json:"lateIssues,omitempty"`        // when the deferred accruals arrive
	Burnings           []Tranche `json:"burnings,omitempty"`          // what burns when
	NeverBurns         Amount    `json:"neverBurns,omitzero"`         // the part that never burns
}

// Tranche is a sum due on a date: a deferred accrual or a burning.
type Tranche struct {
	Sum  Amount `json:"sum"`
	Date Date   `json:"date"`
}

// Gender of a guest. Values the SDK does not know decode and round-trip unchanged.
type Gender string

// Genders the API uses.
const (
	GenderMale   Gender = "male"
	GenderFemale Gender = "female"
)

// TransactionType says what moved the balance. Values the SDK does not know decode unchanged.
type TransactionType string

// Transaction types the API uses.
const (
	TransactionCheckAccrual    TransactionType = "check_accrual"    // bonuses earned on a check
	TransactionCheckPayment    TransactionType = "check_payment"    // bonuses spent on a check
	TransactionRefill          TransactionType = "refill"           // credited through the API or admin
	TransactionWithdrawal      TransactionType = "withdrawal"       // debited through the API or admin
	TransactionBurn            TransactionType = "burn"             // burnt on schedule
	TransactionDeferredAccrual TransactionType = "deferred_accrual" // a deferred accrual arriving
)

// IdentifierType is the kind of an Identifier. Values the SDK does not know decode unchanged.
type IdentifierType string

// Identifier types the API uses.
const (
	IdentifierCard  IdentifierType = "card"
	IdentifierPhone IdentifierType = "phone"
	IdentifierOther IdentifierType = "other"
)

// unquote returns the text of a JSON string; the common case (no escapes) skips the decoder.
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		plain := true
		for _, c := range b[1 : len(b)-1] {
			if c == '\\' || c == '"' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(b) {
			return string(b[1 : len(b)-1]), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// Ptr returns a pointer to v, for optional request fields: probonus.Ptr("Anna").
func Ptr[T any](v T) *T { return &v }

// Code is an r_keeper code or number (dish, restaurant, cash desk, check number) that servers
// send as a JSON number or a string; it decodes both and encodes a string.
type Code string

// UnmarshalJSON accepts a string or a number; null leaves the code empty.
func (c *Code) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		*c = Code(s)
		return nil
	case json.Valid(b) && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*c = Code(b)
		return nil
	}
	return fmt.Errorf("probonus: code: want a string or number, got %.20q", b)
}

// Amount is an exact decimal for money and percentages. It decodes a JSON number or a string
// ("150.50", as Pydantic v2 sends Decimal) and encodes a JSON number; it never passes through a
// float64. The zero value is 0.
type Amount struct{ d decimal.Decimal }

// Limits that keep a hostile number from costing unbounded memory when printed: at most 40
// integer digits and 30 decimals. Within them an amount's own encoding (at most 73 characters)
// always reads back.
const (
	maxAmountLen      = 100
	maxAmountDigits   = 40
	maxAmountExponent = 30
)

// NewAmount makes an Amount from a decimal.
func NewAmount(d decimal.Decimal) Amount { return Amount{d} }

// AmountFromMinor makes an Amount from minor units: AmountFromMinor(15050) is 150.50.
func AmountFromMinor(kopecks int64) Amount { return Amount{decimal.New(kopecks, -2)} }

// ParseAmount reads a decimal such as "150", "150.5" or "-0.01".
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxAmountLen {
		return Amount{}, fmt.Errorf("probonus: amount %.20q: empty or too long", s)
	}
	if a, ok := parsePlainAmount(s); ok {
		return a, nil
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return Amount{}, fmt.Errorf("probonus: amount %.20q: not a decimal number", s)
		}
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Amount{}, fmt.Errorf("probonus: amount %.20q: not a decimal number", s)
	}
	// Bounds on the written form (its integer digits and decimals), which the encoding keeps or
	// shrinks, so whatever is read here reads back after encoding.
	if e := d.Exponent(); e < -maxAmountExponent || d.NumDigits()+int(max(e, 0)) > maxAmountDigits {
		return Amount{}, fmt.Errorf("probonus: amount %.20q: out of range", s)
	}
	return Amount{d}, nil
}

// parsePlainAmount reads the common form, "-123.45" with at most 18 digits, without the general
// parser: money arrives this way in every response, many times per transaction list.
func parsePlainAmount(s string) (Amount, bool) {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var coef int64
	digits, frac, dot := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			coef = coef*10 + int64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		default:
			return Amount{}, false
		}
	}
	if digits == 0 || digits > 18 {
		return Amount{}, false
	}
	if neg {
		coef = -coef
	}
	return Amount{decimal.New(coef, int32(-frac))}, true
}

// MustAmount is ParseAmount for constants; it panics on a malformed amount.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// Decimal returns the amount as a decimal.Decimal, for arithmetic beyond the methods here.
func (a Amount) Decimal() decimal.Decimal { return a.d }

// String formats with two decimals: "150.50".
func (a Amount) String() string { return a.d.StringFixed(2) }

// Minor returns the amount in minor units (kopecks), and false when it has a fraction of a kopeck.
func (a Amount) Minor() (int64, bool) {
	m := a.d.Shift(2)
	return m.IntPart(), m.IsInteger()
}

// Add returns a + b.
func (a Amount) Add(b Amount) Amount { return Amount{a.d.Add(b.d)} }

// Sub returns a - b.
func (a Amount) Sub(b Amount) Amount { return Amount{a.d.Sub(b.d)} }

// Neg returns -a.
func (a Amount) Neg() Amount { return Amount{a.d.Neg()} }

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
func (a Amount) Cmp(b Amount) int { return a.d.Cmp(b.d) }

// Equal reports whether a and b are the same number (150.5 equals 150.50).
func (a Amount) Equal(b Amount) bool { return a.d.Equal(b.d) }

// IsZero reports whether the amount is 0.
func (a Amount) IsZero() bool { return a.d.IsZero() }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int { return a.d.Sign() }

// MarshalJSON writes a JSON number, exactly.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.d.String()), nil }

// UnmarshalJSON reads a JSON number or a string holding one; null and "" leave the amount zero.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) >= 2 && b[0] == '"' {
		var err error
		if s, err = unquote(b); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			*a = Amount{}
			return nil
		}
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Date is a calendar date without a time or location: birth dates, burn dates.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads "YYYY-MM-DD"; a timestamp's date part ("2026-02-16T09:42:00") is accepted too.
func ParseDate(s string) (Date, error) {
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("probonus: date %.30q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String formats as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// In returns midnight of the date in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is earlier than other.
func (d Date) Before(other Date) bool { return d.In(time.UTC).Before(other.In(time.UTC)) }

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD"; null and "" leave the date zero.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, err := unquote(b)
	if err != nil || len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("probonus: date: want a string, got %.20q", b)
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Time is a timestamp from the server. It reads "Z", numeric offsets, fractional seconds, and
// timestamps without an offset, which are the server's wall-clock time and are read in the
// client's location (WithLocation; default Moscow). It embeds time.Time, so t.Format, t.Before
// and the rest work on it directly.
type Time struct {
	time.Time
	floating bool // read without an offset; written back without one
}

// wireLayout is how the server writes timestamps: local wall-clock time, no offset.
const wireLayout = "2006-01-02T15:04:05"

// UnmarshalJSON reads a timestamp string; null and "" leave the time zero.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, err := unquote(b)
	if err != nil || len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("probonus: time: want a string, got %.20q", b)
	}
	v, err := parseTime(s, defaultLocation)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// parseTime reads every timestamp form the server may send; one without an offset is read in loc.
func parseTime(s string, loc *time.Location) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Time{}, nil
	}
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	// The server's own form, without an offset, is the common case: try it first, and try the
	// layouts with an offset only for a string that ends in one.
	if !hasOffset(s) {
		if v, ok := parseWallClock(s, loc); ok {
			return Time{Time: v, floating: true}, nil
		}
		for _, layout := range []string{wireLayout, "2006-01-02T15:04", time.DateOnly} {
			if v, err := time.ParseInLocation(layout, s, loc); err == nil {
				return Time{Time: v, floating: true}, nil
			}
		}
	} else {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
			if v, err := time.Parse(layout, s); err == nil {
				return Time{Time: v}, nil
			}
		}
	}
	return Time{}, fmt.Errorf("probonus: time %.40q: not a timestamp", s)
}

// parseWallClock reads exactly "2006-01-02T15:04:05", the server's own form and by far the most
// common, without time.Parse's layout machinery; anything else is left to time.Parse.
func parseWallClock(s string, loc *time.Location) (time.Time, bool) {
	if len(s) != len(wireLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	var f [6]int
	for i, pos := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		for _, c := range []byte(s[pos[0]:pos[1]]) {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			f[i] = f[i]*10 + int(c-'0')
		}
	}
	y, mo, d := f[0], f[1], f[2]
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, f[3], f[4], f[5], 0, loc), true
}

func daysIn(month, year int) int {
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		return 29
	}
	return [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
}

// hasOffset reports whether a timestamp ends in "Z" or a numeric offset.
func hasOffset(s string) bool {
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return true
	}
	// an offset's sign comes after the time: "…T09:42:00+03:00", "…T09:42-0300"
	return len(s) > 16 && strings.ContainsAny(s[16:], "+-")
}

// MarshalJSON writes the form it was read in: without an offset when the server sent none.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	if t.Year() < 0 || t.Year() > 9999 {
		return nil, errors.New("probonus: time: year outside 0..9999")
	}
	if t.floating {
		return []byte(`"` + t.Time.Format(wireLayout+".999999999") + `"`), nil
	}
	return []byte(`"` + t.Time.Format(time.RFC3339Nano) + `"`), nil
}

// formatWireTime writes t as the server expects it in requests: wall-clock time in loc, no offset.
func formatWireTime(t time.Time, loc *time.Location) string { return t.In(loc).Format(wireLayout) }

// localize re-reads, in loc, every timestamp in v that came without an offset. Decoding reads
// them in the default location; this runs only for a client with another one.
func localize(v any, loc *time.Location) {
	if loc == defaultLocation {
		return
	}
	rv := reflect.ValueOf(v)
	if hasTime(rv.Type()) {
		relocate(rv, loc)
	}
}

var (
	timeType  = reflect.TypeFor[Time]()
	timeTypes sync.Map // reflect.Type → bool: whether a Time can be reached inside it
)

func hasTime(t reflect.Type) bool {
	if v, ok := timeTypes.Load(t); ok {
		return v.(bool)
	}
	timeTypes.Store(t, false) // a recursive type meets itself as "no" while being looked at
	found := false
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		found = hasTime(t.Elem())
	case reflect.Map:
		found = hasTime(t.Elem())
	case reflect.Interface:
		found = true
	case reflect.Struct:
		found = t == timeType
		for i := 0; i < t.NumField() && !found; i++ {
			found = t.Field(i).IsExported() && hasTime(t.Field(i).Type)
		}
	}
	timeTypes.Store(t, found)
	return found
}

func relocate(v reflect.Value, loc *time.Location) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			relocate(v.Elem(), loc)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanAddr() {
				t := v.Addr().Interface().(*Time)
				if t.floating {
					y, mo, d := t.Date()
					h, mi, s := t.Clock()
					t.Time = time.Date(y, mo, d, h, mi, s, t.Nanosecond(), loc)
				}
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() && hasTime(f.Type()) {
				relocate(f, loc)
			}
		}
	case reflect.Slice, reflect.Array:
		if !hasTime(v.Type().Elem()) {
			return
		}
		for i := 0; i < v.Len(); i++ {
			relocate(v.Index(i), loc)
		}
	case reflect.Map:
		if !hasTime(v.Type().Elem()) {
			return
		}
		iter := v.MapRange()
		for iter.Next() {
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(iter.Value())
			relocate(val, loc)
			v.SetMapIndex(iter.Key(), val)
		}
	}
}

// NormalizePhone turns a phone number in any common form into the form the API uses: digits with
// the country code, e.g. "+7 (999) 123-45-67", "8 999 123 45 67" and "9991234567" all become
// "79991234567". A number without a country code is read as Russian; Client.NormalizePhone uses
// the client's region (WithPhoneRegion). An invalid number is an *InputError.
func NormalizePhone(raw string) (string, error) { return normalizePhone(raw, "RU", "phone") }

// NormalizePhone is the package's NormalizePhone with the client's region.
func (c *Client) NormalizePhone(raw string) (string, error) { return c.normalizePhone(raw, "phone") }

// normalizePhone normalises with the client's region, remembering the numbers it has seen
// already normal: the same guest looked up again costs a map read, not a validation.
func (c *Client) normalizePhone(raw, field string) (string, error) {
	if _, ok := c.phones.m.Load(raw); ok {
		return raw, nil
	}
	n, err := normalizePhone(raw, c.phoneRegion, field)
	if err == nil && n == raw {
		c.phones.remember(raw)
	}
	return n, err
}

// phoneCache is a bounded set of valid, already normal numbers; it empties when full.
type phoneCache struct {
	m sync.Map
	n atomic.Int32
}

const phoneCacheSize = 4096

func (p *phoneCache) remember(phone string) {
	if p.n.Add(1) > phoneCacheSize {
		p.m.Clear()
		p.n.Store(0)
	}
	p.m.Store(phone, struct{}{})
}

// normalizePhone validates and normalises raw, naming field in the error.
func normalizePhone(raw, region, field string) (string, error) {
	bad := func(reason string) (string, error) { return "", &InputError{Field: field, Reason: reason} }
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("empty phone number")
	}
	if len(raw) > 32 {
		return bad("too long for a phone number")
	}
	if alreadyNormal(raw, region) {
		return raw, nil
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return bad("not a phone number")
	}
	if !phonenumbers.IsValidNumber(num) {
		return bad("not a valid phone number")
	}
	return strconv.FormatInt(int64(num.GetCountryCode()), 10) + phonenumbers.GetNationalSignificantNumber(num), nil
}

// alreadyNormal is the fast path for the common case, a number already in the API's form with the
// region's country code ("79991234567" for RU): it skips the parser and only validates. Anything
// else takes the full path, which gives the same answer for these.
func alreadyNormal(raw, region string) bool {
	if len(raw) < 8 || len(raw) > 15 {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return false
		}
	}
	cc := int32(phonenumbers.GetCountryCodeForRegion(region))
	prefix := strconv.Itoa(int(cc))
	if !strings.HasPrefix(raw, prefix) || raw[len(prefix)] == '0' {
		return false
	}
	national, err := strconv.ParseUint(raw[len(prefix):], 10, 64)
	return err == nil && phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &national})
}

func knownRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}

// checkEmail refuses anything but a bare address.
func checkEmail(field, email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return &InputError{Field: field, Reason: "not an email address"}
	}
	return nil
}
