package probonus

import (
	"net/url"
	"strings"
)

// checkPath refuses anything that could leave the base URL: an absolute URL, a scheme-relative
// path, a query or fragment, or a ".." segment, encoded or not. It returns the path unescaped.
func checkPath(path string) (string, error) {
	bad := func(reason string) (string, error) { return "", &InputError{Field: "path", Reason: reason} }
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return bad("must start with a single /")
	}
	if strings.ContainsAny(path, "?#\\") {
		return bad("must not hold a query, fragment or backslash (pass the query separately)")
	}
	decoded, err := url.PathUnescape(path)
	if err != nil {
		return bad("bad escape")
	}
	for _, seg := range strings.Split(decoded, "/") {
		if seg == ".." || seg == "." {
			return bad("must not hold . or .. segments")
		}
	}
	if lower := strings.ToLower(path); strings.Contains(lower, "%2f") || strings.Contains(lower, "%3f") ||
		strings.Contains(lower, "%23") || strings.Contains(lower, "%5c") {
		return bad("must not hold an encoded /, ?, # or backslash")
	}
	return decoded, nil
}
