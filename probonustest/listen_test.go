package probonustest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestTimeoutsLeaveFaultsAlone: WithTimeouts bounds reading a request, not answering it: a delayed
// answer still takes as long as its fault says (net/http clears the read deadline once the body
// is read; this holds it to that).
func TestTimeoutsLeaveFaultsAlone(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithTimeouts(probonustest.Timeouts{
		ReadHeader: 50 * time.Millisecond, Read: 50 * time.Millisecond, Idle: 50 * time.Millisecond}))
	srv.Inject("GET", probonustest.PathAccountGroupsList, probonustest.Fault{Delay: 300 * time.Millisecond})
	resp, _, groups := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
	require.Equal(t, 200, resp.StatusCode, "the delayed answer came")
	assert.Len(t, groups, 2)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, 200, reqs[0].Status)
}
