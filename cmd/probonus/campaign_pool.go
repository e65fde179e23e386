package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/probonus-go/probonus"
)

// rows reads the rows of rr, runs do on those that can be sent, o.concurrency at a time, and hands
// every row's result to finished on this goroutine, in the file's order. It stops taking rows at
// Ctrl-C (the first; the second abandons the rows in flight) and when rows in a row fail for a
// systemic cause; the rows in flight end either way, and the rows after them are handed over as
// not started. The reader stays at most a window of rows ahead of the first row not handed over,
// so what is held does not grow with the file, however slow one row is.
func (r *campaignRun) rows(ctx context.Context, rr *rowReader, do func(context.Context, *campaignRow) rowResult, finished func(rowResult), p progress) {
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	slots := make(chan struct{}, max(256, 16*r.o.concurrency)) // the rows read and not handed over
	results := make(chan rowResult)
	go func() {
		var pool errgroup.Group // when no worker is free, Go waits for one: the reader keeps pace with the sends
		pool.SetLimit(r.o.concurrency)
		defer func() {
			_ = pool.Wait() // no row's work returns an error: a row's failure is its result
			close(results)
		}()
		for seq := 0; ; seq++ {
			row, err := rr.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				r.halt.stop(plainErr(err))
				return
			}
			slots <- struct{}{}
			res := rowResult{seq: seq, row: &row}
			switch {
			case !row.valid():
				res.status, res.note = statusSkipped, problemsText(row.problems)
				results <- res
			case r.halt.stopped():
				res.status, res.waiting = statusSkipped, true
				results <- res
			default:
				send := func() error {
					out := do(work, res.row)
					out.seq, out.row, out.started = res.seq, res.row, true
					results <- out
					return nil
				}
				if pool.TryGo(send) { // a worker was free: the row starts now
					continue
				}
				pool.Go(func() error {
					if r.halt.stopped() {
						res.status, res.waiting = statusSkipped, true // stopped while it waited for a worker
						results <- res
						return nil
					}
					return send()
				})
			}
		}
	}()
	var tick <-chan time.Time
	if r.o.progress == progressLines && r.o.every > 0 {
		t := time.NewTicker(r.o.every)
		defer t.Stop()
		tick = t.C
	}
	interrupt := func() {
		if r.interrupted {
			return
		}
		r.interrupted = true
		r.halt.stop("interrupted")
		fmt.Fprintln(r.s.stderr, "\nInterrupted: no new rows are started; the rows in flight are let end (Ctrl-C again abandons them: their outcome is then unknown).")
	}
	pending := map[int]rowResult{} // the rows ended ahead of one before them
	done, signals, streak := ctx.Done(), 0, 0
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return
			}
			if res.started {
				switch cause := systemic(res.err); {
				case cause != "":
					if streak++; streak >= r.o.stopAfter {
						r.halt.stop(fmt.Sprintf("%d rows in a row failed: %s", streak, cause))
					}
				case res.status != statusSkipped:
					streak = 0
				}
			}
			pending[res.seq] = res
			for {
				next, ok := pending[r.handed]
				if !ok {
					break
				}
				delete(pending, r.handed)
				r.handed++
				<-slots
				if next.waiting {
					next.note = r.notStarted()
				}
				finished(next)
			}
		case <-tick:
			p.tick(r.t)
		case <-done:
			done = nil
			interrupt()
		case <-r.o.signals:
			if signals++; signals == 1 {
				interrupt()
			} else {
				fmt.Fprintln(r.s.stderr, "Interrupted again: abandoning the rows in flight.")
				abandon()
			}
		}
	}
}

// systemic names the cause of a failure that every row would meet: the credentials refused, the
// server down or failing. "" for a row's own failure.
func systemic(err error) string {
	var netErr *net.OpError
	var urlErr *url.Error
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, probonus.ErrUnauthorized), errors.Is(err, probonus.ErrForbidden):
		return "the server refused the credentials (" + plainErr(err) + "); check PROBONUS_API_KEY, or PROBONUS_LOGIN and PROBONUS_PASSWORD"
	case errors.Is(err, probonus.ErrCoordinatorUnavailable):
		return "the RefillOnce coordinator is unavailable"
	case errors.Is(err, probonus.ErrServer), errors.Is(err, probonus.ErrRateLimited),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr), errors.As(err, &urlErr):
		return "the server is down or failing; is it up? probonus doctor checks"
	}
	return ""
}

// halt is why a run stopped taking rows: set once, the first reason kept, by the run's loop or
// its reader.
type halt struct{ why atomic.Pointer[string] }

func (h *halt) stop(why string) { h.why.CompareAndSwap(nil, &why) }

func (h *halt) stopped() bool { return h.why.Load() != nil }

// reason is why the run stopped, "" when it did not.
func (h *halt) reason() string {
	if why := h.why.Load(); why != nil {
		return *why
	}
	return ""
}
