package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
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

// TestCampaignRefill: a file by account in Excel's Russian dialect, both flavours: golden output,
// the results as written, and a second run that credits nothing.
func TestCampaignRefill(t *testing.T) {
	t.Parallel()
	text := "\ufeffaccount;amount;reason;burn_date;comment\n" +
		"1001;50,00;Акция ноября;31.12.2030;постоянный гость\n" +
		"1002;1 200,50;Акция ноября;;\n" +
		"1003;0,01;Акция ноября;2030-06-01;\n" +
		"1002;1200.5;Акция ноября;;тот же\n" +
		"999999;10;Акция ноября;;нет такого\n"
	for _, flavor := range flavors {
		t.Run(flavor.String(), func(t *testing.T) {
			t.Parallel()
			srv, f := newServer(t, flavor)
			ids := addGuests(srv, 2)
			require.Equal(t, []int64{1002, 1003}, ids)
			path := writeCSV(t, "campaign.csv", text)
			out := filepath.Join(filepath.Dir(path), "results.csv")
			r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--out", out)
			campaignGolden(t, "campaign-refill", r, filepath.Dir(path))
			assert.Equal(t, "292.35", srv.Balance(f.account))
			assert.Equal(t, "1200.50", srv.Balance(ids[0]))
			assert.Equal(t, "0.01", srv.Balance(ids[1]))

			header, rows := readResults(t, out)
			assert.Equal(t, []string{"line", "phone", "account", "amount", "reason", "status", "transaction", "balance", "error"}, header)
			assert.Equal(t, map[string]int{"credited": 3, "skipped": 1, "not-found": 1}, statuses(rows))
			assert.Equal(t, "1 200,50", strings.Replace(rows["3"]["amount"], "1200", "1 200", 1), "a semicolon file's results keep the decimal comma")
			assert.Equal(t, "1200,50", rows["3"]["balance"])
			assert.NotEmpty(t, rows["2"]["transaction"])
			assert.Equal(t, "the same guest, amount and reason as line 3: a second credit would be taken for the first one", rows["5"]["error"])
			assert.Equal(t, "no account 999999", rows["6"]["error"])
			data, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(data, []byte("\ufeff")), "a BOM in, a BOM out: Excel reads the file as UTF-8")

			refills := srv.Count("POST", refillPath)
			r = runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--out", out)
			campaignGolden(t, "campaign-refill-again", r, filepath.Dir(path))
			assert.Equal(t, refills, srv.Count("POST", refillPath), "a second run sends no credit")
			_, rows = readResults(t, out)
			assert.Equal(t, map[string]int{"already-credited": 3, "skipped": 1, "not-found": 1}, statuses(rows))
			assert.Equal(t, "1200.50", srv.Balance(ids[0]))
		})
	}
}

// TestCampaignRefillByPhone: a comma file by phone, in any form people write phones; the results
// name the account each phone was found as.
func TestCampaignRefillByPhone(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		srv, f := newServer(t, flavor)
		path := writeCSV(t, "by-phone.csv", "phone,amount,reason\n"+
			"8 (916) 123-45-67,100,Отзыв\n"+
			"+7 999 000-00-00,100,Отзыв\n")
		out := filepath.Join(filepath.Dir(path), "results.csv")
		r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--out", out, "--json")
		campaignGolden(t, "campaign-refill-by-phone", r, filepath.Dir(path))
		_, rows := readResults(t, out)
		assert.Equal(t, "79161234567", rows["2"]["phone"])
		assert.Equal(t, fmt.Sprint(f.account), rows["2"]["account"])
		assert.Equal(t, "credited", rows["2"]["status"])
		assert.Equal(t, "100.00", rows["2"]["amount"], "a comma file's results have the decimal point")
		assert.Equal(t, "not-found", rows["3"]["status"])
		assert.Equal(t, "no guest with phone 79990000000", rows["3"]["error"])
		assert.Equal(t, "342.35", srv.Balance(f.account))
	}
}

