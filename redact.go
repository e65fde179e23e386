package probonus

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/probonus-go/probonus/internal/redact"
)

// redactMask replaces a secret wherever it was echoed.
const redactMask = "[redacted]"

// redactor removes a set of secrets, in every form a server may echo them, from the text of an
// error. It is made only on the error path, and always before anything is cut: a cut inside a
// secret would leave most of it behind.
type redactor struct{ forms []string } // longest first, so a form that contains another is replaced whole

// newRedactor makes a redactor for secrets found in a request's headers; those shorter than 6
// bytes are left out (a header value such as "1" would mask every digit of a message).
func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		r.add(s, 6)
	}
	return r.sorted()
}

// add adds the forms of s when it is at least min bytes long.
func (r *redactor) add(s string, min int) {
	if len(s) < min {
		return
	}
	for _, f := range secretForms(s) {
		if !slices.Contains(r.forms, f) {
			r.forms = append(r.forms, f)
		}
	}
}

func (r *redactor) sorted() *redactor {
	slices.SortFunc(r.forms, func(a, b string) int { return len(b) - len(a) })
	return r
}

// longest is the length of the longest form: a cut at n can only reach into a secret that starts
// before n+longest.
func (r *redactor) longest() int {
	if len(r.forms) == 0 {
		return 0
	}
	return len(r.forms[0])
}

// redact replaces every form of every secret in s.
func (r *redactor) redact(s string) string {
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, redactMask)
		}
	}
	return s
}

// cut redacts s, then keeps at most n bytes of it (on a rune boundary), and drops a trailing
// fragment that is the start of a secret: what a cut inside an echoed secret would leave.
func (r *redactor) cut(s string, n int) string {
	s = r.redact(s)
	if len(s) <= n {
		return s
	}
	return r.dropTrailingStart(truncateUTF8(s, n))
}

// dropTrailingStart drops the end of s that is the start of a secret.
func (r *redactor) dropTrailingStart(s string) string {
	for _, f := range r.forms {
		for k := min(len(f)-1, len(s)); k > 0; k-- {
			if strings.HasSuffix(s, f[:k]) {
				s = s[:len(s)-k]
				break
			}
		}
	}
	return s
}

// sample is the start of a body, at most n bytes of it once redacted. It reads a window of n bytes
// and the longest secret form more: a secret that starts before n ends inside it, but one that
// starts later may be cut by the window itself, and redaction may shorten what comes before.
func (r *redactor) sample(b []byte, n int) string {
	window := n + r.longest()
	if len(b) <= window {
		return r.cut(string(b), n)
	}
	return r.dropTrailingStart(truncateUTF8(r.redact(string(b[:window])), n))
}

// apiError removes the secrets from everything e keeps of the answer: its body, detail and
// validation items (Pydantic v2 puts the refused input in them). It runs before e is cut.
func (r *redactor) apiError(e *APIError) {
	if len(r.forms) == 0 {
		return
	}
	e.Body = r.redact(e.Body)
	e.Detail = r.redact(e.Detail)
	for i := range e.Validation {
		v := &e.Validation[i]
		if v.Input != nil {
			if b, err := json.Marshal(v.Input); err != nil || r.redact(string(b)) != string(b) || r.redact(fmt.Sprint(v.Input)) != fmt.Sprint(v.Input) {
				v.Input = redactMask
			}
		}
		v.Msg = r.redact(v.Msg)
		for k, x := range v.Ctx {
			v.Ctx[k] = r.redactValue(x)
		}
		for j, p := range v.Loc {
			if s, ok := p.(string); ok {
				v.Loc[j] = r.redact(s)
			}
		}
	}
}

// redactValue removes the secrets from the strings of a decoded JSON value, however deep.
func (r *redactor) redactValue(v any) any {
	switch x := v.(type) {
	case string:
		if r.redact(x) != x {
			return redactMask
		}
	case []any:
		for i := range x {
			x[i] = r.redactValue(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = r.redactValue(x[k])
		}
	}
	return v
}

// attemptSecrets is every credential an attempt's answer may echo: the values of the request's
// headers other than the client's own and the observers' (X-API-Key, an Authenticator's own header,
// a bearer token alone), a login's password or refresh token, and the credentials the client holds.
// The requests are the one the client built and the one the transport sent (resp.Request), which
// a RoundTripper below the client may have given a credential of its own (an OAuth token).
func (c *Client) attemptSecrets(at *Attempt, cl *call, reqs ...*http.Request) *redactor {
	var secrets []string
	for _, req := range reqs {
		if req == nil {
			continue
		}
		for k, vs := range req.Header {
			switch k {
			case "Accept", "User-Agent", "Content-Type", "Cache-Control":
				continue
			}
			if at != nil && at.Header[k] != nil {
				continue
			}
			for _, v := range vs {
				secrets = append(secrets, v)
				if i := strings.LastIndexByte(v, ' '); i > 0 {
					secrets = append(secrets, v[i+1:]) // "Bearer <token>": the token alone
				}
			}
		}
	}
	r := newRedactor(secrets...)
	// The client's own credentials are known to be secrets, short or not.
	for _, s := range append(c.heldSecrets(), cl.secret) {
		r.add(s, 3)
	}
	return r.sorted()
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

// secretForms is every way a server may echo a secret back: as sent, URL- or HTML-escaped, and
// any of those as the body of a JSON string (Go's encoder or Python's).
func secretForms(secret string) []string { return redact.Forms(secret, 1) }

// redactURL shows a URL written into an error without its user info and query (either may hold a
// credential), even one that does not parse.
func redactURL(raw string) string {
	raw = strings.TrimSpace(raw)
	// User info first: a password may hold a ? or a #, which would otherwise end the URL inside it.
	if i := strings.Index(raw, "://"); i >= 0 {
		if at := strings.LastIndexByte(raw[i+3:], '@'); at >= 0 {
			raw = raw[:i+3] + raw[i+3+at+1:]
		}
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if u, err := url.Parse(raw); err == nil {
		u.User = nil
		return u.String()
	}
	return userInfo.ReplaceAllString(raw, "//")
}

var userInfo = regexp.MustCompile(`//[^/?#]*@`)

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
