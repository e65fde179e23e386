package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// issue 28 §1, URL user info: the SDK removed it after a "://" only (a URL without a scheme kept
// it) and up to the last '@'; the CLI cut the query first, so a password holding '?' or '#' left
// its start ("http://admin:pa"). URL now removes the user info first, up to the last '@', with or
// without a scheme, then the query and fragment, and never rewrites the rest.
func TestURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"https://probonus.example.com:8443/pb", "https://probonus.example.com:8443/pb"},
		{"http://admin:s3cr3t@host/pb", "http://host/pb"},
		{"http://admin:pa?ss-2026@host", "http://host"},
		{"http://admin:pa#ss-2026@host/", "http://host/"},
		{"http://admin:pa/ss@host/pb", "http://host/pb"},
		{"http://admin:p@ss@host", "http://host"},
		{"admin:s3cr3t@host/pb", "host/pb"},
		{"//admin:s3cr3t@host", "//host"},
		{"htps://probonus:s3cr3t-pw@host", "htps://host"},
		{"https://host/pb?apikey=s3cr3t&x=1", "https://host/pb"},
		{"https://host/pb#frag", "https://host/pb"},
		{"  http://host  ", "http://host"},
		{"HTTP://Host/a b", "HTTP://Host/a b"},
		{"localhost:11030", "localhost:11030"},
		{"", ""},
	} {
		assert.Equal(t, tt.want, URL(tt.in), "URL(%q)", tt.in)
	}
}

// URLSecrets learns the user info by both readings of where it ends, and the query's values,
// each as written and unescaped.
func TestURLSecrets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"http://host/pb", nil},
		{"http://admin:s3cr3t@host", []string{"admin", "s3cr3t"}},
		{"http://admin:pa%3Fss@host", []string{"admin", "pa%3Fss", "pa?ss"}},
		{"http://admin:pa?ss@host", []string{"admin", "pa?ss"}},
		{"http://admin:pa/ss@host", []string{"admin", "pa/ss"}},
		{"admin:s3cr3t@host", []string{"admin", "s3cr3t"}},
		{"https://host/?apikey=k%2B1&token=t-2;x", []string{"k%2B1", "k+1", "t-2"}},
		{"http://u:pw@host/?email=a@b&key=kk", []string{"u", "pw", "pw@host/?email=a", "a@b", "kk"}},
	} {
		assert.ElementsMatch(t, tt.want, URLSecrets(tt.in), "URLSecrets(%q)", tt.in)
	}
	s := New()
	s.Add(URLSecrets("http://admin:pa?ss-2026@host")...)
	assert.Equal(t, "user [redacted], password [redacted]", s.Redact("user admin, password pa?ss-2026"))
}

func TestHasUserInfo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"http://admin:pw@host": true, "admin:pw@host": true, "//u@host": true,
		"http://host/pb": false, "http://host/?email=a@b": false, "http://host/@team": false,
	} {
		assert.Equal(t, want, HasUserInfo(in), in)
	}
}
