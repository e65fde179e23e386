package probonus_test

// Round 3 review of issue 17 (RefillOnce across clients, redaction, null successes, FindOrInsert).
// Every test here reproduces a defect at the wire or through the public API; each says the defect,
// how it was reproduced, its severity (money / secrets / correctness / clarity) and a suggested fix.
// They are expected to FAIL until the SDK is fixed; none is skipped.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// round3Dial is an http.Client whose every connection goes to addr, whatever host and port the
// URL names: two base URL spellings of one installation reach one server.
func round3Dial(addr string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
	}}
}

// TestRound3ReviewInstallationSpellings
//
// Defect: RefillOnce's process-wide key is "scheme://lower(host):port/path". Spellings of one
// installation that are not the same string after that normalisation get different keys, so two
// Clients of the same server (one built from an env file, one from a flag, say) both look, both
// send: two credits. The trailing slash, upper-case host and explicit :80 are handled; a host
// with a trailing dot (the FQDN form, "bonus.example.ru."), the Unicode and punycode spellings of
// an IDN host (common for .рф installations), and a port written "080" are not.
// Reproduced: a probonustest server with 20 ms latency; for each pair of spellings, two Clients
// (transport dialling the one server), 4 concurrent RefillOnce each on the same key; count POSTs.
// Severity: money (a double credit).
// Suggested fix: canonicalise the installation once in New: idna.Lookup.ToASCII the host, strip
// one trailing dot, parse the port as a number (strconv.Atoi) and fall back to the scheme's default.
func TestRound3ReviewInstallationSpellings(t *testing.T) {
	t.Parallel()
	pairs := map[string][2]string{
		"trailing slash (holds)":  {"http://bonus.example.ru", "http://bonus.example.ru/"},
		"upper-case host (holds)": {"http://bonus.example.ru", "http://BONUS.Example.RU"},
		"explicit :80 (holds)":    {"http://bonus.example.ru", "http://bonus.example.ru:80/"},
		"trailing dot":            {"http://bonus.example.ru", "http://bonus.example.ru./"},
		"IDN unicode vs punycode": {"http://бонус.рф", "http://xn--90aycnj.xn--p1ai"},
		"port 080":                {"http://bonus.example.ru:8080", "http://bonus.example.ru:08080"},
	}
	for name, pair := range pairs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithLatency(20*time.Millisecond))
			id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
			addr := strings.TrimPrefix(strings.TrimPrefix(srv.URL(), "http://"), "https://")
			var clients []*probonus.Client
			for _, base := range pair {
				c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(base),
					probonus.WithAPIKey(srv.APIKey()), probonus.WithHTTPClient(round3Dial(addr)))...)
				require.NoError(t, err, base)
				clients = append(clients, c)
			}
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = clients[i%2].Accounts.RefillOnce(context.Background(), review(id, 3100, "50"))
				}()
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			assert.Equal(t, 1, srv.Count("POST", refillPath), "refills sent by 8 RefillOnce on %q and %q, one installation", pair[0], pair[1])
		})
	}
}

// TestRound3ReviewPageCapNotAMultipleOf50
//
// Defect: the look detects a cut page only when the answer is a multiple of 50 entries. A server
// whose page is 20, 25, 64 or 128 entries (every ORM's default differs) hides an older credit, and
// RefillOnce credits it again. The doc states the assumption, but nothing on the wire tells the
// caller which cap its server has, and the check could be exact.
// Reproduced: a history server capping a period at N (newest first, and oldest first), holding a
// credit 20 days old and 150 newer check accruals; RefillOnce with the same key.
// Severity: money (a double credit).
// Suggested fix: page by time instead of guessing from the count: after an answer that does not
// reach back to from (oldest entry later than from's second), read [from, oldest] again (and
// [newest, to] for an oldest-first server) until an answer adds nothing new; split only as a fallback.
func TestRound3ReviewPageCapNotAMultipleOf50(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cap    int
		oldest bool
	}{{100, false}, {100, true}, {64, false}, {25, false}, {128, false}} {
		t.Run(fmt.Sprintf("cap %d oldest first %v", tc.cap, tc.oldest), func(t *testing.T) {
			t.Parallel()
			h := &ledger{pageCap: tc.cap, oldestFirst: tc.oldest}
			now := time.Now()
			h.add(now.Add(-20*24*time.Hour), "refill", "50.00", "Отзыв о заказе 3200")
			for i := range 150 {
				h.add(now.Add(-time.Duration(150-i)*time.Hour), "check_accrual", "3.00", fmt.Sprint("Чек ", i))
			}
			res, err := ledgerClient(t, h.server(t), "ledger-test-key").Accounts.RefillOnce(context.Background(), review(1, 3200, "50"))
			require.NoError(t, err)
			assert.True(t, res.AlreadyApplied, "the 20-day-old credit is the key's")
			assert.Equal(t, int32(0), h.posts.Load(), "refills sent although the key was credited 20 days ago (server page %d)", tc.cap)
		})
	}
}

