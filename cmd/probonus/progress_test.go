package main

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

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
