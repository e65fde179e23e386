package main

// Review of issue 26 item 18 on Linux, where a test can give the binary a terminal (a pty):
// Ctrl-C at a campaign's "Go ahead? [y/N]" does not end the command. The signal is caught (the
// run's context ends) while the question blocks on the terminal, so the tool waits for a line
// and then says "not confirmed" (exit 2); the user's Ctrl-C did nothing visible.
// (TestReview26CtrlCAtTheQuestionEndsTheCommand, failing on the branch as reviewed.)

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// review26PTY opens a pseudo-terminal: the binary's stdin is its terminal end.
func review26PTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	var unlock int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
	require.Zero(t, errno)
	var n uint32
	_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
	require.Zero(t, errno)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return m, s
}

// issue 26 item 18: Ctrl-C at the confirmation ends the command at once, with Ctrl-C's exit code
// (130) or the "not confirmed" one (2), and nothing sent. Today it keeps waiting for a line.
func TestReview26CtrlCAtTheQuestionEndsTheCommand(t *testing.T) {
	t.Parallel()
	bin := buildProbonus(t, t.TempDir())
	srv, f := newServer(t, probonustest.Modern)
	_, tty := review26PTY(t)
	path := writeCSV(t, "c.csv", fmt.Sprintf("account,amount,reason\n%d,5,Отзыв\n", f.account))
	cmd := exec.Command(bin, "refill", "--file", path)
	cmd.Env = []string{envBaseURL + "=" + srv.URL(), envAPIKey + "=" + srv.APIKey()}
	var stdout, stderr syncBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, &stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "Go ahead? [y/N]") },
		30*time.Second, 5*time.Millisecond, "no question: %s", stderr.String())
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case <-done:
		code := cmd.ProcessState.ExitCode()
		assert.True(t, code == exitInterrupted || code == exitUsage, "exit %d: %s", code, stderr.String())
	case <-time.After(5 * time.Second):
		t.Errorf("Ctrl-C at the question did not end the command (5 s later it still waits for a line): %s", stderr.String())
	}
	assert.Zero(t, srv.Count(http.MethodPost, refillPath))
}
