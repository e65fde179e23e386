// Command record calls the read-only endpoints of a real ProBonus server for one guest and writes
// each raw response, scrubbed of personal and secret data, as a fixture in the format of testdata/.
//
//	PROBONUS_BASE_URL=http://127.0.0.1:11030 PROBONUS_API_KEY=... \
//	    go run ./internal/cmd/record -phone 79991234567 -out testdata/recorded
//
// It lists the account groups, finds the guest by phone, reads the last transactions, the
// transactions of a period, the extended balance and the checks those transactions name. It never
// sends a write: its transport refuses any request but a GET and the login and token refresh.
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
	"strings"
	"sync"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/fixture"
	"github.com/probonus-go/probonus/internal/scrub"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, nil)) }

// keptHeaders are the response headers a fixture keeps; the rest may identify the installation.
var keptHeaders = []string{"Content-Type", "Retry-After", "Www-Authenticate"}

// run records; transport, when set, is the transport under the recorder (tests use it).
func run(args []string, getenv func(string) string, out io.Writer, transport http.RoundTripper) int {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(out)
	phone := fs.String("phone", "", "the guest whose data is recorded (required)")
	dir := fs.String("out", "testdata/recorded", "where the fixtures go")
	days := fs.Int("days", 90, "the period of transactions to record, in days back from now")
	count := fs.Int("count", 50, "how many last transactions to record")
	checks := fs.Int("checks", 5, "at most this many checks named by the transactions")
	if fs.Parse(args) != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(out, "record:", err)
		return 1
	}
	if *phone == "" {
		return fail(errors.New("-phone is required"))
	}
	base := getenv("PROBONUS_BASE_URL")
	if base == "" {
		return fail(errors.New("set PROBONUS_BASE_URL, and PROBONUS_API_KEY or PROBONUS_LOGIN and PROBONUS_PASSWORD"))
	}
	auth := probonus.WithAPIKey(getenv("PROBONUS_API_KEY"))
	if getenv("PROBONUS_API_KEY") == "" {
		auth = probonus.WithLogin(getenv("PROBONUS_LOGIN"), getenv("PROBONUS_PASSWORD"))
	}
	if transport == nil {
		transport = http.DefaultTransport
	}
	rec := &recorder{next: transport, got: map[string]*fixture.Response{}}
	c, err := probonus.New(probonus.WithBaseURL(base), auth, probonus.WithHTTPClient(&http.Client{Transport: rec}),
		probonus.WithUserAgent("probonus-go-recorder"))
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	step := func(name string, call func() (string, error)) error {
		rec.start(name)
		summary, err := call()
		status := rec.status(name)
		switch {
		case err != nil && status == 0:
			fmt.Fprintf(out, "%-36s failed: %v\n", name, err)
			return err
		case err != nil:
			fmt.Fprintf(out, "%-36s %d: %v\n", name, status, err)
		default:
			fmt.Fprintf(out, "%-36s %d %s\n", name, status, summary)
		}
		return nil
	}

	if err := step("account_groups/list", func() (string, error) {
		g, err := c.AccountGroups.List(ctx)
		return fmt.Sprintf("(%d groups)", len(g)), err
	}); err != nil {
		return fail(err)
	}
	var acc *probonus.Account
	if err := step("accounts/find_by_phone", func() (string, error) {
		var err error
		acc, err = c.Accounts.FindByPhone(ctx, *phone)
		return "(the guest)", err
	}); err != nil {
		return fail(err)
	}
	if acc != nil {
		var txs []probonus.Transaction
		steps := []struct {
			name string
			call func() (string, error)
		}{
			{"accounts/transactions_last", func() (string, error) {
				var err error
				txs, err = c.Accounts.LastTransactions(ctx, acc.ID, *count)
				return fmt.Sprintf("(%d transactions)", len(txs)), err
			}},
			{"accounts/transactions_period", func() (string, error) {
				period, err := c.Accounts.Transactions(ctx, acc.ID, time.Now().AddDate(0, 0, -*days), time.Now())
				return fmt.Sprintf("(%d transactions in %d days)", len(period), *days), err
			}},
			{"accounts/get_balance_extended", func() (string, error) {
				b, err := c.Accounts.BalanceExtended(ctx, acc.ID)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("(%d burnings, %d deferred)", len(b.Burnings), len(b.LateIssues)), nil
			}},
		}
		for _, s := range steps {
			if err := step(s.name, s.call); err != nil {
				return fail(err)
			}
		}
		seen := map[int64]bool{}
		for _, tx := range txs {
			if tx.CheckID == 0 || seen[tx.CheckID] || len(seen) >= *checks {
				continue
			}
			seen[tx.CheckID] = true
			name := fmt.Sprintf("checks/get_by_id_%d", len(seen))
			if err := step(name, func() (string, error) {
				ch, err := c.Checks.GetByID(ctx, tx.CheckID)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("(%d dishes)", len(ch.Dishes)), nil
			}); err != nil {
				return fail(err)
			}
		}
	}

	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	s := scrub.New(salt)
	names := rec.names()
	for _, name := range names {
		r := rec.got[name]
		r.Body = s.JSON(r.Body)
		path := filepath.Join(*dir, name+".http")
		if err := r.Write(path); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(out, "wrote %d fixtures to %s, scrubbed of phones, names, emails, birth dates, tokens and identifiers\n", len(names), *dir)
	return 0
}

// recorder is the transport under the client: it keeps the last response of each step, and
// refuses anything that could change data.
type recorder struct {
	next  http.RoundTripper
	mu    sync.Mutex
	step  string
	order []string
	got   map[string]*fixture.Response
}

func (r *recorder) start(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step = name
}

func (r *recorder) status(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.got[name]; f != nil {
		return f.Status
	}
	return 0
}

func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.order...)
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	auth := strings.Contains(req.URL.Path, "/api/v0/auth/")
	if req.Method != http.MethodGet && !auth {
		return nil, fmt.Errorf("recorder: refusing to send %s %s: it records read-only endpoints", req.Method, req.URL.Path)
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil || auth {
		return resp, err // login and refresh answers hold tokens: never recorded
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	f := &fixture.Response{Status: resp.StatusCode, Header: http.Header{}, Body: body}
	for _, h := range keptHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			f.Header[h] = v
		}
	}
	r.mu.Lock()
	if _, ok := r.got[r.step]; !ok {
		r.order = append(r.order, r.step)
	}
	r.got[r.step] = f
	r.mu.Unlock()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp, nil
}
