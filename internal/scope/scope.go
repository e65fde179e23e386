// Package scope says where credentials may go, for the SDK and the command-line tool alike: the
// base URL's origin (scheme, host and port, compared as a browser does) and, below it, its path
// prefix (a gateway may serve other applications under other prefixes of the same origin). The
// SDK's redirect check and its authenticator, and the doctor's fetch of an OpenAPI document, all
// ask here, so there is one rule.
package scope

import (
	"net/url"
	"strings"
)

// Within reports whether u is where credentials for base may go: base's origin and, when base
// has a path, that path or below it.
func Within(u, base *url.URL) bool {
	if u == nil || base == nil || !SameOrigin(u, base) {
		return false
	}
	prefix := strings.TrimSuffix(base.Path, "/")
	return prefix == "" || u.Path == prefix || strings.HasPrefix(u.Path, prefix+"/")
}

// SameOrigin reports whether u is on base's scheme, host and port (a port left out is the
// scheme's), scheme and host compared case-insensitively.
func SameOrigin(u, base *url.URL) bool {
	if u == nil || base == nil {
		return false
	}
	if u.Scheme == base.Scheme && u.Host == base.Host {
		return true
	}
	return strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Hostname(), base.Hostname()) && Port(u) == Port(base)
}

// Port is u's port, or its scheme's default one ("" for a scheme other than http and https
// without a port).
func Port(u *url.URL) string {
	if port := u.Port(); port != "" {
		return port
	}
	return map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
}
