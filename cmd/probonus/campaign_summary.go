package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/probonus-go/probonus"
)

// tally counts a run's rows as they end.
type tally struct {
	kind       campaignKind
	counts     map[string]int
	sums       map[string]probonus.Amount // the rows' amounts by status, for a kind whose rows have one
	finished   int                        // the rows sent that ended
	failed     int
	listed     []failedRow // the rows not done, in line order: all for --json, else the first listedRows
	unlisted   int         // the rows not done past those
	keepAll    bool
	notStarted int
}

func newTally(kind campaignKind, keepAll bool) *tally {
	return &tally{kind: kind, counts: map[string]int{}, sums: map[string]probonus.Amount{}, keepAll: keepAll}
}

// done reports whether a status is a row done (or, in a dry run, that would be).
func done(status string) bool {
	switch status {
	case statusCredited, statusAlready, statusCreated, statusExists, statusReady:
		return true
	}
	return false
}

// add counts a row's result; errText is its failure's text.
func (t *tally) add(res rowResult, errText string) {
	t.counts[res.status]++
	if res.started {
		t.finished++
	}
	switch {
	case done(res.status):
		t.sums[res.status] = t.sums[res.status].Add(res.row.amount)
	case res.waiting:
		t.notStarted++
	default:
		if res.started {
			t.failed++
		}
		if !t.keepAll && len(t.listed) == listedRows {
			t.unlisted++
			return
		}
		t.listed = append(t.listed, failedRow{Line: res.row.line, Status: res.status, Error: errText})
	}
}

// brief is the progress's description: what the verb counts (an amount, or rows) and the errors.
func (t *tally) brief(verb string) string {
	b := verb
	if slices.Contains(t.kind.statuses(), verb) {
		if t.kind.money() {
			b += " " + money(t.sums[verb])
		} else {
			b += " " + strconv.Itoa(t.counts[verb])
		}
	}
	return b + ", " + howMany(t.failed, "error")
}

// problemsText is a row's problems without their line, which the results name beside them.
func problemsText(ps []rowProblem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.msg
		if p.column != "" {
			parts[i] = "column " + p.column + ": " + p.msg
		}
	}
	return strings.Join(parts, "; ")
}

// printProblems lists the first problems checking the file found.
func (r *campaignRun) printProblems(w io.Writer, title string) {
	f := r.f
	fmt.Fprintf(w, "%s: %d\n", title, f.bad)
	for _, p := range f.problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if n := f.nProblems - len(f.problems); n > 0 {
		fmt.Fprintf(w, "  … and %d more (--dry-run lists them all)\n", n)
	}
}

// campaignSummary is the end of a run as --json prints it. Money is a string with two decimals,
// as the API writes it (Pydantic v2): a script reads it exactly, never as a float.
type campaignSummary struct {
	File            string         `json:"file"`
	Rows            int            `json:"rows"`
	Statuses        map[string]int `json:"statuses"`
	Credited        string         `json:"credited,omitempty"`
	AlreadyCredited string         `json:"alreadyCredited,omitempty"`
	Stopped         string         `json:"stopped,omitempty"`
	NotStarted      int            `json:"notStarted,omitempty"`
	NotRead         int            `json:"notRead,omitempty"`
	Interrupted     bool           `json:"interrupted,omitempty"`
	Failed          []failedRow    `json:"failed,omitempty"`
}