// TestCampaignSignup: guests signed up through FindOrInsert, both flavours; a guest who has an
// account is left as is; a second run creates no one.
func TestCampaignSignup(t *testing.T) {
	t.Parallel()
	text := "phone,first_name,last_name,email,gender,birth_date\n" +
		"+7 999 123-45-67,Анна,Иванова,anna@example.com,female,01.05.1990\n" +
		guestPhone + ",Иван,,,,\n" +
		"8 999 765-43-21,,,,,\n" +
		"79997654321,Дубль,,,,\n" +
		"12345,,,,robot,\n"
	for _, flavor := range flavors {
		t.Run(flavor.String(), func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t, flavor)
			path := writeCSV(t, "guests.csv", text)
			out := filepath.Join(filepath.Dir(path), "results.csv")
			r := runCLI(t, keyEnv(srv), "signup", "--file", path, "--group", "3", "--yes", "--out", out)
			campaignGolden(t, "campaign-signup", r, filepath.Dir(path))
			assert.Equal(t, 2, srv.Count("POST", insertPath))
			header, rows := readResults(t, out)
			assert.Equal(t, []string{"line", "phone", "account", "status", "error"}, header)
			assert.Equal(t, map[string]int{"created": 2, "already-exists": 1, "skipped": 2}, statuses(rows))
			assert.Equal(t, "1001", rows["3"]["account"])

			r = runCLI(t, keyEnv(srv), "signup", "--file", path, "--group", "3", "--yes", "--out", out)
			assert.Equal(t, exitFailed, r.code, "the bad rows are still skipped")
			assert.Equal(t, 2, srv.Count("POST", insertPath), "a second run creates no one")
			_, rows = readResults(t, out)
			assert.Equal(t, map[string]int{"already-exists": 3, "skipped": 2}, statuses(rows))
		})
	}
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

// TestCampaignConfirmation: one question with the totals, on a terminal.
func TestCampaignConfirmation(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", "account,amount,reason\n1001,50,Акция\n1001,25.50,Ещё акция\n")
	r := invocation{env: keyEnv(srv), stdin: "n\n", terminal: true}.run(t, "refill", "--file", path)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "about to credit up to 75.50 in all from "+path+": 2 rows, 4 at a time, each through RefillOnce")
	assert.Equal(t, 1, strings.Count(r.stderr, "Go ahead? [y/N]"))
	assert.Zero(t, srv.Count("POST", refillPath))
	r = invocation{env: keyEnv(srv), stdin: "да\n", terminal: true}.run(t, "refill", "--file", path)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "317.85", srv.Balance(f.account))
}

// TestCampaignRerunAfterFaults: 10% of the requests break their answer's body after the server
// applied them; the same file run again, until every row is done, credits each row once: a rerun
// sends a credit only for a row the runs before did not credit.
func TestCampaignRerunAfterFaults(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		t.Run(flavor.String(), func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithFlavor(flavor),
				probonustest.WithRandomFaults(0.1, 20, probonustest.Fault{AfterApply: true, BreakBody: true}))
			ids := addGuests(srv, 100)
			path := writeCSV(t, "campaign.csv", creditsFile(ids))
			credited, runs := 0, 0
			for done := false; !done || runs < 2; runs++ { // at least one rerun
				require.Less(t, runs, 6, "the file never finished")
				s, stdout, _ := testSession(t, srv)
				o := testOptions(refillCampaign, path)
				o.out = filepath.Join(filepath.Dir(path), fmt.Sprintf("results-%d.csv", runs))
				sent := srv.Count("POST", refillPath)
				err := runCampaign(context.Background(), s, o)
				_, rows := readResults(t, o.out)
				n := statuses(rows)
				assert.LessOrEqual(t, srv.Count("POST", refillPath)-sent, 3*(100-credited), "run %d resent a credit found before", runs)
				credited += n["credited"]
				if done = err == nil; done {
					assert.Equal(t, 100, n["credited"]+n["already-credited"], stdout.String())
				} else {
					assert.Contains(t, []int{exitOutcomeUnknown, exitFailed}, exitCode(err), stdout.String())
				}
			}
			assert.LessOrEqual(t, credited, 100, "no row credited by two runs")
			broken := 0
			for _, req := range srv.Requests() {
				if req.Fault != nil && req.Path == refillPath {
					broken++
				}
			}
			assert.Positive(t, broken, "some credits lost their answer")
			for i, id := range ids {
				assert.Equal(t, fmt.Sprintf("%d.00", i+1), srv.Balance(id), "guest %d credited once", id)
			}
			t.Logf("%s: %d credits' answers broken, %d rows credited, done after %d run(s)", flavor, broken, credited, runs)
		})
	}
}

