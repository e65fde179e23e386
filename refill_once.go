package probonus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RefillOnce credits bonuses exactly once per (AccountID, Reason, Amount), however often it is
// called: the Reason ("Отзыв о заказе 1234", say) is the idempotency key the caller already has, so
// it is required. A job that crashes and runs again, goroutines or Clients racing on the same key,
// and an answer lost on the way all end with one credit.
//
// Before sending, it looks in the account's transactions of the lookback window (WithRefillLookback,
// default 30 days) for a credit with the same reason and amount; when there is one it sends nothing
// and returns it with AlreadyApplied and FromHistory set, TransactionID from the history and Balance
// read fresh (when that read fails, BalanceErr says why: the credit is known, the balance is not;
// RefillOnce never returns a result together with an error). The reason is trimmed of surrounding
// white space before it is sent or compared; amounts compare as decimals (50 is 50.00). The match
// fails closed: an entry with the same reason and amount counts as the credit unless its type is one
// the SDK knows is not a credit (check_accrual, check_payment, withdrawal, burn, deferred_accrual),
// so a type the server names otherwise cannot make it send again. A server that answers a period in
// pages is followed by time: an answer of 20 entries or more is read past, before its oldest entry
// and after its newest. When the answer that holds the credit holds other entries of the same key,
// their ids are in Duplicates: two credits are never reported as one.
//
// When a send ends with ErrOutcomeUnknown, it waits a settle time (WithRefillSettle, default the
// per-attempt timeout), looks again, and sends again only when the credit is still absent: at
// most RetryPolicy.MaxAttempts sends in all. When the look finds the credit then, the result has
// FromHistory set and AlreadyApplied not: the credit is there, but the call cannot know whether its
// own lost send made it or another caller's (its TransactionID is the history's entry). The time of
// an uncertain send is remembered for the key, in the whole process (and by Refill too, for a
// refill with a reason): a later RefillOnce with the same key, from any Client of the same
// installation, first waits until the uncertain send is older than the settle time (the longer of
// its own and the one that recorded it), so it cannot look before the first request could have been
// applied.
//
// A short deadline never leads to a resend: when the context's deadline leaves less than the
// settle time to wait (after this call's own uncertain send, or a remembered one), it waits half of
// what remains of the deadline instead, leaving the other half for the look, then looks. When the
// look finds the credit it returns it as a success, and when it does not, it sends nothing and
// returns an error matching ErrOutcomeUnknown: call RefillOnce again later, it looks first.
//
// Calls with the same key, on any Client in the process talking to the same installation (the base
// URL's origin and path prefix), run one at a time; with WithRefillCoordinator, in the whole fleet.
// A fleet's lock is a lease: RefillOnce trusts a look that found nothing only when its answer came
// back while the lease certainly held (else it confirms the lease and looks again), confirms the
// lease with the coordinator as the last step before each request of the refill is handed to the
// transport (first sends, its own resends, a replay after a token refresh), and ends each attempt
// at the lease's end. A lease found lapsed or lost sends nothing more: the error matches
// ErrLeaseLost (and ErrOutcomeUnknown when an earlier send of the key is uncertain).
//
// One risk remains, and no client can remove it without server support: a request held up inside
// a proxy or the server for longer than the settle time, and applied after the look that did not
// find it, is applied twice; so is one whose process is paused between the lease's last
// confirmation and the write of the request, past the lease and the next holder's settle time.
// Make the settle time longer than any delay your network can hold a request. Without a fleet's
// coordinator, processes are not serialised with each other: give each key one process, or pass
// WithRefillCoordinator(probonusredis.NewCoordinator(...)).
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
	o := &onceRun{s: s, r: r, key: s.c.refillKey(r), coord: s.c.coordinator}
	o.lease, err = o.coord.Lock(ctx, o.key, s.c.refillLease())
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("probonus: Accounts.RefillOnce: waiting for another RefillOnce with the same key: %w (%v)", ctx.Err(), err)
	case err != nil:
		return nil, &coordinatorError{"taking the key's lock", err}
	}
	defer func() { o.lease.Unlock(!o.unrecorded) }()
	o.since = time.Now().Add(-s.c.refillLookback)
	return o.run(ctx)
}

// onceRun is one RefillOnce holding its key's lease.
type onceRun struct {
	s     *AccountsService
	r     Refill // its reason trimmed
	key   string
	coord RefillCoordinator
	lease RefillLease
	since time.Time // the start of the lookback window
	// pending: the key has an uncertain send on record (or one whose record failed), to forget
	// once its outcome is known
	pending bool
	// unrecorded: recording an uncertain send failed, so the key is freed as by a holder that died
	unrecorded bool
}

