package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probonus-go/probonus/internal/redact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The credentials of TestSecretsInEveryOutput: each has characters that JSON, a URL and Go's %q
// write differently, so that every form a server may echo is tried.
const (
	echoKey      = "KEY-s3cr3t/ä+b&c<d>\"e\"-9f8e7d6c5b4a"
	echoLogin    = "login-ℓ/β+x&y@z.example"
	echoPassword = "pass wörd/+&<\"q\">-0123456789"
	echoAccess   = "tok-aCCess/+=&\"<x>\"-1122334455"
	echoRefresh  = "tok-reFResh/+=&\"<y>\"-6677889900"
	echoBasePath = "/pb"
)

// echoed is a text that repeats a secret in every form a server may: as sent, JSON-escaped,
// URL-encoded; then once more after padding that puts limit, where the SDK or the tool cuts the
// text, in the middle of it.
func echoed(secret string, limit int) string {
	b, _ := json.Marshal(secret)
	head := fmt.Sprintf("echo %s | %s | %s | %s ", secret, b[1:len(b)-1], url.QueryEscape(secret), url.PathEscape(secret))
	pad := limit - len(head) - len(secret)/2
	if pad < 0 {
		pad = 0
	}
	return head + strings.Repeat("x", pad) + secret
}

// echoServer is a ProBonus API that echoes every credential it is sent, in every answer that
// can. loginFails makes it refuse the login (echoing it and the password); keyDecodes makes it
// answer the API key with a 200 that does not decode, rather than a plain-text 401.
func echoServer(t *testing.T, loginFails, keyDecodes bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	jsonDetail := func(w http.ResponseWriter, status int, detail string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
	}
	mux.HandleFunc(echoBasePath+"/api/v0/account_groups/list", func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-API-Key")
		auth := r.Header.Get("Authorization")
		switch {
		case key != "" && keyDecodes:
			w.Header().Set("Content-Type", "application/json")
			// The start of a 200 the SDK cannot read: its sample is 256 bytes.
			_, _ = fmt.Fprintf(w, "{\"groups\": %q, \"key\": \"%s\"}", echoed(key, 256), echoed(key, 512))
		case key != "":
			// A plain-text 401: the SDK keeps its first line, cut at 200 bytes.
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, "%s\nunknown key %s\n", echoed(key, 200), echoed(key, 4096))
		case auth != "":
			jsonDetail(w, http.StatusUnauthorized, "bad token: "+echoed(strings.TrimPrefix(auth, "Bearer "), 1024))
		default:
			jsonDetail(w, http.StatusUnauthorized, "Not authenticated")
		}
	})
	mux.HandleFunc(echoBasePath+"/api/v0/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		if loginFails {
			jsonDetail(w, http.StatusUnauthorized, fmt.Sprintf("%s has no password %s", echoed(body["login"], 100), echoed(body["password"], 1024)))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"accessToken": echoAccess, "refreshToken": echoRefresh, "expiresIn": 900})
	})
	mux.HandleFunc(echoBasePath+"/api/v0/auth/refresh_token", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		jsonDetail(w, http.StatusUnauthorized, "refresh token expired: "+echoed(body["refreshToken"], 1024))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// leaks says which forms of which secrets (or a start of one, at least 10 bytes) stand in out.
func leaks(out string, secrets ...string) []string {
	var found []string
	for _, s := range secrets {
		for _, f := range redact.Forms(s, 3) {
			if strings.Contains(out, f) {
				found = append(found, fmt.Sprintf("%q", f))
				break
			} else if len(f) > 10 && strings.Contains(out, f[:10]) {
				found = append(found, fmt.Sprintf("a start of %q", f))
				break
			}
		}
	}
	return found
}

// TestSecretsInEveryOutput (issue 17, item 8): a server that echoes every credential it is sent,
// in every form, in every answer, gets none of them shown on stdout, stderr, --json, --debug or
// in --report, whichever command meets them and however the answer was cut.
func TestSecretsInEveryOutput(t *testing.T) {
	t.Parallel()
	secrets := []string{echoKey, echoLogin, echoPassword, echoAccess, echoRefresh}
	for _, tc := range []struct {
		name                   string
		loginFails, keyDecodes bool
		env                    func(base string) map[string]string
	}{
		{"API key refused in plain text", false, false, func(base string) map[string]string {
			return map[string]string{envBaseURL: base, envAPIKey: echoKey}
		}},
		{"API key answered with a 200 that does not decode", false, true, func(base string) map[string]string {
			return map[string]string{envBaseURL: base, envAPIKey: echoKey}
		}},
		{"login refused", true, false, func(base string) map[string]string {
			return map[string]string{envBaseURL: base, envLogin: echoLogin, envPassword: echoPassword}
		}},
		{"tokens refused", false, false, func(base string) map[string]string {
			return map[string]string{envBaseURL: base, envLogin: echoLogin, envPassword: echoPassword}
		}},
		{"key and login given as flags", true, true, func(base string) map[string]string {
			return map[string]string{envBaseURL: base}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := echoServer(t, tc.loginFails, tc.keyDecodes)
			env := tc.env(ts.URL + echoBasePath)
			var flags []string
			if env[envAPIKey] == "" && env[envLogin] == "" {
				flags = []string{"--api-key", echoKey}
			}
			dir := t.TempDir()
			for i, args := range [][]string{
				{"groups"}, {"groups", "--json"}, {"groups", "--debug"},
				{"doctor"}, {"doctor", "--json"}, {"doctor", "--debug"},
				{"doctor", "--report", filepath.Join(dir, "report.md")},
				{"doctor", "--json", "--debug", "--report", filepath.Join(dir, "report-json.md")},
				{"find", "+79161234567", "--debug"},
			} {
				args = append(args, flags...)
				r := runCLI(t, env, args...)
				assert.NotEqual(t, exitOK, r.code, "%v: every answer refuses: %s%s", args, r.stdout, r.stderr)
				assert.NotEmpty(t, r.stdout+r.stderr, "%v says something", args)
				assert.Empty(t, leaks(r.stdout, secrets...), "%v: a secret on stdout:\n%s", args, r.stdout)
				assert.Empty(t, leaks(r.stderr, secrets...), "%v: a secret on stderr:\n%s", args, r.stderr)
				if i == 6 || i == 7 {
					report, err := os.ReadFile(args[len(args)-1-len(flags)])
					require.NoError(t, err)
					assert.Contains(t, string(report), "# probonus doctor report")
					assert.Empty(t, leaks(string(report), secrets...), "%v: a secret in the report:\n%s", args, report)
				}
			}
		})
	}
}

// TestScrubberCutsAfterRedacting: a value cut inside a secret keeps none of it, and a secret
// split between two writes is removed as a whole.
func TestScrubberCutsAfterRedacting(t *testing.T) {
	t.Parallel()
	s := newSecrets()
	s.add("0123456789abcdef", "k")
	assert.Equal(t, "key "+mask, s.text("key 0123456789abc"), "a trailing fragment of a secret")
	assert.Equal(t, "key 012", s.text("key 012"), "too short a start to tell")
	assert.Equal(t, "a "+mask+" b", s.text("a 0123456789abcdef b"))
	assert.Equal(t, "check "+mask+"; k9", s.text("check k; k9"), "a short secret only as a word")
	assert.Equal(t, "x "+mask+"…", s.cut("x 0123456789abcdef and more", 9), "redacted, then cut")
	assert.Equal(t, "x 01…", s.cut("x 01 and more", 4))

	var b strings.Builder
	w := s.writer(&b)
	for _, part := range []string{"key 0123", "456789a", "bcdef.\nnext 0123456"} {
		_, err := w.Write([]byte(part))
		require.NoError(t, err)
	}
	w.flush()
	assert.Equal(t, "key "+mask+".\nnext "+mask, b.String())
}

// issue 28 §1 (one redactor, URL user info): the tool cut a base URL at its first '?' or '#'
// before it removed the user info, so a password holding one showed its start ("admin:pa"), and
// learnt no part of it; it now follows the SDK's reading (the user info ends at the last '@').
func TestBaseURLPasswordWithQuestionMarkIsHidden(t *testing.T) {
	t.Parallel()
	for _, password := range []string{"pa?ss-2026", "pa#ss-2026"} {
		raw := "https://admin:" + password + "@bonus.example.ru/pb"
		problem, _ := baseURLProblem(raw)
		assert.NotContains(t, problem, "admin", raw)
		assert.NotContains(t, problem, "admin:pa", raw)
		assert.NotContains(t, problem, "ss-2026", raw)
		s := newSecrets()
		s.addURL(raw)
		assert.Equal(t, "user "+mask+", password "+mask, s.text("user admin, password "+password), raw)
	}
}
