package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestCheckParse: the check is a positive number, refused otherwise before anything is sent.
func TestCheckParse(t *testing.T) {
	t.Parallel()
	o, err := parseCmd(t, newCheckCmd, nil, "5001")
	require.NoError(t, err)
	assert.Equal(t, checkOptions{checkID: 5001}, o)
	_, err = parseCmd(t, newCheckCmd, nil, "x")
	assert.Equal(t, exitUsage, exitCode(err))
	assert.ErrorContains(t, err, `CHECK must be a positive number, got "x"`)
}

// TestRunCheck runs check without flags: the header and the dishes, and a 404 that names it.
func TestRunCheck(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	s, stdout, _ := testSession(t, srv)
	require.NoError(t, runCheck(context.Background(), s, checkOptions{checkID: f.visit}))
	assert.Regexp(t, `restaurant\s+12 Пекарня на Невском\n`, stdout.String())
	assert.Contains(t, stdout.String(), "3001  Суп дня, полпорции   0.5  534.00      0.00  267.00\n")

	err := runCheck(context.Background(), s, checkOptions{checkID: 999999})
	assert.Equal(t, exitNotFound, exitCode(err))
	assert.ErrorContains(t, err, "no check 999999")
}
