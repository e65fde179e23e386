package main

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	n := fs.Int("n", 0, "")
	b := fs.Bool("b", false, "")
	pos, err := parseInterspersed(fs, []string{"a", "-n", "3", "b", "-b", "--", "-c", "d"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "-c", "d"}, pos)
	assert.Equal(t, 3, *n)
	assert.True(t, *b)
}
