// Command example shows a credit surviving a ProBonus outage: an order is completed and its
// credit written in the same SQLite transaction while ProBonus answers every request with a 503;
// River retries it, and once ProBonus is back the credit is applied, once. No set-up: the SQLite
// file is in a temporary folder and the fake ProBonus server (probonustest) runs in-process.
//
//	cd probonusriver && go run ./example
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusriver"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// ProBonus, in-process, with a switch that makes it answer 503 to everything.
	var down atomic.Bool
	srv := probonustest.NewServer(nil, probonustest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(w, `{"detail":"maintenance"}`, http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	}))
	defer srv.Close()
	guest := srv.AddAccount(probonustest.Account{GroupID: srv.AddGroup(probonustest.Group{Name: "Guests"})})

	dir, err := os.MkdirTemp("", "probonusriver-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil)) // River logs each failed attempt
	credits, err := probonusriver.OpenSQLite(ctx, filepath.Join(dir, "shop.db"), probonusriver.Config{
		ClientOptions:  srv.ClientOptions(),
		AttemptTimeout: 2 * time.Second,
		Settle:         100 * time.Millisecond,
		Logger:         quiet,
		River:          &river.Config{Logger: quiet, FetchPollInterval: 100 * time.Millisecond},
	})
	if err != nil {
		return err
	}
	defer credits.Close(context.WithoutCancel(ctx))
	if _, err := credits.DB.ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT, status TEXT)"); err != nil {
		return err
	}

	down.Store(true)
	fmt.Fprintln(out, "ProBonus is down (503 to every request)")

	// The order and its credit, in one transaction: both or neither.
	tx, err := credits.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO orders (id, total, status) VALUES (1234, '500.00', 'completed')"); err != nil {
		return err
	}
	queued, err := credits.EnqueueTx(ctx, tx, probonus.Refill{
		AccountID: guest, Amount: probonus.MustAmount("50"), Reason: probonus.Ptr("Order 1234"),
	})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Fprintln(out, "order 1234 completed, its credit of 50.00 queued in the same transaction")

	// The same webhook, delivered twice: one job.
	again, err := credits.Enqueue(ctx, probonus.Refill{AccountID: guest, Amount: probonus.MustAmount("50.00"), Reason: probonus.Ptr("Order 1234")})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "the same credit enqueued again is a duplicate:", again.Duplicate)

	job, err := waitFor(ctx, credits, queued.JobID, func(j *rivertype.JobRow) bool { return len(j.Errors) > 0 })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "attempt %d failed (503: %t), River will retry\n", job.Attempt, strings.Contains(job.Errors[0].Error, "503"))

	down.Store(false)
	fmt.Fprintln(out, "ProBonus is back")
	job, err = waitFor(ctx, credits, queued.JobID, func(j *rivertype.JobRow) bool { return j.State == rivertype.JobStateCompleted })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "credit %s after %d attempts; balance %s; credits applied: %d\n", job.State, job.Attempt, srv.Balance(guest), len(srv.Refills(guest)))
	stuck, err := credits.Stuck(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "stuck credits:", len(stuck))
	return nil
}

// waitFor polls the job until done says so.
func waitFor(ctx context.Context, credits *probonusriver.SQLite, id int64, done func(*rivertype.JobRow) bool) (*rivertype.JobRow, error) {
	for {
		j, err := credits.River().JobGet(ctx, id)
		if err != nil {
			return nil, err
		}
		if done(j) {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("job %d: %w", id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
