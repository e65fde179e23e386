// Package tokenreply reads a login's or a token refresh's answer the one way the SDK and the
// command-line tool share: either spelling of each field (camelCase or snake_case), and the token's
// lifetime measured on this machine's clock, never by comparing the server's clock with it.
package tokenreply

import (
	"encoding/json"
	"time"
)

// Reply is a login or refresh answer in either spelling. Its tokens stay in memory only.
type Reply struct {
	AccessToken       string      `json:"accessToken"`
	AccessTokenSnake  string      `json:"access_token"`
	RefreshToken      string      `json:"refreshToken"`
	RefreshTokenSnake string      `json:"refresh_token"`
	ExpiresIn         json.Number `json:"expiresIn"`
	ExpiresInSnake    json.Number `json:"expires_in"`
	TokenType         string      `json:"tokenType"` // "bearer"; read so strict decoding knows it
	TokenTypeSnake    string      `json:"token_type"`
}

// Access is the access token, "" when the answer has none.
func (r Reply) Access() string { return firstSet(r.AccessToken, r.AccessTokenSnake) }

// Refresh is the refresh token, "" when the answer has none.
func (r Reply) Refresh() string { return firstSet(r.RefreshToken, r.RefreshTokenSnake) }

// Lifetime is the access token's lifetime (LifetimeOf); ok is false when the answer does not tell it.
func (r Reply) Lifetime() (d time.Duration, ok bool) {
	return LifetimeOf(firstSet(r.ExpiresIn, r.ExpiresInSnake), r.Access())
}

// firstSet is a if it is set, else b: a field the server may spell two ways.
func firstSet[T ~string](a, b T) T {
	if a != "" {
		return a
	}
	return b
}
