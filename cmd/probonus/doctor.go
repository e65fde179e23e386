package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/openapidiff"
	"github.com/probonus-go/probonus/probonustest"
)

// Statuses of a doctor's finding.
const (
	statusOK   = "ok"
	statusWarn = "warn"
	statusFail = "FAIL"
)

// finding is one line of the doctor's output.
type finding struct {
	Name    string   `json:"name"`
	Status  string   `json:"status"` // ok, warn or FAIL
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
}

// doctor checks one installation, step by step, and only reads.
type doctor struct {
	s        *session
	phone    string // normalised; "" without --phone
	base     *url.URL
	findings []finding
	rec      *recorder
	hc       *http.Client     // through rec: every SDK client of the doctor uses it
	reader   *probonus.Client // authenticated, for the reads after the auth checks
	groups   []probonus.AccountGroup
	read     []any // what the guest's reads decoded into, for the money check
	probe    string
	redirect string // where the server redirected the probe, withheld from the report like the host
	docURL   string // --openapi URL, whose host is withheld too
	// the installation's OpenAPI document and its differences from the SDK's model
	transport   http.RoundTripper
	document    []byte
	differences []openapidiff.Difference
}

// doctorOptions is what doctor runs with.
type doctorOptions struct {
	phone        string // the guest to read, normalised; "" for none
	report       string // the file to write the report to; "": none
	openapi      string // a document (a file or a URL) to compare instead of the installation's own
	documentOnly bool   // --openapi without a base URL: that document alone, and nothing is sent
}

// newDoctorCmd registers doctor's flags and returns what parses them and runs it.
func newDoctorCmd(fs *flag.FlagSet, runF runFunc[doctorOptions]) runner {
	var flags doctorOptions
	fs.StringVar(&flags.phone, "phone", "", "a guest's phone: read their account, balance, transactions and a check, and compare every answer with the SDK's model (with --demo: the demo guest)")
	fs.StringVar(&flags.report, "report", "", "write a report to send us to this file, with phones, names, emails, birth dates, tokens and cards replaced by fakes")
	fs.StringVar(&flags.openapi, "openapi", "", "compare this OpenAPI document (a file, or a URL) with the SDK's model instead of the installation's own; without a base URL, only that, and nothing is sent")
	return func(ctx context.Context, s *session, _ []string) error {
		o := flags
		o.documentOnly = o.openapi != "" && s.cfg.baseURL == ""
		switch {
		case o.documentOnly:
			o.phone = "" // no server, so no guest to read
		case o.phone == "" && s.server != nil:
			o.phone = probonustest.DemoPhone
		}
		if o.phone != "" {
			p, err := probonus.NormalizePhone(o.phone)
			if err != nil {
				return usageErrorf("--phone: %s", strings.TrimPrefix(err.Error(), "probonus: "))
			}
			o.phone = p
		}
		return runF(ctx, s, o)
	}
}

// runDoctor checks the installation, or the document alone, and prints what it found.
func runDoctor(ctx context.Context, s *session, o doctorOptions) error {
	d := &doctor{s: s, phone: o.phone}
	if o.documentOnly {
		d.checkOpenAPI(ctx, o.openapi)
		return d.finish(o.report)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	if s.roots != nil {
		base.TLSClientConfig = &tls.Config{RootCAs: s.roots}
	}
	defer base.CloseIdleConnections()
	d.rec = &recorder{next: learner{s: s.secrets, next: base}}
	d.hc = &http.Client{Transport: d.rec}
	d.transport = learner{s: s.secrets, next: base}
	d.run(ctx, base, o.openapi)
	return d.finish(o.report)
}

// add records a finding, without a secret: a finding is printed, in --json and in the report.
func (d *doctor) add(status, name, summary string, details ...string) {
	for i := range details {
		details[i] = d.s.secrets.text(details[i])
	}
	d.findings = append(d.findings, finding{Name: name, Status: status, Summary: d.s.secrets.text(summary), Details: details})
}

// run makes the checks in order; a check that leaves nothing to build on ends the run.
func (d *doctor) run(ctx context.Context, base *http.Transport, openapi string) {
	steps := []func(context.Context) bool{
		d.checkBaseURL,
		d.checkAddress,
		d.checkTLS,
		func(ctx context.Context) bool { return d.checkServer(ctx, base) },
		d.checkAuth,
		d.checkGroups,
		d.checkGuest,
	}
	for _, step := range steps {
		if !step(ctx) {
			break
		}
	}
	if d.base != nil && (openapi != "" || d.reachable()) {
		d.checkOpenAPI(ctx, openapi)
	}
	d.checkContract()
	d.checkMoney()
}

// sdkOptions are the options of the doctor's SDK clients: through the recorder, one attempt (a
// retry would hide what the server does), the configuration's location and log.
func (d *doctor) sdkOptions(auth probonus.Option) []probonus.Option {
	return append(d.s.clientOptions(d.base.String()), probonus.WithHTTPClient(d.hc),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}), auth)
}

// sdkText is an SDK error without its "probonus: " prefixes, nor a secret the server echoed. An
// answer the SDK cannot decode is told by the decoder's error alone: the body's start it also
// carries may hold personal data, and the contract check says what was unreadable.
func (d *doctor) sdkText(err error) string {
	d.s.secrets.scrubErr(err)
	return sdkText(err)
}

func sdkText(err error) string {
	var dec *probonus.DecodeError
	if errors.As(err, &dec) {
		return fmt.Sprintf("%s %s: the SDK cannot read the answer: %s", dec.Method, dec.Path, sdkText(dec.Err))
	}
	return strings.ReplaceAll(err.Error(), "probonus: ", "")
}

