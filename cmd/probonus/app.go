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
	"syscall"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := a.open(cfg)
	if err != nil {
		return a.fail(cmd.name, err)
	}
	defer s.close()
	return a.fail(cmd.name, exec(ctx, s, pos))
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
4 not found, 130 interrupted by Ctrl-C or SIGTERM (a --file run: run the same file again to
finish; a write at its question: nothing sent).
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
