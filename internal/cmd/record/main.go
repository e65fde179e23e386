// Command record calls the read-only endpoints of a real ProBonus server for one guest and writes
// each raw response, scrubbed of personal and secret data, as a fixture in the format of testdata/.
//
//	PROBONUS_BASE_URL=http://127.0.0.1:11030 PROBONUS_API_KEY=... \
//	    go run ./internal/cmd/record -phone 79991234567 -out testdata/recorded
//
// It lists the account groups, finds the guest by phone, reads the last transactions, the
// transactions of a period, the extended balance and the checks those transactions name. It never
// sends a write (see package capture).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/probonus-go/probonus/internal/capture"
	"github.com/probonus-go/probonus/internal/scrub"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, nil)) }

// run records; transport, when set, is the transport under the capture (tests use it).
func run(args []string, getenv func(string) string, out io.Writer, transport http.RoundTripper) int {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(out)
	o := capture.Options{Out: out, Transport: transport}
	fs.StringVar(&o.Phone, "phone", "", "the guest whose data is recorded (required)")
	dir := fs.String("out", "testdata/recorded", "where the fixtures go")
	fs.IntVar(&o.Days, "days", 90, "the period of transactions to record, in days back from now")
	fs.IntVar(&o.Count, "count", 50, "how many last transactions to record")
	fs.IntVar(&o.Checks, "checks", 5, "at most this many checks named by the transactions")
	if fs.Parse(args) != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(out, "record:", err)
		return 1
	}
	if o.Phone == "" {
		return fail(errors.New("-phone is required"))
	}
	var err error
	if o.Client, err = capture.FromEnv(getenv); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	caps, err := capture.Run(ctx, o)
	if err != nil {
		return fail(err)
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	s := scrub.New(salt)
	for _, c := range caps {
		c.Response.Body = s.JSON(c.Response.Body)
		if err := c.Response.Write(filepath.Join(*dir, c.Name+".http")); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(out, "wrote %d fixtures to %s, scrubbed of phones, names, emails, birth dates, tokens and identifiers\n", len(caps), *dir)
	return 0
}
