package probonustest

import (
	"time"

	"github.com/probonus-go/probonus"
)

// TestSettings are client options for tests against the fake: a 2 s attempt timeout, retries
// 1–5 ms apart, and a RefillOnce settle time of 50 ms (the default is the 30 s attempt timeout,
// which a test that loses a refill's answer would wait out). Give them to probonus.New before your
// own options (a later option of the same kind wins).
func TestSettings() []probonus.Option {
	return []probonus.Option{
		probonus.WithTimeout(2 * time.Second),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
		probonus.WithRefillSettle(50 * time.Millisecond),
	}
}

// ClientOptions are the options of a client of this server, in one line: its URL, its API key and
// TestSettings, then extra. For the bearer login instead of the key, build them yourself:
//
//	probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(srv.URL()), probonus.WithLogin(srv.Login()))...)
func (s *Server) ClientOptions(extra ...probonus.Option) []probonus.Option {
	opts := append([]probonus.Option{probonus.WithBaseURL(s.URL()), probonus.WithAPIKey(s.APIKey())}, TestSettings()...)
	return append(opts, extra...)
}
