package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probonus-go/probonus/probonustest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var flavors = []probonustest.Flavor{probonustest.Modern, probonustest.Legacy}

// at is a fixed moment in the server's location, far from any test's "now".
func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2024, month, day, hour, minute, 0, 0, moscow)
}

// fixture is what seed added.
type fixture struct {
	account        int64
	visit, pending int64 // a check with payment and accrual; one whose accrual is deferred
}

// guestPhone is the seeded guest, written as people write it.
const guestPhone = "+7 (916) 123-45-67"

// seed gives a server a guest with everything the model has, at fixed dates, so outputs can be
// compared with golden files.
func seed(srv *probonustest.Server) fixture {
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: guestPhone, FirstName: "Иван", LastName: "Петров",
		MiddleName: "Сергеевич", Email: "ivan@example.com", Gender: "male", BirthDate: "1987-03-14", Balance: "300",
		BurnDate: "2030-01-31", CreatedAt: at(1, 10, 12, 0), Tags: []string{"vip"},
		Coupons:     []probonustest.Coupon{{Name: "Десерт", DishCode: 1024, DiscountCode: 17, Quantity: 1, ValidUntil: at(12, 31, 23, 59)}},
		Identifiers: []probonustest.Identifier{{Type: "card", Value: "7001002003"}}})
	visit := srv.AddCheck(probonustest.Check{AccountID: id, Number: 1207, Datetime: at(2, 15, 9, 30), RestaurantCode: 12,
		RestaurantName: "Пекарня на Невском", CashDesk: 3, BonusPaid: "100", BonusAccrued: "42.35",
		Dishes: []probonustest.Dish{
			{Code: 1024, Name: "Круассан с миндалём", Quantity: "2", Price: "245", DiscountSum: "24.50"},
			{Code: 3001, Name: "Суп дня, полпорции", Quantity: "0.5", Price: "534"},
		}})
	pending := srv.AddCheck(probonustest.Check{AccountID: id, Number: 1311, Datetime: at(2, 16, 19, 5), RestaurantCode: 12,
		RestaurantName: "Пекарня на Невском", CashDesk: 1, BonusAccrued: "15", AccrueOn: "2030-01-15",
		Dishes: []probonustest.Dish{{Code: 2048, Name: "Капучино", Quantity: "1", Price: "290"}}})
	return fixture{account: id, visit: visit, pending: pending}
}

func newServer(t *testing.T, flavor probonustest.Flavor, opts ...probonustest.Option) (*probonustest.Server, fixture) {
	srv := probonustest.NewServer(t, append([]probonustest.Option{probonustest.WithFlavor(flavor)}, opts...)...)
	return srv, seed(srv)
}

// keyEnv is the environment of a user with an API key for srv.
func keyEnv(srv *probonustest.Server) map[string]string {
	return map[string]string{envBaseURL: srv.URL(), envAPIKey: srv.APIKey()}
}

// loginEnv is the environment of a user with a login for srv.
func loginEnv(srv *probonustest.Server) map[string]string {
	login, password := srv.Login()
	return map[string]string{envBaseURL: srv.URL(), envLogin: login, envPassword: password}
}

// result is one run of the tool.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

// invocation is how a test runs the tool: its environment and stdin.
type invocation struct {
	env      map[string]string
	stdin    string
	terminal bool // stdin is a terminal: writes ask
	salt     []byte
}

func (inv invocation) run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{stdin: strings.NewReader(inv.stdin), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return inv.env[k] }, terminal: inv.terminal, salt: inv.salt}
	r := result{args: args, code: a.run(args), stdout: stdout.String(), stderr: stderr.String()}
	for _, secret := range []string{"probonustest-api-key", "probonustest-password", "probonustest-refresh", "eyJ"} {
		assert.NotContains(t, r.stdout+r.stderr, secret, "a secret in the output of %v", args)
	}
	return r
}

// runCLI runs the tool with an environment and no terminal.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return invocation{env: env}.run(t, args...)
}

