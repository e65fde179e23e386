package probonus

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From the hardening of issue 10.
// TestLogOfATransportFailure: a failure without a status logs its error, a retry is a warning,
// and the failed call ends with a warning of its own.
func TestLogOfATransportFailure(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c, mt := setup(t, WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), failAfterConnect)
	require.Error(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 4, buf.String())
	for _, l := range lines[:3] {
		assert.Contains(t, l, "status=0")
		assert.Contains(t, l, `error="probonus: GET /pb/api/v0/x: read tcp: connection reset by peer"`)
	}
	assert.Contains(t, lines[0], "level=WARN")
	assert.Contains(t, lines[0], `retry="connection error"`)
	assert.Contains(t, lines[2], "level=DEBUG", "the last attempt is not retried")
	assert.Contains(t, lines[3], `level=WARN msg="probonus call failed" op=Do method=GET attempts=3`)
	assert.NotContains(t, buf.String(), "path=", "a Do call's literal path is no template (issue 17 #10)")
	assert.Contains(t, lines[3], "outcome_unknown=false")
	assert.NotContains(t, buf.String(), testAPIKey)
}

// silentObserver observes nothing: what an observer costs the request path beyond itself.
type silentObserver struct{}

func (silentObserver) CallStart(ctx context.Context, _ *Call) context.Context { return ctx }

func (silentObserver) CallEnd(context.Context, *Call) {}

func (silentObserver) AttemptStart(ctx context.Context, _ *Attempt) context.Context { return ctx }

func (silentObserver) AttemptEnd(context.Context, *Attempt) {}

// From the fast paths of issue 11 (fastpath_test.go).
// TestNoObserverCostsNothing (issue 13): a Call, an Attempt and the Attempt's Header map are made
// only for observers, so a call without one allocates at least three times less than a call with
// one that does nothing; anything made for observers regardless would narrow the gap.
// Not parallel: AllocsPerRun counts the allocations of every goroutine.
func TestNoObserverCostsNothing(t *testing.T) {
	allocs := func(opts ...Option) float64 {
		c, err := New(append([]Option{WithBaseURL(testBase), WithAPIKey(testAPIKey),
			WithHTTPClient(&http.Client{Transport: stubTransport{}})}, opts...)...)
		require.NoError(t, err)
		return testing.AllocsPerRun(200, func() {
			_, _ = c.AccountGroups.List(context.Background())
		})
	}
	none, one := allocs(), allocs(WithObserver(silentObserver{}))
	assert.GreaterOrEqual(t, one-none, 3.0, "without an observer: %v allocations; with one: %v", none, one)
}
