package probonusriver

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The PostgreSQL tests run against a throwaway cluster started here, from Debian's postgresql
// package. Without one they fail when CI or PROBONUS_REQUIRE_POSTGRES is set (.ci/run sets it),
// and otherwise skip with the reason.
var (
	pg        *pgCluster
	pgMissing string
)

// childEnv runs the test binary as a worker process (workerMain) instead of the tests.
const childEnv = "PROBONUSRIVER_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(workerMain())
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	pg, err = startPostgres()
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("PROBONUS_REQUIRE_POSTGRES") != "" {
			fmt.Fprintln(os.Stderr, "probonusriver: PostgreSQL could not start, and CI or PROBONUS_REQUIRE_POSTGRES is set (Debian: apt-get install postgresql):", err)
			return 1
		}
		pgMissing = "PostgreSQL could not start (Debian: apt-get install postgresql); PROBONUS_REQUIRE_POSTGRES=1 makes this a failure: " + err.Error()
	}
	code := m.Run()
	if serveBin != "" {
		os.RemoveAll(filepath.Dir(serveBin))
	}
	if pg != nil {
		pg.stop()
		os.RemoveAll(pg.dir)
	}
	if code == 0 {
		// River's and the modernc driver's background goroutines end with their clients.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	return code
}

// pgCluster is a throwaway PostgreSQL cluster in a temporary folder, listening only on a unix
// socket in that folder (its port names the socket). initdb refuses to run as root, so as root
// it runs as the postgres user (or nobody).
type pgCluster struct {
	bin, dir, data string
	port           int
	cred           *syscall.Credential
	dbs            atomic.Int64
}

