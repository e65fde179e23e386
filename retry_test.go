package probonus_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

// rvCancelOnRetry cancels the call's context as soon as an attempt says another will follow.
type rvCancelOnRetry struct{ cancel context.CancelFunc }

func (o rvCancelOnRetry) CallStart(ctx context.Context, _ *probonus.Call) context.Context { return ctx }

func (o rvCancelOnRetry) AttemptStart(ctx context.Context, _ *probonus.Attempt) context.Context {
	return ctx
}

func (o rvCancelOnRetry) CallEnd(context.Context, *probonus.Call) {}

func (o rvCancelOnRetry) AttemptEnd(_ context.Context, a *probonus.Attempt) {
	if a.RetryReason != "" {
		o.cancel()
	}
}

// From the adversarial review of issues 9 and 10.
// TestReviewCancelledBackoffRepeatsTheRequest (clarity). A context that ends while the client
// waits to retry gives "probonus: GET /api/v0/account_groups/list: waiting to retry after probonus:
// GET /api/v0/account_groups/list: 503 Service Unavailable: context canceled": the request named
// twice, the kind of repetition issue 10 #17 removed elsewhere. Fix: wrap the attempt's error
// without its prefix (or wrap it as "%w (then %w while waiting to retry)").
func TestReviewCancelledBackoffRepeatsTheRequest(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := probonus.New(probonus.WithBaseURL(srv.URL), probonus.WithAPIKey("backoff-review-key"), probonus.WithObserver(rvCancelOnRetry{cancel}))
	require.NoError(t, err)
	_, err = c.AccountGroups.List(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, probonus.ErrServer)
	assert.Equal(t, 1, strings.Count(err.Error(), "/api/v0/account_groups/list"), "%v", err)
}
