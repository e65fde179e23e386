package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

const fixtures = "../../internal/openapidiff/testdata/fastapi"

// TestDoctorOpenAPIFile: --openapi FILE without a base URL checks the document alone and sends
// nothing; each generated FastAPI document prints what it should, and fails or warns exit 1.
func TestDoctorOpenAPIFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		variant, want string
		code          int
	}{
		{"mirror", "no difference from the SDK's model", exitOK},
		{"tolerated", "no difference from the SDK's model", exitOK},
		{"body-renamed", "fail  POST /api/v0/accounts/refill body: amount (Refill.Amount) is sum here?", exitFailed},
		{"response-renamed", "warn  GET /api/v0/accounts/find_by_phone response: balance (Account.Balance) is bonusBalance here?", exitFailed},
		{"response-extra", "info  GET /api/v0/accounts/find_by_phone response: the server's Account has loyaltyCard", exitOK},
		{"auth-header", "fail  auth: the server reads its API key from X-Auth-Token", exitFailed},
	}
	for _, tc := range cases {
		for _, gen := range []string{"fastapi-0.92", "fastapi-0.115"} {
			t.Run(tc.variant+"/"+gen, func(t *testing.T) {
				t.Parallel()
				r := runCLI(t, map[string]string{}, "doctor", "--openapi", filepath.Join(fixtures, gen, tc.variant+".json"))
				assert.Equal(t, tc.code, r.code, r.stdout+r.stderr)
				assert.Contains(t, r.stdout, "no server: the OpenAPI document alone, nothing sent")
				assert.Contains(t, r.stdout, tc.want)
				assert.NotContains(t, r.stdout, "address", "no server check ran")
			})
		}
	}
}

// TestDoctorOpenAPIJSON: --json has the differences, each with the fields.
func TestDoctorOpenAPIJSON(t *testing.T) {
	t.Parallel()
	r := runCLI(t, map[string]string{}, "doctor", "--json", "--openapi", filepath.Join(fixtures, "fastapi-0.115", "body-kopecks.json"))
	assert.Equal(t, exitFailed, r.code)
	var out struct {
		Differences []map[string]string `json:"differences"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out.Differences, 1)
	d := out.Differences[0]
	assert.Equal(t, map[string]string{"severity": "fail", "method": "POST", "path": "/api/v0/accounts/refill", "where": "body",
		"sdk": "amount (Refill.Amount)", "server": "Refill.amount", "message": d["message"]}, d)
	assert.Contains(t, d["message"], "money in kopecks?")
}

// TestDoctorOpenAPIReport: the report has the differences and the document, its servers withheld.
func TestDoctorOpenAPIReport(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithBasePath("/probonus"))
	path := filepath.Join(t.TempDir(), "report.md")
	r := invocation{env: keyEnv(srv), salt: []byte("test")}.run(t, "doctor", "--report", path)
	require.Equal(t, exitOK, r.code, r.stdout)
	assert.Contains(t, r.stdout, "ok    openapi   OpenAPI 3.1.0 document (/openapi.json): no difference")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "## The installation's OpenAPI document, its servers withheld")
	assert.Contains(t, string(b), `"url": "<withheld>"`)
	assert.NotContains(t, string(b), "127.0.0.1")
}

// apiLike answers the doctor's probe as a ProBonus API does, and the routes given.
func apiLike(t *testing.T, routes map[string]http.HandlerFunc) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if h, ok := routes[r.URL.Path]; ok {
			h(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/v0/") {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"detail":"Not authenticated"}`))
			return
		}
		http.NotFound(w, r)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func serveFile(t *testing.T, name string) http.HandlerFunc {
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(b) }
}

