package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/probonus-go/probonus/internal/statuswriter"
	"github.com/probonus-go/probonus/probonustest"
)

// defaultServeAddr is where a local ProBonus installation listens, so that code configured for
// one reaches the fake unchanged.
const defaultServeAddr = "127.0.0.1:11030"

// The request log's bounds (issue 26 item 7): a fake that runs for days keeps the latest requests
// only, and a stranger's (refused) requests as their method, path and query alone.
const (
	defaultRequestLog = 10_000
	requestLogBytes   = 32 << 20
)

// How long serve waits on a slow client (issue 26 item 8): long enough for any real client on a
// slow network, short enough that one sending a byte at a time cannot hold connections.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = time.Minute
	defaultIdleTimeout       = 2 * time.Minute
)

// serveOptions is what probonus serve is configured with.
type serveOptions struct {
	addr                    string
	flavor                  string // "modern" or "legacy"
	demo, admin             bool
	seedFile                string
	apiKey, login, password string // "": probonustest's own
	tokenLifetime           time.Duration
	grace                   time.Duration // how long requests in flight may take to finish on a stop
	requestLog              int           // how many of the latest requests the admin keeps
	adminHosts              []string      // --admin-host: names the admin routes answer besides addresses and localhost
	cors                    []string      // --cors: origins whose pages may call the API from a browser
	loc                     *time.Location

	// how long a client may take to send its headers, its whole request, and between requests
	// on a kept-alive connection (zero: the defaults); tests shorten them
	readHeaderTimeout, readTimeout, idleTimeout time.Duration

	listening func(baseURL string) // tests: called once the fake accepts connections
}

// newServeCmd registers serve's flags and returns what completes its options from the session
// and runs it.
func newServeCmd(fs *flag.FlagSet, runF runFunc[serveOptions]) runner {
	o := registerServe(fs)
	return func(ctx context.Context, s *session, _ []string) error {
		o.loc = s.loc
		if s.server != nil { // --demo before the command name
			o.demo = true
		}
		return runF(ctx, s, *o)
	}
}

// registerServe registers serve's flags into its options. --demo, --api-key, --login and
// --password are flags of every command (they name the server to talk to); after "serve" they
// name what the fake serves and accepts instead, so they write into serve's options and never
// reach the session.
func registerServe(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{addr: defaultServeAddr, flavor: "modern", grace: 5 * time.Second, requestLog: defaultRequestLog}
	fs.StringVar(&o.addr, "addr", o.addr, "the address to listen on; :0 or 127.0.0.1:0 picks a free port (printed), :11030 every interface")
	fs.StringVar(&o.flavor, "flavor", o.flavor, "the FastAPI generation to imitate: modern (≥ 0.122, Pydantic v2) or legacy (≤ 0.121, Pydantic v1)")
	fs.StringVar(&o.seedFile, "seed", "", "load groups, guests, transactions and checks from this JSON file (go doc probonustest.Seed)")
	fs.Var(boolFlag{p: &o.admin}, "admin", "serve the admin routes under /_probonus/: reset, faults, requests, accounts")
	fs.Var(durationFlag{p: &o.tokenLifetime}, "token-lifetime", "how long bearer tokens live (default 1h)")
	fs.Var(durationFlag{p: &o.grace}, "grace", "on SIGINT or SIGTERM, how long requests in flight may take to finish")
	fs.Var(listFlag{p: &o.cors}, "cors", "let web pages of this origin (http://localhost:3000, or * for any) call the API from a browser: preflights answered, X-API-Key, Authorization and Content-Type allowed; repeatable")
	fs.Var(listFlag{p: &o.adminHosts}, "admin-host", "a host name the admin routes answer to, besides IP addresses, localhost and one-label names such as a compose service's (e.g. probonus.qa.svc.cluster.local); repeatable")
	fs.Var(countFlag{p: &o.requestLog}, "request-log", "how many of the latest requests GET /_probonus/requests keeps (within 32 MiB; the older are dropped and counted; GET /_probonus/ counts every request to each route)")
	own := func(name string, v flag.Value, usage string) {
		if f := fs.Lookup(name); f != nil {
			f.Value, f.Usage, f.DefValue = v, usage, v.String()
			return
		}
		fs.Var(v, name, usage)
	}
	own("demo", boolFlag{p: &o.demo}, "seed the demo data: a returning guest, "+probonustest.DemoPhone)
	own("api-key", stringFlag{p: &o.apiKey}, "the X-API-Key the fake accepts (default "+probonustest.DefaultAPIKey+")")
	own("login", stringFlag{p: &o.login}, "the login the fake accepts (default "+probonustest.DefaultLogin+")")
	own("password", stringFlag{p: &o.password}, "the password the fake accepts (default "+probonustest.DefaultPassword+")")
	return o
}

