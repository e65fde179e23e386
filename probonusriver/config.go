package probonusriver

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/riverqueue/river"
)

// Defaults of Config.
const (
	// DefaultQueue is the River queue the credits go through.
	DefaultQueue = "probonus_credits"
	// DefaultMaxAttempts is how many attempts River gives a credit: with River's backoff
	// (attempt⁴ seconds) the 15th comes about 35 hours after the first, well inside the 30 days
	// RefillOnce looks back (River's own default, 25, backs off for about 20 days).
	DefaultMaxAttempts = 15
	// DefaultWorkers is how many credits one process sends at a time.
	DefaultWorkers = 10
)

// The SDK's retry defaults (probonus.RetryPolicy's documented ones): the job timeout is sized
// from them when Config.Retry leaves a field zero.
const (
	sdkMaxAttempts   = 3
	sdkMaxBackoff    = 5 * time.Second
	sdkMaxRetryAfter = 30 * time.Second
)

// Config sets up Credits. Only ClientOptions is required.
//
// The timing fields are passed to the probonus.Client the workers use (after ClientOptions, so
// they win): the module sizes River's job timeout and rescue delay from them, so it has to know
// them, and it could not read them back from a Client.
type Config struct {
	// ClientOptions make the probonus.Client the workers credit with: WithBaseURL and the
	// credentials at least, WithRefillCoordinator when credits of the same key are also made
	// outside this queue (see the package documentation).
	ClientOptions []probonus.Option
	// AttemptTimeout is each HTTP attempt's timeout (probonus.WithTimeout); default
	// probonus.DefaultTimeout.
	AttemptTimeout time.Duration
	// Retry is the SDK's retry policy for each request (probonus.WithRetry); zero fields take the
	// SDK's defaults.
	Retry probonus.RetryPolicy
	// Settle is how long an uncertain send is given to show in the history before anyone looks
	// (probonus.WithRefillSettle); default AttemptTimeout. Keep it above any delay the network or
	// the server can hold a request: a send applied after the look that missed it is applied
	// twice (RefillOnce's one remaining risk; on two overloaded cores a loopback server held
	// requests past a 300ms settle time in this module's tests).
	Settle time.Duration
	// Lookback is how far back RefillOnce looks for a credit (probonus.WithRefillLookback);
	// default probonus.DefaultRefillLookback (30 days).
	Lookback time.Duration
	// LookbackMargin: a credit whose job is older than Lookback less this margin is never sent
	// again (RefillOnce could no longer see an earlier send of it); it is cancelled as too old to
	// verify and listed by Stuck. Default Lookback/10 (3 days of 30).
	LookbackMargin time.Duration
	// MaxAttempts is how many attempts River gives a credit before discarding it; default
	// DefaultMaxAttempts. With River's default retry policy, a number whose backoff would take
	// the last attempt past half of Lookback−LookbackMargin is refused.
	MaxAttempts int
	// Queue is the River queue of the credits; default DefaultQueue. One key is one job per
	// queue: an app crediting in two ProBonus installations from one database gives each its
	// own Credits with its own queue.
	Queue string
	// Workers is how many credits this process sends at a time; default DefaultWorkers.
	// InsertOnly makes a client that enqueues and lists but never works.
	Workers    int
	InsertOnly bool
	// River is the rest of River's settings (Logger, Hooks, other queues and workers, ...), or
	// nil. The module works on a copy, with its queue added, but adds its worker to the Workers
	// bundle given (River's bundles only grow); it fills RescueStuckJobsAfter and the retention
	// periods (completed: Lookback; cancelled and discarded: kept) when they are zero. A RescueStuckJobsAfter that would let River hand
	// a job to another process before a dead worker's send has settled is refused.
	River *river.Config
	// Logger receives the module's own lines (a credit cancelled, a send left uncertain); default
	// River's logger, or slog.Default.
	Logger *slog.Logger

	now func() time.Time // the worker's clock; tests move it
}

// ErrConfig matches the error of a constructor refusing a Config.
var ErrConfig = errors.New("probonusriver: invalid config")

type configError struct{ field, reason string }

func (e *configError) Error() string {
	return fmt.Sprintf("probonusriver: Config.%s %s", e.field, e.reason)
}

