package probonus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/probonus-go/probonus/internal/redact"
)

// Sentinel errors, matched with errors.Is against any error the SDK returns.
var (
	// ErrBadRequest matches a 400 response (for example: the account already exists, or the
	// group has no template).
	ErrBadRequest = errors.New("probonus: bad request")
	// ErrAccountExists matches InsertByTemplate's 400 when an account with the phone exists (a
	// concurrent sign-up, say); the error matches ErrBadRequest too. See InsertByTemplate for
	// how it is told from the group's other refusals.
	ErrAccountExists = errors.New("probonus: an account with this phone exists")
	// ErrUnauthorized matches a 401 response, a 403 or 422 about credentials, and a failed login or refresh.
	ErrUnauthorized = errors.New("probonus: unauthorized")
	// ErrForbidden matches a 403 response that is not about credentials.
	ErrForbidden = errors.New("probonus: forbidden")
	// ErrNotFound matches a 404 response (for example: no account with that phone).
	ErrNotFound = errors.New("probonus: not found")
	// ErrValidation matches a 422 response: the server refused the request's fields.
	ErrValidation = errors.New("probonus: validation failed")
	// ErrRateLimited matches a 429 response.
	ErrRateLimited = errors.New("probonus: rate limited")
	// ErrServer matches any 5xx response.
	ErrServer = errors.New("probonus: server error")
	// ErrInvalidInput matches an *InputError: bad input caught before anything was sent.
	ErrInvalidInput = errors.New("probonus: invalid input")
	// ErrResponseTooLarge matches a response body longer than the client's cap.
	ErrResponseTooLarge = errors.New("probonus: response body too large")
	// ErrOutcomeUnknown matches the error of a write (a POST) that may have been applied without a
	// definitive answer: the request was written and then the connection broke, the answer's body
	// broke off or timed out, the caller's context ended, or the server answered 5xx. Such a write is
	// never resent; look before writing again (RefillOnce does). The cause stays reachable with
	// errors.Is and errors.As.
	ErrOutcomeUnknown = errors.New("probonus: outcome unknown: the server may have applied the request")
)

// Sentinels returns every sentinel error of the package, for code that classifies errors (an
// OpenTelemetry adapter, a metrics label): a new one is added here, and nowhere else.
func Sentinels() []error {
	return []error{ErrBadRequest, ErrAccountExists, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrValidation,
		ErrRateLimited, ErrServer, ErrInvalidInput, ErrResponseTooLarge, ErrOutcomeUnknown, ErrCoordinatorUnavailable, ErrLeaseLost}
}

const (
	maxErrorBody  = 1 << 20 // error bodies are read through this cap
	keptErrorBody = 4 << 10 // and at most this much is kept in APIError.Body
)

// APIError is a non-2xx response from the server. Everything the response said is kept;
// Error() gives one readable line without the body.
type APIError struct {
	StatusCode int    // HTTP status code
	Method     string // request method
	Path       string // request path, without the query (it may hold a phone number)
	// Detail is FastAPI's "detail" when it is a string, its compact JSON otherwise, the "error"
	// of a rate limiter, or the first line (or HTML title) of a non-JSON body.
	Detail     string
	Validation []ValidationIssue // the items of a 422 "detail" list
	RetryAfter time.Duration     // from the Retry-After header; zero when absent
	RequestID  string            // from X-Request-Id, when present
	Body       string            // the start of the body, at most 4 KiB
}

// ValidationIssue is one item of a FastAPI 422 response, in Pydantic v1 or v2 shape.
type ValidationIssue struct {
	Loc   []any          `json:"loc"`             // path to the field: strings and ints, e.g. ["body", "phone"]
	Msg   string         `json:"msg"`             // human-readable message
	Type  string         `json:"type"`            // machine-readable error type
	Input any            `json:"input,omitempty"` // Pydantic v2: the value refused
	Ctx   map[string]any `json:"ctx,omitempty"`   // Pydantic v2: parameters of the rule
	URL   string         `json:"url,omitempty"`   // FastAPI 0.100–0.110: link to the Pydantic error docs
}

// Field returns Loc joined with dots, e.g. "body.phone".
func (v ValidationIssue) Field() string {
	parts := make([]string, len(v.Loc))
	for i, p := range v.Loc {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ".")
}

