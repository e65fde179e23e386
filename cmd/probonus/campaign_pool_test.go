package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

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
