package scope

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue 26 item 6 and its review: credentials stay within the base URL's origin and path prefix,
// for the SDK and the doctor alike.
func TestWithin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, u string
		want    bool
	}{
		{"https://gw.test/probonus", "https://gw.test/probonus/openapi.json", true},
		{"https://gw.test/probonus", "https://gw.test/probonus", true},
		{"https://gw.test/probonus/", "https://gw.test/probonus/openapi.json", true},
		{"https://gw.test/probonus", "HTTPS://GW.test:443/probonus/docs", true},
		{"https://gw.test/probonus", "https://gw.test/other/openapi.json", false},
		{"https://gw.test/probonus", "https://gw.test/probonus-admin/openapi.json", false},
		{"https://gw.test/probonus", "https://gw.test/openapi.json", false},
		{"https://gw.test/probonus", "https://gw.test/api/v0/auth/login", false},
		{"https://gw.test", "https://gw.test/anything", true},
		{"https://gw.test/", "https://gw.test/anything", true},
		{"https://gw.test", "http://gw.test/openapi.json", false},
		{"https://gw.test", "https://gw.test:8443/openapi.json", false},
		{"https://gw.test", "https://other.test/openapi.json", false},
		{"http://gw.test:80", "http://gw.test/openapi.json", true},
	}
	for _, tt := range tests {
		base, err := url.Parse(tt.base)
		require.NoError(t, err)
		u, err := url.Parse(tt.u)
		require.NoError(t, err)
		assert.Equal(t, tt.want, Within(u, base), "%s under %s", tt.u, tt.base)
	}
	assert.False(t, Within(&url.URL{Scheme: "https", Host: "gw.test"}, nil), "no base URL: nowhere")
	assert.False(t, SameOrigin(nil, &url.URL{Scheme: "https", Host: "gw.test"}))
}

func TestPort(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{"http://a.test": "80", "HTTPS://a.test": "443", "https://a.test:8443": "8443", "ftp://a.test": ""} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, want, Port(u), raw)
	}
}
