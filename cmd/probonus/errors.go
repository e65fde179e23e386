package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/probonus-go/probonus"
)

// Exit codes, documented in the usage text (app.go) and in docs/cli.md: a change here is a change
// there too.
const (
	exitOK             = 0
	exitFailed         = 1 // an API or network error
	exitUsage          = 2 // bad arguments or configuration, or a write not confirmed
	exitOutcomeUnknown = 3 // a write that may have been applied
	exitNotFound       = 4
	exitInterrupted    = 130 // stopped by Ctrl-C or SIGTERM (a --file run, or a command at its question): 128 + SIGINT
)

// usageError is bad arguments or configuration: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// hinted adds what to do to an error, keeping it reachable for the exit code.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + "; " + h.hint }
func (h *hinted) Unwrap() error { return h.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: hint}
}

// interruptedError is a command stopped by Ctrl-C or SIGTERM before it sent a write: exit 130, as a
// --file run stopped by one.
type interruptedError struct{ msg string }

func (e *interruptedError) Error() string { return e.msg }

// interrupted is err, or, when a signal ended ctx first, the interruption: what was cancelled is
// no API or network error (exit 1) but the user's Ctrl-C (130). Nothing was sent.
func interrupted(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	var ie *interruptedError
	if errors.As(err, &ie) {
		return err
	}
	return &interruptedError{msg: "interrupted: nothing was sent"}
}

// silentFailure ends a command whose output already said what failed (doctor's verdict).
type silentFailure struct{ code int }

func (e *silentFailure) Error() string { return "" }

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var usage *usageError
	var silent *silentFailure
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &silent):
		return silent.code
	case errors.As(err, new(*interruptedError)):
		return exitInterrupted
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, probonus.ErrOutcomeUnknown):
		return exitOutcomeUnknown
	case errors.Is(err, probonus.ErrInvalidInput):
		return exitUsage
	case errors.Is(err, probonus.ErrNotFound):
		return exitNotFound
	}
	return exitFailed
}

// fail prints err on stderr in one line and returns its exit code.
func (a *app) fail(cmd string, err error) int {
	code := exitCode(err)
	if err == nil || err.Error() == "" {
		return code
	}
	err = withGeneralHint(a.secrets.scrubErr(err))
	msg := plainErr(err) // one line, whatever the server sent
	prefix := "probonus"
	if cmd != "" {
		prefix += " " + cmd
	}
	fmt.Fprintf(a.stderr, "%s: %s\n", prefix, msg)
	return code
}

// withGeneralHint says what to do about the failures any command can meet, unless the command
// already said it.
func withGeneralHint(err error) error {
	var h *hinted
	if errors.As(err, &h) {
		return err
	}
	var usage *usageError
	switch {
	case errors.As(err, &usage):
		return err
	case errors.Is(err, probonus.ErrUnauthorized):
		return withHint(err, "check PROBONUS_API_KEY, or PROBONUS_LOGIN and PROBONUS_PASSWORD (probonus doctor tells more)")
	case errors.Is(err, probonus.ErrForbidden):
		return withHint(err, "the API user lacks a right for this; give it in the admin UI")
	case errors.Is(err, context.Canceled):
		return withHint(err, "interrupted")
	case errors.Is(err, context.DeadlineExceeded):
		return withHint(err, "the server did not answer in time; raise --timeout, or run probonus doctor")
	case errors.Is(err, probonus.ErrServer):
		return withHint(err, "the server failed; try again later, or look at its log")
	case errors.Is(err, probonus.ErrRateLimited):
		return withHint(err, "the server is rate limiting; wait a minute")
	}
	var api *probonus.APIError
	var dec *probonus.DecodeError
	switch {
	case errors.As(err, &dec):
		return withHint(err, "the server's answer differs from the SDK's model: run probonus doctor --phone PHONE --report FILE and send us the file")
	case errors.As(err, &api):
		return err
	case errors.Is(err, probonus.ErrInvalidInput), errors.Is(err, probonus.ErrNotFound):
		return err
	}
	return withHint(err, "is the server up and PROBONUS_BASE_URL right? probonus doctor checks")
}

// plainErr is an SDK error's text without its package prefix, in one line: for the line fail
// prints, and for a line that names its row.
func plainErr(err error) string {
	msg := err.Error()
	msg = strings.ReplaceAll(strings.TrimPrefix(msg, "probonus: "), ": probonus: ", ": ")
	return strings.Join(strings.Fields(msg), " ")
}
