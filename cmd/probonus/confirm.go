package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
)

// confirm says on stderr what a write will do and where, then asks on a terminal. --yes skips
// the question; with no terminal and no --yes the write is refused, so a script cannot change data
// by accident. Ctrl-C (or SIGTERM: ctx ends) at the question ends the command at once, exit 130,
// nothing sent; the terminal's line is not waited for.
func (s *session) confirm(ctx context.Context, what string) error {
	where := displayURL(s.cfg.baseURL)
	if s.server != nil {
		where = "the --demo server (its data vanishes on exit)"
	}
	fmt.Fprintf(s.stderr, "On %s, about to %s.\n", where, what)
	if s.cfg.yes {
		return nil
	}
	if !s.terminal {
		return usageErrorf("not done: stdin is not a terminal; pass --yes to do it without asking")
	}
	if ctx.Err() != nil {
		return &interruptedError{msg: "not done: interrupted before the question; nothing was sent"}
	}
	fmt.Fprint(s.stderr, "Go ahead? [y/N] ")
	if w, ok := s.stderr.(*redactingWriter); ok {
		w.flush() // the question is shown whole before the answer is read
	}
	answer := make(chan string, 1)
	go func() { // left blocked on the terminal when ctx ends first: the command is ending
		line, _ := bufio.NewReader(s.stdin).ReadString('\n')
		answer <- line
	}()
	var line string
	select {
	case line = <-answer:
	case <-ctx.Done():
		fmt.Fprintln(s.stderr)
		return &interruptedError{msg: "not done: interrupted at the question; nothing was sent"}
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes", "д", "да":
		return nil
	}
	return usageErrorf("not done: not confirmed")
}

// optString is a flag whose absence differs from an empty value: an optional request field.
type optString struct{ p **string }

func (f optString) String() string { return "" }

func (f optString) Set(v string) error { *f.p = &v; return nil }

// value is what the flag was set to, for a confirmation; String hides it from the flag package's
// own printing of defaults.
func (f optString) value() string {
	if *f.p == nil {
		return ""
	}
	return **f.p
}