// check refuses options that cannot work, before anything listens.
func (o *serveOptions) check() (probonustest.Flavor, error) {
	var flavor probonustest.Flavor
	switch strings.ToLower(o.flavor) {
	case "modern":
		flavor = probonustest.Modern
	case "legacy":
		flavor = probonustest.Legacy
	default:
		return 0, usageErrorf("--flavor %q: want modern or legacy", o.flavor)
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return 0, usageErrorf("--addr %q: want HOST:PORT, e.g. %s or 127.0.0.1:0", o.addr, defaultServeAddr)
	}
	cors := make([]string, len(o.cors))
	for i, origin := range o.cors {
		var ok bool
		if cors[i], ok = browserOrigin(origin); !ok {
			return 0, usageErrorf("--cors %q: want an origin, a scheme and a host with no path, e.g. http://localhost:3000 (or * for any)", origin)
		}
	}
	o.cors = cors
	for _, h := range o.adminHosts {
		if h == "" || strings.ContainsAny(h, "/:@ \t") {
			return 0, usageErrorf("--admin-host %q: want a host name, e.g. probonus.qa.svc.cluster.local", h)
		}
	}
	if (o.login == "") != (o.password == "") {
		return 0, usageErrorf("--login and --password go together")
	}
	for _, c := range []struct{ flag, v string }{{"--api-key", o.apiKey}, {"--login", o.login}, {"--password", o.password}} {
		if strings.IndexFunc(c.v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return 0, usageErrorf("%s holds a space or a control character: no client could send it", c.flag)
		}
	}
	return flavor, nil
}

// browserOrigin reads v as "*" or an origin: http or https, a host, perhaps a port, and no path,
// query or user (a trailing slash is forgiven). It returns the origin as a browser sends it, which
// the fake compares byte for byte: scheme and host in lower case (HTTP://LocalHost:3000 is
// http://localhost:3000), the scheme's own port left out.
func browserOrigin(v string) (string, bool) {
	if v == "*" {
		return v, true
	}
	u, err := url.Parse(strings.TrimSuffix(v, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Hostname() == "" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // an IPv6 address
		}
	}
	return u.Scheme + "://" + host, true
}

// addrHost is --addr's host ("" for every interface).
func addrHost(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

// listFlag is a flag given once per value.
type listFlag struct{ p *[]string }

func (f listFlag) String() string {
	if f.p == nil {
		return ""
	}
	return strings.Join(*f.p, ",")
}

func (f listFlag) Set(v string) error {
	*f.p = append(*f.p, strings.TrimSpace(v))
	return nil
}

// countFlag is a flag of a count of one or more.
type countFlag struct{ p *int }

func (f countFlag) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.Itoa(*f.p)
}

func (f countFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("want a whole number, 1 or more, got %q", v)
	}
	*f.p = n
	return nil
}

// readSeed reads --seed, naming the file's line at fault.
func readSeed(file string) (*probonustest.Seed, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, usageErrorf("--seed: %v", err)
	}
	seed, err := probonustest.ParseSeed(data)
	if err != nil {
		return nil, seedProblem(file, err)
	}
	return seed, nil
}

// seedProblem is a seed error as compilers write one: FILE:LINE: what.
func seedProblem(file string, err error) error {
	var serr *probonustest.SeedError
	if !errors.As(err, &serr) {
		return usageErrorf("--seed %s: %v", file, err)
	}
	where := file
	if serr.Line > 0 {
		where = fmt.Sprintf("%s:%d", file, serr.Line)
	}
	what := serr.Err.Error()
	if serr.Entry != "" {
		what = serr.Entry + ": " + what
	}
	return usageErrorf("--seed %s: %s", where, what)
}

