package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
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
	fs.StringVar(&f.opts.file, "file", "", kind.fileUsage())
	fs.BoolVar(&f.opts.dryRun, "dry-run", false, "with --file: check every row and look the guests up, by reading only; nothing is written")
	fs.IntVar(&f.opts.concurrency, "concurrency", defaultConcurrency, "with --file: how many rows are sent at a time")
	fs.StringVar(&f.opts.out, "out", "", "with --file: write each row's result to this CSV file as it finishes (-: to stdout, and the summary to stderr)")
	return f
}

// given reports whether --file was.
func (f *campaignFlags) given() bool { return f.opts.file != "" }

// parse checks the flags of a run of a file (group: signup's --group) and fills in the rest.
func (f *campaignFlags) parse(group int64) (campaignOptions, error) {
	o := f.opts
	o.group = group
	switch {
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return o, usageErrorf("--concurrency must be between 1 and %d, got %d", maxConcurrency, o.concurrency)
	case o.dryRun && o.out != "":
		return o, usageErrorf("--out records a run; --dry-run writes nothing and lists the rows that would fail on stdout")
	}
	if err := o.kind.checkFlags(o); err != nil {
		return o, err
	}
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

// watchCampaign runs a file with Ctrl-C watched, and SIGTERM as Ctrl-C (a service manager's stop
// lets the rows in flight end too).
func watchCampaign(ctx context.Context, s *session, o campaignOptions) error {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
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
	if err := o.kind.prepare(ctx, c, o); err != nil {
		return interrupted(ctx, err) // Ctrl-C while the group is checked: 130, not an API error
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
	if o.out != "" && o.out != stdoutName && samePath(o.out, o.file) {
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
			if p == "" || p == stdoutName {
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

// campaignRun is one run of a file: its rows go through the pool (campaign_pool.go), its totals
// into the summary (campaign_summary.go).
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
	if err := s.confirm(ctx, r.o.kind.confirmation(f, r.o)); err != nil {
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
	send := func(ctx context.Context, row *campaignRow) rowResult { return r.o.kind.send(ctx, r.c, r.o, row) }
	p := newProgress(r.o.progress, s.stderr, f.valid, r.o.kind.verb(false))
	r.rows(ctx, rr, send, func(res rowResult) {
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

// notStarted is the note of a row the run stopped before.
func (r *campaignRun) notStarted() string {
	if r.interrupted {
		return "not started: the run was interrupted"
	}
	return "not started: the run stopped early (" + r.halt.reason() + ")"
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

// dryRun checks every row and looks the guests up, by reading only, and says what would fail.
func (r *campaignRun) dryRun(ctx context.Context) error {
	f := r.f
	rr, err := r.reread()
	if err != nil {
		return err
	}
	look := func(ctx context.Context, row *campaignRow) rowResult { return r.o.kind.look(ctx, r.c, row) }
	p := newProgress(r.o.progress, r.s.stderr, f.valid, r.o.kind.verb(true))
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
	if err := r.dryRunSummary(ready, exists, sum, problems); err != nil {
		return err
	}
	switch {
	case r.interrupted:
		return &silentFailure{code: exitInterrupted}
	case len(problems) > 0 || r.halt.stopped():
		return &silentFailure{code: exitFailed}
	}
	return nil
}
