package main

// Tests of the confirmation on Linux, where a test can give the binary a terminal (a pty).

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

// openPTY opens a pseudo-terminal: the binary's stdin is its terminal end.
func openPTY(t *testing.T) (master, tty *os.File) {
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

// From the adversarial review of issue 26 (item 18).
// issue 26 item 18: Ctrl-C at the confirmation ends the command at once, with Ctrl-C's exit code
// (130), and nothing sent. It used to wait for a line, then say
// "not confirmed".
func TestReview26CtrlCAtTheQuestionEndsTheCommand(t *testing.T) {
	t.Parallel()
	bin := buildProbonus(t, t.TempDir())
	srv, f := newServer(t, probonustest.Modern)
	_, tty := openPTY(t)
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
		assert.Equal(t, exitInterrupted, code, stderr.String())
		assert.Contains(t, stderr.String(), "interrupted at the question; nothing was sent")
	case <-time.After(5 * time.Second):
		t.Errorf("Ctrl-C at the question did not end the command (5 s later it still waits for a line): %s", stderr.String())
	}
	assert.Zero(t, srv.Count(http.MethodPost, refillPath))
}
