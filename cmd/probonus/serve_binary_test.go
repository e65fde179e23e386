package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// served is the built binary running serve.
type served struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	url            string
	waited         chan error
}

// startServe starts the binary with args on a free port and waits for its banner. It is stopped
// with SIGTERM when the test ends, if it still runs.
func startServe(t *testing.T, bin string, args ...string) *served {
	t.Helper()
	s := &served{stdout: &syncBuffer{}, stderr: &syncBuffer{}, waited: make(chan error, 1)}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	s.cmd.Env = []string{"PROBONUS_API_KEY=a-real-key-that-must-not-be-served"} // serve ignores the environment's credentials
	require.NoError(t, s.cmd.Start())
	go func() { s.waited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.waited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.waited
		}
	})
	require.Eventually(t, func() bool { return baseURLLine.MatchString(s.stdout.String()) }, 20*time.Second, 10*time.Millisecond,
		"no banner; stderr: %s", s.stderr.String())
	s.url = baseURLLine.FindStringSubmatch(s.stdout.String())[1]
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *served) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.waited:
		s.waited <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	return s.cmd.ProcessState.ExitCode()
}

// buildProbonus builds the command into dir: the tests below run what a user runs.
func buildProbonus(t *testing.T, dir string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the binary is stopped with SIGTERM")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the binary with")
	}
	bin := filepath.Join(dir, "probonus")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

var key = map[string]string{"X-API-Key": probonustest.DefaultAPIKey}