// TestRound3ReviewFiftyEntriesInOneMinuteBlockRefillOnce
//
// Defect: a full, uncut answer of exactly 50 (or 100, ...) entries that all fall in one minute (a
// batch import, a script's 50 accruals in a loop) is taken for a cut page at every split down to
// the 1-minute floor, and RefillOnce refuses with "looks like a page cut short": it can never
// credit this account until the batch leaves the 30-day lookback. Each refusal costs ~32 reads.
// Reproduced: a history server with no cap holding 50 check accruals in the same second an hour
// ago; RefillOnce of a new key.
// Severity: correctness (a guest who can't be credited for 30 days; the look amplifies load).
// Suggested fix: page by time (see the previous test); with it, a second read of [from, oldest]
// that returns only entries already seen proves the answer was whole.
//
// Resolution: by period, 50 entries of one second look the same whole or cut (the wire has whole
// seconds; TestRound3ReviewCutPageErrorPrintsClockReadings is the cut case). The last-N read, which
// the API has, tells them apart: fewer than 1000 entries are the whole history.
func TestRound3ReviewFiftyEntriesInOneMinuteBlockRefillOnce(t *testing.T) {
	t.Parallel()
	h := &ledger{lastN: true}
	batch := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 50 {
		h.add(batch, "check_accrual", "3.00", fmt.Sprint("Импорт ", i))
	}
	_, err := ledgerClient(t, h.server(t), "ledger-test-key").Accounts.RefillOnce(context.Background(), review(1, 3300, "50"))
	require.NoError(t, err, "nothing hides the key's absence: the server answered the period in full")
	assert.Equal(t, int32(1), h.posts.Load(), "refills sent")
	assert.LessOrEqual(t, h.gets.Load(), int32(6), "history reads for one look")
}

// TestRound3ReviewObjectWithoutFieldsIsAResult
//
// Defect: issue 17 #4 made a null or empty 200 a *DecodeError, but any object decodes: "{}" or an
// envelope the SDK does not know ({"data":{...}}, a newer server or a proxy's wrapper) gives
// FindByPhone an &Account{ID: 0} and a nil error (so "ErrNotFound → sign up" never runs and the
// caller stores account 0), Refill a transaction 0 with a balance of 0.00 and no error (its outcome
// is then reported as known), FindOrInsert an account 0 with created=true, and a list "[null]"
// one zero Transaction.
// Reproduced: a raw server answering 200 with each body.
// Severity: correctness (and money: a Refill reported as a definitive success with transaction 0).
// Suggested fix: require the identifying field of each typed answer (Account.ID, a RefillResult's
// transactionId, a list's elements non-null) in the typed methods, else a *DecodeError (matching
// ErrOutcomeUnknown for a write).
func TestRound3ReviewObjectWithoutFieldsIsAResult(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `{"data":{"id":1042,"phone":"79991234567"}}`} {
		t.Run("FindByPhone "+body, func(t *testing.T) {
			t.Parallel()
			s := newWireServer(t, func(conn net.Conn, _ int32, _ func()) bool { answer(conn, 200, "application/json", body); return true })
			acc, err := wireClient(t, s.URL()).Accounts.FindByPhone(context.Background(), "+79991234567")
			var de *probonus.DecodeError
			require.ErrorAs(t, err, &de, "a %s success is no account; got %+v", body, acc)
		})
		t.Run("Refill "+body, func(t *testing.T) {
			t.Parallel()
			s := newWireServer(t, func(conn net.Conn, _ int32, apply func()) bool {
				apply()
				answer(conn, 200, "application/json", body)
				return true
			})
			res, err := wireClient(t, s.URL()).Accounts.Refill(context.Background(), probonus.Refill{AccountID: 1042, Amount: probonus.MustAmount("50")})
			require.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "applied, but no transaction in the answer; got %+v", res)
		})
		t.Run("FindOrInsert "+body, func(t *testing.T) {
			t.Parallel()
			s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
				if req.Method == http.MethodGet {
					answer(conn, 404, "application/json", `{"detail":"Account not found"}`)
				} else {
					answer(conn, 200, "application/json", body)
				}
				return true
			})
			acc, created, err := wireClient(t, s).Accounts.FindOrInsert(context.Background(), probonus.NewAccount{GroupID: 3, Phone: "+79991234567"})
			require.Error(t, err, "an account 0 is no account (created=%v, %+v)", created, acc)
		})
	}
	t.Run("LastTransactions [null]", func(t *testing.T) {
		t.Parallel()
		s := newWireServer(t, func(conn net.Conn, _ int32, _ func()) bool {
			answer(conn, 200, "application/json", `[null]`)
			return true
		})
		txs, err := wireClient(t, s.URL()).Accounts.LastTransactions(context.Background(), 1042, 5)
		require.Error(t, err, "a null entry is no transaction; got %+v", txs)
	})
}

