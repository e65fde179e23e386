package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/probonus-go/probonus"
)

// A row's status in the results and the summary: exactly these words. A sign-up has created and
// already-exists where a credit has credited and already-credited.
const (
	statusCredited = "credited"
	statusAlready  = "already-credited"
	statusCreated  = "created"
	statusExists   = "already-exists"
	statusNotFound = "not-found"
	statusRefused  = "refused"
	statusUnknown  = "unknown"
	statusSkipped  = "skipped"
	statusReady    = "ready" // a dry run's row that would be sent; never written
)

// statusOrder is the order of a summary's lines.
var statusOrder = map[campaignKind][]string{
	refillCampaign: {statusCredited, statusAlready, statusNotFound, statusRefused, statusUnknown, statusSkipped},
	signupCampaign: {statusCreated, statusExists, statusRefused, statusUnknown, statusSkipped},
}

const (
	defaultConcurrency = 4
	maxConcurrency     = 64
	// systemicStreak is how many rows in a row failing for the same systemic cause (credentials
	// refused, the server down) stop a run: past it, every row would fail the same way.
	systemicStreak = 20
	// listedRows is how many rows that failed the summary names; --out has them all.
	listedRows = 20
)

// campaignOptions is a run of a file: what the flags say, and what tests set without flags.
type campaignOptions struct {
	kind        campaignKind
	file        string
	dryRun      bool
	concurrency int
	out         string
	group       int64 // signup: the group to sign guests up in
	progress    progressMode
	every       time.Duration    // the plain progress line's interval
	stopAfter   int              // rows failing in a row for a systemic cause that stop the run
	signals     <-chan os.Signal // Ctrl-C: the first stops taking rows, the second abandons those in flight; nil: none
}

// campaignFlags are the flags a write command has for a file.
type campaignFlags struct{ opts campaignOptions }

func newCampaignFlags(fs *flag.FlagSet, kind campaignKind) *campaignFlags {
	f := &campaignFlags{opts: campaignOptions{kind: kind}}
	what := "credit the rows of a CSV file: columns phone or account, amount, reason, optional burn_date (comma or semicolon separated, UTF-8)"
	if kind == signupCampaign {
		what = "sign up the guests of a CSV file: column phone, optional first_name, last_name, middle_name, email, gender, birth_date, card"
	}
	fs.StringVar(&f.opts.file, "file", "", what)
	fs.BoolVar(&f.opts.dryRun, "dry-run", false, "with --file: check every row and look the guests up, by reading only; nothing is written")
	fs.IntVar(&f.opts.concurrency, "concurrency", defaultConcurrency, "with --file: how many rows are sent at a time")
	fs.StringVar(&f.opts.out, "out", "", "with --file: write each row's result to this CSV file as it finishes")
	return f
}

// given reports whether --file was.
func (f *campaignFlags) given() bool { return f.opts.file != "" }

// parse checks the flags of a run of a file (group: signup's --group) and fills in the rest.
func (f *campaignFlags) parse(group int64) (campaignOptions, error) {
	o := f.opts
	switch {
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return o, usageErrorf("--concurrency must be between 1 and %d, got %d", maxConcurrency, o.concurrency)
	case o.dryRun && o.out != "":
		return o, usageErrorf("--out records a run; --dry-run writes nothing and lists the rows that would fail on stdout")
	case o.kind == signupCampaign && group <= 0:
		return o, usageErrorf("--group is required: the id of a group with a template (probonus groups lists them)")
	}
	o.group = group
	o.progress, o.every, o.stopAfter = progressAuto, progressEvery, systemicStreak
	return o, nil
}

// unused refuses the file's flags without --file.
func (f *campaignFlags) unused() error {
	if f.opts.dryRun || f.opts.out != "" || f.opts.concurrency != defaultConcurrency {
		return usageErrorf("--dry-run, --out and --concurrency go with --file")
	}
	return nil
}

// watchCampaign runs a file with Ctrl-C watched.
func watchCampaign(ctx context.Context, s *session, o campaignOptions) error {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	o.signals = sig
	return runCampaign(ctx, s, o)
}

