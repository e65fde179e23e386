package probonus

import (
	"net/http"
	"slices"
	"sync"

	"github.com/probonus-go/probonus/internal/redact"
)

// The rules of redaction (the forms of a secret, what is removed where, redact-then-cut and the
// start of a secret a cut leaves) live in internal/redact, shared with the command-line tool. What
// is here is which secrets an attempt holds and what of an error they are removed from. It runs
// only on the error path, and always before anything is cut.

// redactAPIError removes the secrets from everything e keeps of the answer: its body, detail,
// request id and validation items (Pydantic v2 puts the refused input in them). It runs before e
// is cut.
func redactAPIError(s *redact.Set, e *APIError) {
	if s.Empty() {
		return
	}
	e.Body = s.Redact(e.Body)
	e.Detail = s.Redact(e.Detail)
	e.RequestID = s.Redact(e.RequestID)
	for i := range e.Validation {
		v := &e.Validation[i]
		v.Input = redact.Input(v.Input, s.Redact)
		v.Msg = s.Redact(v.Msg)
		for k, x := range v.Ctx {
			v.Ctx[k] = redact.Value(x, s.Redact)
		}
		for j, p := range v.Loc {
			if str, ok := p.(string); ok {
				v.Loc[j] = s.Redact(str)
			}
		}
	}
}

// attemptSecrets is every credential an attempt's answer may echo: the values of the request's
// headers other than the plain ones and the observers' (X-API-Key, an Authenticator's own header,
// a bearer token alone), a login's password or refresh token, and the credentials the client holds.
// The requests are the one the client built and the one the transport sent (resp.Request), which
// a RoundTripper below the client may have given a credential of its own (an OAuth token).
func (c *Client) attemptSecrets(at *Attempt, cl *call, reqs ...*http.Request) *redact.Set {
	var found []string
	for _, req := range reqs {
		if req == nil {
			continue
		}
		for k, vs := range req.Header {
			if redact.PlainHeader(k) || at != nil && at.Header[k] != nil {
				continue
			}
			for _, v := range vs {
				found = append(found, redact.HeaderSecrets(v)...)
			}
		}
	}
	// The client's own credentials are known to be secrets, short or not.
	s := c.held.set(append(c.heldSecrets(), cl.secret))
	s.AddSeen(found...)
	return s
}

// heldForms keeps the set of the client's own credentials between errors: every form of a
// password with many characters to escape takes milliseconds to make, which a storm of error
// answers would pay at each attempt. It is made again when the credentials change (a new token).
type heldForms struct {
	mu   sync.Mutex
	held []string
	s    *redact.Set
}

// set is a copy of the set of held, for the caller to add to.
func (h *heldForms) set(held []string) *redact.Set {
	if h == nil { // a Client not made by New
		s := redact.New()
		s.Add(held...)
		return s
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.s == nil || !slices.Equal(h.held, held) {
		h.held, h.s = held, redact.New()
		h.s.Add(held...)
	}
	return h.s.Clone()
}

// heldSecrets are the credentials of the client's own Authenticators.
func (c *Client) heldSecrets() []string {
	switch a := c.auth.(type) {
	case apiKeyAuth:
		return []string{a.key()}
	case *loginAuth:
		return a.secrets()
	}
	return nil
}