func pgBinDir() (string, error) {
	if d := os.Getenv("PROBONUS_PG_BIN"); d != "" {
		return d, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", fmt.Errorf("no initdb in /usr/lib/postgresql/*/bin or PATH")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

func startPostgres() (*pgCluster, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	base := ""
	if os.Geteuid() == 0 {
		base = "/tmp" // the postgres user reaches it, whatever TMPDIR is
	}
	dir, err := os.MkdirTemp(base, "probonusriver-pg-")
	if err != nil {
		return nil, err
	}
	c := &pgCluster{bin: bin, dir: dir, data: filepath.Join(dir, "data")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			return nil, fmt.Errorf("running as root with neither a postgres nor a nobody user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := c.run("initdb", "-D", c.data, "-U", "probonus", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	var last error
	for range 3 { // a picked port can be taken before the server binds it (its socket name here)
		c.port = freePort()
		if last = c.start(); last == nil {
			return c, nil
		}
	}
	return nil, last
}

func (c *pgCluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

func (c *pgCluster) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses= -c fsync=off -c max_connections=200", c.port, c.dir)
	if out, err := c.run("pg_ctl", "-D", c.data, "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "30", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %w: %s %s", err, out, log)
	}
	return nil
}

// stop is a fast shutdown: clients are disconnected, committed data stays.
func (c *pgCluster) stop() {
	_, _ = c.run("pg_ctl", "-D", c.data, "-m", "fast", "-w", "stop")
}

func (c *pgCluster) dsn(db string) string {
	return fmt.Sprintf("host=%s port=%d user=probonus dbname=%s sslmode=disable", c.dir, c.port, db)
}

// newDB makes an empty database of the test's own.
func (c *pgCluster) newDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", c.dbs.Add(1))
	conn, err := pgx.Connect(context.Background(), c.dsn("postgres"))
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), "CREATE DATABASE "+name)
	require.NoError(t, err)
	return c.dsn(name)
}

func needPostgres(tb testing.TB) {
	tb.Helper()
	if pgMissing != "" {
		tb.Skip(pgMissing)
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Test timings: an attempt times out after 1s, and an uncertain send is given 1.5s to show in the
// history: a loaded machine (the race detector, the fake in this process, worker processes and
// the databases on two cores) can hold a request that long, and a settle time shorter than the
// delays the network (here, the machine) can hold a request is RefillOnce's documented double.
// A job's timeout is then about 22s, and River's rescue comes after 24s. River retries every 100ms.
const (
	testSettle  = 1500 * time.Millisecond
	testRescue  = 24 * time.Second
	testAttempt = time.Second
)

type fixedRetry time.Duration

func (f fixedRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Duration(f)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testConfig(baseURL string) Config {
	return Config{
		ClientOptions:  []probonus.Option{probonus.WithBaseURL(baseURL), probonus.WithAPIKey(probonustest.DefaultAPIKey)},
		AttemptTimeout: testAttempt,
		Settle:         testSettle,
		Retry:          probonus.RetryPolicy{MaxAttempts: 2, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxRetryAfter: 100 * time.Millisecond},
		MaxAttempts:    1000,
		Logger:         quiet,
		River: &river.Config{
			Logger:               quiet,
			RetryPolicy:          fixedRetry(100 * time.Millisecond),
			FetchCooldown:        10 * time.Millisecond,
			FetchPollInterval:    50 * time.Millisecond,
			RescueStuckJobsAfter: testRescue,
		},
	}
}

// workerMain is a worker process: Credits on the database the parent names, delivering to the
// server it names, until its standard input closes (a graceful stop) or it is killed.
func workerMain() int {
	ctx := context.Background()
	cfg := testConfig(os.Getenv("PROBONUSRIVER_BASE"))
	if s := os.Getenv("PROBONUSRIVER_SETTLE"); s != "" {
		cfg.Settle, _ = time.ParseDuration(s)
		cfg.River.RescueStuckJobsAfter = JobTimeout(cfg.AttemptTimeout, cfg.Settle, cfg.Retry) + cfg.Settle + time.Second
	}
	q, closeDB, err := openQueue(ctx, os.Getenv("PROBONUSRIVER_DB"), os.Getenv("PROBONUSRIVER_DSN"), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	defer closeDB()
	if err := q.start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	fmt.Println("ready")
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop <- syscall.SIGTERM }()
	<-stop
	// A graceful stop that gives the jobs running no time: they are cancelled (and snooze).
	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := q.stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "worker stop:", err)
		return 1
	}
	return 0
}

// worker is a worker process of the test's.
type worker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bytes.Buffer
}

func startWorker(t *testing.T, db, dsn, baseURL string, env ...string) *worker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"=1", "PROBONUSRIVER_DB="+db, "PROBONUSRIVER_DSN="+dsn,
		"PROBONUSRIVER_BASE="+baseURL), env...)
	w := &worker{cmd: cmd, out: &bytes.Buffer{}}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	w.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	cmd.Stderr = w.out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "worker output: %s", w.out)
	require.Equal(t, "ready\n", line, "worker output: %s", w.out)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return w
}

// stopGracefully closes the worker's standard input and waits for it to exit.
func (w *worker) stopGracefully(t *testing.T) {
	t.Helper()
	require.NoError(t, w.stdin.Close())
	require.NoError(t, w.cmd.Wait(), "worker output: %s", w.out)
}

// queue is Credits of either database, as the tests drive it: enqueue in a transaction of the
// app's (which also writes an order row), then commit or roll back.
type queue interface {
	enqueue(ctx context.Context, r probonus.Refill, rollback bool) (*Enqueued, error)
	orders(ctx context.Context) int
	jobs(ctx context.Context) []*rivertype.JobRow
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stuckList(ctx context.Context) ([]StuckCredit, error)
	retry(ctx context.Context, id int64) error
}

type typedQueue[TTx any] struct {
	c        *Credits[TTx]
	begin    func(ctx context.Context) (TTx, error)
	exec     func(ctx context.Context, tx TTx, sql string) error
	commit   func(ctx context.Context, tx TTx) error
	rollback func(ctx context.Context, tx TTx) error
	count    func(ctx context.Context) int
}

func (q *typedQueue[TTx]) enqueue(ctx context.Context, r probonus.Refill, rollback bool) (*Enqueued, error) {
	tx, err := q.begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := q.exec(ctx, tx, "INSERT INTO orders (reason) VALUES ('"+strings.ReplaceAll(ptrOr(r.Reason), "'", "''")+"')"); err != nil {
		_ = q.rollback(ctx, tx)
		return nil, err
	}
	e, err := q.c.EnqueueTx(ctx, tx, r)
	if err != nil && e == nil {
		_ = q.rollback(ctx, tx)
		return nil, err
	}
	if rollback {
		return e, q.rollback(ctx, tx)
	}
	if cerr := q.commit(ctx, tx); cerr != nil {
		return nil, cerr
	}
	return e, err
}

func ptrOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (q *typedQueue[TTx]) orders(ctx context.Context) int { return q.count(ctx) }

func (q *typedQueue[TTx]) jobs(ctx context.Context) []*rivertype.JobRow {
	res, err := q.c.River().JobList(ctx, river.NewJobListParams().Kinds(Kind).First(10000))
	if err != nil {
		panic(err)
	}
	return res.Jobs
}

func (q *typedQueue[TTx]) start(ctx context.Context) error { return q.c.Start(ctx) }
func (q *typedQueue[TTx]) stop(ctx context.Context) error  { return q.c.Stop(ctx) }
func (q *typedQueue[TTx]) stuckList(ctx context.Context) ([]StuckCredit, error) {
	return q.c.Stuck(ctx)
}
func (q *typedQueue[TTx]) retry(ctx context.Context, id int64) error { return q.c.Retry(ctx, id) }

// openQueue opens Credits on db ("sqlite": dsn is the file's path; "postgres": a connection
// string), migrated, with the app's orders table, not started.
func openQueue(ctx context.Context, db, dsn string, cfg Config) (queue, func(), error) {
	switch db {
	case "sqlite":
		sdb, err := sql.Open("sqlite", sqliteDSN(dsn))
		if err != nil {
			return nil, nil, err
		}
		sdb.SetMaxOpenConns(1)
		if _, err := sdb.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, reason TEXT)"); err != nil {
			return nil, nil, err
		}
		c, err := NewSQLite(sdb, cfg)
		if err != nil {
			return nil, nil, err
		}
		if err := c.Migrate(ctx); err != nil {
			return nil, nil, err
		}
		return &typedQueue[*sql.Tx]{
			c:        c,
			begin:    func(ctx context.Context) (*sql.Tx, error) { return sdb.BeginTx(ctx, nil) },
			exec:     func(ctx context.Context, tx *sql.Tx, q string) error { _, err := tx.ExecContext(ctx, q); return err },
			commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
			rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
			count: func(ctx context.Context) int {
				var n int
				_ = sdb.QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&n)
				return n
			},
		}, func() { _ = sdb.Close() }, nil
	case "postgres":
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, nil, err
		}
		if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, reason text)"); err != nil {
			pool.Close()
			return nil, nil, err
		}
		c, err := NewPostgres(pool, cfg)
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		if err := c.Migrate(ctx); err != nil {
			pool.Close()
			return nil, nil, err
		}
		return &typedQueue[pgx.Tx]{
			c:        c,
			begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
			exec:     func(ctx context.Context, tx pgx.Tx, q string) error { _, err := tx.Exec(ctx, q); return err },
			commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
			rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
			count: func(ctx context.Context) int {
				var n int
				_ = pool.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n)
				return n
			},
		}, pool.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown database %q", db)
}

// databases are the two the tests run on.
var databases = []string{"sqlite", "postgres"}

// newDatabase makes an empty database of the test's own and returns its dsn for openQueue.
func newDatabase(t *testing.T, db string) string {
	t.Helper()
	if db == "sqlite" {
		return filepath.Join(t.TempDir(), "credits.db")
	}
	needPostgres(t)
	return pg.newDB(t)
}

// newQueue is openQueue on a new database, closed when the test ends (after stopping it).
func newQueue(t *testing.T, db string, cfg Config) (queue, string) {
	t.Helper()
	dsn := newDatabase(t, db)
	q, closeDB, err := openQueue(context.Background(), db, dsn, cfg)
	require.NoError(t, err)
	t.Cleanup(closeDB)
	return q, dsn
}

// startQueue starts q and stops it when the test ends.
func startQueue(t *testing.T, q queue) {
	t.Helper()
	require.NoError(t, q.start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.stop(ctx)
	})
}

// eventually polls cond every 20ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf(msg, args...)
		}
	}
}

type sqlTx = sql.Tx