// TestDoctorFindsTheDocument: /openapi.json, else the URL /docs names, else /redoc's; with the
// credentials only when refused without; a line and what to ask for when there is none; a
// document too large refused.
func TestDoctorFindsTheDocument(t *testing.T) {
	t.Parallel()
	doc := filepath.Join(fixtures, "fastapi-0.115", "response-missing.json")
	huge := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(" ", 1<<20))
		_, _ = w.Write([]byte(`{"openapi": "3.1.0", "x": "`))
		for range 40 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}`))
	}
	cases := []struct {
		name   string
		routes map[string]http.HandlerFunc
		want   string
	}{
		{"openapi.json", map[string]http.HandlerFunc{"/openapi.json": serveFile(t, doc)}, "(/openapi.json): 1 difference"},
		{"docs names another URL", map[string]http.HandlerFunc{
			"/docs": func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(swaggerHTML("/pb/api/openapi.json")))
			},
			"/pb/api/openapi.json": serveFile(t, doc),
		}, "(/pb/api/openapi.json (named by /docs)): 1 difference"},
		{"redoc", map[string]http.HandlerFunc{
			"/redoc": func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`<redoc spec-url="/spec.json"></redoc>`))
			},
			"/spec.json": serveFile(t, doc),
		}, "(/spec.json (named by /redoc)): 1 difference"},
		{"behind credentials", map[string]http.HandlerFunc{"/openapi.json": func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-API-Key") != "k" {
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"detail":"Not authenticated"}`))
				return
			}
			serveFile(t, doc)(w, r)
		}}, "(/openapi.json): 1 difference"},
		{"none", nil, "the installation hides its OpenAPI document"},
		{"40 MiB", map[string]http.HandlerFunc{"/openapi.json": huge}, "more than the 16 MiB"},
		{"a $ref cycle", map[string]http.HandlerFunc{"/openapi.json": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/api/v0/account_groups/list":{"get":{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"}}}}}}}},"components":{"schemas":{"A":{"type":"object","properties":{"a":{"$ref":"#/components/schemas/A"}}}}}}`))
		}}, "differences from the SDK's model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := apiLike(t, tc.routes)
			start := time.Now()
			r := runCLI(t, map[string]string{envBaseURL: ts.URL, envAPIKey: "k"}, "doctor")
			assert.Less(t, time.Since(start), 20*time.Second)
			var line string
			for _, l := range strings.Split(r.stdout, "\n") {
				if strings.Contains(l, " openapi ") {
					line = l
				}
			}
			assert.Contains(t, line, tc.want, r.stdout)
			if tc.name == "none" {
				assert.Contains(t, r.stdout, "ask the installation's administrator for its OpenAPI document")
			}
		})
	}
}

// swaggerHTML is the start of FastAPI's Swagger UI page, naming the document as FastAPI does.
func swaggerHTML(url string) string {
	return "<!DOCTYPE html>\n<html><body><div id=\"swagger-ui\"></div><script>\nconst ui = SwaggerUIBundle({\n    url: '" + url + "',\n\"dom_id\": \"#swagger-ui\",\n})\n</script></body></html>"
}

// stranger is a server on another origin that refuses every request and counts the credentials
// it was sent: X-API-Key, Authorization, and a body naming the password (a login POST).
type stranger struct {
	*httptest.Server
	mu                          sync.Mutex
	requests, keys, auths, pwds int
	posts                       int
}

func newStranger(t *testing.T, password string) *stranger {
	s := &stranger{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests++
		if r.Header.Get("X-API-Key") != "" {
			s.keys++
		}
		if r.Header.Get("Authorization") != "" {
			s.auths++
		}
		if password != "" && strings.Contains(string(body), password) {
			s.pwds++
		}
		if r.Method != http.MethodGet {
			s.posts++
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"detail":"Not authenticated"}`))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestDoctorOpenAPICredentialsStayHome: --openapi naming a document on another origin fetches it
// without credentials; its 401 is reported saying the credentials were not sent to that host.
// issue 26 item 6: the doctor retried with the X-API-Key, or a login POST with the password, to
// whatever host the URL named.
func TestDoctorOpenAPICredentialsStayHome(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"key", "login"} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			home := probonustest.NewServer(t)
			env := keyEnv(home)
			_, password := home.Login()
			if auth == "login" {
				env = loginEnv(home)
			}
			far := newStranger(t, password)
			r := runCLI(t, env, "doctor", "--openapi", far.URL+"/openapi.json")
			far.mu.Lock()
			defer far.mu.Unlock()
			assert.Equal(t, 1, far.requests, "one GET without credentials, no retry")
			assert.Zero(t, far.keys, "the API key went to the stranger")
			assert.Zero(t, far.auths, "an Authorization header went to the stranger")
			assert.Zero(t, far.pwds, "the password went to the stranger")
			assert.Zero(t, far.posts, "a login was POSTed to the stranger")
			assert.Contains(t, r.stdout, "credentials were not sent to "+strings.TrimPrefix(far.URL, "http://"), r.stdout)
			assert.NotContains(t, r.stdout+r.stderr, home.APIKey())
			assert.NotContains(t, r.stdout+r.stderr, password)
		})
	}
}

