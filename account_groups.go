package probonus

import "context"

// AccountGroupsService lists account groups: where new guests go and which templates they get.
type AccountGroupsService service

// List returns every account group. Pick one with HaveTemplate for InsertByTemplate.
func (s *AccountGroupsService) List(ctx context.Context) (_ []AccountGroup, err error) {
	defer nameInputOp(&err, "AccountGroups.List")
	groups, err := fetch[[]AccountGroup](ctx, s.c, &call{endpoint: epAccountGroupsList})
	if err != nil {
		return nil, err
	}
	return *groups, nil
}