type failedRow struct {
	Line   int    `json:"line"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// summaryOut is where the summary goes: stdout, or stderr when the results go to stdout (--out -),
// which then holds the CSV alone.
func (r *campaignRun) summaryOut() io.Writer {
	if r.o.out == stdoutName {
		return r.s.stderr
	}
	return r.s.stdout
}

// summary prints the counts per status, the sums and the rows that failed.
func (r *campaignRun) summary() error {
	t, w, kind := r.t, r.summaryOut(), r.o.kind
	notRead := r.f.rows - r.handed
	if r.s.cfg.json {
		sum := campaignSummary{File: r.f.name, Rows: r.f.rows, Statuses: map[string]int{}, Stopped: r.halt.reason(),
			NotStarted: t.notStarted, NotRead: notRead, Interrupted: r.interrupted, Failed: t.listed}
		for _, st := range kind.statuses() {
			sum.Statuses[st] = t.counts[st]
		}
		kind.summarize(t, &sum)
		return printJSON(w, sum)
	}
	tb := newTable("STATUS", "ROWS>")
	if kind.money() {
		tb = newTable("STATUS", "ROWS>", "AMOUNT>")
	}
	for _, st := range kind.statuses() {
		cells := []string{st, strconv.Itoa(t.counts[st])}
		if kind.money() {
			amount := ""
			if done(st) {
				amount = money(t.sums[st])
			}
			cells = append(cells, amount)
		}
		tb.add(cells...)
	}
	fmt.Fprintf(w, "%s: %s.\n", r.f.name, howMany(r.f.rows, "row"))
	if err := tb.write(w); err != nil {
		return err
	}
	fmt.Fprintln(w, kind.done(t))
	if len(t.listed) > 0 {
		fmt.Fprintln(w, "Rows not done:")
		failures := newTable("", "", "")
		for _, f := range t.listed {
			failures.add(fmt.Sprintf("  line %d", f.Line), f.Status, f.Error)
		}
		if err := failures.write(w); err != nil {
			return err
		}
		if t.unlisted > 0 {
			more := "--out FILE lists them all"
			switch r.o.out {
			case "":
			case stdoutName:
				more = "the results on stdout list them all"
			default:
				more = r.o.out + " lists them all"
			}
			fmt.Fprintf(w, "  … and %d more: %s\n", t.unlisted, more)
		}
	}
	if why := r.halt.reason(); why != "" && !r.interrupted {
		fmt.Fprintf(w, "Stopped early: %s.\n", why)
	}
	if t.notStarted > 0 {
		fmt.Fprintf(w, "Not started (skipped): %s.\n", howMany(t.notStarted, "row"))
	}
	if notRead > 0 {
		fmt.Fprintf(w, "Not read: %s.\n", howMany(notRead, "row"))
	}
	if r.interrupted || r.halt.stopped() || t.counts[statusUnknown]+t.counts[statusRefused] > 0 {
		fmt.Fprintln(w, "Run the same file again to finish: a row done before is found and not done twice.")
	}
	return nil
}

func howMany(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// dryRunOutput is a dry run as --json prints it: the file, what a run would do, every problem of
// the rows that would fail. Money is a string with two decimals, as in a run's summary.
type dryRunOutput struct {
	DryRun        bool          `json:"dryRun"` // always true: nothing was written
	File          string        `json:"file"`
	Rows          int           `json:"rows"`
	Columns       []string      `json:"columns"`
	Delimiter     string        `json:"delimiter"`
	Ignored       []string      `json:"ignoredColumns,omitempty"`
	Ready         int           `json:"ready"`                   // the rows a run would send
	CreditUpTo    string        `json:"creditUpTo,omitempty"`    // a credit's: the ready rows' sum, a ceiling (a row credited before is not credited again)
	Group         int64         `json:"group,omitempty"`         // a sign-up's group
	AlreadyExists *int          `json:"alreadyExists,omitempty"` // a sign-up's: the guests who have an account already
	WouldFail     []problemJSON `json:"wouldFail"`
	Stopped       string        `json:"stopped,omitempty"`
	NotChecked    int           `json:"notChecked,omitempty"`
	Interrupted   bool          `json:"interrupted,omitempty"`
}

// problemJSON is one problem of a row that would fail.
type problemJSON struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Error  string `json:"error"`
}

// dryRunJSON prints what a dry run found as JSON (--json).
func (r *campaignRun) dryRunJSON(ready, exists int, sum probonus.Amount, problems []rowProblem) error {
	f := r.f
	out := dryRunOutput{DryRun: true, File: f.name, Rows: f.rows, Columns: f.columns, Delimiter: string(f.comma), Ignored: f.ignored,
		Ready: ready, Group: r.o.group, WouldFail: []problemJSON{}, Stopped: r.halt.reason(), Interrupted: r.interrupted}
	if r.o.kind.money() {
		out.CreditUpTo = money(sum)
	} else {
		out.AlreadyExists = &exists
	}
	for _, p := range problems {
		out.WouldFail = append(out.WouldFail, problemJSON{Line: p.line, Column: p.column, Error: p.msg})
	}
	if out.Stopped != "" {
		out.NotChecked = f.valid - r.t.finished
	}
	return printJSON(r.s.stdout, out)
}

// dryRunSummary says what a dry run found: the file, what a run would do, every row that would
// fail; with --json, as JSON.
func (r *campaignRun) dryRunSummary(ready, exists int, sum probonus.Amount, problems []rowProblem) error {
	if r.s.cfg.json {
		return r.dryRunJSON(ready, exists, sum, problems)
	}
	f, w := r.f, r.s.stdout
	desc := fmt.Sprintf("%s: %s; columns %s; delimiter '%c'", f.name, howMany(f.rows, "row"), strings.Join(f.columns, ", "), f.comma)
	if len(f.ignored) > 0 {
		desc += "; ignored columns: " + strings.Join(f.ignored, ", ")
	}
	fmt.Fprintln(w, desc+".")
	fmt.Fprintln(w, r.o.kind.wouldDo(ready, exists, sum, r.o))
	if len(problems) > 0 {
		rows := 0
		for i, p := range problems {
			if i == 0 || p.line != problems[i-1].line {
				rows++
			}
		}
		fmt.Fprintf(w, "Rows that would fail: %d\n", rows)
		for _, p := range problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if why := r.halt.reason(); why != "" {
		fmt.Fprintf(w, "Stopped early: %s; %d rows not checked.\n", why, f.valid-r.t.finished)
	}
	fmt.Fprintln(w, "Dry run: nothing was written.")
	return nil
}
