package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/scrub"
)

// issuesURL is where a report goes.
const issuesURL = "https://github.com/probonus-go/probonus/issues"

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
// host, the addresses it resolved to, the host a redirect named and the host of --openapi URL. They locate an installation and
// the SDK's maintainers do not need them; this machine's are withheld too, so that the verdict's
// "withheld" is true whatever the host (a loopback address also tells a proxy's port plan, and
// localhost may be a tunnel). The issues URL and the port stay.
func (d *doctor) withholdHost(text string) string {
	names := []string{redirectHost(d.docURL)} // --openapi URL's host: the installation's, or its gateway's
	if d.base != nil {
		names = append(names, d.base.Hostname(), redirectHost(d.redirect))
	}
	var hosts, addrs []string
	for _, h := range names {
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
