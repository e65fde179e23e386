package probonus

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From the hardening of issue 10.
// TestEmptyAndNonJSONSuccessBodies: a 204 or an empty 200 into a non-nil out succeeds and leaves out
// as it was; with a nil out any 2xx body is read and discarded.
func TestEmptyAndNonJSONSuccessBodies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		body   string
		out    bool
	}{
		{204, "", true}, {200, "", true}, {200, "  \n", true},
		{204, "", false}, {200, "OK", false}, {201, "<html>created</html>", false}, {200, `{"a":1}`, false},
	} {
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/x"), httpmock.NewStringResponder(tt.status, tt.body))
		if tt.out {
			out := map[string]any{"kept": true}
			require.NoError(t, c.Do(context.Background(), http.MethodPost, "/api/v0/x", nil, nil, &out), "%d %q", tt.status, tt.body)
			assert.Equal(t, map[string]any{"kept": true}, out)
		} else {
			require.NoError(t, c.Do(context.Background(), http.MethodPost, "/api/v0/x", nil, nil, nil), "%d %q", tt.status, tt.body)
		}
	}
	// a body that is not JSON into a non-nil out is still a DecodeError
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, "OK"))
	var out map[string]any
	var de *DecodeError
	require.ErrorAs(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, &out), &de)
}
