// Package probonusotel traces and measures a ProBonus client with OpenTelemetry.
//
//	client, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey(key),
//		probonus.WithObserver(probonusotel.New()))
//
// Each call (Accounts.Refill, say) is a span "probonus Accounts.Refill" of kind client; each HTTP
// request it makes is a child span named after the OpenTelemetry HTTP client conventions
// ("POST /api/v0/accounts/refill") with their attributes (http.request.method, server.address,
// server.port, url.template, http.response.status_code, error.type, http.request.resend_count). A
// retry is an attempt span with probonus.retry set, a replay after a renewed token one with
// probonus.replay set, and a login or token refresh is a span of its own ("probonus Auth.Refresh")
// under the attempt that needed the token. A write that may have been applied without an answer
// has probonus.outcome_unknown set on its call span.
//
// The metrics are http.client.request.duration (one value per attempt, in seconds, on the semantic
// conventions' buckets), probonus.client.operation.duration (one per call, backoff waits included),
// and the counters probonus.client.retries, probonus.client.token.refreshes and
// probonus.client.outcome_unknown.
//
// No attribute carries personal data or a credential: paths are templates, a query is never
// recorded, and an error is described by its status code or a fixed type name, never by its
// message (an API error's detail may echo a guest's phone or name).
//
// # Client.Do
//
// A path given to Client.Do is not a template: it may hold a guest's phone or an account id, and
// as an attribute it would make one metric series per guest. A Do call is the span "probonus Do",
// its attempts are named by their method alone ("GET", as the HTTP conventions name a request
// without a template), and no path is recorded on them or on the metrics, unless the caller names
// the template with probonus.WithPathTemplate:
//
//	ctx = probonus.WithPathTemplate(ctx, "/api/v0/accounts/{account_id}/cards")
//	err := client.Do(ctx, http.MethodGet, "/api/v0/accounts/"+id+"/cards", nil, nil, &cards)
//
// Then url.template and the attempts' names ("GET /api/v0/accounts/{account_id}/cards") show it,
// as they do for the typed methods. The template is recorded as given: it must hold no personal
// data.
package probonusotel

import (
	"context"
	"errors"
	"strconv"

	"github.com/probonus-go/probonus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/probonus-go/probonus/probonusotel"

// Attribute keys of this package; the rest are OpenTelemetry's semantic conventions.
const (
	// OperationKey names the SDK call, e.g. "Accounts.Refill", "Auth.Refresh".
	OperationKey = attribute.Key("probonus.operation")
	// AttemptsKey is the number of attempts a call made, replays included.
	AttemptsKey = attribute.Key("probonus.attempts")
	// OutcomeUnknownKey is true on a write that may have been applied without an answer.
	OutcomeUnknownKey = attribute.Key("probonus.outcome_unknown")
	// RetryKey is true on an attempt sent because the one before it failed in a retryable way.
	RetryKey = attribute.Key("probonus.retry")
	// ReplayKey is true on an attempt sent again after the server rejected the credentials and
	// they were renewed.
	ReplayKey = attribute.Key("probonus.replay")
	// RetryReasonKey says why another attempt followed this one: a fixed phrase of the SDK such as
	// "rate limited (429)".
	RetryReasonKey = attribute.Key("probonus.retry.reason")
)

// Operations whose calls obtain a token rather than do the user's work.
const (
	opLogin   = "Auth.Login"
	opRefresh = "Auth.Refresh"
)

// Observer is a probonus.Observer that makes OpenTelemetry spans (tracing.go) and metrics
// (metrics.go). Make one with New; it is safe for concurrent use and may be shared by several
// clients.
type Observer struct {
	tracer trace.Tracer
	props  propagation.TextMapPropagator
	metrics
}

var _ probonus.Observer = (*Observer)(nil)

// New makes an Observer. An instrument the MeterProvider refuses is reported to otel.Handle and
// replaced by a no-op one, so New never fails: tracing goes on without that metric.
func New(opts ...Option) *Observer {
	cfg := newConfig(opts)
	tracer := cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(probonus.Version), trace.WithSchemaURL(semconv.SchemaURL))
	return &Observer{tracer: tracer, props: cfg.props, metrics: newMetrics(cfg.mp)}
}

// CallStart starts the call's span, "probonus <Operation>" of kind client.
func (o *Observer) CallStart(ctx context.Context, c *probonus.Call) context.Context {
	return o.startCallSpan(ctx, c)
}

// CallEnd ends the call's span and records the call's metrics.
func (o *Observer) CallEnd(ctx context.Context, c *probonus.Call) {
	uncertain := c.OutcomeUnknown || errors.Is(c.Err, probonus.ErrOutcomeUnknown)
	var errType string
	if c.Err != nil {
		errType = ErrorType(c.Err)
	}
	o.recordCall(ctx, c, uncertain, errType)
	o.endCallSpan(ctx, c, uncertain, errType)
}

// AttemptStart starts the attempt's span, a child of the call's, counts a retry, and adds the
// propagator's headers (traceparent) to a.Header.
func (o *Observer) AttemptStart(ctx context.Context, a *probonus.Attempt) context.Context {
	ctx = o.startAttemptSpan(ctx, a)
	o.countRetry(ctx, a)
	o.props.Inject(ctx, propagation.HeaderCarrier(a.Header))
	return ctx
}

// AttemptEnd ends the attempt's span and records http.client.request.duration.
func (o *Observer) AttemptEnd(ctx context.Context, a *probonus.Attempt) {
	errType := attemptErrorType(a)
	o.recordAttempt(ctx, a, errType)
	o.endAttemptSpan(ctx, a, errType)
}

// attemptErrorType follows the HTTP conventions: the status code when the server answered with an
// error status, else the type of the failure; "" for a success.
func attemptErrorType(a *probonus.Attempt) string {
	if a.StatusCode >= 400 {
		return strconv.Itoa(a.StatusCode)
	}
	if a.Err != nil {
		return ErrorType(a.Err)
	}
	return ""
}

// requestAttrs are the HTTP client conventions' attributes of every call and attempt: method,
// server, port and, when the call has one, the template of the path the server saw, with room for
// more.
func requestAttrs(c *probonus.Call, room int) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 4+room)
	attrs = append(attrs, methodAttr(c.Method), semconv.ServerAddress(c.Host), semconv.ServerPort(c.Port))
	if tmpl := urlTemplate(c); tmpl != "" {
		attrs = append(attrs, semconv.URLTemplate(tmpl))
	}
	return attrs
}

// urlTemplate is the template of the path the server saw, the base path included, or "" for a
// call without one: a Client.Do whose caller named no template (probonus.WithPathTemplate). Its
// literal path may hold a phone or an id, and the base path alone would pass for the template.
func urlTemplate(c *probonus.Call) string {
	if c.Path == "" {
		return ""
	}
	return c.BasePath + c.Path
}

// spanName is the conventions' "{method} {url.template}", with "HTTP" for a method they do not know.
func spanName(method, template string) string {
	if !knownMethod(method) {
		method = "HTTP"
	}
	if template == "" {
		return method
	}
	return method + " " + template
}

func knownMethod(m string) bool {
	switch m {
	case "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE":
		return true
	}
	return false
}

// methodAttr is http.request.method, "_OTHER" for a method the conventions do not know (the
// caller of Client.Do chooses it, so it is not bounded).
func methodAttr(m string) attribute.KeyValue {
	if knownMethod(m) {
		return semconv.HTTPRequestMethodKey.String(m)
	}
	return semconv.HTTPRequestMethodOther
}