// TestCampaignStopsOnSystemicFailure: credentials refused, or the server down, 20 rows in a
// row: the run stops rather than mark every guest failed, and the rest are skipped.
func TestCampaignStopsOnSystemicFailure(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	ids := addGuests(srv, 200)
	path := writeCSV(t, "campaign.csv", creditsFile(ids))

	r := runCLI(t, map[string]string{envBaseURL: srv.URL(), envAPIKey: "not-the-key"}, "refill", "--file", path, "--yes")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stdout, "Stopped early: 20 rows in a row failed: the server refused the credentials (GET /api/v0/accounts/transactions: 401 Unauthorized")
	refused := regexp.MustCompile(`refused\s+(\d+)`).FindStringSubmatch(r.stdout)
	require.NotNil(t, refused, r.stdout)
	assert.Less(t, len(refused[1]), 3, "a few over 20 at most (those in flight): %s", refused[1])
	assert.Regexp(t, `skipped\s+1[78]\d`, r.stdout)

	down := probonustest.NewServer(t)
	url := down.URL()
	down.Close()
	s, stdout, _ := testSession(t, srv, probonus.WithBaseURL(url))
	o := testOptions(refillCampaign, path)
	err := runCampaign(context.Background(), s, o)
	assert.Equal(t, exitFailed, exitCode(err))
	assert.Contains(t, stdout.String(), "Stopped early: 20 rows in a row failed: the server is down or failing")
	assert.Zero(t, srv.Count("POST", refillPath))
}

// TestCampaignProgress: without a terminal, a plain line every interval and one at the end; the
// bar on a terminal, through the scrubber like everything else.
func TestCampaignProgress(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithLatency(2*time.Millisecond))
	ids := addGuests(srv, 40)
	path := writeCSV(t, "campaign.csv", creditsFile(ids))
	s, _, stderr := testSession(t, srv)
	o := testOptions(refillCampaign, path)
	o.progress, o.every = progressLines, time.Millisecond
	require.NoError(t, runCampaign(context.Background(), s, o))
	lines := progressLine.FindAllString(stderr.String(), -1)
	require.GreaterOrEqual(t, len(lines), 2, stderr.String())
	assert.Regexp(t, `^progress: 40 of 40 rows, credited 820\.00, 0 errors, \d+(\.\d)? rows/s\n$`, lines[len(lines)-1])

	srv2 := probonustest.NewServer(t)
	ids = addGuests(srv2, 10)
	s, _, stderr = testSession(t, srv2)
	o = testOptions(refillCampaign, writeCSV(t, "campaign.csv", creditsFile(ids)))
	o.progress = progressBar
	require.NoError(t, runCampaign(context.Background(), s, o))
	assert.Contains(t, stderr.String(), "credited 55.00, 0 errors")
	assert.Contains(t, stderr.String(), "10/10")
	assert.Contains(t, stderr.String(), "rows/s")
}

