package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/probonus-go/probonus"
)

// OrderCompleted is the webhook's payload: the sender's order, the guest's ProBonus account and
// the bonus the order earns, e.g. {"order_id": "A-1234", "account_id": 1001, "bonus": "50.00"}.
// Fields the sender adds later are ignored, so a new sender release does not fail every delivery.
type OrderCompleted struct {
	OrderID   string           `json:"order_id"`
	AccountID int64            `json:"account_id"`
	Bonus     *probonus.Amount `json:"bonus"` // a JSON number or string; nil when absent
}

// Reason is the credit's reason in the guest's history, and RefillOnce's idempotency key: one
// order, one reason, so a redelivery finds the credit instead of making another. The key is the
// account, the reason and the amount: the bonus must be derived from the order alone (a sender that
// recomputed it differently on a redelivery would get a second credit).
func Reason(orderID string) string { return "Бонус за заказ " + orderID }

// SignatureHeader carries the hex HMAC-SHA256 of the body, keyed with the secret the sender and
// this service share, after "sha256=" (GitHub's scheme; use your sender's).
const SignatureHeader = "X-Signature-256"

// maxBody bounds a delivery's body: an order event is a few hundred bytes.
const maxBody = 64 << 10

// maxOrderID bounds an order id, which becomes part of the reason shown in the guest's history.
const maxOrderID = 64

// Handler answers order-completed deliveries: it credits the order's bonus with RefillOnce, once
// however often the sender delivers the same order, and answers so that the sender retries exactly
// when a retry can still help:
//
//   - 200 when the bonus is credited, and when it was credited before (a redelivery);
//   - 400 for a payload that cannot be credited as it is (malformed, a field missing or invalid),
//     401 for a bad signature, 405, 413: the sender should not retry, nothing was sent;
//   - 422 when ProBonus has no such account, or refuses the credit: retrying will not change it;
//   - 503 with Retry-After when the outcome is not known yet or ProBonus cannot be reached or used
//     (ErrOutcomeUnknown, a timeout, a 5xx, 429, ErrCoordinatorUnavailable, ErrLeaseLost, rejected
//     credentials).
//     A retry is safe: RefillOnce looks in the account's history before it sends anything, so a
//     redelivery of a credit that was applied after all finds it and answers 200.
type Handler struct {
	Accounts *probonus.AccountsService
	// Deadline bounds the work of one delivery. Keep it under the sender's own timeout (with room
	// to read the request and write the answer): an answer the sender no longer waits for counts as
	// a failure there, and it delivers again. Zero: 8 s (a sender that waits 10 s).
	Deadline time.Duration
	// RetryAfter is what a 503 asks the sender to wait. Make it at least the client's refill
	// settle time: a redelivery that reaches another process (without a fleet's coordinator) then
	// looks only once a lost send has had time to show in the history.
	RetryAfter time.Duration
	// Secret is the key of SignatureHeader. Without it anyone who can reach the service can credit
	// bonuses: leave it nil only behind something that authenticates the sender.
	Secret []byte
	Log    *slog.Logger // each delivery's outcome; nil: slog.Default()
}

// outcome is what the handler tells the sender: a status and a JSON body.
type outcome struct {
	status int
	body   Answer
}

// Answer is the JSON body of every answer: a status and the credit on success, an error otherwise.
type Answer struct {
	Status        string `json:"status,omitempty"` // "credited" or "already_credited"
	TransactionID int64  `json:"transaction_id,omitempty"`
	Balance       string `json:"balance,omitempty"` // the account's balance, "342.35"
	Error         string `json:"error,omitempty"`
	RetryAfter    int    `json:"retry_after,omitempty"` // seconds, as the Retry-After header of a 503
}

// ServeHTTP handles one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reply(w, outcome{http.StatusMethodNotAllowed, Answer{Error: "use POST"}})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.reply(w, outcome{http.StatusRequestEntityTooLarge, Answer{Error: fmt.Sprintf("the body is over %d bytes", maxBody)}})
			return
		}
		h.reply(w, outcome{http.StatusBadRequest, Answer{Error: "reading the body: " + err.Error()}})
		return
	}
	if h.Secret != nil && !validSignature(h.Secret, body, r.Header.Get(SignatureHeader)) {
		h.log().Warn("webhook refused: bad signature", "remote", r.RemoteAddr)
		h.reply(w, outcome{http.StatusUnauthorized, Answer{Error: "missing or wrong " + SignatureHeader}})
		return
	}
	order, err := ParseOrder(body)
	if err != nil {
		h.log().Warn("webhook refused: bad payload", "error", err)
		h.reply(w, outcome{http.StatusBadRequest, Answer{Error: err.Error()}})
		return
	}
	h.reply(w, h.credit(r.Context(), order))
}

