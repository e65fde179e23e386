package probonus_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

// From the write-outcome suite of issue 9 (at the byte level).
// TestDoChecksOutBeforeSending: a POST is not applied only for the caller to learn that out was
// unusable.
func TestDoChecksOutBeforeSending(t *testing.T) {
	t.Parallel()
	srv := newWireServer(t, func(conn net.Conn, n int32, apply func()) bool {
		apply()
		answer(conn, 200, "application/json", okBody)
		return true
	})
	c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey("wire-test-key"))
	require.NoError(t, err)
	var nilMap *map[string]any
	for name, out := range map[string]any{"a map value": map[string]any{}, "a struct value": probonus.RefillResult{}, "a nil pointer": nilMap} {
		err := c.Do(context.Background(), http.MethodPost, "/api/v0/accounts/refill", nil, map[string]any{"accountId": 1}, out)
		var input *probonus.InputError
		require.ErrorAs(t, err, &input, name)
		assert.Equal(t, "out", input.Field)
	}
	assert.Zero(t, srv.seen.Load(), "nothing was sent")
	require.NoError(t, c.Do(context.Background(), http.MethodPost, "/api/v0/accounts/refill", nil, map[string]any{"accountId": 1}, nil), "a nil out discards the body")
	assert.Equal(t, int32(1), srv.applied.Load())
}
