package main

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

func TestHelp(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "help")
	assert.Equal(t, exitOK, r.code)
	for _, c := range commands {
		assert.Contains(t, r.stdout, "  "+c.name+" ")
	}
	assert.Contains(t, r.stdout, "3 outcome unknown")
	for _, args := range [][]string{{"help", "refill"}, {"refill", "-h"}, {"refill", "--help"}} {
		r := runCLI(t, nil, args...)
		assert.Equal(t, exitOK, r.code)
		assert.Contains(t, r.stdout, "Usage: probonus refill ACCOUNT AMOUNT --reason TEXT [--once]")
		assert.Contains(t, r.stdout, "-once")
	}
	// a secret given before -h is not shown as a default value
	r = runCLI(t, nil, "--api-key", "probonustest-api-key", "find", "-h")
	assert.Equal(t, exitOK, r.code)
}

// TestDevNullIsNotATerminal (issue 17, item 16): </dev/null is a character device but no
// terminal: a write is refused without a question.
func TestDevNullIsNotATerminal(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	devNull, err := os.Open(os.DevNull)
	require.NoError(t, err)
	t.Cleanup(func() { _ = devNull.Close() })
	env := keyEnv(srv)
	var stdout, stderr bytes.Buffer
	code := run([]string{"refill", fmt.Sprint(f.account), "50", "--reason", "Отзыв"}, devNull, &stdout, &stderr, func(k string) string { return env[k] })
	assert.Equal(t, exitUsage, code, stderr.String())
	assert.Contains(t, stderr.String(), "not done: stdin is not a terminal; pass --yes")
	assert.NotContains(t, stderr.String(), "Go ahead?")
	assert.Empty(t, stdout.String())
	assert.Zero(t, srv.Count("POST", refillPath))
}
