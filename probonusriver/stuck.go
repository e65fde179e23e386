package probonusriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// StuckCredit is a credit that did not complete: River cancelled it (a refusal, too old to
// verify) or discarded it (its attempts ran out).
type StuckCredit struct {
	JobID     int64
	Refill    probonus.Refill
	State     rivertype.JobState // cancelled or discarded
	Attempts  int
	LastError string // the last attempt's error, as River recorded it
	// MayBeApplied is set when an attempt may have applied the credit: it ended without a
	// definitive answer, or its worker died. Before crediting by hand, look in the account's
	// history; Retry does that itself.
	MayBeApplied bool
	// TooOld is set when the credit can no longer be verified (older than Config.Lookback less
	// the margin): Retry refuses it, only a person can decide.
	TooOld      bool
	CreatedAt   time.Time
	FinalizedAt time.Time
}

// Stuck lists the credits that did not complete, oldest first.
func (c *Credits[TTx]) Stuck(ctx context.Context) ([]StuckCredit, error) {
	var out []StuckCredit
	params := river.NewJobListParams().Kinds(Kind).
		States(rivertype.JobStateCancelled, rivertype.JobStateDiscarded).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(1000)
	for {
		res, err := c.river.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("probonusriver: listing stuck credits: %w", err)
		}
		for _, j := range res.Jobs {
			s, err := c.stuck(j)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		if len(res.Jobs) == 0 || res.LastCursor == nil {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

func (c *Credits[TTx]) stuck(j *rivertype.JobRow) (StuckCredit, error) {
	var args RefillArgs
	if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
		return StuckCredit{}, fmt.Errorf("probonusriver: job %d: reading its args: %w", j.ID, err)
	}
	r, err := args.Refill()
	if err != nil {
		return StuckCredit{}, fmt.Errorf("probonusriver: job %d: %w", j.ID, err)
	}
	s := StuckCredit{
		JobID: j.ID, Refill: r, State: j.State, Attempts: j.Attempt,
		MayBeApplied: mayBeApplied(readMeta(j.Metadata), j.Attempt),
		TooOld:       c.cfg.now().Sub(j.CreatedAt) > c.cfg.tooOld,
		CreatedAt:    j.CreatedAt,
	}
	if n := len(j.Errors); n > 0 {
		s.LastError = j.Errors[n-1].Error
	}
	if j.FinalizedAt != nil {
		s.FinalizedAt = *j.FinalizedAt
	}
	return s, nil
}

// ErrNotStuck matches Retry's error for a job that is not a stuck credit.
var ErrNotStuck = errors.New("probonusriver: not a stuck credit")

// Retry puts a stuck credit back in the queue. It is safe whatever happened before: the worker
// waits out an uncertain send's settle time, then looks in the history before sending. It is
// refused (ErrTooOld) once the credit is too old to verify.
func (c *Credits[TTx]) Retry(ctx context.Context, jobID int64) error {
	j, err := c.river.JobGet(ctx, jobID)
	if err != nil {
		return fmt.Errorf("probonusriver: retrying job %d: %w", jobID, err)
	}
	if j.Kind != Kind || (j.State != rivertype.JobStateCancelled && j.State != rivertype.JobStateDiscarded) {
		return fmt.Errorf("%w: job %d is a %s job, %s", ErrNotStuck, jobID, j.Kind, j.State)
	}
	if age := c.cfg.now().Sub(j.CreatedAt); age > c.cfg.tooOld {
		return fmt.Errorf("%w: job %d was enqueued %s ago", ErrTooOld, jobID, age.Round(time.Second))
	}
	if _, err := c.river.JobRetry(ctx, jobID); err != nil {
		return fmt.Errorf("probonusriver: retrying job %d: %w", jobID, err)
	}
	return nil
}

// Dismiss deletes a stuck credit once a person has dealt with it (credited it by hand, say);
// the same credit can then be enqueued again.
func (c *Credits[TTx]) Dismiss(ctx context.Context, jobID int64) error {
	j, err := c.river.JobGet(ctx, jobID)
	if err != nil {
		return fmt.Errorf("probonusriver: dismissing job %d: %w", jobID, err)
	}
	if j.Kind != Kind || (j.State != rivertype.JobStateCancelled && j.State != rivertype.JobStateDiscarded) {
		return fmt.Errorf("%w: job %d is a %s job, %s", ErrNotStuck, jobID, j.Kind, j.State)
	}
	if _, err := c.river.JobDelete(ctx, jobID); err != nil {
		return fmt.Errorf("probonusriver: dismissing job %d: %w", jobID, err)
	}
	return nil
}