// TestCampaignInterruptedBinary: Ctrl-C (SIGINT) to the built binary mid-run stops taking rows,
// lets those in flight end, writes the summary and every row started; the same file run again
// finishes the rest, each row credited once.
func TestCampaignInterruptedBinary(t *testing.T) {
	t.Parallel()
	bin := buildProbonus(t, t.TempDir())
	srv := probonustest.NewServer(t, probonustest.WithLatency(20*time.Millisecond))
	ids := addGuests(srv, 300)
	path := writeCSV(t, "campaign.csv", creditsFile(ids))
	out := filepath.Join(filepath.Dir(path), "results.csv")
	env := []string{envBaseURL + "=" + srv.URL(), envAPIKey + "=" + srv.APIKey()}

	cmd := exec.Command(bin, "refill", "--file", path, "--yes", "--out", out)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr, cmd.Env = &stdout, &stderr, env
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(out)
		return bytes.Count(data, []byte("\n")) > 20
	}, 30*time.Second, 5*time.Millisecond, "no rows done; stderr: %s", stderr.String())
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	require.Error(t, err)
	assert.Equal(t, exitInterrupted, cmd.ProcessState.ExitCode(), "interrupted: %s%s", stdout.String(), stderr.String()) // issue 26 item 18
	assert.Contains(t, stderr.String(), "Interrupted: no new rows are started")
	assert.Contains(t, stdout.String(), "Run the same file again to finish")

	_, rows := readResults(t, out)
	require.Len(t, rows, 300, "every row is in the results")
	n := statuses(rows)
	assert.Positive(t, n["credited"])
	assert.Positive(t, n["skipped"])
	assert.Equal(t, 300, n["credited"]+n["skipped"], "the rows in flight ended: %v", n)
	assert.Regexp(t, fmt.Sprintf(`skipped\s+%d\n`, n["skipped"]), stdout.String())
	assert.Contains(t, stdout.String(), fmt.Sprintf("Not started (skipped): %d rows.", n["skipped"]))
	for i, id := range ids {
		want := "0.00"
		if rows[fmt.Sprint(i+2)]["status"] == "credited" {
			want = fmt.Sprintf("%d.00", i+1)
		}
		assert.Equal(t, want, srv.Balance(id), "line %d", i+2)
	}

	again := exec.Command(bin, "refill", "--file", path, "--yes", "--out", out)
	again.Env = env
	output, err := again.CombinedOutput()
	require.NoError(t, err, "%s", output)
	_, rows = readResults(t, out)
	assert.Equal(t, map[string]int{"credited": n["skipped"], "already-credited": n["credited"]}, statuses(rows))
	for i, id := range ids {
		assert.Equal(t, fmt.Sprintf("%d.00", i+1), srv.Balance(id))
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

// TestSDKHasNoProgressBar: the progress bar is the command's; the SDK a user imports does not
// link it.
func TestSDKHasNoProgressBar(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/probonus-go/probonus").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "github.com/shopspring/decimal", "the list is the SDK's")
	for _, mod := range []string{"schollz/progressbar", "vbauerster/mpb", "mitchellh/colorstring", "rivo/uniseg", "golang.org/x/term"} {
		assert.NotContains(t, string(out), mod)
	}
	out, err = exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "github.com/schollz/progressbar/v3", "the command links it")
}

// TestCampaignAbandonedRows: a second Ctrl-C abandons the rows in flight: each ends unknown (a
// credit may have been applied) or skipped (nothing was sent), never credited twice.
func TestCampaignAbandonedRows(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithLatency(300*time.Millisecond))
	ids := addGuests(srv, 20)
	path := writeCSV(t, "campaign.csv", creditsFile(ids))
	s, stdout, stderr := testSession(t, srv)
	o := testOptions(refillCampaign, path)
	o.out = filepath.Join(filepath.Dir(path), "results.csv")
	signals := make(chan os.Signal, 2)
	o.signals = signals
	go func() {
		for srv.Count("POST", refillPath) == 0 { // a credit on its way
			time.Sleep(time.Millisecond)
		}
		signals <- os.Interrupt
		signals <- os.Interrupt
	}()
	err := runCampaign(context.Background(), s, o)
	require.Error(t, err)
	assert.Contains(t, stderr.String(), "Interrupted again: abandoning the rows in flight.")
	_, rows := readResults(t, o.out)
	require.Len(t, rows, 20)
	for i, id := range ids {
		row := rows[fmt.Sprint(i+2)]
		switch row["status"] {
		case "credited":
			assert.Equal(t, fmt.Sprintf("%d.00", i+1), srv.Balance(id))
		case "skipped":
			assert.Equal(t, "0.00", srv.Balance(id), "line %d: %s", i+2, row["error"])
		default:
			assert.Equal(t, "unknown", row["status"], stdout.String())
		}
	}
	assert.Zero(t, statuses(rows)["refused"], "an abandoned row is not a refusal: %s", stdout.String())
	assert.Positive(t, statuses(rows)["unknown"], "the credits abandoned on their way")
	assert.Equal(t, exitOutcomeUnknown, exitCode(err))
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

