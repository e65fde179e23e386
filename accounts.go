package probonus

import (
	"context"
	"errors"
	"strings"
	"time"
)

// AccountsService works with guests' accounts: create, find, credit, history, update, balance.
type AccountsService service

// MaxLastTransactions is the most LastTransactions asks for at once.
const MaxLastTransactions = 1000

// InsertByTemplate creates a guest's account in a group with a template (AccountGroup.HaveTemplate);
// the template gives the level, welcome bonuses and burn rules. The phone is normalised first.
//
// The server refuses a phone that already has an account with a 400, as it refuses a group
// without a template: both match ErrBadRequest, and a duplicate matches ErrAccountExists too. The
// server's detail tells them apart when it says either ("already exists", "уже существует"; or a
// group, its template, the phone's form); when it says neither, InsertByTemplate makes one more
// request after the 400, a find of the phone (GET /api/v0/accounts/find_by_phone), and the answer
// decides. Branch on ErrAccountExists, not on the detail text, which no public spec fixes; for a
// sign-up that requests may race on, use FindOrInsert.
func (s *AccountsService) InsertByTemplate(ctx context.Context, a NewAccount) (_ *Account, err error) {
	defer nameInputOp(&err, "Accounts.InsertByTemplate")
	if a, err = s.validateNewAccount(a); err != nil {
		return nil, err
	}
	return s.insert(ctx, a)
}

// insert sends a checked NewAccount.
func (s *AccountsService) insert(ctx context.Context, a NewAccount) (*Account, error) {
	acc, err := fetch[Account](ctx, s.c, &call{endpoint: epInsertByTemplate, in: a})
	if errors.Is(err, ErrBadRequest) {
		return nil, s.whyRefused(ctx, a.Phone, err)
	}
	return acc, err
}

// FindOrInsert returns the guest with a's phone, signing them up by template when there is none:
// the race-safe sign-up. It finds by phone; when absent, it inserts; when the insert says the
// account exists (a concurrent sign-up: ErrAccountExists) or its outcome is unknown, it finds again
// and returns what is there. However many calls race for one new phone, one account is created and
// every call returns it. created is true for the call whose insert created it; after an insert
// whose outcome was unknown it is false, even when that insert was the one that created it. The
// account's other fields in a only matter to the call that creates it.
func (s *AccountsService) FindOrInsert(ctx context.Context, a NewAccount) (_ *Account, created bool, err error) {
	defer nameInputOp(&err, "Accounts.FindOrInsert")
	if a, err = s.validateNewAccount(a); err != nil {
		return nil, false, err
	}
	find := func() (*Account, error) { return s.findPhone(ctx, a.Phone, true) }
	acc, err := find()
	if !errors.Is(err, ErrNotFound) {
		return acc, false, err
	}
	acc, err = s.insert(ctx, a)
	if err == nil {
		return acc, true, nil
	}
	if !errors.Is(err, ErrAccountExists) && !errors.Is(err, ErrOutcomeUnknown) {
		return nil, false, err
	}
	// A replica may not show the account yet: a few finds, further apart, before giving up.
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		again, ferr := find()
		switch {
		case ferr == nil:
			return again, false, nil
		case !errors.Is(ferr, ErrNotFound) || wait > 800*time.Millisecond:
			// not there (an unknown insert that was not applied), or the find failed: the insert's error says more
			return nil, false, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, false, err
		}
	}
}

// whyRefused tells a refused sign-up of phone whose account exists from other refusals: the
// server's detail decides when it says either; otherwise a find of the phone does.
func (s *AccountsService) whyRefused(ctx context.Context, phone string, refused error) error {
	var apiErr *APIError
	if errors.As(refused, &apiErr) {
		switch {
		case existsPhrases.MatchString(apiErr.Detail):
			return &accountExistsError{err: refused} // a find may lag behind the insert: the detail wins
		case otherRefusalPhrases.MatchString(apiErr.Detail):
			return refused // the group, its template, the phone's form: not a duplicate
		}
	}
	if _, err := s.findPhone(ctx, phone, true); err == nil {
		return &accountExistsError{err: refused}
	}
	return refused
}