// TestRound3ReviewAccountExistsUnderReplicationLag
//
// Defect: InsertByTemplate tells "exists" from other 400s by a find after the 400, and a 404 from
// that find wins over the server's own detail ("already exists"). A find served by a lagging
// replica (or a cache) says 404 for a guest the insert's primary just refused as a duplicate: the
// error is a plain ErrBadRequest, and FindOrInsert, whose doc promises "however many calls race
// for one new phone, one account is created and every call returns it", returns that 400 to the
// call that lost the race.
// Reproduced: a raw server whose find says 404 for the first two finds (lag), then finds the
// account; its insert says 400 {"detail":"Account with this phone already exists"}.
// Severity: correctness (the race-safe sign-up is not, under replication lag).
// Suggested fix: in whyRefused, check the detail before trusting a 404 (a detail saying exists
// matches ErrAccountExists); in FindOrInsert, after ErrAccountExists or ErrOutcomeUnknown, retry
// the find a few times with backoff (within ctx) before giving up.
func TestRound3ReviewAccountExistsUnderReplicationLag(t *testing.T) {
	t.Parallel()
	lagged := func(t *testing.T) string {
		var finds atomic.Int32
		return serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
			switch {
			case req.Method == http.MethodGet && finds.Add(1) <= 2:
				answer(conn, 404, "application/json", `{"detail":"Account not found"}`)
			case req.Method == http.MethodGet:
				answer(conn, 200, "application/json", `{"id":1042,"groupId":3,"phone":"79991234567"}`)
			default:
				answer(conn, 400, "application/json", `{"detail":"Account with this phone already exists"}`)
			}
			return true
		})
	}
	t.Run("InsertByTemplate", func(t *testing.T) {
		t.Parallel()
		var finds atomic.Int32
		s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
			if req.Method == http.MethodGet {
				finds.Add(1)
				answer(conn, 404, "application/json", `{"detail":"Account not found"}`)
			} else {
				answer(conn, 400, "application/json", `{"detail":"Account with this phone already exists"}`)
			}
			return true
		})
		_, err := wireClient(t, s).Accounts.InsertByTemplate(context.Background(), probonus.NewAccount{GroupID: 3, Phone: "+79991234567"})
		require.ErrorIs(t, err, probonus.ErrBadRequest)
		assert.ErrorIs(t, err, probonus.ErrAccountExists, "the server said the account exists; a lagging find said 404: %v", err)
	})
	t.Run("FindOrInsert", func(t *testing.T) {
		t.Parallel()
		acc, created, err := wireClient(t, lagged(t)).Accounts.FindOrInsert(context.Background(), probonus.NewAccount{GroupID: 3, Phone: "+79991234567"})
		require.NoError(t, err, "the account exists: FindOrInsert returns it")
		assert.False(t, created)
		assert.Equal(t, int64(1042), acc.ID)
	})
}

