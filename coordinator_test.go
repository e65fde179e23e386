package probonus_test

import (
	"context"
	"sync"
	"time"

	"github.com/probonus-go/probonus"
)

// testLease is a RefillLease a test steers: until when it holds, whether it is lost, what Confirm
// answers (and how long it extends it), and how it was unlocked.
type testLease struct {
	mu       sync.Mutex
	until    time.Time     // zero: never lapses
	extend   time.Duration // what a Confirm that succeeds adds to now, when until is not zero
	confirm  func(n int) error
	confirms int
	lost     chan struct{}
	unlocks  []bool
}

func (l *testLease) Until() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}

func (l *testLease) Lost() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func (l *testLease) Confirm(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.confirms++
	if l.confirm != nil {
		if err := l.confirm(l.confirms); err != nil {
			return err
		}
	}
	if !l.until.IsZero() && l.extend > 0 {
		l.until = time.Now().Add(l.extend)
	}
	return nil
}

func (l *testLease) Unlock(clean bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unlocks = append(l.unlocks, clean)
}

func (l *testLease) state() (confirms int, unlocks []bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.confirms, append([]bool(nil), l.unlocks...)
}

// leaseCoordinator is the process's kind of coordinator with a steered lease: every Lock returns
// lease, and records are kept in a map (or refused with recordErr).
type leaseCoordinator struct {
	mu        sync.Mutex
	lease     *testLease
	recordErr error
	records   map[string]probonus.UncertainSend
}

func (c *leaseCoordinator) Lock(context.Context, string, time.Duration) (probonus.RefillLease, error) {
	return c.lease, nil
}

func (c *leaseCoordinator) RecordUncertain(_ context.Context, key string, u probonus.UncertainSend) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recordErr != nil && !u.At.IsZero() {
		return c.recordErr
	}
	if c.records == nil {
		c.records = map[string]probonus.UncertainSend{}
	}
	c.records[key] = u
	return nil
}

func (c *leaseCoordinator) LastUncertain(_ context.Context, key string) (probonus.UncertainSend, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.records[key], nil
}
