package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
)

func TestRequireDiff(t *testing.T) {
	t.Parallel()
	parse := func(s string) *modfile.File {
		f, err := modfile.Parse("go.mod", []byte("module example.com/r/sub\n\ngo 1.26.0\n\n"+s), nil)
		require.NoError(t, err)
		return f
	}
	before := parse("require (\n\texample.com/r v0.1.0\n\texample.com/a v1.0.0\n)\n")
	assert.Empty(t, requireDiff(before, parse("require (\n\texample.com/a v1.0.0\n\texample.com/r v0.1.0\n)\n")))
	assert.Equal(t,
		"  example.com/a v1.0.0 -> \"v1.1.0\"\n  example.com/b added at v0.3.0",
		requireDiff(before, parse("require (\n\texample.com/r v0.1.0\n\texample.com/a v1.1.0\n\texample.com/b v0.3.0\n)\n")))
}
