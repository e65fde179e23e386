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

func historyCommand(fs *flag.FlagSet) runner {
	last := fs.Int("last", 0, fmt.Sprintf("the last N transactions, at most %d (default %d)", probonus.MaxLastTransactions, defaultLast))
	from := fs.String("from", "", "the start of a period: YYYY-MM-DD or YYYY-MM-DDTHH:MM, in the server's time")
	to := fs.String("to", "", "the end of the period, that day included (default now)")
	return func(ctx context.Context, s *session, args []string) error {
		accountID, err := parseID("ACCOUNT", args[0])
		if err != nil {
			return err
		}
		lastSet := false
		fs.Visit(func(f *flag.Flag) { lastSet = lastSet || f.Name == "last" })
		if lastSet && (*from != "" || *to != "") {
			return usageErrorf("give --last or a period (--from, --to), not both")
		}
		if *to != "" && *from == "" {
			return usageErrorf("--to needs --from")
		}
		c, err := s.connect()
		if err != nil {
			return err
		}
		var txs []probonus.Transaction
		if *from != "" {
			start, err := parseMoment("--from", *from, s.loc, false)
			if err != nil {
				return err
			}
			end := time.Now().In(s.loc)
			if *to != "" {
				if end, err = parseMoment("--to", *to, s.loc, true); err != nil {
					return err
				}
			}
			switch {
			case start.After(end) && *to != "":
				return usageErrorf("--from %s is after --to %s: give the start first", *from, *to)
			case start.After(end):
				return usageErrorf("--from %s is in the future (without --to, the period ends now)", *from)
			}
			txs, err = c.Accounts.Transactions(ctx, accountID, start, end)
			if err != nil {
				return accountErr(err, accountID)
			}
		} else {
			n := *last
			if !lastSet {
				n = defaultLast
			}
			if n < 1 || n > probonus.MaxLastTransactions {
				return usageErrorf("--last must be between 1 and %d", probonus.MaxLastTransactions)
			}
			if txs, err = c.Accounts.LastTransactions(ctx, accountID, n); err != nil {
				return accountErr(err, accountID)
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
