package probonus

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From the fast paths of issue 11 (fastpath_test.go).
// TestBasePathCostsOneString: under a base path (a proxy's prefix) a call joins it to the
// endpoint's path once, for the URL and for its errors alike.
// Not parallel: AllocsPerRun counts the allocations of every goroutine.
func TestBasePathCostsOneString(t *testing.T) {
	allocs := func(base string) float64 {
		c, err := New(WithBaseURL(base), WithAPIKey(testAPIKey), WithHTTPClient(&http.Client{Transport: stubTransport{}}))
		require.NoError(t, err)
		return testing.AllocsPerRun(200, func() {
			_, _ = c.AccountGroups.List(context.Background())
		})
	}
	assert.Equal(t, allocs("http://probonus.test")+1, allocs("http://probonus.test/pb"))
}
