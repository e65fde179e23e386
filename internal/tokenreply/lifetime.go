package tokenreply

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// Max bounds a lifetime read from an answer, so it fits a time.Duration.
const Max = 100 * 365 * 24 * time.Hour

// LifetimeOf is a token's lifetime: expiresIn (in seconds) when the answer gives it, else a JWT's exp minus
// its iat (both on the server's clock, so their difference is not skewed by it). exp alone is
// never compared with the local clock, which may be hours off the server's. ok is false when the
// lifetime is not told.
func LifetimeOf(expiresIn json.Number, access string) (time.Duration, bool) {
	if secs, err := expiresIn.Float64(); err == nil && secs > 0 {
		return time.Duration(min(secs, Max.Seconds()) * float64(time.Second)), true
	}
	return jwt(access)
}

// jwt reads a JWT's lifetime, exp minus iat, without verifying it: the server verifies; a client
// only needs to know when to refresh.
func jwt(tok string) (time.Duration, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return 0, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return 0, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
		Iat json.Number `json:"iat"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return 0, false
	}
	exp, err1 := claims.Exp.Float64()
	iat, err2 := claims.Iat.Float64()
	if err1 != nil || err2 != nil || exp <= iat {
		return 0, false
	}
	return time.Duration(min(exp-iat, Max.Seconds()) * float64(time.Second)), true
}
