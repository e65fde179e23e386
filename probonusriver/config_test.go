package probonusriver

import (
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/stretchr/testify/assert"
)

// issue 27: River's default backoff, as DefaultMaxAttempts's comment states it: 15 attempts in
// about 35 hours, River's own 25 in about 20 days.
func TestRiverBackoff(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 127687*time.Second, riverBackoff(15))
	assert.Equal(t, 1763020*time.Second, riverBackoff(25))
}

// issue 27: the job timeout fits every send RefillOnce may make, with its settle and looks.
func TestJobTimeoutFitsAWholeRefillOnce(t *testing.T) {
	t.Parallel()
	// Defaults: 3 sends, 30s attempts, 30s Retry-After cap: a request with its retries is 150s.
	d := JobTimeout(probonus.DefaultTimeout, probonus.DefaultTimeout, probonus.RetryPolicy{})
	assert.Equal(t, 300*time.Second+3*(150+30+300)*time.Second+150*time.Second, d)
	assert.Less(t, d+probonus.DefaultTimeout, time.Hour, "River's default rescue delay still holds")
}