// runCampaign reads a file and runs it, or with dryRun checks it. Its exit code: 0 when every
// row is done, 3 when any row's outcome is unknown, 1 when any failed.
func runCampaign(ctx context.Context, s *session, o campaignOptions) error {
	c, err := s.connect()
	if err != nil {
		return err
	}
	in, err := os.Open(o.file)
	if err != nil {
		return usageErrorf("%v", err)
	}
	defer in.Close()
	cr := campaignReader{kind: o.kind, normalize: c.NormalizePhone, today: probonus.DateOf(time.Now().In(s.loc))}
	f, err := cr.read(o.file, in)
	if err != nil {
		return err
	}
	if o.kind == signupCampaign {
		if err := checkGroup(ctx, c, o.group); err != nil {
			return err
		}
	}
	run := &campaignRun{s: s, c: c, o: o, f: f, t: newTally(o.kind)}
	if o.progress == progressAuto {
		run.o.progress = progressLines
		if s.stderrTerminal() {
			run.o.progress = progressBar
		}
	}
	if o.dryRun {
		return run.dryRun(ctx)
	}
	return run.run(ctx)
}

// checkGroup stops a sign-up whose group cannot take one before any row is sent: every row
// would be refused the same way.
func checkGroup(ctx context.Context, c *probonus.Client, id int64) error {
	groups, err := c.AccountGroups.List(ctx)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.ID == id {
			if !g.HaveTemplate {
				return usageErrorf("group %d (%s) has no template: probonus groups lists those that have one", id, g.Name)
			}
			return nil
		}
	}
	return usageErrorf("no group %d: probonus groups lists those with a template", id)
}

// campaignRun is one run of a file.
type campaignRun struct {
	s *session
	c *probonus.Client
	o campaignOptions
	f *campaignFile
	t *tally

	stopped     string // why the run stopped taking rows; "" when it did not
	interrupted bool
}

// rowResult is how one row ended.
type rowResult struct {
	i       int // the row's index in the file's rows
	status  string
	account int64
	tx      int64
	balance *probonus.Amount
	err     error
	note    string // a skipped row's reason
	started bool   // sent to the server (a skipped row was not, unless Ctrl-C abandoned it)
	waiting bool   // skipped as not started: the run stopped first
}

// todo is the rows that can be sent, and the problems of the others.
func (r *campaignRun) todo() (todo []int, problems []rowProblem) {
	for i := range r.f.rows {
		if row := &r.f.rows[i]; row.valid() {
			todo = append(todo, i)
		} else {
			problems = append(problems, row.problems...)
		}
	}
	return todo, problems
}

func (r *campaignRun) run(ctx context.Context) error {
	s := r.s
	todo, problems := r.todo()
	if len(todo) == 0 {
		r.printProblems(s.stderr, "No row can be sent", problems, len(problems))
		return &silentFailure{code: exitFailed}
	}
	if len(problems) > 0 {
		r.printProblems(s.stderr, "Rows that will be skipped", problems, listedRows)
	}
	if err := s.confirm(r.what(todo)); err != nil {
		return err
	}
	var out *resultsFile
	if r.o.out != "" {
		var err error
		if out, err = openResults(s, r.o.out, r.f, r.o.kind); err != nil {
			return err
		}
		defer out.close()
	}
	finished := make([]bool, len(r.f.rows))
	record := func(res rowResult) {
		finished[res.i] = true
		r.t.add(res, &r.f.rows[res.i])
		if out != nil {
			if err := out.write(&r.f.rows[res.i], res, r.rowError(res)); err != nil && r.stopped == "" {
				r.stopped = "writing " + r.o.out + " failed: " + err.Error()
			}
		}
	}
	for i := range r.f.rows {
		if row := &r.f.rows[i]; !row.valid() {
			record(rowResult{i: i, status: statusSkipped, note: problemsText(row.problems)})
		}
	}
	do := r.refillRow
	if r.o.kind == signupCampaign {
		do = r.signupRow
	}
	p := newProgress(r.o.progress, s.stderr, len(todo), r.verb())
	r.rows(ctx, todo, do, func(res rowResult) { record(res); p.update(r.t) }, p)
	p.done(r.t)
	why := "not started: the run was interrupted"
	if !r.interrupted {
		why = "not started: the run stopped early (" + r.stopped + ")"
	}
	for _, i := range todo {
		if !finished[i] {
			record(rowResult{i: i, status: statusSkipped, note: why, waiting: true})
		}
	}
	if out != nil {
		if err := out.close(); err != nil {
			fmt.Fprintf(s.stderr, "probonus: writing %s: %v\n", r.o.out, err)
		}
	}
	if err := r.summary(); err != nil {
		return err
	}
	return r.t.exit()
}