var (
	rtt       = regexp.MustCompile(`round trip \S+`)
	localhost = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
)

// normalize masks what changes from run to run: the server's port, round-trip times, and the
// moments of writes made "now" (a sign-up's creation time).
func normalize(s string) string {
	s = localhost.ReplaceAllString(s, "http://SERVER")
	s = rtt.ReplaceAllString(s, "round trip DURATION")
	now := time.Now().In(moscow)
	for _, d := range []time.Time{now.AddDate(0, 0, -1), now, now.AddDate(0, 0, 1)} {
		day := regexp.MustCompile(regexp.QuoteMeta(d.Format(time.DateOnly)) + `([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?`)
		s = day.ReplaceAllString(s, "TODAY")
	}
	return s
}

// text is a run as a golden file holds it.
func (r result) text() string {
	var b strings.Builder
	args := make([]string, len(r.args))
	for i, a := range r.args {
		args[i] = a
		if strings.ContainsAny(a, " ()'\"") {
			args[i] = "'" + a + "'"
		}
	}
	fmt.Fprintf(&b, "$ probonus %s\nexit %d\n", strings.Join(args, " "), r.code)
	if r.stdout != "" {
		b.WriteString("-- stdout --\n" + r.stdout)
	}
	if r.stderr != "" {
		b.WriteString("-- stderr --\n" + r.stderr)
	}
	return normalize(b.String())
}

// golden compares a run with testdata/name.golden, or writes it with -update.
func golden(t *testing.T, name string, r result) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(r.text()), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cmd/probonus -update to write it")
	assert.Equal(t, string(want), r.text(), "the output differs from %s", path)
}

// TestReadCommands runs every read command against both flavours, in human and JSON form: the
// outputs match golden files, the same for both flavours.
func TestReadCommands(t *testing.T) {
	t.Parallel()
	cases := []struct {
		golden string
		args   func(f fixture) []string
	}{
		{"groups", func(fixture) []string { return []string{"groups"} }},
		{"groups-json", func(fixture) []string { return []string{"groups", "--json"} }},
		{"find", func(fixture) []string { return []string{"find", guestPhone} }},
		{"find-json", func(fixture) []string { return []string{"--json", "find", "89161234567"} }},
		{"balance", func(f fixture) []string { return []string{"balance", fmt.Sprint(f.account)} }},
		{"balance-json", func(f fixture) []string { return []string{"balance", fmt.Sprint(f.account), "--json"} }},
		{"history", func(f fixture) []string { return []string{"history", fmt.Sprint(f.account)} }},
		{"history-json", func(f fixture) []string { return []string{"history", "--json", fmt.Sprint(f.account)} }},
		{"history-last", func(f fixture) []string { return []string{"history", fmt.Sprint(f.account), "--last", "1"} }},
		{"history-period", func(f fixture) []string {
			return []string{"history", fmt.Sprint(f.account), "--from", "2024-02-15", "--to", "2024-02-15"}
		}},
		{"history-empty-period", func(f fixture) []string {
			return []string{"history", fmt.Sprint(f.account), "--from", "2024-03-01T10:00", "--to", "2024-03-02", "--json"}
		}},
		{"check", func(f fixture) []string { return []string{"check", fmt.Sprint(f.visit)} }},
		{"check-json", func(f fixture) []string { return []string{"check", fmt.Sprint(f.visit), "--json"} }},
		{"find-not-found", func(fixture) []string { return []string{"find", "+7 999 000-00-00"} }},
		{"balance-not-found", func(fixture) []string { return []string{"balance", "999999"} }},
		{"check-not-found", func(fixture) []string { return []string{"check", "999999"} }},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			for _, flavor := range flavors {
				srv, f := newServer(t, flavor)
				r := runCLI(t, keyEnv(srv), tc.args(f)...)
				golden(t, tc.golden, r)
				if *update {
					break // one flavour writes; the next run holds both to it
				}
			}
		})
	}
}

