package probonus

// Tests of the request path's fast paths (issue 11): each one's edge cases, so that being cheaper
// never changes what a call does.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttemptTimer: an attempt is bounded by the attempt timeout or the caller's deadline,
// whichever ends first, whether or not it made a timer of its own; and a caller's cancel reaches
// the request either way.
func TestAttemptTimer(t *testing.T) {
	t.Parallel()
	const timeout = 30 * time.Second
	for _, tt := range []struct {
		name      string
		deadline  time.Duration // the caller's; 0: none
		wantTimer bool
	}{
		{"no deadline", 0, true},
		{"a deadline after the attempt timeout", time.Hour, true},
		{"a deadline before the attempt timeout", 10 * time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			assert.Equal(t, tt.wantTimer, attemptTimerNeeded(ctx, timeout))

			c, mt := setup(t, WithTimeout(timeout))
			var got time.Time
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
				dl, ok := req.Context().Deadline()
				require.True(t, ok, "every attempt has a deadline")
				got = dl
				return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}}, nil
			})
			before := time.Now()
			require.NoError(t, c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil))
			if cdl, ok := ctx.Deadline(); ok && !tt.wantTimer {
				assert.Equal(t, cdl, got, "the caller's deadline, which comes first")
			} else {
				assert.False(t, got.Before(before.Add(timeout)), "the attempt timeout")
				assert.False(t, got.After(time.Now().Add(timeout)), "the attempt timeout")
			}
		})
	}

	t.Run("a cancel without a timer of the attempt's own", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t, WithTimeout(timeout))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.False(t, attemptTimerNeeded(ctx, timeout))
		mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
			cancel()
			<-req.Context().Done()
			return nil, req.Context().Err()
		})
		err := c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 1, mt.GetTotalCallCount(), "a cancelled call is not retried")
	})
}
