package probonus

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// AccountsService works with guests' accounts: create, find, credit, history, update, balance.
type AccountsService service

// MaxLastTransactions is the most LastTransactions asks for at once.
const MaxLastTransactions = 1000

// InsertByTemplate creates a guest's account in a group with a template (AccountGroup.HaveTemplate);
// the template gives the level, welcome bonuses and burn rules. The phone is normalised first. A
// phone that already has an account is refused by the server with ErrBadRequest.
func (s *AccountsService) InsertByTemplate(ctx context.Context, a NewAccount) (*Account, error) {
	if err := requireID("NewAccount.GroupID", a.GroupID); err != nil {
		return nil, err
	}
	phone, err := s.c.normalizePhone(a.Phone, "NewAccount.Phone")
	if err != nil {
		return nil, err
	}
	a.Phone = phone
	if a.Email != nil {
		if err := checkEmail("NewAccount.Email", *a.Email); err != nil {
			return nil, err
		}
	}
	if err := checkIdentifiers("NewAccount.Identifiers", a.Identifiers); err != nil {
		return nil, err
	}
	return fetch[Account](ctx, s.c, &call{endpoint: epInsertByTemplate, in: a})
}

// FindByPhone finds a guest by phone number, in any common form. ErrNotFound when there is none.
func (s *AccountsService) FindByPhone(ctx context.Context, phone string) (*Account, error) {
	p, err := s.c.normalizePhone(phone, "phone")
	if err != nil {
		return nil, err
	}
	return fetch[Account](ctx, s.c, &call{endpoint: epFindByPhone, query: url.Values{qPhone: {p}}})
}

// Refill credits bonuses to an account, e.g. for an activity in your app. It is never sent twice
// unless the server certainly did not act on the first attempt (see the package doc on retries).
func (s *AccountsService) Refill(ctx context.Context, r Refill) (*RefillResult, error) {
	if err := requireID("Refill.AccountID", r.AccountID); err != nil {
		return nil, err
	}
	if r.Amount.Sign() <= 0 {
		return nil, &InputError{Field: "Refill.Amount", Reason: "must be positive"}
	}
	if _, whole := r.Amount.Minor(); !whole {
		return nil, &InputError{Field: "Refill.Amount", Reason: "has a fraction of a kopeck"}
	}
	return fetch[RefillResult](ctx, s.c, &call{endpoint: epRefill, in: r})
}

// Transactions returns an account's transactions between from and to, both included. The times
// are sent as wall-clock time in the client's location.
func (s *AccountsService) Transactions(ctx context.Context, accountID int64, from, to time.Time) ([]Transaction, error) {
	if err := requireID("accountID", accountID); err != nil {
		return nil, err
	}
	switch {
	case from.IsZero():
		return nil, &InputError{Field: "from", Reason: "must be set"}
	case to.IsZero():
		return nil, &InputError{Field: "to", Reason: "must be set"}
	case from.After(to):
		return nil, &InputError{Field: "from", Reason: "is after to"}
	}
	q := url.Values{
		qAccountID: {strconv.FormatInt(accountID, 10)},
		qDateFrom:  {formatWireTime(from, s.c.loc)},
		qDateTo:    {formatWireTime(to, s.c.loc)},
	}
	return s.transactions(ctx, epTransactions, q)
}

// LastTransactions returns an account's n most recent transactions, newest first; n is 1..1000.
func (s *AccountsService) LastTransactions(ctx context.Context, accountID int64, n int) ([]Transaction, error) {
	if err := requireID("accountID", accountID); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxLastTransactions {
		return nil, &InputError{Field: "n", Reason: "must be between 1 and 1000"}
	}
	q := url.Values{qAccountID: {strconv.FormatInt(accountID, 10)}, qCount: {strconv.Itoa(n)}}
	return s.transactions(ctx, epLastTransactions, q)
}

func (s *AccountsService) transactions(ctx context.Context, ep endpoint, q url.Values) ([]Transaction, error) {
	txs, err := fetch[[]Transaction](ctx, s.c, &call{endpoint: ep, query: q})
	if err != nil {
		return nil, err
	}
	return *txs, nil
}

// Update changes the fields of an account that are set (non-nil) in u and returns the account.
func (s *AccountsService) Update(ctx context.Context, u AccountUpdate) (*Account, error) {
	if err := requireID("AccountUpdate.AccountID", u.AccountID); err != nil {
		return nil, err
	}
	if u == (AccountUpdate{AccountID: u.AccountID}) {
		return nil, &InputError{Field: "AccountUpdate", Reason: "sets no field to change"}
	}
	if u.Phone != nil {
		p, err := s.c.normalizePhone(*u.Phone, "AccountUpdate.Phone")
		if err != nil {
			return nil, err
		}
		u.Phone = &p
	}
	if u.Email != nil && *u.Email != "" {
		if err := checkEmail("AccountUpdate.Email", *u.Email); err != nil {
			return nil, err
		}
	}
	if u.BonusLifetimeDays != nil && *u.BonusLifetimeDays < 0 {
		return nil, &InputError{Field: "AccountUpdate.BonusLifetimeDays", Reason: "must not be negative"}
	}
	return fetch[Account](ctx, s.c, &call{endpoint: epUpdate, in: u})
}

// BalanceExtended returns an account's bonus balance with its schedule: deferred accruals and
// when they arrive, what burns when, and the part that never burns.
func (s *AccountsService) BalanceExtended(ctx context.Context, accountID int64) (*BalanceExtended, error) {
	if err := requireID("accountID", accountID); err != nil {
		return nil, err
	}
	q := url.Values{qAccountID: {strconv.FormatInt(accountID, 10)}}
	return fetch[BalanceExtended](ctx, s.c, &call{endpoint: epBalanceExtended, query: q})
}

func checkIdentifiers(field string, ids []Identifier) error {
	for _, id := range ids {
		if id.Type == "" || id.Value == "" {
			return &InputError{Field: field, Reason: "an identifier needs a type and a value"}
		}
	}
	return nil
}
