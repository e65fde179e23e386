// Command example traces one ProBonus call that is retried, and prints its spans to stdout: the
// call's span, and one span per attempt (a 503, then the retry that succeeded).
//
//	go run ./example            # from probonusotel/; an embedded probonustest server, no setup
//	go run ./example -compact   # one JSON line per span
//
// In your program, keep the TracerProvider you already have (and its exporter) and pass
// probonusotel.New() to probonus.WithObserver.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonusotel"
	"github.com/probonus-go/probonus/probonustest"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

func main() {
	compact := flag.Bool("compact", false, "one JSON line per span")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, !*compact); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, pretty bool) (err error) {
	opts := []stdouttrace.Option{stdouttrace.WithWriter(out)}
	if pretty {
		opts = append(opts, stdouttrace.WithPrettyPrint())
	}
	exporter, err := stdouttrace.New(opts...)
	if err != nil {
		return err
	}
	// A syncer prints each span as it ends; in production use a batcher.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("probonusotel-example"))))
	defer func() {
		if serr := tp.Shutdown(context.Background()); err == nil {
			err = serr
		}
	}()

	srv := probonustest.NewServer(nil)
	defer srv.Close()
	// The server is busy once: the client waits and sends the request again.
	srv.FailNext(http.MethodGet, probonustest.PathAccountGroupsList, http.StatusServiceUnavailable,
		`{"detail":"Service Unavailable"}`, 0)

	client, err := probonus.New(
		probonus.WithBaseURL(srv.URL()),
		probonus.WithAPIKey(srv.APIKey()),
		probonus.WithRetry(probonus.RetryPolicy{MinBackoff: 50 * time.Millisecond}),
		probonus.WithObserver(probonusotel.New(
			probonusotel.WithTracerProvider(tp),
			probonusotel.WithPropagator(propagation.TraceContext{}),
		)),
	)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	groups, err := client.AccountGroups.List(ctx)
	if err != nil {
		return err
	}
	for _, r := range srv.Requests() {
		fmt.Fprintf(out, "# the server got %s %s with traceparent %s\n", r.Method, r.Path, r.Header.Get("Traceparent"))
	}
	fmt.Fprintf(out, "# %d account groups, after %d requests\n", len(groups), len(srv.Requests()))
	return nil
}