// TestDemo is what a fresh clone shows: the seeded guest, their history, a clean doctor.
func TestDemo(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "--demo", "find", "+79161112233")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `account +1001\nname +Пётр Смирнов\nphone +79161112233\n`, r.stdout)
	assert.Contains(t, r.stdout, "balance           142.35")

	r = runCLI(t, map[string]string{envBaseURL: "http://example.invalid"}, "history", "1001", "--demo")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `check_accrual +42\.35 +5001 +Пекарня на Невском`, r.stdout)
	assert.Regexp(t, `check_payment +-200\.00 +5001`, r.stdout)

	r = runCLI(t, nil, "--demo", "doctor")
	require.Equal(t, exitOK, r.code, r.stdout)
	assert.Contains(t, r.stdout, "ok    guest     79161112233 is account 1001")
	assert.Contains(t, r.stdout, "6 answers compared with the SDK's model: no difference")
	assert.Contains(t, r.stdout, "Verdict: ready.")
}

// TestDebugLogsRequestsWithoutSecrets: --debug prints the SDK's slog lines on stderr.
func TestDebugLogsRequestsWithoutSecrets(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	for _, env := range []map[string]string{keyEnv(srv), loginEnv(srv)} {
		r := runCLI(t, env, "find", guestPhone, "--debug")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Regexp(t, `level=DEBUG msg="probonus request" .*method=GET path=/api/v0/accounts/find_by_phone status=200`, r.stderr)
		assert.NotContains(t, r.stderr, "79161234567", "no query in the log")
		assert.Contains(t, r.stdout, "Иван Сергеевич Петров")
	}
}

// TestTimesInTheServersLocation: times are shown in the server's location, and --tz names another.
func TestTimesInTheServersLocation(t *testing.T) {
	t.Parallel()
	vladivostok, err := time.LoadLocation("Asia/Vladivostok")
	require.NoError(t, err)
	srv := probonustest.NewServer(t, probonustest.WithLocation(vladivostok))
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: guestPhone})
	srv.AddCheck(probonustest.Check{AccountID: id, Datetime: time.Date(2024, 2, 15, 9, 30, 0, 0, vladivostok), BonusAccrued: "10",
		Dishes: []probonustest.Dish{{Code: 1, Name: "Чай", Quantity: "1", Price: "100"}}})
	r := runCLI(t, keyEnv(srv), "history", fmt.Sprint(id), "--tz", "Asia/Vladivostok")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "2024-02-15 09:30  check_accrual")
	r = runCLI(t, keyEnv(srv), "history", fmt.Sprint(id), "--tz", "Asia/Vladivostok", "--from", "2024-02-15", "--to", "2024-02-15", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"datetime": "2024-02-15T09:30:00"`)
}

func TestTableAlignsMoneyRight(t *testing.T) {
	t.Parallel()
	tb := newTable("NAME", "SUM>", "NOTE")
	tb.add("Капучино", "290.00", "")
	tb.add("Круассан с миндалём", "1490.50", "две штуки")
	var b bytes.Buffer
	require.NoError(t, tb.write(&b))
	assert.Equal(t, ""+
		"NAME                     SUM  NOTE\n"+
		"Капучино              290.00\n"+
		"Круассан с миндалём  1490.50  две штуки\n", b.String())
}

// parseCmd parses args as the app does for a command, the flags of every command registered
// too, and then the command's constructor parses them into its options, which a run function
// keeps instead of running: the parsing without a server. s is the session the parse sees (nil:
// an empty one in Moscow).
func parseCmd[O any](t *testing.T, newCmd func(*flag.FlagSet, runFunc[O]) runner, s *session, args ...string) (O, error) {
	t.Helper()
	var cfg config
	fs := flag.NewFlagSet("probonus", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.register(fs)
	var got O
	ran := false
	exec := newCmd(fs, func(_ context.Context, _ *session, o O) error { got, ran = o, true; return nil })
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return got, err
	}
	if s == nil {
		s = &session{loc: moscow}
	}
	err = exec(context.Background(), s, pos)
	assert.Equal(t, err == nil, ran, "the options reach the run function when, and only when, they parse")
	return got, err
}