// TestRound3ReviewAccountExistsForAnotherRefusal
//
// Defect: a 400 whose detail names another cause ("the group has no template") matches
// ErrAccountExists whenever the phone has an account somewhere (another group). A caller following
// the documented pattern ("on ErrAccountExists, find by phone") silently takes that other group's
// account, and a misconfigured group (no template) goes unnoticed until the first new guest;
// issue 17 #16 asked the CLI to say "no template" in exactly this case, which it cannot when the
// SDK says "exists".
// Reproduced: a raw server: insert into group 7 answers 400 {"detail":"Группа не имеет шаблона"},
// the find by phone returns an account of group 3.
// Severity: clarity (a wrong diagnosis; the wrong-group account is handed on as the guest's).
// Suggested fix: when the find succeeds but the found account is in another group and the detail
// does not say "exists", keep the plain ErrBadRequest (or match only when the detail agrees or is
// empty).
func TestRound3ReviewAccountExistsForAnotherRefusal(t *testing.T) {
	t.Parallel()
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		if req.Method == http.MethodGet {
			answer(conn, 200, "application/json", `{"id":1042,"groupId":3,"phone":"79991234567"}`)
		} else {
			answer(conn, 400, "application/json", `{"detail":"Группа не имеет шаблона для API"}`)
		}
		return true
	})
	_, err := wireClient(t, s).Accounts.InsertByTemplate(context.Background(), probonus.NewAccount{GroupID: 7, Phone: "+79991234567"})
	require.ErrorIs(t, err, probonus.ErrBadRequest)
	assert.NotErrorIs(t, err, probonus.ErrAccountExists, "the server said the group has no template: %v", err)
}

// round3Leaks fails t for each secret found in any text of err: Error(), and the APIError's
// Detail, Body and Validation, the DecodeError's Sample, wherever they are in the chain.
func round3Leaks(t *testing.T, err error, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	texts := map[string]string{"Error()": err.Error()}
	for e := err; e != nil; {
		var apiErr *probonus.APIError
		if errors.As(e, &apiErr) {
			texts["APIError.Detail"] = apiErr.Detail
			texts["APIError.Body"] = apiErr.Body
			b, _ := json.Marshal(apiErr.Validation)
			texts["APIError.Validation"] = string(b)
		}
		var de *probonus.DecodeError
		if errors.As(e, &de) {
			texts["DecodeError.Sample"] = de.Sample
		}
		var ae *probonus.AuthError
		if errors.As(e, &ae) && ae.Err != nil && ae.Err != e {
			e = ae.Err // AuthError hides a refused login's APIError from errors.As
			continue
		}
		break
	}
	for _, s := range secrets {
		for where, text := range texts {
			assert.NotContains(t, text, s, "%s holds a secret", where)
		}
	}
}

// round3KeyClient is a client of a raw server with the API key key.
func round3KeyClient(t *testing.T, base, key string) *probonus.Client {
	t.Helper()
	c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(base), probonus.WithAPIKey(key))...)
	require.NoError(t, err)
	return c
}

// TestRound3ReviewPasswordEchoedHTMLEscaped
//
// Defect: a login refused with an HTML page (a proxy's or a framework's error template) that
// echoes the password HTML-escaped ("s3cr&amp;t&lt;pw&gt;") keeps it in APIError.Detail (the
// page's title), APIError.Body and err.Error(): the redactor knows JSON- and URL-escaped forms only.
// Reproduced: a raw server whose login answers 401 text/html with the escaped password in the
// <title>; FindByPhone with WithLogin.
// Severity: secrets.
// Suggested fix: add html.EscapeString(secret) (and the &#39;/&#34; variants) to secretForms; better,
// html.UnescapeString the text of an HTML answer before redacting and taking its title.
func TestRound3ReviewPasswordEchoedHTMLEscaped(t *testing.T) {
	t.Parallel()
	const password = `s3cr&t<pw>"2026`
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		answer(conn, 401, "text/html", `<html><head><title>Login failed for cashier, password s3cr&amp;t&lt;pw&gt;&quot;2026</title></head>`+
			`<body><p>password: s3cr&amp;t&lt;pw&gt;&#34;2026</p></body></html>`)
		return true
	})
	c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(s), probonus.WithLogin("cashier", password))...)
	require.NoError(t, err)
	_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
	round3Leaks(t, err, "s3cr&amp;t&lt;pw&gt;")
}

