package probonustest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
)

// The paths of the routes the server answers, without its base path: what Inject, FailNext and
// Count take, and what Request.Path holds.
const (
	PathLogin             = "/api/v0/auth/login"                    // POST
	PathRefreshToken      = "/api/v0/auth/refresh_token"            // POST
	PathAccountGroupsList = "/api/v0/account_groups/list"           // GET
	PathInsertByTemplate  = "/api/v0/accounts/insert_by_template"   // POST
	PathFindByPhone       = "/api/v0/accounts/find_by_phone"        // GET
	PathRefill            = "/api/v0/accounts/refill"               // POST
	PathTransactions      = "/api/v0/accounts/transactions"         // GET
	PathUpdate            = "/api/v0/accounts/update"               // POST
	PathBalanceExtended   = "/api/v0/accounts/get_balance_extended" // GET
	PathCheckByID         = "/api/v0/checks/get_by_id"              // GET
)

type handler func(s *Server, w http.ResponseWriter, r *http.Request, body map[string]json.RawMessage)

// route is one endpoint of the wire model; newMux registers it as the pattern "method path".
type route struct {
	method, path string
	handle       handler
	public       bool // answered without credentials: the login and the refresh
}

// routes is every endpoint the server answers.
var routes = []route{
	{http.MethodPost, PathLogin, (*Server).handleLogin, true},
	{http.MethodPost, PathRefreshToken, (*Server).handleRefresh, true},
	{http.MethodGet, PathAccountGroupsList, (*Server).handleGroups, false},
	{http.MethodPost, PathInsertByTemplate, (*Server).handleInsert, false},
	{http.MethodGet, PathFindByPhone, (*Server).handleFind, false},
	{http.MethodPost, PathRefill, (*Server).handleRefill, false},
	{http.MethodGet, PathTransactions, (*Server).handleTransactions, false},
	{http.MethodPost, PathUpdate, (*Server).handleUpdate, false},
	{http.MethodGet, PathBalanceExtended, (*Server).handleBalance, false},
	{http.MethodGet, PathCheckByID, (*Server).handleCheck, false},
}

// routeAt is routes by path, for what asks about a path before or without the mux: fault
// injection, recording and the trailing-slash redirect.
var routeAt = func() map[string]route {
	m := make(map[string]route, len(routes))
	for _, rt := range routes {
		m[rt.path] = rt
	}
	return m
}()

// routeNames is every route as "METHOD path", sorted, for the admin's answers.
func routeNames() []string {
	out := make([]string, 0, len(routes))
	for _, rt := range routes {
		out = append(out, rt.method+" "+rt.path)
	}
	sort.Strings(out)
	return out
}

// newMux is the route table on ServeMux patterns. Where a pattern alone would answer otherwise
// than FastAPI, a pattern of its own answers as FastAPI does: a route's path without a method
// (405 with FastAPI's body, the mux's own is plain text), HEAD on a GET route (a GET pattern
// matches HEAD, a FastAPI route refuses it), and "/" (FastAPI's JSON 404 and its trailing-slash
// redirect).
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, s.endpoint(rt))
		mux.Handle(rt.path, s.methodNotAllowed(rt.method))
		if rt.method == http.MethodGet {
			mux.Handle(http.MethodHead+" "+rt.path, s.methodNotAllowed(rt.method))
		}
	}
	// FastAPI serves its document routes on GET and HEAD, as these patterns match
	mux.HandleFunc(http.MethodGet+" "+PathOpenAPI, s.serveOpenAPI)
	mux.HandleFunc(http.MethodGet+" "+PathDocs, s.serveDocs)
	mux.HandleFunc(http.MethodGet+" "+PathRedoc, s.serveRedoc)
	mux.HandleFunc(http.MethodGet+" "+docsAssets+"{file...}", s.serveDocsAsset)
	mux.HandleFunc("/", s.unmatched)
	return mux
}

// route answers a request whose path (without the base path) is path, with its body already
// read, through the mux.
func (s *Server) route(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	if cleanPath(path) != path {
		// the mux would redirect to the cleaned path; FastAPI has no route for it
		s.writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
		return
	}
	// as http.StripPrefix does: a shallow copy whose URL has the path without the base path,
	// matched as it was decoded
	inner := new(http.Request)
	*inner = *r
	u := *r.URL
	u.Path, u.RawPath = path, ""
	inner.URL = &u
	inner.Body = io.NopCloser(bytes.NewReader(body))
	s.mux.ServeHTTP(w, inner)
}

// cleanPath is the ServeMux's canonical form of a path: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// endpoint checks a route's credentials and reads its body, then hands it to the route's handler.
func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.public {
			if !s.authorized(w, r) {
				return
			}
			s.authenticated(r)
		}
		var fields map[string]json.RawMessage
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body) // the bytes serve read
			var ok bool
			if fields, ok = s.parseBody(w, r, body); !ok {
				return
			}
		}
		rt.handle(s, w, r, fields)
	})
}

// methodNotAllowed is FastAPI's answer to a route's path with another method.
func (s *Server) methodNotAllowed(method string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", method)
		s.writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "Method Not Allowed"})
	})
}

// unmatched answers a path no route has, as FastAPI does: a route's path with a trailing slash is
// redirected to the route (307; the mux's own redirect goes the other way, adding the slash),
// anything else is a 404.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	if trimmed := strings.TrimSuffix(r.URL.Path, "/"); trimmed != r.URL.Path {
		if _, ok := routeAt[trimmed]; ok {
			u := *r.URL
			u.Path, u.RawPath = s.basePath+trimmed, ""
			http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
			return
		}
	}
	s.writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
}
