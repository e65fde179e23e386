// Command bearer authenticates with a login and password instead of an API key. The client logs in
// on the first request, refreshes the token before it expires and when the server rejects it, and
// logs in again if a refresh fails; the debug log shows each of those requests.
//
//	go run ./examples/bearer         # an embedded server whose tokens live 2 seconds
//	PROBONUS_BASE_URL=... PROBONUS_LOGIN=... PROBONUS_PASSWORD=... go run ./examples/bearer
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout)) }

func run(args []string, getenv func(string) string, w io.Writer) int {
	out := &lockedWriter{w: w} // the log is also written by the background token refresh
	fs := flag.NewFlagSet("bearer", flag.ContinueOnError)
	fs.SetOutput(out)
	duration := fs.Duration("for", 5*time.Second, "how long to keep calling")
	every := fs.Duration("every", 500*time.Millisecond, "the pause between calls")
	if fs.Parse(args) != nil {
		return 2
	}
	// The debug log gets one line per HTTP attempt: login and refresh included, secrets never.
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keeps the transcript short
			}
			return a
		}}))
	c, srv, err := connect(getenv, out, probonus.WithLogger(logger))
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 1
	}
	if srv != nil {
		defer srv.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration+time.Minute)
	defer cancel()
	for end := time.Now().Add(*duration); time.Now().Before(end); time.Sleep(*every) {
		groups, err := c.AccountGroups.List(ctx)
		if err != nil {
			fmt.Fprintln(out, "error:", err)
			return 1
		}
		fmt.Fprintf(out, "listed %d account groups\n", len(groups))
	}
	if srv != nil {
		logins, refreshes := srv.AuthCounts()
		fmt.Fprintf(out, "the server saw %d login and %d token refreshes\n", logins, refreshes)
	}
	return 0
}

// connect makes a client that logs in with PROBONUS_LOGIN and PROBONUS_PASSWORD at
// PROBONUS_BASE_URL (see probonus.FromEnv; PROBONUS_API_KEY is ignored here, since this example
// shows the login, and without a login it says so). Without PROBONUS_BASE_URL it starts an embedded probonustest server whose
// tokens live 2 seconds, and returns it too, for the caller to close; srv is nil for a real server.
func connect(getenv func(string) string, out io.Writer, extra ...probonus.Option) (c *probonus.Client, srv *probonustest.Server, err error) {
	if getenv("PROBONUS_BASE_URL") == "" {
		srv = probonustest.NewServer(nil, probonustest.WithTokenLifetime(2*time.Second))
		fmt.Fprintf(out, "# PROBONUS_BASE_URL is not set: using an embedded probonustest server at %s\n", srv.URL())
		c, err = probonus.New(append([]probonus.Option{probonus.WithBaseURL(srv.URL()), probonus.WithLogin(srv.Login())}, extra...)...)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return c, srv, nil
	}
	if blank(getenv("PROBONUS_LOGIN")) && blank(getenv("PROBONUS_PASSWORD")) {
		// FromEnv would offer the API key, which this example ignores: say what it needs instead
		msg := "this example logs in with a login and password: set PROBONUS_LOGIN and PROBONUS_PASSWORD"
		if !blank(getenv("PROBONUS_API_KEY")) {
			msg += " (PROBONUS_API_KEY is set, but not used here; examples/quickstart uses it)"
		}
		return nil, nil, errors.New(msg)
	}
	opts, err := probonus.FromEnv(func(name string) string {
		if name == "PROBONUS_API_KEY" {
			return ""
		}
		return getenv(name)
	})
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(out, "# using %s\n", getenv("PROBONUS_BASE_URL"))
	c, err = probonus.New(append(opts, extra...)...)
	return c, nil, err
}

// blank reports whether an environment variable is unset or only white space, as FromEnv reads it.
func blank(v string) bool { return strings.TrimSpace(v) == "" }

// lockedWriter serialises writes from the calls and the background token refresh.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
