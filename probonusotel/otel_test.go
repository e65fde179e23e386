package probonusotel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusotel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// refillCall is what the client would report for Accounts.Refill.
func refillCall() *probonus.Call {
	return &probonus.Call{Operation: "Accounts.Refill", Method: http.MethodPost,
		Path: "/api/v0/accounts/refill", Host: "bonus.example", Port: 8443, Start: time.Now()}
}

func listCall() *probonus.Call {
	return &probonus.Call{Operation: "AccountGroups.List", Method: http.MethodGet,
		Path: "/api/v0/account_groups/list", Host: "bonus.example", Port: 443, Start: time.Now()}
}

// runAttempt drives one attempt through the observer as the client does.
func runAttempt(ctx context.Context, o probonus.Observer, a *probonus.Attempt, status int, err error, reason string) {
	a.Header = http.Header{}
	actx := o.AttemptStart(ctx, a)
	a.StatusCode, a.Err, a.RetryReason, a.Duration = status, err, reason, 30*time.Millisecond
	o.AttemptEnd(actx, a)
}

func TestRetriedCallSpans(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := listCall()
	ctx := h.obs.CallStart(context.Background(), c)

	first := &probonus.Attempt{Call: c, Number: 1, Start: time.Now()}
	runAttempt(ctx, h.obs, first, 503, &probonus.APIError{StatusCode: 503, Detail: "busy"}, "server unavailable (503)")
	second := &probonus.Attempt{Call: c, Number: 2, Retry: true, Start: time.Now()}
	runAttempt(ctx, h.obs, second, 200, nil, "")
	c.Attempts, c.Duration = 2, 300*time.Millisecond
	h.obs.CallEnd(ctx, c)

	call := h.one(t, "probonus AccountGroups.List")
	assert.Equal(t, trace.SpanKindClient, call.SpanKind())
	assert.Equal(t, codes.Unset, call.Status().Code)
	ca := attrs(call.Attributes())
	assert.Equal(t, "AccountGroups.List", ca["probonus.operation"])
	assert.Equal(t, int64(2), ca["probonus.attempts"])
	assert.Equal(t, "bonus.example", ca["server.address"])
	assert.NotContains(t, ca, "error.type")
	assert.NotContains(t, ca, "probonus.outcome_unknown")

	attempts := h.ended("GET /api/v0/account_groups/list")
	require.Len(t, attempts, 2)
	for _, a := range attempts {
		assert.Equal(t, trace.SpanKindClient, a.SpanKind())
		assert.Equal(t, call.SpanContext().SpanID(), a.Parent().SpanID(), "an attempt is a child of its call")
		assert.Equal(t, call.SpanContext().TraceID(), a.SpanContext().TraceID())
	}
	a1, a2 := attrs(attempts[0].Attributes()), attrs(attempts[1].Attributes())
	assert.Equal(t, map[string]any{
		"http.request.method": "GET", "server.address": "bonus.example", "server.port": int64(443),
		"url.template": "/api/v0/account_groups/list", "http.response.status_code": int64(503),
		"error.type": "503", "probonus.retry.reason": "server unavailable (503)",
	}, a1)
	assert.Equal(t, codes.Error, attempts[0].Status().Code)
	assert.Equal(t, "503", attempts[0].Status().Description)
	assert.Equal(t, map[string]any{
		"http.request.method": "GET", "server.address": "bonus.example", "server.port": int64(443),
		"url.template": "/api/v0/account_groups/list", "http.response.status_code": int64(200),
		"http.request.resend_count": int64(1), "probonus.retry": true,
	}, a2)
	assert.Equal(t, codes.Unset, attempts[1].Status().Code)

	// Each attempt carries its own span's traceparent.
	for i, a := range []*probonus.Attempt{first, second} {
		sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(),
			propagation.HeaderCarrier(a.Header)))
		require.True(t, sc.IsValid(), "attempt %d has a traceparent: %v", a.Number, a.Header)
		assert.Equal(t, attempts[i].SpanContext().SpanID(), sc.SpanID())
		assert.Equal(t, attempts[i].SpanContext().TraceID(), sc.TraceID())
	}
}

func TestRetriedCallMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := listCall()
	ctx := h.obs.CallStart(context.Background(), c)
	runAttempt(ctx, h.obs, &probonus.Attempt{Call: c, Number: 1}, 429, &probonus.APIError{StatusCode: 429}, "rate limited (429)")
	runAttempt(ctx, h.obs, &probonus.Attempt{Call: c, Number: 2, Retry: true, SentBecause: "rate limited (429)"}, 0, fmt.Errorf("probonus: GET x: %w", &net.OpError{Op: "read", Err: errors.New("reset")}), "connection error")
	runAttempt(ctx, h.obs, &probonus.Attempt{Call: c, Number: 3, Retry: true, SentBecause: "connection error"}, 200, nil, "")
	c.Attempts, c.Duration = 3, 1500*time.Millisecond
	h.obs.CallEnd(ctx, c)

	rm := h.collect(t)
	dur := metricNamed(t, rm, "http.client.request.duration")
	assert.Equal(t, "s", dur.Unit)
	points := histogramPoints(t, dur)
	require.Len(t, points, 3, "one series per status / error type")
	for _, p := range points {
		assert.Equal(t, []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}, p.Bounds)
		assert.InDelta(t, 0.03, p.Sum, 1e-9)
	}
	base := map[string]any{"http.request.method": "GET", "server.address": "bonus.example",
		"server.port": int64(443), "url.template": "/api/v0/account_groups/list"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{k: v}
		for bk, bv := range base {
			m[bk] = bv
		}
		return m
	}
	assert.Equal(t, uint64(1), histogramCount(t, dur, with("http.response.status_code", int64(429))))
	assert.Equal(t, uint64(1), histogramCount(t, dur, with("error.type", "*net.OpError")))
	assert.Equal(t, uint64(1), histogramCount(t, dur, with("http.response.status_code", int64(200))))

	op := metricNamed(t, rm, "probonus.client.operation.duration")
	assert.Equal(t, "s", op.Unit)
	opPoints := histogramPoints(t, op)
	require.Len(t, opPoints, 1)
	assert.InDelta(t, 1.5, opPoints[0].Sum, 1e-9)
	assert.Equal(t, "AccountGroups.List", attrs(opPoints[0].Attributes.ToSlice())["probonus.operation"])

	retries := metricNamed(t, rm, "probonus.client.retries")
	assert.Equal(t, int64(2), counterTotal(t, retries, map[string]any{"probonus.operation": "AccountGroups.List"}))
	assert.Equal(t, int64(1), counterTotal(t, retries, map[string]any{"probonus.retry.reason": "rate limited (429)"}))
	assert.Equal(t, int64(1), counterTotal(t, retries, map[string]any{"probonus.retry.reason": "connection error"}))
}

func TestReplayAndTokenRefreshUnderTheAttempt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := refillCall()
	ctx := h.obs.CallStart(context.Background(), c)

	first := &probonus.Attempt{Call: c, Number: 1, Header: http.Header{}}
	actx := h.obs.AttemptStart(ctx, first)
	first.StatusCode, first.Err = 401, &probonus.APIError{StatusCode: 401}
	first.RetryReason = "credentials rejected: replaying once"
	h.obs.AttemptEnd(actx, first)

	// The replay needs a new token: the refresh is a call made from inside the replay's attempt.
	replay := &probonus.Attempt{Call: c, Number: 2, Replay: true, Header: http.Header{}}
	actx = h.obs.AttemptStart(ctx, replay)
	rc := &probonus.Call{Operation: "Auth.Refresh", Method: http.MethodPost, Path: "/api/v0/auth/refresh_token",
		Host: c.Host, Port: c.Port}
	rctx := h.obs.CallStart(actx, rc)
	runAttempt(rctx, h.obs, &probonus.Attempt{Call: rc, Number: 1}, 200, nil, "")
	rc.Attempts, rc.Duration = 1, 10*time.Millisecond
	h.obs.CallEnd(rctx, rc)
	replay.StatusCode = 200
	h.obs.AttemptEnd(actx, replay)
	c.Attempts = 2
	h.obs.CallEnd(ctx, c)

	attempts := h.ended("POST /api/v0/accounts/refill")
	require.Len(t, attempts, 2)
	assert.Equal(t, true, attrs(attempts[1].Attributes())["probonus.replay"])
	assert.Equal(t, int64(1), attrs(attempts[1].Attributes())["http.request.resend_count"])
	assert.NotContains(t, attrs(attempts[1].Attributes()), "probonus.retry", "a replay is not a retry")

	refresh := h.one(t, "probonus Auth.Refresh")
	assert.Equal(t, attempts[1].SpanContext().SpanID(), refresh.Parent().SpanID(), "the refresh hangs under the attempt that needed it")
	refreshAttempt := h.one(t, "POST /api/v0/auth/refresh_token")
	assert.Equal(t, refresh.SpanContext().SpanID(), refreshAttempt.Parent().SpanID())

	rm := h.collect(t)
	assert.Equal(t, int64(1), counterTotal(t, metricNamed(t, rm, "probonus.client.token.refreshes"),
		map[string]any{"probonus.operation": "Auth.Refresh"}))
	assert.Equal(t, int64(0), counted(t, rm, "probonus.client.retries", nil),
		"a replay after a renewed token is not counted as a retry")
}

