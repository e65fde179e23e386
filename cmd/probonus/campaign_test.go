package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// writeCSV writes a campaign file into a test's own folder.
func writeCSV(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// addGuests seeds n guests with no bonuses, phones +7 900 000-00-00 on; it returns their ids.
func addGuests(srv *probonustest.Server, n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = srv.AddAccount(probonustest.Account{GroupID: 3, Phone: fmt.Sprintf("+7900%07d", i), Balance: "0"})
	}
	return ids
}

// creditsFile is a campaign crediting guest i the amount i+1 (so a balance tells how often it was credited).
func creditsFile(ids []int64) string {
	var b strings.Builder
	b.WriteString("account;amount;reason\n")
	for i, id := range ids {
		fmt.Fprintf(&b, "%d;%d,00;Акция ноября\n", id, i+1)
	}
	return b.String()
}

var progressLine = regexp.MustCompile(`(?m)^progress: .*\n`)

// campaignGolden compares a run of a file with its golden file: the file's folder is DIR, and the
// progress lines, which depend on timing, are left out (TestCampaignProgress has them).
func campaignGolden(t *testing.T, name string, r result, dir string) {
	t.Helper()
	clean := func(s string) string {
		s = strings.ReplaceAll(s, dir, "DIR")
		return progressLine.ReplaceAllString(s, "")
	}
	args := make([]string, len(r.args))
	for i, a := range r.args {
		args[i] = clean(a)
	}
	golden(t, name, result{args: args, code: r.code, stdout: clean(r.stdout), stderr: clean(r.stderr)})
}

// readResults reads an --out file: its rows by line, each a column → value map.
func readResults(t *testing.T, path string) (header []string, rows map[string]map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = ';'
	if !bytes.Contains(bytes.SplitN(data, []byte("\n"), 2)[0], []byte(";")) {
		r.Comma = ','
	}
	recs, err := r.ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	rows = map[string]map[string]string{}
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		_, dup := rows[m["line"]]
		require.False(t, dup, "line %s twice in the results", m["line"])
		rows[m["line"]] = m
	}
	return recs[0], rows
}

func statuses(rows map[string]map[string]string) map[string]int {
	n := map[string]int{}
	for _, r := range rows {
		n[r["status"]]++
	}
	return n
}

// testSession is a session on srv with the test client settings (a 50 ms settle time), --yes,
// its output in buffers: for running runCampaign without flags.
func testSession(t *testing.T, srv *probonustest.Server, extra ...probonus.Option) (*session, *syncBuffer, *syncBuffer) {
	t.Helper()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	a := &app{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(string) string { return "" }, secrets: newSecrets()}
	a.secrets.add(srv.APIKey())
	c, err := probonus.New(srv.ClientOptions(extra...)...)
	require.NoError(t, err)
	return &session{app: a, cfg: config{yes: true, baseURL: srv.URL()}, loc: moscow, client: c}, stdout, stderr
}

func testOptions(kind campaignKind, file string) campaignOptions {
	return campaignOptions{kind: kind, file: file, concurrency: defaultConcurrency, group: 3, progress: progressNone, stopAfter: systemicStreak}
}

// TestCampaignDryRun: every row checked and looked up by reading only; the rows that would fail
// name their line and column; nothing is written, as the server's request log shows.
func TestCampaignDryRun(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		srv, _ := newServer(t, flavor)
		addGuests(srv, 1)
		refills := writeCSV(t, "bad.csv", "phone;amount;reason;burn_date;note\n"+
			"+7 916 123-45-67;50,00;Акция;;\n"+
			"+7 900 000-00-00;12,5;Акция;31.12.2030;\n"+
			"+7 999 000-00-00;10;Акция;;нет гостя\n"+
			"+7 916;10;Акция;;\n"+
			"79161234567;50;Акция;;дубль\n"+
			"79000000000;0,001;;2020-01-01;\n")
		r := runCLI(t, keyEnv(srv), "refill", "--file", refills, "--dry-run")
		campaignGolden(t, "campaign-dry-run", r, filepath.Dir(refills))

		guests := writeCSV(t, "guests.csv", "phone,first_name\n+7 999 123-45-67,Анна\n"+guestPhone+",Иван\n")
		r = runCLI(t, keyEnv(srv), "signup", "--file", guests, "--group", "3", "--dry-run")
		campaignGolden(t, "campaign-signup-dry-run", r, filepath.Dir(guests))

		for _, req := range srv.Requests() {
			assert.Equal(t, "GET", req.Method, "a dry run writes nothing: %s %s", req.Method, req.Path)
		}
		assert.Equal(t, "242.35", srv.Balance(1001))
	}
}

