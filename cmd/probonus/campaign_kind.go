package main

import (
	"context"

	"github.com/probonus-go/probonus"
)

// campaignKind is what a file's rows do: credit bonuses (campaign_refill.go), sign guests up
// (campaign_signup.go). Each kind is one type in a file of its own; the reader, the runner and
// the summary know none of them, so a third kind is one new file.
type campaignKind interface {
	// fileUsage is the --file flag's text: what the rows do, the columns read.
	fileUsage() string
	// checkFlags refuses what the kind cannot run with (a sign-up without --group).
	checkFlags(o campaignOptions) error

	// columns are the columns a file is read by; any other is ignored, and said to be.
	columns() []string
	// header checks a header has the columns the kind needs and sets the one that names a guest.
	header(f *campaignFile, cols map[string]int) error
	// example is a header the kind reads, for a message.
	example(comma rune) string
	// parse reads and checks a row's own columns; its guest's phone or account is read already.
	parse(cr campaignReader, row *campaignRow, f *campaignFile, get func(column string) (string, bool), bad func(column, format string, args ...any))
	// key is what makes two rows the same; duplicate says a row repeats the one on line first.
	key(row *campaignRow) string
	duplicate(first int) string

	// prepare checks, before any row is sent, what every row needs (a sign-up's group).
	prepare(ctx context.Context, c *probonus.Client, o campaignOptions) error
	// confirmation is what the run will do, for the question before it.
	confirmation(f *campaignFile, o campaignOptions) string
	// look tells by reading only whether a row would go through: statusReady, or how it would end.
	look(ctx context.Context, c *probonus.Client, row *campaignRow) rowResult
	// send does a row.
	send(ctx context.Context, c *probonus.Client, o campaignOptions, row *campaignRow) rowResult

	// resultColumns are --out's columns between account and error; resultCells a row's cells in them.
	resultColumns() []string
	resultCells(rf *resultsFile, row *campaignRow, res rowResult) []string

	// statuses are the summary's lines, in order; money says whether rows carry an amount.
	statuses() []string
	money() bool
	// verb is what the progress counts: a status, or "checked".
	verb(dryRun bool) string
	// done is the summary's line under its table; summarize adds the kind's totals to --json's.
	done(t *tally) string
	summarize(t *tally, sum *campaignSummary)
	// wouldDo is a dry run's line: what a run would do.
	wouldDo(ready, exists int, sum probonus.Amount, o campaignOptions) string
}