// TestRound3ReviewKeyEchoedWithOtherJSONEscapes
//
// Defect: the raw body is redacted only for the escapings of Go's and Python's encoders. JSON lets
// an encoder escape any character: PHP's json_encode writes "/" as "\/", Jackson and .NET write
// non-ASCII as upper-case "\u043F". A key with a "/" (base64 keys have them) or a non-ASCII
// password echoed so is decoded and redacted in Detail, but APIError.Body keeps it, and a list
// inside a validation item's ctx keeps the decoded form too.
// Reproduced: raw servers answering 401/422 with the key "\/"-escaped and the password with
// upper-case \u escapes.
// Severity: secrets.
// Suggested fix: when the body is JSON, redact its decoded strings and re-encode it (or build Body
// from the redacted decoded value); walk Ctx values recursively (lists and maps), as Input is.
func TestRound3ReviewKeyEchoedWithOtherJSONEscapes(t *testing.T) {
	t.Parallel()
	const key = "pbk_live/8f3a9c2e+77d1/Qx"
	escaped := strings.ReplaceAll(key, "/", `\/`)
	t.Run(`key with \/`, func(t *testing.T) {
		t.Parallel()
		s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
			answer(conn, 401, "application/json", `{"detail":"Invalid API key: `+escaped+`"}`)
			return true
		})
		_, err := round3KeyClient(t, s, key).Accounts.FindByPhone(context.Background(), "+79991234567")
		round3Leaks(t, err, key, escaped, "8f3a9c2e+77d1")
	})
	t.Run(`key in a ctx list`, func(t *testing.T) {
		t.Parallel()
		s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
			answer(conn, 422, "application/json", `{"detail":[{"loc":["header","x-api-key"],"msg":"Invalid key","type":"value_error",`+
				`"ctx":{"tried":["`+escaped+`"]}}]}`)
			return true
		})
		_, err := round3KeyClient(t, s, key).Accounts.FindByPhone(context.Background(), "+79991234567")
		round3Leaks(t, err, key, escaped, "8f3a9c2e+77d1")
	})
	t.Run(`password with upper-case \u escapes`, func(t *testing.T) {
		t.Parallel()
		const password = "пароль-7391"
		var up strings.Builder
		for _, r := range password {
			if r < 0x80 {
				up.WriteRune(r)
			} else {
				fmt.Fprintf(&up, `\u%04X`, r)
			}
		}
		s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
			answer(conn, 401, "application/json", `{"detail":"Wrong password `+up.String()+`"}`)
			return true
		})
		c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(s), probonus.WithLogin("cashier", password))...)
		require.NoError(t, err)
		_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
		round3Leaks(t, err, password, up.String())
	})
}

// TestRound3ReviewShortPasswordIsNeverRedacted
//
// Defect: newRedactor drops every secret shorter than 6 bytes, the client's own password included:
// a login whose password is "admin" or a 4-digit PIN has it echoed verbatim in the error, the log
// and the observers. The floor is right for unknown header values ("1"), not for a credential the
// client holds.
// Reproduced: a raw server whose login answers 401 {"detail":"Invalid password 'pw7x1' for cashier01"}.
// Severity: secrets.
// Suggested fix: apply the 6-byte floor only to request header values the SDK does not own; always
// redact the held password, key and tokens (and the login's secret), whatever their length.
func TestRound3ReviewShortPasswordIsNeverRedacted(t *testing.T) {
	t.Parallel()
	const password = "pw7x1"
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		answer(conn, 401, "application/json", `{"detail":"Invalid password 'pw7x1' for cashier01"}`)
		return true
	})
	c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(s), probonus.WithLogin("cashier01", password))...)
	require.NoError(t, err)
	_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
	round3Leaks(t, err, password)
}

// TestRound3ReviewWriteRedirectDetailKeepsSecrets
//
// Defect: a write answered with a redirect gets Detail "a write follows no redirect; the server
// sent it to <Location>" written AFTER the redactor ran, with only the query and user info
// removed: a secret in the Location's path or fragment ("#apikey=…", "/reject/<key>") reaches
// Detail, err.Error(), the log and the observers.
// Reproduced: a raw server answering a refill with 307 and Location "/reject/<key>#apikey=<key>".
// Severity: secrets.
// Suggested fix: show only the Location's scheme and host (as redirectError does), or pass the
// sentence through the attempt's redactor and drop the fragment.
func TestRound3ReviewWriteRedirectDetailKeepsSecrets(t *testing.T) {
	t.Parallel()
	const key = "wire-test-key-0000"
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 307 Temporary Redirect\r\nLocation: /reject/%s#apikey=%s\r\nContent-Length: 0\r\n\r\n", key, key)
		return true
	})
	_, err := wireClient(t, s).Accounts.Refill(context.Background(), probonus.Refill{AccountID: 1042, Amount: probonus.MustAmount("50")})
	round3Leaks(t, err, key)
}