// Error reads as "probonus: POST /api/v0/accounts/refill: 422 Unprocessable Entity: body.amount: field required".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "probonus: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case len(e.Validation) > 0:
		for i, v := range e.Validation {
			if i == 3 {
				fmt.Fprintf(&b, "; and %d more", len(e.Validation)-i)
				break
			}
			sep := "; "
			if i == 0 {
				sep = ": "
			}
			b.WriteString(sep)
			if f := v.Field(); f != "" {
				b.WriteString(f + ": ")
			}
			b.WriteString(v.Msg)
		}
	case e.Detail != "" && !repeatsStatus(e.StatusCode, e.Detail):
		b.WriteString(": " + e.Detail)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// repeatsStatus reports whether a detail only repeats the status line: "Not Found" for a 404, or a
// proxy page's title such as "503 Service Temporarily Unavailable" for a 503.
func repeatsStatus(code int, detail string) bool {
	d := strings.TrimSpace(detail)
	if rest, ok := strings.CutPrefix(d, strconv.Itoa(code)); ok {
		if rest == "" || rest[0] == ' ' && len(d) <= 48 {
			return true
		}
	}
	return strings.EqualFold(d, http.StatusText(code))
}

// Is reports whether the error matches one of the status sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.credentialsRejected()
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden && !e.credentialsRejected()
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrValidation:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// credentialPhrases are the details with which FastAPI and its JWT add-ons refuse credentials.
var credentialPhrases = regexp.MustCompile(`(?i)not authenticated|could not validate credentials|` +
	`signature (has )?expired|token (has )?expired|expired token|invalid token|invalid authentication credentials`)

// credentialsRejected reports whether the server refused the request's credentials: any 401,
// or a 403 / 422 whose string detail says so. The client refreshes a bearer token on exactly these.
func (e *APIError) credentialsRejected() bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden, http.StatusUnprocessableEntity:
		return len(e.Validation) == 0 && credentialPhrases.MatchString(e.Detail)
	}
	return false
}

// parseError turns a non-2xx response into an *APIError, reading at most 1 MiB of its body. It
// understands {"detail": string|object|list}, {"error": ...}, {"message": ...}, plain text and
// HTML. The secrets are removed from the whole body and what was read from it first, and only then
// are Body and Detail cut to their size.
func parseError(resp *http.Response, method, path string, secrets *redact.Set) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     method,
		Path:       path,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if !secrets.Empty() {
		body = []byte(secrets.Redact(string(body)))
	}
	var keep int
	e.Detail, e.Validation, keep = parseErrorBody(body)
	redactAPIError(secrets, e)
	e.Detail = secrets.Cut(e.Detail, keep)
	e.Body = secrets.Cut(string(body), keptErrorBody)
	return e
}

// parseErrorBody extracts the detail and validation items from an error body of any shape, and
// how much of the detail to keep: 1 KiB of JSON, 200 bytes of a text's first line.
func parseErrorBody(body []byte) (detail string, items []ValidationIssue, keep int) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "", nil, 0
	}
	var obj map[string]json.RawMessage
	if trimmed[0] == '{' && json.Unmarshal(trimmed, &obj) == nil {
		for _, key := range []string{"detail", "error", "message"} {
			raw, ok := obj[key]
			if !ok {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return s, nil, 1024
			}
			var items []ValidationIssue
			if raw[0] == '[' && json.Unmarshal(raw, &items) == nil && validationItems(items) {
				return "", items, 0
			}
			return compactJSON(raw), nil, 1024
		}
		return compactJSON(trimmed), nil, 1024
	}
	text := string(trimmed)
	if m := htmlTitle.FindStringSubmatch(text); m != nil {
		text = m[1] + m[2]
	}
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return strings.TrimSpace(text), nil, 200
}

var htmlTitle = regexp.MustCompile(`(?is)<title>\s*(.*?)\s*</title>|<h1[^>]*>\s*(.*?)\s*</h1>`)

func validationItems(items []ValidationIssue) bool {
	for _, it := range items {
		if it.Msg == "" && it.Type == "" && len(it.Loc) == 0 {
			return false
		}
	}
	return len(items) > 0
}

func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// InputError is bad input caught before any request was sent. It matches ErrInvalidInput.
type InputError struct {
	Op     string // the method it was given to, e.g. "Accounts.FindByPhone"; empty outside one
	Field  string // the Go field or parameter name, e.g. "Refill.Amount" or "phone"
	Reason string // what is wrong with it
}

// Error reads as "probonus: Accounts.Refill: invalid Refill.Amount: must be positive".
func (e *InputError) Error() string {
	if e.Op == "" {
		return "probonus: invalid " + e.Field + ": " + e.Reason
	}
	return "probonus: " + e.Op + ": invalid " + e.Field + ": " + e.Reason
}

