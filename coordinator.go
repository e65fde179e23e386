package probonus

import (
	"context"
	"errors"
	"sync"
	"time"
)

// RefillCoordinator serialises RefillOnce per key and remembers, per key, when its last uncertain
// send ended: in the process by default (every Client of the process shares one), or across a
// fleet with WithRefillCoordinator (probonusredis.NewCoordinator keeps both in Redis). Keys are
// opaque hex strings, one per installation, account, reason and amount; they hold no phone or
// reason in clear. Implementations must be safe for concurrent use.
//
// When a coordinator fails (Redis unreachable, say), RefillOnce fails closed: it sends nothing and
// returns an error matching ErrCoordinatorUnavailable. When a lease turns out lost (its holder was
// paused past it, or the coordinator forgot it), RefillOnce sends nothing more and returns an error
// matching ErrLeaseLost.
type RefillCoordinator interface {
	// Lock takes key's lock for lease, waiting until ctx ends. A holder that dies frees the key
	// after lease; one that lives keeps it until it unlocks, as long as the implementation can
	// renew it. The returned RefillLease says until when the lock certainly holds.
	Lock(ctx context.Context, key string, lease time.Duration) (RefillLease, error)
	// RecordUncertain remembers u as key's last uncertain send, for at least u.Keep; a u with a
	// zero At forgets key's record (its outcome is known).
	RecordUncertain(ctx context.Context, key string, u UncertainSend) error
	// LastUncertain returns key's last uncertain send; a zero UncertainSend when there is none.
	LastUncertain(ctx context.Context, key string) (UncertainSend, error)
}

// RefillLease is a key's lock as its holder has it. RefillOnce reads Until after every look in
// the history (an answer that came back after the lease could have lapsed proves nothing) and
// calls Confirm as the last step before each request of a refill is handed to the transport.
// Implementations must be safe for concurrent use.
type RefillLease interface {
	// Until is the end of the time the lock certainly holds, on this process's monotonic clock:
	// the start of the last acquire or renewal that succeeded, plus the lease, minus a margin for
	// the clocks. The zero time means it never lapses while the process lives (the in-process
	// coordinator's locks). Past Until, or once Lost is closed, the holder must send nothing.
	Until() time.Time
	// Lost is closed as soon as the holder learns that the lock is no longer its own (a renewal
	// found it taken or forgotten). A nil channel is never closed.
	Lost() <-chan struct{}
	// Confirm checks with the coordinator that the lock is still this holder's, extending it
	// when it is (Until moves on); otherwise it returns an error matching ErrLeaseLost. A
	// coordinator that cannot answer returns its own error: RefillOnce then sends nothing.
	Confirm(ctx context.Context) error
	// Unlock frees the key. Unlock(false) is for a holder whose last send's outcome is unknown
	// and could not be recorded: the key is freed as if its holder had died (a fleet's next holder
	// waits its settle time before it looks). Calls after the first do nothing.
	Unlock(clean bool)
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

// ErrLeaseLost matches the error of a RefillOnce whose key's lease lapsed or was taken while it
// held it (the process was paused past it, or the coordinator forgot it). It sent nothing after
// it learned so: calling again later is safe, since RefillOnce looks first. When an earlier send
// of the key had no definitive answer, the error matches ErrOutcomeUnknown too.
var ErrLeaseLost = errors.New("probonus: the RefillOnce key's lease was lost")

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

// leaseError is RefillOnce's refusal to go on under a lease that lapsed or was lost. It matches
// ErrLeaseLost, and ErrOutcomeUnknown when an earlier send of the key is uncertain. Inside the
// error of a call whose own send is uncertain (inner), it says only what happened to the lease.
type leaseError struct {
	what      string
	err       error // the coordinator's answer, if it gave one
	uncertain bool
	inner     bool
}

func (e *leaseError) Error() string {
	s := "the key's lease was lost " + e.what
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	if e.inner {
		return s
	}
	s = "probonus: Accounts.RefillOnce: " + s + ": nothing sent this time"
	if e.uncertain {
		s += "; an earlier send of this key had no definitive answer, and its outcome is still unknown"
	}
	return s + " (call RefillOnce again later: it looks first)"
}
func (e *leaseError) Unwrap() error { return e.err }
func (e *leaseError) Is(target error) bool {
	return target == ErrLeaseLost || (e.uncertain && target == ErrOutcomeUnknown)
}

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

func (k *keyRegistry) Lock(ctx context.Context, key string, _ time.Duration) (RefillLease, error) {
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
			return &processLease{k: k, key: key, st: st, done: done}, nil
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

// processLease is a keyRegistry's lock: it holds until unlocked.
type processLease struct {
	k    *keyRegistry
	key  string
	st   *keyState
	done chan struct{}
	once sync.Once
}

func (*processLease) Until() time.Time                  { return time.Time{} }
func (*processLease) Lost() <-chan struct{}             { return nil }
func (*processLease) Confirm(ctx context.Context) error { return nil }

func (l *processLease) Unlock(bool) {
	l.once.Do(func() {
		k := l.k
		k.mu.Lock()
		l.st.busy = nil
		if l.st.uncertain.At.IsZero() {
			delete(k.m, l.key)
		}
		k.sweepLocked(time.Now())
		k.mu.Unlock()
		close(l.done)
	})
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
