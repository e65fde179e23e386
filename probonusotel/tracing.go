package probonusotel

import (
	"context"

	"github.com/probonus-go/probonus"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ctxKey keys this Observer's spans in a context: with several observers (two Observers, or this
// one beside others) each finds its own span, not whichever was started last.
type ctxKey struct {
	o       *Observer
	attempt bool
}

// startCallSpan starts the call's span, "probonus <Operation>" of kind client.
func (o *Observer) startCallSpan(ctx context.Context, c *probonus.Call) context.Context {
	ctx, span := o.tracer.Start(ctx, "probonus "+c.Operation,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			append(requestAttrs(c, 2), OperationKey.String(c.Operation), semconv.URLScheme(c.Scheme))...,
		))
	return context.WithValue(ctx, ctxKey{o: o}, span)
}

// endCallSpan ends the span startCallSpan put in ctx.
func (o *Observer) endCallSpan(ctx context.Context, c *probonus.Call, uncertain bool, errType string) {
	span, _ := ctx.Value(ctxKey{o: o}).(trace.Span)
	if span == nil {
		return // not a context this Observer's CallStart returned
	}
	if span.IsRecording() {
		span.SetAttributes(AttemptsKey.Int(c.Attempts))
		if uncertain {
			span.SetAttributes(OutcomeUnknownKey.Bool(true))
		}
		if errType != "" {
			span.SetAttributes(semconv.ErrorTypeKey.String(errType))
			// The description is the type, not Err's text: that may hold a guest's phone or name.
			span.SetStatus(codes.Error, errType)
		}
	}
	span.End()
}

// startAttemptSpan starts the attempt's span, a child of the call's.
func (o *Observer) startAttemptSpan(ctx context.Context, a *probonus.Attempt) context.Context {
	c := a.Call
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
	return context.WithValue(ctx, ctxKey{o: o, attempt: true}, span)
}

// endAttemptSpan ends the span startAttemptSpan put in ctx.
func (o *Observer) endAttemptSpan(ctx context.Context, a *probonus.Attempt, errType string) {
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