func TestOutcomeUnknown(t *testing.T) {
	t.Parallel()
	cause := &probonus.APIError{StatusCode: 500, Detail: "Иванов +79991234567"}
	for name, end := range map[string]func(c *probonus.Call){
		"flag":     func(c *probonus.Call) { c.OutcomeUnknown, c.Err = true, cause },
		"sentinel": func(c *probonus.Call) { c.Err = fmt.Errorf("%w: %w", probonus.ErrOutcomeUnknown, cause) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c := refillCall()
			ctx := h.obs.CallStart(context.Background(), c)
			runAttempt(ctx, h.obs, &probonus.Attempt{Call: c, Number: 1}, 500, cause, "")
			c.Attempts = 1
			end(c)
			h.obs.CallEnd(ctx, c)

			call := h.one(t, "probonus Accounts.Refill")
			ca := attrs(call.Attributes())
			assert.Equal(t, true, ca["probonus.outcome_unknown"])
			assert.Equal(t, "500", ca["error.type"])
			assert.Equal(t, codes.Error, call.Status().Code)
			assert.Equal(t, "500", call.Status().Description, "the status says the type, never the text")
			assert.Empty(t, call.Events(), "no exception event: it would carry the message")

			rm := h.collect(t)
			assert.Equal(t, int64(1), counterTotal(t, metricNamed(t, rm, "probonus.client.outcome_unknown"),
				map[string]any{"probonus.operation": "Accounts.Refill", "server.port": int64(8443)}))
			h.assertNothingLeaks(t, "+79991234567", "Иванов")
		})
	}
}

func TestCertainFailureIsNotUncertain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := refillCall()
	ctx := h.obs.CallStart(context.Background(), c)
	c.Err = &probonus.APIError{StatusCode: 422}
	h.obs.CallEnd(ctx, c)
	assert.NotContains(t, attrs(h.one(t, "probonus Accounts.Refill").Attributes()), "probonus.outcome_unknown")
	assert.Equal(t, int64(0), counted(t, h.collect(t), "probonus.client.outcome_unknown", nil))
}

func TestSeveralObserversKeepTheirOwnSpans(t *testing.T) {
	t.Parallel()
	h1, h2 := newHarness(t), newHarness(t)
	c := listCall()
	ctx := h1.obs.CallStart(context.Background(), c)
	ctx = h2.obs.CallStart(ctx, c)
	a := &probonus.Attempt{Call: c, Number: 1, Header: http.Header{}}
	actx := h1.obs.AttemptStart(ctx, a)
	actx = h2.obs.AttemptStart(actx, a)
	a.StatusCode = 200
	h1.obs.AttemptEnd(actx, a)
	h2.obs.AttemptEnd(actx, a)
	c.Err = errors.New("late failure")
	h1.obs.CallEnd(ctx, c)
	h2.obs.CallEnd(ctx, c)

	for _, h := range []*harness{h1, h2} {
		call := h.one(t, "probonus AccountGroups.List")
		attempt := h.one(t, "GET /api/v0/account_groups/list")
		assert.Equal(t, codes.Error, call.Status().Code, "each observer ended its own call span")
		assert.Equal(t, int64(200), attrs(attempt.Attributes())["http.response.status_code"])
	}
}

func TestUnknownMethod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := &probonus.Call{Operation: "Do", Method: "PURGE", Path: "/api/v0/cache", Host: "h", Port: 80}
	ctx := h.obs.CallStart(context.Background(), c)
	runAttempt(ctx, h.obs, &probonus.Attempt{Call: c, Number: 1}, 204, nil, "")
	h.obs.CallEnd(ctx, c)
	a := attrs(h.one(t, "HTTP /api/v0/cache").Attributes())
	assert.Equal(t, "_OTHER", a["http.request.method"])
	assert.Equal(t, "PURGE", a["http.request.method_original"])
	assert.Equal(t, "_OTHER", attrs(h.one(t, "probonus Do").Attributes())["http.request.method"])
}

// A context that did not come from this Observer (a caller's mistake, or another observer's)
// must neither panic nor end someone else's span.
func TestForeignContext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other := tracetest.NewSpanRecorder()
	_, foreign := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(other)).Tracer("x").Start(context.Background(), "foreign")
	ctx := trace.ContextWithSpan(context.Background(), foreign)
	c := listCall()
	a := &probonus.Attempt{Call: c, Number: 1}
	assert.NotPanics(t, func() {
		h.obs.AttemptEnd(ctx, a)
		h.obs.CallEnd(ctx, c)
	})
	assert.Empty(t, other.Ended(), "the caller's span is not ended by the observer")
	assert.Equal(t, uint64(1), histogramCount(t, metricNamed(t, h.collect(t), "http.client.request.duration"), nil),
		"metrics are still recorded")
}

