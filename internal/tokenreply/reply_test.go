package tokenreply

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplySpellings (issue 28 §1): one reading of a token answer for the SDK and the CLI, in
// either spelling; camelCase wins when both are there.
func TestReplySpellings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body, access, refresh string
		lifetime              time.Duration
	}{
		{`{"accessToken":"a","refreshToken":"r","expiresIn":900}`, "a", "r", 15 * time.Minute},
		{`{"access_token":"a","refresh_token":"r","expires_in":"7200"}`, "a", "r", 2 * time.Hour},
		{`{"accessToken":"a","access_token":"b","expires_in":60,"expiresIn":120}`, "a", "", 2 * time.Minute},
		{`{"accessToken":"opaque"}`, "opaque", "", 0},
	} {
		var r Reply
		require.NoError(t, json.Unmarshal([]byte(tc.body), &r), tc.body)
		assert.Equal(t, tc.access, r.Access(), tc.body)
		assert.Equal(t, tc.refresh, r.Refresh(), tc.body)
		d, ok := r.Lifetime()
		assert.Equal(t, tc.lifetime != 0, ok, tc.body)
		assert.Equal(t, tc.lifetime, d, tc.body)
	}
}
