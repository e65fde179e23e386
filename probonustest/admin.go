package probonustest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// AdminPath is where WithAdmin mounts the admin routes: at the root whatever WithBasePath says,
// under a name no ProBonus route can have.
const AdminPath = "/_probonus/"

// WithAdmin mounts routes under AdminPath that do over HTTP what a Go test does with the Server's
// methods, for tests in other languages (probonus serve --admin). No credentials are asked: the
// fake holds test data only. The answers are JSON, money as strings with two decimals whatever the
// flavour.
//
//	GET    /_probonus/                  what is here, and the request log: kept, dropped, and
//	                                    counts, every request to each route (as Count)
//	POST   /_probonus/reset             Reset: back to the seed
//	POST   /_probonus/faults            Inject: {"method": "POST", "path": "/api/v0/accounts/refill",
//	                                    "afterApply": true, "status": 500, "times": 1} (the Fault
//	                                    fields; durations as "1.5s" or seconds)
//	GET    /_probonus/faults            the faults not yet fired
//	DELETE /_probonus/faults            drop them
//	GET    /_probonus/requests          Requests (?method= and ?path= filter), without headers;
//	                                    login and refresh bodies withheld; the header
//	                                    X-Probonus-Dropped says how many the log dropped
//	                                    (WithRequestLog)
//	GET    /_probonus/accounts          every account: balance, refill and transaction counts
//	GET    /_probonus/accounts/{id}     one: Balance, Transactions, Refills, Checks
//
// The admin routes are not among Requests, and faults cannot be injected into them. They answer
// only a Host this server is known by (see WithAdminHosts) and refuse a browser's request from a
// page of another origin, so that a web page cannot drive them (DNS rebinding, cross-site POST).
func WithAdmin() Option { return func(s *Server) { s.admin = true } }

// WithAdminHosts names the hosts the admin routes answer besides those they always do: an IP
// address, localhost and the names under it, and a name of one label (a docker-compose service's,
// "probonus"). A request for any other Host is refused: a web page whose own name an attacker's
// DNS points at 127.0.0.1 (DNS rebinding) cannot reach them. Give the name a Kubernetes service or
// a proxy is reached at, e.g. "probonus.qa.svc.cluster.local".
func WithAdminHosts(hosts ...string) Option {
	return func(s *Server) {
		for _, h := range hosts {
			s.adminHosts = append(s.adminHosts, canonicalHost(h))
		}
	}
}

// withAdmin sends the admin routes to the admin, everything else to h.
func (s *Server) withAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == strings.TrimSuffix(AdminPath, "/") || strings.HasPrefix(r.URL.Path, AdminPath) {
			if why := s.foreign(r); why != "" { // issue 26 item 8
				s.writeJSON(w, http.StatusForbidden, map[string]any{"detail": "the admin routes refuse " + why})
				return
			}
			s.serveAdmin(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// foreign says why a request for an admin route comes from another site, or "": its Host is a
// name the server is not known by (DNS rebinding), or a browser says the page that sent it has
// another origin (a cross-site form or fetch; "null" is a sandboxed or local page's).
func (s *Server) foreign(r *http.Request) string {
	if !s.ownHost(r.Host) {
		return fmt.Sprintf("a request for host %q: they answer an IP address, localhost, a name of one label, or a name WithAdminHosts gives (probonus serve --admin-host)", hostOnly(r.Host))
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return "" // not from a browser's page: curl, a test, a server
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p // behind a proxy that ends TLS; a cross-site page cannot send it without a preflight
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !sameHostPort(u.Scheme, u.Host, scheme, r.Host) {
		return fmt.Sprintf("a request from a page of another origin (%s): only a program, or a page the fake serves itself, may use them", origin)
	}
	return ""
}

// ownHost reports whether host (a Host header) names this server.
func (s *Server) ownHost(host string) bool {
	name := canonicalHost(hostOnly(host))
	switch {
	case name == "":
		return false
	case net.ParseIP(name) != nil:
		return true // an address is no name an attacker's DNS can point anywhere
	case name == "localhost" || strings.HasSuffix(name, ".localhost"):
		return true // browsers resolve these to the loopback themselves
	case !strings.Contains(name, "."):
		return true // a compose service's; no public DNS name has one label
	}
	return slices.Contains(s.adminHosts, name)
}

// hostOnly is a Host header's host without its port (and an IPv6 address without brackets).
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// canonicalHost is a host name as the comparison takes it: lower case, without a final dot.
func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// sameHostPort reports whether two host[:port] of these schemes are the same, a missing port
// being the scheme's.
func sameHostPort(schemeA, a, schemeB, b string) bool {
	split := func(scheme, hp string) (string, string) {
		h, p, err := net.SplitHostPort(hp)
		if err != nil {
			h, p = hp, map[string]string{"http": "80", "https": "443"}[strings.ToLower(scheme)]
		}
		return canonicalHost(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")), p
	}
	ha, pa := split(schemeA, a)
	hb, pb := split(schemeB, b)
	return ha == hb && pa == pb && strings.EqualFold(schemeA, schemeB)
}

type adminRoute struct {
	method, path, summary string
	h                     func(s *Server, w http.ResponseWriter, r *http.Request, tail string)
}

var adminRoutes = []adminRoute{
	{http.MethodPost, "reset", "back to the seed: requests, faults and what was applied forgotten", (*Server).adminReset},
	{http.MethodPost, "faults", "queue a fault: {method, path, times, status, body, retryAfter, reset, afterApply, delay, breakBody, stallBody}", (*Server).adminInject},
	{http.MethodGet, "faults", "the faults not yet fired", (*Server).adminFaults},
	{http.MethodDelete, "faults", "drop the faults not yet fired", (*Server).adminDropFaults},
	{http.MethodGet, "requests", "the API requests received, oldest first (?method=, ?path=); X-Probonus-Dropped: how many the log dropped", (*Server).adminRequests},
	{http.MethodGet, "accounts", "every account with its balance", (*Server).adminAccounts},
	{http.MethodGet, "accounts/{id}", "an account: balance, transactions, refills, checks", (*Server).adminAccount},
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path+"/", AdminPath), "/")
	if rest == "" && r.Method == http.MethodGet {
		s.adminIndex(w)
		return
	}
	var allowed []string
	for _, rt := range adminRoutes {
		tail, ok := matchAdmin(rt.path, rest)
		if !ok {
			continue
		}
		if rt.method == r.Method {
			rt.h(s, w, r, tail)
			return
		}
		allowed = append(allowed, rt.method)
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "Method Not Allowed: " + strings.Join(allowed, ", ")})
		return
	}
	s.writeJSON(w, http.StatusNotFound, map[string]any{"detail": "no such admin route: GET " + AdminPath + " lists them"})
}

