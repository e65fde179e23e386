package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
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

// runCampaign reads a file and runs it, or with dryRun checks it. The file is read twice, keeping
// no rows: once to check every row and add them up before anything is sent or asked, then row by
// row as they are sent. Its exit code: 0 when every row is done, 3 when any row's outcome is
// unknown, 130 when Ctrl-C stopped it, 1 when any row failed.
func runCampaign(ctx context.Context, s *session, o campaignOptions) error {
	if err := checkPaths(s, o); err != nil {
		return err
	}
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
	f, err := cr.check(o.file, in)
	if err != nil {
		return err
	}
	if o.kind == signupCampaign {
		if err := checkGroup(ctx, c, o.group); err != nil {
			return err
		}
	}
	run := &campaignRun{s: s, c: c, o: o, cr: cr, f: f, in: in, t: newTally(o.kind, s.cfg.json && !o.dryRun)}
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

// checkPaths refuses an --out that names the campaign file (by another path, a link), which
// would overwrite it, and a campaign file or an --out that is the command's own stdout or stderr.
func checkPaths(s *session, o campaignOptions) error {
	if o.out != "" && samePath(o.out, o.file) {
		return usageErrorf("--out %s is the campaign file itself: the results would overwrite it; name another file", o.out)
	}
	for _, w := range []io.Writer{s.stdout, s.stderr} {
		out := osFile(w)
		if out == nil {
			continue
		}
		info, err := out.Stat()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		for _, p := range []string{o.file, o.out} {
			if p == "" {
				continue
			}
			if other, err := os.Stat(p); err == nil && os.SameFile(info, other) {
				return usageErrorf("%s is the command's output (stdout or stderr is redirected to it): send the output elsewhere", p)
			}
		}
	}
	return nil
}

// samePath reports whether two paths name one file: the same path once cleaned and made
// absolute, or, when both exist, the same file (a link to it).
func samePath(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}

// osFile is the file under a session's stream, nil when it is none.
func osFile(w io.Writer) *os.File {
	if r, ok := w.(*redactingWriter); ok {
		w = r.w
	}
	f, _ := w.(*os.File)
	return f
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
	s  *session
	c  *probonus.Client
	o  campaignOptions
	cr campaignReader
	f  *campaignFile // what checking the file found
	in io.ReadSeeker // the file, read again from its start for the run
	t  *tally

	halt        halt
	interrupted bool
	handed      int // the rows handed over, in the file's order
}

// halt is why a run stopped taking rows: set once, by the run's loop or its reader.
type halt struct {
	once     sync.Once
	why      string
	stopping atomic.Bool
}

func (h *halt) stop(why string) {
	h.once.Do(func() {
		h.why = why
		h.stopping.Store(true)
	})
}

func (h *halt) stopped() bool { return h.stopping.Load() }

// reason is why the run stopped, "" when it did not.
func (h *halt) reason() string {
	if !h.stopped() {
		return ""
	}
	return h.why
}

// rowResult is how one row ended.
type rowResult struct {
	seq     int // the row's place among the file's rows
	row     *campaignRow
	status  string
	account int64
	tx      int64
	balance *probonus.Amount
	err     error
	note    string // a skipped row's reason
	started bool   // sent to the server (a skipped row was not, unless Ctrl-C abandoned it)
	waiting bool   // skipped as not started: the run stopped first
}

// reread reads the file again from its start, for the run: the rows must be those checked.
func (r *campaignRun) reread() (*rowReader, error) {
	if _, err := r.in.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading %s again: %w", r.f.name, err)
	}
	f, rr, err := r.cr.open(r.f.name, r.in, r.f)
	if err == nil && !slices.Equal(f.header, r.f.header) {
		err = fmt.Errorf("%s changed since it was checked (its header differs): run the same file again", r.f.name)
	}
	return rr, err
}

