package probonusriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Credits is a durable queue of credits on River: EnqueueTx writes one in the app's own
// transaction, the workers deliver it with RefillOnce, Stuck lists what did not complete. TTx is
// the driver's transaction: pgx.Tx for PostgreSQL, *sql.Tx for SQLite.
type Credits[TTx any] struct {
	river  *river.Client[TTx]
	driver riverdriver.Driver[TTx]
	cfg    *resolved
	client *probonus.Client
	log    *slog.Logger
}

// Enqueued is what EnqueueTx did.
type Enqueued struct {
	JobID int64 // the credit's job, new or the one already there
	// Duplicate is set when the credit (the same account, amount and reason) was already
	// enqueued: nothing was written, JobID is the earlier job.
	Duplicate bool
	Args      RefillArgs // the job's args: on a duplicate, the earlier job's (its burn date stands)
}

// ErrBurnDateDiffers matches the error of an enqueue that was a duplicate (see Enqueued) of a
// credit with another burn date: the earlier job's stands. The Enqueued is returned with it.
var ErrBurnDateDiffers = errors.New("probonusriver: the credit is already enqueued with another burn date")

// New makes Credits on a River driver (riverpgxv5.New(pool), riversqlite.New(db)); NewPostgres,
// NewSQLite and OpenSQLite are the usual ways in. It refuses a config that could send a credit
// twice (see Config.River). Run the migrations first (Migrate, or rivermigrate), then Start.
func New[TTx any](driver riverdriver.Driver[TTx], cfg Config) (*Credits[TTx], error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	opts := append(append([]probonus.Option(nil), r.ClientOptions...),
		probonus.WithTimeout(r.AttemptTimeout), probonus.WithRetry(r.Retry),
		probonus.WithRefillSettle(r.Settle), probonus.WithRefillLookback(r.Lookback))
	client, err := probonus.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("probonusriver: Config.ClientOptions: %w", err)
	}
	rc := &river.Config{}
	if r.River != nil {
		c := *r.River // never change what the caller gave
		rc = &c
	}
	if rc.Workers == nil {
		rc.Workers = river.NewWorkers()
	}
	w := &refillWorker{cfg: r, client: client}
	if err := river.AddWorkerSafely(rc.Workers, w); err != nil {
		return nil, fmt.Errorf("probonusriver: adding the credit worker to Config.River.Workers: %w", err)
	}
	if !r.InsertOnly {
		queues := make(map[string]river.QueueConfig, len(rc.Queues)+1)
		for k, v := range rc.Queues {
			queues[k] = v
		}
		if _, ok := queues[r.Queue]; !ok {
			queues[r.Queue] = river.QueueConfig{MaxWorkers: r.Workers}
		}
		rc.Queues = queues
	}
	rc.RescueStuckJobsAfter = r.rescueAfter
	if rc.JobTimeout == 0 {
		// River's default for other kinds (a minute), which River wants no longer than the rescue
		// delay; the credits' own timeout is the worker's.
		rc.JobTimeout = min(time.Minute, r.rescueAfter)
	}
	// Completed credits are kept as long as RefillOnce can verify them, so that a late duplicate
	// is reported as one; what did not complete is kept until someone deals with it.
	rc.CompletedJobRetentionPeriod = cmpOr(rc.CompletedJobRetentionPeriod, r.Lookback)
	rc.CancelledJobRetentionPeriod = cmpOr(rc.CancelledJobRetentionPeriod, -1)
	rc.DiscardedJobRetentionPeriod = cmpOr(rc.DiscardedJobRetentionPeriod, -1)
	log := r.Logger
	if log == nil {
		log = cmpOr(rc.Logger, slog.Default())
	}
	w.log = log
	rcl, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("probonusriver: %w", err)
	}
	return &Credits[TTx]{river: rcl, driver: driver, cfg: r, client: client, log: log}, nil
}