// TestRound3ReviewUnparsableRedirectLeaksItsLocation
//
// Defect: a read answered with a redirect whose Location does not parse (a stray "%", a space)
// fails inside net/http with `failed to parse Location header "<the whole header>"`; the SDK only
// unwraps *url.Error, so the header verbatim, echoed key or the request's query with the guest's
// phone, is in err.Error(), the log and the observers. (The SDK keeps queries out of errors because
// they hold phones.)
// Reproduced: a raw server answering find_by_phone with 302 and Location
// "http://gw.example/%zz/find_by_phone?phone=79991234567&apikey=<key>".
// Severity: secrets (and personal data).
// Suggested fix: in attempt, recognise net/http's Location parse error (or any error text) and pass
// it through the attempt's redactor plus redactURL; simplest: replace it with "the server sent a
// redirect whose Location does not parse".
func TestRound3ReviewUnparsableRedirectLeaksItsLocation(t *testing.T) {
	t.Parallel()
	const key = "wire-test-key-0000"
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 302 Found\r\nLocation: http://gw.example/%%zz/find_by_phone?phone=79991234567&apikey=%s\r\nContent-Length: 0\r\n\r\n", key)
		return true
	})
	_, err := wireClient(t, s).Accounts.FindByPhone(context.Background(), "+79991234567")
	round3Leaks(t, err, key, "79991234567")
}

// bearerTransport adds a bearer token to each request the way golang.org/x/oauth2's Transport or a
// vault-injecting RoundTripper does: on a clone of the request, below the SDK.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// TestRound3ReviewTransportCredentialsAreNotRedacted
//
// Defect: the redactor takes the secrets from the request the SDK built; a credential added below
// it, by an oauth2.Transport or a token-injecting RoundTripper passed with WithHTTPClient (with
// WithoutAuth), is not in it, so an echoed token stays in Detail, Body and err.Error().
// net/http hands the request it actually sent back as resp.Request, headers included.
// Reproduced: WithHTTPClient(&http.Client{Transport: bearerTransport{...}}) and a raw server
// answering 401 {"detail":"Invalid token <token>"}.
// Severity: secrets.
// Suggested fix: in attempt, add resp.Request.Header's values (when resp.Request is not req) to
// the attempt's secrets, with the same exclusions as req's.
func TestRound3ReviewTransportCredentialsAreNotRedacted(t *testing.T) {
	t.Parallel()
	const token = "eyJhbGciOiJIUzI1NiJ9.vault-issued-token.sig"
	s := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
		answer(conn, 401, "application/json", `{"detail":"Invalid token `+req.Header.Get("Authorization")+`"}`)
		return true
	})
	hc := &http.Client{Transport: bearerTransport{token: token, base: http.DefaultTransport}}
	c, err := probonus.New(append(probonustest.TestSettings(), probonus.WithBaseURL(s), probonus.WithoutAuth(), probonus.WithHTTPClient(hc))...)
	require.NoError(t, err)
	_, err = c.Accounts.FindByPhone(context.Background(), "+79991234567")
	require.ErrorIs(t, err, probonus.ErrUnauthorized)
	round3Leaks(t, err, token)
}

// TestRound3ReviewBaseURLOfTheSwaggerPage
//
// Defect: WithBaseURL refuses a base ending in /api or /api/v0 because every call would be a 404
// that reads as "no such guest", but not the other URL a newcomer copies from the browser: the
// installation's Swagger page (/docs, /redoc, /openapi.json), which is where the API is documented
// ("ProBonus publishes its API only as a Swagger page inside each installation"). With it every
// FindByPhone is ErrNotFound, and the quickstart's "not found → sign up" runs for every guest.
// Reproduced: New with each URL.
// Severity: clarity (a misconfiguration that reads as data).
// Suggested fix: refuse (case-insensitively) a path ending in /docs, /redoc, /openapi.json or
// /swagger, with the same "give the server's root" message.
func TestRound3ReviewBaseURLOfTheSwaggerPage(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:11030/docs", "http://127.0.0.1:11030/redoc", "http://127.0.0.1:11030/openapi.json"} {
		_, err := probonus.New(probonus.WithBaseURL(u), probonus.WithAPIKey("k-000000"))
		assert.Error(t, err, "%s is the Swagger page, not the server's root", u)
	}
}

