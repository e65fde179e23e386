// Command benchratio reads `go test -bench` output and prints, for every benchmark with an /sdk
// and a /raw half, the SDK/raw ratio of the median ns/op and allocs/op.
//
//	go test -run '^$' -bench . -benchmem -count 5 . | go run ./internal/cmd/benchratio
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// line matches "BenchmarkFindByPhone/sdk-2   4497   235128 ns/op   13879 B/op   196 allocs/op".
var line = regexp.MustCompile(`^(Benchmark\S+?)/(sdk|raw)(?:-(\d+))?\s+\d+\s+([\d.]+) ns/op(?:.*?\s([\d.]+) allocs/op)?`)

type sample struct{ ns, allocs []float64 }

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	samples := map[string]map[string]*sample{}
	var order []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		m := line.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		name, half := m[1], m[2]
		if m[3] != "" {
			name += " (cpu " + m[3] + ")" // each -cpu value is its own comparison
		}
		if samples[name] == nil {
			samples[name] = map[string]*sample{}
			order = append(order, name)
		}
		s := samples[name][half]
		if s == nil {
			s = &sample{}
			samples[name][half] = s
		}
		ns, _ := strconv.ParseFloat(m[4], 64)
		s.ns = append(s.ns, ns)
		if m[5] != "" {
			a, _ := strconv.ParseFloat(m[5], 64)
			s.allocs = append(s.allocs, a)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(order) == 0 {
		return fmt.Errorf("no benchmark with /sdk and /raw halves in the input")
	}
	fmt.Fprintf(out, "\n%-32s %14s %14s %8s %12s %12s %8s\n", "benchmark (median of runs)", "sdk ns/op", "raw ns/op", "ratio", "sdk allocs", "raw allocs", "ratio")
	for _, name := range order {
		sdk, raw := samples[name]["sdk"], samples[name]["raw"]
		if sdk == nil || raw == nil {
			continue
		}
		sn, rn := median(sdk.ns), median(raw.ns)
		sa, ra := median(sdk.allocs), median(raw.allocs)
		fmt.Fprintf(out, "%-32s %14.0f %14.0f %7.2fx %12.0f %12.0f %7.2fx\n",
			strings.TrimPrefix(name, "Benchmark"), sn, rn, sn/rn, sa, ra, ratio(sa, ra))
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