// TestDoctorOpenAPICredentialsAtHome: a document on the base URL's origin that wants credentials
// gets them (the API key, or a login at the base URL's own login route, path prefix included).
// issue 26 item 6: the credentials went to the origin, a login to its root rather than the base URL.
func TestDoctorOpenAPICredentialsAtHome(t *testing.T) {
	t.Parallel()
	doc := filepath.Join(fixtures, "fastapi-0.115", "response-missing.json")
	for _, auth := range []string{"key", "login"} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithBasePath("/probonus"))
			env := keyEnv(srv)
			if auth == "login" {
				env = loginEnv(srv)
			}
			private := serveFile(t, doc)
			mux := http.NewServeMux()
			mux.HandleFunc("/probonus/private/openapi.json", func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-API-Key") == "" && r.Header.Get("Authorization") == "" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				private(w, r)
			})
			origin, err := url.Parse(strings.TrimSuffix(srv.URL(), "/probonus"))
			require.NoError(t, err)
			mux.Handle("/", httputil.NewSingleHostReverseProxy(origin))
			ts := httptest.NewServer(mux)
			t.Cleanup(ts.Close)
			env[envBaseURL] = ts.URL + "/probonus"
			r := runCLI(t, env, "doctor", "--openapi", ts.URL+"/probonus/private/openapi.json")
			assert.Contains(t, r.stdout, "/probonus/private/openapi.json): 1 difference", r.stdout)
		})
	}
}

