// Command errors shows how each kind of failure looks and how to branch on it with errors.Is and
// errors.As: bad input caught before sending, not found, a duplicate, the server's validation,
// rejected credentials, server errors after retries, a timeout, and a refill whose answer was lost
// (errors.Is(err, probonus.ErrOutcomeUnknown)).
//
//	go run ./examples/errors         # an embedded server, with injected faults
//	PROBONUS_BASE_URL=... PROBONUS_API_KEY=... go run ./examples/errors   # the read-only cases
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout)) }

func run(args []string, getenv func(string) string, out io.Writer) int {
	fs := flag.NewFlagSet("errors", flag.ContinueOnError)
	fs.SetOutput(out)
	writeFlag := fs.Bool("write", false, "also run the cases that send writes to a real server")
	if fs.Parse(args) != nil {
		return 2
	}
	c, srv, err := connect(getenv, out,
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: 50 * time.Millisecond}))
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	write := *writeFlag
	if srv != nil {
		defer srv.Close()
		write = true // demo data may always change
	}
	ctx := context.Background()

	say := func(title string, err error) {
		fmt.Fprintf(out, "\n== %s\n   err: %v\n", title, err)
		var input *probonus.InputError
		var api *probonus.APIError
		if errors.As(err, &input) {
			fmt.Fprintf(out, "   → errors.As(*InputError): field %q, %s; nothing was sent\n", input.Field, input.Reason)
			return
		}
		if errors.Is(err, probonus.ErrOutcomeUnknown) {
			fmt.Fprintln(out, "   → errors.Is(probonus.ErrOutcomeUnknown): the server may have applied it, so it was not resent")
		}
		switch {
		case err == nil:
			fmt.Fprintln(out, "   → no error")
		case errors.Is(err, context.DeadlineExceeded):
			fmt.Fprintln(out, "   → errors.Is(context.DeadlineExceeded): the call ran out of time")
		case errors.As(err, &api):
			fmt.Fprintf(out, "   → errors.As(*APIError): status %d, detail %q", api.StatusCode, api.Detail)
			for _, v := range api.Validation {
				fmt.Fprintf(out, "; %s: %s", v.Field(), v.Msg)
			}
			fmt.Fprintln(out)
			for _, s := range sentinels {
				if errors.Is(err, s.err) {
					fmt.Fprintf(out, "   → errors.Is(probonus.%s)\n", s.name)
				}
			}
		default:
			fmt.Fprintln(out, "   → a transport error")
		}
	}

	_, err = c.Accounts.FindByPhone(ctx, "12345")
	say("an invalid phone", err)

	_, err = c.Accounts.Refill(ctx, probonus.Refill{AccountID: 1, Amount: probonus.MustAmount("10.005")})
	say("a fraction of a kopeck", err)

	_, err = c.Accounts.FindByPhone(ctx, "+7 900 000-00-01")
	say("a guest that does not exist", err)

	bad, err := probonus.New(probonus.WithBaseURL(baseURL(srv, getenv)), probonus.WithAPIKey("not-the-key"))
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	_, err = bad.AccountGroups.List(ctx)
	say("a wrong API key", err)

	if write {
		guest, err := c.Accounts.FindByPhone(ctx, probonustest.DemoPhone)
		if err == nil {
			_, err = c.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: guest.GroupID, Phone: probonustest.DemoPhone})
		}
		say("signing up a phone that already has an account", err)

		err = c.Do(ctx, "POST", "/api/v0/accounts/refill", nil, map[string]any{"accountId": 1, "amount": -5}, nil)
		say("the server's own validation (through Do, which skips the SDK's checks)", err)
	}
	if srv == nil {
		return 0
	}

	// The rest needs faults only the embedded server can inject.
	for range 3 {
		srv.FailNext("GET", probonustest.PathAccountGroupsList, 503, "<html><title>503 Service Unavailable</title></html>", 0)
	}
	_, err = c.AccountGroups.List(ctx)
	say("a proxy answering 503 three times (a GET is retried, then gives up)", err)

	srv.FailNext("GET", probonustest.PathAccountGroupsList, 429, `{"error":"Rate limit exceeded: 5 per 1 minute"}`, time.Second)
	groups, err := c.AccountGroups.List(ctx)
	say(fmt.Sprintf("a 429 with Retry-After: 1, then success (%d groups)", len(groups)), err)

	srv.Inject("GET", probonustest.PathAccountGroupsList, probonustest.Fault{Delay: 2 * time.Second})
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = c.AccountGroups.List(tctx)
	cancel()
	say("a slow server and a 200ms deadline", err)

	guest, err := c.Accounts.FindByPhone(ctx, probonustest.DemoPhone)
	if err != nil {
		say("finding the demo guest", err)
		return 1
	}
	for _, lost := range []struct {
		title string
		fault probonustest.Fault
	}{
		{"a refill whose answer was lost (applied, then the connection dropped)", probonustest.Fault{AfterApply: true, Reset: true}},
		{"a refill whose 200 answer broke off half-way", probonustest.Fault{AfterApply: true, BreakBody: true}},
		{"a refill answered 500 after it was applied", probonustest.Fault{AfterApply: true, Status: 500, Body: "Internal Server Error"}},
	} {
		before, sentBefore := len(srv.Refills(guest.ID)), srv.Count("POST", probonustest.PathRefill)
		srv.Inject("POST", probonustest.PathRefill, lost.fault)
		_, err = c.Accounts.Refill(ctx, probonus.Refill{AccountID: guest.ID, Amount: probonus.MustAmount("25")})
		say(lost.title, err)
		fmt.Fprintf(out, "   → requests sent: %d; the guest's refills went from %d to %d: look at the last transactions\n"+
			"     before crediting again, or use RefillOnce, which does\n",
			srv.Count("POST", probonustest.PathRefill)-sentBefore, before, len(srv.Refills(guest.ID)))
	}
	return 0
}

// connect makes a client for the server the environment names (see probonus.FromEnv), with extra
// options. Without PROBONUS_BASE_URL it starts an embedded probonustest server with demo data
// instead, and returns it too, for the caller to close; srv is nil for a real server.
func connect(getenv func(string) string, out io.Writer, extra ...probonus.Option) (c *probonus.Client, srv *probonustest.Server, err error) {
	if getenv("PROBONUS_BASE_URL") == "" {
		srv = probonustest.NewServer(nil, probonustest.WithDemoData())
		fmt.Fprintf(out, "# PROBONUS_BASE_URL is not set: using an embedded probonustest server at %s with demo data\n", srv.URL())
		c, err = probonus.New(append([]probonus.Option{probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey())}, extra...)...)
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
	c, err = probonus.New(append(opts, extra...)...)
	return c, nil, err
}

func baseURL(srv *probonustest.Server, getenv func(string) string) string {
	if srv != nil {
		return srv.URL()
	}
	return getenv("PROBONUS_BASE_URL")
}

// sentinels are the status sentinels an *APIError matches, by the names a program writes.
var sentinels = []struct {
	name string
	err  error
}{
	{"ErrBadRequest", probonus.ErrBadRequest}, {"ErrAccountExists", probonus.ErrAccountExists},
	{"ErrUnauthorized", probonus.ErrUnauthorized}, {"ErrForbidden", probonus.ErrForbidden},
	{"ErrNotFound", probonus.ErrNotFound}, {"ErrValidation", probonus.ErrValidation},
	{"ErrRateLimited", probonus.ErrRateLimited}, {"ErrServer", probonus.ErrServer},
}
