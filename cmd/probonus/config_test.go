package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBaseURLErrors (issue 17, items 9 and 16): a base URL the tool refuses is shown without its
// query and user info, whatever command meets it, with what is wrong and what to type instead.
func TestBaseURLErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, baseURL string
		want          []string // in the error
		secrets       []string // never shown
	}{
		{"a query", "http://127.0.0.1:11030/pb?apikey=query-secret-123",
			[]string{"http://127.0.0.1:11030/pb", "a query (?...) is not allowed", "PROBONUS_API_KEY"}, []string{"query-secret-123", "apikey"}},
		{"user info", "https://api-user:userinfo-secret-9@bonus.example:6896",
			[]string{"https://bonus.example:6896", "user info (user:password@) is not allowed", "PROBONUS_LOGIN"}, []string{"userinfo-secret-9", "api-user"}},
		{"a fragment", "http://127.0.0.1:11030#top", []string{`"http://127.0.0.1:11030"`, "a fragment (#...) is not allowed"}, []string{"#top"}},
		{"no scheme, an address", "127.0.0.1:11030",
			[]string{`base URL "127.0.0.1:11030" has no scheme: use http://127.0.0.1:11030`}, nil},
		{"no scheme, a host name", "localhost:11030", []string{`base URL "localhost:11030" has no scheme: use http://localhost:11030`}, nil},
		{"no scheme, a path", "bonus.example/pb", []string{`base URL "bonus.example/pb" has no scheme: use http://bonus.example/pb (or https://bonus.example/pb behind TLS)`}, nil},
		{"no scheme, secrets", "api-user:userinfo-secret-9@127.0.0.1:1?apikey=query-secret-123",
			[]string{`base URL "127.0.0.1:1" has no scheme: use http://127.0.0.1:1`, "user info", "a query"},
			[]string{"query-secret-123", "apikey", "userinfo-secret-9", "api-user"}},
		{"another scheme", "ftp://bonus.example", []string{`base URL "ftp://bonus.example" is not an http(s) URL: use http://bonus.example`}, nil},
		{"no host", "http:///pb", []string{`base URL "http:///pb" has no host`, "e.g. http://127.0.0.1:11030"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{envBaseURL: tc.baseURL, envAPIKey: "probonustest-api-key"}
			for _, args := range [][]string{{"groups"}, {"refill", "1001", "50", "--reason", "x", "--yes"}, {"doctor"}, {"doctor", "--json"}} {
				r := runCLI(t, env, args...)
				assert.NotEqual(t, exitOK, r.code, "%v", args)
				out := r.stdout + r.stderr
				for _, secret := range tc.secrets {
					assert.NotContains(t, out, secret, "%v", args)
				}
				if args[len(args)-1] == "--json" {
					var doc doctorOutput
					require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
					out = doc.BaseURL + " " + doc.Checks[0].Summary
				}
				for _, want := range tc.want {
					assert.Contains(t, out, want, "%v", args)
				}
				assert.NotContains(t, out, "unreadable URL", "%v", args)
			}
		})
	}
}
