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
	"sync"

	"github.com/probonus-go/probonus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
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

// operationBuckets extend the HTTP buckets: a call's duration includes backoff waits, and a
// Retry-After may be honoured for up to 30 seconds by default.
var operationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60}

// Option configures an Observer.
type Option func(*config)

type config struct {
	tp    trace.TracerProvider
	mp    metric.MeterProvider
	props propagation.TextMapPropagator
}

// WithTracerProvider sets the TracerProvider spans are made with. Default (and when tp is nil):
// the global one, otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets the MeterProvider metrics are recorded with. Default (and when mp is
// nil): the global one, otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithPropagator sets the propagator whose headers (a W3C traceparent, with the default global
// one set so) are added to each request for the client's base URL. Default (and when p is nil):
// the global one, otel.GetTextMapPropagator().
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.props = p }
}

// Observer is a probonus.Observer that makes OpenTelemetry spans and metrics. Make one with New;
// it is safe for concurrent use and may be shared by several clients.
type Observer struct {
	tracer trace.Tracer
	props  propagation.TextMapPropagator

	attemptDuration   httpconv.ClientRequestDuration
	operationDuration metric.Float64Histogram
	retries           metric.Int64Counter
	tokenRefreshes    metric.Int64Counter
	outcomeUnknown    metric.Int64Counter
}

var _ probonus.Observer = (*Observer)(nil)

// New makes an Observer. An instrument the MeterProvider refuses is reported to otel.Handle and
// replaced by a no-op one, so New never fails: tracing goes on without that metric.
func New(opts ...Option) *Observer {
	var cfg config
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	if cfg.props == nil {
		cfg.props = otel.GetTextMapPropagator()
	}
	scope := []trace.TracerOption{
		trace.WithInstrumentationVersion(probonus.Version),
		trace.WithSchemaURL(semconv.SchemaURL),
	}
	meter := cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(probonus.Version),
		metric.WithSchemaURL(semconv.SchemaURL))
	o := &Observer{tracer: cfg.tp.Tracer(ScopeName, scope...), props: cfg.props}

	var err error
	// On an error each constructor returns a usable no-op instrument, hence the plain joins.
	o.attemptDuration, err = httpconv.NewClientRequestDuration(meter)
	errs := err
	o.operationDuration, err = meter.Float64Histogram("probonus.client.operation.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of ProBonus SDK calls, all attempts and backoff waits included."),
		metric.WithExplicitBucketBoundaries(operationBuckets...))
	errs = errors.Join(errs, err)
	o.retries, err = meter.Int64Counter("probonus.client.retries",
		metric.WithUnit("{retry}"),
		metric.WithDescription("Requests sent again because the one before failed in a retryable way."))
	errs = errors.Join(errs, err)
	o.tokenRefreshes, err = meter.Int64Counter("probonus.client.token.refreshes",
		metric.WithUnit("{token}"),
		metric.WithDescription("Bearer tokens obtained or renewed (probonus.operation: Auth.Login or Auth.Refresh)."))
	errs = errors.Join(errs, err)
	o.outcomeUnknown, err = meter.Int64Counter("probonus.client.outcome_unknown",
		metric.WithUnit("{call}"),
		metric.WithDescription("Writes that may have been applied without a definitive answer."))
	errs = errors.Join(errs, err)
	if errs != nil {
		otel.Handle(errs)
	}
	return o
}

// ctxKey keys this Observer's state in a context: with several observers (two Observers, or this
// one beside others) each finds its own span, not whichever was started last.
type ctxKey struct {
	o       *Observer
	attempt bool
}

// callState is what a call's attempts share.
type callState struct {
	span trace.Span

	mu         sync.Mutex
	lastReason string // the RetryReason of the attempt before, for the retries counter
}

// CallStart starts the call's span, "probonus <Operation>" of kind client.
func (o *Observer) CallStart(ctx context.Context, c *probonus.Call) context.Context {
	ctx, span := o.tracer.Start(ctx, "probonus "+c.Operation,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			append(requestAttrs(c, 2), OperationKey.String(c.Operation), semconv.URLScheme(c.Scheme))...,
		))
	return context.WithValue(ctx, ctxKey{o: o}, &callState{span: span})
}

