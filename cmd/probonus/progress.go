package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressMode is how a campaign shows its progress on stderr.
type progressMode int

const (
	progressAuto  progressMode = iota // a bar when stderr is a terminal, lines otherwise
	progressBar                       // the bar
	progressLines                     // a plain line every progressEvery
	progressNone
)

// progressEvery is how often the plain progress line is printed.
const progressEvery = 5 * time.Second

// progress shows a campaign's rows done, as they finish.
type progress interface {
	update(t *tally)
	tick(t *tally) // every interval, for the lines; the bar redraws itself
	done(t *tally)
}

// stderrTerminal reports whether the session's stderr, under the scrubber, is a terminal.
func (s *session) stderrTerminal() bool {
	w := s.stderr
	if r, ok := w.(*redactingWriter); ok {
		w = r.w
	}
	f, ok := w.(*os.File)
	return ok && terminal(f)
}

func newProgress(mode progressMode, w io.Writer, total int, verb string) progress {
	switch mode {
	case progressBar:
		return newBar(w, total, verb)
	case progressLines:
		return &lines{w: w, total: total, verb: verb, start: time.Now()}
	}
	return quiet{}
}

type quiet struct{}

func (quiet) update(*tally) {}
func (quiet) tick(*tally)   {}
func (quiet) done(*tally)   {}

// bar is schollz/progressbar: rows done of total, the rate and the time left, and in its
// description what was credited and how many rows failed.
type bar struct {
	b    *progressbar.ProgressBar
	w    io.Writer
	verb string
}

func newBar(w io.Writer, total int, verb string) *bar {
	return &bar{w: w, verb: verb, b: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetDescription(verb),
	)}
}

func (p *bar) update(t *tally) {
	p.b.Describe(t.brief(p.verb))
	_ = p.b.Add(1)
}

func (p *bar) tick(*tally) {}

func (p *bar) done(t *tally) {
	p.b.Describe(t.brief(p.verb))
	_ = p.b.Exit()
	fmt.Fprintln(p.w)
}

// lines is the progress where no terminal shows a bar (a log, CI): a line every interval.
type lines struct {
	w     io.Writer
	total int
	verb  string
	start time.Time
}

func (p *lines) update(*tally) {}

func (p *lines) tick(t *tally) {
	elapsed := time.Since(p.start)
	line := fmt.Sprintf("progress: %d of %d rows, %s", t.finished, p.total, t.brief(p.verb))
	if t.finished > 0 && elapsed > 0 {
		rate := float64(t.finished) / elapsed.Seconds()
		line += fmt.Sprintf(", %.1f rows/s", rate)
		if left := p.total - t.finished; left > 0 && rate > 0 {
			line += fmt.Sprintf(", about %s left", time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second))
		}
	}
	fmt.Fprintln(p.w, line)
}

func (p *lines) done(t *tally) { p.tick(t) }
