package probonus

import (
	"context"
	"net/http"
)

// Authenticator adds credentials to a request. The client calls it before every attempt, and only
// for requests to the base URL's scheme, host and port. WithAPIKey and WithLogin are two
// implementations; a user can write a third (a token from a vault, say) and pass it to WithAuth.
type Authenticator interface {
	// Authenticate sets the credential headers on req. It may block (to fetch a token) until ctx ends.
	Authenticate(ctx context.Context, req *http.Request) error
}

// Invalidator is an Authenticator that can recover when the server rejects its credentials
// (a 401, or a 403 / 422 about credentials). The client calls Invalidate with the rejected request
// and, when it returns true and the body can be re-sent, replays the request once.
type Invalidator interface {
	Invalidate(rejected *http.Request) bool
}

// credential holds a secret in a closure: fmt and reflection print a func as an address, so no
// %v, %+v or %#v of any value holding one, however deep, can show the credential.
type credential func() string

func newCredential(s string) credential { return func() string { return s } }

// apiKeyAuth sends a permanent API token in X-API-Key.
type apiKeyAuth struct{ key credential }

func (a apiKeyAuth) Authenticate(_ context.Context, req *http.Request) error {
	req.Header[apiKeyHeader] = []string{a.key()}
	return nil
}

// apiKeyHeader is X-API-Key in Go's canonical form, spelled out to spare a conversion per request.
var apiKeyHeader = http.CanonicalHeaderKey("X-API-Key")

// String never shows the key.
func (a apiKeyAuth) String() string { return "probonus.APIKey(redacted)" }

// GoString never shows the key.
func (a apiKeyAuth) GoString() string { return a.String() }