// nameInputOp names the method an *InputError in *err was given to; every public method defers it.
func nameInputOp(err *error, op string) {
	if ie, ok := (*err).(*InputError); ok && ie.Op == "" {
		ie.Op = op
	}
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// DecodeError is a 2xx response whose body could not be decoded into the result.
type DecodeError struct {
	StatusCode int    // HTTP status code of the response
	Method     string // request method
	Path       string // request path, without the query
	Sample     string // the start of the body, at most 256 bytes
	Err        error  // the decoder's error
}

// Error reads as "probonus: GET /api/v0/...: decoding 200 response: <cause> (body starts: ...)".
func (e *DecodeError) Error() string {
	if e.Sample == "" {
		return fmt.Sprintf("probonus: %s %s: decoding %d response: %v", e.Method, e.Path, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("probonus: %s %s: decoding %d response: %v (body starts: %q)",
		e.Method, e.Path, e.StatusCode, e.Err, e.Sample)
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// AuthError is a failed login or token refresh. When the server refused it (a 4xx) it matches
// ErrUnauthorized and nothing else of the status sentinels: a login refused with 400 or 404 (a
// wrong path prefix, say) is not "already exists" or "no such guest"; StatusCode keeps the status.
// When the server could not be reached or failed (a transport error, a timeout, a 5xx), it is not
// ErrUnauthorized, which would blame the credentials for an outage: the cause is reachable with
// errors.Is (ErrServer, context.DeadlineExceeded, ...).
type AuthError struct {
	Op         string // "login" or "refresh"
	StatusCode int    // the login's or refresh's HTTP status; 0 when no answer came
	Err        error  // the cause, an *APIError with secrets removed when the server answered
}

// Error reads as "login failed: POST /api/v0/auth/login: 401 Unauthorized: ..."; the client prefixes
// the request that needed the token.
func (e *AuthError) Error() string {
	return e.Op + " failed: " + strings.TrimPrefix(e.Err.Error(), "probonus: ")
}

// Unwrap returns the cause unless the server refused the credentials (then read Err for the
// *APIError), so that a refused login matches ErrUnauthorized only.
func (e *AuthError) Unwrap() error {
	var apiErr *APIError
	if errors.As(e.Err, &apiErr) && e.refused() {
		return nil
	}
	return e.Err
}

// refused reports whether the server answered the login or refresh with a refusal (a 4xx other
// than 429, a 2xx without a token, a redirect elsewhere), rather than failing to answer.
func (e *AuthError) refused() bool {
	var apiErr *APIError
	if errors.As(e.Err, &apiErr) {
		return apiErr.StatusCode >= 400 && apiErr.StatusCode <= 499 && apiErr.StatusCode != http.StatusTooManyRequests
	}
	var decodeErr *DecodeError
	var redirectErr *redirectError
	return errors.As(e.Err, &decodeErr) || errors.As(e.Err, &redirectErr)
}

// Is makes errors.Is(err, ErrUnauthorized) true when the server refused the credentials.
func (e *AuthError) Is(target error) bool { return target == ErrUnauthorized && e.refused() }

// outcomeError is a write that may have been applied without a definitive answer. It matches
// ErrOutcomeUnknown and unwraps to its cause.
type outcomeError struct{ err error }

func (e *outcomeError) Error() string {
	return e.err.Error() + " (outcome unknown: the server may have applied it)"
}

func (e *outcomeError) Unwrap() error { return e.err }

func (e *outcomeError) Is(target error) bool { return target == ErrOutcomeUnknown }

// accountExistsError is InsertByTemplate's refusal of a phone that has an account. It matches
// ErrAccountExists and unwraps to the server's *APIError.
type accountExistsError struct{ err error }

func (e *accountExistsError) Error() string {
	return e.err.Error() + " (an account with this phone exists)"
}

func (e *accountExistsError) Unwrap() error { return e.err }

func (e *accountExistsError) Is(target error) bool { return target == ErrAccountExists }

// existsPhrases are the details with which a server may say the account exists, in both flavours
// (inferred): the fallback when the find that would prove it fails.
var existsPhrases = regexp.MustCompile(`(?i)already exists|уже существует|уже зарегистрирован`)

// otherRefusalPhrases are the details of a sign-up's other refusals: the group is unknown or has no
// template, the phone is malformed (inferred, as above).
var otherRefusalPhrases = regexp.MustCompile(`(?i)template|шаблон|group|групп|phone number|номер телефона`)
