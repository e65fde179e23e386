// Command benchinstr counts, with valgrind's callgrind, the instructions one call of each root
// package benchmark costs, the SDK's and the hand-written net/http call's, and prints their ratio.
// Instruction counts hold still where wall-clock time on a shared machine swings by a fifth.
//
//	go test -c -o bench.test . && go run ./internal/cmd/benchinstr -test ./bench.test
//
// How it measures: the benchmark server (internal/benchserver) runs in this process, so valgrind
// sees only the client's process. Each half runs twice under callgrind, for n and 3n calls with
// -test.benchtime Nx, GOGC=off and one CPU; the difference of the two counts divided by 2n is the
// cost of one call, with start-up, set-up, the first connection and the test framework cancelled
// out. The counts leave out the work that follows the wall clock (see excluded).
//
// Go's asynchronous preemption signals (SIGURG) trip an assertion in callgrind ("threads.c:247
// (vgCallgrind_post_signal): Assertion 'sigNum == vgCallgrind_current_state.sig' failed"), first
// seen on the longest benchmark, LastTransactions1000; GODEBUG=asyncpreemptoff=1 turns them off.
// Goroutines still yield at function calls, so nothing here depends on them.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/probonus-go/probonus/internal/benchserver"
)

// row is one benchmark and the number of calls of its shorter run.
type row struct {
	name   string
	halves [2]string
	n      int
}

var rows = []row{
	{"FindByPhone", [2]string{"sdk", "raw"}, 300},
	{"FindByPhoneDeadline", [2]string{"sdk", "raw"}, 300},
	{"LastTransactions1000", [2]string{"sdk", "raw"}, 10},
	{"InsertByTemplate", [2]string{"sdk", "raw"}, 300},
	{"Refill", [2]string{"sdk", "raw"}, 300},
	{"Observer", [2]string{"none", "noop"}, 300},
}

func main() {
	testBin := flag.String("test", "./bench.test", "the root package's test binary (go test -c)")
	testdata := flag.String("testdata", "testdata", "the root package's testdata folder, for the server's answers")
	only := flag.String("run", "", "measure only the benchmarks whose names contain this")
	scale := flag.Int("scale", 1, "multiply every benchmark's call count by this")
	reps := flag.Int("reps", 1, "measure every half this many times and take the median")
	keep := flag.String("keep", "", "keep callgrind's output files in this folder (for callgrind_annotate)")
	flag.Parse()
	if err := run(os.Stdout, *testBin, *testdata, *only, max(*scale, 1), max(*reps, 1), *keep); err != nil {
		fmt.Fprintln(os.Stderr, "benchinstr:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, testBin, testdata, only string, scale, reps int, keep string) error {
	if _, err := exec.LookPath("valgrind"); err != nil {
		return errors.New("valgrind is not installed (Debian: apt-get install valgrind)")
	}
	testBin, err := filepath.Abs(testBin)
	if err != nil {
		return err
	}
	h, err := benchserver.Handler(testdata)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Shutdown(context.Background()) }()
	base := "http://" + ln.Addr().String()

	tmp := keep
	if tmp == "" {
		if tmp, err = os.MkdirTemp("", "benchinstr"); err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
	} else if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}

	fmt.Fprintf(out, "\nInstructions per call, SDK / raw (callgrind; client process only; GOGC=off, GOMAXPROCS=1;\n"+
		"(Ir(3n) - Ir(n)) / 2n, less sysmon, findRunnable and goleak's dumps; median of %d)\n", reps)
	fmt.Fprintf(out, "%-22s %5s | %16s %16s %7s\n", "benchmark", "n", "first", "second", "ratio")
	for _, r := range rows {
		if !strings.Contains(r.name, only) {
			continue
		}
		n := r.n * scale
		var per [2]float64
		for i, half := range r.halves {
			var runs []float64
			for range reps {
				lo, err := callgrind(testBin, base, tmp, r.name, half, n)
				if err != nil {
					return err
				}
				hi, err := callgrind(testBin, base, tmp, r.name, half, 3*n)
				if err != nil {
					return err
				}
				runs = append(runs, float64(hi-lo)/float64(2*n))
			}
			per[i] = median(runs)
		}
		fmt.Fprintf(out, "%-22s %5d | %5s %10.0f %5s %10.0f %6.3fx\n", r.name, n,
			r.halves[0], per[0], r.halves[1], per[1], per[0]/per[1])
	}
	return nil
}

