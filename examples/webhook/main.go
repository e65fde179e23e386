// Command webhook is an HTTP service that credits a guest's bonuses for a completed order once,
// however often the order system delivers the event: the recipe for the most common integration.
// Its handler (handler.go, the part to copy) calls Accounts.RefillOnce with the order id in the
// reason, and answers the sender 200, a 4xx it should not retry, or 503 with Retry-After (see
// Handler for which and why).
//
//	go run ./examples/webhook                         # a demo: deliveries to itself, against an embedded server
//	go run ./examples/webhook -listen 127.0.0.1:8080  # serves, against an embedded server
//	PROBONUS_BASE_URL=... PROBONUS_API_KEY=... WEBHOOK_SECRET=... go run ./examples/webhook -listen :8080
//
// The timeouts follow from the sender's (-sender-timeout, 10 s by default: how long it waits for an
// answer before it counts the delivery failed and delivers again later). The work of a delivery gets
// 80% of it, the rest being for reading the request and writing the answer; each HTTP attempt to
// ProBonus gets a quarter of that, since a send whose answer is lost costs up to four attempt
// timeouts: the send, the settle time (RefillOnce's default: the attempt timeout), and a look in the
// history and the balance. A delivery that runs out of time is answered 503, and its redelivery
// looks before it sends.
//
// RefillOnce runs one call per key at a time within a process. Behind a load balancer, where a
// redelivery may reach another process while the first still works, give the client a fleet's
// coordinator: probonus.WithRefillCoordinator(probonusredis.NewCoordinator(rdb)).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// Path is where the sender delivers order-completed events.
const Path = "/webhooks/order-completed"

// minRetryAfter is the least a 503 asks the sender to wait: ProBonus being unreachable is seldom
// over in a second, and the settle time must pass too (see Handler.RetryAfter).
const minRetryAfter = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout))
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) int {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(out)
	listen := fs.String("listen", "", "serve deliveries on this address until interrupted (without it: the demo)")
	senderTimeout := fs.Duration("sender-timeout", 10*time.Second, "how long the sender waits for an answer")
	if fs.Parse(args) != nil {
		return 2
	}
	if *senderTimeout < 100*time.Millisecond {
		fmt.Fprintln(out, "error: -sender-timeout: at least 100ms")
		return 2
	}
	remote := getenv("PROBONUS_BASE_URL") != ""
	secret := []byte(getenv("WEBHOOK_SECRET"))
	switch {
	case remote && *listen == "":
		fmt.Fprintln(out, "error: the demo runs only against the embedded server (it injects faults): "+
			"pass -listen ADDR to serve deliveries against PROBONUS_BASE_URL")
		return 2
	case remote && len(secret) == 0:
		fmt.Fprintf(out, "error: set WEBHOOK_SECRET, the key of the sender's %s: without it anyone who reaches "+
			"this service can credit bonuses\n", SignatureHeader)
		return 2
	case *listen == "" && len(secret) == 0:
		secret = make([]byte, 32) // the demo signs its own deliveries
		_, _ = rand.Read(secret)
	}

	deadline := *senderTimeout * 8 / 10
	attempt := deadline / 4
	c, srv, err := connect(getenv, out, attempt)
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	if srv != nil {
		defer srv.Close()
	}
	fmt.Fprintf(out, "# the sender waits %v: a delivery's work gets %v, each HTTP attempt to ProBonus %v\n", *senderTimeout, deadline, attempt)
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{} // keeps the transcript short
		}
		return a
	}}))
	h := &Handler{Accounts: c.Accounts, Deadline: deadline, RetryAfter: max(minRetryAfter, attempt), Secret: secret, Log: log}
	if len(secret) == 0 {
		h.Secret = nil
		fmt.Fprintf(out, "# WEBHOOK_SECRET is not set: deliveries are not authenticated (tolerated against the embedded server only)\n")
	}

	if *listen == "" {
		return demo(ctx, h, srv, *senderTimeout, out)
	}
	// A wrong base URL or key would fail every delivery (a wrong path prefix as "no such account"):
	// find out now.
	check, cancel := context.WithTimeout(ctx, deadline)
	_, err = c.AccountGroups.List(check)
	cancel()
	if err != nil {
		fmt.Fprintln(out, "error: ProBonus cannot be used:", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	url := "http://" + ln.Addr().String() + Path
	fmt.Fprintf(out, "# listening on %s\n", url)
	if srv != nil {
		guest, err := c.Accounts.FindByPhone(ctx, probonustest.DemoPhone)
		if err != nil {
			fmt.Fprintln(out, "error:", err)
			return 1
		}
		body := fmt.Sprintf(`{"order_id":"A-1","account_id":%d,"bonus":"50"}`, guest.ID)
		sign := ""
		if h.Secret != nil {
			sign = fmt.Sprintf(" -H '%s: %s'", SignatureHeader, Sign(h.Secret, []byte(body)))
		}
		fmt.Fprintf(out, "# try: curl -i%s -d '%s' %s\n", sign, body, url)
	}
	if err := serve(ctx, ln, h); err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	return 0
}

// newServer is the HTTP server around h: timeouts that a slow client cannot hold a connection
// past, and a write timeout longer than a delivery's deadline, so that its answer gets out.
func newServer(h *Handler) *http.Server {
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      h.Deadline + 5*time.Second,
		IdleTimeout:       time.Minute,
	}
}

