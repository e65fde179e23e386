package probonusotel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/probonus-go/probonus/probonusotel"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// harness is an Observer on the real SDK, with everything it recorded in reach.
type harness struct {
	obs    *probonusotel.Observer
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	h.obs = probonusotel.New(
		probonusotel.WithTracerProvider(tp),
		probonusotel.WithMeterProvider(mp),
		probonusotel.WithPropagator(propagation.TraceContext{}),
	)
	return h
}

// ended returns the ended spans named name.
func (h *harness) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range h.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// one returns the only ended span named name.
func (h *harness) one(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	got := h.ended(name)
	require.Len(t, got, 1, "spans named %q among %v", name, spanNames(h.spans.Ended()))
	return got[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

// attrs turns a span's or a data point's attributes into a map of their values.
func attrs(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func (h *harness) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(context.Background(), &rm))
	return rm
}

// metricNamed finds a metric of this package's scope.
func metricNamed(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != probonusotel.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("no metric %q", name)
	return metricdata.Metrics{}
}

// counted sums the counter name's data points whose attributes include want; 0 when nothing was
// ever added to it (the SDK exports no such metric).
func counted(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]any) int64 {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sm.Scope.Name == probonusotel.ScopeName && m.Name == name {
				return counterTotal(t, m, want)
			}
		}
	}
	return 0
}

// histogramPoints returns the data points of a float64 histogram.
func histogramPoints(t *testing.T, m metricdata.Metrics) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	hist, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is a %T", m.Name, m.Data)
	return hist.DataPoints
}

// counterTotal sums an int64 counter's data points whose attributes include want.
func counterTotal(t *testing.T, m metricdata.Metrics, want map[string]any) int64 {
	t.Helper()
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T", m.Name, m.Data)
	var n int64
	for _, dp := range sum.DataPoints {
		if includes(attrs(dp.Attributes.ToSlice()), want) {
			n += dp.Value
		}
	}
	return n
}

// histogramCount counts a histogram's values whose attributes include want.
func histogramCount(t *testing.T, m metricdata.Metrics, want map[string]any) uint64 {
	t.Helper()
	var n uint64
	for _, dp := range histogramPoints(t, m) {
		if includes(attrs(dp.Attributes.ToSlice()), want) {
			n += dp.Count
		}
	}
	return n
}

func includes(have, want map[string]any) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// everyRecordedString is every string this package could have leaked through: span names, status
// descriptions, attribute keys and values of spans, their events and links, and of every metric
// data point and exemplar.
func (h *harness) everyRecordedString(t *testing.T) []string {
	t.Helper()
	var out []string
	addKVs := func(where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			out = append(out, fmt.Sprintf("%s %s=%s", where, kv.Key, kv.Value.String()))
		}
	}
	for _, s := range h.spans.Ended() {
		out = append(out, "span "+s.Name(), "status "+s.Status().Description)
		addKVs(s.Name(), s.Attributes())
		for _, e := range s.Events() {
			out = append(out, "event "+e.Name)
			addKVs(s.Name()+" event", e.Attributes)
		}
		for _, l := range s.Links() {
			addKVs(s.Name()+" link", l.Attributes)
		}
	}
	rm := h.collect(t)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, "metric "+m.Name+" "+m.Description)
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					addKVs(m.Name, dp.Attributes.ToSlice())
					for _, ex := range dp.Exemplars {
						addKVs(m.Name+" exemplar", ex.FilteredAttributes)
					}
				}
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					addKVs(m.Name, dp.Attributes.ToSlice())
					for _, ex := range dp.Exemplars {
						addKVs(m.Name+" exemplar", ex.FilteredAttributes)
					}
				}
			default:
				t.Fatalf("metric %s of unexpected kind %T: the search would miss its attributes", m.Name, m.Data)
			}
		}
	}
	return out
}

// assertNothingLeaks fails for every recorded string that holds one of secrets (compared without
// case, and phones also by their digits alone).
func (h *harness) assertNothingLeaks(t *testing.T, secrets ...string) {
	t.Helper()
	type needle struct{ orig, lower, digits string }
	var needles []needle
	seen := map[string]bool{}
	for _, s := range secrets {
		require.NotEmpty(t, s)
		if !seen[s] {
			seen[s] = true
			needles = append(needles, needle{s, strings.ToLower(s), onlyDigits(s)})
		}
	}
	recorded := h.everyRecordedString(t)
	require.NotEmpty(t, recorded)
	for _, rec := range recorded {
		lower := strings.ToLower(rec)
		digits := onlyDigits(rec)
		for _, n := range needles {
			if strings.Contains(lower, n.lower) {
				t.Errorf("%q is recorded in %q", n.orig, rec)
			}
			if len(n.digits) >= 7 && strings.Contains(digits, n.digits) {
				t.Errorf("the digits of %q are recorded in %q", n.orig, rec)
			}
		}
	}
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