// credit credits order's bonus once and says what to answer.
func (h *Handler) credit(ctx context.Context, order OrderCompleted) outcome {
	// The work goes on when the sender hangs up: cutting a credit off mid-send would only make
	// its outcome unknown. It ends at the handler's own deadline instead.
	deadline := h.Deadline
	if deadline <= 0 {
		deadline = 8 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deadline)
	defer cancel()
	res, err := h.Accounts.RefillOnce(ctx, probonus.Refill{
		AccountID: order.AccountID, Amount: *order.Bonus, Reason: probonus.Ptr(Reason(order.OrderID)),
	})
	if err != nil {
		// res is read only when err is nil. Whatever the error, this delivery cannot tell the whole
		// story; a redelivery can, since RefillOnce looks in the history before it sends.
		a, level := h.failure(order, err)
		h.log().Log(ctx, level, "order bonus not credited", "order_id", order.OrderID, "account_id", order.AccountID,
			"status", a.status, "error", err)
		return a
	}
	status := "credited"
	if res.AlreadyApplied {
		status = "already_credited"
	}
	h.log().Info("order bonus "+strings.ReplaceAll(status, "_", " "), "order_id", order.OrderID, "account_id", order.AccountID,
		"transaction_id", res.TransactionID)
	balance := res.Balance.String()
	if res.BalanceErr != nil { // the credit is known; the balance after it could not be read
		balance = ""
		h.log().Warn("balance not read after the credit", "order_id", order.OrderID, "error", res.BalanceErr)
	}
	return outcome{http.StatusOK, Answer{Status: status, TransactionID: res.TransactionID, Balance: balance}}
}

// failure turns RefillOnce's error into the answer and the log's level. The order matters: an
// unknown outcome may wrap any cause (a 5xx, a failed look), and credentials refused with a 403 or
// 422 match ErrForbidden or ErrValidation too.
func (h *Handler) failure(order OrderCompleted, err error) (outcome, slog.Level) {
	retry := func(msg string) outcome {
		return outcome{http.StatusServiceUnavailable, Answer{Error: msg, RetryAfter: retryAfterSeconds(h.RetryAfter)}}
	}
	var input *probonus.InputError
	switch {
	case errors.Is(err, probonus.ErrOutcomeUnknown):
		return retry("the credit's outcome is not known yet: deliver again later (it is looked up before anything is sent)"), slog.LevelWarn
	case errors.As(err, &input):
		return outcome{http.StatusBadRequest, Answer{Error: payloadField(input.Field) + " " + input.Reason}}, slog.LevelWarn
	case errors.Is(err, probonus.ErrUnauthorized), errors.Is(err, probonus.ErrForbidden):
		return retry("the bonus service is misconfigured: deliver again later"), slog.LevelError // this service's fault
	case errors.Is(err, probonus.ErrNotFound):
		return outcome{http.StatusUnprocessableEntity, Answer{Error: fmt.Sprintf("no ProBonus account %d", order.AccountID)}}, slog.LevelWarn
	case errors.Is(err, probonus.ErrBadRequest), errors.Is(err, probonus.ErrValidation):
		return outcome{http.StatusUnprocessableEntity, Answer{Error: "ProBonus refused the credit"}}, slog.LevelError
	default: // unreachable, timed out, 5xx, 429, the coordinator or its lease: nothing is known to be applied
		return retry("the bonus service is unavailable: deliver again later"), slog.LevelWarn
	}
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

func (h *Handler) reply(w http.ResponseWriter, a outcome) {
	if a.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(h.RetryAfter)))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body) // the sender gone: nothing left to tell it
}

// retryAfterSeconds is d in whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// ParseOrder reads and checks a delivery's body: every field present and usable, before anything is
// sent. The bonus's own rules (positive, whole kopecks) are RefillOnce's, checked before it sends.
func ParseOrder(body []byte) (OrderCompleted, error) {
	var o OrderCompleted
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&o); err != nil {
		return o, fmt.Errorf("the body is not an order event: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return o, errors.New("the body is not an order event: more than one JSON value")
	}
	o.OrderID = strings.TrimSpace(o.OrderID)
	switch {
	case o.OrderID == "":
		return o, errors.New("order_id is missing")
	case len(o.OrderID) > maxOrderID:
		return o, fmt.Errorf("order_id is longer than %d bytes", maxOrderID)
	case !utf8.ValidString(o.OrderID) || strings.ContainsFunc(o.OrderID, unicode.IsControl):
		return o, errors.New("order_id holds a control character or is not UTF-8")
	case o.AccountID <= 0:
		return o, errors.New("account_id is missing or not positive")
	case o.Bonus == nil:
		return o, errors.New("bonus is missing")
	}
	return o, nil
}

// payloadField names an SDK input field as the payload does.
func payloadField(field string) string {
	switch field {
	case "Refill.Amount":
		return "bonus"
	case "Refill.AccountID":
		return "account_id"
	case "Refill.Reason":
		return "order_id"
	}
	return field
}

// Sign is SignatureHeader's value for body: what the sender computes.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func validSignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}
