package probonustest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// authorized checks the request's credentials as FastAPI's APIKeyHeader and HTTPBearer would,
// answering the flavour's refusal when they fail.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("X-API-Key")
	scheme, tok, hasBearer := strings.Cut(r.Header.Get("Authorization"), " ")
	hasBearer = hasBearer && strings.EqualFold(scheme, "bearer") && tok != ""
	s.mu.Lock()
	exp, known := s.tokens[tok]
	s.mu.Unlock()
	switch {
	case key != "" && key == s.apiKey:
		return true
	case hasBearer && known && time.Now().Before(exp):
		return true
	case key != "":
		s.refuse(w, "APIKey", "Could not validate credentials")
	case hasBearer:
		s.refuse(w, "Bearer", "Could not validate credentials")
	default:
		s.refuse(w, "Bearer", "Not authenticated")
	}
	return false
}

// refuse answers as the flavour does: Legacy 403 without a challenge, Modern 401 with one.
func (s *Server) refuse(w http.ResponseWriter, challenge, detail string) {
	if s.flavor == Legacy {
		s.writeJSON(w, http.StatusForbidden, map[string]any{"detail": detail})
		return
	}
	w.Header().Set("WWW-Authenticate", challenge)
	s.writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": detail})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, body map[string]json.RawMessage) {
	f := s.form(body)
	login, password := f.str("login"), f.str("password")
	if f.failed(w) {
		return
	}
	if login != s.login || password != s.password {
		s.writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Incorrect login or password"})
		return
	}
	s.mu.Lock()
	s.logins++
	resp := s.issueLocked()
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request, body map[string]json.RawMessage) {
	f := s.form(body)
	rt := f.str("refreshToken")
	if f.failed(w) {
		return
	}
	s.mu.Lock()
	if !s.refresh[rt] {
		s.mu.Unlock()
		s.writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Could not validate credentials"})
		return
	}
	delete(s.refresh, rt) // refresh tokens rotate: each works once
	s.refreshN++
	resp := s.issueLocked()
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, resp)
}

// issueLocked makes a new access token (a JWT whose exp says when it expires) and refresh token.
func (s *Server) issueLocked() map[string]any {
	s.seq++
	exp := time.Now().Add(s.tokenLifetime)
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"sub": s.login, "jti": s.seq, "exp": float64(exp.UnixMilli()) / 1000})
	access := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc(claims) + "." + enc([]byte(fmt.Sprintf("probonustest-signature-%d", s.seq)))
	refresh := fmt.Sprintf("probonustest-refresh-%d", s.seq)
	s.tokens[access] = exp
	s.refresh[refresh] = true
	return s.object("token", map[string]any{
		"accessToken":  access,
		"refreshToken": refresh,
		"tokenType":    "bearer",
		"expiresIn":    s.tokenLifetime.Seconds(),
	})
}
