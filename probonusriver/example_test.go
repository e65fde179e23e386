package probonusriver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusriver"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// An order and its credit in one SQLite transaction; the workers deliver the credit once, and
// the same credit enqueued again (a webhook delivered twice, "50.00" for "50") is a duplicate.
func ExampleOpenSQLite() {
	ctx := context.Background()
	srv := probonustest.NewServer(nil) // ProBonus, in-process
	defer srv.Close()
	guest := srv.AddAccount(probonustest.Account{GroupID: srv.AddGroup(probonustest.Group{Name: "Guests"})})
	dir, _ := os.MkdirTemp("", "credits-")
	defer os.RemoveAll(dir)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	credits, err := probonusriver.OpenSQLite(ctx, filepath.Join(dir, "shop.db"), probonusriver.Config{
		ClientOptions: srv.ClientOptions(),
		Logger:        quiet,
		River:         &river.Config{Logger: quiet, FetchPollInterval: 100 * time.Millisecond},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer credits.Close(ctx)
	_, _ = credits.DB.ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")

	tx, _ := credits.DB.BeginTx(ctx, nil)
	_, _ = tx.ExecContext(ctx, "INSERT INTO orders (id, status) VALUES (1234, 'completed')")
	queued, err := credits.EnqueueTx(ctx, tx, probonus.Refill{AccountID: guest, Amount: probonus.MustAmount("50"), Reason: probonus.Ptr("Order 1234")})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = tx.Commit()

	again, _ := credits.Enqueue(ctx, probonus.Refill{AccountID: guest, Amount: probonus.MustAmount("50.00"), Reason: probonus.Ptr("Order 1234")})
	fmt.Println("duplicate:", again.Duplicate, again.JobID == queued.JobID)

	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if j, err := credits.River().JobGet(ctx, queued.JobID); err == nil && j.State == rivertype.JobStateCompleted {
			break
		}
	}
	fmt.Println("credits applied:", len(srv.Refills(guest)), "balance:", srv.Balance(guest))
	// Output:
	// duplicate: true true
	// credits applied: 1 balance: 50.00
}
