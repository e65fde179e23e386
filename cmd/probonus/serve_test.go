package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestServeParsesItsFlags: serve's flags fill its options; the flags every command shares (--demo,
// --api-key, --login, --password) mean what the fake serves, and never reach the session.
func TestServeParsesItsFlags(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want serveOptions
	}{
		{"defaults", nil, serveOptions{addr: "127.0.0.1:11030", flavor: "modern", grace: 5 * time.Second, requestLog: 10_000}},
		{"everything", []string{"--addr", ":0", "--flavor", "legacy", "--demo", "--seed", "team.json", "--api-key", "k1",
			"--login", "qa", "--password", "pw", "--token-lifetime", "30s", "--admin", "--grace", "1s", "--request-log", "50",
			"--admin-host", "probonus.qa.svc", "--admin-host", "fake.internal", "--cors", "http://localhost:3000"},
			serveOptions{addr: ":0", flavor: "legacy", demo: true, admin: true, seedFile: "team.json", apiKey: "k1",
				login: "qa", password: "pw", tokenLifetime: 30 * time.Second, grace: time.Second, requestLog: 50,
				adminHosts: []string{"probonus.qa.svc", "fake.internal"}, cors: []string{"http://localhost:3000"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var cfg config
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			cfg.register(fs) // as the app does for every command
			o := registerServe(fs)
			pos, err := parseInterspersed(fs, tc.args)
			require.NoError(t, err)
			assert.Empty(t, pos)
			assert.Equal(t, tc.want, *o)
			assert.False(t, cfg.demo, "the session would start an embedded server of its own")
			assert.Empty(t, cfg.apiKey+cfg.login+cfg.password)
		})
	}
}

// TestServeRefusesBadOptions: what cannot work is refused before anything listens, as a usage error.
func TestServeRefusesBadOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{\n  \"accounts\": [\n    {\"groupId\": 3,\n     \"phone\": \"12\"}\n  ]\n}\n"), 0o600))
	taken := filepath.Join(dir, "taken.json")
	require.NoError(t, os.WriteFile(taken, []byte("{\"accounts\": [\n\n  {\"groupId\": 3, \"phone\": \"79161112233\"}]}"), 0o600))
	ok := serveOptions{addr: "127.0.0.1:0", flavor: "modern", grace: time.Second}
	cases := []struct {
		name string
		edit func(*serveOptions)
		msg  string
	}{
		{"flavour", func(o *serveOptions) { o.flavor = "fastapi" }, `--flavor "fastapi": want modern or legacy`},
		{"address", func(o *serveOptions) { o.addr = "11030" }, `--addr "11030": want HOST:PORT`},
		{"login alone", func(o *serveOptions) { o.login = "qa" }, "--login and --password go together"},
		{"a key no client can send", func(o *serveOptions) { o.apiKey = "two words" }, "--api-key holds a space"},
		{"a CORS origin with a path", func(o *serveOptions) { o.cors = []string{"http://localhost:3000/app"} }, `--cors "http://localhost:3000/app": want an origin`},
		{"a CORS origin without a scheme", func(o *serveOptions) { o.cors = []string{"localhost:3000"} }, `--cors "localhost:3000": want an origin`},
		{"an admin host with a port", func(o *serveOptions) { o.adminHosts = []string{"probonus:11030"} }, `--admin-host "probonus:11030": want a host name`},
		{"no seed file", func(o *serveOptions) { o.seedFile = filepath.Join(dir, "none.json") }, "--seed: open"},
		{"a seed's mistake, with its line", func(o *serveOptions) { o.seedFile = bad }, bad + `:4: accounts[0]: phone "12" has 2 digits`},
		{"a seed taking the demo's phone", func(o *serveOptions) { o.seedFile, o.demo = taken, true }, taken + ":3: accounts[0]: an account with phone 79161112233 already exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := ok
			tc.edit(&o)
			var stdout, stderr bytes.Buffer
			err := runServe(context.Background(), streams(&stdout, &stderr), o)
			require.Error(t, err)
			assert.Equal(t, exitUsage, exitCode(err))
			assert.Contains(t, err.Error(), tc.msg)
			assert.Empty(t, stdout.String(), "no banner for a server that does not run")
		})
	}
}

// streams is a session with only its output: what runServe uses of one.
func streams(stdout, stderr io.Writer) *session {
	return &session{app: &app{stdout: stdout, stderr: stderr}}
}