func (e *configError) Is(target error) bool { return target == ErrConfig }

// resolved is a Config with its defaults filled and its derived times.
type resolved struct {
	Config
	jobTimeout  time.Duration // the whole of one RefillOnce
	rescueAfter time.Duration // River's RescueStuckJobsAfter
	tooOld      time.Duration // a job older than this is never sent
}

func (c Config) resolve() (*resolved, error) {
	if len(c.ClientOptions) == 0 {
		return nil, &configError{"ClientOptions", "is required (WithBaseURL and credentials at least)"}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"AttemptTimeout", c.AttemptTimeout}, {"Settle", c.Settle}, {"Lookback", c.Lookback}, {"LookbackMargin", c.LookbackMargin}} {
		if f.d < 0 {
			return nil, &configError{f.name, "is negative"}
		}
	}
	if c.MaxAttempts < 0 || c.Workers < 0 {
		return nil, &configError{"MaxAttempts or Workers", "is negative"}
	}
	r := &resolved{Config: c}
	r.AttemptTimeout = orDefault(c.AttemptTimeout, probonus.DefaultTimeout)
	r.Settle = orDefault(c.Settle, r.AttemptTimeout)
	r.Lookback = orDefault(c.Lookback, probonus.DefaultRefillLookback)
	r.LookbackMargin = orDefault(c.LookbackMargin, r.Lookback/10)
	if r.LookbackMargin >= r.Lookback {
		return nil, &configError{"LookbackMargin", "leaves nothing of Lookback"}
	}
	r.tooOld = r.Lookback - r.LookbackMargin
	r.MaxAttempts = cmpOr(c.MaxAttempts, DefaultMaxAttempts)
	r.Workers = cmpOr(c.Workers, DefaultWorkers)
	r.Queue = cmpOr(c.Queue, DefaultQueue)
	if c.now == nil {
		r.now = time.Now
	}
	r.jobTimeout = JobTimeout(r.AttemptTimeout, r.Settle, r.Retry)
	if c.River == nil || c.River.RetryPolicy == nil {
		if b := riverBackoff(r.MaxAttempts); b > r.tooOld/2 {
			return nil, &configError{"MaxAttempts", fmt.Sprintf("%d: River's backoff takes the last attempt %s after the first, "+
				"past half of the %s a credit can still be verified", r.MaxAttempts, b.Round(time.Hour), r.tooOld)}
		}
	}
	need := r.jobTimeout + r.Settle
	r.rescueAfter = max(time.Hour, need+time.Minute)
	if c.River != nil && c.River.RescueStuckJobsAfter != 0 {
		if c.River.RescueStuckJobsAfter <= need {
			return nil, &configError{"River.RescueStuckJobsAfter", fmt.Sprintf("(%s) must be longer than the job timeout "+
				"plus the settle time (%s): River would hand a job whose worker died to another process while "+
				"the dead worker's send may still be on its way", c.River.RescueStuckJobsAfter, need)}
		}
		r.rescueAfter = c.River.RescueStuckJobsAfter
	}
	return r, nil
}

// JobTimeout is the time one credit's job is given: every send RefillOnce may make (Retry's
// MaxAttempts), each with the SDK's own retries of the request and the settle time after it, and
// a look in the history before and after each. The module sets it as the worker's timeout; a
// job cut short by it is safe (RefillOnce never resends when its deadline leaves less than the
// settle time), only slower.
func JobTimeout(attemptTimeout, settle time.Duration, p probonus.RetryPolicy) time.Duration {
	n := time.Duration(cmpOr(p.MaxAttempts, sdkMaxAttempts))
	wait := max(orDefault(p.MaxBackoff, sdkMaxBackoff), orDefault(p.MaxRetryAfter, sdkMaxRetryAfter))
	call := n*attemptTimeout + (n-1)*wait // one request with all of its retries
	look := 2 * call                      // a look may read the history in more than one page
	return look + n*(call+settle+look) + call
}

// riverBackoff is how long after the first attempt River's default retry policy (attempt⁴
// seconds) makes the last of n.
func riverBackoff(n int) time.Duration {
	var s float64
	for i := 1; i < n; i++ {
		f := float64(i)
		s += f * f * f * f
	}
	return time.Duration(s * float64(time.Second))
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
