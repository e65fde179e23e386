package probonus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/probonus-go/probonus"
)

// From the round-3 review of issue 17.
// TestRound3ReviewBaseURLOfTheSwaggerPage
//
// Defect: WithBaseURL refuses a base ending in /api or /api/v0 because every call would be a 404
// that reads as "no such guest", but not the other URL a newcomer copies from the browser: the
// installation's Swagger page (/docs, /redoc, /openapi.json), which is where the API is documented
// ("ProBonus publishes its API only as a Swagger page inside each installation"). With it every
// FindByPhone is ErrNotFound, and the quickstart's "not found → sign up" runs for every guest.
// Reproduced: New with each URL.
// Severity: clarity (a misconfiguration that reads as data).
// Suggested fix: refuse (case-insensitively) a path ending in /docs, /redoc, /openapi.json or
// /swagger, with the same "give the server's root" message.
func TestRound3ReviewBaseURLOfTheSwaggerPage(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:11030/docs", "http://127.0.0.1:11030/redoc", "http://127.0.0.1:11030/openapi.json"} {
		_, err := probonus.New(probonus.WithBaseURL(u), probonus.WithAPIKey("k-000000"))
		assert.Error(t, err, "%s is the Swagger page, not the server's root", u)
	}
}
