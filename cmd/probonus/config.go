package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/redact"
	"github.com/probonus-go/probonus/probonustest"
)

// The environment variables the tool reads, the same as the SDK's examples.
const (
	envBaseURL  = "PROBONUS_BASE_URL"
	envAPIKey   = "PROBONUS_API_KEY"
	envLogin    = "PROBONUS_LOGIN"
	envPassword = "PROBONUS_PASSWORD"
)

// config is what every command is configured with: flags first, then the environment.
type config struct {
	baseURL, apiKey, login, password string
	tz                               string
	timeout                          time.Duration
	json, debug, demo, yes           bool
}

// register adds the flags of every command to fs. The flag values write into c without resetting
// it, so the flags given before the command name and those given after it add up.
func (c *config) register(fs *flag.FlagSet) {
	if c.timeout == 0 {
		c.timeout = probonus.DefaultTimeout
	}
	fs.Var(stringFlag{p: &c.baseURL}, "base-url", "the server's address, e.g. http://127.0.0.1:11030 (default $"+envBaseURL+")")
	fs.Var(stringFlag{p: &c.apiKey, secret: true}, "api-key", "an API user's token (default $"+envAPIKey+")")
	fs.Var(stringFlag{p: &c.login}, "login", "log in with this login instead of an API key (default $"+envLogin+")")
	fs.Var(stringFlag{p: &c.password, secret: true}, "password", "the login's password (default $"+envPassword+")")
	fs.Var(stringFlag{p: &c.tz}, "tz", "the server's time zone, e.g. Europe/Moscow: how its times are read and dates sent (default Moscow, UTC+3)")
	fs.Var(durationFlag{p: &c.timeout}, "timeout", "how long one request may take")
	fs.Var(boolFlag{p: &c.json}, "json", "print JSON (the SDK's types) instead of tables")
	fs.Var(boolFlag{p: &c.debug}, "debug", "print the SDK's log lines (method, path, status, duration; never a secret) on stderr")
	fs.Var(boolFlag{p: &c.demo}, "demo", "use an embedded test server with demo data instead of a real one")
	fs.Var(boolFlag{p: &c.yes}, "yes", "do a write without asking")
}

// stringFlag is a string flag that never shows a secret, not even as a default in the help.
type stringFlag struct {
	p      *string
	secret bool
}

func (f stringFlag) String() string {
	if f.p == nil || f.secret {
		return ""
	}
	return *f.p
}

func (f stringFlag) Set(v string) error { *f.p = v; return nil }

type boolFlag struct{ p *bool }

func (f boolFlag) String() string {
	if f.p == nil || !*f.p {
		return "false"
	}
	return "true"
}

func (f boolFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		*f.p = true
	case "false", "0", "no":
		*f.p = false
	default:
		return fmt.Errorf("want true or false, got %q", v)
	}
	return nil
}

func (f boolFlag) IsBoolFlag() bool { return true }

type durationFlag struct{ p *time.Duration }

func (f durationFlag) String() string {
	if f.p == nil {
		return "0s"
	}
	return f.p.String()
}

func (f durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration such as 10s, got %q", v)
	}
	*f.p = d
	return nil
}

// session is a command's configuration made real: the location, the demo server, the client.
type session struct {
	*app
	cfg    config
	loc    *time.Location
	server *probonustest.Server // --demo only
	client *probonus.Client     // made by connect
}

// moscow is the SDK's default location, to read and write dates in it.
var moscow = probonus.Moscow

// open resolves the configuration: flags over the environment, or the demo server.
func (a *app) open(flags config) (*session, error) {
	s := &session{app: a, cfg: flags, loc: moscow}
	if flags.tz != "" {
		loc, err := time.LoadLocation(flags.tz)
		if err != nil {
			return nil, usageErrorf("--tz %q: %v (want a zone such as Europe/Moscow)", flags.tz, err)
		}
		s.loc = loc
	}
	if flags.demo {
		if flags.baseURL != "" || flags.apiKey != "" || flags.login != "" {
			return nil, usageErrorf("--demo uses an embedded server: drop --base-url, --api-key and --login")
		}
		s.server = probonustest.NewServer(nil, probonustest.WithLocation(s.loc), probonustest.WithDemoData())
		s.cfg.baseURL, s.cfg.apiKey = s.server.URL(), s.server.APIKey()
		s.cfg.login, s.cfg.password = s.server.Login() // for doctor, which checks both ways in
		a.secrets.add(s.cfg.apiKey, s.cfg.login, s.cfg.password)
		return s, nil
	}
	for _, v := range []struct {
		p   *string
		env string
	}{{&s.cfg.baseURL, envBaseURL}, {&s.cfg.apiKey, envAPIKey}, {&s.cfg.login, envLogin}, {&s.cfg.password, envPassword}} {
		*v.p = s.lookup(flags, v.env)
	}
	a.secrets.add(s.cfg.apiKey, s.cfg.login, s.cfg.password)
	return s, nil
}

