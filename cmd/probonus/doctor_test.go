package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/apimodel"
	"github.com/probonus-go/probonus/probonustest"
)

// TestDoctor runs doctor against servers that match the model and servers that do not; the
// output matches a golden file per case.
func TestDoctor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		golden string
		flavor probonustest.Flavor
		opts   []probonustest.Option
		env    func(srv *probonustest.Server) map[string]string
		args   []string
		code   int
	}{
		{"doctor-modern", probonustest.Modern, nil, keyEnv, []string{"--phone", guestPhone}, exitOK},
		{"doctor-legacy", probonustest.Legacy, nil, keyEnv, []string{"--phone", guestPhone}, exitOK},
		{"doctor-login", probonustest.Modern, nil, loginEnv, []string{"--phone", guestPhone}, exitOK},
		{"doctor-no-phone", probonustest.Legacy, nil, loginEnv, nil, exitOK},
		{"doctor-extra-and-renamed", probonustest.Modern, []probonustest.Option{
			probonustest.WithExtraField("transaction", "loyaltyProgram", "Кофейня+"),
			probonustest.WithRenamedField("account", "balance", "bonusBalance"),
		}, keyEnv, []string{"--phone", guestPhone}, exitOK},
		{"doctor-unreadable", probonustest.Legacy, []probonustest.Option{
			probonustest.WithExtraField("check", "datetime", "15.02.2024 09:30"),
		}, keyEnv, []string{"--phone", guestPhone}, exitFailed},
		{"doctor-api-v0", probonustest.Modern, nil, func(srv *probonustest.Server) map[string]string {
			return map[string]string{envBaseURL: srv.URL() + "/api/v0", envAPIKey: srv.APIKey()}
		}, nil, exitFailed},
		{"doctor-wrong-base-path", probonustest.Modern, []probonustest.Option{probonustest.WithBasePath("/probonus")},
			func(srv *probonustest.Server) map[string]string {
				return map[string]string{envBaseURL: strings.TrimSuffix(srv.URL(), "/probonus"), envAPIKey: srv.APIKey()}
			}, nil, exitFailed},
		{"doctor-base-path", probonustest.Legacy, []probonustest.Option{probonustest.WithBasePath("/probonus")}, keyEnv, nil, exitOK},
		{"doctor-no-credentials", probonustest.Modern, nil, func(srv *probonustest.Server) map[string]string {
			return map[string]string{envBaseURL: srv.URL()}
		}, nil, exitFailed},
		{"doctor-wrong-key", probonustest.Legacy, nil, func(srv *probonustest.Server) map[string]string {
			return map[string]string{envBaseURL: srv.URL(), envAPIKey: "an-old-key"}
		}, nil, exitFailed},
		{"doctor-both-credentials", probonustest.Modern, nil, func(srv *probonustest.Server) map[string]string {
			env := loginEnv(srv)
			env[envAPIKey] = srv.APIKey()
			return env
		}, nil, exitFailed},
		{"doctor-unknown-guest", probonustest.Modern, nil, keyEnv, []string{"--phone", "+7 999 000-00-00"}, exitOK},
		{"doctor-json", probonustest.Modern, nil, keyEnv, []string{"--phone", guestPhone, "--json"}, exitOK},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t, tc.flavor, tc.opts...)
			r := runCLI(t, tc.env(srv), append([]string{"doctor"}, tc.args...)...)
			assert.Equal(t, tc.code, r.code, r.stdout+r.stderr)
			golden(t, tc.golden, r)
		})
	}
}

// TestDoctorKopecks: money that is all whole and large is reported as perhaps kopecks.
func TestDoctorKopecks(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithFlavor(probonustest.Legacy))
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: guestPhone, Balance: "30000", CreatedAt: at(1, 10, 12, 0)})
	srv.AddCheck(probonustest.Check{AccountID: id, Number: 7, Datetime: at(2, 15, 9, 30), BonusPaid: "10000", BonusAccrued: "4200",
		Dishes: []probonustest.Dish{{Code: 1, Name: "Стейк", Quantity: "2", Price: "245000", DiscountSum: "2400"}}})
	r := runCLI(t, keyEnv(srv), "doctor", "--phone", guestPhone)
	assert.Equal(t, exitOK, r.code, "a warning does not fail")
	golden(t, "doctor-kopecks", r)
}

// TestDoctorOnlyReads: the doctor sends no write, whatever it checks.
func TestDoctorOnlyReads(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	r := runCLI(t, loginEnv(srv), "doctor", "--phone", guestPhone)
	require.Equal(t, exitOK, r.code, r.stdout)
	for _, req := range srv.Requests() {
		if req.Method != http.MethodGet {
			assert.Contains(t, req.Path, "/api/v0/auth/", "only logins and refreshes are POSTed")
		}
	}
	logins, refreshes := srv.AuthCounts()
	assert.Equal(t, 2, logins, "the doctor's own login, then the SDK's for the reads")
	assert.Equal(t, 1, refreshes, "the doctor's login is followed by a refresh")
	assert.Equal(t, "242.35", srv.Balance(f.account))
}

