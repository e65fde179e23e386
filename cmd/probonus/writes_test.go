package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

const (
	insertPath = "/api/v0/accounts/insert_by_template"
	refillPath = "/api/v0/accounts/refill"
	updatePath = "/api/v0/accounts/update"
)

// TestWrites runs every write with --yes against both flavours, in human and JSON form.
func TestWrites(t *testing.T) {
	t.Parallel()
	cases := []struct {
		golden string
		args   func(f fixture) []string
		check  func(t *testing.T, srv *probonustest.Server, f fixture)
	}{
		{"signup", func(fixture) []string {
			return []string{"signup", "8 (999) 123-45-67", "--group", "3", "--first-name", "Анна", "--last-name", "Иванова",
				"--gender", "female", "--birth-date", "1990-05-01", "--email", "anna@example.com", "--card", "7001009999", "--yes"}
		}, func(t *testing.T, srv *probonustest.Server, _ fixture) {
			assert.Equal(t, 1, srv.Count("POST", insertPath))
		}},
		{"signup-json", func(fixture) []string {
			return []string{"signup", "+7 999 123-45-67", "--group", "3", "--yes", "--json"}
		}, nil},
		{"signup-exists", func(fixture) []string {
			return []string{"signup", guestPhone, "--group", "3", "--yes"}
		}, nil},
		{"refill", func(f fixture) []string {
			return []string{"refill", fmt.Sprint(f.account), "50", "--reason", "Отзыв в приложении", "--yes"}
		}, func(t *testing.T, srv *probonustest.Server, f fixture) {
			assert.Equal(t, "292.35", srv.Balance(f.account))
		}},
		{"refill-json", func(f fixture) []string {
			return []string{"refill", fmt.Sprint(f.account), "12.50", "--reason", "Отзыв", "--burn-date", "2030-06-01", "--yes", "--json"}
		}, nil},
		{"refill-not-found", func(fixture) []string {
			return []string{"refill", "999999", "50", "--reason", "Отзыв", "--yes"}
		}, func(t *testing.T, srv *probonustest.Server, _ fixture) {
			assert.Zero(t, srv.Count("POST", refillPath), "a wrong account is caught by the read before")
		}},
		{"update", func(f fixture) []string {
			return []string{"update", fmt.Sprint(f.account), "--email", "ivan.petrov@example.com", "--screen-message", "Любит капучино",
				"--blocked", "true", "--yes"}
		}, nil},
		{"update-json", func(f fixture) []string {
			return []string{"update", fmt.Sprint(f.account), "--first-name", "Иоанн", "--yes", "--json"}
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			for _, flavor := range flavors {
				srv, f := newServer(t, flavor)
				r := runCLI(t, keyEnv(srv), tc.args(f)...)
				golden(t, tc.golden, r)
				if tc.check != nil {
					tc.check(t, srv, f)
				}
				if *update {
					break
				}
			}
		})
	}
}

// TestWritesAreRefusedWithoutATerminal: with no terminal and no --yes nothing is sent.
func TestWritesAreRefusedWithoutATerminal(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	acc := fmt.Sprint(f.account)
	for _, args := range [][]string{
		{"signup", "+7 999 123-45-67", "--group", "3"},
		{"refill", acc, "50", "--reason", "Отзыв"},
		{"update", acc, "--email", "x@example.com"},
	} {
		r := invocation{env: keyEnv(srv), stdin: "y\n"}.run(t, args...)
		assert.Equal(t, exitUsage, r.code, "%v", args)
		assert.Contains(t, r.stderr, ", about to ")
		assert.Contains(t, r.stderr, "not done: stdin is not a terminal; pass --yes")
		assert.Empty(t, r.stdout)
	}
	golden(t, "refill-refused", invocation{env: keyEnv(srv)}.run(t, "refill", acc, "50", "--reason", "Отзыв"))
	for _, path := range []string{insertPath, refillPath, updatePath} {
		assert.Zero(t, srv.Count("POST", path), path)
	}
	assert.Equal(t, "242.35", srv.Balance(f.account))
}

