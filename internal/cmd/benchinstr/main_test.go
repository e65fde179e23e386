package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// profile is a callgrind output in the form valgrind writes it: names compressed to "(id)" after
// their first use, positions relative ("+2", "*"), a call's inclusive cost on the line after calls=.
const profile = `version: 1
creator: callgrind-3.19.0
events: Ir
summary: 950

fl=(1) proc.go
fn=(1) runtime.findRunnable
10 100
cfn=(2) runtime.netpoll
calls=3 20
+1 50
fn=(2)
20 50
fn=(3) main.work
1 300
cfn=(3)
calls=1 1
+2 999
* 200
fn=(4) runtime.sysmon
5 250
cfn=(5) main.work'2
calls=1 1
6 50
fn=(5)
7 50
totals: 950
`

func TestParseCallgrind(t *testing.T) {
	t.Parallel()
	total, incl, err := parseCallgrind(strings.NewReader(profile))
	require.NoError(t, err)
	assert.EqualValues(t, 950, total)
	assert.EqualValues(t, 150, incl["runtime.findRunnable"], "its own 100 and netpoll's 50")
	assert.EqualValues(t, 300, incl["runtime.sysmon"], "its own 250 and the call's 50")
	assert.EqualValues(t, 550, incl["main.work"], "500 of its own plus main.work'2's 50; a recursive call is not added twice")
	assert.EqualValues(t, 50, incl["runtime.netpoll"])
}

func TestParseCallgrindRefusesBrokenFiles(t *testing.T) {
	t.Parallel()
	_, _, err := parseCallgrind(strings.NewReader("fn=(1) f\n1 10\n"))
	assert.ErrorContains(t, err, "no totals")
	_, _, err = parseCallgrind(strings.NewReader("fn=(1) f\n1 10\ntotals: 11\n"))
	assert.ErrorContains(t, err, "add up to 10, not the total 11")
	_, _, err = parseCallgrind(strings.NewReader("fn=(1) f\n1 x\ntotals: 1\n"))
	assert.Error(t, err)
}

func TestMedian(t *testing.T) {
	t.Parallel()
	assert.InDelta(t, 2.0, median([]float64{3, 1, 2}), 0)
	assert.InDelta(t, 2.5, median([]float64{4, 1, 3, 2}), 0)
}
