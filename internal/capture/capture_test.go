package capture

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/internal/fixture"
)

func TestTransportNeverWrites(t *testing.T) {
	t.Parallel()
	tr := &transport{next: http.DefaultTransport, got: map[string]*fixture.Response{}}
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		req, _ := http.NewRequest(m, "http://127.0.0.1:1/api/v0/accounts/refill", nil)
		_, err := tr.RoundTrip(req)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refusing")
	}
}