// TestCampaignUsage: the file's flags, checked before anything is read or sent.
func TestCampaignUsage(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", "account,amount,reason\n1001,50,x\n")
	guests := writeCSV(t, "g.csv", "phone\n+7 999 123-45-67\n")
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"refill", "1001", "--file", path, "--yes"}, "want no arguments, got 1 argument(s)"},
		{[]string{"refill", "--file", path, "--reason", "x", "--yes"}, "drop --reason and --burn-date"},
		{[]string{"refill", "1001", "50", "--reason", "x", "--dry-run"}, "--dry-run, --out and --concurrency go with --file"},
		{[]string{"refill", "--file", path, "--concurrency", "0", "--yes"}, "--concurrency must be between 1 and 64"},
		{[]string{"refill", "--file", path, "--dry-run", "--out", "x.csv"}, "--out records a run"},
		{[]string{"refill", "--file", filepath.Join(filepath.Dir(path), "none.csv"), "--yes"}, "no such file"},
		{[]string{"signup", "--file", path, "--yes"}, "--group is required"},
		{[]string{"signup", "--file", path, "--group", "3", "--first-name", "x", "--yes"}, "each guest's fields are in its columns"},
		{[]string{"signup", "--file", guests, "--group", "1", "--yes"}, "group 1 (Все гости) has no template"},
		{[]string{"signup", "--file", guests, "--group", "77", "--yes"}, "no group 77"},
		{[]string{"refill", "--file", path}, "not done: stdin is not a terminal; pass --yes"},
	} {
		r := runCLI(t, keyEnv(srv), tc.args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.stderr, "%v", tc.args)
	}
	for _, path := range []string{insertPath, refillPath} {
		assert.Zero(t, srv.Count("POST", path), path)
	}
}

// TestCampaignTenThousandRows: a 10,000-row campaign (1,000 with -short: under -race the full
// one takes half a minute), run in the process against the fake; its time and memory are logged
// (go test -v -run TenThousand), never asserted.
func TestCampaignTenThousandRows(t *testing.T) {
	t.Parallel()
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	srv := probonustest.NewServer(t)
	ids := addGuests(srv, n)
	path := writeCSV(t, "campaign.csv", creditsFile(ids))
	s, stdout, _ := testSession(t, srv)
	o := testOptions(refillCampaign, path)
	o.out = filepath.Join(filepath.Dir(path), "results.csv")
	o.concurrency = 8

	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	})
	start := time.Now()
	err := runCampaign(context.Background(), s, o)
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	require.NoError(t, err, stdout.String())
	_, rows := readResults(t, o.out)
	assert.Equal(t, map[string]int{"credited": n}, statuses(rows))
	assert.Contains(t, stdout.String(), fmt.Sprintf("Credited %d.00 in all by this run.", n*(n+1)/2))
	t.Logf("%d rows: %v (%.0f rows/s), peak heap in use %.1f MiB (the fake server's included)",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(peak.Load())/(1<<20))
}

// issue 26 item 1: a stray quote in a campaign refuses the run before anything is sent; no guest
// gets a credit whose reason holds the rows after it.
func TestCampaignStrayQuoteSendsNothing(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	ids := addGuests(srv, 2)
	path := writeCSV(t, "c.csv", fmt.Sprintf("account;amount;reason\n%d;50;\"Отзыв\n%d;50;Ноябрь\n%d;50;Ноябрь\n", f.account, ids[0], ids[1]))
	for _, args := range [][]string{{"--yes"}, {"--dry-run"}} {
		r := runCLI(t, keyEnv(srv), append([]string{"refill", "--file", path}, args...)...)
		assert.Equal(t, exitUsage, r.code, r.stdout)
		assert.Contains(t, r.stderr, "c.csv line 2: a quote opens a value and is not closed where the value ends")
	}
	assert.Zero(t, srv.Count("POST", refillPath))
	assert.Equal(t, "242.35", srv.Balance(f.account))
}

