package probonus

import "context"

// ChecksService reads guests' checks.
type ChecksService service

// GetByID returns a check down to its dishes; Transaction.CheckID names one. ErrNotFound when absent.
func (s *ChecksService) GetByID(ctx context.Context, checkID int64) (_ *Check, err error) {
	defer nameInputOp(&err, "Checks.GetByID")
	if err := requireID("checkID", checkID); err != nil {
		return nil, err
	}
	q := encodeQuery(qInt(qCheckID, checkID))
	return fetch[Check](ctx, s.c, &call{endpoint: epCheckGetByID, query: q})
}