// TestRound3ReviewBaseURLErrorShowsPartOfThePassword
//
// Defect: redactURL cuts the URL at its first "?" or "#" before it removes the user info, so a
// password holding either ("http://admin:pa?ss@host", a common password character) leaves
// "http://admin:pa" in the refusal: the login and the start of the password, in an error the CLI
// prints and a log keeps (issue 17 #9 asked for the URL without its user info).
// Reproduced: New(WithBaseURL(...)) with such URLs.
// Severity: secrets.
// Suggested fix: in redactURL, drop everything between "//" and the last "@" before the first "/"
// after it first, then cut the query and fragment; or show only the scheme and host when the
// URL does not parse.
func TestRound3ReviewBaseURLErrorShowsPartOfThePassword(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://admin:pa?ss-2026@bonus.example.ru", "http://admin:pa#ss-2026@bonus.example.ru/",
		"https://admin:pa?ss-2026@bonus.example.ru:8443/proxy"} {
		_, err := probonus.New(probonus.WithBaseURL(u), probonus.WithAPIKey("k-000000"))
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "admin:pa", "the refusal of %s", u)
		assert.NotContains(t, err.Error(), "admin", "no part of the user info")
	}
}

// TestRound3ReviewPhoneCheckRefusesWhatTheParserRead
//
// Defect: issue 17 #17's strayCharacters refuses every rune outside a short list, not only letters
// and extension marks, so numbers the SDK read before (and libphonenumber reads as valid) are now
// refused: the first phone of a CSV file with a byte-order mark ("\ufeff+7 999 123-45-67"), a number
// typed with a full-width IME (the doc says full-width digits are read, but its parentheses and
// hyphen are refused), an ideographic space, "[999]", a soft hyphen pasted from a web page. The
// error then names an invisible character ("holds '\ufeff'").
// Reproduced: NormalizePhone on each; each is valid for phonenumbers.Parse(raw, "RU").
// Severity: correctness (a regression: sign-ups and look-ups that worked fail).
// Suggested fix: refuse only what marks an extension or another number (letters, '#', ',', ';',
// '*', a '+' after the start) and leave other punctuation, spaces (unicode.IsSpace, Zs) and format
// characters (Cf, stripped first) to the parser.
func TestRound3ReviewPhoneCheckRefusesWhatTheParserRead(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"\ufeff+7 999 123-45-67", "＋７（９９９）１２３－４５－６７", "+7\u3000999\u3000123\u300045\u300067",
		"+7 [999] 123-45-67", "+7 999 123 45 67\u00ad"} {
		n, err := probonus.NormalizePhone(p)
		if assert.NoError(t, err, "%q", p) {
			assert.Equal(t, "79991234567", n)
		}
	}
}

// TestRound3ReviewCutPageErrorPrintsClockReadings
//
// Defect: RefillOnce's "looks like a page cut short" error prints its window with time.Time's
// String: in UTC, to the nanosecond, with the monotonic clock reading ("2026-12-03
// 12:13:42.391811609 +0000 UTC m=-3634.697027959"), not as the wire or the client's location
// writes it; an operator cannot match it to the server's log.
// Reproduced: a history server that always answers 50 entries of one second (a cap of 50 and a
// busy second), so the split reaches its floor.
// Severity: clarity.
// Suggested fix: format from and to as the request did (formatWireTime in the client's location,
// or time.RFC3339 with the offset), without the monotonic reading (t.Round(0)).
func TestRound3ReviewCutPageErrorPrintsClockReadings(t *testing.T) {
	t.Parallel()
	h := &ledger{pageCap: 50}
	busy := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 120 {
		h.add(busy, "check_accrual", "3.00", fmt.Sprint("Чек ", i))
	}
	_, err := ledgerClient(t, h.server(t), "ledger-test-key").Accounts.RefillOnce(context.Background(), review(1, 3400, "50"))
	require.Error(t, err, "a cut page even at the floor: nothing sent")
	assert.Equal(t, int32(0), h.posts.Load())
	assert.NotContains(t, err.Error(), " m=", "a monotonic clock reading in %v", err)
	assert.NotContains(t, err.Error(), "UTC", "the window in the client's location (MSK), as sent")
}

