package tokenreply

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJWTLifetime(t *testing.T) {
	t.Parallel()
	enc := func(payload string) string {
		return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	d, ok := jwt(enc(`{"iat":1800000000,"exp":1800003600}`))
	require.True(t, ok)
	assert.Equal(t, time.Hour, d)
	d, ok = jwt(enc(`{"iat":1800000000,"exp":1800000090.5}`))
	require.True(t, ok)
	assert.Equal(t, 90500*time.Millisecond, d)
	for _, bad := range []string{"opaque", enc(`{"sub":"x"}`), enc(`{"exp":1800000000}`), enc(`{"exp":"soon","iat":1}`),
		enc(`not json`), "a.!!!.c", enc(`{"exp":1,"iat":2}`)} {
		_, ok := jwt(bad)
		assert.False(t, ok, bad)
	}
}

// TestExpiresInFirst: the answer's expiresIn wins over the JWT's claims; a bad one is not told.
func TestExpiresInFirst(t *testing.T) {
	t.Parallel()
	d, ok := LifetimeOf("900", "eyJhbGciOiJIUzI1NiJ9."+base64.RawURLEncoding.EncodeToString([]byte(`{"iat":1,"exp":3601}`))+".c2ln")
	require.True(t, ok)
	assert.Equal(t, 15*time.Minute, d)
	_, ok = LifetimeOf("soon", "opaque")
	assert.False(t, ok)
	d, ok = LifetimeOf("1e30", "opaque")
	require.True(t, ok)
	assert.Equal(t, Max, d, "bounded")
}