func (o *onceRun) run(ctx context.Context) (*RefillResult, error) {
	// An earlier uncertain send of this key may still be on its way: look only once it has settled.
	early := false
	last, err := o.coord.LastUncertain(ctx, o.key)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("probonus: Accounts.RefillOnce: reading the key's last uncertain send: %w", ctx.Err())
	case err != nil:
		return nil, &coordinatorError{"reading the key's last uncertain send", err}
	}
	o.pending = !last.At.IsZero()
	if o.pending {
		full, err := o.settleUntil(ctx, last.At.Add(max(last.Settle, o.s.c.settleTime())))
		if err != nil {
			return nil, o.failed(fmt.Errorf("probonus: Accounts.RefillOnce: waiting for an earlier uncertain send of this key to settle: %w", err))
		}
		early = !full
	}
	found, err := o.look(ctx)
	switch {
	case found != nil:
		found.AlreadyApplied = true
		o.settled(ctx)
		return found, nil
	case err != nil:
		return nil, o.failed(err)
	case early:
		return nil, &outcomeError{err: errors.New("probonus: Accounts.RefillOnce: an earlier send of this key had no definitive " +
			"answer, its credit is not in the history yet, and the deadline ends before the settle time: not sent " +
			"(call RefillOnce again later: it looks first)")}
	}
	var uncertain error // this call's own last send without a definitive answer
	for sends := 1; ; sends++ {
		res, err := o.s.refill(ctx, o.r, o.gate)
		var refused *gateRefusal
		switch {
		case err == nil:
			o.settled(ctx)
			return res, nil
		case errors.As(err, &refused):
			// the gate stopped the request before the transport: nothing of this attempt was sent
			return nil, o.refusedAt(refused.err, uncertain, sends)
		case uncertain != nil && !errors.Is(err, ErrOutcomeUnknown):
			// the resend failed before it could be applied; the first send's outcome is unknown still
			return nil, stillUnknown(uncertain, "then, sending it again: %w", err)
		case !errors.Is(err, ErrOutcomeUnknown):
			return nil, err
		}
		o.recordUncertain(ctx)
		uncertain = err
		full, err := o.settleUntil(ctx, time.Now().Add(o.s.c.settleTime()))
		if err != nil {
			return nil, stillUnknown(uncertain, "then, waiting to look in the history: %w", err)
		}
		found, err := o.look(ctx)
		if found != nil {
			o.settled(ctx)
			return found, nil // where the lost answer would have said, but maybe another caller's credit
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
		case sends >= o.s.c.retry.MaxAttempts:
			return nil, stillUnknown(uncertain, "sent %d times without a definitive answer, and the credit is not "+
				"in the history", sends)
		}
	}
}

// refusedAt is RefillOnce's error when the gate of its sends-th send refused it (a lease lost, a
// coordinator that did not answer, the context's end): that send went nowhere, but this call's own
// earlier send (uncertain), or one remembered for the key, may still be applied.
func (o *onceRun) refusedAt(cause error, uncertain error, sends int) error {
	if uncertain != nil {
		return stillUnknown(uncertain, "then, before sending it again (send %d): %w: not sent again", sends, cause)
	}
	return o.failed(cause)
}

// failed is err as RefillOnce returns it before its first send: a lost lease as it is (it says
// whether an earlier send is uncertain), and a failed look or wait after an earlier uncertain
// send as that send's outcome, still unknown.
func (o *onceRun) failed(err error) error {
	if le := (*leaseError)(nil); errors.As(err, &le) {
		return &leaseError{what: le.what, err: le.err, uncertain: o.pending}
	}
	if !o.pending {
		return err
	}
	return &outcomeError{err: fmt.Errorf("probonus: Accounts.RefillOnce: an earlier send of this key had no "+
		"definitive answer, and %w", err)}
}

// look looks for the credit in the history. A credit found is found whenever the answer came; an
// answer without it proves nothing unless it came back while the lease certainly held: then the
// lease is confirmed and the look made again, once, or the call fails closed.
func (o *onceRun) look(ctx context.Context) (*RefillResult, error) {
	for again := false; ; again = true {
		found, err := o.s.findRefill(ctx, o.r, o.since)
		if found != nil || err != nil {
			return found, err
		}
		if o.held() {
			return nil, nil
		}
		if again {
			return nil, o.lost("while it looked in the history, twice", nil)
		}
		if err := o.confirm(ctx); err != nil {
			return nil, err
		}
	}
}

// gate is the last step before each attempt of the refill is handed to the transport: the lease
// is confirmed with the coordinator, and the attempt must end by the lease's end, or as soon as
// the lease is lost. A refusal is a *gateRefusal: nothing of that attempt was sent.
func (o *onceRun) gate(ctx context.Context) (time.Time, <-chan struct{}, error) {
	if err := o.confirm(ctx); err != nil {
		if le := (*leaseError)(nil); errors.As(err, &le) {
			err = &leaseError{what: le.what, err: le.err} // the send refused: RefillOnce adds what else is unknown
		}
		return time.Time{}, nil, &gateRefusal{err}
	}
	return o.lease.Until(), o.lease.Lost(), nil
}