// TestDoctorReport: the report holds the doctor's output and every answer it read, with the
// guest's personal data replaced by fakes.
func TestDoctorReport(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern, probonustest.WithRenamedField("account", "firstName", "givenName"))
	path := filepath.Join(t.TempDir(), "report.md")
	r := invocation{env: keyEnv(srv), salt: []byte("test")}.run(t, "doctor", "--phone", guestPhone, "--report", path)
	require.Equal(t, exitOK, r.code, r.stdout)
	assert.Contains(t, r.stdout, "Report written to "+path+": phones, names, emails, birth dates, tokens and cards are fakes in it")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	report := string(b)
	for _, personal := range []string{"79161234567", "9161234567", `"Иван"`, "Петров", "Сергеевич", "ivan@example.com", "1987-03-14", "7001002003", "probonustest-"} {
		assert.NotContains(t, report, personal)
	}
	for _, want := range []string{
		"# probonus doctor report", "probonus-go 0.1.0",
		"warn  contract  6 answers compared with the SDK's model: 2 differences",
		"in the model, never sent (the SDK leaves them empty): Account.firstName (renamed givenName?)",
		"### GET /api/v0/accounts/find_by_phone — 200", `"givenName": "Xxxx"`, // a field the model lacks: its shape only `"restaurantName": "Пекарня на Невском"`,
		"### GET /api/v0/checks/get_by_id — 200", "7916", // a fake phone keeps the country and operator code
	} {
		assert.Contains(t, report, want)
	}
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the report is the user's own")
}

// TestDoctorTLS: a certificate this machine does not trust is reported, as the SDK would refuse it.
func TestDoctorTLS(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	ts.StartTLS()
	t.Cleanup(ts.Close)
	r := runCLI(t, map[string]string{envBaseURL: ts.URL, envAPIKey: "k"}, "doctor")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stdout, "FAIL  TLS       the server's certificate is not trusted on this machine")
	assert.Contains(t, r.stdout, "install the issuing CA on this machine")
	assert.Contains(t, r.stdout, "Verdict: 1 problem to fix (FAIL above).")
}

// TestDoctorNoServer: nothing listening is one clear failure.
func TestDoctorNoServer(t *testing.T) {
	t.Parallel()
	r := runCLI(t, map[string]string{envBaseURL: "http://127.0.0.1:1", envAPIKey: "k"}, "doctor")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stdout, "FAIL  server    no answer: ")
	assert.Contains(t, r.stdout, "a local install listens on 11030")
}

// TestDoctorJSONIsValid: --json is one JSON document with every check.
func TestDoctorJSONIsValid(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Legacy)
	r := runCLI(t, loginEnv(srv), "doctor", "--json", "--phone", guestPhone)
	require.Equal(t, exitOK, r.code, r.stdout)
	var out doctorOutput
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	assert.True(t, out.OK)
	names := make([]string, len(out.Checks))
	for i, c := range out.Checks {
		names[i] = c.Name
		assert.Equal(t, statusOK, c.Status, c.Name+": "+c.Summary)
	}
	assert.Equal(t, []string{"base URL", "address", "TLS", "server", "login", "refresh", "groups", "guest", "openapi", "contract", "money"}, names)
}

// TestDoctorOverHTTPS: behind a TLS proxy the doctor reports the handshake and the certificate,
// and checks the rest through it.
func TestDoctorOverHTTPS(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	target, err := url.Parse(srv.URL())
	require.NoError(t, err)
	ts := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(ts.Close)
	var stdout, stderr bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, roots: ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		getenv: func(k string) string { return map[string]string{envBaseURL: ts.URL, envAPIKey: srv.APIKey()}[k] }}
	code := a.run([]string{"doctor", "--phone", guestPhone})
	assert.Equal(t, exitOK, code, stdout.String())
	assert.Regexp(t, `ok    TLS       TLS 1\.3, certificate for example\.com from \S*, valid until \d{4}-\d\d-\d\d\n`, stdout.String())
	assert.Contains(t, stdout.String(), "ok    contract  6 answers compared with the SDK's model: no difference")
}

func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	jwt := func(claims string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(claims)) + ".sig"
	}
	// a server clock an hour off this one: the lifetime is exp minus iat, never exp minus now
	iat := time.Now().Add(time.Hour).Unix()
	for _, tc := range []struct {
		name string
		tok  tokenReply
		want string
	}{
		{"expiresIn", tokenReply{AccessToken: "opaque", ExpiresIn: "900"}, "valid for 15m"},
		{"expires_in", tokenReply{AccessTokenSnake: "opaque", ExpiresInSnake: "7200"}, "valid for 2h"},
		{"a JWT's exp and iat", tokenReply{AccessToken: jwt(fmt.Sprintf(`{"iat":%d,"exp":%d}`, iat, iat+90*60))}, "valid for 1h30m"},
		{"a JWT's exp alone", tokenReply{AccessToken: jwt(fmt.Sprintf(`{"exp":%d}`, iat+90*60))}, "lifetime not told"},
		{"a JWT without exp", tokenReply{AccessToken: jwt(`{"sub":"api-user"}`)}, "lifetime not told"},
		{"opaque, no expiresIn", tokenReply{AccessToken: "opaque"}, "lifetime not told"},
	} {
		assert.Contains(t, describeLifetime(lifetimeOf(tc.tok)), tc.want, tc.name)
	}
}