// From the adversarial review of issue 26 (item 6).
// issue 26 item 6 ("credentials go only to the base URL's origin, in the doctor as everywhere"):
// everywhere else, the SDK sends credentials only within the base URL's origin AND path prefix (a
// gateway serves other applications under other prefixes; redirect.go's inScope). With the base
// URL https://gw/probonus, doctor --openapi https://gw/other/openapi.json (401) sends the other
// application the X-API-Key, and with a login POSTs the password to https://gw/api/v0/auth/login,
// the root's login route rather than the installation's.
func TestReview26DoctorOpenAPIOutsideThePrefix(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"key", "login"} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithBasePath("/probonus"))
			env := keyEnv(srv)
			_, password := srv.Login()
			if auth == "login" {
				env = loginEnv(srv)
			}
			var mu sync.Mutex
			var leaks []string
			mux := http.NewServeMux()
			origin, err := url.Parse(strings.TrimSuffix(srv.URL(), "/probonus"))
			require.NoError(t, err)
			mux.Handle("/probonus/", httputil.NewSingleHostReverseProxy(origin))
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { // the gateway's other applications
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				if r.Header.Get("X-API-Key") != "" || r.Header.Get("Authorization") != "" || strings.Contains(string(body), password) {
					leaks = append(leaks, r.Method+" "+r.URL.Path)
				}
				mu.Unlock()
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"detail":"Not authenticated"}`))
			})
			ts := httptest.NewServer(mux)
			t.Cleanup(ts.Close)
			env[envBaseURL] = ts.URL + "/probonus"
			r := runCLI(t, env, "doctor", "--openapi", ts.URL+"/other/openapi.json")
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, leaks, "credentials outside the base URL's prefix:\n%s", r.stdout)
		})
	}
}

// From the adversarial review of issue 26 (item 6).
// issue 26 item 6: doctor --openapi URL without a base URL compares that document alone; with
// PROBONUS_API_KEY (or a login) in the environment and a document that answers 401, it must say
// the document was refused, sending the stranger no credentials. It panicked (nil pointer in
// sameOrigin: there is no base URL to compare with).
func TestReview26DoctorOpenAPIWithoutBaseURL(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{{envAPIKey: "review26-key"}, {envLogin: "review26", envPassword: "review26-pw"}} {
		far := newStranger(t, "review26-pw")
		var r result
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("doctor --openapi %s panicked: %v", far.URL, p)
				}
			}()
			r = runCLI(t, env, "doctor", "--openapi", far.URL+"/openapi.json")
		}()
		far.mu.Lock()
		assert.Zero(t, far.keys+far.auths+far.pwds+far.posts, "credentials went to %s", far.URL)
		far.mu.Unlock()
		assert.Contains(t, r.stdout+r.stderr, "refused", "%s%s", r.stdout, r.stderr)
	}
}

// From the adversarial review of issue 26 (item 6).
// The doctor's verdict says "run probonus doctor --openapi FILE --report doctor-report.md and
// attach the file to an issue"; without a base URL (a user who was handed the document), that
// command panicked writing the report (nil recorder: no answers were recorded). It writes the
// report with the differences.
func TestReview26DoctorOpenAPIFileReport(t *testing.T) {
	t.Parallel()
	doc := filepath.Join(fixtures, "fastapi-0.115", "response-missing.json")
	report := filepath.Join(t.TempDir(), "doctor-report.md")
	var r result
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("doctor --openapi FILE --report panicked: %v", p)
			}
		}()
		r = runCLI(t, map[string]string{}, "doctor", "--openapi", doc, "--report", report)
	}()
	b, err := os.ReadFile(report)
	require.NoError(t, err, "no report: %s%s", r.stdout, r.stderr)
	assert.Contains(t, string(b), "Account.Tags", "the report names the difference")
}

// From the adversarial review of issue 26 (noticed): --openapi HTTP://… (a scheme in upper case, as
// pasted from some documents) is a URL, not a file named so.
func TestDoctorOpenAPIURLSchemeInUpperCase(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(serveFile(t, filepath.Join(fixtures, "fastapi-0.115", "response-missing.json")))
	t.Cleanup(ts.Close)
	r := runCLI(t, map[string]string{}, "doctor", "--openapi", "HTTP://"+strings.TrimPrefix(ts.URL, "http://")+"/openapi.json")
	assert.Contains(t, r.stdout, "1 difference", "%s%s", r.stdout, r.stderr)
}

// From the adversarial review of issue 26 (item 6): the report of --openapi URL without a base URL
// withholds the document's host, as its verdict says the server's hosts are.
func TestDoctorOpenAPIURLReportWithholdsTheHost(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(serveFile(t, filepath.Join(fixtures, "fastapi-0.115", "response-missing.json")))
	t.Cleanup(ts.Close)
	report := filepath.Join(t.TempDir(), "doctor-report.md")
	r := runCLI(t, map[string]string{}, "doctor", "--openapi", ts.URL+"/openapi.json", "--report", report)
	b, err := os.ReadFile(report)
	require.NoError(t, err, "no report: %s%s", r.stdout, r.stderr)
	assert.Contains(t, string(b), "Account.Tags", "the report names the difference")
	assert.NotContains(t, string(b), "127.0.0.1")
	assert.Contains(t, string(b), "http://<address>:")
}
