package probonus_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

// From the round-3 review of issue 17.
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

// From the adversarial review of issues 9 and 10.
// TestReviewWriteWithUndecodableSuccessIsNotDefinitive (money). A 2xx to a refill means the server
// applied it; if the body then cannot be decoded (the wire model is inferred: a transactionId that
// is a string on a real server) or is over the size cap, Refill returns a DecodeError or
// ErrResponseTooLarge that does not match ErrOutcomeUnknown. The README's switch sends such an
// error to "A definitive failure: nothing was applied", so the caller sends the refill again: two
// credits. Fix: a write whose 2xx body failed to decode matches ErrOutcomeUnknown (its cause stays
// reachable), or a sentinel of its own saying it was applied; RefillOnce then resolves it too.
func TestReviewWriteWithUndecodableSuccessIsNotDefinitive(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		body string
		opts []probonus.Option
	}{
		"a transactionId the model does not expect": {body: `{"transactionId":"TX-88017","balance":"100.00"}`},
		"a body over the size cap":                  {body: `{"transactionId":88017,"balance":"100.00"}`, opts: []probonus.Option{probonus.WithMaxResponseSize(16)}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var applied atomic.Int32
			base := serveRequests(t, func(conn net.Conn, req *http.Request, n int32) bool {
				applied.Add(1)
				answer(conn, 200, "application/json", tt.body)
				return true
			})
			c, err := probonus.New(append([]probonus.Option{probonus.WithBaseURL(base), probonus.WithAPIKey("decode-review-key")}, tt.opts...)...)
			require.NoError(t, err)
			_, err = c.Accounts.Refill(context.Background(), rvRefill("decode"))
			require.Error(t, err)
			assert.Equal(t, int32(1), applied.Load())
			assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the server answered 2xx: it applied the refill; this error must not read as definitive: %v", err)
		})
	}
}

// endless is an endless body of spaces inside a JSON string.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	i := 0
	if !e.started {
		i = copy(p, `["`)
		e.started = true
	}
	for ; i < len(p); i++ {
		p[i] = 'x'
	}
	return len(p), nil
}

// From the security suite of issue 10 (hardening).
// TestHugeBodiesAreCapped serves a gigabyte body with a Content-Length and an endless chunked
// stream, as success and as error: each ends in a typed error, and memory stays bounded.
func TestHugeBodiesAreCapped(t *testing.T) { // not parallel: it measures the process's allocations
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("error") != "" {
			w.WriteHeader(http.StatusBadGateway)
		}
		if r.URL.Query().Get("length") != "" {
			w.Header().Set("Content-Length", fmt.Sprint(1<<30))
		}
		_, _ = io.Copy(w, io.LimitReader(&endless{}, 1<<30))
	}))
	defer srv.Close()
	c, err := probonus.New(probonus.WithBaseURL(srv.URL), probonus.WithAPIKey("k"), probonus.WithMaxResponseSize(8<<20),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	for _, q := range []string{"length=1", "chunked=1", "error=1&length=1", "error=1&chunked=1"} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var out []string
		err := c.Do(context.Background(), "GET", "/api/v0/huge", urlValues(q), nil, &out)
		runtime.ReadMemStats(&after)
		if strings.HasPrefix(q, "error") {
			var apiErr *probonus.APIError
			require.ErrorAs(t, err, &apiErr, q)
			assert.LessOrEqual(t, len(apiErr.Body), 4<<10)
		} else {
			assert.ErrorIs(t, err, probonus.ErrResponseTooLarge, q)
		}
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d MiB allocated for a 1 GiB body", q, allocated>>20)
		assert.Less(t, allocated, uint64(128<<20), q)
	}
}

func urlValues(q string) map[string][]string {
	out := map[string][]string{}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = []string{v}
	}
	return out
}

// From the write-outcome suite of issue 9 (at the byte level).
// TestNullSuccessIsNotAResult (issue 17 #4): a 200 whose body is null, empty or white space is no
// account, list or result: every typed method returns a *DecodeError (a write's also matches
// ErrOutcomeUnknown, and is sent once); Do with an out leaves it unchanged, as documented.
func TestNullSuccessIsNotAResult(t *testing.T) {
	t.Parallel()
	reads := map[string]func(ctx context.Context, c *probonus.Client) error{
		"FindByPhone": func(ctx context.Context, c *probonus.Client) error {
			_, err := c.Accounts.FindByPhone(ctx, "+79991234567")
			return err
		},
		"AccountGroups.List": func(ctx context.Context, c *probonus.Client) error { _, err := c.AccountGroups.List(ctx); return err },
		"Transactions": func(ctx context.Context, c *probonus.Client) error {
			_, err := c.Accounts.Transactions(ctx, 1, time.Now().Add(-time.Hour), time.Now())
			return err
		},
		"LastTransactions": func(ctx context.Context, c *probonus.Client) error {
			_, err := c.Accounts.LastTransactions(ctx, 1, 5)
			return err
		},
		"BalanceExtended": func(ctx context.Context, c *probonus.Client) error {
			_, err := c.Accounts.BalanceExtended(ctx, 1)
			return err
		},
		"Checks.GetByID": func(ctx context.Context, c *probonus.Client) error { _, err := c.Checks.GetByID(ctx, 1); return err },
	}
	for _, body := range []string{"null", "", " \r\n\t", " null \n"} {
		for name, call := range reads {
			t.Run(fmt.Sprintf("%s %q", name, body), func(t *testing.T) {
				t.Parallel()
				s := newWireServer(t, func(conn net.Conn, _ int32, _ func()) bool { answer(conn, 200, "application/json", body); return true })
				err := call(context.Background(), wireClient(t, s.URL()))
				var de *probonus.DecodeError
				require.ErrorAs(t, err, &de, "a %q success is no result", body)
				assert.NotErrorIs(t, err, probonus.ErrNotFound)
				assert.NotErrorIs(t, err, probonus.ErrOutcomeUnknown, "a read")
			})
		}
		for _, w := range writes[:3] {
			t.Run(fmt.Sprintf("%s %q", w.name, body), func(t *testing.T) {
				t.Parallel()
				s := newWireServer(t, func(conn net.Conn, _ int32, apply func()) bool {
					apply()
					answer(conn, 200, "application/json", body)
					return true
				})
				err := w.call(context.Background(), wireClient(t, s.URL()))
				var de *probonus.DecodeError
				require.ErrorAs(t, err, &de)
				assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "applied, but with what result?")
				assert.Equal(t, int32(1), s.seen.Load(), "never resent")
			})
		}
	}
	t.Run("Do keeps out unchanged", func(t *testing.T) {
		t.Parallel()
		s := newWireServer(t, func(conn net.Conn, _ int32, _ func()) bool { answer(conn, 200, "application/json", " \n"); return true })
		out := map[string]any{"kept": true}
		require.NoError(t, wireClient(t, s.URL()).Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, &out))
		assert.Equal(t, map[string]any{"kept": true}, out)
	})
}
