package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/probonus-go/probonus"
)

// Exit codes, documented in the usage text and the README.
const (
	exitOK             = 0
	exitFailed         = 1 // an API or network error
	exitUsage          = 2 // bad arguments or configuration, or a write not confirmed
	exitOutcomeUnknown = 3 // a write that may have been applied
	exitNotFound       = 4
	exitInterrupted    = 130 // a campaign stopped by Ctrl-C: 128 + SIGINT, as shells report it
)

// app is one invocation: its streams and environment. Tests build one to simulate a terminal.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	terminal       bool           // stdin is a terminal, so a write may ask for confirmation
	salt           []byte         // for the doctor's scrubbed report; nil: random
	roots          *x509.CertPool // the CAs the doctor trusts; nil: the system's
	secrets        *secrets       // every credential of the invocation; every output goes through it
}

// run is main without the process: tests call it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, terminal: isTerminal(stdin)}
	return a.run(args)
}

// isTerminal reports whether r is a terminal, which a character device is not by itself:
// </dev/null is one too.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && terminal(f)
}

// command is one subcommand. setup registers its own flags and returns what runs it.
type command struct {
	name    string
	args    string // the positional arguments, for the usage line
	summary string
	nargs   int // how many positional arguments it takes (none with --file, which holds them)
	setup   func(fs *flag.FlagSet) runner
}

// runner runs a command with its positional arguments.
type runner func(ctx context.Context, s *session, args []string) error

// runFunc runs a command from its options. A command's constructor (newXCmd) parses its flags and
// arguments into the options and hands them to one: the command's run function (runX), or in a
// test one that keeps them, so the parsing is tested without a server and the run without flags.
type runFunc[O any] func(ctx context.Context, s *session, opts O) error

// bind makes a command's setup from its constructor and its run function.
func bind[O any](newCmd func(*flag.FlagSet, runFunc[O]) runner, run runFunc[O]) func(*flag.FlagSet) runner {
	return func(fs *flag.FlagSet) runner { return newCmd(fs, run) }
}

// commands is every subcommand, in the order "probonus help" lists them.
var commands = []*command{
	{name: "groups", summary: "account groups; marks those with a template", setup: bind(newGroupsCmd, runGroups)},
	{name: "find", args: "PHONE", nargs: 1, summary: "a guest by phone in any common form: profile, balance, level, coupons", setup: bind(newFindCmd, runFind)},
	{name: "balance", args: "ACCOUNT", nargs: 1, summary: "balance with what arrives when and what burns when", setup: bind(newBalanceCmd, runBalance)},
	{name: "history", args: "ACCOUNT [--last N] [--from DATE --to DATE]", nargs: 1, summary: "transactions, newest first", setup: bind(newHistoryCmd, runHistory)},
	{name: "check", args: "CHECK", nargs: 1, summary: "a check down to dishes", setup: bind(newCheckCmd, runCheck)},
	{name: "signup", args: "PHONE --group ID [--first-name ...] | --file FILE --group ID [--dry-run] [--out FILE]", nargs: 1, summary: "create a guest from a group's template (asks first)", setup: bind(newSignupCmd, runSignup)},
	{name: "refill", args: "ACCOUNT AMOUNT --reason TEXT [--once] | --file FILE [--dry-run] [--out FILE]", nargs: 2, summary: "credit bonuses (asks first)", setup: bind(newRefillCmd, runRefill)},
	{name: "update", args: "ACCOUNT --email ... --first-name ...", nargs: 1, summary: "change some of a guest's fields (asks first)", setup: bind(newUpdateCmd, runUpdate)},
	{name: "doctor", summary: "check an installation end to end: address, TLS, auth, groups, with --phone the data model", setup: bind(newDoctorCmd, runDoctor)},
	{name: "serve", args: "[--addr 127.0.0.1:11030] [--flavor modern|legacy] [--demo] [--seed FILE] [--admin]", summary: "run the fake ProBonus (probonustest) on a port, for other teams and tools", setup: bind(newServeCmd, runServe)},
}

// wantArgs is how many positional arguments c takes as parsed into fs: none when --file gives
// the rows.
func (c *command) wantArgs(fs *flag.FlagSet) int {
	if f := fs.Lookup("file"); f != nil && f.Value.String() != "" {
		return 0
	}
	return c.nargs
}