// FindByPhone finds a guest by phone number, in any common form. ErrNotFound when there is none.
func (s *AccountsService) FindByPhone(ctx context.Context, phone string) (_ *Account, err error) {
	defer nameInputOp(&err, "Accounts.FindByPhone")
	p, err := s.c.normalizePhone(phone, "phone")
	if err != nil {
		return nil, err
	}
	return s.findPhone(ctx, p, false)
}

// findPhone finds the account of a phone already in the API's form. absentOK says that the caller
// handles a 404 itself (FindOrInsert's finds, a refused sign-up's): observers see it as
// Call.Handled, and the log as an expected answer, not a failure.
func (s *AccountsService) findPhone(ctx context.Context, phone string, absentOK bool) (*Account, error) {
	return fetch[Account](ctx, s.c, &call{endpoint: epFindByPhone, query: encodeQuery(qStr(qPhone, phone)), absentOK: absentOK})
}

// Refill credits bonuses to an account, e.g. for an activity in your app. It is never sent twice
// unless the server certainly did not act on the first attempt (see the package doc on retries).
// When the answer is lost after the request was written, the error matches ErrOutcomeUnknown: the
// credit may or may not have been applied. RefillOnce resolves that case by itself.
func (s *AccountsService) Refill(ctx context.Context, r Refill) (_ *RefillResult, err error) {
	defer nameInputOp(&err, "Accounts.Refill")
	if err := validateRefill(r); err != nil {
		return nil, err
	}
	res, err := s.refill(ctx, r, nil)
	if errors.Is(err, ErrOutcomeUnknown) && r.Reason != nil && strings.TrimSpace(*r.Reason) != "" {
		// a RefillOnce with the same key, later, must not look before this send has settled
		// (a coordinator that fails to record it leaves the error as it is: it already says unknown)
		_ = s.recordUncertain(ctx, r, s.c.refillKey(r))
	}
	return res, err
}

// refill sends a validated refill: Refill's request, and RefillOnce's with its lease's gate.
func (s *AccountsService) refill(ctx context.Context, r Refill, gate writeGate) (*RefillResult, error) {
	return fetch[RefillResult](ctx, s.c, &call{endpoint: epRefill, in: r, gate: gate})
}

// Transactions returns an account's transactions between from and to, both included. The times
// are sent as wall-clock time in the client's location, in whole seconds: from rounded down and to
// rounded up, so the answer may hold entries of the same second just outside the period.
func (s *AccountsService) Transactions(ctx context.Context, accountID int64, from, to time.Time) (_ []Transaction, err error) {
	defer nameInputOp(&err, "Accounts.Transactions")
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
	return s.readPeriod(ctx, accountID, from, to, false)
}

// LastTransactions returns an account's n most recent transactions, newest first; n is 1..1000.
func (s *AccountsService) LastTransactions(ctx context.Context, accountID int64, n int) (_ []Transaction, err error) {
	defer nameInputOp(&err, "Accounts.LastTransactions")
	if err := requireID("accountID", accountID); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxLastTransactions {
		return nil, &InputError{Field: "n", Reason: "must be between 1 and 1000"}
	}
	return s.readLast(ctx, accountID, n, false)
}

// Update changes the fields of an account that are set (non-nil) in u and returns the account.
func (s *AccountsService) Update(ctx context.Context, u AccountUpdate) (_ *Account, err error) {
	defer nameInputOp(&err, "Accounts.Update")
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
		if err := validateEmail("AccountUpdate.Email", *u.Email); err != nil {
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
func (s *AccountsService) BalanceExtended(ctx context.Context, accountID int64) (_ *BalanceExtended, err error) {
	defer nameInputOp(&err, "Accounts.BalanceExtended")
	if err := requireID("accountID", accountID); err != nil {
		return nil, err
	}
	return s.balance(ctx, accountID, false)
}
