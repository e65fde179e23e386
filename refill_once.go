package probonus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RefillOnce credits bonuses exactly once per (AccountID, Reason, Amount), however often it is
// called: the Reason ("Отзыв о заказе 1234", say) is the idempotency key the caller already has, so
// it is required. A job that crashes and runs again, goroutines or Clients racing on the same key,
// and an answer lost on the way all end with one credit.
//
// Before sending, it looks in the account's transactions of the lookback window (WithRefillLookback,
// default 30 days) for a credit with the same reason and amount; when there is one it sends nothing
// and returns it with AlreadyApplied set, TransactionID from the history and Balance read fresh
// (when that read fails, the result comes back with the error: the credit is known, the balance
// is not). The reason is trimmed of surrounding white space before it is sent or compared; amounts
// compare as decimals (50 is 50.00). The match fails closed: an entry with the same reason and
// amount counts as the credit unless its type is one the SDK knows is not a credit (check_accrual,
// check_payment, withdrawal, burn, deferred_accrual), so a type the server names otherwise cannot
// make it send again. A server that answers a period in pages is followed by time: an answer of
// 20 entries or more is read past, before its oldest entry and after its newest.
//
// When a send ends with ErrOutcomeUnknown, it waits a settle time (WithRefillSettle, default the
// per-attempt timeout), looks again, and sends again only when the credit is still absent: at
// most RetryPolicy.MaxAttempts sends in all. The time of that uncertain send is remembered for the
// key, in the whole process (and by Refill too, for a refill with a reason): a later RefillOnce
// with the same key, from any Client of the same installation, first waits until the uncertain
// send is older than the settle time (the longer of its own and the one that recorded it), so it
// cannot look before the first request could have been applied.
//
// A short deadline never leads to a resend: when the context's deadline leaves less than the
// settle time (after this call's own uncertain send, or a remembered one), it looks at once
// instead of waiting; when the look finds the credit it returns it as a success (AlreadyApplied
// when an earlier call sent it), and when it does not, it sends nothing and returns an error
// matching ErrOutcomeUnknown: call RefillOnce again later, it looks first.
//
// Calls with the same key, on any Client in the process talking to the same installation (the base
// URL's origin and path prefix), run one at a time; with WithRefillCoordinator, in the whole fleet.
//
// One risk remains, and no client can remove it without server support: a request held up inside
// a proxy or the server for longer than the settle time, and applied after the look that did not
// find it, is applied twice. Make the settle time longer than any delay your network can hold a
// request. Without a fleet's coordinator, processes are not serialised with each other: give each
// key one process, or pass WithRefillCoordinator(probonusredis.NewCoordinator(...)).
func (s *AccountsService) RefillOnce(ctx context.Context, r Refill) (_ *RefillResult, err error) {
	defer nameInputOp(&err, "Accounts.RefillOnce")
	if err := validateRefill(r); err != nil {
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
	key := s.c.refillKey(r)
	coord := s.c.coordinator
	unlock, err := coord.Lock(ctx, key, s.c.refillLease())
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("probonus: Accounts.RefillOnce: waiting for another RefillOnce with the same key: %w", err)
	case err != nil:
		return nil, &coordinatorError{"taking the key's lock", err}
	}
	defer unlock()
	since := time.Now().Add(-s.c.refillLookback)

	// An earlier uncertain send of this key may still be on its way: look only once it has settled.
	early := false
	last, err := coord.LastUncertain(ctx, key)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("probonus: Accounts.RefillOnce: reading the key's last uncertain send: %w", ctx.Err())
	case err != nil:
		return nil, &coordinatorError{"reading the key's last uncertain send", err}
	}
	if !last.At.IsZero() {
		full, err := s.settleUntil(ctx, last.At.Add(max(last.Settle, s.c.settleTime())))
		if err != nil {
			return nil, fmt.Errorf("probonus: Accounts.RefillOnce: waiting for an earlier uncertain send of this key to settle: %w", err)
		}
		early = !full
	}
	pending := !last.At.IsZero() // the key has an uncertain send on record, to forget once settled
	settled := func() {
		if pending {
			_ = coord.RecordUncertain(ctx, key, UncertainSend{}) // a failure only makes a later call wait
		}
	}
	found, err := s.findRefill(ctx, r, since)
	switch {
	case found != nil:
		found.AlreadyApplied = true
		settled()
		return found, err
	case err != nil && pending:
		// the earlier send may be applied: its outcome is still unknown, not this look's failure
		return nil, &outcomeError{err: fmt.Errorf("probonus: Accounts.RefillOnce: an earlier send of this key had no "+
			"definitive answer, and looking for its credit failed: %w", err)}
	case err != nil:
		return nil, err
	}
	if early {
		return nil, &outcomeError{err: errors.New("probonus: Accounts.RefillOnce: an earlier send of this key had no definitive " +
			"answer, its credit is not in the history yet, and the deadline ends before the settle time: not sent " +
			"(call RefillOnce again later: it looks first)")}
	}
	var uncertain error
	for sends := 1; ; sends++ {
		res, err := s.Refill(ctx, r) // records an uncertain send itself
		if !errors.Is(err, ErrOutcomeUnknown) {
			if err == nil {
				settled()
			}
			return res, err
		}
		pending = true // Refill recorded it
		uncertain = err
		full, err := s.settleUntil(ctx, time.Now().Add(s.c.settleTime()))
		if err != nil {
			return nil, stillUnknown(uncertain, "then, waiting to look in the history: %w", err)
		}
		found, err := s.findRefill(ctx, r, since)
		if found != nil {
			settled()
			return found, err // this call's credit, found where the lost answer would have said
		}
		if err != nil {
			return nil, stillUnknown(uncertain, "then, looking in the history: %w", err)
		}
		switch {
		case !full:
			// The deadline left less than the settle time: a resend now could double a credit
			// still on its way. A later RefillOnce waits for it to settle, then looks.
			return nil, stillUnknown(uncertain, "not in the history yet, and the deadline leaves less than the settle "+
				"time to be sure: not sent again (call RefillOnce again later: it looks first)")
		case sends >= s.c.retry.MaxAttempts:
			return nil, stillUnknown(uncertain, "sent %d times without a definitive answer, and the credit is not "+
				"in the history", sends)
		}
	}
}

