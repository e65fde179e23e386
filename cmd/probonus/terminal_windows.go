package main

import (
	"os"
	"syscall"
)

// terminal reports whether f is a console, which NUL is not.
func terminal(f *os.File) bool {
	var mode uint32
	return syscall.GetConsoleMode(syscall.Handle(f.Fd()), &mode) == nil
}