// what is the confirmation's text: the totals of what will be sent.
func (r *campaignRun) what(todo []int) string {
	at := fmt.Sprintf("%d at a time", r.o.concurrency)
	if r.o.kind == signupCampaign {
		return fmt.Sprintf("sign up the guests of %s in group %d: %s, %s, each through FindOrInsert (a guest who has an account is left as is)",
			r.f.name, r.o.group, howMany(len(todo), "row"), at)
	}
	var sum probonus.Amount
	for _, i := range todo {
		sum = sum.Add(r.f.rows[i].amount)
	}
	return fmt.Sprintf("credit %s in all from %s: %s, %s, each through RefillOnce (a row credited before is not credited again)",
		money(sum), r.f.name, howMany(len(todo), "row"), at)
}

func (r *campaignRun) verb() string {
	if r.o.kind == signupCampaign {
		return "created"
	}
	if r.o.dryRun {
		return "checked"
	}
	return "credited"
}

// rows runs do on the rows todo, o.concurrency at a time, and hands each result to finished on
// this goroutine, in the order they end. It stops taking rows at Ctrl-C (the first; the second
// abandons the rows in flight) and when rows in a row fail for a systemic cause; the rows in
// flight end either way.
func (r *campaignRun) rows(ctx context.Context, todo []int, do func(context.Context, *campaignRow) rowResult, finished func(rowResult), p progress) {
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	var stopping atomic.Bool
	halt := make(chan struct{})
	var haltOnce sync.Once
	stop := func(why string) {
		haltOnce.Do(func() {
			r.stopped = why
			stopping.Store(true)
			close(halt)
		})
	}
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for _, i := range todo {
			select {
			case jobs <- i:
			case <-halt:
				return
			}
		}
	}()
	results := make(chan rowResult)
	var wg sync.WaitGroup
	for range r.o.concurrency {
		wg.Go(func() {
			for i := range jobs {
				if stopping.Load() {
					continue // taken after the stop: not started
				}
				res := do(work, &r.f.rows[i])
				res.i, res.started = i, true
				results <- res
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	var tick <-chan time.Time
	if r.o.progress == progressLines && r.o.every > 0 {
		t := time.NewTicker(r.o.every)
		defer t.Stop()
		tick = t.C
	}
	interrupt := func() {
		if r.interrupted {
			return
		}
		r.interrupted = true
		stop("interrupted")
		fmt.Fprintln(r.s.stderr, "\nInterrupted: no new rows are started; the rows in flight are let end (Ctrl-C again abandons them: their outcome is then unknown).")
	}
	done, signals, streak := ctx.Done(), 0, 0
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return
			}
			finished(res)
			switch cause := systemic(res.err); {
			case cause != "":
				if streak++; streak >= r.o.stopAfter {
					stop(fmt.Sprintf("%d rows in a row failed: %s", streak, cause))
				}
			case res.status != statusSkipped:
				streak = 0
			}
		case <-tick:
			p.tick(r.t)
		case <-done:
			done = nil
			interrupt()
		case <-r.o.signals:
			if signals++; signals == 1 {
				interrupt()
			} else {
				fmt.Fprintln(r.s.stderr, "Interrupted again: abandoning the rows in flight.")
				abandon()
			}
		}
	}
}

