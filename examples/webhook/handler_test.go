package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

var testSecret = []byte("webhook-test-secret")

// newHandler is a Handler on a client of srv with the fake's test settings (a 50ms settle time),
// and the guest it credits.
func newHandler(t *testing.T, srv *probonustest.Server, extra ...probonus.Option) (*Handler, int64) {
	t.Helper()
	return newHandlerWith(t, srv, srv.ClientOptions(extra...))
}

// newHandlerWith is newHandler with a client made of opts alone.
func newHandlerWith(t *testing.T, srv *probonustest.Server, opts []probonus.Option) (*Handler, int64) {
	t.Helper()
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+7 999 123-45-67", Balance: "100"})
	c, err := probonus.New(opts...)
	require.NoError(t, err)
	return &Handler{Accounts: c.Accounts, Deadline: 5 * time.Second, RetryAfter: 5 * time.Second, Secret: testSecret,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, id
}

// deliver posts body, signed, as the sender would, and returns the answer.
func deliver(t *testing.T, h http.Handler, body string) (*httptest.ResponseRecorder, Answer) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	r.Header.Set(SignatureHeader, Sign(testSecret, []byte(body)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var a Answer
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a), w.Body.String())
	return w, a
}

func order(id string, accountID int64, bonus string) string {
	return fmt.Sprintf(`{"order_id":%q,"account_id":%d,"bonus":%q}`, id, accountID, bonus)
}

// credits counts the credits the fake applied to an account for orders.
func credits(srv *probonustest.Server, accountID int64) int {
	n := 0
	for _, tx := range srv.Refills(accountID) {
		if strings.HasPrefix(tx.Reason, Reason("")) {
			n++
		}
	}
	return n
}

// issue 26 item 12: a webhook delivered twice (one after the other, or at once) credits once.
func TestWebhookDeliveredTwiceCreditsOnce(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	h, id := newHandler(t, srv)

	w, first := deliver(t, h, order("A-1", id, "50.00"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "credited", first.Status)
	assert.Equal(t, "150.00", first.Balance)
	w, again := deliver(t, h, order("A-1", id, "50")) // 50 is 50.00: the same key
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, Answer{Status: "already_credited", TransactionID: first.TransactionID, Balance: "150.00"}, again)

	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]int{}
	for range 8 {
		wg.Go(func() {
			r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(order("A-2", id, "50.00")))
			r.Header.Set(SignatureHeader, Sign(testSecret, []byte(order("A-2", id, "50.00"))))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var a Answer
			_ = json.Unmarshal(w.Body.Bytes(), &a)
			mu.Lock()
			defer mu.Unlock()
			statuses[fmt.Sprint(w.Code, " ", a.Status)]++
		})
	}
	wg.Wait()
	assert.Equal(t, map[string]int{"200 credited": 1, "200 already_credited": 7}, statuses)
	assert.Equal(t, 2, credits(srv, id), "one credit per order")
	assert.Equal(t, 2, srv.Count(http.MethodPost, probonustest.PathRefill), "a refill sent once per order")
	assert.Equal(t, "200.00", srv.Balance(id))
}