// TestRound3ReviewWriteAnswered302AfterApplyingIsCertain
//
// Defect: a write answered 302 is reported as certainly not applied (a final error, not
// ErrOutcomeUnknown, nothing recorded for RefillOnce), like a 301. But 302 is what most web
// frameworks send for Post/Redirect/Get after acting (Flask's and Django's redirect(), Express's
// res.redirect default to 302; 303 is the rarer spelling), so a server or gateway that applied the
// refill and then redirected to the result leads a caller following Refill's doc ("never sent
// twice unless the server certainly did not act"; on a plain error it is safe to send again) to
// credit twice. (redirect.go predates issue 17; Refill's uncertain-send record, new, misses it too.)
// Reproduced: a raw server that applies a refill, then answers 302 Location: /api/v0/accounts/...;
// Refill's error is checked for ErrOutcomeUnknown.
// Severity: money.
// Suggested fix: treat a 302 of a write like a 303 (applied may be true: ErrOutcomeUnknown, and
// Refill records the uncertain send); keep "certainly not applied" for 301, 307 and 308.
func TestRound3ReviewWriteAnswered302AfterApplyingIsCertain(t *testing.T) {
	t.Parallel()
	srv := newWireServer(t, func(conn net.Conn, _ int32, apply func()) bool {
		apply()
		_, _ = fmt.Fprint(conn, "HTTP/1.1 302 Found\r\nLocation: /api/v0/accounts/get_balance_extended?accountId=1042\r\nContent-Length: 0\r\n\r\n")
		return true
	})
	_, err := wireClient(t, srv.URL()).Accounts.Refill(context.Background(), review(1042, 3500, "50"))
	require.Error(t, err)
	assert.Equal(t, int32(1), srv.applied.Load())
	assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the server applied it, then redirected: %v", err)
}

// TestRound3ReviewLookFailingAfterAnUncertainSendIsNotUnknown
//
// Defect: after an earlier uncertain send of the key, a RefillOnce whose look fails (its deadline
// ends during the read, which is likely: settleUntil leaves it only half of what remains, or the
// history answers 500) returns the read's plain error ("GET /api/v0/accounts/transactions: context
// deadline exceeded", ErrServer), not one matching ErrOutcomeUnknown, though the key's outcome is
// unknown and the doc says such a call "returns an error matching ErrOutcomeUnknown". This is the
// flake seen in the suite: TestRefillOnceRerunWithAShortDeadline failed under
// `go test -race -count=3 -parallel 8 -shuffle on .` (seed 1796303813088115814) with exactly
// "probonus: GET /api/v0/accounts/transactions: context deadline exceeded".
// Reproduced: a raw server that never answers the refill and stalls (or 500s) the history read; a
// RefillOnce with a 100 ms deadline leaves an uncertain send, a second with 300 ms looks early.
// Severity: correctness (the error contract of the money path; a flaky test).
// Suggested fix: in RefillOnce, when last.At is set (an earlier send is uncertain), wrap a failed
// look with stillUnknown/outcomeError, as the loop does after its own send.
func TestRound3ReviewLookFailingAfterAnUncertainSendIsNotUnknown(t *testing.T) {
	t.Parallel()
	for name, history := range map[string]func(conn net.Conn){
		"the look stalls past the deadline": stall,
		"the look gets 500":                 func(conn net.Conn) { answer(conn, 500, "text/plain", "Internal Server Error") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var posts atomic.Int32
			base := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
				switch req.URL.Path {
				case refillPath:
					posts.Add(1)
					stall(conn)
					return false
				case "/api/v0/accounts/transactions":
					if posts.Load() == 0 {
						answer(conn, 200, "application/json", `[]`)
						return true
					}
					history(conn)
					return true
				}
				answer(conn, 404, "application/json", `{"detail":"Not Found"}`)
				return true
			})
			c := ledgerClient(t, base, "ledger-test-key", probonus.WithRefillSettle(5*time.Second),
				probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
			key := review(1, 3600+len(name), "50")
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			_, err := c.Accounts.RefillOnce(ctx, key)
			cancel()
			require.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the first: sent, no answer")

			ctx, cancel = context.WithTimeout(context.Background(), time.Second)
			_, err = c.Accounts.RefillOnce(ctx, key)
			cancel()
			require.Error(t, err)
			assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "an earlier send of this key is uncertain and the look failed: %v", err)
			assert.Equal(t, int32(1), posts.Load(), "refills sent")
		})
	}
}