// systemic names the cause of a failure that every row would meet: the credentials refused, the
// server down or failing. "" for a row's own failure.
func systemic(err error) string {
	var netErr *net.OpError
	var urlErr *url.Error
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, probonus.ErrUnauthorized), errors.Is(err, probonus.ErrForbidden):
		return "the server refused the credentials (" + plainErr(err) + "); check PROBONUS_API_KEY, or PROBONUS_LOGIN and PROBONUS_PASSWORD"
	case errors.Is(err, probonus.ErrCoordinatorUnavailable):
		return "the RefillOnce coordinator is unavailable"
	case errors.Is(err, probonus.ErrServer), errors.Is(err, probonus.ErrRateLimited),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr), errors.As(err, &urlErr):
		return "the server is down or failing; is it up? probonus doctor checks"
	}
	return ""
}

// refillRow credits one row through RefillOnce, finding the guest by phone first when the file
// names guests by phone.
func (r *campaignRun) refillRow(ctx context.Context, row *campaignRow) rowResult {
	res := rowResult{account: row.account}
	if row.phone != "" {
		acc, err := r.c.Accounts.FindByPhone(ctx, row.phone)
		if err != nil {
			return namedNotFound(failed(res, err), row)
		}
		res.account = acc.ID
	}
	reason := row.reason
	out, err := r.c.Accounts.RefillOnce(ctx, probonus.Refill{AccountID: res.account, Amount: row.amount, Reason: &reason, BurnDate: row.burn})
	if out != nil {
		// a credit found whose balance could not be read comes with an error: it is credited
		res.status, res.tx, res.err = statusCredited, out.TransactionID, err
		if out.AlreadyApplied {
			res.status = statusAlready
		}
		if err == nil {
			res.balance = &out.Balance
		}
		return res
	}
	return namedNotFound(failed(res, err), row)
}

// namedNotFound says which guest a not-found row names.
func namedNotFound(res rowResult, row *campaignRow) rowResult {
	if res.status == statusNotFound {
		res.note = "no account " + row.rawID
		if row.phone != "" {
			res.note = "no guest with phone " + row.phone
		}
	}
	return res
}

// signupRow signs one guest up through FindOrInsert.
func (r *campaignRun) signupRow(ctx context.Context, row *campaignRow) rowResult {
	g := row.guest
	g.GroupID = r.o.group
	acc, created, err := r.c.Accounts.FindOrInsert(ctx, g)
	if err != nil {
		return failed(rowResult{}, err)
	}
	res := rowResult{account: acc.ID, status: statusExists}
	if created {
		res.status = statusCreated
	}
	return res
}

// failed is the status of a row whose call failed: unknown when a write may have been applied,
// skipped when Ctrl-C abandoned it before anything was sent.
func failed(res rowResult, err error) rowResult {
	res.err = err
	switch {
	case errors.Is(err, probonus.ErrOutcomeUnknown):
		res.status = statusUnknown
	case errors.Is(err, probonus.ErrNotFound):
		res.status = statusNotFound
	case errors.Is(err, context.Canceled):
		res.status, res.note = statusSkipped, "abandoned by Ctrl-C before anything was sent"
	default:
		res.status = statusRefused
	}
	return res
}

// tally counts a run's rows as they end.
type tally struct {
	kind              campaignKind
	counts            map[string]int
	finished          int // the rows sent that ended
	failed            int
	credited, already probonus.Amount
	listed            []rowResult // the rows that failed, in line order at the end
	notStarted        int
	lines             map[int]int // a row's index → its line
}

func newTally(kind campaignKind) *tally {
	return &tally{kind: kind, counts: map[string]int{}, lines: map[int]int{}}
}

func (t *tally) add(res rowResult, row *campaignRow) {
	t.counts[res.status]++
	if res.started {
		t.finished++
	}
	switch res.status {
	case statusCredited:
		t.credited = t.credited.Add(row.amount)
	case statusAlready:
		t.already = t.already.Add(row.amount)
	case statusCreated, statusExists, statusReady:
	default:
		if res.waiting {
			t.notStarted++
			return
		}
		if res.started {
			t.failed++
		}
		t.listed = append(t.listed, res)
		t.lines[res.i] = row.line
	}
}