func (r *campaignRun) run(ctx context.Context) error {
	s, f := r.s, r.f
	if f.valid == 0 {
		r.printProblems(s.stderr, "No row can be sent")
		return &silentFailure{code: exitFailed}
	}
	if f.bad > 0 {
		r.printProblems(s.stderr, "Rows that will be skipped")
	}
	if err := s.confirm(r.what()); err != nil {
		return err
	}
	rr, err := r.reread()
	if err != nil {
		return err
	}
	var out *resultsFile
	if r.o.out != "" {
		if out, err = openResults(s, r.o.out, f, r.o.kind); err != nil {
			return err
		}
		defer out.close()
	}
	do := r.refillRow
	if r.o.kind == signupCampaign {
		do = r.signupRow
	}
	p := newProgress(r.o.progress, s.stderr, f.valid, r.verb())
	r.rows(ctx, rr, do, func(res rowResult) {
		errText := r.rowError(res)
		r.t.add(res, errText)
		if res.started {
			p.update(r.t)
		}
		if out != nil {
			if err := out.write(res.row, res, errText); err != nil {
				r.halt.stop("writing " + r.o.out + " failed: " + err.Error())
			}
		}
	}, p)
	p.done(r.t)
	if out != nil {
		if err := out.close(); err != nil {
			fmt.Fprintf(s.stderr, "probonus: writing %s: %v\n", r.o.out, err)
		}
	}
	if err := r.summary(); err != nil {
		return err
	}
	return r.exit()
}

