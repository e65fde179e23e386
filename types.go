package probonus

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// ProBonus publishes its API only as a Swagger page inside each installation. Of the JSON names
// below, those called "seen" appear in public material about the API (the vendor's integration
// guide and public tools that call it); those called "inferred" come from the admin UI's labels,
// the vendor's Telegram bot templates and FastAPI conventions, and may differ on a real server.
// Each name lives only in its struct tag, so a difference found on a real server is a one-line
// change; Client.Do reaches anything these types miss.

// AccountGroup is a group of accounts; only groups with a template (HaveTemplate) can receive
// accounts created by InsertByTemplate.
//
// JSON names: haveTemplate and id are seen (the integration guide writes haveTemplate=true, id=3);
// name and parentId are inferred.
type AccountGroup struct {
	ID           int64  `json:"id"`                 // group id: NewAccount.GroupID
	Name         string `json:"name,omitempty"`     // display name
	HaveTemplate bool   `json:"haveTemplate"`       // "Шаблон для API": new accounts get the template's level, bonuses, burn rules
	ParentID     int64  `json:"parentId,omitempty"` // parent group; zero for a top-level group
}

// NewAccount is a guest to create in a template group.
//
// JSON names: accountId is seen (the integration guide names the group the account is created in
// so), as is a JSON body. phone, firstName, lastName, middleName, gender, birthDate, email and
// identifiers are inferred (the guide asks for the profile, the phone, and optionally an email and
// identifiers, without naming fields), as are the gender values and the date form "YYYY-MM-DD".
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
//
// JSON names: all inferred, from the admin UI's labels; spentSumDay is also a variable of the
// vendor's Telegram bot templates, and level.name is the bot's discountLevelName.
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
//
// JSON names: all inferred (id, name, discountPercent, bonusPercent).
type Level struct {
	ID              int64  `json:"id"`
	Name            string `json:"name,omitempty"`
	DiscountPercent Amount `json:"discountPercent,omitzero"`
	BonusPercent    Amount `json:"bonusPercent,omitzero"`
}

// Coupon is a coupon on an account.
//
// JSON names: all inferred (id, name, dishCode, discountCode, quantity, validUntil).
type Coupon struct {
	ID           int64  `json:"id"`
	Name         string `json:"name,omitempty"`
	DishCode     Code   `json:"dishCode,omitempty"`
	DiscountCode Code   `json:"discountCode,omitempty"`
	Quantity     int    `json:"quantity,omitempty"`
	ValidUntil   *Time  `json:"validUntil,omitempty"` // nil: no end
}

// Identifier is a card, phone or other identifier of a guest.
//
// JSON names: all inferred (type, value), as are the type values.
type Identifier struct {
	Type  IdentifierType `json:"type"`
	Value string         `json:"value"`
}

// Refill credits bonuses to an account.
//
// JSON names: all inferred (accountId by analogy with the sign-up body, amount, reason, burnDate).
type Refill struct {
	AccountID int64   `json:"accountId"`
	Amount    Amount  `json:"amount"`             // positive, at most two decimals
	Reason    *string `json:"reason,omitempty"`   // shown in the account's history
	BurnDate  *Date   `json:"burnDate,omitempty"` // when these bonuses burn; nil: the group's rule
}

// RefillResult is the outcome of a refill.
//
// JSON names: all inferred (transactionId, balance).
type RefillResult struct {
	TransactionID int64  `json:"transactionId"`
	Balance       Amount `json:"balance"` // after the refill
	// AlreadyApplied is set by RefillOnce when it found the credit in the account's history
	// before it sent anything: an earlier call (or another caller) made it. It is not on the wire.
	AlreadyApplied bool `json:"-"`
	// FromHistory is set by RefillOnce when the result was read from the account's history, not
	// from the answer to a send: with AlreadyApplied, or after a send of its own whose answer was
	// lost (then it cannot know whether its send or another caller's made the credit, and
	// TransactionID is the history's entry). Not on the wire.
	FromHistory bool `json:"-"`
	// Duplicates are the ids of other entries of the history with the same reason and amount as
	// the credit RefillOnce found, in the same answer: the key was credited more than once (by
	// calls outside RefillOnce, or in the window its docs name). Empty when it was credited once.
	Duplicates []int64 `json:"-"`
	// BalanceErr is set by RefillOnce when it found the credit but could not read the balance
	// after it: the credit is known, Balance is not (it is zero). Not on the wire.
	BalanceErr error `json:"-"`
}

// AccountUpdate changes an account; nil fields are left unchanged.
//
// JSON names: all inferred: accountId by analogy with the sign-up body, the profile fields by
// analogy with Account, discountCode, bonusTypeCode and bonusLifetimeDays from the admin UI.
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
//
// JSON names: all inferred. sum is also a variable of the vendor's Telegram bot templates, which
// write check_number in snake case; the camelCase checkNumber here follows the API's other names.
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
//
// JSON names: all inferred (from the admin UI's check view).
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
//
// JSON names: all inferred (code, name, quantity, price, sum, discountSum).
type Dish struct {
	Code        Code   `json:"code,omitempty"`
	Name        string `json:"name,omitempty"`
	Quantity    Amount `json:"quantity"` // may be fractional (half a portion)
	Price       Amount `json:"price"`
	Sum         Amount `json:"sum"`
	DiscountSum Amount `json:"discountSum,omitzero"`
}

// BalanceExtended is a balance with its schedule: what is still to be credited, what burns when.
//
// JSON names: all inferred. bonusBalance and bonusAwaitingIssue are variables of the vendor's
// Telegram bot templates, as is sumLateIssue, which lateIssues[].sum stands for; accountId,
// burnings and neverBurns follow the admin UI's labels.
type BalanceExtended struct {
	AccountID          int64     `json:"accountId,omitempty"`
	BonusBalance       Amount    `json:"bonusBalance"`
	BonusAwaitingIssue Amount    `json:"bonusAwaitingIssue,omitzero"` // deferred accruals not yet credited
	LateIssues         []Tranche `json:"lateIssues,omitempty"`        // when the deferred accruals arrive
	Burnings           []Tranche `json:"burnings,omitempty"`          // what burns when
	NeverBurns         Amount    `json:"neverBurns,omitzero"`         // the part that never burns
}

// Tranche is a sum due on a date: a deferred accrual or a burning.
//
// JSON names: inferred; sum and date are variables of the vendor's Telegram bot templates.
type Tranche struct {
	Sum  Amount `json:"sum"`
	Date Date   `json:"date"`
}

// Gender of a guest. Values the SDK does not know decode and round-trip unchanged.
type Gender string

// Genders the API uses: inferred values.
const (
	GenderMale   Gender = "male"
	GenderFemale Gender = "female"
)

// TransactionType says what moved the balance. Values the SDK does not know decode unchanged.
type TransactionType string

// Transaction types the API uses: inferred values; unknown ones are kept.
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

// Identifier types the API uses: inferred values.
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
	case plainInteger(b) || json.Valid(b) && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*c = Code(b)
		return nil
	}
	return fmt.Errorf("probonus: code: want a string or number, got %.20q", b)
}

// plainInteger reports whether b is a JSON integer without a fraction or exponent, the usual
// form of a code: valid JSON without running the validator.
func plainInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 1 && b[0] == '0' {
		return false
	}
	for _, d := range b {
		if d < '0' || d > '9' {
			return false
		}
	}
	return true
}
