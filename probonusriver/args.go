package probonusriver

import (
	"strings"

	"github.com/probonus-go/probonus"
	"github.com/riverqueue/river/rivertype"
)

// Kind is the River job kind of a credit. The version is part of it: a future change of the
// key or of the args is a new kind, whose jobs never meet rows written under this one.
const Kind = "probonus_refill_v1"

// RefillArgs is a credit as River stores it: RefillOnce's key in canonical form, so that River's
// unique-by-args hash, taken over this JSON, is one per key: "50" and "50.00" are one amount,
// " Order 7\n" and "Order 7" one reason.
type RefillArgs struct {
	AccountID int64  `json:"account" river:"unique"`
	Amount    string `json:"amount" river:"unique"` // an exact decimal with two places, "50.00"
	Reason    string `json:"reason" river:"unique"` // trimmed
	// BurnDate is not part of the key (RefillOnce's key is account, amount and reason, and the
	// history it looks in does not show it): a second enqueue with another burn date is the same
	// credit, and the first one's burn date stands.
	BurnDate *probonus.Date `json:"burnDate,omitempty"`
}

// Kind is River's name for the job.
func (RefillArgs) Kind() string { return Kind }

// ArgsOf checks r as RefillOnce would, before anything is written, and returns its canonical
// args. An error matches probonus.ErrInvalidInput and names the field.
func ArgsOf(r probonus.Refill) (RefillArgs, error) {
	if r.AccountID <= 0 {
		return RefillArgs{}, &probonus.InputError{Field: "Refill.AccountID", Reason: "must be positive"}
	}
	if r.Amount.Sign() <= 0 {
		return RefillArgs{}, &probonus.InputError{Field: "Refill.Amount", Reason: "must be positive"}
	}
	if _, ok := r.Amount.Minor(); !ok {
		return RefillArgs{}, &probonus.InputError{Field: "Refill.Amount", Reason: "has a fraction of a kopeck or is too large"}
	}
	if r.Reason == nil || strings.TrimSpace(*r.Reason) == "" {
		return RefillArgs{}, &probonus.InputError{Field: "Refill.Reason", Reason: "is required: it is the credit's idempotency key"}
	}
	return RefillArgs{
		AccountID: r.AccountID,
		Amount:    r.Amount.String(), // StringFixed(2)
		Reason:    strings.TrimSpace(*r.Reason),
		BurnDate:  r.BurnDate,
	}, nil
}

// Refill is the credit the args hold.
func (a RefillArgs) Refill() (probonus.Refill, error) {
	amount, err := probonus.ParseAmount(a.Amount)
	if err != nil {
		return probonus.Refill{}, &probonus.InputError{Field: "RefillArgs.Amount", Reason: "is not a decimal"}
	}
	reason := a.Reason
	return probonus.Refill{AccountID: a.AccountID, Amount: amount, Reason: &reason, BurnDate: a.BurnDate}, nil
}

// uniqueStates: one job per credit in every state, so a webhook delivered again while its credit
// is stuck (cancelled, discarded) is a duplicate of the stuck job, which Retry sends, rather than
// a second job beside it.
var uniqueStates = rivertype.JobStates()