// Migrate brings River's tables up to date (rivermigrate, up). An app that runs River's
// migrations with its own tool (the river CLI, or rivermigrate in its own migrations) skips it.
func (c *Credits[TTx]) Migrate(ctx context.Context) error {
	m, err := rivermigrate.New(c.driver, nil)
	if err != nil {
		return fmt.Errorf("probonusriver: migrating: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("probonusriver: migrating: %w", err)
	}
	return nil
}

// Start starts the workers (and River's maintenance: rescuing the jobs of dead workers, cleaning
// old rows) under ctx: when ctx ends, River stops them at once (a hard stop: credits being sent
// are cancelled and snooze); Stop is the graceful way. An insert-only Credits
// (Config.InsertOnly) need not be started.
func (c *Credits[TTx]) Start(ctx context.Context) error {
	if err := c.river.Start(ctx); err != nil {
		return fmt.Errorf("probonusriver: starting: %w", err)
	}
	return nil
}

// Stop stops fetching credits and waits for those being sent, until ctx ends; then it cancels
// them and waits up to 10 seconds (the attempt timeout, when longer) more for them to return and
// River to write their state. They snooze, costing no
// attempt, and a credit cut short in a settle wait keeps its uncertain send in its metadata, so
// that the process that takes it waits for the settle time before it looks.
func (c *Credits[TTx]) Stop(ctx context.Context) error {
	err := c.river.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		// Soft stop ran out: cancel the jobs still running (they snooze) and wait for them.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(c.cfg.AttemptTimeout, stopWait))
		defer cancel()
		err = c.river.StopAndCancel(cctx)
	}
	if err != nil {
		return fmt.Errorf("probonusriver: stopping: %w", err)
	}
	return nil
}

// stopWait is how long Stop waits, after cancelling the credits being sent, for River to write
// their state: SQLite may hold each write that long (busy_timeout) while another process writes.
const stopWait = 10 * time.Second

// River is the River client underneath, for what this package does not wrap (subscriptions,
// queue pauses, River UI's handler).
func (c *Credits[TTx]) River() *river.Client[TTx] { return c.river }

// EnqueueTx writes a credit in the app's transaction tx: when tx commits, the credit will be
// delivered (exactly once, by RefillOnce); when it rolls back, there is no job. r is checked
// first (an error matches probonus.ErrInvalidInput and names the field). The same credit
// enqueued again (the same account, the amount as a decimal, the trimmed reason) is a duplicate:
// nothing is written, Enqueued.Duplicate says so. A duplicate with another burn date returns
// ErrBurnDateDiffers with the Enqueued: the first burn date stands.
func (c *Credits[TTx]) EnqueueTx(ctx context.Context, tx TTx, r probonus.Refill) (*Enqueued, error) {
	args, err := ArgsOf(r)
	if err != nil {
		return nil, err
	}
	res, err := c.river.InsertTx(ctx, tx, args, c.insertOpts())
	return c.enqueued(args, res, err)
}

// Enqueue writes a credit in a transaction of its own, for apps whose own data lives in another
// database (MySQL has no River driver). It is a durable spool, not an outbox: call it after the
// app's commit, and a process that dies between the commit and Enqueue's return loses the
// credit (and Enqueue failing after the commit leaves the app to retry it). The app closes that
// gap itself, e.g. by re-enqueueing orders completed in the last hour at start-up: a duplicate
// is harmless.
func (c *Credits[TTx]) Enqueue(ctx context.Context, r probonus.Refill) (*Enqueued, error) {
	args, err := ArgsOf(r)
	if err != nil {
		return nil, err
	}
	res, err := c.river.Insert(ctx, args, c.insertOpts())
	return c.enqueued(args, res, err)
}

func (c *Credits[TTx]) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       c.cfg.Queue,
		MaxAttempts: c.cfg.MaxAttempts,
		// By queue too: a queue per ProBonus installation keeps their keys apart, as RefillOnce's
		// key holds the installation.
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByQueue: true, ByState: uniqueStates},
	}
}

func (c *Credits[TTx]) enqueued(args RefillArgs, res *rivertype.JobInsertResult, err error) (*Enqueued, error) {
	if err != nil {
		return nil, fmt.Errorf("probonusriver: enqueueing a credit: %w", err)
	}
	e := &Enqueued{JobID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate, Args: args}
	if !e.Duplicate {
		return e, nil
	}
	var earlier RefillArgs // fresh: decoding into args would write through its BurnDate pointer
	if err := json.Unmarshal(res.Job.EncodedArgs, &earlier); err != nil {
		return e, fmt.Errorf("probonusriver: reading the earlier job's args: %w", err)
	}
	e.Args = earlier
	if !sameDate(e.Args.BurnDate, args.BurnDate) {
		return e, fmt.Errorf("%w: job %d burns on %s, this one on %s", ErrBurnDateDiffers, e.JobID, dateString(e.Args.BurnDate), dateString(args.BurnDate))
	}
	return e, nil
}

func sameDate(a, b *probonus.Date) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func dateString(d *probonus.Date) string {
	if d == nil {
		return "the group's rule"
	}
	return d.String()
}