// callgrind runs one half of one benchmark for n calls under callgrind and returns the
// instructions the process executed, less the excluded ones.
func callgrind(testBin, base, tmp, name, half string, n int) (int64, error) {
	f, err := os.CreateTemp(tmp, fmt.Sprintf("%s.%s.%d.*.out", name, half, n))
	if err != nil {
		return 0, err
	}
	outFile := f.Name()
	_ = f.Close()
	cmd := exec.Command("valgrind", "--tool=callgrind", "--callgrind-out-file="+outFile,
		testBin, "-test.run", "^$", "-test.bench", "^Benchmark"+name+"$/^"+half+"$",
		"-test.benchtime", strconv.Itoa(n)+"x", "-test.cpu", "1", "-test.benchmem")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GOGC=off", "GODEBUG=asyncpreemptoff=1", "PROBONUS_BENCH_URL="+base)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s/%s, %d calls: %w\n%s", name, half, n, err, log.String())
	}
	if !strings.Contains(log.String(), "Benchmark"+name+"/"+half) {
		return 0, fmt.Errorf("%s/%s: the test binary ran no such benchmark\n%s", name, half, log.String())
	}
	return instructions(outFile)
}

// excluded are the functions whose cost follows the wall clock rather than the work, left out of
// the count: under valgrind the wall clock runs at the machine's mercy, so their instructions vary
// from run to run by a few per cent of a call. sysmon wakes on a timer; findRunnable spins looking
// for work while a goroutine waits for the server; and the test binary's leak check at exit
// (goleak's VerifyTestMain) takes and parses a goroutine dump once per retry, and it retries until
// the benchmark's connections have closed.
var excluded = []string{"runtime.sysmon", "runtime.findRunnable", "go.uber.org/goleak/internal/stack.getStacks"}

// instructions reads a callgrind output file: every instruction the process executed, less the
// inclusive cost of the excluded functions.
func instructions(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	total, incl, err := parseCallgrind(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	for _, fn := range excluded {
		total -= incl[fn]
	}
	return total, nil
}

// parseCallgrind returns the total of a callgrind profile (one event, Ir) and each function's
// inclusive cost: its own instructions plus those of the calls it makes, recursion folded into
// the function ("f'2" is f).
func parseCallgrind(r io.Reader) (total int64, incl map[string]int64, err error) {
	incl = map[string]int64{}
	names := map[string]string{} // compressed "(12)" → name
	name := func(v string) string {
		id, rest, _ := strings.Cut(v, " ")
		if rest != "" {
			names[id] = rest
		} else if n, ok := names[id]; ok {
			rest = n
		} else {
			rest = id
		}
		if i := strings.LastIndexByte(rest, '\''); i > 0 && strings.Trim(rest[i+1:], "0123456789") == "" {
			rest = rest[:i]
		}
		return rest
	}
	var fn, cfn string
	var self int64
	afterCalls, sawTotal := false, false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "fn="):
			fn, afterCalls = name(l[3:]), false
		case strings.HasPrefix(l, "cfn="):
			cfn = name(l[4:])
		case strings.HasPrefix(l, "calls="):
			afterCalls = true
		case strings.HasPrefix(l, "totals:") || strings.HasPrefix(l, "summary:"):
			_, v, _ := strings.Cut(l, ":")
			if total, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
				return 0, nil, err
			}
			sawTotal = true
		case l != "" && (l[0] >= '0' && l[0] <= '9' || l[0] == '+' || l[0] == '-' || l[0] == '*'):
			fields := strings.Fields(l)
			c, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("cost line %q: %w", l, err)
			}
			if afterCalls {
				afterCalls = false
				if cfn != fn {
					incl[fn] += c
				}
				continue
			}
			self += c
			incl[fn] += c
		}
	}
	if err := sc.Err(); err != nil {
		return 0, nil, err
	}
	if !sawTotal {
		return 0, nil, errors.New("no totals line")
	}
	if self != total {
		return 0, nil, fmt.Errorf("the functions' own costs add up to %d, not the total %d", self, total)
	}
	return total, incl, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
