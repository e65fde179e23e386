package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRatios(t *testing.T) {
	t.Parallel()
	in := `goos: linux
BenchmarkFindByPhone/sdk-2        	    4497	    200 ns/op	   13879 B/op	     30 allocs/op
BenchmarkFindByPhone/raw-2        	    7323	    100 ns/op	   10874 B/op	     10 allocs/op
BenchmarkFindByPhone/sdk-2        	    4497	    300 ns/op	   13879 B/op	     30 allocs/op
BenchmarkFindByPhone/raw-2        	    7323	    100 ns/op	   10874 B/op	     10 allocs/op
BenchmarkFindByPhone/sdk-2        	    4497	    250 ns/op	   13879 B/op	     30 allocs/op
BenchmarkFindByPhone/raw-2        	    7323	    125 ns/op	   10874 B/op	     10 allocs/op
BenchmarkNormalizePhone/x-2       	  175432	      7098 ns/op
ok`
	var out bytes.Buffer
	require.NoError(t, run(strings.NewReader(in), &out))
	assert.Contains(t, out.String(), "FindByPhone (cpu 2)")
	assert.Contains(t, out.String(), "2.50x") // 250 / 100
	assert.Contains(t, out.String(), "3.00x") // 30 / 10
	assert.NotContains(t, out.String(), "NormalizePhone")
	assert.Error(t, run(strings.NewReader("nothing"), &out))
}