// issue 26 item 4: a text cell of --out that a spreadsheet would run as a formula starts with a
// quote; a phone that reads is written as its digits, which need none; numbers stay numbers.
func TestCampaignResultsNeutraliseFormulas(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", "phone,amount,reason\n"+
		"+7 916 123-45-67,50,\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\"\n"+
		"@SUM(1+1),10,Ноябрь\n"+
		"+7 916 123-45-67,-5,Ноябрь\n"+
		"+7 916 123-45-67,7,+1 бонус\n"+
		"+7 916 123-45-67,8,-минус\n")
	s, _, _ := testSession(t, srv)
	o := testOptions(refillCampaign, path)
	o.out = filepath.Join(filepath.Dir(path), "results.csv")
	err := runCampaign(context.Background(), s, o)
	assert.Equal(t, exitFailed, exitCode(err))
	_, rows := readResults(t, o.out)
	assert.Equal(t, `'=HYPERLINK("http://evil.example/","x")`, rows["2"]["reason"])
	assert.Equal(t, "79161234567", rows["2"]["phone"], "a phone that reads is its digits")
	assert.Equal(t, "'@SUM(1+1)", rows["3"]["phone"])
	assert.Equal(t, "-5", rows["4"]["amount"], "a number is not a formula")
	assert.Equal(t, "'+1 бонус", rows["5"]["reason"])
	assert.Equal(t, "'-минус", rows["6"]["reason"])
	for line, row := range rows {
		for col, v := range row {
			if v != "" && strings.ContainsRune("=+@\t\r", rune(v[0])) {
				t.Errorf("line %s, column %s: %q starts a formula", line, col, v)
			}
		}
	}
}

// issue 26 item 4: the rule itself, for every character OWASP names.
func TestSafeCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-x": "'-x", "@a": "'@a", "\tx": "'\tx", "\rx": "'\rx",
		"-5": "-5", "-5,00": "-5,00", "+7": "'+7", "x=1": "x=1", "": "", "79161234567": "79161234567", "-": "'-",
	} {
		assert.Equal(t, want, safeCell(in), "%q", in)
	}
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

// issue 26 item 18: the confirmation of a run says "up to": rows credited before are found and
// not credited again, so the sum is a ceiling.
func TestCampaignConfirmationSaysUpTo(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", "account,amount,reason\n1001,50,Акция\n1001,25.50,Ещё акция\n")
	r := invocation{env: keyEnv(srv), stdin: "n\n", terminal: true}.run(t, "refill", "--file", path)
	assert.Contains(t, r.stderr, "about to credit up to 75.50 in all from "+path+": 2 rows")
}

// issue 26 item 18: --out has the rows in the file's order, whichever ends first.
func TestCampaignOutInLineOrder(t *testing.T) {
	t.Parallel()
	var slow atomic.Int64
	srv := probonustest.NewServer(t, probonustest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("accountId") == fmt.Sprint(slow.Load()) {
				time.Sleep(300 * time.Millisecond) // the first row ends last
			}
			h.ServeHTTP(w, r)
		})
	}))
	ids := addGuests(srv, 12)
	slow.Store(ids[0])
	path := writeCSV(t, "campaign.csv", creditsFile(ids)+"x;1;bad\n")
	s, _, _ := testSession(t, srv)
	o := testOptions(refillCampaign, path)
	o.out = filepath.Join(filepath.Dir(path), "results.csv")
	require.Equal(t, exitFailed, exitCode(runCampaign(context.Background(), s, o)))
	data, err := os.ReadFile(o.out)
	require.NoError(t, err)
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = ';'
	recs, err := r.ReadAll()
	require.NoError(t, err)
	var lines []string
	for _, rec := range recs[1:] {
		lines = append(lines, rec[0])
	}
	assert.Equal(t, []string{"2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14"}, lines)
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

// issue 26 item 18: --json's money is what the API writes, a string with two decimals.
func TestCampaignJSONMoney(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", fmt.Sprintf("account,amount,reason\n%d,100,Отзыв\n", f.account))
	r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sum))
	assert.Equal(t, "100.00", sum["credited"])
	assert.Equal(t, "0.00", sum["alreadyCredited"])
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
