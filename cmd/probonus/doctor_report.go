package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/openapidiff"
	"github.com/probonus-go/probonus/internal/scrub"
)

// issuesURL is where a report goes.
const issuesURL = "https://github.com/probonus-go/probonus/issues"

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

// report is the file to send us: the doctor's output and every answer it read, with personal and
// secret data replaced by consistent fakes (internal/scrub) and the server's host names and
// addresses withheld.
func (d *doctor) report(text string) []byte {
	salt := d.s.salt
	if salt == nil {
		salt = make([]byte, 16)
		_, _ = rand.Read(salt)
	}
	s := scrub.New(salt)
	if d.phone != "" {
		s.JSON([]byte(`{"phone":"` + d.phone + `"}`)) // learnt even when no answer holds it
	}
	var answers strings.Builder
	for _, e := range d.rec.answers() {
		body := s.JSON(maskUnknown([]byte(d.s.secrets.text(string(e.Body)))))
		fmt.Fprintf(&answers, "\n### %s %s — %d\n\n```json\n%s```\n", e.Method, e.Path, e.Status, strings.TrimRight(string(body), "\n")+"\n")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# probonus doctor report\n\nprobonus-go %s, %s %s/%s, %s\n\n```text\n%s```\n",
		probonus.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().Format(time.DateOnly), d.withholdHost(s.Text(text)))
	if answers.Len() > 0 {
		b.WriteString("\n## The answers the doctor read, scrubbed\n")
		b.WriteString(d.withholdHost(s.Text(answers.String())))
	}
	if len(d.differences) > 0 {
		diffs, _ := json.MarshalIndent(d.differences, "", "  ")
		fmt.Fprintf(&b, "\n## The differences of the installation's OpenAPI document from the SDK's model\n\n```json\n%s\n```\n", d.withholdHost(string(diffs)))
	}
	if doc := d.documentForReport(); doc != "" {
		fmt.Fprintf(&b, "\n## The installation's OpenAPI document, its servers withheld\n\n```json\n%s\n```\n", doc)
	}
	return []byte(d.s.secrets.text(b.String())) // a credential is never a fake: it goes
}

// withholdHost replaces every host name and address of the server the doctor met: the base URL's
// host, the addresses it resolved to and the host a redirect named. They locate an installation and
// the SDK's maintainers do not need them; this machine's are withheld too, so that the verdict's
// "withheld" is true whatever the host (a loopback address also tells a proxy's port plan, and
// localhost may be a tunnel). The issues URL and the port stay.
func (d *doctor) withholdHost(text string) string {
	if d.base == nil {
		return text
	}
	var hosts, addrs []string
	for _, h := range []string{d.base.Hostname(), redirectHost(d.redirect)} {
		if _, err := netip.ParseAddr(h); err == nil {
			addrs = append(addrs, h) // an address in the URL reads <address>, as the address check's
		} else {
			hosts = append(hosts, h)
		}
	}
	for _, f := range d.findings {
		if f.Name != "address" {
			continue
		}
		for _, field := range strings.FieldsFunc(f.Summary, func(r rune) bool { return r == ' ' || r == ',' || r == '(' || r == ')' }) {
			if _, err := netip.ParseAddr(field); err == nil {
				addrs = append(addrs, field)
			}
		}
	}
	issues := "\x00issues\x00"
	text = strings.ReplaceAll(text, issuesURL, issues)
	for _, group := range []struct {
		values []string
		with   string
	}{{hosts, "<host>"}, {addrs, "<address>"}} {
		values := slices.Clone(group.values)
		sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
		for _, v := range values {
			if v != "" {
				text = strings.ReplaceAll(text, v, group.with)
			}
		}
	}
	return strings.ReplaceAll(text, issues, issuesURL)
}

func redirectHost(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// modelFields is every JSON field name of the SDK's response types. The scrubber knows the
// personal ones among them; a field outside the model may hold anything, so the report keeps only
// its shape.
var modelFields = func() map[string]bool {
	names := map[string]bool{}
	seen := map[reflect.Type]bool{}
	unmarshaler := reflect.TypeFor[json.Unmarshaler]()
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] || reflect.PointerTo(t).Implements(unmarshaler) {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.IsExported() && name != "-" && name != "" {
				names[name] = true
				walk(f.Type)
			}
		}
	}
	for _, path := range []string{"/api/v0/account_groups/list", "/api/v0/accounts/find_by_phone",
		"/api/v0/accounts/transactions", "/api/v0/accounts/get_balance_extended", "/api/v0/checks/get_by_id"} {
		walk(reflect.TypeOf(modelOf(path)))
	}
	return names
}()

// maskUnknown replaces the text in fields outside the model with its shape: letters become x or
// X, digits 0, so "Иван" reads "Xxxx" and "15.02.2024" reads "00.00.0000".
func maskUnknown(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return body
	}
	out, err := json.Marshal(maskWalk(v, false))
	if err != nil {
		return body
	}
	return out
}

func maskWalk(v any, unknown bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = maskWalk(val, unknown || !modelFields[k])
		}
	case []any:
		for i := range x {
			x[i] = maskWalk(x[i], unknown)
		}
	case string:
		if unknown {
			return strings.Map(func(r rune) rune {
				switch {
				case unicode.IsUpper(r):
					return 'X'
				case unicode.IsLetter(r):
					return 'x'
				case unicode.IsDigit(r):
					return '0'
				}
				return r
			}, x)
		}
	}
	return v
}
