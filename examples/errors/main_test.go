package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorsExample(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(nil, func(string) string { return "" }, &out)
	require.Equal(t, 0, code, out.String())
	for _, line := range []string{
		`errors.As(*InputError): field "phone"`,
		`errors.As(*InputError): field "Refill.Amount", has a fraction of a kopeck`,
		"errors.Is(probonus: not found)",
		"errors.Is(probonus: unauthorized)",
		"errors.Is(probonus: bad request)",
		"body.amount: Input should be greater than 0",
		"errors.Is(probonus: server error)",
		"a 429 with Retry-After: 1, then success (2 groups)\n   err: <nil>",
		"errors.Is(context.DeadlineExceeded)",
		"(not resent: the server may have acted on it)",
		"refills went from 1 to 2",
	} {
		assert.Contains(t, out.String(), line)
	}
}