// TestConfirmationOnATerminal: a terminal is asked; only yes goes ahead.
func TestConfirmationOnATerminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		answer string
		code   int
		sent   int
	}{{"y\n", exitOK, 1}, {"да\n", exitOK, 1}, {"n\n", exitUsage, 0}, {"\n", exitUsage, 0}, {"", exitUsage, 0}} {
		t.Run(fmt.Sprintf("%q", tc.answer), func(t *testing.T) {
			t.Parallel()
			srv, f := newServer(t, probonustest.Modern)
			r := invocation{env: keyEnv(srv), stdin: tc.answer, terminal: true}.run(t, "refill", fmt.Sprint(f.account), "50", "--reason", "Отзыв")
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Regexp(t, `^On http://127\.0\.0\.1:\d+, about to credit 50\.00 to account 1001 \(balance 242\.35\) with reason "Отзыв"\.\n`, r.stderr)
			assert.Contains(t, r.stderr, "Go ahead? [y/N] ")
			assert.Equal(t, tc.sent, srv.Count("POST", refillPath))
			if tc.code != exitOK {
				assert.Contains(t, r.stderr, "not done: not confirmed")
			}
		})
	}
}

// TestRefillOnce: a second --once with the same reason and amount sends nothing.
func TestRefillOnce(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		srv, f := newServer(t, flavor)
		args := []string{"refill", fmt.Sprint(f.account), "100.5", "--reason", "Отзыв о заказе 1234", "--once", "--yes"}
		first := runCLI(t, keyEnv(srv), args...)
		require.Equal(t, exitOK, first.code, first.stderr)
		assert.Contains(t, first.stdout, "Credited 100.50 to account 1001: transaction")
		second := runCLI(t, keyEnv(srv), append(args, "--json")...)
		require.Equal(t, exitOK, second.code, second.stderr)
		golden(t, "refill-once-again", second)
		assert.Equal(t, 1, srv.Count("POST", refillPath))
		assert.Equal(t, "342.85", srv.Balance(f.account))
		third := runCLI(t, keyEnv(srv), args...)
		assert.Contains(t, third.stdout, "Already credited: transaction 50003 has this credit, nothing was sent. Balance 342.85.")
	}
}

// TestOutcomeUnknown: a refill whose answer is lost after the server applied it exits 3 and says
// how to look; --once looks itself and ends with one credit.
func TestOutcomeUnknown(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	srv.Inject("POST", refillPath, probonustest.Fault{Reset: true, AfterApply: true})
	// --timeout 1s: the SDK remembers the uncertain send for the whole process (the tests' one)
	// and makes the --once below wait its settle time, the attempt timeout, before it looks.
	r := runCLI(t, keyEnv(srv), "refill", fmt.Sprint(f.account), "50", "--reason", "Отзыв", "--yes", "--timeout", "1s")
	assert.Equal(t, exitOutcomeUnknown, r.code, r.stderr)
	assert.Contains(t, r.stderr, "the credit may have been applied: look with probonus history 1001 --last 5 before crediting again, or repeat with --once")
	assert.Equal(t, "292.35", srv.Balance(f.account), "applied once")

	r = runCLI(t, keyEnv(srv), "refill", fmt.Sprint(f.account), "50", "--reason", "Отзыв", "--yes", "--once", "--timeout", "1s")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Already credited")
	assert.Equal(t, "292.35", srv.Balance(f.account), "not applied again")
}

func TestWriteUsageErrors(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	acc := fmt.Sprint(f.account)
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"signup", "+7 999 123-45-67", "--yes"}, "--group is required"},
		{[]string{"signup", "+7 999", "--group", "3", "--yes"}, "invalid phone"},
		{[]string{"signup", "+7 999 123-45-67", "--group", "3", "--gender", "x", "--yes"}, `--gender "x": want male or female`},
		{[]string{"signup", "+7 999 123-45-67", "--group", "3", "--birth-date", "01.05.1990", "--yes"}, `--birth-date "01.05.1990": want YYYY-MM-DD`},
		{[]string{"refill", acc, "50", "--yes"}, "--reason is required"},
		{[]string{"refill", acc, "0", "--reason", "x", "--yes"}, "AMOUNT must be a positive number"},
		{[]string{"refill", acc, "0.001", "--reason", "x", "--yes"}, "has a fraction of a kopeck"},
		{[]string{"refill", acc, "fifty", "--reason", "x", "--yes"}, `got "fifty"`},
		{[]string{"update", acc, "--yes"}, "nothing to change"},
		{[]string{"update", acc, "--blocked", "maybe", "--yes"}, `--blocked "maybe": want true or false`},
		{[]string{"update", acc, "--bonus-lifetime-days", "-1", "--yes"}, "want a number of days"},
	} {
		r := runCLI(t, keyEnv(srv), tc.args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.stderr, "%v", tc.args)
	}
	for _, path := range []string{insertPath, refillPath, updatePath} {
		assert.Zero(t, srv.Count("POST", path), path)
	}
}