// issue 26 item 12: ProBonus applies the credit and its answer is lost; the look after the settle
// time fails too, so the outcome is unknown: 503 with Retry-After. The redelivery looks first,
// finds the credit, and answers 200 without sending it again.
func TestWebhookAnswerLostAfterApplyingThenRedelivered(t *testing.T) {
	t.Parallel()
	var srv *probonustest.Server
	var once sync.Once
	// when the refill arrives (after the look that precedes it), every attempt of the look that
	// follows the lost answer is set to fail
	failLookAfterSend := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, probonustest.PathRefill) {
				once.Do(func() {
					for range 3 {
						srv.FailNext(http.MethodGet, probonustest.PathTransactions, http.StatusBadGateway, "Bad Gateway", 0)
					}
				})
			}
			next.ServeHTTP(w, r)
		})
	}
	srv = probonustest.NewServer(t, probonustest.WithMiddleware(failLookAfterSend))
	h, id := newHandler(t, srv)
	srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{AfterApply: true, Reset: true})
	w, _ := deliver(t, h, order("A-7", id, "25.50"))
	require.Equal(t, 1, len(srv.Refills(id)), "applied")
	require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	assert.Equal(t, "5", w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), `"error":"the credit's outcome is not known yet: deliver again later`)
	assert.Contains(t, w.Body.String(), `"retry_after":5`)

	w, a := deliver(t, h, order("A-7", id, "25.50"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "already_credited", a.Status)
	assert.Equal(t, "125.50", a.Balance)
	assert.Equal(t, 1, credits(srv, id), "one credit")
	assert.Equal(t, 1, srv.Count(http.MethodPost, probonustest.PathRefill), "never sent again")
}

// issue 26 item 12: an answer lost after applying, in each way, when the look that follows works:
// RefillOnce finds the credit within the same delivery, which is answered 200 at once.
func TestWebhookAnswerLostResolvedWithinTheDelivery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault probonustest.Fault
	}{
		{"connection dropped", probonustest.Fault{AfterApply: true, Reset: true}},
		{"body broken off", probonustest.Fault{AfterApply: true, BreakBody: true}},
		{"500 after applying", probonustest.Fault{AfterApply: true, Status: 500, Body: "Internal Server Error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t)
			h, id := newHandler(t, srv)
			srv.Inject(http.MethodPost, probonustest.PathRefill, tc.fault)
			w, a := deliver(t, h, order("B-1", id, "10"))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, "credited", a.Status)
			assert.Equal(t, "110.00", a.Balance)
			assert.Equal(t, 1, credits(srv, id))
			assert.Equal(t, 1, srv.Count(http.MethodPost, probonustest.PathRefill))
		})
	}
}

