package probonusotel

import (
	"context"
	"errors"

	"github.com/probonus-go/probonus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
)

// operationBuckets extend the HTTP buckets: a call's duration includes backoff waits, and a
// Retry-After may be honoured for up to 30 seconds by default.
var operationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60}

// metrics are the Observer's instruments.
type metrics struct {
	attemptDuration   httpconv.ClientRequestDuration
	operationDuration metric.Float64Histogram
	retries           metric.Int64Counter
	tokenRefreshes    metric.Int64Counter
	outcomeUnknown    metric.Int64Counter
}

// newMetrics makes the instruments. One the MeterProvider refuses is reported to otel.Handle and
// replaced by a no-op one (each constructor returns a usable no-op on an error).
func newMetrics(mp metric.MeterProvider) metrics {
	meter := mp.Meter(ScopeName, metric.WithInstrumentationVersion(probonus.Version),
		metric.WithSchemaURL(semconv.SchemaURL))
	var m metrics
	var err error
	m.attemptDuration, err = httpconv.NewClientRequestDuration(meter)
	errs := err
	m.operationDuration, err = meter.Float64Histogram("probonus.client.operation.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of ProBonus SDK calls, all attempts and backoff waits included."),
		metric.WithExplicitBucketBoundaries(operationBuckets...))
	errs = errors.Join(errs, err)
	m.retries, err = meter.Int64Counter("probonus.client.retries",
		metric.WithUnit("{retry}"),
		metric.WithDescription("Requests sent again because the one before failed in a retryable way."))
	errs = errors.Join(errs, err)
	m.tokenRefreshes, err = meter.Int64Counter("probonus.client.token.refreshes",
		metric.WithUnit("{token}"),
		metric.WithDescription("Bearer tokens obtained or renewed (probonus.operation: Auth.Login or Auth.Refresh)."))
	errs = errors.Join(errs, err)
	m.outcomeUnknown, err = meter.Int64Counter("probonus.client.outcome_unknown",
		metric.WithUnit("{call}"),
		metric.WithDescription("Writes that may have been applied without a definitive answer."))
	errs = errors.Join(errs, err)
	if errs != nil {
		otel.Handle(errs)
	}
	return m
}

// recordCall records a call's duration, and counts a token obtained or a write whose outcome is
// unknown.
func (m *metrics) recordCall(ctx context.Context, c *probonus.Call, uncertain bool, errType string) {
	isAuth := c.Operation == opLogin || c.Operation == opRefresh
	if !m.operationDuration.Enabled(ctx) && !(uncertain && m.outcomeUnknown.Enabled(ctx)) &&
		!(isAuth && m.tokenRefreshes.Enabled(ctx)) {
		return
	}
	attrs := make([]attribute.KeyValue, 3, 4)
	attrs[0], attrs[1], attrs[2] = OperationKey.String(c.Operation), semconv.ServerAddress(c.Host), semconv.ServerPort(c.Port)
	if uncertain {
		m.outcomeUnknown.Add(ctx, 1, metric.WithAttributes(attrs...))
	}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	m.operationDuration.Record(ctx, c.Duration.Seconds(), set)
	if isAuth {
		m.tokenRefreshes.Add(ctx, 1, set)
	}
}

// countRetry counts a retried attempt by the reason the attempt before it gave.
func (m *metrics) countRetry(ctx context.Context, a *probonus.Attempt) {
	if !a.Retry {
		return
	}
	c := a.Call
	set := []attribute.KeyValue{OperationKey.String(c.Operation), semconv.ServerAddress(c.Host), semconv.ServerPort(c.Port)}
	if a.SentBecause != "" {
		set = append(set, RetryReasonKey.String(a.SentBecause))
	}
	m.retries.Add(ctx, 1, metric.WithAttributes(set...))
}

// recordAttempt records http.client.request.duration.
func (m *metrics) recordAttempt(ctx context.Context, a *probonus.Attempt, errType string) {
	if !m.attemptDuration.Enabled(ctx) {
		return
	}
	attrs := requestAttrs(a.Call, 2)
	if a.StatusCode != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(a.StatusCode))
	}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	m.attemptDuration.Inst().Record(ctx, a.Duration.Seconds(), metric.WithAttributes(attrs...))
}