// CallEnd ends the call's span and records the call's metrics.
func (o *Observer) CallEnd(ctx context.Context, c *probonus.Call) {
	uncertain := c.OutcomeUnknown || errors.Is(c.Err, probonus.ErrOutcomeUnknown)
	var errType string
	if c.Err != nil {
		errType = ErrorType(c.Err)
	}
	isAuth := c.Operation == opLogin || c.Operation == opRefresh
	if o.operationDuration.Enabled(ctx) || (uncertain && o.outcomeUnknown.Enabled(ctx)) ||
		(isAuth && o.tokenRefreshes.Enabled(ctx)) {
		attrs := make([]attribute.KeyValue, 3, 4)
		attrs[0], attrs[1], attrs[2] = OperationKey.String(c.Operation), semconv.ServerAddress(c.Host), semconv.ServerPort(c.Port)
		if uncertain {
			o.outcomeUnknown.Add(ctx, 1, metric.WithAttributes(attrs...))
		}
		if errType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		set := metric.WithAttributeSet(attribute.NewSet(attrs...))
		o.operationDuration.Record(ctx, c.Duration.Seconds(), set)
		if isAuth {
			o.tokenRefreshes.Add(ctx, 1, set)
		}
	}

	st, _ := ctx.Value(ctxKey{o: o}).(*callState)
	if st == nil {
		return // not a context this Observer's CallStart returned
	}
	if st.span.IsRecording() {
		st.span.SetAttributes(AttemptsKey.Int(c.Attempts))
		if uncertain {
			st.span.SetAttributes(OutcomeUnknownKey.Bool(true))
		}
		if errType != "" {
			st.span.SetAttributes(semconv.ErrorTypeKey.String(errType))
			// The description is the type, not Err's text: that may hold a guest's phone or name.
			st.span.SetStatus(codes.Error, errType)
		}
	}
	st.span.End()
}

// AttemptStart starts the attempt's span, a child of the call's, and adds the propagator's
// headers (traceparent) to a.Header.
func (o *Observer) AttemptStart(ctx context.Context, a *probonus.Attempt) context.Context {
	c := a.Call
	if c == nil {
		c = &probonus.Call{}
	}
	attrs := requestAttrs(c, 4)
	if c.Method != "" && !knownMethod(c.Method) {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginal(c.Method))
	}
	if a.Number > 1 {
		// The conventions count every resend, whatever its reason; probonus.retry and
		// probonus.replay tell the reasons apart.
		attrs = append(attrs, semconv.HTTPRequestResendCount(a.Number-1))
	}
	if a.Retry {
		attrs = append(attrs, RetryKey.Bool(true))
	}
	if a.Replay {
		attrs = append(attrs, ReplayKey.Bool(true))
	}
	ctx, span := o.tracer.Start(ctx, spanName(c.Method, urlTemplate(c)),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))

	if a.Retry {
		reason := ""
		if st, _ := ctx.Value(ctxKey{o: o}).(*callState); st != nil {
			st.mu.Lock()
			reason = st.lastReason
			st.mu.Unlock()
		}
		set := []attribute.KeyValue{OperationKey.String(c.Operation), semconv.ServerAddress(c.Host), semconv.ServerPort(c.Port)}
		if reason != "" {
			set = append(set, RetryReasonKey.String(reason))
		}
		o.retries.Add(ctx, 1, metric.WithAttributes(set...))
	}

	if a.Header == nil {
		a.Header = make(map[string][]string)
	}
	o.props.Inject(ctx, propagation.HeaderCarrier(a.Header))
	return context.WithValue(ctx, ctxKey{o: o, attempt: true}, span)
}

// AttemptEnd ends the attempt's span and records http.client.request.duration.
func (o *Observer) AttemptEnd(ctx context.Context, a *probonus.Attempt) {
	c := a.Call
	if c == nil {
		c = &probonus.Call{}
	}
	errType := attemptErrorType(a)
	if o.attemptDuration.Enabled(ctx) {
		attrs := requestAttrs(c, 2)
		if a.StatusCode != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(a.StatusCode))
		}
		if errType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		o.attemptDuration.Inst().Record(ctx, a.Duration.Seconds(), metric.WithAttributes(attrs...))
	}

	if st, _ := ctx.Value(ctxKey{o: o}).(*callState); st != nil {
		st.mu.Lock()
		st.lastReason = a.RetryReason
		st.mu.Unlock()
	}
	span, _ := ctx.Value(ctxKey{o: o, attempt: true}).(trace.Span)
	if span == nil {
		return // not a context this Observer's AttemptStart returned
	}
	if span.IsRecording() {
		if a.StatusCode != 0 {
			span.SetAttributes(semconv.HTTPResponseStatusCode(a.StatusCode))
		}
		if a.RetryReason != "" {
			span.SetAttributes(RetryReasonKey.String(a.RetryReason))
		}
		if errType != "" {
			span.SetAttributes(semconv.ErrorTypeKey.String(errType))
			span.SetStatus(codes.Error, errType)
		}
	}
	span.End()
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