// TestServeBinary drives the built binary over plain HTTP, as a team without Go would: every
// endpoint in both flavours, faults, a reset, seed files, a stop with a request in flight, and
// then the SDK once against it.
func TestServeBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildProbonus(t, dir)

	for _, flavor := range []string{"modern", "legacy"} {
		t.Run("every endpoint/"+flavor, func(t *testing.T) {
			t.Parallel()
			s := startServe(t, bin, "--flavor", flavor, "--demo", "--admin")
			c := newRawClient(t, s.url)
			money := func(v string) any { return sayMoney(flavor, v) }

			r := c.do(t, "GET", probonustest.PathAccountGroupsList, "", nil)
			if flavor == "legacy" {
				assert.Equal(t, 403, r.status, "FastAPI ≤ 0.121 refuses with 403")
			} else {
				assert.Equal(t, 401, r.status)
				assert.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"))
			}
			assert.Equal(t, "Not authenticated", r.object(t)["detail"])
			r = c.do(t, "GET", probonustest.PathAccountGroupsList, "", map[string]string{"X-API-Key": "a-real-key-that-must-not-be-served"})
			assert.Contains(t, []int{401, 403}, r.status, "the environment's key is not the fake's")

			r = c.do(t, "POST", probonustest.PathLogin, `{"login": "api-user", "password": "probonustest-password"}`, nil)
			require.Equal(t, 200, r.status, "%s", r.body)
			tokens := r.object(t)
			r = c.do(t, "POST", probonustest.PathRefreshToken, fmt.Sprintf(`{"refreshToken": %q}`, tokens["refreshToken"]), nil)
			require.Equal(t, 200, r.status, "%s", r.body)
			bearer := map[string]string{"Authorization": "Bearer " + r.object(t)["accessToken"].(string)}

			r = c.do(t, "GET", probonustest.PathAccountGroupsList, "", bearer)
			require.Equal(t, 200, r.status)
			groups := r.list(t)
			require.Len(t, groups, 2)
			assert.Equal(t, true, groups[1].(map[string]any)["haveTemplate"])

			r = c.do(t, "GET", probonustest.PathFindByPhone+"?phone=%2B7%20916%20111-22-33", "", key)
			require.Equal(t, 200, r.status)
			guest := r.object(t)
			assert.Equal(t, json.Number("1001"), guest["id"])
			assert.Equal(t, money("142.35"), guest["balance"])

			r = c.do(t, "POST", probonustest.PathInsertByTemplate, `{"accountId": 3, "phone": "+7 (999) 123-45-67", "firstName": "Анна"}`, key)
			require.Equal(t, 200, r.status, "%s", r.body)
			assert.Equal(t, money("500.00"), r.object(t)["balance"], "the template's welcome bonus")
			r = c.do(t, "POST", probonustest.PathInsertByTemplate, `{"accountId": 3, "phone": "79991234567"}`, key)
			assert.Equal(t, 400, r.status, "the account exists")

			r = c.do(t, "POST", probonustest.PathRefill, `{"accountId": 1001, "amount": "50.50", "reason": "отзыв"}`, key)
			require.Equal(t, 200, r.status, "%s", r.body)
			assert.Equal(t, money("192.85"), r.object(t)["balance"])
			r = c.do(t, "POST", probonustest.PathRefill, `{"accountId": 1001}`, key)
			require.Equal(t, 422, r.status)
			item := r.object(t)["detail"].([]any)[0].(map[string]any)
			assert.Equal(t, []any{"body", "amount"}, item["loc"])
			_, hasInput := item["input"]
			assert.Equal(t, flavor == "modern", hasInput, "Pydantic v2 items carry the input")

			r = c.do(t, "GET", probonustest.PathTransactions+"?accountId=1001&count=2", "", key)
			require.Equal(t, 200, r.status)
			txs := r.list(t)
			require.Len(t, txs, 2)
			assert.Equal(t, "refill", txs[0].(map[string]any)["type"], "newest first")
			today := time.Now().In(moscow).Format(time.DateOnly)
			r = c.do(t, "GET", probonustest.PathTransactions+"?accountId=1001&dateFrom="+today+"T00:00:00&dateTo="+today+"T23:59:59", "", key)
			require.Equal(t, 200, r.status)
			assert.NotEmpty(t, r.list(t))

			r = c.do(t, "POST", probonustest.PathUpdate, `{"accountId": 1001, "email": "petr@example.com"}`, key)
			require.Equal(t, 200, r.status, "%s", r.body)
			assert.Equal(t, "petr@example.com", r.object(t)["email"])

			r = c.do(t, "GET", probonustest.PathBalanceExtended+"?accountId=1001", "", key)
			require.Equal(t, 200, r.status)
			bal := r.object(t)
			assert.Equal(t, money("192.85"), bal["bonusBalance"])
			assert.Equal(t, money("15.00"), bal["bonusAwaitingIssue"])

			r = c.do(t, "GET", probonustest.PathCheckByID+"?checkId=5001", "", key)
			require.Equal(t, 200, r.status)
			check := r.object(t)
			assert.Equal(t, json.Number("1207"), check["number"])
			assert.Len(t, check["dishes"], 3)

			r = c.do(t, "GET", "/api/v0/nothing", "", key)
			assert.Equal(t, 404, r.status)
			r = c.do(t, "GET", probonustest.PathAccountGroupsList+"/", "", key)
			assert.Equal(t, 307, r.status, "FastAPI's trailing-slash redirect")

			r = c.do(t, "GET", "/_probonus/requests?path="+probonustest.PathRefill, "", nil)
			require.Equal(t, 200, r.status)
			assert.Len(t, r.list(t), 2)

			require.Equal(t, 0, s.stop(t))
			log := s.stderr.String()
			assert.Contains(t, log, "method=POST path=/api/v0/accounts/refill status=422")
			assert.Contains(t, log, "method=GET path=/api/v0/accounts/get_balance_extended status=200")
			for _, secret := range []string{"79161112233", "79991234567", "probonustest-api-key", "probonustest-password", "probonustest-refresh", "eyJ", "a-real-key"} {
				assert.NotContains(t, log, secret, "the request log shows no query, header or body")
			}
			assert.NotContains(t, s.stdout.String(), "a-real-key", "the environment's credentials are not printed")
		})
	}

	t.Run("a fault injected, then seen", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, bin, "--demo", "--admin")
		c := newRawClient(t, s.url)
		r := c.do(t, "POST", "/_probonus/faults", `{"method": "POST", "path": "/api/v0/accounts/refill", "afterApply": true, "status": 500, "body": "Internal Server Error"}`, nil)
		require.Equal(t, 201, r.status, "%s", r.body)
		r = c.do(t, "POST", "/_probonus/faults", `{"method": "GET", "path": "/api/v0/accounts/find_by_phone", "reset": true}`, nil)
		require.Equal(t, 201, r.status, "%s", r.body)
		r = c.do(t, "POST", "/_probonus/faults", `{"method": "post", "path": "/api/v0/accounts/refill"}`, nil)
		assert.Equal(t, 400, r.status)
		assert.Contains(t, r.object(t)["detail"], "methods are upper case")

		r = c.do(t, "POST", probonustest.PathRefill, `{"accountId": 1001, "amount": 50}`, key)
		assert.Equal(t, 500, r.status)
		assert.Equal(t, "Internal Server Error", string(r.body))
		// on a fresh connection: Go's client sends a GET again when a reused one drops unanswered
		_, err := newRawClient(t, s.url).try("GET", probonustest.PathFindByPhone+"?phone=79161112233", "", key)
		assert.Error(t, err, "the connection dropped")

		r = c.do(t, "GET", "/_probonus/accounts/1001", "", nil)
		require.Equal(t, 200, r.status)
		acc := r.object(t)
		assert.Equal(t, "192.35", acc["balance"], "the refill was applied, then its answer lost")
		assert.Len(t, acc["refills"], 1)
		r = c.do(t, "GET", "/_probonus/requests", "", nil)
		reqs := r.list(t)
		require.Len(t, reqs, 2)
		assert.Equal(t, json.Number("500"), reqs[0].(map[string]any)["fault"].(map[string]any)["status"])
		assert.Equal(t, map[string]any{"phone": []any{"79161112233"}}, reqs[1].(map[string]any)["query"])
		r = c.do(t, "GET", "/_probonus/faults", "", nil)
		assert.Empty(t, r.list(t), "both fired")
		s.stop(t)
		assert.Regexp(t, `method=GET path=/api/v0/accounts/find_by_phone status=0 duration=\S+ dropped=true`, s.stderr.String())
	})

	t.Run("a reset", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, bin, "--admin", "--seed", "../../examples/serve/seed.json")
		c := newRawClient(t, s.url)
		r := c.do(t, "GET", probonustest.PathFindByPhone+"?phone=79165550001", "", key)
		require.Equal(t, 200, r.status, "the seed is served")
		assert.Equal(t, "282.50", r.object(t)["balance"])
		r = c.do(t, "POST", probonustest.PathRefill, `{"accountId": 2001, "amount": 100}`, key)
		require.Equal(t, 200, r.status)
		r = c.do(t, "POST", probonustest.PathInsertByTemplate, `{"accountId": 7, "phone": "79165550099"}`, key)
		require.Equal(t, 200, r.status, "%s", r.body)
		assert.Equal(t, "100.00", r.object(t)["balance"], "the seeded group's welcome bonus")

		r = c.do(t, "POST", "/_probonus/reset", "", nil)
		require.Equal(t, 200, r.status)
		assert.Equal(t, json.Number("3"), r.object(t)["accounts"])
		r = c.do(t, "GET", probonustest.PathFindByPhone+"?phone=79165550001", "", key)
		assert.Equal(t, "282.50", r.object(t)["balance"])
		r = c.do(t, "GET", probonustest.PathFindByPhone+"?phone=79165550099", "", key)
		assert.Equal(t, 404, r.status)
		r = c.do(t, "GET", "/_probonus/requests", "", nil)
		assert.Len(t, r.list(t), 2, "only what came after the reset")
		r = c.do(t, "GET", "/_probonus/reset", "", nil)
		assert.Equal(t, 405, r.status)
	})

	t.Run("the API's document, as an installation serves it", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, bin, "--demo")
		c := newRawClient(t, s.url)
		doc := c.do(t, "GET", "/openapi.json", "", nil) // without credentials, as FastAPI serves it
		require.Equal(t, 200, doc.status)
		var d struct {
			OpenAPI string         `json:"openapi"`
			Paths   map[string]any `json:"paths"`
		}
		require.NoError(t, json.Unmarshal([]byte(doc.body), &d))
		assert.Equal(t, "3.1.0", d.OpenAPI)
		assert.Contains(t, d.Paths, "/api/v0/accounts/refill")
		page := c.do(t, "GET", "/docs", "", nil)
		require.Equal(t, 200, page.status)
		assert.Contains(t, string(page.body), "url: '/openapi.json'", "the Swagger page names the document the way FastAPI's does")
	})

	t.Run("the admin is off unless asked for", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, bin, "--demo")
		r := newRawClient(t, s.url).do(t, "POST", "/_probonus/reset", "", nil)
		assert.Equal(t, 404, r.status)
		assert.NotContains(t, s.stdout.String(), "/_probonus/")
	})

	t.Run("a seed file with a mistake, refused with its line", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "team.json")
		require.NoError(t, os.WriteFile(file, []byte(`{
  "accounts": [
    {"groupId": 3, "phone": "79165550001"},
    {"groupId": 3, "phone": "79165550002", "birth_date": "1990-05-17"}
  ]
}
`), 0o600))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--seed", file)
		var stdout, stderr syncBuffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "%v", err)
		assert.Equal(t, exitUsage, exit.ExitCode())
		assert.Equal(t, "probonus serve: --seed "+file+`:4: accounts[1]: unknown field "birth_date"`+"\n", stderr.String())
		assert.Empty(t, stdout.String())
	})

	t.Run("SIGTERM while a request is in flight", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, bin, "--admin")
		c := newRawClient(t, s.url)
		r := c.do(t, "POST", "/_probonus/faults", `{"method": "GET", "path": "/api/v0/account_groups/list", "delay": "1s"}`, nil)
		require.Equal(t, 201, r.status, "%s", r.body)
		answered := make(chan rawAnswer, 1)
		go func() {
			a, _ := c.try("GET", probonustest.PathAccountGroupsList, "", key)
			answered <- a
		}()
		require.Eventually(t, func() bool {
			return len(c.do(t, "GET", "/_probonus/requests", "", nil).list(t)) == 1
		}, 10*time.Second, 10*time.Millisecond, "the slow request arrived")
		require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
		a := <-answered
		assert.Equal(t, 200, a.status, "the request in flight was answered")
		assert.Contains(t, string(a.body), "Все гости")
		select {
		case err := <-s.waited:
			require.NoError(t, err, "exit 0; stderr: %s", s.stderr.String())
			s.waited <- nil
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
		}
		log := s.stderr.String()
		stopping, request := strings.Index(log, "msg=\"stopping"), strings.Index(log, "path=/api/v0/account_groups/list status=200")
		assert.True(t, stopping >= 0 && request > stopping, "the request finished after the stop began:\n%s", log)
		assert.Contains(t, log, "msg=stopped")
		_, err := newRawClient(t, s.url).try("GET", probonustest.PathAccountGroupsList, "", key)
		assert.Error(t, err, "nothing listens any more")
	})

	t.Run("the SDK against the served fake", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, bin, "--demo", "--api-key", "team-key", "--login", "qa", "--password", "qa-pass", "--token-lifetime", "2s")
		ctx := context.Background()
		for name, auth := range map[string]probonus.Option{"api key": probonus.WithAPIKey("team-key"), "login": probonus.WithLogin("qa", "qa-pass")} {
			client, err := probonus.New(probonus.WithBaseURL(s.url), auth)
			require.NoError(t, err, name)
			groups, err := client.AccountGroups.List(ctx)
			require.NoError(t, err, name)
			assert.Len(t, groups, 2)
			guest, err := client.Accounts.FindByPhone(ctx, probonustest.DemoPhone)
			require.NoError(t, err, name)
			assert.Equal(t, "Пётр", guest.FirstName)
			balance, err := client.Accounts.BalanceExtended(ctx, guest.ID)
			require.NoError(t, err, name)
			check, err := client.Checks.GetByID(ctx, 5001)
			require.NoError(t, err, name)
			assert.Len(t, check.Dishes, 3)
			res, err := client.Accounts.RefillOnce(ctx, probonus.Refill{AccountID: guest.ID, Amount: probonus.MustAmount("10"), Reason: probonus.Ptr("review " + name)})
			require.NoError(t, err, name)
			assert.Equal(t, balance.BonusBalance.Add(probonus.MustAmount("10")).String(), res.Balance.String())
			last, err := client.Accounts.LastTransactions(ctx, guest.ID, 1)
			require.NoError(t, err, name)
			require.Len(t, last, 1)
			assert.Equal(t, "review "+name, last[0].Reason)
			phone := "79990000001"
			if name == "login" {
				phone = "79990000002"
			}
			acc, err := client.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: 3, Phone: phone})
			require.NoError(t, err, name)
			_, err = client.Accounts.Update(ctx, probonus.AccountUpdate{AccountID: acc.ID, Email: probonus.Ptr("x@example.com")})
			require.NoError(t, err, name)
			_, err = client.Accounts.FindByPhone(ctx, "+7 999 999-99-99")
			assert.ErrorIs(t, err, probonus.ErrNotFound)
		}
		r := newRawClient(t, s.url).do(t, "POST", probonustest.PathLogin, `{"login": "qa", "password": "qa-pass"}`, nil)
		require.Equal(t, 200, r.status)
		assert.Equal(t, json.Number("2"), r.object(t)["expiresIn"], "--token-lifetime")
		s.stop(t)
		assert.NotContains(t, s.stderr.String(), "team-key")
		assert.NotContains(t, s.stderr.String(), "qa-pass")
	})

	// issue 26 item 7: every request's headers and body (up to 1 MiB) were kept, before the
	// credentials were checked, and never dropped: 120 requests held about 190 MiB.
	t.Run("a flood of large requests, in bounded memory", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, bin, "--admin")
		const n, size = 10_000, 100 << 10
		pad := strings.Repeat("x", size)
		body := `{"accountId": "x", "reason": "` + pad + `"}` // refused (422) after the credentials: nothing applied
		var sent, wrong atomic.Int64
		c := newRawClient(t, s.url)
		next := make(chan int)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					header := key
					if i%2 == 0 {
						header = map[string]string{"X-API-Key": "a-guess"}
					}
					r, err := c.try("POST", probonustest.PathRefill, body, header)
					if want := map[bool]int{true: 401, false: 422}[i%2 == 0]; err != nil || r.status != want {
						wrong.Add(1)
						continue
					}
					sent.Add(1)
				}
			}()
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		require.Zero(t, wrong.Load(), "requests not answered 401 or 422")
		hwm, rss := memoryOf(t, s.cmd.Process.Pid)
		t.Logf("probonus serve after %d requests of %d KiB (half refused): peak RSS %d MiB, RSS %d MiB", sent.Load(), size>>10, hwm>>20, rss>>20)
		assert.Less(t, hwm, int64(256<<20), "peak RSS: the log keeps a bounded number of requests and bytes")

		r := c.do(t, "GET", "/_probonus/requests", "", nil)
		require.Equal(t, 200, r.status)
		kept := r.list(t)
		assert.NotEmpty(t, kept)
		assert.Less(t, len(kept), n, "32 MiB hold fewer than the default --request-log of these")
		assert.Equal(t, fmt.Sprint(n-len(kept)), r.header.Get("X-Probonus-Dropped"), "the admin says how many were dropped")
		for _, e := range kept {
			e := e.(map[string]any)
			if e["auth"] == "none" || e["status"] == json.Number("401") {
				assert.NotContains(t, e, "body", "a refused request's body is not kept")
			}
		}
		index := c.do(t, "GET", "/_probonus/", "", nil).object(t)["requests"].(map[string]any)
		assert.Equal(t, json.Number(fmt.Sprint(n-len(kept))), index["dropped"])
		assert.Equal(t, json.Number(fmt.Sprint(n)), index["counts"].(map[string]any)["POST "+probonustest.PathRefill], "every request counted")
	})

}

// memoryOf is a process's peak and current resident set size, from /proc.
func memoryOf(t *testing.T, pid int) (peak, now int64) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/status")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			peak = kb << 10
		}
		if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
			now = kb << 10
		}
	}
	require.Positive(t, peak)
	return peak, now
}