// runServe runs the fake until ctx ends or a SIGINT or SIGTERM arrives: the banner on the
// session's stdout, the log on its stderr.
func runServe(ctx context.Context, s *session, o serveOptions) error {
	stdout, stderr := s.stdout, s.stderr
	flavor, err := o.check()
	if err != nil {
		return err
	}
	var seed *probonustest.Seed
	if o.seedFile != "" {
		if seed, err = readSeed(o.seedFile); err != nil {
			return err
		}
	}
	if o.loc == nil {
		o.loc = moscow
	}
	if o.requestLog <= 0 {
		o.requestLog = defaultRequestLog
	}
	timeouts := probonustest.Timeouts{ReadHeader: defaultReadHeaderTimeout, Read: defaultReadTimeout, Idle: defaultIdleTimeout}
	for _, t := range []struct{ set, to *time.Duration }{
		{&o.readHeaderTimeout, &timeouts.ReadHeader}, {&o.readTimeout, &timeouts.Read}, {&o.idleTimeout, &timeouts.Idle},
	} {
		if *t.set > 0 {
			*t.to = *t.set
		}
	}
	apiKey, login, password := o.apiKey, o.login, o.password
	if apiKey == "" {
		apiKey = probonustest.DefaultAPIKey
	}
	if login == "" {
		login, password = probonustest.DefaultLogin, probonustest.DefaultPassword
	}

	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return withHint(err, "is another server on that port? --addr 127.0.0.1:0 picks a free one")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := []probonustest.Option{
		probonustest.WithListener(l), probonustest.WithFlavor(flavor), probonustest.WithLocation(o.loc),
		probonustest.WithCredentials(apiKey, login, password), probonustest.WithMiddleware(logRequests(log)),
		probonustest.WithRequestLog(probonustest.RequestLog{Max: o.requestLog, MaxBytes: requestLogBytes, AuthenticatedOnly: true}),
		probonustest.WithTimeouts(timeouts),
		probonustest.WithCORS(o.cors...),
		// the admin answers the name --addr gives too (an address or localhost it answers anyway)
		probonustest.WithAdminHosts(append([]string{addrHost(o.addr)}, o.adminHosts...)...),
	}
	if o.tokenLifetime > 0 {
		opts = append(opts, probonustest.WithTokenLifetime(o.tokenLifetime))
	}
	if o.demo {
		opts = append(opts, probonustest.WithDemoData())
	}
	if o.admin {
		opts = append(opts, probonustest.WithAdmin())
	}
	// signals are caught before anything is printed, so a stop right after the banner is clean
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)

	srv := probonustest.NewServer(nil, opts...)
	if seed != nil {
		if err := srv.Load(seed); err != nil {
			srv.Close()
			return seedProblem(o.seedFile, err)
		}
	}
	baseURL, everywhere := reachableURL(l.Addr())
	printBanner(stdout, o, flavor, baseURL, everywhere, apiKey, login, password)
	if o.listening != nil {
		o.listening(baseURL)
	}

	var why string
	select {
	case <-ctx.Done():
		why = "interrupted"
	case s := <-sig:
		why = s.String()
	}
	log.Info("stopping: no new connections, the requests in flight finish", "signal", why, "grace", o.grace)
	stop, cancel := context.WithTimeout(context.Background(), o.grace)
	defer cancel()
	if err := srv.Shutdown(stop); err != nil {
		log.Warn("stopped: the answers still in flight after the grace period were cut", "grace", o.grace)
		return nil
	}
	log.Info("stopped")
	return nil
}

// reachableURL is the base URL a client on this machine uses: an address on every interface
// (0.0.0.0, ::) is reached at 127.0.0.1.
func reachableURL(addr net.Addr) (url string, everywhere bool) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String(), false
	}
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("http://127.0.0.1:%d", tcp.Port), true
	}
	return "http://" + tcp.String(), false
}

// printBanner says where the fake is and how to get in. The credentials are the user's own test
// ones (or probonustest's defaults): nothing else the tool prints shows a credential.
func printBanner(w io.Writer, o serveOptions, flavor probonustest.Flavor, baseURL string, everywhere bool, apiKey, login, password string) {
	data := "no guests"
	switch {
	case o.demo && o.seedFile != "":
		data = "demo data and " + o.seedFile
	case o.demo:
		data = "demo data (a returning guest, " + probonustest.DemoPhone + ")"
	case o.seedFile != "":
		data = o.seedFile
	}
	generation := "FastAPI ≥ 0.122, Pydantic v2: 401 refusals, money as strings"
	if flavor == probonustest.Legacy {
		generation = "FastAPI ≤ 0.121, Pydantic v1: 403 refusals, money as numbers"
	}
	fmt.Fprintf(w, "probonus serve: a fake ProBonus (%s flavour, %s) with %s\n\n", flavor, generation, data)
	fmt.Fprintf(w, "base URL  %s", baseURL)
	if everywhere {
		fmt.Fprintf(w, "  (listening on every interface, port %s)", baseURL[strings.LastIndex(baseURL, ":")+1:])
	}
	fmt.Fprintf(w, "\nAPI key   %s  (header X-API-Key)\n", apiKey)
	fmt.Fprintf(w, "login     %s\npassword  %s  (POST /api/v0/auth/login, then Authorization: Bearer TOKEN)\n", login, password)
	if o.admin {
		fmt.Fprintf(w, "admin     %s/_probonus/  (reset, faults, requests, accounts; no credentials)\n", baseURL)
	}
	if len(o.cors) > 0 {
		fmt.Fprintf(w, "CORS      %s  (a page there may call the API from a browser; an API key in a page is anyone's, so only for development)\n", strings.Join(o.cors, ", "))
	}
	fmt.Fprintf(w, "\ntry       curl -H 'X-API-Key: %s' %s/api/v0/account_groups/list\n", apiKey, baseURL)
	fmt.Fprintln(w, "\nEach request is logged on stderr (method, path, status, duration). Ctrl-C or SIGTERM stops it.")
}

// longNumber is a run of digits a path might hold where it should not (a phone in a wrong URL):
// the log masks it.
var longNumber = regexp.MustCompile(`[0-9]{5,}`)

// logRequests logs each request in one line: method, path, status, duration. Never a header, a
// body or a query: they hold credentials and phones.
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			lw := &statuswriter.Writer{ResponseWriter: w}
			defer func() { // also when a fault aborts the handler
				attrs := []any{"method", r.Method, "path", longNumber.ReplaceAllString(r.URL.EscapedPath(), "***"),
					"status", lw.Status, "duration", time.Since(start).Round(time.Microsecond)}
				if lw.Hijacked {
					attrs = append(attrs, "dropped", true)
				}
				log.Info("request", attrs...)
			}()
			next.ServeHTTP(lw, r)
		})
	}
}