func findCmd(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (a *app) run(args []string) int {
	// Every output goes through one scrubber, which knows every credential as soon as the tool
	// does: the environment's now, the flags' after parsing, the tokens when they are sent.
	a.secrets = newSecrets()
	a.secrets.add(a.getenv(envAPIKey), a.getenv(envLogin), a.getenv(envPassword))
	a.secrets.addURL(a.getenv(envBaseURL))
	stdout, stderr := a.secrets.writer(a.stdout), a.secrets.writer(a.stderr)
	a.stdout, a.stderr = stdout, stderr
	defer stderr.flush()
	defer stdout.flush()
	return a.runCommand(args)
}

func (a *app) runCommand(args []string) int {
	var cfg config
	global := flag.NewFlagSet("probonus", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	cfg.register(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.usage(a.stdout)
			return exitOK
		}
		return a.fail("", usageErrorf("%v (see probonus help)", err))
	}
	rest := global.Args()
	if len(rest) == 0 {
		a.usage(a.stderr)
		return exitUsage
	}
	name := rest[0]
	if name == "help" {
		if len(rest) > 1 && findCmd(rest[1]) != nil {
			a.commandUsage(a.stdout, findCmd(rest[1]))
			return exitOK
		}
		a.usage(a.stdout)
		return exitOK
	}
	cmd := findCmd(name)
	if cmd == nil {
		return a.fail("", usageErrorf("unknown command %q (see probonus help)", name))
	}
	fs := flag.NewFlagSet("probonus "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.register(fs)
	exec := cmd.setup(fs)
	pos, err := parseInterspersed(fs, rest[1:])
	if errors.Is(err, flag.ErrHelp) {
		a.commandUsage(a.stdout, cmd)
		return exitOK
	}
	if err != nil {
		return a.fail(cmd.name, usageErrorf("%v (see probonus help %s)", err, cmd.name))
	}
	if nargs := cmd.wantArgs(fs); len(pos) != nargs {
		want := "no arguments"
		if nargs > 0 {
			want = cmd.args
		}
		return a.fail(cmd.name, usageErrorf("want %s, got %d argument(s) (see probonus help %s)", want, len(pos), cmd.name))
	}
	a.secrets.add(cfg.apiKey, cfg.login, cfg.password)
	a.secrets.addURL(cfg.baseURL)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s, err := a.open(cfg)
	if err != nil {
		return a.fail(cmd.name, err)
	}
	defer s.close()
	return a.fail(cmd.name, exec(ctx, s, pos))
}

// parseInterspersed parses flags wherever they stand among the positional arguments, so
// "probonus find +79161112233 --json" works as well as "probonus --json find +79161112233". A
// negative number is an argument, not a flag (unless it is a flag's value): "refill 1001 -5" then
// says the amount must be positive rather than that there is no flag -5.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if negativeNumber(args[0]) {
			pos, args = append(pos, args[0]), args[1:]
			continue
		}
		end := len(args) // the flags up to the next negative number that is an argument
		for i := 1; i < len(args); i++ {
			if args[i-1] == "--" {
				break
			}
			if negativeNumber(args[i]) && !takesValue(fs, args[i-1]) {
				end = i
				break
			}
		}
		if err := fs.Parse(args[:end]); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := end - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(append(pos, rest...), args[end:]...), nil // after "--" everything is an argument
		}
		if len(rest) == 0 {
			args = args[end:]
			continue
		}
		pos = append(pos, rest[0])
		args = append(rest[1:len(rest):len(rest)], args[end:]...)
	}
	return pos, nil
}

// negativeNumber reports whether an argument is a negative number such as -5 or -12.50.
func negativeNumber(arg string) bool {
	if len(arg) < 2 || arg[0] != '-' {
		return false
	}
	_, err := strconv.ParseFloat(arg, 64)
	return err == nil
}

// takesValue reports whether arg is a flag that takes the next argument as its value.
func takesValue(fs *flag.FlagSet, arg string) bool {
	name, ok := strings.CutPrefix(arg, "-")
	if !ok || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimPrefix(name, "-"))
	if f == nil {
		return false
	}
	b, isBool := f.Value.(interface{ IsBoolFlag() bool })
	return !isBool || !b.IsBoolFlag()
}

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
	msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "probonus: "), ": probonus: ", ": ")
	msg = strings.Join(strings.Fields(msg), " ") // one line, whatever the server sent
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

func (a *app) usage(w io.Writer) {
	fmt.Fprint(w, `probonus: a command-line tool for ProBonus, built on the Go SDK.

Usage: probonus [flags] COMMAND [arguments] [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `  help      help on a command: probonus help COMMAND

Configuration (flags override the environment):
  PROBONUS_BASE_URL   --base-url   the server, e.g. http://127.0.0.1:11030 (without /api/v0)
  PROBONUS_API_KEY    --api-key    an API user's permanent token (X-API-Key)
  PROBONUS_LOGIN      --login      or a login and password (bearer tokens, refreshed)
  PROBONUS_PASSWORD   --password
Prefer the environment for secrets: other users of the machine can read a process's flags.

Flags of every command:
`)
	fs := flag.NewFlagSet("probonus", flag.ContinueOnError)
	var cfg config
	cfg.register(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, `
Exit codes: 0 ok, 1 API or network error (with --file: a row failed), 2 usage (or a write not
confirmed), 3 outcome unknown (a write that may have been applied: look before writing again),
4 not found, 130 a --file run interrupted by Ctrl-C (run the same file again to finish).
`)
}

func (a *app) commandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: probonus %s %s\n\n%s.\n", c.name, c.args, c.summary)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	var n int
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprintln(w, "\nThe flags of every command (--json, --demo, --base-url, ...) are listed by probonus help.")
}