// issue 26 item 12: RefillOnce finds the credit but reading the balance fails. RefillOnce never
// returns a result with an error: the credit is known, so the answer is 200, without a balance
// (BalanceErr says why), and nothing is sent again.
func TestWebhookBalanceUnreadableAfterTheCreditIsFound(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	h, id := newHandler(t, srv)
	w, _ := deliver(t, h, order("C-1", id, "5"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	for range 3 {
		srv.FailNext(http.MethodGet, probonustest.PathBalanceExtended, http.StatusServiceUnavailable, "Service Unavailable", 0)
	}
	w, a := deliver(t, h, order("C-1", id, "5"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, w.Header().Get("Retry-After"))
	assert.Equal(t, "already_credited", a.Status)
	assert.NotZero(t, a.TransactionID)
	assert.Empty(t, a.Balance, "the balance could not be read: none is shown rather than a zero")
	assert.Equal(t, 1, credits(srv, id))
	assert.Equal(t, 1, srv.Count(http.MethodPost, probonustest.PathRefill))
}

// issue 26 item 12: a delivery that cannot be credited as it is gets a 4xx (the sender must not
// retry it), and nothing is sent to ProBonus.
func TestWebhookBadDeliveriesSendNothing(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", maxOrderID+1)
	for _, tc := range []struct {
		name   string
		method string
		body   string
		sign   string // "" signs the body
		status int
		err    string
	}{
		{"not JSON", "", `order=1`, "", 400, "the body is not an order event: invalid character 'o'"},
		{"a list", "", `[]`, "", 400, "the body is not an order event: json: cannot unmarshal array"},
		{"two values", "", `{"order_id":"A","account_id":1,"bonus":1} {}`, "", 400, "more than one JSON value"},
		{"no order_id", "", `{"account_id":1,"bonus":"5"}`, "", 400, "order_id is missing"},
		{"blank order_id", "", `{"order_id":"  ","account_id":1,"bonus":"5"}`, "", 400, "order_id is missing"},
		{"long order_id", "", `{"order_id":"` + long + `","account_id":1,"bonus":"5"}`, "", 400, "order_id is longer than 64 bytes"},
		{"order_id with a newline", "", `{"order_id":"A\n1","account_id":1,"bonus":"5"}`, "", 400, "order_id holds a control character"},
		{"order_id not a string", "", `{"order_id":12,"account_id":1,"bonus":"5"}`, "", 400, "cannot unmarshal number into Go struct field OrderCompleted.order_id"},
		{"no account_id", "", `{"order_id":"A","bonus":"5"}`, "", 400, "account_id is missing or not positive"},
		{"negative account_id", "", `{"order_id":"A","account_id":-1,"bonus":"5"}`, "", 400, "account_id is missing or not positive"},
		{"no bonus", "", `{"order_id":"A","account_id":1}`, "", 400, "bonus is missing"},
		{"bonus not a number", "", `{"order_id":"A","account_id":1,"bonus":"five"}`, "", 400, "the body is not an order event"},
		{"zero bonus", "", `{"order_id":"A","account_id":1,"bonus":0}`, "", 400, "bonus must be positive"},
		{"negative bonus", "", `{"order_id":"A","account_id":1,"bonus":"-5"}`, "", 400, "bonus must be positive"},
		{"a fraction of a kopeck", "", `{"order_id":"A","account_id":1,"bonus":10.005}`, "", 400, "bonus has a fraction of a kopeck"},
		{"no signature", "", `{"order_id":"A","account_id":1,"bonus":"5"}`, "-", 401, "missing or wrong X-Signature-256"},
		{"another body's signature", "", `{"order_id":"A","account_id":1,"bonus":"500"}`, Sign(testSecret, []byte(`{"order_id":"A","account_id":1,"bonus":"5"}`)), 401, "missing or wrong"},
		{"another key's signature", "", `{"order_id":"A","account_id":1,"bonus":"5"}`, Sign([]byte("other"), []byte(`{"order_id":"A","account_id":1,"bonus":"5"}`)), 401, "missing or wrong"},
		{"GET", http.MethodGet, ``, "", 405, "use POST"},
		{"a body over 64 KiB", "", `{"order_id":"A","account_id":1,"bonus":"5","note":"` + strings.Repeat("x", maxBody) + `"}`, "", 413, "the body is over 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t)
			h, _ := newHandler(t, srv)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, Path, strings.NewReader(tc.body))
			switch tc.sign {
			case "":
				r.Header.Set(SignatureHeader, Sign(testSecret, []byte(tc.body)))
			case "-":
			default:
				r.Header.Set(SignatureHeader, tc.sign)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			var a Answer
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a), w.Body.String())
			assert.Contains(t, a.Error, tc.err)
			assert.Empty(t, w.Header().Get("Retry-After"))
			assert.Empty(t, srv.Requests(), "nothing sent to ProBonus")
		})
	}
}

// issue 26 item 12: an account ProBonus does not have is a 422 (a retry will not create it); no
// refill is sent.
func TestWebhookUnknownAccount(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	h, _ := newHandler(t, srv)
	w, a := deliver(t, h, order("D-1", 987654, "5"))
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
	assert.Equal(t, "no ProBonus account 987654", a.Error)
	assert.Empty(t, w.Header().Get("Retry-After"))
	assert.Zero(t, srv.Count(http.MethodPost, probonustest.PathRefill))
}

// failingCoordinator is a RefillCoordinator whose store is down (Redis unreachable, say).
type failingCoordinator struct{}

func (failingCoordinator) Lock(context.Context, string, time.Duration) (probonus.RefillLease, error) {
	return nil, errors.New("dial tcp 10.0.0.5:6379: connect: connection refused")
}
func (failingCoordinator) RecordUncertain(context.Context, string, probonus.UncertainSend) error {
	return errors.New("unreachable")
}
func (failingCoordinator) LastUncertain(context.Context, string) (probonus.UncertainSend, error) {
	return probonus.UncertainSend{}, errors.New("unreachable")
}