// matchAdmin matches a route's path, whose last segment may be {id}, returning that segment.
func matchAdmin(pattern, path string) (string, bool) {
	if prefix, ok := strings.CutSuffix(pattern, "{id}"); ok {
		tail, ok := strings.CutPrefix(path, prefix)
		return tail, ok && tail != "" && !strings.Contains(tail, "/")
	}
	return "", pattern == path
}

func (s *Server) adminIndex(w http.ResponseWriter) {
	routes := []map[string]string{{"method": http.MethodGet, "path": AdminPath, "what": "what is here"}}
	for _, rt := range adminRoutes {
		routes = append(routes, map[string]string{"method": rt.method, "path": AdminPath + rt.path, "what": rt.summary})
	}
	s.mu.Lock()
	counts := map[string]int{}
	for k, n := range s.log.counts {
		counts[k] = n
	}
	log := map[string]any{"kept": len(s.log.entries), "dropped": s.log.dropped, "max": s.log.cfg.Max, "maxBytes": s.log.cfg.MaxBytes,
		"authenticatedOnly": s.log.cfg.AuthenticatedOnly, "counts": counts}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"admin": routes, "api": routeNames(), "flavor": s.flavor.String(), "requests": log})
}

func (s *Server) adminReset(w http.ResponseWriter, _ *http.Request, _ string) {
	if err := s.Reset(); err != nil {
		s.writeJSON(w, http.StatusConflict, map[string]any{"detail": "reset: " + err.Error()})
		return
	}
	s.mu.Lock()
	counts := s.st.counts()
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, counts)
}

// injectRequest is POST /_probonus/faults: the route, how many times, and the Fault's fields.
type injectRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Times  int    `json:"times"`
	faultForm
}

func (s *Server) adminInject(w http.ResponseWriter, r *http.Request, _ string) {
	body, err := readBody(r)
	if err != nil {
		s.refuseBody(w, err)
		return
	}
	var in injectRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields() // a misspelt "afterApplied" would queue a fault that does not apply
	if err := dec.Decode(&in); err != nil {
		s.writeJSON(w, http.StatusBadRequest, map[string]any{"detail": "want a JSON object of method, path and the Fault fields: " +
			strings.TrimPrefix(err.Error(), "json: ")})
		return
	}
	if in.Times == 0 {
		in.Times = 1
	}
	problem := s.routeProblem(in.Method, in.Path)
	switch {
	case in.Method == "" || in.Path == "":
		problem = "name the route: method and path, e.g. \"POST\" and \"" + PathRefill + "\""
	case problem != "":
	case in.Status != 0 && (in.Status < 200 || in.Status > 599):
		problem = fmt.Sprintf("status %d: want 200 to 599 (or none)", in.Status)
	case in.RetryAfter < 0 || in.Delay < 0:
		problem = "retryAfter and delay cannot be negative"
	case in.Times < 1 || in.Times > 1000:
		problem = fmt.Sprintf("times %d: want 1 to 1000", in.Times)
	}
	if problem != "" {
		s.writeJSON(w, http.StatusBadRequest, map[string]any{"detail": problem, "routes": routeNames()})
		return
	}
	s.mu.Lock()
	k := in.Method + " " + in.Path
	for range in.Times {
		s.faults[k] = append(s.faults[k], in.fault())
	}
	queued := len(s.faults[k])
	s.mu.Unlock()
	s.writeJSON(w, http.StatusCreated, map[string]any{"method": in.Method, "path": in.Path, "queued": queued})
}