// refillLease is how long a RefillOnce holder that died keeps its key in a fleet's coordinator:
// long enough for every attempt of a send and the looks around it.
func (c *Client) refillLease() time.Duration {
	return time.Duration(c.retry.MaxAttempts+2)*c.timeout + c.settleTime()
}

// stillUnknown is RefillOnce's error when a send's outcome stays unknown: the send's own error,
// then what the call did about it.
func stillUnknown(uncertain error, format string, args ...any) error {
	return &outcomeError{err: fmt.Errorf("probonus: Accounts.RefillOnce: %w; "+format, append([]any{errors.Unwrap(uncertain)}, args...)...)}
}

// settleTime is how long an uncertain refill is given to show in the history.
func (c *Client) settleTime() time.Duration {
	if c.refillSettle > 0 {
		return c.refillSettle
	}
	return c.timeout
}

// settleUntil waits until until, leaving half the time before the context's deadline for the look
// itself. full is false when the deadline cut the wait short.
func (s *AccountsService) settleUntil(ctx context.Context, until time.Time) (full bool, err error) {
	d := time.Until(until)
	if d <= 0 {
		return true, nil
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

// notCredits are the transaction types the SDK knows are not a refill's credit. Any other type,
// an unknown one included, counts as one when reason and amount match: the look fails closed.
var notCredits = map[TransactionType]bool{
	TransactionCheckAccrual: true, TransactionCheckPayment: true, TransactionWithdrawal: true,
	TransactionBurn: true, TransactionDeferredAccrual: true,
}

// isCreditOf reports whether tx is the credit of r (whose reason is trimmed).
func isCreditOf(tx Transaction, r Refill) bool {
	return strings.TrimSpace(tx.Reason) == *r.Reason && tx.Sum.Equal(r.Amount) &&
		!notCredits[TransactionType(strings.ToLower(strings.TrimSpace(string(tx.Type))))]
}

// pageMin is the fewest entries a server's page is assumed to hold: a period answer this long may
// be a page of a longer history, so the look reads the windows before and after it too.
const pageMin = 20

// maxLooks bounds the reads of one look: a server that keeps answering new entries is not trusted
// past it.
const maxLooks = 200

// findRefill looks for a credit of r in the account's history since since; nil when there is none.
// The window ends a day ahead, so a server clock ahead of this one hides nothing. When the credit
// is found but the balance cannot be read, the credit comes back with the error: its outcome is
// known, only the balance is not.
func (s *AccountsService) findRefill(ctx context.Context, r Refill, since time.Time) (*RefillResult, error) {
	tx, err := s.findCredit(ctx, r, since, time.Now().Add(24*time.Hour))
	if err != nil || tx == nil {
		return nil, err
	}
	res := &RefillResult{TransactionID: tx.ID}
	bal, err := s.balance(ctx, r.AccountID, true)
	if err != nil {
		return res, fmt.Errorf("probonus: Accounts.RefillOnce: the credit is applied (transaction %d), "+
			"but reading the balance failed: %w", tx.ID, err)
	}
	res.Balance = bal.BonusBalance
	return res, nil
}

// findCredit reads the history between from and to and returns r's credit in it. The server may
// answer a period in pages of a size no one documents, newest or oldest first: an answer of
// pageMin entries or more is followed by time, reading again the window before its oldest entry
// and the one after its newest, until no answer brings an entry not seen before. An answer filled
// by entries of one second cannot be read past by time (the wire has whole seconds): then the
// last entries, by count, decide.
func (s *AccountsService) findCredit(ctx context.Context, r Refill, from, to time.Time) (*Transaction, error) {
	seen := map[int64]bool{}
	var crowded time.Time // a second whose entries filled a whole answer
	windows := [][2]time.Time{{from, to}}
	for looks := 0; len(windows) > 0; looks++ {
		if looks == maxLooks {
			return nil, fmt.Errorf("probonus: Accounts.RefillOnce: the history still brings new entries after %d reads: not sent", looks)
		}
		w := windows[0]
		windows = windows[1:]
		txs, err := s.readPeriod(ctx, r.AccountID, w[0], w[1], true)
		if err != nil {
			return nil, err
		}
		var oldest, newest time.Time
		fresh := 0
		for i := range txs {
			if isCreditOf(txs[i], r) {
				return &txs[i], nil
			}
			if seen[txs[i].ID] {
				continue
			}
			seen[txs[i].ID] = true
			fresh++
			if at := txs[i].Datetime.Time; !at.IsZero() {
				if oldest.IsZero() || at.Before(oldest) {
					oldest = at
				}
				if at.After(newest) {
					newest = at
				}
			}
		}
		if fresh == 0 || len(txs) < pageMin || oldest.IsZero() {
			continue
		}
		if oldest.Equal(newest) {
			crowded = oldest // reading by time cannot get past it; the last-N read may
		}
		if oldest.After(w[0]) {
			windows = append(windows, [2]time.Time{w[0], oldest})
		}
		if newest.Before(w[1]) {
			windows = append(windows, [2]time.Time{newest, w[1]})
		}
	}
	if crowded.IsZero() {
		return nil, nil
	}
	return s.findCreditInLast(ctx, r, crowded)
}

// findCreditInLast looks for r's credit in the account's last transactions, for a history whose
// answers by period all stop at one crowded second (a page of entries of that second): the last
// MaxLastTransactions entries are all there is, or reach past that second, or the look fails
// closed.
func (s *AccountsService) findCreditInLast(ctx context.Context, r Refill, crowded time.Time) (*Transaction, error) {
	txs, err := s.readLast(ctx, r.AccountID, MaxLastTransactions, true)
	if err != nil {
		return nil, fmt.Errorf("probonus: Accounts.RefillOnce: the history's answers by period stop at %s, "+
			"and reading the last %d entries failed: not sent: %w", formatWireTime(crowded, s.c.loc), MaxLastTransactions, err)
	}
	for i := range txs {
		if isCreditOf(txs[i], r) {
			return &txs[i], nil
		}
	}
	if len(txs) < MaxLastTransactions || txs[len(txs)-1].Datetime.Before(crowded) {
		return nil, nil
	}
	return nil, fmt.Errorf("probonus: Accounts.RefillOnce: the history holds more entries of %s than one answer shows, "+
		"and they are older than its last %d: not sent (look at the history, then use Refill)",
		formatWireTime(crowded, s.c.loc), MaxLastTransactions)
}

// refillKey is the key of r (whose reason is trimmed) within the process: the installation (the
// base URL's origin and path prefix), the account, the reason and the amount as a decimal. It is
// hashed, so it holds no reason in clear wherever it is kept.
func (c *Client) refillKey(r Refill) string {
	h := sha256.New()
	for _, part := range []string{c.installation, strconv.FormatInt(r.AccountID, 10), strings.TrimSpace(*r.Reason), r.Amount.Decimal().String()} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RefillCoordinator serialises RefillOnce per key and remembers, per key, when its last uncertain
// send ended: in the process by default (every Client of the process shares one), or across a
// fleet with WithRefillCoordinator (probonusredis.NewCoordinator keeps both in Redis). Keys are
// opaque hex strings, one per installation, account, reason and amount; they hold no phone or
// reason in clear. Implementations must be safe for concurrent use.
//
// When a coordinator fails (Redis unreachable, say), RefillOnce fails closed: it sends nothing and
// returns an error matching ErrCoordinatorUnavailable.
type RefillCoordinator interface {
	// Lock takes key's lock, waiting until ctx ends. A holder that dies frees the key after lease;
	// one that lives keeps it until unlock (a fleet's implementation renews the lease meanwhile).
	Lock(ctx context.Context, key string, lease time.Duration) (unlock func(), err error)
	// RecordUncertain remembers u as key's last uncertain send, for at least u.Keep; a u with a
	// zero At forgets key's record (its outcome is known).
	RecordUncertain(ctx context.Context, key string, u UncertainSend) error
	// LastUncertain returns key's last uncertain send; a zero UncertainSend when there is none.
	LastUncertain(ctx context.Context, key string) (UncertainSend, error)
}

// UncertainSend is a refill that ended without a definitive answer, as a RefillCoordinator keeps it.
type UncertainSend struct {
	At     time.Time     // when the send ended; zero: none
	Settle time.Duration // the settle time of the client that sent it
	Keep   time.Duration // how long to remember it at least (the client's refill lookback)
}

// ErrCoordinatorUnavailable matches the error of a RefillOnce whose RefillCoordinator failed: it
// sent nothing (the credit was neither looked for nor sent), so calling again later is safe.
var ErrCoordinatorUnavailable = errors.New("probonus: the RefillOnce coordinator is unavailable")

// coordinatorError is a RefillCoordinator's failure; it matches ErrCoordinatorUnavailable.
type coordinatorError struct {
	what string
	err  error
}

func (e *coordinatorError) Error() string {
	return "probonus: Accounts.RefillOnce: " + e.what + ": " + e.err.Error() + " (nothing sent)"
}
func (e *coordinatorError) Unwrap() error        { return e.err }
func (e *coordinatorError) Is(target error) bool { return target == ErrCoordinatorUnavailable }

// processCoordinator is the default RefillCoordinator: one for the whole process.
var processCoordinator RefillCoordinator = &keyRegistry{m: map[string]*keyState{}}

// keyRegistry is the in-memory RefillCoordinator. A waiter gives up with its own context; the
// lease does not apply (a process that dies takes its locks with it).
type keyRegistry struct {
	mu        sync.Mutex
	m         map[string]*keyState
	lastSweep time.Time
}

type keyState struct {
	busy      chan struct{} // closed when the key's holder is done; nil when none holds it
	uncertain UncertainSend
	keep      time.Time // until when the record is kept
}

func (k *keyRegistry) Lock(ctx context.Context, key string, _ time.Duration) (unlock func(), err error) {
	for {
		k.mu.Lock()
		st := k.m[key]
		if st == nil {
			st = &keyState{}
			k.m[key] = st
		}
		if st.busy == nil {
			done := make(chan struct{})
			st.busy = done
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				st.busy = nil
				if st.uncertain.At.IsZero() {
					delete(k.m, key)
				}
				k.sweepLocked(time.Now())
				k.mu.Unlock()
				close(done)
			}, nil
		}
		busy := st.busy
		k.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (k *keyRegistry) RecordUncertain(_ context.Context, key string, u UncertainSend) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := k.m[key]
	if st == nil {
		if u.At.IsZero() {
			return nil
		}
		st = &keyState{}
		k.m[key] = st
	}
	switch {
	case u.At.IsZero():
		st.uncertain, st.keep = UncertainSend{}, time.Time{}
		if st.busy == nil {
			delete(k.m, key)
		}
	case u.At.After(st.uncertain.At):
		st.uncertain = u
		st.keep = maxTime(st.keep, u.At.Add(max(u.Keep, u.Settle)))
	}
	return nil
}

func (k *keyRegistry) LastUncertain(_ context.Context, key string) (UncertainSend, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if st := k.m[key]; st != nil {
		return st.uncertain, nil
	}
	return UncertainSend{}, nil
}

// sweepLocked drops, at most once a minute, the records kept past their time.
func (k *keyRegistry) sweepLocked(now time.Time) {
	if now.Sub(k.lastSweep) < time.Minute {
		return
	}
	k.lastSweep = now
	for key, st := range k.m {
		if st.busy == nil && now.After(st.keep) {
			delete(k.m, key)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