// outcome counts the findings by status.
func (d *doctor) outcome() (fails, warns int) {
	for _, f := range d.findings {
		switch f.Status {
		case statusFail:
			fails++
		case statusWarn:
			warns++
		}
	}
	return fails, warns
}

// exchange is one answer the doctor kept, for the contract check and the report.
type exchange struct {
	Method, Path, Query string // Path from /api/v0 on, without the base URL's own path
	Status              int
	Body                []byte
}

// recorder keeps every GET answer, and refuses anything that could change data: the doctor only
// reads. Logins and refreshes pass, and their answers (tokens) are never kept.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  []exchange
}

// maxKept bounds what is kept of one answer.
const maxKept = 32 << 20

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	auth := strings.Contains(req.URL.Path, "/api/v0/auth/")
	if req.Method != http.MethodGet && !auth {
		return nil, fmt.Errorf("doctor only reads: refusing to send %s %s", req.Method, req.URL.Path)
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil || auth {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKept))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	path := req.URL.Path
	if i := strings.Index(path, "/api/v0/"); i >= 0 {
		path = path[i:]
	}
	r.mu.Lock()
	r.got = append(r.got, exchange{Method: req.Method, Path: path, Query: req.URL.RawQuery, Status: resp.StatusCode, Body: body})
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// answers returns the kept answers, each request once (the groups are read by every auth check);
// none without a recorder.
func (r *recorder) answers() []exchange {
	if r == nil {
		return nil // the document alone (--openapi without a base URL): no answer was read
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []exchange
	for _, e := range r.got {
		k := e.Path + "?" + e.Query
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// doctorOutput is what --json prints.
type doctorOutput struct {
	SDKVersion string    `json:"sdkVersion"`
	BaseURL    string    `json:"baseUrl"`
	Checks     []finding `json:"checks"`
	Verdict    string    `json:"verdict"`
	OK         bool      `json:"ok"` // no check failed
	Report     string    `json:"report,omitempty"`
	// Differences are those of the installation's OpenAPI document from the SDK's model.
	Differences []openapidiff.Difference `json:"differences"`
}

// finish prints the findings and the verdict, writes the report, and sets the exit code: 1 when
// a check failed or the installation's document differs from the model with a fail or a warn.
// Other warnings leave it 0.
func (d *doctor) finish(reportPath string) error {
	fails, _ := d.outcome()
	verdict := d.verdict(reportPath)
	text := d.render(verdict)
	if reportPath != "" {
		if err := os.WriteFile(reportPath, d.report(text), 0o600); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	}
	if d.s.cfg.json {
		out := doctorOutput{SDKVersion: probonus.Version, BaseURL: displayURL(d.s.cfg.baseURL), Checks: d.findings,
			Verdict: strings.Join(verdict, " "), OK: fails == 0, Report: reportPath, Differences: d.differences}
		if out.Differences == nil {
			out.Differences = []openapidiff.Difference{}
		}
		if err := printJSON(d.s.stdout, out); err != nil {
			return err
		}
	} else if _, err := io.WriteString(d.s.stdout, text); err != nil {
		return err
	}
	if fails > 0 || d.differs() {
		return &silentFailure{code: exitFailed}
	}
	return nil
}

// verdict is the closing lines: what the checks add up to, and what to send when something differs.
func (d *doctor) verdict(reportPath string) []string {
	fails, warns := d.outcome()
	var v []string
	switch {
	case fails > 0:
		v = append(v, fmt.Sprintf("Verdict: %d problem%s to fix (FAIL above)%s.", fails, plural(fails), andWarnings(warns)))
	case warns > 0:
		v = append(v, fmt.Sprintf("Verdict: works, with %d warning%s above.", warns, plural(warns)))
	case d.read != nil:
		v = append(v, "Verdict: ready. The SDK reads everything this installation sent.")
	default:
		v = append(v, "Verdict: ready as far as checked. Add --phone with a guest's number to compare their data with the SDK's model.")
	}
	differs := false
	for _, f := range d.findings {
		differs = differs || (f.Name == "contract" || f.Name == "money" || f.Name == "openapi") && f.Status != statusOK
	}
	switch {
	case reportPath != "":
		v = append(v, "Report written to "+reportPath+": phones, names, emails, birth dates, tokens and cards are fakes in it, the server's host names and addresses withheld. Attach it to an issue at "+issuesURL+".")
	case differs:
		phone := d.phone
		if phone == "" {
			phone = "PHONE"
		}
		run := "--phone " + phone
		if d.base == nil {
			run = "--openapi FILE"
		}
		v = append(v, "The server differs from the SDK's model: run probonus doctor "+run+" --report doctor-report.md and attach the file to an issue at "+issuesURL+" (it holds no phone, name, email or token).")
	}
	return v
}

func andWarnings(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" and %d warning%s", n, plural(n))
}

// render lays the findings out: status, name, summary, and details under the summary.
func (d *doctor) render(verdict []string) string {
	var b strings.Builder
	target := displayURL(d.s.cfg.baseURL)
	if d.base == nil && d.s.cfg.baseURL == "" {
		target = "no server: the OpenAPI document alone, nothing sent"
	}
	fmt.Fprintf(&b, "probonus doctor %s: %s\n\n", probonus.Version, target)
	width := 0
	for _, f := range d.findings {
		width = max(width, utf8.RuneCountInString(f.Name))
	}
	indent := strings.Repeat(" ", 4+2+width+2)
	for _, f := range d.findings {
		fmt.Fprintf(&b, "%-4s  %s%s  %s\n", f.Status, f.Name, strings.Repeat(" ", width-utf8.RuneCountInString(f.Name)), f.Summary)
		for _, det := range f.Details {
			fmt.Fprintf(&b, "%s%s\n", indent, det)
		}
	}
	b.WriteString("\n")
	for _, line := range verdict {
		b.WriteString(line + "\n")
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