// issue 26 item 2: an unquoted 1,000 in a comma file is not credited as 1.00 with the reason
// "000": the row is refused, naming its line, and the run exits 1.
func TestCampaignExtraFieldNotCredited(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", fmt.Sprintf("account,amount,reason\n%d,1,000,Ноябрь\n", f.account))
	r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "line 2: 4 values where the header has 3")
	assert.Zero(t, srv.Count("POST", refillPath))
	assert.Equal(t, "242.35", srv.Balance(f.account))
}

// issue 26 item 5: --out naming the campaign file, by any path, is refused before anything is
// read or sent; the campaign is left as it was.
func TestCampaignOutIsTheFile(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	text := fmt.Sprintf("account,amount,reason\n%d,50,Ноябрь\n", f.account)
	path := writeCSV(t, "c.csv", text)
	dir := filepath.Dir(path)
	require.NoError(t, os.Link(path, filepath.Join(dir, "hard.csv")))
	require.NoError(t, os.Symlink(path, filepath.Join(dir, "soft.csv")))
	for _, out := range []string{path, filepath.Join(dir, ".", "sub", "..", "c.csv"), filepath.Join(dir, "hard.csv"), filepath.Join(dir, "soft.csv")} {
		r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--out", out)
		assert.Equal(t, exitUsage, r.code, out)
		assert.Contains(t, r.stderr, "--out "+out+" is the campaign file itself", out)
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, text, string(data))
	assert.Zero(t, srv.Count("POST", refillPath))
}

// issue 26 item 5: the campaign file is not the command's stdout either (">> c.csv" would append
// the summary to the file being read).
func TestCampaignFileIsStdout(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", fmt.Sprintf("account,amount,reason\n%d,50,Ноябрь\n", f.account))
	stdout, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	defer stdout.Close()
	var stderr syncBuffer
	code := run([]string{"refill", "--file", path, "--yes"}, strings.NewReader(""), stdout, &stderr, func(k string) string { return keyEnv(srv)[k] })
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr.String(), "is the command's output")
	assert.Zero(t, srv.Count("POST", refillPath))
}

// issue 26 item 18: Ctrl-C ends the run with an exit code of its own, not 1 (a row failed).
func TestCampaignInterruptedExitCode(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithLatency(20*time.Millisecond))
	ids := addGuests(srv, 100)
	path := writeCSV(t, "campaign.csv", creditsFile(ids))
	s, stdout, _ := testSession(t, srv)
	o := testOptions(refillCampaign, path)
	signals := make(chan os.Signal, 1)
	o.signals = signals
	go func() {
		for srv.Count("POST", refillPath) == 0 {
			time.Sleep(time.Millisecond)
		}
		signals <- os.Interrupt
	}()
	err := runCampaign(context.Background(), s, o)
	assert.Equal(t, exitInterrupted, exitCode(err), stdout.String())
	assert.NotEqual(t, exitFailed, exitInterrupted)
}

// issue 26 item 5: the rows are streamed, not held. A 100,000-row file whose rows all reach
// --out (every row but the first refused by its amount, so the fake server holds next to nothing)
// runs with the heap in use growing by a few MiB; holding the rows took over 100 MiB. Not
// parallel: the heap is the process's, and no other test may be running.
func TestCampaignBoundedMemory(t *testing.T) {
	srv, f := newServer(t, probonustest.Modern)
	path := filepath.Join(t.TempDir(), "big.csv")
	file, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(file)
	fmt.Fprintf(w, "account;amount;reason;burn_date\n%d;1;Ноябрь;\n", f.account)
	for i := range 100_000 {
		fmt.Fprintf(w, "%d;%d,0x;Ноябрь: +200 за заказы, строка %d;31.12.2030\n", 2_000_000+i, i, i)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, file.Close())
	s, stdout, _ := testSession(t, srv)
	o := testOptions(refillCampaign, path)
	o.out = filepath.Join(filepath.Dir(path), "results.csv")

	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak.Store(max(peak.Load(), m.HeapInuse))
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	})
	err = runCampaign(context.Background(), s, o)
	close(stop)
	wg.Wait()
	require.Equal(t, exitFailed, exitCode(err), stdout.String())
	assert.Contains(t, stdout.String(), "… and 99980 more: "+o.out+" lists them all")
	grown := float64(peak.Load()-min(base, peak.Load())) / (1 << 20)
	t.Logf("100,001 rows: the heap in use grew by %.1f MiB at its peak", grown)
	assert.Less(t, grown, 24.0, "MiB the heap grew by")
}