// lookup reads a setting as the SDK's FromEnv would, with the flags laid over the environment. A
// credential flag stands for its whole mode: --api-key hides the environment's login and password,
// --login hides its API key, so a flag never collides with the environment.
func (a *app) lookup(flags config, name string) string {
	flag := map[string]string{envBaseURL: flags.baseURL, envAPIKey: flags.apiKey, envLogin: flags.login, envPassword: flags.password}[name]
	switch {
	case flag != "":
		return flag
	case name == envAPIKey && flags.login != "",
		(name == envLogin || name == envPassword) && flags.apiKey != "":
		return ""
	}
	if name == envPassword {
		return a.getenv(name) // a password may begin or end with a space
	}
	return strings.TrimSpace(a.getenv(name))
}

func (s *session) close() {
	if s.server != nil {
		s.server.Close()
	}
}

// baseURLProblem says what is wrong with a base URL, before any request: "" when nothing is.
// fixed is the URL to use instead, when one can be told. The URL is shown as displayURL shows it.
func baseURLProblem(raw string) (problem, fixed string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "no base URL: set " + envBaseURL + " or pass --base-url, e.g. http://127.0.0.1:11030 (or try --demo)", ""
	}
	shown := displayURL(raw)
	var carried []string
	if redact.HasUserInfo(raw) {
		carried = append(carried, "user info (user:password@) is not allowed: pass the credentials in "+envAPIKey+", or "+envLogin+" and "+envPassword)
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 && raw[i] == '?' {
		carried = append(carried, "a query (?...) is not allowed: pass the API key in "+envAPIKey)
	}
	if strings.Contains(raw, "#") {
		carried = append(carried, "a fragment (#...) is not allowed")
	}
	also := ""
	if len(carried) > 0 {
		also = "; " + strings.Join(carried, "; ")
	}
	scheme, rest, hasScheme := strings.Cut(shown, "://")
	if !hasScheme {
		return fmt.Sprintf("base URL %q has no scheme: use http://%s (or https://%s behind TLS)%s", shown, shown, shown, also), ""
	}
	u, err := url.Parse(shown)
	switch {
	case err != nil:
		return fmt.Sprintf("base URL %q is not a URL (%v), e.g. http://127.0.0.1:11030%s", shown, unwrapURL(err), also), ""
	case scheme != "http" && scheme != "https":
		return fmt.Sprintf("base URL %q is not an http(s) URL: use http://%s (or https://%s behind TLS)%s", shown, rest, rest, also), ""
	case u.Host == "":
		return fmt.Sprintf("base URL %q has no host, e.g. http://127.0.0.1:11030%s", shown, also), ""
	case len(carried) > 0:
		return fmt.Sprintf("base URL %q: %s", shown, strings.Join(carried, "; ")), ""
	}
	path := strings.TrimRight(u.Path, "/")
	for _, suffix := range []string{"/api/v0", "/api"} {
		if strings.HasSuffix(path, suffix) {
			fixedURL := *u
			fixedURL.Path = strings.TrimSuffix(path, suffix)
			fixedURL.RawPath = ""
			return fmt.Sprintf("the base URL ends in %s, which the SDK adds itself: use %s", suffix, fixedURL.String()), fixedURL.String()
		}
	}
	return "", ""
}

// displayURL is a URL as a message shows it: without its user info, query and fragment, which may
// hold a secret (?apikey=...), whether or not it parses.
func displayURL(raw string) string { return redact.URL(raw) }

// clientOptions are the options every client of the tool shares: address, time zone, timeout,
// log, and a transport that makes every credential sent a secret of the scrubber (the SDK's own
// bearer tokens among them); credentials are added by the caller.
func (s *session) clientOptions(baseURL string) []probonus.Option {
	opts := []probonus.Option{
		probonus.WithBaseURL(baseURL),
		probonus.WithHTTPClient(&http.Client{Transport: learner{s: s.secrets, next: http.DefaultTransport}}),
		probonus.WithTimeout(s.cfg.timeout),
		probonus.WithLocation(s.loc),
		probonus.WithUserAgent("probonus-cli"),
	}
	if s.cfg.debug {
		opts = append(opts, probonus.WithLogger(slog.New(scrubHandler{s: s.secrets,
			next: slog.NewTextHandler(s.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})})))
	}
	return opts
}

// connect makes the client of an ordinary command; a missing or wrong setting is a usage error.
func (s *session) connect() (*probonus.Client, error) {
	if s.client != nil {
		return s.client, nil
	}
	if problem, _ := baseURLProblem(s.cfg.baseURL); problem != "" {
		return nil, usageErrorf("%s", problem)
	}
	var creds []probonus.Option
	if s.server != nil {
		creds = []probonus.Option{probonus.WithAPIKey(s.cfg.apiKey)}
	} else {
		// FromEnv picks the mode and names the variable at fault, as in the SDK's examples; the
		// session's settings already hold the flags laid over the environment.
		var err error
		creds, err = probonus.FromEnv(func(name string) string {
			return map[string]string{envBaseURL: s.cfg.baseURL, envAPIKey: s.cfg.apiKey, envLogin: s.cfg.login, envPassword: s.cfg.password}[name]
		})
		if err != nil {
			return nil, usageErrorf("%s (flags: --api-key, or --login and --password)", strings.TrimPrefix(err.Error(), "probonus: FromEnv: "))
		}
	}
	c, err := probonus.New(append(s.clientOptions(s.cfg.baseURL), creds...)...)
	if err != nil {
		return nil, usageErrorf("%s", strings.TrimPrefix(err.Error(), "probonus: "))
	}
	s.client = c
	return c, nil
}
