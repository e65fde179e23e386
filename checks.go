package probonus

import (
	"context"
	"net/url"
	"strconv"
)

// ChecksService reads guests' checks.
type ChecksService service

// GetByID returns a check down to its dishes; Transaction.CheckID names one. ErrNotFound when absent.
func (s *ChecksService) GetByID(ctx context.Context, checkID int64) (_ *Check, err error) {
	defer inOp(&err, "Checks.GetByID")
	if err := requireID("checkID", checkID); err != nil {
		return nil, err
	}
	q := url.Values{qCheckID: {strconv.FormatInt(checkID, 10)}}
	return fetch[Check](ctx, s.c, &call{endpoint: epCheckGetByID, query: q})
}