// what is the confirmation's text: the totals of what will be sent. A credit's total is a
// ceiling: a row credited by a run before is found and not sent again.
func (r *campaignRun) what() string {
	at := fmt.Sprintf("%d at a time", r.o.concurrency)
	if r.o.kind == signupCampaign {
		return fmt.Sprintf("sign up the guests of %s in group %d: %s, %s, each through FindOrInsert (a guest who has an account is left as is)",
			r.f.name, r.o.group, howMany(r.f.valid, "row"), at)
	}
	return fmt.Sprintf("credit up to %s in all from %s: %s, %s, each through RefillOnce (a row credited before is not credited again)",
		money(r.f.sum), r.f.name, howMany(r.f.valid, "row"), at)
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

// notStarted is the note of a row the run stopped before.
func (r *campaignRun) notStarted() string {
	if r.interrupted {
		return "not started: the run was interrupted"
	}
	return "not started: the run stopped early (" + r.halt.reason() + ")"
}

// rows reads the rows of rr, runs do on those that can be sent, o.concurrency at a time, and hands
// every row's result to finished on this goroutine, in the file's order. It stops taking rows at
// Ctrl-C (the first; the second abandons the rows in flight) and when rows in a row fail for a
// systemic cause; the rows in flight end either way, and the rows after them are handed over as
// not started. The reader stays at most a window of rows ahead of the first row not handed over,
// so what is held does not grow with the file, however slow one row is.
func (r *campaignRun) rows(ctx context.Context, rr *rowReader, do func(context.Context, *campaignRow) rowResult, finished func(rowResult), p progress) {
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	slots := make(chan struct{}, max(256, 16*r.o.concurrency))
	jobs := make(chan rowResult)
	results := make(chan rowResult)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(jobs)
		for seq := 0; ; seq++ {
			row, err := rr.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				r.halt.stop(plainErr(err))
				return
			}
			slots <- struct{}{}
			res := rowResult{seq: seq, row: &row}
			switch {
			case !row.valid():
				res.status, res.note = statusSkipped, problemsText(row.problems)
				results <- res
			case r.halt.stopped():
				res.status, res.waiting = statusSkipped, true
				results <- res
			default:
				jobs <- res
			}
		}
	})
	for range r.o.concurrency {
		wg.Go(func() {
			for job := range jobs {
				if r.halt.stopped() {
					job.status, job.waiting = statusSkipped, true // taken after the stop: not started
					results <- job
					continue
				}
				res := do(work, job.row)
				res.seq, res.row, res.started = job.seq, job.row, true
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
		r.halt.stop("interrupted")
		fmt.Fprintln(r.s.stderr, "\nInterrupted: no new rows are started; the rows in flight are let end (Ctrl-C again abandons them: their outcome is then unknown).")
	}
	pending := map[int]rowResult{} // the rows ended ahead of one before them
	done, signals, streak := ctx.Done(), 0, 0
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return
			}
			if res.started {
				switch cause := systemic(res.err); {
				case cause != "":
					if streak++; streak >= r.o.stopAfter {
						r.halt.stop(fmt.Sprintf("%d rows in a row failed: %s", streak, cause))
					}
				case res.status != statusSkipped:
					streak = 0
				}
			}
			pending[res.seq] = res
			for {
				next, ok := pending[r.handed]
				if !ok {
					break
				}
				delete(pending, r.handed)
				r.handed++
				<-slots
				if next.waiting {
					next.note = r.notStarted()
				}
				finished(next)
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
	listed            []failedRow // the rows not done, in line order: all for --json, else the first listedRows
	unlisted          int         // the rows not done past those
	keepAll           bool
	notStarted        int
}

func newTally(kind campaignKind, keepAll bool) *tally {
	return &tally{kind: kind, counts: map[string]int{}, keepAll: keepAll}
}

// add counts a row's result; errText is its failure's text.
func (t *tally) add(res rowResult, errText string) {
	t.counts[res.status]++
	if res.started {
		t.finished++
	}
	switch res.status {
	case statusCredited:
		t.credited = t.credited.Add(res.row.amount)
	case statusAlready:
		t.already = t.already.Add(res.row.amount)
	case statusCreated, statusExists, statusReady:
	default:
		if res.waiting {
			t.notStarted++
			return
		}
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

// exit is the run's exit: 3 when any row's outcome is unknown, 130 when Ctrl-C stopped it, 1
// when any row failed or was not read.
func (r *campaignRun) exit() error {
	t := r.t
	switch {
	case t.counts[statusUnknown] > 0:
		return &silentFailure{code: exitOutcomeUnknown}
	case r.interrupted:
		return &silentFailure{code: exitInterrupted}
	case t.counts[statusNotFound]+t.counts[statusRefused]+t.counts[statusSkipped] > 0, r.handed < r.f.rows:
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

// summary prints the counts per status, the sum credited and the rows that failed.
func (r *campaignRun) summary() error {
	t, w := r.t, r.s.stdout
	notRead := r.f.rows - r.handed
	if r.s.cfg.json {
		sum := campaignSummary{File: r.f.name, Rows: r.f.rows, Statuses: map[string]int{}, Stopped: r.halt.reason(),
			NotStarted: t.notStarted, NotRead: notRead, Interrupted: r.interrupted, Failed: t.listed}
		for _, st := range statusOrder[r.o.kind] {
			sum.Statuses[st] = t.counts[st]
		}
		if r.o.kind == refillCampaign {
			sum.Credited, sum.AlreadyCredited = money(t.credited), money(t.already)
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
	fmt.Fprintf(w, "%s: %s.\n", r.f.name, howMany(r.f.rows, "row"))
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
		for _, f := range t.listed {
			failures.add(fmt.Sprintf("  line %d", f.Line), f.Status, f.Error)
		}
		if err := failures.write(w); err != nil {
			return err
		}
		if t.unlisted > 0 {
			more := "--out FILE lists them all"
			if r.o.out != "" {
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

// dryRun checks every row and looks the guests up, by reading only, and says what would fail.
func (r *campaignRun) dryRun(ctx context.Context) error {
	s, f := r.s, r.f
	rr, err := r.reread()
	if err != nil {
		return err
	}
	look := r.lookRefill
	if r.o.kind == signupCampaign {
		look = r.lookSignup
	}
	p := newProgress(r.o.progress, s.stderr, f.valid, r.verb())
	var ready, exists int
	var sum probonus.Amount
	var problems []rowProblem // in line order, as the rows are handed over
	r.rows(ctx, rr, look, func(res rowResult) {
		row := res.row
		r.t.add(res, "")
		if res.started {
			p.update(r.t)
		}
		switch {
		case !row.valid():
			problems = append(problems, row.problems...)
		case res.waiting:
		case res.status == statusReady:
			ready++
			sum = sum.Add(row.amount)
		case res.status == statusExists:
			exists++
		case res.status == statusNotFound:
			problems = append(problems, rowProblem{line: row.line, column: f.idColumn, msg: namedNotFound(res, row).note})
		default:
			problems = append(problems, rowProblem{line: row.line, msg: "could not be checked: " + r.rowError(res)})
		}
	}, p)
	p.done(r.t)
	w := s.stdout
	desc := fmt.Sprintf("%s: %s; columns %s; delimiter '%c'", f.name, howMany(f.rows, "row"), strings.Join(f.columns, ", "), f.comma)
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
	switch {
	case r.interrupted:
		return &silentFailure{code: exitInterrupted}
	case len(problems) > 0 || r.halt.stopped():
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