// brief is the progress's description.
func (t *tally) brief(verb string) string {
	var b string
	switch verb {
	case "credited":
		b = "credited " + money(t.credited)
	case "created":
		b = fmt.Sprintf("created %d", t.counts[statusCreated])
	default:
		b = verb
	}
	return b + ", " + howMany(t.failed, "error")
}

// exit is the run's exit: 3 when any row's outcome is unknown, 1 when any failed.
func (t *tally) exit() error {
	switch {
	case t.counts[statusUnknown] > 0:
		return &silentFailure{code: exitOutcomeUnknown}
	case t.counts[statusNotFound]+t.counts[statusRefused]+t.counts[statusSkipped] > 0:
		return &silentFailure{code: exitFailed}
	}
	return nil
}

// rowError is the text of a row's failure, scrubbed.
func (r *campaignRun) rowError(res rowResult) string {
	if res.note != "" {
		return res.note
	}
	if res.err == nil {
		return ""
	}
	return r.s.secrets.text(plainErr(r.s.secrets.scrubErr(res.err)))
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

func (r *campaignRun) printProblems(w io.Writer, title string, ps []rowProblem, limit int) {
	rows := map[int]bool{}
	for _, p := range ps {
		rows[p.line] = true
	}
	fmt.Fprintf(w, "%s: %d\n", title, len(rows))
	for i, p := range ps {
		if i == limit {
			fmt.Fprintf(w, "  … and %d more (--dry-run lists them all)\n", len(ps)-limit)
			break
		}
		fmt.Fprintf(w, "  %s\n", p)
	}
}

// campaignSummary is the end of a run as --json prints it.
type campaignSummary struct {
	File            string           `json:"file"`
	Rows            int              `json:"rows"`
	Statuses        map[string]int   `json:"statuses"`
	Credited        *probonus.Amount `json:"credited,omitempty"`
	AlreadyCredited *probonus.Amount `json:"alreadyCredited,omitempty"`
	Stopped         string           `json:"stopped,omitempty"`
	NotStarted      int              `json:"notStarted,omitempty"`
	Failed          []failedRow      `json:"failed,omitempty"`
}

type failedRow struct {
	Line   int    `json:"line"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// summary prints the counts per status, the sum credited and the rows that failed.
func (r *campaignRun) summary() error {
	t, w := r.t, r.s.stdout
	sortByLine(t.listed, t.lines)
	if r.s.cfg.json {
		sum := campaignSummary{File: r.f.name, Rows: len(r.f.rows), Statuses: map[string]int{}, Stopped: r.stopped, NotStarted: t.notStarted}
		for _, st := range statusOrder[r.o.kind] {
			sum.Statuses[st] = t.counts[st]
		}
		if r.o.kind == refillCampaign {
			sum.Credited, sum.AlreadyCredited = &t.credited, &t.already
		}
		for _, res := range t.listed {
			sum.Failed = append(sum.Failed, failedRow{Line: t.lines[res.i], Status: res.status, Error: r.rowError(res)})
		}
		return printJSON(w, sum)
	}
	tb := newTable("STATUS", "ROWS>", "AMOUNT>")
	if r.o.kind == signupCampaign {
		tb = newTable("STATUS", "ROWS>")
	}
	for _, st := range statusOrder[r.o.kind] {
		cells := []string{st, strconv.Itoa(t.counts[st])}
		if r.o.kind == refillCampaign {
			switch st {
			case statusCredited:
				cells = append(cells, money(t.credited))
			case statusAlready:
				cells = append(cells, money(t.already))
			default:
				cells = append(cells, "")
			}
		}
		tb.add(cells...)
	}
	fmt.Fprintf(w, "%s: %s.\n", r.f.name, howMany(len(r.f.rows), "row"))
	if err := tb.write(w); err != nil {
		return err
	}
	if r.o.kind == refillCampaign {
		fmt.Fprintf(w, "Credited %s in all by this run", money(t.credited))
		if t.counts[statusAlready] > 0 {
			fmt.Fprintf(w, "; %s had been credited before (%s), nothing sent for them", howMany(t.counts[statusAlready], "row"), money(t.already))
		}
		fmt.Fprintln(w, ".")
	} else {
		fmt.Fprintf(w, "Signed up %s; %s had an account already.\n", howMany(t.counts[statusCreated], "guest"), howMany(t.counts[statusExists], "guest"))
	}
	if len(t.listed) > 0 {
		fmt.Fprintln(w, "Rows not done:")
		failures := newTable("", "", "")
		for i, res := range t.listed {
			if i == listedRows {
				break
			}
			failures.add(fmt.Sprintf("  line %d", t.lines[res.i]), res.status, r.rowError(res))
		}
		if err := failures.write(w); err != nil {
			return err
		}
		if n := len(t.listed) - listedRows; n > 0 {
			more := "--out FILE lists them all"
			if r.o.out != "" {
				more = r.o.out + " lists them all"
			}
			fmt.Fprintf(w, "  … and %d more: %s\n", n, more)
		}
	}
	if r.stopped != "" && !r.interrupted {
		fmt.Fprintf(w, "Stopped early: %s.\n", r.stopped)
	}
	if t.notStarted > 0 {
		fmt.Fprintf(w, "Not started (skipped): %s.\n", howMany(t.notStarted, "row"))
	}
	if r.interrupted || r.stopped != "" || t.counts[statusUnknown]+t.counts[statusRefused] > 0 {
		fmt.Fprintln(w, "Run the same file again to finish: a row done before is found and not done twice.")
	}
	return nil
}

func sortByLine(rs []rowResult, lines map[int]int) {
	for i := 1; i < len(rs); i++ { // insertion sort: the list is short and mostly in order
		for j := i; j > 0 && lines[rs[j].i] < lines[rs[j-1].i]; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func howMany(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// dryRun checks every row and looks the guests up, by reading only, and says what would fail.
func (r *campaignRun) dryRun(ctx context.Context) error {
	s, f := r.s, r.f
	todo, problems := r.todo()
	look := r.lookRefill
	if r.o.kind == signupCampaign {
		look = r.lookSignup
	}
	p := newProgress(r.o.progress, s.stderr, len(todo), r.verb())
	var ready, exists int
	var sum probonus.Amount
	r.rows(ctx, todo, look, func(res rowResult) {
		row := &f.rows[res.i]
		r.t.add(res, row)
		p.update(r.t)
		switch res.status {
		case statusReady:
			ready++
			sum = sum.Add(row.amount)
		case statusExists:
			exists++
		case statusNotFound:
			problems = append(problems, rowProblem{line: row.line, column: f.idColumn, msg: namedNotFound(res, row).note})
		default:
			problems = append(problems, rowProblem{line: row.line, msg: "could not be checked: " + r.rowError(res)})
		}
	}, p)
	p.done(r.t)
	sortProblems(problems)
	w := s.stdout
	desc := fmt.Sprintf("%s: %s; columns %s; delimiter '%c'", f.name, howMany(len(f.rows), "row"), strings.Join(f.columns, ", "), f.comma)
	if len(f.ignored) > 0 {
		desc += "; ignored columns: " + strings.Join(f.ignored, ", ")
	}
	fmt.Fprintln(w, desc+".")
	if r.o.kind == signupCampaign {
		fmt.Fprintf(w, "Would sign up %s in group %d; %s an account already.\n", howMany(ready, "guest"), r.o.group, howMany(exists, "guest")+" "+has(exists))
	} else {
		fmt.Fprintf(w, "Would credit %s in all: %s.\n", money(sum), howMany(ready, "row"))
	}
	if len(problems) > 0 {
		r.printProblems(w, "Rows that would fail", problems, len(problems))
	}
	if r.stopped != "" {
		fmt.Fprintf(w, "Stopped early: %s; %d rows not checked.\n", r.stopped, len(todo)-r.t.finished)
	}
	fmt.Fprintln(w, "Dry run: nothing was written.")
	if len(problems) > 0 || r.stopped != "" {
		return &silentFailure{code: exitFailed}
	}
	return nil
}

func has(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func sortProblems(ps []rowProblem) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].line < ps[j-1].line; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// lookRefill finds a row's guest by reading only: by phone, or the account's balance.
func (r *campaignRun) lookRefill(ctx context.Context, row *campaignRow) rowResult {
	var err error
	if row.phone != "" {
		_, err = r.c.Accounts.FindByPhone(ctx, row.phone)
	} else {
		_, err = r.c.Accounts.BalanceExtended(ctx, row.account)
	}
	if err != nil {
		return failed(rowResult{}, err)
	}
	return rowResult{status: statusReady}
}

// lookSignup tells a guest to sign up from one who has an account, by reading only.
func (r *campaignRun) lookSignup(ctx context.Context, row *campaignRow) rowResult {
	acc, err := r.c.Accounts.FindByPhone(ctx, row.phone)
	switch {
	case errors.Is(err, probonus.ErrNotFound):
		return rowResult{status: statusReady}
	case err != nil:
		return failed(rowResult{}, err)
	}
	return rowResult{status: statusExists, account: acc.ID}
}

// resultsFile is --out: a row's result written as it ends, in the input's dialect (its
// separator, a decimal comma in a semicolon file, its BOM), through the scrubber.
type resultsFile struct {
	file   *os.File
	w      *redactingWriter
	csv    *csv.Writer
	kind   campaignKind
	comma  rune
	byID   string // the file's phone or account column
	closed bool
}

func openResults(s *session, path string, f *campaignFile, kind campaignKind) (*resultsFile, error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, usageErrorf("--out: %v", err)
	}
	rf := &resultsFile{file: file, w: s.secrets.writer(file), kind: kind, comma: f.comma, byID: f.idColumn}
	if f.bom {
		_, _ = rf.w.Write([]byte("\ufeff"))
	}
	rf.csv = csv.NewWriter(rf.w)
	rf.csv.Comma = f.comma
	header := []string{"line", "phone", "account", "amount", "reason", "status", "transaction", "balance", "error"}
	if kind == signupCampaign {
		header = []string{"line", "phone", "account", "status", "error"}
	}
	if err := rf.csv.Write(header); err != nil {
		return nil, err
	}
	rf.csv.Flush()
	return rf, rf.csv.Error()
}

func (rf *resultsFile) amount(a probonus.Amount) string {
	if rf.comma == ';' {
		return strings.Replace(money(a), ".", ",", 1)
	}
	return money(a)
}

// write writes one row's result and flushes it, so the file holds every row ended so far.
func (rf *resultsFile) write(row *campaignRow, res rowResult, errText string) error {
	phone, account := row.phone, id(res.account)
	switch {
	case rf.byID == colPhone && phone == "":
		phone = row.rawID // a phone that did not read, as written
	case rf.byID == colAccount && row.account == 0:
		account = row.rawID
	case rf.byID == colAccount && account == "":
		account = id(row.account)
	}
	rec := []string{strconv.Itoa(row.line), phone, account}
	if rf.kind == refillCampaign {
		amount := row.rawAmount
		if row.valid() {
			amount = rf.amount(row.amount)
		}
		balance := ""
		if res.balance != nil {
			balance = rf.amount(*res.balance)
		}
		rec = append(rec, amount, row.reason, res.status, id(res.tx), balance)
	} else {
		rec = append(rec, res.status)
	}
	rec = append(rec, errText)
	if err := rf.csv.Write(rec); err != nil {
		return err
	}
	rf.csv.Flush()
	return rf.csv.Error()
}

func (rf *resultsFile) close() error {
	if rf.closed {
		return nil
	}
	rf.closed = true
	rf.csv.Flush()
	rf.w.flush()
	err := rf.csv.Error()
	if cerr := rf.file.Close(); err == nil {
		err = cerr
	}
	return err
}