func (s *Server) adminFaults(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.Lock()
	out := []map[string]any{}
	keys := make([]string, 0, len(s.faults))
	for k := range s.faults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		method, path, _ := strings.Cut(k, " ")
		for _, f := range s.faults[k] {
			out = append(out, map[string]any{"method": method, "path": path, "fault": f})
		}
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminDropFaults(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.Lock()
	n := 0
	for _, q := range s.faults {
		n += len(q)
	}
	s.faults = map[string][]Fault{}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"dropped": n})
}

func (s *Server) adminRequests(w http.ResponseWriter, r *http.Request, _ string) {
	method, path := r.URL.Query().Get("method"), r.URL.Query().Get("path")
	out := []map[string]any{}
	s.mu.Lock()
	kept := make([]entry, len(s.log.entries))
	for i, e := range s.log.entries {
		kept[i] = *e
	}
	dropped := s.log.dropped
	s.mu.Unlock()
	for _, req := range kept {
		if (method != "" && req.Method != method) || (path != "" && req.Path != path) {
			continue
		}
		m := map[string]any{"method": req.Method, "path": req.Path, "query": req.Query, "auth": req.auth}
		if req.Status != 0 {
			m["status"] = req.Status
		}
		switch {
		case routeAt[req.Path].public: // a password or a refresh token
			if len(req.Body) > 0 {
				m["body"] = "(withheld: credentials)"
			}
		case json.Valid(req.Body):
			m["body"] = json.RawMessage(req.Body)
		case len(req.Body) > 0:
			m["body"] = string(req.Body)
		}
		if req.Fault != nil {
			m["fault"] = *req.Fault
		}
		out = append(out, m)
	}
	w.Header().Set("X-Probonus-Dropped", strconv.Itoa(dropped)) // issue 26 item 7
	s.writeJSON(w, http.StatusOK, out)
}

// authMode names the credentials a request carried, never their value.
func authMode(h http.Header) string {
	scheme, _, _ := strings.Cut(h.Get("Authorization"), " ")
	switch {
	case h.Get("X-API-Key") != "":
		return "api-key"
	case strings.EqualFold(scheme, "bearer"):
		return "bearer"
	}
	return "none"
}

func (s *Server) adminAccounts(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.Lock()
	out := []map[string]any{}
	for _, a := range s.st.sortedAccounts() {
		refills, txs := 0, 0
		for _, t := range s.st.txs {
			if t.accountID == a.ID {
				txs++
				if t.byRefill {
					refills++
				}
			}
		}
		out = append(out, map[string]any{"id": a.ID, "groupId": a.GroupID, "phone": a.Phone,
			"balance": a.balance().decimal().StringFixed(2), "refills": refills, "transactions": txs})
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminAccount(w http.ResponseWriter, _ *http.Request, tail string) {
	id, err := strconv.ParseInt(tail, 10, 64)
	if err != nil {
		s.writeJSON(w, http.StatusBadRequest, map[string]any{"detail": fmt.Sprintf("%q is not an account id", tail)})
		return
	}
	balance := s.Balance(id)
	if balance == "" {
		s.writeJSON(w, http.StatusNotFound, map[string]any{"detail": fmt.Sprintf("no account %d", id)})
		return
	}
	txJSON := func(txs []Transaction) []map[string]any {
		out := []map[string]any{}
		for _, t := range txs {
			out = append(out, map[string]any{"id": t.ID, "datetime": s.timestamp(t.Datetime), "type": t.Type, "sum": t.Sum,
				"reason": t.Reason, "checkId": t.CheckID, "checkNumber": t.CheckNumber})
		}
		return out
	}
	checks := []map[string]any{}
	for _, c := range s.Checks(id) {
		checks = append(checks, map[string]any{"id": c.ID, "number": c.Number, "datetime": s.timestamp(c.Datetime)})
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"id": id, "balance": balance,
		"transactions": txJSON(s.Transactions(id)), "refills": txJSON(s.Refills(id)), "checks": checks})
}