// gateRefusal is a write that its gate stopped before the transport. It matches what its cause
// matches, and never ErrOutcomeUnknown by itself: observers see a write that was not sent.
type gateRefusal struct{ err error }

func (e *gateRefusal) Error() string { return e.err.Error() }
func (e *gateRefusal) Unwrap() error { return e.err }

// held reports whether the lease certainly holds now.
func (o *onceRun) held() bool {
	select {
	case <-o.lease.Lost():
		return false
	default:
	}
	until := o.lease.Until()
	return until.IsZero() || time.Now().Before(until)
}

// confirm confirms the lease with the coordinator, and checks that it still holds after the
// answer (a pause during the call may have outlasted it).
func (o *onceRun) confirm(ctx context.Context) error {
	select {
	case <-o.lease.Lost():
		return o.lost("(its renewal found it taken or forgotten)", nil)
	default:
	}
	err := o.lease.Confirm(ctx)
	switch {
	case errors.Is(err, ErrLeaseLost):
		return o.lost("(the coordinator says so)", err)
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("probonus: Accounts.RefillOnce: confirming the key's lease: %w", ctx.Err())
	case err != nil:
		return &coordinatorError{"confirming the key's lease", err}
	case !o.held():
		return o.lost("(it lapsed while it was confirmed)", nil)
	}
	return nil
}

func (o *onceRun) lost(what string, err error) error {
	return &leaseError{what: what, err: err, uncertain: o.pending}
}

// recordUncertain remembers that a send of the key had no definitive answer. When the coordinator
// cannot keep it, the key is freed at the end as by a holder that died, so that the next holder
// still waits the settle time before it looks.
func (o *onceRun) recordUncertain(ctx context.Context) {
	o.pending = true
	if err := o.s.recordUncertain(ctx, o.r, o.key); err != nil {
		o.unrecorded = true
	}
}

// settled forgets the key's uncertain send, now that its credit is known.
func (o *onceRun) settled(ctx context.Context) {
	if o.pending {
		_ = o.coord.RecordUncertain(ctx, o.key, UncertainSend{}) // a failure only makes a later call wait
		o.pending, o.unrecorded = false, false
	}
}

