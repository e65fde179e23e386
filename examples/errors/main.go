// Command errors shows how each kind of failure looks and how to branch on it with errors.Is and
// errors.As: bad input caught before sending, not found, a duplicate, the server's validation,
// rejected credentials, server errors after retries, a timeout, and a refill whose answer was lost.
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
	"github.com/probonus-go/probonus/internal/exampleenv"
	"github.com/probonus-go/probonus/probonustest"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout)) }

func run(args []string, getenv func(string) string, out io.Writer) int {
	fs := flag.NewFlagSet("errors", flag.ContinueOnError)
	fs.SetOutput(out)
	write := fs.Bool("write", false, "also run the cases that send writes to a real server")
	if fs.Parse(args) != nil {
		return 2
	}
	env, closeEnv, err := exampleenv.Setup(exampleenv.Options{Write: *write, Getenv: getenv, Out: out,
		Client: []probonus.Option{probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: 50 * time.Millisecond})}})
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	defer closeEnv()
	ctx := context.Background()
	c, srv := env.Client, env.Embedded

	say := func(title string, err error) {
		fmt.Fprintf(out, "\n== %s\n   err: %v\n", title, err)
		var input *probonus.InputError
		var api *probonus.APIError
		switch {
		case err == nil:
			fmt.Fprintln(out, "   → no error")
		case errors.As(err, &input):
			fmt.Fprintf(out, "   → errors.As(*InputError): field %q, %s; nothing was sent\n", input.Field, input.Reason)
		case errors.Is(err, context.DeadlineExceeded):
			fmt.Fprintln(out, "   → errors.Is(context.DeadlineExceeded): the call ran out of time")
		case errors.As(err, &api):
			fmt.Fprintf(out, "   → errors.As(*APIError): status %d, detail %q", api.StatusCode, api.Detail)
			for _, v := range api.Validation {
				fmt.Fprintf(out, "; %s: %s", v.Field(), v.Msg)
			}
			fmt.Fprintln(out)
			for _, s := range []error{probonus.ErrBadRequest, probonus.ErrUnauthorized, probonus.ErrNotFound,
				probonus.ErrValidation, probonus.ErrRateLimited, probonus.ErrServer} {
				if errors.Is(err, s) {
					fmt.Fprintf(out, "   → errors.Is(%v)\n", s)
				}
			}
		default:
			fmt.Fprintln(out, "   → a transport error: the server may or may not have acted")
		}
	}

	_, err = c.Accounts.FindByPhone(ctx, "12345")
	say("an invalid phone", err)

	_, err = c.Accounts.Refill(ctx, probonus.Refill{AccountID: 1, Amount: probonus.MustAmount("10.005")})
	say("a fraction of a kopeck", err)

	_, err = c.Accounts.FindByPhone(ctx, "+7 900 000-00-01")
	say("a guest that does not exist", err)

	bad, _ := probonus.New(probonus.WithBaseURL(baseURL(env, getenv)), probonus.WithAPIKey("not-the-key"))
	_, err = bad.AccountGroups.List(ctx)
	say("a wrong API key", err)

	if env.Write {
		guest, err := c.Accounts.FindByPhone(ctx, exampleenv.ReturningPhone)
		if err == nil {
			_, err = c.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: guest.GroupID, Phone: exampleenv.ReturningPhone})
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
		srv.FailNext("GET", "/api/v0/account_groups/list", 503, "<html><title>503 Service Unavailable</title></html>", 0)
	}
	_, err = c.AccountGroups.List(ctx)
	say("a proxy answering 503 three times (a GET is retried, then gives up)", err)

	srv.FailNext("GET", "/api/v0/account_groups/list", 429, `{"error":"Rate limit exceeded: 5 per 1 minute"}`, time.Second)
	groups, err := c.AccountGroups.List(ctx)
	say(fmt.Sprintf("a 429 with Retry-After: 1, then success (%d groups)", len(groups)), err)

	srv.Inject("GET", "/api/v0/account_groups/list", probonustest.Fault{Delay: 2 * time.Second})
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = c.AccountGroups.List(tctx)
	cancel()
	say("a slow server and a 200ms deadline", err)

	guest, err := c.Accounts.FindByPhone(ctx, exampleenv.ReturningPhone)
	if err != nil {
		say("finding the demo guest", err)
		return 1
	}
	before := srv.TransactionCount(guest.ID, "refill")
	srv.Inject("POST", "/api/v0/accounts/refill", probonustest.Fault{AfterApply: true, Reset: true})
	_, err = c.Accounts.Refill(ctx, probonus.Refill{AccountID: guest.ID, Amount: probonus.MustAmount("25")})
	say("a refill whose answer was lost (applied, then the connection dropped)", err)
	fmt.Fprintf(out, "   → sent once, applied once: the guest's refills went from %d to %d, balance %s;\n"+
		"     look at the balance or the last transactions before crediting again\n",
		before, srv.TransactionCount(guest.ID, "refill"), srv.Balance(guest.ID))
	return 0
}

func baseURL(env *exampleenv.Env, getenv func(string) string) string {
	if env.Embedded != nil {
		return env.Embedded.URL()
	}
	return getenv(exampleenv.EnvBaseURL)
}
