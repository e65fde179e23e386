package probonus_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/internal/capture"
	"github.com/probonus-go/probonus/internal/fixture"
)

// TestRecordedFixturesAreTheContract holds fixtures recorded from a real server (make record, into
// testdata/recorded) to the same contract as the hand-written ones: strict decoding, round trip.
func TestRecordedFixturesAreTheContract(t *testing.T) {
	t.Parallel()
	recorded, err := filepath.Glob("testdata/recorded/*/*.http")
	require.NoError(t, err)
	for _, path := range recorded {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(path), "testdata/recorded/"), ".http")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := fixture.Load(path)
			require.NoError(t, err)
			newV := capture.TypeFor(name)
			require.NotNil(t, newV, "a recorded fixture of an unknown name")
			if f.Status == 200 {
				assert.NoError(t, fixture.Contract(f.Body, newV()))
			}
		})
	}
}