// TestServeCompletesItsOptions: the constructor takes the session's time zone, and --demo given
// before the command name.
func TestServeCompletesItsOptions(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("UTC+5", 5*60*60)
	o, err := parseCmd(t, newServeCmd, &session{loc: loc}, "--addr", ":0")
	require.NoError(t, err)
	assert.Equal(t, serveOptions{addr: ":0", flavor: "modern", grace: 5 * time.Second, requestLog: 10_000, loc: loc}, o)

	o, err = parseCmd(t, newServeCmd, &session{loc: loc, server: probonustest.NewServer(t)})
	require.NoError(t, err)
	assert.True(t, o.demo, "--demo before serve: the fake has the demo data")
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// TestServeRunsUntilCancelled runs the command in-process: banner, one log line per request
// without a query value or a credential, a clean stop.
func TestServeRunsUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	o := serveOptions{addr: "127.0.0.1:0", flavor: "legacy", demo: true, apiKey: "team-key", login: "qa", password: "qa-secret",
		grace: time.Second, listening: func(u string) { urls <- u }}
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, streams(&stdout, &stderr), o) }()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	}
	c := newRawClient(t, base)
	r := c.do(t, "GET", probonustest.PathFindByPhone+"?phone=79161112233", "", map[string]string{"X-API-Key": "team-key"})
	assert.Equal(t, 200, r.status)
	assert.Equal(t, json.Number("142.35"), r.object(t)["balance"], "legacy: money as a number")
	r = c.do(t, "GET", "/api/v0/accounts/79161112233", "", map[string]string{"X-API-Key": "team-key"})
	assert.Equal(t, 404, r.status)
	cancel()
	require.NoError(t, <-done)

	assert.Contains(t, stdout.String(), "base URL  "+base+"\n")
	assert.Contains(t, stdout.String(), "API key   team-key  (header X-API-Key)")
	assert.Contains(t, stdout.String(), "Legacy flavour")
	log := stderr.String()
	assert.Regexp(t, `msg=request method=GET path=/api/v0/accounts/find_by_phone status=200 duration=\S+\n`, log)
	assert.Contains(t, log, "path=/api/v0/accounts/*** status=404", "a number in a path is masked")
	assert.Contains(t, log, "msg=stopped")
	for _, secret := range []string{"79161112233", "team-key", "qa-secret"} {
		assert.NotContains(t, log, secret)
	}
}

// rawClient talks to a served fake over plain HTTP, as a stranger's tool would: no SDK.
type rawClient struct {
	base string
	http *http.Client
}

func newRawClient(t *testing.T, base string) *rawClient {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &rawClient{base: base, http: &http.Client{Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type rawAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (r rawAnswer) value(t *testing.T) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "%s", r.body)
	return v
}

func (r rawAnswer) object(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.value(t).(map[string]any)
	require.True(t, ok, "not an object: %s", r.body)
	return m
}

func (r rawAnswer) list(t *testing.T) []any {
	t.Helper()
	l, ok := r.value(t).([]any)
	require.True(t, ok, "not a list: %s", r.body)
	return l
}

func (c *rawClient) do(t *testing.T, method, path, body string, header map[string]string) rawAnswer {
	t.Helper()
	a, err := c.try(method, path, body, header)
	require.NoError(t, err)
	return a
}

func (c *rawClient) try(method, path, body string, header map[string]string) (rawAnswer, error) {
	var rdr io.Reader
	if body != "" {
		rdr = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rdr)
	if err != nil {
		return rawAnswer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return rawAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

var baseURLLine = regexp.MustCompile(`base URL  (http://\S+)`)

// sayMoney is an amount as the flavour writes it: Legacy a JSON number, Modern a string.
func sayMoney(flavor, v string) any {
	if flavor == "legacy" { // Pydantic v1 writes a Decimal as it holds it: 15, not 15.00
		if strings.Contains(v, ".") {
			v = strings.TrimSuffix(strings.TrimRight(v, "0"), ".")
		}
		return json.Number(v)
	}
	return v
}

// startServeInProcess runs serve in-process with o on a free port until the test ends.
func startServeInProcess(t *testing.T, o serveOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	o.addr, o.listening = "127.0.0.1:0", func(u string) { urls <- u }
	if o.flavor == "" {
		o.flavor = "modern"
	}
	if o.grace == 0 {
		o.grace = time.Second
	}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, streams(io.Discard, io.Discard), o) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
		return ""
	}
}

// TestServeCutsSlowClients: a client that sends its headers or its body a byte at a time, or
// keeps an idle connection open, has its connection closed by the server. issue 26 item 8: serve
// set no timeout, so a slow-loris client held connections for as long as it liked.
func TestServeCutsSlowClients(t *testing.T) {
	t.Parallel()
	base := startServeInProcess(t, serveOptions{readHeaderTimeout: 300 * time.Millisecond, readTimeout: 600 * time.Millisecond, idleTimeout: 300 * time.Millisecond})
	addr := strings.TrimPrefix(base, "http://")
	cases := []struct {
		name  string
		start string // sent at once
		drip  string // then a byte at a time, again and again
	}{
		{"headers a byte at a time", "GET /api/v0/account_groups/list HTTP/1.1\r\nHost: " + addr + "\r\n", "X-Slow: aaaaaaaa\r\n"},
		{"a body a byte at a time", "POST /api/v0/accounts/refill HTTP/1.1\r\nHost: " + addr + "\r\nX-API-Key: " + probonustest.DefaultAPIKey +
			"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", "{\"reason\": \"aaaaaaaa"},
		{"idle after an answer", "GET /openapi.json HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.Write([]byte(tc.start))
			require.NoError(t, err)
			var closed atomic.Bool
			go func() { // reads (and discards) until the server closes the connection
				_, _ = io.Copy(io.Discard, conn)
				closed.Store(true)
			}()
			stop := make(chan struct{})
			defer close(stop)
			if tc.drip != "" {
				go func() {
					tick := time.NewTicker(20 * time.Millisecond)
					defer tick.Stop()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						case <-tick.C:
						}
						if _, err := conn.Write([]byte{tc.drip[i%len(tc.drip)]}); err != nil {
							return
						}
					}
				}()
			}
			assert.Eventually(t, closed.Load, 20*time.Second, 10*time.Millisecond, "the server never closed the connection")
		})
	}
}

