package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const input = `goos: linux
BenchmarkFindByPhone/sdk-2        	    4497	    200 ns/op	   13000 B/op	     30 allocs/op
BenchmarkFindByPhone/raw-2        	    7323	    100 ns/op	   10000 B/op	     10 allocs/op
BenchmarkFindByPhone/raw-2        	    7323	    100 ns/op	   10000 B/op	     10 allocs/op
BenchmarkFindByPhone/sdk-2        	    4497	    300 ns/op	   13000 B/op	     30 allocs/op
BenchmarkFindByPhone/sdk-2        	    4497	    250 ns/op	   13000 B/op	     30 allocs/op
BenchmarkFindByPhone/raw-2        	    7323	    125 ns/op	   10000 B/op	     10 allocs/op
BenchmarkRefill/sdk               	    4497	    102 ns/op	    900 B/op	      9 allocs/op
BenchmarkRefill/raw               	    7323	    100 ns/op	   1000 B/op	     10 allocs/op
BenchmarkObserver/none            	    4497	    100 ns/op	    500 B/op	      5 allocs/op
BenchmarkObserver/noop            	    4497	    110 ns/op	    700 B/op	      8 allocs/op
BenchmarkNormalizePhone/x-2       	  175432	      7098 ns/op
ok`

func TestRatios(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(strings.NewReader(input), &out, map[string]float64{"FindByPhone": 1.03, "Refill": 1.01}))
	lines := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	find := lines["FindByPhone"]
	assert.Contains(t, find, "(cpu 2)")
	assert.Contains(t, find, "2.500x", "median 250 / 100")
	assert.Contains(t, find, "1.30x", "B/op 13000 / 10000")
	assert.Contains(t, find, "3.00x", "allocs 30 / 10")
	assert.Contains(t, find, "MISSED (ns/op over 1.03x, allocs over raw)")
	assert.Contains(t, lines["Refill"], "1.020x")
	assert.Contains(t, lines["Refill"], "MISSED (ns/op over 1.01x)", "fewer allocations than raw is fine")
	assert.Contains(t, out.String(), "allocs/op: none 5, noop 8 (+3 with the observer)")
	assert.NotContains(t, out.String(), "NormalizePhone")
}

func TestVerdictMet(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "ns ≤ 1.03x, allocs ≤ raw: met", verdict(1.03, 1.03, 10, 10, true))
	assert.Equal(t, "allocs ≤ raw: met", verdict(0, 5, 9, 10, true), "no ns target for this row")
	assert.Equal(t, "allocs ≤ raw: MISSED (allocs over raw)", verdict(0, 1, 11, 10, true))
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	assert.Error(t, run(strings.NewReader("nothing"), &out, nil))
	_, err := parseTargets("FindByPhone=x")
	assert.Error(t, err)
	got, err := parseTargets(" FindByPhone=1.03, Parallel32=1.05 ,")
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"FindByPhone": 1.03, "Parallel32": 1.05}, got)
}
