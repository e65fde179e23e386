package probonus

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"github.com/probonus-go/probonus/internal/scope"
)

// inScope reports whether u is where credentials may go: the base URL's origin and, below it, its
// path (a gateway may serve other applications under other prefixes of the same origin). The rule
// is internal/scope's, which the command-line tool's doctor follows too.
func (c *Client) inScope(u *url.URL) bool { return scope.Within(u, c.baseURL) }

// sameOrigin reports whether u is on the base URL's scheme, host and port: the only place
// credentials are sent.
func (c *Client) sameOrigin(u *url.URL) bool { return scope.SameOrigin(u, c.baseURL) }

// installationOf is the base URL's installation, spelled one way however the URL spells it: the
// scheme, the host in lower case and punycode (бонус.рф is xn--90aycnj.xn--p1ai) without a trailing
// dot, the port as a number (the scheme's when none), and the path prefix. RefillOnce's keys are
// per installation, so two Clients of one server share them whatever URLs they were given.
func installationOf(u *url.URL) string {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ascii, err := idna.Lookup.ToASCII(host); err == nil {
		host = ascii
	}
	port := portOf(u)
	if n, err := strconv.Atoi(port); err == nil {
		port = strconv.Itoa(n)
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(host, port) + u.Path
}

// portOf is u's port, or its scheme's default one.
func portOf(u *url.URL) string { return scope.Port(u) }

// checkRedirect keeps a redirect from carrying anything secret out of the base URL's scope (its
// origin, and its path prefix when it has one). Go forwards custom headers (X-API-Key, an
// Authenticator's own, an observer's traceparent) on redirects, and re-sends the body on 307 and
// 308: a login's password, say. So a redirect out of scope gets only the headers the client itself
// sets, one that would carry a body is refused, as is any redirect of a login or refresh out of
// scope; and a write is never turned into a read of something else.
func (c *Client) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !c.inScope(req.URL) {
			if req.Context().Value(noAuthKey{}) != nil {
				return &redirectError{to: req.URL, why: "a login or refresh is never redirected to another origin"}
			}
			if req.Body != nil && req.Body != http.NoBody {
				return &redirectError{to: req.URL, why: "the request body is never re-sent to another origin"}
			}
		}
		if orig := via[0]; orig.Method != http.MethodGet && orig.Method != http.MethodHead && req.Method != orig.Method {
			// A 301, 302 or 303 turns a write into a GET of something else, whose answer would read
			// as the write's result. After a 303 the server has acted ("see the result there"), and
			// after a 302 it may have (Flask, Django and Express answer a handled POST with one):
			// the outcome is unknown. A 301 moves an endpoint: it was not applied.
			code := 0
			if req.Response != nil {
				code = req.Response.StatusCode
			}
			return &redirectError{to: req.URL, why: fmt.Sprintf("a %s is never turned into a %s", orig.Method, req.Method),
				applied: code == http.StatusFound || code == http.StatusSeeOther}
		}
		if !c.inScope(req.URL) {
			clean := make(http.Header, 2)
			for _, k := range []string{"Accept", "User-Agent"} {
				if v := req.Header.Values(k); len(v) > 0 {
					clean[k] = v
				}
			}
			req.Header = clean
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// redirectError is a redirect the client refused to follow. The server answered with a redirect,
// not by acting on the request, so the outcome is certain (nothing was applied), except after a
// 303, which says the server acted, and a 302, after which it may have.
type redirectError struct {
	to      *url.URL
	why     string
	applied bool // a 303: the server acted on the request
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("refused a redirect to %s://%s: %s", e.to.Scheme, e.to.Host, e.why)
}

// noAuthKey marks the context of a login or refresh request, for checkRedirect.
type noAuthKey struct{}