// TestServeAdminAnswersItsOwnHosts: the admin routes answer the served address and the names
// --admin-host gives, and refuse another Host (DNS rebinding) and a page of another origin.
// issue 26 item 8.
func TestServeAdminAnswersItsOwnHosts(t *testing.T) {
	t.Parallel()
	base := startServeInProcess(t, serveOptions{admin: true, adminHosts: []string{"probonus.qa.svc"}})
	send := func(host, origin string) int {
		req, err := http.NewRequest("POST", base+"/_probonus/reset", nil)
		require.NoError(t, err)
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := newRawClient(t, base).http.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 200, send("", ""), "the served address")
	assert.Equal(t, 200, send("probonus.qa.svc:11030", ""), "a name --admin-host gives")
	assert.Equal(t, 200, send("", base), "a page of the same origin")
	assert.Equal(t, 403, send("attacker.example:11030", ""), "DNS rebinding")
	assert.Equal(t, 403, send("", "https://attacker.example"), "a cross-site POST")
}

// TestServeCORS: --cors lets a frontend's page call the fake from a browser: the preflight is
// answered (X-API-Key among the headers allowed) and the answer names the origin; the banner
// says a key in a page is anyone's. Off by default. issue 26 item 17.
func TestServeCORS(t *testing.T) {
	t.Parallel()
	const front = "http://localhost:5173"
	preflight := func(base string) *http.Response {
		req, err := http.NewRequest("OPTIONS", base+probonustest.PathFindByPhone, nil)
		require.NoError(t, err)
		req.Header.Set("Origin", front)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "x-api-key")
		resp, err := newRawClient(t, base).http.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp
	}
	resp := preflight(startServeInProcess(t, serveOptions{cors: []string{front + "/"}}))
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, front, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-API-Key")

	resp = preflight(startServeInProcess(t, serveOptions{}))
	assert.Equal(t, 405, resp.StatusCode, "off by default")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	var out bytes.Buffer
	printBanner(&out, serveOptions{cors: []string{front}}, probonustest.Modern, "http://127.0.0.1:11030", false, "k", "l", "p")
	assert.Contains(t, out.String(), "CORS      "+front+"  (a page there may call the API from a browser; an API key in a page is anyone's")
}

// From the adversarial review of issue 26 (item 17, noticed): --cors HTTP://LocalHost:5173 (or
// with the scheme's own port) is the origin a browser sends as http://localhost:5173: it is
// allowed, where the fake's byte-for-byte compare refused it.
func TestServeCORSOriginAsABrowserSendsIt(t *testing.T) {
	t.Parallel()
	for given, want := range map[string]string{
		"HTTP://LocalHost:5173/":    "http://localhost:5173",
		"https://Front.Example:443": "https://front.example",
		"http://[::1]:80":           "http://[::1]",
		"http://[::1]:5173":         "http://[::1]:5173",
		"*":                         "*",
	} {
		got, ok := browserOrigin(given)
		assert.True(t, ok, given)
		assert.Equal(t, want, got, given)
	}
	base := startServeInProcess(t, serveOptions{cors: []string{"HTTP://LocalHost:5173"}})
	req, err := http.NewRequest("OPTIONS", base+probonustest.PathFindByPhone, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := newRawClient(t, base).http.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "http://localhost:5173", resp.Header.Get("Access-Control-Allow-Origin"))
}