// settleUntil waits until until, or half of what remains of the context's deadline when that is
// sooner (leaving the other half for the look): full is false then. A lease lost meanwhile ends
// the wait with its error.
func (o *onceRun) settleUntil(ctx context.Context, until time.Time) (full bool, err error) {
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
	case <-o.lease.Lost():
		return false, o.lost("(its renewal found it taken or forgotten) while it waited for a send to settle", nil)
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// writeGate is asked by a write's attempt as its last step before the transport: an error sends
// nothing (the attempt is final); otherwise the attempt must end by until (unless it is zero), or
// when lost closes (unless it is nil).
type writeGate func(ctx context.Context) (until time.Time, lost <-chan struct{}, err error)

// refillLease is how long a RefillOnce holder that died keeps its key in a fleet's coordinator:
// long enough for every attempt of a send and the looks around it.
func (c *Client) refillLease() time.Duration {
	return time.Duration(c.retry.MaxAttempts+2)*c.timeout + c.settleTime()
}

// stillUnknown is RefillOnce's error when a send's outcome stays unknown: the send's own error,
// then what the call did about it.
func stillUnknown(uncertain error, format string, args ...any) error {
	cause := errors.Unwrap(uncertain)
	if cause == nil {
		cause = uncertain
	}
	for i, a := range args {
		if le, ok := a.(*leaseError); ok { // the call's own send is what is unknown: the lease's story only
			args[i] = &leaseError{what: le.what, err: le.err, inner: true}
		}
	}
	return &outcomeError{err: fmt.Errorf("probonus: Accounts.RefillOnce: %w; "+format, append([]any{cause}, args...)...)}
}

// settleTime is how long an uncertain refill is given to show in the history.
func (c *Client) settleTime() time.Duration {
	if c.refillSettle > 0 {
		return c.refillSettle
	}
	return c.timeout
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
// is found but the balance cannot be read, the result says so in BalanceErr: its outcome is known,
// only the balance is not.
func (s *AccountsService) findRefill(ctx context.Context, r Refill, since time.Time) (*RefillResult, error) {
	tx, dups, err := s.findCredit(ctx, r, since, time.Now().Add(24*time.Hour))
	if err != nil || tx == nil {
		return nil, err
	}
	res := &RefillResult{TransactionID: tx.ID, FromHistory: true, Duplicates: dups}
	bal, err := s.balance(ctx, r.AccountID, true)
	if err != nil {
		res.BalanceErr = fmt.Errorf("probonus: Accounts.RefillOnce: the credit is applied (transaction %d), "+
			"but reading the balance failed: %w", tx.ID, err)
		return res, nil
	}
	res.Balance = bal.BonusBalance
	return res, nil
}

// credits keeps r's first credit seen in a look and the ids of every other entry of the same key.
type credits struct {
	first *Transaction
	dups  []int64
}

func (c *credits) add(txs []Transaction, r Refill) {
	for i := range txs {
		switch {
		case !isCreditOf(txs[i], r):
		case c.first == nil:
			tx := txs[i]
			c.first = &tx
		case txs[i].ID != c.first.ID && !slices.Contains(c.dups, txs[i].ID):
			c.dups = append(c.dups, txs[i].ID)
		}
	}
}

// findCredit reads the history between from and to and returns r's credit in it. The server may
// answer a period in pages of a size no one documents, newest or oldest first: an answer of
// pageMin entries or more is followed by time, reading again the window before its oldest entry
// and the one after its newest, until no answer brings an entry not seen before. An answer filled
// by entries of one second cannot be read past by time (the wire has whole seconds): then the
// last entries, by count, decide.
func (s *AccountsService) findCredit(ctx context.Context, r Refill, from, to time.Time) (*Transaction, []int64, error) {
	var found credits
	seen := map[int64]bool{}
	var crowded time.Time // a second whose entries filled a whole answer
	windows := [][2]time.Time{{from, to}}
	for looks := 0; len(windows) > 0; looks++ {
		if looks == maxLooks {
			if found.first != nil {
				return found.first, found.dups, nil // found; other credits of the key may lie further
			}
			return nil, nil, fmt.Errorf("probonus: Accounts.RefillOnce: the history still brings new entries after %d reads: not sent", looks)
		}
		w := windows[0]
		windows = windows[1:]
		txs, err := s.readPeriod(ctx, r.AccountID, w[0], w[1], true)
		if err != nil {
			return nil, nil, err
		}
		// The credit found, the rest of a paged history is read too: two credits of the key are
		// never reported as one.
		found.add(txs, r)
		var oldest, newest time.Time
		fresh := 0
		for i := range txs {
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
	if found.first != nil || crowded.IsZero() {
		return found.first, found.dups, nil
	}
	return s.findCreditInLast(ctx, r, crowded)
}

// findCreditInLast looks for r's credit in the account's last transactions, for a history whose
// answers by period all stop at one crowded second (a page of entries of that second): the last
// MaxLastTransactions entries are all there is, or reach past that second, or the look fails
// closed.
func (s *AccountsService) findCreditInLast(ctx context.Context, r Refill, crowded time.Time) (*Transaction, []int64, error) {
	txs, err := s.readLast(ctx, r.AccountID, MaxLastTransactions, true)
	if err != nil {
		return nil, nil, fmt.Errorf("probonus: Accounts.RefillOnce: the history's answers by period stop at %s, "+
			"and reading the last %d entries failed: not sent: %w", formatWireTime(crowded, s.c.loc), MaxLastTransactions, err)
	}
	var found credits
	if found.add(txs, r); found.first != nil {
		return found.first, found.dups, nil
	}
	if len(txs) < MaxLastTransactions || txs[len(txs)-1].Datetime.Before(crowded) {
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("probonus: Accounts.RefillOnce: the history holds more entries of %s than one answer shows, "+
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

// readLast reads an account's n most recent transactions; fresh as for readPeriod.
func (s *AccountsService) readLast(ctx context.Context, accountID int64, n int, fresh bool) ([]Transaction, error) {
	q := encodeQuery(qInt(qAccountID, accountID), qInt(qCount, int64(n)))
	// json appends to a slice's capacity: room for n spares the regrowing of a long list
	txs := make([]Transaction, 0, n)
	if err := s.c.send(ctx, &call{endpoint: epLastTransactions, query: q, fresh: fresh}, &txs); err != nil {
		return nil, err
	}
	return txs, nil
}

// readPeriod reads an account's transactions between from and to; fresh asks any cache on the way to
// stand aside (RefillOnce's looks).
func (s *AccountsService) readPeriod(ctx context.Context, accountID int64, from, to time.Time, fresh bool) ([]Transaction, error) {
	// The wire has whole seconds: from is cut down to its second and to rounded up to the next, so
	// an entry in to's last fraction of a second is not left out.
	if to.Nanosecond() != 0 {
		to = to.Truncate(time.Second).Add(time.Second)
	}
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

// recordUncertain tells the coordinator that a send of r (key) had no definitive answer, now.
func (s *AccountsService) recordUncertain(ctx context.Context, r Refill, key string) error {
	return s.c.coordinator.RecordUncertain(context.WithoutCancel(ctx), key,
		UncertainSend{At: time.Now(), Settle: s.c.settleTime(), Keep: s.c.refillLookback})
}
