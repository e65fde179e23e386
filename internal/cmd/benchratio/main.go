// Command benchratio reads `go test -bench -benchmem` output and prints, for every benchmark with an
// /sdk and a /raw half, the SDK/raw ratios of the medians of ns/op, B/op and allocs/op, checked
// against targets; and, for a benchmark with a /none and a /noop half (BenchmarkObserver), what
// one no-op observer adds to a call without any.
//
//	go test -run '^$' -bench . -benchmem -count 5 . | go run ./internal/cmd/benchratio -targets FindByPhone=1.03
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// line matches "BenchmarkFindByPhone/sdk-2   4497   235128 ns/op   13879 B/op   196 allocs/op".
var line = regexp.MustCompile(`^(Benchmark\S+?)/(sdk|raw|none|noop)(?:-(\d+))?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op)?(?:\s+([\d.]+) allocs/op)?`)

// sample holds one half's measurements, one per round.
type sample struct{ ns, bytes, allocs []float64 }

func main() {
	targets := flag.String("targets", "", "comma-separated NAME=MAX: the most SDK/raw ns/op may be for benchmark NAME (without Benchmark)")
	flag.Parse()
	t, err := parseTargets(*targets)
	if err == nil {
		err = run(os.Stdin, os.Stdout, t)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

func parseTargets(s string) (map[string]float64, error) {
	t := map[string]float64{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || f <= 0 {
			return nil, fmt.Errorf("target %q: want NAME=RATIO", kv)
		}
		t[name] = f
	}
	return t, nil
}

func run(in io.Reader, out io.Writer, targets map[string]float64) error {
	samples := map[string]map[string]*sample{}
	var order []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		m := line.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		name, half := strings.TrimPrefix(m[1], "Benchmark"), m[2]
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
		s.ns = append(s.ns, num(m[4]))
		if m[5] != "" {
			s.bytes = append(s.bytes, num(m[5]))
		}
		if m[6] != "" {
			s.allocs = append(s.allocs, num(m[6]))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var pairs, observers []string
	for _, name := range order {
		switch h := samples[name]; {
		case h["sdk"] != nil && h["raw"] != nil:
			pairs = append(pairs, name)
		case h["none"] != nil && h["noop"] != nil:
			observers = append(observers, name)
		}
	}
	if len(pairs)+len(observers) == 0 {
		return fmt.Errorf("no benchmark with /sdk and /raw (or /none and /noop) halves in the input")
	}
	if len(pairs) > 0 {
		fmt.Fprintf(out, "\nSDK / raw net/http, medians of interleaved rounds\n")
		fmt.Fprintf(out, "%-34s %6s | %10s %10s %6s | %9s %9s %6s | %8s %8s %6s | %s\n", "benchmark", "rounds",
			"sdk ns/op", "raw ns/op", "ratio", "sdk B/op", "raw B/op", "ratio", "sdk allc", "raw allc", "ratio", "target")
		for _, name := range pairs {
			sdk, raw := samples[name]["sdk"], samples[name]["raw"]
			sn, rn := median(sdk.ns), median(raw.ns)
			sb, rb := median(sdk.bytes), median(raw.bytes)
			sa, ra := median(sdk.allocs), median(raw.allocs)
			fmt.Fprintf(out, "%-34s %6d | %10.0f %10.0f %5.3fx | %9.0f %9.0f %5.2fx | %8.0f %8.0f %5.2fx | %s\n",
				name, min(len(sdk.ns), len(raw.ns)), sn, rn, ratio(sn, rn), sb, rb, ratio(sb, rb), sa, ra, ratio(sa, ra),
				verdict(targets[strings.Split(name, " ")[0]], ratio(sn, rn), sa, ra, len(sdk.allocs) > 0))
		}
	}
	for _, name := range observers {
		none, noop := samples[name]["none"], samples[name]["noop"]
		fmt.Fprintf(out, "\n%s: a call without an observer (none) and with one no-op observer (noop), medians of %d rounds\n",
			name, min(len(none.ns), len(noop.ns)))
		fmt.Fprintf(out, "  allocs/op: none %.0f, noop %.0f (%+.0f with the observer)\n", median(none.allocs), median(noop.allocs),
			median(noop.allocs)-median(none.allocs))
		fmt.Fprintf(out, "  B/op:      none %.0f, noop %.0f (%+.0f)\n", median(none.bytes), median(noop.bytes),
			median(noop.bytes)-median(none.bytes))
		fmt.Fprintf(out, "  ns/op:     none %.0f, noop %.0f (%.3fx)\n", median(none.ns), median(noop.ns), ratio(median(noop.ns), median(none.ns)))
	}
	return nil
}

// verdict checks a row: its ns/op ratio against its target (when it has one) and its allocations
// against the raw call's (always).
func verdict(target, nsRatio, sdkAllocs, rawAllocs float64, haveAllocs bool) string {
	var missed []string
	if target > 0 && nsRatio > target {
		missed = append(missed, fmt.Sprintf("ns/op over %.2fx", target))
	}
	if haveAllocs && sdkAllocs > rawAllocs {
		missed = append(missed, "allocs over raw")
	}
	var want string
	if target > 0 {
		want = fmt.Sprintf("ns ≤ %.2fx, ", target)
	}
	want += "allocs ≤ raw"
	if len(missed) > 0 {
		return want + ": MISSED (" + strings.Join(missed, ", ") + ")"
	}
	return want + ": met"
}

func num(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
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
