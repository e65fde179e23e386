package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// A URL's user info ends at an '@', but a password may hold a '/', '?', '#' or '@' of its own,
// unescaped, as users write them. Two readings of where it ends:
//   - the last '@' of the text after the scheme's "://" (or of the whole text, without one): it
//     holds every such password, and may take a path or query with an '@' for user info;
//   - the last '@' before the first '/', '?' or '#', as url.Parse reads it.
//
// URL removes the first (it removes more); URLSecrets learns both; HasUserInfo asks the second.

// userInfoAt returns where the user info of raw starts and where its '@' stands, by the first
// reading; at is -1 when there is none.
func userInfoAt(raw string) (start, at int) {
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + 3
	} else if strings.HasPrefix(raw, "//") {
		start = 2
	}
	at = strings.LastIndexByte(raw[start:], '@')
	if at < 0 {
		return start, -1
	}
	return start, start + at
}

// authorityUserInfo finds the user info by the second reading, with or without a scheme: $2 is
// the user info.
var authorityUserInfo = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://|//)?([^/?#]*)@`)

// URL shows a URL written into an error or an output without its user info, query and fragment
// (any may hold a credential), even one that does not parse or has no scheme.
func URL(raw string) string {
	raw = strings.TrimSpace(raw)
	// User info first: a password may hold a ? or a #, which would otherwise end the URL inside it.
	if start, at := userInfoAt(raw); at >= 0 {
		raw = raw[:start] + raw[at+1:]
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	return raw
}

// HasUserInfo reports whether raw has user info as url.Parse reads it (user:password@ before the
// first '/', '?' or '#'), with or without a scheme.
func HasUserInfo(raw string) bool { return authorityUserInfo.MatchString(strings.TrimSpace(raw)) }

// URLSecrets is what a URL carries that is a secret, for Set.Add: the user name and password of
// its user info (as written and unescaped, by both readings of where it ends) and its query's
// values (?apikey=..., as written and unescaped). The URL may not parse, or have no scheme.
func URLSecrets(raw string) []string {
	raw = strings.TrimSpace(raw)
	var out []string
	userInfo := func(info string) {
		user, password, _ := strings.Cut(info, ":")
		for _, v := range []string{user, password} {
			out = append(out, v)
			if u, err := url.PathUnescape(v); err == nil {
				out = append(out, u)
			}
		}
	}
	query := func(rest string) {
		i := strings.IndexAny(rest, "?#")
		if i < 0 {
			return
		}
		for _, part := range strings.FieldsFunc(rest[i+1:], func(r rune) bool { return r == '&' || r == ';' || r == '#' }) {
			_, v, _ := strings.Cut(part, "=")
			out = append(out, v)
			if u, err := url.QueryUnescape(v); err == nil {
				out = append(out, u)
			}
		}
	}
	if start, at := userInfoAt(raw); at >= 0 {
		userInfo(raw[start:at])
		query(raw[at+1:])
	}
	if m := authorityUserInfo.FindStringSubmatch(raw); m != nil {
		userInfo(m[2])
	}
	query(raw)
	return slicesCompact(out)
}

// slicesCompact drops the empty and repeated values of vs, keeping the order.
func slicesCompact(vs []string) []string {
	seen := map[string]bool{"": true}
	out := vs[:0]
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
