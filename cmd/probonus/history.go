package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/probonus-go/probonus"
)

// defaultLast is how many transactions history shows without --last or a period.
const defaultLast = 20

// historyOptions is what history runs with: the last transactions, or those of a period.
type historyOptions struct {
	accountID int64
	last      int    // how many of the last transactions: --last, else defaultLast
	from, to  string // the period as given (from: "" for the last transactions), read in the session's location
}

// newHistoryCmd registers history's flags and returns what parses them with the account and runs it.
func newHistoryCmd(fs *flag.FlagSet, runF runFunc[historyOptions]) runner {
	o := historyOptions{}
	fs.IntVar(&o.last, "last", 0, fmt.Sprintf("the last N transactions, at most %d (default %d)", probonus.MaxLastTransactions, defaultLast))
	fs.StringVar(&o.from, "from", "", "the start of a period: YYYY-MM-DD or YYYY-MM-DDTHH:MM, in the server's time")
	fs.StringVar(&o.to, "to", "", "the end of the period, that day included (default now)")
	return func(ctx context.Context, s *session, args []string) error {
		accountID, err := parseID("ACCOUNT", args[0])
		if err != nil {
			return err
		}
		lastSet := false
		fs.Visit(func(f *flag.Flag) { lastSet = lastSet || f.Name == "last" })
		if lastSet && (o.from != "" || o.to != "") {
			return usageErrorf("give --last or a period (--from, --to), not both")
		}
		if o.to != "" && o.from == "" {
			return usageErrorf("--to needs --from")
		}
		opts := o
		opts.accountID = accountID
		if !lastSet {
			opts.last = defaultLast
		}
		return runF(ctx, s, opts)
	}
}

// runHistory lists an account's transactions, newest first. The period and --last's range are
// checked once the configuration is: a wrong base URL or credentials are told first.
func runHistory(ctx context.Context, s *session, o historyOptions) error {
	c, err := s.connect()
	if err != nil {
		return err
	}
	var txs []probonus.Transaction
	if o.from != "" {
		start, err := parseMoment("--from", o.from, s.loc, false)
		if err != nil {
			return err
		}
		end := time.Now().In(s.loc)
		if o.to != "" {
			if end, err = parseMoment("--to", o.to, s.loc, true); err != nil {
				return err
			}
		}
		switch {
		case start.After(end) && o.to != "":
			return usageErrorf("--from %s is after --to %s: give the start first", o.from, o.to)
		case start.After(end):
			return usageErrorf("--from %s is in the future (without --to, the period ends now)", o.from)
		}
		txs, err = c.Accounts.Transactions(ctx, o.accountID, start, end)
		if err != nil {
			return accountErr(err, o.accountID)
		}
	} else {
		if o.last < 1 || o.last > probonus.MaxLastTransactions {
			return usageErrorf("--last must be between 1 and %d", probonus.MaxLastTransactions)
		}
		if txs, err = c.Accounts.LastTransactions(ctx, o.accountID, o.last); err != nil {
			return accountErr(err, o.accountID)
		}
	}
	if s.cfg.json {
		if txs == nil {
			txs = []probonus.Transaction{} // [] rather than null, for scripts
		}
		return printJSON(s.stdout, txs)
	}
	return printHistory(s.stdout, txs)
}

// parseMoment reads a day or a minute in loc. The end of a period given as a day is that day's
// last second, so the day is included.
func parseMoment(flagName, v string, loc *time.Location, end bool) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		if end {
			return t.AddDate(0, 0, 1).Add(-time.Second), nil
		}
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("%s %q: want YYYY-MM-DD or YYYY-MM-DDTHH:MM", flagName, v)
}

func printHistory(w io.Writer, txs []probonus.Transaction) error {
	if len(txs) == 0 {
		_, err := fmt.Fprintln(w, "No transactions.")
		return err
	}
	t := newTable("TIME", "TYPE", "SUM>", "CHECK>", "RESTAURANT", "REASON")
	for _, tx := range txs {
		t.add(stamp(tx.Datetime), string(tx.Type), money(tx.Sum), id(tx.CheckID), tx.RestaurantName, tx.Reason)
	}
	return t.write(w)
}