// editOnRead is a terminal's answer that, when read, first rewrites a file: the campaign edited
// while the question waits.
type editOnRead struct {
	path, text string
	answer     io.Reader
}

func (e *editOnRead) Read(p []byte) (int, error) {
	if e.answer == nil {
		if err := os.WriteFile(e.path, []byte(e.text), 0o644); err != nil {
			return 0, err
		}
		e.answer = strings.NewReader("y\n")
	}
	return e.answer.Read(p)
}

// issue 26 item 5: the rows are read twice (checked and added up, then sent), so a file changed
// in between (edited while the question waited) is caught at the first row that differs: nothing
// from it on is sent, and the run says so.
func TestCampaignFileChangedAfterCheck(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	ids := addGuests(srv, 3)
	text := creditsFile(ids)
	path := writeCSV(t, "campaign.csv", text)
	edited := strings.Replace(text, fmt.Sprintf("%d;2,00;", ids[1]), fmt.Sprintf("%d;2000,00;", ids[1]), 1)
	require.NotEqual(t, text, edited)
	s, stdout, stderr := testSession(t, srv)
	s.cfg.yes, s.terminal, s.stdin = false, true, &editOnRead{path: path, text: edited}
	o := testOptions(refillCampaign, path)
	o.concurrency = 1
	err := runCampaign(context.Background(), s, o)
	assert.Equal(t, exitFailed, exitCode(err), stderr.String())
	assert.Contains(t, stderr.String(), "about to credit up to 6.00 in all")
	assert.Contains(t, stdout.String(), "Stopped early: "+path+" changed since it was checked (line 3 differs)")
	assert.Contains(t, stdout.String(), "Not read: 2 rows.")
	assert.Equal(t, "1.00", srv.Balance(ids[0]))
	assert.Equal(t, "0.00", srv.Balance(ids[1]), "the changed row is not sent")
	assert.Equal(t, "0.00", srv.Balance(ids[2]))
}

// From the adversarial review of issue 26 (item 18).
// issue 26 item 18: a --file run stopped by Ctrl-C exits 130, whatever it was doing. A sign-up
// checks its group before any row: Ctrl-C while that answer is slow exited 1 ("context
// canceled", the code of an API error), so a script cannot tell an interruption from a failure.
// SIGTERM (a service manager's stop) is taken as Ctrl-C.
func TestReview26SignupInterruptedBeforeRowsExits130(t *testing.T) {
	t.Parallel()
	bin := buildProbonus(t, t.TempDir())
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			signupInterruptedBeforeRows(t, bin, sig)
		})
	}
}

func signupInterruptedBeforeRows(t *testing.T, bin string, sig os.Signal) {
	asked := make(chan struct{}, 1)
	srv := probonustest.NewServer(t, probonustest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, probonustest.PathAccountGroupsList) {
				select {
				case asked <- struct{}{}:
				default:
				}
				select { // slow: answered only after the client gives up
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Second):
				}
			}
			h.ServeHTTP(w, r)
		})
	}))
	path := writeCSV(t, "guests.csv", "phone,first_name\n+79001112233,Анна\n")
	cmd := exec.Command(bin, "signup", "--file", path, "--group", "3", "--yes")
	cmd.Env = []string{envBaseURL + "=" + srv.URL(), envAPIKey + "=" + srv.APIKey()}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	select {
	case <-asked:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the group was never asked for: %s", stderr.String())
	}
	require.NoError(t, cmd.Process.Signal(sig))
	_ = cmd.Wait()
	assert.Equal(t, exitInterrupted, cmd.ProcessState.ExitCode(), "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	assert.Zero(t, srv.Count(http.MethodPost, "/api/v0/accounts/insert"))
}
