package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestHistoryParse: --last or a period, not both; the last 20 by default.
func TestHistoryParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want historyOptions
		err  string
	}{
		{[]string{"1001"}, historyOptions{accountID: 1001, last: defaultLast}, ""},
		{[]string{"1001", "--last", "3"}, historyOptions{accountID: 1001, last: 3}, ""},
		{[]string{"--last", "0", "1001"}, historyOptions{accountID: 1001}, ""}, // the run refuses it
		{[]string{"1001", "--from", "2024-02-01", "--to", "2024-02-15"},
			historyOptions{accountID: 1001, last: defaultLast, from: "2024-02-01", to: "2024-02-15"}, ""},
		{[]string{"1001", "--last", "3", "--from", "2024-02-01"}, historyOptions{}, "give --last or a period (--from, --to), not both"},
		{[]string{"1001", "--to", "2024-02-01"}, historyOptions{}, "--to needs --from"},
		{[]string{"x"}, historyOptions{}, `ACCOUNT must be a positive number, got "x"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			o, err := parseCmd(t, newHistoryCmd, nil, tc.args...)
			if tc.err != "" {
				assert.Equal(t, exitUsage, exitCode(err))
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, o)
		})
	}
}

// TestRunHistory runs history without flags: the last transactions, a period read in the
// server's time, and what the run refuses.
func TestRunHistory(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	s, stdout, _ := testSession(t, srv)
	require.NoError(t, runHistory(context.Background(), s, historyOptions{accountID: f.account, last: 1}))
	assert.Equal(t, 2, strings.Count(stdout.String(), "\n"), "a header and one transaction: %s", stdout)

	s, stdout, _ = testSession(t, srv)
	require.NoError(t, runHistory(context.Background(), s, historyOptions{accountID: f.account, from: "2024-02-15", to: "2024-02-15"}))
	assert.Contains(t, stdout.String(), "2024-02-15 09:30")
	assert.NotContains(t, stdout.String(), "2024-02-16")

	for _, tc := range []struct {
		o   historyOptions
		err string
	}{
		{historyOptions{accountID: f.account, last: 0}, "--last must be between 1 and 1000"},
		{historyOptions{accountID: f.account, last: 1001}, "--last must be between 1 and 1000"},
		{historyOptions{accountID: f.account, from: "2024-03-01", to: "2024-02-01"}, "--from 2024-03-01 is after --to 2024-02-01"},
		{historyOptions{accountID: f.account, from: "15.02.2024"}, `--from "15.02.2024": want YYYY-MM-DD`},
	} {
		err := runHistory(context.Background(), s, tc.o)
		assert.Equal(t, exitUsage, exitCode(err), fmt.Sprint(tc.o))
		assert.ErrorContains(t, err, tc.err)
	}
	err := runHistory(context.Background(), s, historyOptions{accountID: 999999, last: 5})
	assert.Equal(t, exitNotFound, exitCode(err))
	assert.ErrorContains(t, err, "no account 999999")
}