// serve serves deliveries on ln until ctx ends, then lets the deliveries in flight finish: a credit
// cut off mid-send would only have an unknown outcome.
func serve(ctx context.Context, ln net.Listener, h *Handler) error {
	hs := newServer(h)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.Deadline+time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// connect makes a client for the server the environment names (see probonus.FromEnv), with the
// attempt timeout. Without PROBONUS_BASE_URL it starts an embedded probonustest server with demo
// data instead, and returns it too, for the caller to close; srv is nil for a real server.
func connect(getenv func(string) string, out io.Writer, attempt time.Duration) (c *probonus.Client, srv *probonustest.Server, err error) {
	if getenv("PROBONUS_BASE_URL") == "" {
		srv = probonustest.NewServer(nil, probonustest.WithDemoData())
		fmt.Fprintf(out, "# PROBONUS_BASE_URL is not set: using an embedded probonustest server at %s with demo data "+
			"(and the fake's test settings: retries 1-5ms apart, a 50ms settle time)\n", srv.URL())
		c, err = probonus.New(srv.ClientOptions(probonus.WithTimeout(attempt), probonus.WithUserAgent("webhook-example"))...)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return c, srv, nil
	}
	opts, err := probonus.FromEnv(getenv)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(out, "# using %s\n", getenv("PROBONUS_BASE_URL"))
	c, err = probonus.New(append(opts, probonus.WithTimeout(attempt), probonus.WithUserAgent("webhook-example"))...)
	return c, nil, err
}

// demo serves h on a loopback port and plays the sender: an order delivered twice, an answer lost
// after ProBonus applied the credit, ProBonus failing and the delivery retried, bad deliveries.
// Then it counts what the embedded server applied: one credit per order.
func demo(ctx context.Context, h *Handler, srv *probonustest.Server, senderTimeout time.Duration, out io.Writer) int {
	guest, err := h.Accounts.FindByPhone(ctx, probonustest.DemoPhone)
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	url := "http://" + ln.Addr().String() + Path
	fmt.Fprintf(out, "# the webhook is served on %s; deliveries are signed (%s)\n", url, SignatureHeader)
	stop, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serve(stop, ln, h) }()
	defer func() { cancel(); <-served }()

	sender := &http.Client{Timeout: senderTimeout}
	balance := srv.Balance(guest.ID)
	step := 0
	deliver := func(title, body string, sign bool) {
		step++
		fmt.Fprintf(out, "\n%d. %s\n   → POST %s %s\n", step, title, Path, body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			fmt.Fprintln(out, "   error:", err)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		if sign {
			req.Header.Set(SignatureHeader, Sign(h.Secret, []byte(body)))
		}
		resp, err := sender.Do(req)
		if err != nil {
			fmt.Fprintln(out, "   error:", err)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		retry := ""
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			retry = " (Retry-After: " + ra + ")"
		}
		fmt.Fprintf(out, "   ← %d%s %s\n", resp.StatusCode, retry, bytes.TrimSpace(answer))
	}
	order := func(id string) string {
		return fmt.Sprintf(`{"order_id":%q,"account_id":%d,"bonus":"50.00"}`, id, guest.ID)
	}

	deliver("an order completed", order("A-1001"), true)
	deliver("the sender missed the answer and delivers the same order again", order("A-1001"), true)
	srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{AfterApply: true, Reset: true})
	deliver("ProBonus applies the credit, then the connection drops before its answer: RefillOnce waits the "+
		"settle time, looks, and finds it", order("A-1002"), true)
	for range 3 { // every attempt of RefillOnce's first look
		srv.FailNext(http.MethodGet, probonustest.PathTransactions, http.StatusServiceUnavailable, "<html><title>503 Service Unavailable</title></html>", 0)
	}
	deliver("ProBonus answers 503: nothing is sent, and the sender is asked to deliver again later", order("A-1003"), true)
	deliver("the sender delivers it again after Retry-After", order("A-1003"), true)
	deliver("a delivery without a bonus", fmt.Sprintf(`{"order_id":"A-1004","account_id":%d}`, guest.ID), true)
	deliver("a bonus with a fraction of a kopeck", fmt.Sprintf(`{"order_id":"A-1004","account_id":%d,"bonus":10.005}`, guest.ID), true)
	deliver("an order of an account ProBonus does not have", `{"order_id":"A-1005","account_id":999999,"bonus":"50.00"}`, true)
	deliver("a delivery without the signature", order("A-1006"), false)

	credits := 0
	for _, tx := range srv.Refills(guest.ID) {
		if strings.HasPrefix(tx.Reason, Reason("")) {
			credits++
		}
	}
	fmt.Fprintf(out, "\nProBonus applied %d credits to account %d for 3 orders (refill requests sent: %d); balance %s → %s\n",
		credits, guest.ID, srv.Count(http.MethodPost, probonustest.PathRefill), balance, srv.Balance(guest.ID))
	return 0
}
