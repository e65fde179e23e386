package probonustest

import (
	"net/http"
	"slices"
	"strings"
)

// WithCORS lets web pages of the origins given ("http://localhost:3000", or "*" for any) call the
// API from a browser, as FastAPI behind Starlette's CORSMiddleware lets them: a preflight is
// answered with the methods (GET, POST) and the headers a client sends (X-API-Key, Authorization,
// Content-Type), and an answer to an allowed origin names it in Access-Control-Allow-Origin (with
// Retry-After readable). Off by default, as an installation without the middleware is; the admin
// routes never take part.
//
// An API key does not belong in a browser: anyone who opens the page can read it. A frontend
// that calls the fake directly is a development setup; in production the browser calls the
// team's own backend, which holds the key.
func WithCORS(origins ...string) Option {
	return func(s *Server) {
		for _, o := range origins {
			s.corsOrigins = append(s.corsOrigins, strings.TrimSuffix(strings.TrimSpace(o), "/"))
		}
	}
}

// The methods and headers a preflight allows: the API's methods, the credentials' headers and
// the CORS-safelisted ones Starlette adds, as Starlette lists them (sorted, ", ").
var (
	corsMethods = []string{http.MethodGet, http.MethodPost}
	corsHeaders = []string{"Accept", "Accept-Language", "Authorization", "Content-Language", "Content-Type", "X-API-Key"}
)

// corsMaxAge is how long a browser may keep a preflight's answer: Starlette's default.
const corsMaxAge = "600"

// withCORS answers preflights and marks the answers to allowed origins, before h (the API and
// its documents) sees the request: a preflight is neither recorded nor given a fault.
func (s *Server) withCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		allowed, anyOrigin := s.corsAllows(origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			s.preflight(w, r, origin, allowed, anyOrigin)
			return
		}
		if allowed {
			if anyOrigin {
				w.Header().Set("Access-Control-Allow-Origin", "*")
			} else {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Add("Vary", "Origin")
			}
			w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		}
		h.ServeHTTP(w, r)
	})
}

// corsAllows reports whether a page of origin may read the API's answers, and whether every
// origin may.
func (s *Server) corsAllows(origin string) (allowed, anyOrigin bool) {
	if slices.Contains(s.corsOrigins, "*") {
		return true, true
	}
	return slices.Contains(s.corsOrigins, origin), false
}

// preflight answers as Starlette's CORSMiddleware does: 200 "OK" with what is allowed, or 400
// naming what is not.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, origin string, allowed, anyOrigin bool) {
	var failures []string
	if !allowed {
		failures = append(failures, "origin")
	}
	if !slices.Contains(corsMethods, r.Header.Get("Access-Control-Request-Method")) {
		failures = append(failures, "method")
	}
	for _, h := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		if h = strings.TrimSpace(h); h != "" && !slices.ContainsFunc(corsHeaders, func(a string) bool { return strings.EqualFold(a, h) }) {
			failures = append(failures, "headers")
			break
		}
	}
	hd := w.Header()
	if allowed {
		hd.Set("Access-Control-Allow-Origin", origin)
		if anyOrigin {
			hd.Set("Access-Control-Allow-Origin", "*")
		} else {
			hd.Add("Vary", "Origin")
		}
	}
	hd.Set("Access-Control-Allow-Methods", strings.Join(corsMethods, ", "))
	hd.Set("Access-Control-Allow-Headers", strings.Join(corsHeaders, ", "))
	hd.Set("Access-Control-Max-Age", corsMaxAge)
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	if len(failures) > 0 {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("Disallowed CORS " + strings.Join(failures, ", ")))
		return
	}
	_, _ = w.Write([]byte("OK"))
}