// With no options the globals are used, including a provider set after New.
func TestDefaultsAreTheGlobals(t *testing.T) {
	// Not parallel: it sets the global providers.
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prevTP, prevMP, prevProp := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
		otel.SetTextMapPropagator(prevProp)
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})

	// The globals are set before New: otel delegates a global read earlier only to the first
	// provider ever set in the process, so the other order holds once per process, not per run.
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	obs := probonusotel.New(probonusotel.WithTracerProvider(nil), nil)

	c := listCall()
	ctx := obs.CallStart(context.Background(), c)
	a := &probonus.Attempt{Call: c, Number: 1}
	runAttempt(ctx, obs, a, 200, nil, "")
	obs.CallEnd(ctx, c)
	assert.Len(t, sr.Ended(), 2)
	assert.NotEmpty(t, a.Header.Get("traceparent"))
	h := &harness{reader: reader}
	assert.Equal(t, uint64(1), histogramCount(t, metricNamed(t, h.collect(t), "http.client.request.duration"), nil))
}

type typedErr struct{}

func (typedErr) Error() string { return "typed" }

func TestErrorType(t *testing.T) {
	t.Parallel()
	phoneErr := errors.New("no account +79991234567")
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&probonus.APIError{StatusCode: 404, Detail: "+79991234567"}, "404"},
		{fmt.Errorf("probonus: GET /x: %w", &probonus.APIError{StatusCode: 503}), "503"},
		{fmt.Errorf("%w: %w", probonus.ErrOutcomeUnknown, &probonus.APIError{StatusCode: 500}), "500"},
		{fmt.Errorf("%w: %w", probonus.ErrOutcomeUnknown, io.ErrUnexpectedEOF), "io.ErrUnexpectedEOF"},
		{fmt.Errorf("%w: %w", probonus.ErrOutcomeUnknown, &net.OpError{Op: "read"}), "*net.OpError"},
		{probonus.ErrOutcomeUnknown, "probonus.ErrOutcomeUnknown"},
		{fmt.Errorf("probonus: POST /x: %w", &probonus.AuthError{Op: "login", Err: &probonus.APIError{StatusCode: 401}}), "probonus.AuthError"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "context.DeadlineExceeded"},
		{fmt.Errorf("waiting to retry after %v: %w", phoneErr, context.Canceled), "context.Canceled"},
		{fmt.Errorf("x: %w (limit 10 bytes)", probonus.ErrResponseTooLarge), "probonus.ErrResponseTooLarge"},
		{&probonus.InputError{Field: "phone", Reason: "+79991234567"}, "probonus.ErrInvalidInput"},
		{&probonus.DecodeError{StatusCode: 200, Sample: "+79991234567"}, "*probonus.DecodeError"},
		{fmt.Errorf("wrapped: %w", typedErr{}), "probonusotel_test.typedErr"},
		{errors.Join(probonus.ErrServer, typedErr{}), "probonusotel_test.typedErr"},
		{errors.New("no account +79991234567"), "*errors.errorString"},
		{fmt.Errorf("probonus: POST /x: %w", &net.OpError{Op: "write"}), "*net.OpError"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, probonusotel.ErrorType(tt.err), "%v", tt.err)
	}
}

// BenchmarkObservedCall is the observer's own cost for a call of one attempt on the real SDK
// (spans sampled and dropped, metrics aggregated), against a no-op provider.
func BenchmarkObservedCall(b *testing.B) {
	reader := sdkmetric.NewManualReader()
	providers := map[string][]probonusotel.Option{
		"sdk": {
			probonusotel.WithTracerProvider(sdktrace.NewTracerProvider()),
			probonusotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
			probonusotel.WithPropagator(propagation.TraceContext{}),
		},
		"noop": {
			probonusotel.WithTracerProvider(tracenoop.NewTracerProvider()),
			probonusotel.WithMeterProvider(metricnoop.NewMeterProvider()),
			probonusotel.WithPropagator(propagation.TraceContext{}),
		},
	}
	for _, name := range []string{"noop", "sdk"} {
		b.Run(name, func(b *testing.B) {
			obs := probonusotel.New(providers[name]...)
			b.ReportAllocs()
			for b.Loop() {
				c := listCall()
				ctx := obs.CallStart(context.Background(), c)
				a := &probonus.Attempt{Call: c, Number: 1, Header: http.Header{}}
				actx := obs.AttemptStart(ctx, a)
				a.StatusCode, a.Duration = 200, time.Millisecond
				obs.AttemptEnd(actx, a)
				c.Attempts, c.Duration = 1, time.Millisecond
				obs.CallEnd(ctx, c)
			}
		})
	}
}