// TestReportWithholdsTheHost (issue 17, item 18): every host name and address of the server stay
// out of the report, this machine's too, as the verdict says; the issues URL stays.
func TestReportWithholdsTheHost(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("https://bonus.cafe.example:6896")
	require.NoError(t, err)
	d := &doctor{base: u, findings: []finding{{Name: "address", Summary: "bonus.cafe.example is 203.0.113.7, 2001:db8::7 (the internet)"}},
		redirect: "https://login.cafe.example/sso"}
	got := d.withholdHost("probonus doctor 0.1.0: https://bonus.cafe.example:6896\nok address bonus.cafe.example is 203.0.113.7, 2001:db8::7 (the internet)\n" +
		"FAIL server redirects (302) to https://login.cafe.example/sso\n" + issuesURL + "\n")
	assert.Equal(t, "probonus doctor 0.1.0: https://<host>:6896\nok address <host> is <address>, <address> (the internet)\n"+
		"FAIL server redirects (302) to https://<host>/sso\n"+issuesURL+"\n", got)
	local, err := url.Parse("http://localhost:11030")
	require.NoError(t, err)
	d = &doctor{base: local, findings: []finding{{Name: "address", Summary: "localhost is 127.0.0.1, ::1 (this machine)"}}}
	assert.Equal(t, "http://<host>:11030 <host> is <address>, <address> (this machine)",
		d.withholdHost("http://localhost:11030 localhost is 127.0.0.1, ::1 (this machine)"), "this machine's names are withheld too")

	srv, _ := newServer(t, probonustest.Modern)
	path := filepath.Join(t.TempDir(), "report.md")
	r := runCLI(t, keyEnv(srv), "doctor", "--report", path)
	require.Equal(t, exitOK, r.code, r.stdout)
	assert.Contains(t, r.stdout, "the server's host names and addresses withheld")
	assert.NotContains(t, r.stdout, "the host withheld")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "127.0.0.1")
	assert.Contains(t, string(b), "ok    address   <address> (this machine)")
	assert.Contains(t, string(b), "probonus doctor 0.1.0: http://<address>:")
}

// TestDoctorParse: --phone is normalised, and refused when it is no phone, unless --openapi
// without a base URL leaves no guest to read.
func TestDoctorParse(t *testing.T) {
	t.Parallel()
	withServer := &session{loc: moscow, cfg: config{baseURL: "http://127.0.0.1:11030"}}
	o, err := parseCmd(t, newDoctorCmd, withServer, "--phone", guestPhone, "--report", "r.md")
	require.NoError(t, err)
	assert.Equal(t, doctorOptions{phone: "79161234567", report: "r.md"}, o)

	_, err = parseCmd(t, newDoctorCmd, withServer, "--phone", "12")
	assert.Equal(t, exitUsage, exitCode(err))
	assert.ErrorContains(t, err, "--phone: ")

	o, err = parseCmd(t, newDoctorCmd, nil, "--openapi", "openapi.json", "--phone", "12")
	require.NoError(t, err)
	assert.Equal(t, doctorOptions{openapi: "openapi.json", documentOnly: true}, o)
}

// TestRunDoctor runs the doctor without flags on a session: every check, and the verdict.
func TestRunDoctor(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Legacy)
	s, stdout, _ := testSession(t, srv)
	s.cfg.apiKey, s.cfg.timeout = srv.APIKey(), probonus.DefaultTimeout // the settings the flags would give
	require.NoError(t, runDoctor(context.Background(), s, doctorOptions{phone: "79161234567"}), stdout.String())
	assert.Contains(t, stdout.String(), "ok    API key   accepted\n")
	assert.Contains(t, stdout.String(), "ok    guest     79161234567 is account 1001: ")
	assert.Contains(t, stdout.String(), "\nVerdict: ready. The SDK reads everything this installation sent.\n")
}

// TestModelOfIsTheEndpointTable (issue 28 §1): the doctor compares each read's answer with the type
// the SDK decodes it into, taken from the SDK's one endpoint table, not from a second list.
func TestModelOfIsTheEndpointTable(t *testing.T) {
	t.Parallel()
	want := map[string]any{
		"/api/v0/account_groups/list":           &[]probonus.AccountGroup{},
		"/api/v0/accounts/find_by_phone":        &probonus.Account{},
		"/api/v0/accounts/transactions":         &[]probonus.Transaction{},
		"/api/v0/accounts/get_balance_extended": &probonus.BalanceExtended{},
		"/api/v0/checks/get_by_id":              &probonus.Check{},
	}
	for path, v := range want {
		assert.IsType(t, v, modelOf(path), path)
	}
	assert.Len(t, apimodel.Paths(), len(want), "every read of the table, and only those: %v", apimodel.Paths())
	assert.Nil(t, modelOf("/api/v0/accounts/refill"), "a write's answer is not read by the doctor")
	assert.Nil(t, modelOf("/api/v0/unknown"))
}