// issue 26 item 12: ProBonus unreachable or unusable, the coordinator down, the delivery's deadline
// reached: 503 with Retry-After, and nothing applied. Each is safe to deliver again.
func TestWebhookAsksToDeliverAgainLater(t *testing.T) {
	t.Parallel()
	gone := probonustest.NewServer(nil)
	goneURL := gone.URL()
	gone.Close() // nothing listens there any more
	for _, tc := range []struct {
		name    string
		prepare func(srv *probonustest.Server) []probonus.Option // the client's options
		err     string
	}{
		{"ProBonus unreachable", func(srv *probonustest.Server) []probonus.Option {
			return srv.ClientOptions(probonus.WithBaseURL(goneURL))
		}, "the bonus service is unavailable"},
		{"ProBonus answers 503", func(srv *probonustest.Server) []probonus.Option {
			for range 3 {
				srv.FailNext(http.MethodGet, probonustest.PathTransactions, 503, "<html><title>503 Service Unavailable</title></html>", 0)
			}
			return srv.ClientOptions()
		}, "the bonus service is unavailable"},
		{"ProBonus rate-limits for longer than the client waits", func(srv *probonustest.Server) []probonus.Option {
			srv.FailNext(http.MethodGet, probonustest.PathTransactions, 429, `{"error":"Rate limit exceeded"}`, time.Hour)
			return srv.ClientOptions()
		}, "the bonus service is unavailable"},
		{"the API key is refused", func(srv *probonustest.Server) []probonus.Option {
			return append(probonustest.TestSettings(), probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey("not-the-key"))
		}, "the bonus service is misconfigured"},
		{"the coordinator is down", func(srv *probonustest.Server) []probonus.Option {
			return srv.ClientOptions(probonus.WithRefillCoordinator(failingCoordinator{}))
		}, "the bonus service is unavailable"},
		{"the delivery's deadline passes during the send", func(srv *probonustest.Server) []probonus.Option {
			srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{Delay: time.Hour})
			return srv.ClientOptions()
		}, "the credit's outcome is not known yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t)
			h, id := newHandlerWith(t, srv, tc.prepare(srv))
			h.Deadline = 500 * time.Millisecond
			w, a := deliver(t, h, order("E-1", id, "5"))
			require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
			assert.Equal(t, "5", w.Header().Get("Retry-After"))
			assert.Equal(t, 5, a.RetryAfter)
			assert.Contains(t, a.Error, tc.err)
			assert.Zero(t, credits(srv, id), "nothing applied")
		})
	}
}

// issue 26 item 12: the delivery's deadline passes while the refill is on its way (503); the
// redelivery waits for that send to settle, looks, and credits once.
func TestWebhookDeadlinePassedThenRedeliveredCreditsOnce(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	h, id := newHandler(t, srv)
	h.Deadline = 300 * time.Millisecond
	srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{Delay: time.Second}) // not applied: the client gives up first
	w, _ := deliver(t, h, order("F-1", id, "7"))
	require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())

	h.Deadline = 5 * time.Second
	w, a := deliver(t, h, order("F-1", id, "7"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	// "credited" when the fake dropped the first send as its client gave up; "already_credited"
	// when a loaded machine let it through after all: either way, one credit
	assert.Contains(t, []string{"credited", "already_credited"}, a.Status)
	assert.Equal(t, 1, credits(srv, id))
	assert.Equal(t, "107.00", srv.Balance(id))
}

// issue 26 item 12: a sender that hangs up does not cut the credit off mid-send: it completes, and
// the redelivery finds it.
func TestWebhookCreditsEvenWhenTheSenderHangsUp(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	h, id := newHandler(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the sender is gone before the work starts
	body := order("G-1", id, "3")
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, Path, strings.NewReader(body))
	r.Header.Set(SignatureHeader, Sign(testSecret, []byte(body)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, 1, credits(srv, id))
	w, a := deliver(t, h, body)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "already_credited", a.Status)
}
