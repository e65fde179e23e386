package probonusriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/riverqueue/river"
)

// metaKey is the job metadata key under which the worker keeps what River cannot know.
const metaKey = "probonus"

// jobMeta is the memory of a credit's attempts that moves with its job, from one attempt, process
// or rescue to the next.
type jobMeta struct {
	// UncertainAt is when the last attempt that ended with ErrOutcomeUnknown ended, and Settle the
	// settle time then: no attempt looks before UncertainAt+Settle.
	UncertainAt time.Time     `json:"uncertainAt,omitzero"`
	Settle      time.Duration `json:"settle,omitempty"`
	// MayBeApplied is set once any attempt sent the credit without a definitive answer.
	MayBeApplied bool `json:"mayBeApplied,omitempty"`
	// Ended counts the attempts whose end the worker recorded (snoozes excluded, as River does):
	// an attempt River counts beyond it died or was rescued, with a send maybe on its way.
	Ended int `json:"ended,omitempty"`
	// TransactionID is the credit's, once delivered.
	TransactionID  int64 `json:"transactionId,omitempty"`
	AlreadyApplied bool  `json:"alreadyApplied,omitempty"`
}

func readMeta(raw []byte) jobMeta {
	var m struct {
		P jobMeta `json:"probonus"`
	}
	_ = json.Unmarshal(raw, &m) // metadata written by someone else reads as none
	return m.P
}

// rescueMargin is kept between a worker's last possible send settling and River's rescue.
const rescueMargin = time.Second

// ErrTooOld matches the error of a credit cancelled (or a Retry refused) because its job is older
// than the lookback RefillOnce can verify, less the margin: a send now could double a credit an
// earlier attempt applied, which a look would no longer find.
var ErrTooOld = errors.New("probonusriver: the credit is too old to verify: not sent")

type refillWorker struct {
	river.WorkerDefaults[RefillArgs]
	cfg    *resolved
	client *probonus.Client
	log    *slog.Logger
}

// Timeout fits a whole RefillOnce (JobTimeout).
func (w *refillWorker) Timeout(*river.Job[RefillArgs]) time.Duration { return w.cfg.jobTimeout }

// Work delivers one credit with RefillOnce and maps its outcome to River's.
func (w *refillWorker) Work(ctx context.Context, job *river.Job[RefillArgs]) error {
	meta := readMeta(job.Metadata)
	now := w.cfg.now()
	// An attempt that ends here (not a snooze) is recorded as ended, whatever it returns.
	end := func(m jobMeta) { m.Ended++; _ = river.MetadataSet(ctx, metaKey, m) }

	if age := now.Sub(job.CreatedAt); age > w.cfg.tooOld {
		end(meta)
		w.log.WarnContext(ctx, "probonusriver: credit cancelled: too old to verify", slog.Int64("job", job.ID),
			slog.Int64("account", job.Args.AccountID), slog.Duration("age", age.Round(time.Second)),
			slog.Bool("may_be_applied", mayBeApplied(meta, job.Attempt-1)))
		return river.JobCancel(fmt.Errorf("%w: enqueued %s ago, RefillOnce verifies %s back less a margin of %s",
			ErrTooOld, age.Round(time.Second), w.cfg.Lookback, w.cfg.LookbackMargin))
	}
	// An earlier attempt's uncertain send (this process's or another's, before a retry or a
	// graceful hand-off) may still be on its way: do not look before it has settled.
	if until := meta.UncertainAt.Add(meta.Settle); !meta.UncertainAt.IsZero() && until.After(now) {
		return river.JobSnooze(until.Sub(now))
	}
	r, err := job.Args.Refill()
	if err != nil {
		end(meta)
		return river.JobCancel(err)
	}
	// River rescues a job still running RescueStuckJobsAfter after its AttemptedAt, which the
	// fetch set: the job timeout runs from this call, which a loaded process may begin late.
	// Every send must end a settle time before the rescue, or a rescued copy could look before
	// it is applied: the deadline is the rescue's, less the settle time and a margin. Too little
	// time left: hand the job back untouched, to be fetched afresh.
	if job.AttemptedAt != nil {
		sendBy := job.AttemptedAt.Add(w.cfg.rescueAfter - w.cfg.Settle - rescueMargin)
		if time.Until(sendBy) < w.cfg.AttemptTimeout {
			return river.JobSnooze(0)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, sendBy)
		defer cancel()
	}
	res, err := w.client.Accounts.RefillOnce(ctx, r)
	if err == nil {
		// Delivered (RefillOnce never returns a result with an error; a balance it could not
		// read after finding the credit is res.BalanceErr, not the credit's concern).
		meta.TransactionID, meta.AlreadyApplied = res.TransactionID, res.AlreadyApplied
		end(meta)
		return nil
	}
	uncertain := errors.Is(err, probonus.ErrOutcomeUnknown)
	if uncertain {
		meta.UncertainAt, meta.Settle, meta.MayBeApplied = w.cfg.now(), w.cfg.Settle, true
		w.log.WarnContext(ctx, "probonusriver: a credit's send had no definitive answer; the next attempt looks once it has settled",
			slog.Int64("job", job.ID), slog.Int64("account", job.Args.AccountID), slog.Duration("settle", w.cfg.Settle))
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// A shutdown: hand the job on, costing no attempt, but not to be looked at before an
		// uncertain send has settled (the next attempt snoozes until then).
		_ = river.MetadataSet(ctx, metaKey, meta) // a snooze: River does not count the attempt
		return river.JobSnooze(0)
	}
	var apiErr *probonus.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.RetryAfter > 0 &&
		(apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode == http.StatusServiceUnavailable):
		// The server asks to wait (after the SDK's own retries). A POST answered so may have
		// been applied (the SDK says so): then the wait is at least the settle time.
		d := apiErr.RetryAfter
		if uncertain {
			d = max(d, w.cfg.Settle)
		}
		_ = river.MetadataSet(ctx, metaKey, meta) // a snooze: River does not count the attempt
		return river.JobSnooze(d)
	}
	end(meta)
	switch {
	case uncertain:
		return err // River retries; the next attempt waits for the settle time, then looks
	case errors.Is(err, probonus.ErrInvalidInput), errors.Is(err, probonus.ErrNotFound),
		errors.Is(err, probonus.ErrValidation), errors.Is(err, probonus.ErrBadRequest):
		// Sending it again would meet the same refusal.
		return river.JobCancel(err)
	default:
		// The server down, a coordinator unavailable, a 5xx: nothing was applied, River retries.
		return err
	}
}

// mayBeApplied says whether any of a job's attempts (River's count) may have applied its credit:
// one ended without a definitive answer, or one ended without the worker recording how (its
// process died, River rescued it).
func mayBeApplied(m jobMeta, attempts int) bool {
	return m.MayBeApplied || attempts > m.Ended
}
