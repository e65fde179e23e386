package probonus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// AccountsService works with guests' accounts: create, find, credit, history, update, balance.
type AccountsService service

// MaxLastTransactions is the most LastTransactions asks for at once.
const MaxLastTransactions = 1000

// InsertByTemplate creates a guest's account in a group with a template (AccountGroup.HaveTemplate);
// the template gives the level, welcome bonuses and burn rules. The phone is normalised first. A
// phone that already has an account is refused by the server with ErrBadRequest.
func (s *AccountsService) InsertByTemplate(ctx context.Context, a NewAccount) (_ *Account, err error) {
	defer inOp(&err, "Accounts.InsertByTemplate")
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
func (s *AccountsService) FindByPhone(ctx context.Context, phone string) (_ *Account, err error) {
	defer inOp(&err, "Accounts.FindByPhone")
	p, err := s.c.normalizePhone(phone, "phone")
	if err != nil {
		return nil, err
	}
	return fetch[Account](ctx, s.c, &call{endpoint: epFindByPhone, query: encodeQuery(qStr(qPhone, p))})
}

// Refill credits bonuses to an account, e.g. for an activity in your app. It is never sent twice
// unless the server certainly did not act on the first attempt (see the package doc on retries).
// When the answer is lost after the request was written, the error matches ErrOutcomeUnknown: the
// credit may or may not have been applied. RefillOnce resolves that case by itself.
func (s *AccountsService) Refill(ctx context.Context, r Refill) (_ *RefillResult, err error) {
	defer inOp(&err, "Accounts.Refill")
	if err := checkRefill(r); err != nil {
		return nil, err
	}
	return fetch[RefillResult](ctx, s.c, &call{endpoint: epRefill, in: r})
}

func checkRefill(r Refill) error {
	if err := requireID("Refill.AccountID", r.AccountID); err != nil {
		return err
	}
	if r.Amount.Sign() <= 0 {
		return &InputError{Field: "Refill.Amount", Reason: "must be positive"}
	}
	if _, ok := r.Amount.Minor(); !ok {
		if !r.Amount.Decimal().Shift(2).IsInteger() {
			return &InputError{Field: "Refill.Amount", Reason: "has a fraction of a kopeck"}
		}
		return &InputError{Field: "Refill.Amount", Reason: "is too large (at most 92233720368547758.07)"}
	}
	return nil
}

// RefillOnce credits bonuses exactly once per (AccountID, Reason, Amount), however often it is
// called: the Reason ("Отзыв о заказе 1234", say) is the idempotency key the caller already has, so
// it is required. A job that crashes and runs again, goroutines racing on the same key, and an
// answer lost on the way all end with one credit.
//
// Before sending, it looks in the account's transactions of the lookback window (WithRefillLookback,
// default 30 days) for a credit with the same reason and amount; when there is one it sends nothing
// and returns it with AlreadyApplied set, TransactionID from the history and Balance read fresh
// (when that read fails, the result comes back with the error: the credit is known, the balance
// is not). The reason is trimmed of surrounding white space before it is sent or compared.
// When a send ends with ErrOutcomeUnknown, it waits a settle time (WithRefillSettle, default the
// per-attempt timeout), looks again, and sends again only when the credit is still absent: at
// most RetryPolicy.MaxAttempts sends in all. When the context's deadline leaves less than the
// settle time, it looks early but does not send again: it returns ErrOutcomeUnknown, and a later
// RefillOnce looks first.
// Calls with the same key on one Client run one at a time.
//
// One risk remains, and no client can remove it without server support: a request held up inside
// a proxy or the server for longer than the settle time, and applied after the look that did not
// find it, is applied twice. Make the settle time longer than any delay your network can hold a
// request. Two processes racing on the same key are not serialised either; give each key one owner.
func (s *AccountsService) RefillOnce(ctx context.Context, r Refill) (_ *RefillResult, err error) {
	defer inOp(&err, "Accounts.RefillOnce")
	if err := checkRefill(r); err != nil {
		return nil, err
	}
	if r.Reason == nil || strings.TrimSpace(*r.Reason) == "" {
		return nil, &InputError{Field: "Refill.Reason", Reason: "is required by RefillOnce: it is the idempotency key"}
	}
	if ctx == nil {
		return nil, &InputError{Field: "ctx", Reason: "nil context"}
	}
	// A reason read from a file ends in a newline, and a server may store it trimmed: the key is
	// the trimmed reason, sent and compared as such.
	reason := strings.TrimSpace(*r.Reason)
	r.Reason = &reason
	unlock, err := s.c.refills.lock(ctx, fmt.Sprintf("%d\x00%s\x00%s", r.AccountID, reason, r.Amount.Decimal().String()))
	if err != nil {
		return nil, fmt.Errorf("probonus: Accounts.RefillOnce: waiting for another RefillOnce with the same key: %w", err)
	}
	defer unlock()
	since := time.Now().Add(-s.c.refillLookback)
	found, err := s.findRefill(ctx, r, since)
	if err != nil || found != nil {
		if found != nil {
			found.AlreadyApplied = true
		}
		return found, err
	}
	var uncertain error
	for sends := 1; ; sends++ {
		res, err := s.Refill(ctx, r)
		if !errors.Is(err, ErrOutcomeUnknown) {
			return res, err
		}
		uncertain = err
		full, err := s.settle(ctx)
		if err != nil {
			return nil, &outcomeError{err: fmt.Errorf("probonus: Accounts.RefillOnce: %w; then, waiting to look in the history: %w", errors.Unwrap(uncertain), err)}
		}
		found, err := s.findRefill(ctx, r, since)
		if found != nil {
			return found, err // this call's credit, found where the lost answer would have said
		}
		if err != nil {
			return nil, &outcomeError{err: fmt.Errorf("probonus: Accounts.RefillOnce: %w; then, looking in the history: %w", errors.Unwrap(uncertain), err)}
		}
		switch {
		case !full:
			// The deadline left less than the settle time: a resend now could double a credit
			// still on its way. A later RefillOnce looks first.
			return nil, &outcomeError{err: fmt.Errorf("probonus: Accounts.RefillOnce: %w; not in the history yet, and the deadline "+
				"leaves less than the settle time to be sure: not sent again (call RefillOnce again later: it looks first)", errors.Unwrap(uncertain))}
		case sends >= s.c.retry.MaxAttempts:
			return nil, &outcomeError{err: fmt.Errorf("probonus: Accounts.RefillOnce: sent %d times without a definitive answer, "+
				"and the credit is not in the history; the last: %w", sends, errors.Unwrap(uncertain))}
		}
	}
}

// settle waits for an uncertain refill to show in the history, leaving half the time before the
// context's deadline for the look itself. full is false when the deadline cut the wait short.
func (s *AccountsService) settle(ctx context.Context) (full bool, err error) {
	d := s.c.refillSettle
	if d == 0 {
		d = s.c.timeout
	}
	full = true
	if dl, ok := ctx.Deadline(); ok && time.Until(dl)/2 < d {
		d, full = time.Until(dl)/2, false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return full, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// findRefill looks for a credit of r in the account's history since since; nil when there is none.
// The window ends a day ahead, so a server clock ahead of this one hides nothing. When the credit
// is found but the balance cannot be read, the credit comes back with the error: its outcome is
// known, only the balance is not.
func (s *AccountsService) findRefill(ctx context.Context, r Refill, since time.Time) (*RefillResult, error) {
	txs, err := s.period(ctx, r.AccountID, since, time.Now().Add(24*time.Hour), true)
	if err != nil {
		return nil, err
	}
	for _, tx := range txs {
		if strings.TrimSpace(tx.Reason) == *r.Reason && tx.Sum.Equal(r.Amount) && (tx.Type == TransactionRefill || tx.Type == "") {
			res := &RefillResult{TransactionID: tx.ID}
			bal, err := s.balance(ctx, r.AccountID, true)
			if err != nil {
				return res, fmt.Errorf("probonus: Accounts.RefillOnce: the credit is applied (transaction %d), "+
					"but reading the balance failed: %w", tx.ID, err)
			}
			res.Balance = bal.BonusBalance
			return res, nil
		}
	}
	return nil, nil
}

// keyLocks serialises work per key; a waiter gives up with its own context.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]chan struct{} // closed when the key's holder is done
}

func (k *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	for {
		k.mu.Lock()
		busy, ok := k.m[key]
		if !ok {
			if k.m == nil {
				k.m = map[string]chan struct{}{}
			}
			done := make(chan struct{})
			k.m[key] = done
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.m, key)
				k.mu.Unlock()
				close(done)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Transactions returns an account's transactions between from and to, both included. The times
// are sent as wall-clock time in the client's location.
func (s *AccountsService) Transactions(ctx context.Context, accountID int64, from, to time.Time) (_ []Transaction, err error) {
	defer inOp(&err, "Accounts.Transactions")
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
	return s.period(ctx, accountID, from, to, false)
}

// LastTransactions returns an account's n most recent transactions, newest first; n is 1..1000.
func (s *AccountsService) LastTransactions(ctx context.Context, accountID int64, n int) (_ []Transaction, err error) {
	defer inOp(&err, "Accounts.LastTransactions")
	if err := requireID("accountID", accountID); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxLastTransactions {
		return nil, &InputError{Field: "n", Reason: "must be between 1 and 1000"}
	}
	q := encodeQuery(qInt(qAccountID, accountID), qInt(qCount, int64(n)))
	// json appends to a slice's capacity: room for n spares the regrowing of a long list
	txs := make([]Transaction, 0, n)
	if err := s.c.send(ctx, &call{endpoint: epLastTransactions, query: q}, &txs); err != nil {
		return nil, err
	}
	return txs, nil
}

// period reads an account's transactions between from and to; fresh asks any cache on the way to
// stand aside (RefillOnce's looks).
func (s *AccountsService) period(ctx context.Context, accountID int64, from, to time.Time, fresh bool) ([]Transaction, error) {
	q := encodeQuery(qInt(qAccountID, accountID), qStr(qDateFrom, formatWireTime(from, s.c.loc)), qStr(qDateTo, formatWireTime(to, s.c.loc)))
	var txs []Transaction
	if err := s.c.send(ctx, &call{endpoint: epTransactions, query: q, fresh: fresh}, &txs); err != nil {
		return nil, err
	}
	return txs, nil
}

// balance reads an account's balance with its schedule; fresh as for period.
func (s *AccountsService) balance(ctx context.Context, accountID int64, fresh bool) (*BalanceExtended, error) {
	return fetch[BalanceExtended](ctx, s.c, &call{endpoint: epBalanceExtended, query: encodeQuery(qInt(qAccountID, accountID)), fresh: fresh})
}

// Update changes the fields of an account that are set (non-nil) in u and returns the account.
func (s *AccountsService) Update(ctx context.Context, u AccountUpdate) (_ *Account, err error) {
	defer inOp(&err, "Accounts.Update")
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
func (s *AccountsService) BalanceExtended(ctx context.Context, accountID int64) (_ *BalanceExtended, err error) {
	defer inOp(&err, "Accounts.BalanceExtended")
	if err := requireID("accountID", accountID); err != nil {
		return nil, err
	}
	return s.balance(ctx, accountID, false)
}

func checkIdentifiers(field string, ids []Identifier) error {
	for _, id := range ids {
		if id.Type == "" || id.Value == "" {
			return &InputError{Field: field, Reason: "an identifier needs a type and a value"}
		}
	}
	return nil
}
