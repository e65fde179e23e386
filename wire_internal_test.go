package probonus

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From the fast paths of issue 11 (fastpath_test.go).
// TestWireTraceHooks: a write to net/http's own transport is traced with GotConn alone; through
// any other transport GetConn is added, to tell a trace that reached net/http from one that did not.
func TestWireTraceHooks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		transport http.RoundTripper
		getConn   bool
	}{
		{"net/http's transport", &http.Transport{}, false},
		{"http.DefaultTransport", nil, false},
		{"a wrapper", &headerScribbler{}, true},
	} {
		c, err := New(WithBaseURL(testBase), WithAPIKey(testAPIKey), WithHTTPClient(&http.Client{Transport: tt.transport}))
		require.NoError(t, err)
		u := *c.baseURL
		_, wt, err := c.newRequest(context.Background(), http.MethodPost, &u, []byte(`{}`), false)
		require.NoError(t, err)
		assert.NotNil(t, wt.trace.GotConn, tt.name)
		assert.Equal(t, tt.getConn, wt.trace.GetConn != nil, tt.name)
		assert.Nil(t, wt.trace.WroteRequest, tt.name)
	}
}

// stubTransport answers every request with 204 and no body, from memory.
type stubTransport struct{}

func (stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}
