package statuswriter

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStatus: the first status written is kept; a body without one is a 200.
func TestStatus(t *testing.T) {
	t.Parallel()
	w := &Writer{ResponseWriter: httptest.NewRecorder()}
	w.WriteHeader(http.StatusTeapot)
	w.WriteHeader(http.StatusOK)
	assert.Equal(t, http.StatusTeapot, w.Status)

	w = &Writer{ResponseWriter: httptest.NewRecorder()}
	_, _ = w.Write([]byte("x"))
	w.Flush()
	assert.Equal(t, http.StatusOK, w.Status)
	assert.False(t, w.Hijacked)
}
