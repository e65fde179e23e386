// Package redact removes secrets, in every form a server may echo them, from what the SDK and
// the command-line tool show: the one set of rules both import (issue 28). It holds the forms of a
// secret (Forms), the secret set and what is removed where (Set: wherever it stands from MinHeld
// or MinLength bytes, shorter as a whole word), redact-then-cut with the rule for the start of a
// secret a cut leaves (Cut, Sample, Shorten, Text), the parts of a request and a URL that may
// hold a credential, and the URL as an error may show it. The SDK decides which secrets an attempt
// holds; the tool keeps its writer, log handler and learning transport.
package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Forms is every way a server (or a program after it) may write secret: as sent, URL-encoded
// (query and path, upper and lower hex) and HTML-escaped; and each of those escaped up to layers
// times over as a JSON string (Go's encoder with and without HTML escaping, Python's ASCII one)
// or Go-quoted (%q, as an error quotes a body's start and slog quotes a value). One layer is a
// server's JSON; three are a server that echoes the request as JSON inside its JSON answer, quoted
// by an error, quoted by a log. The secret itself comes first.
func Forms(secret string, layers int) []string {
	var forms []string
	seen := map[string]bool{}
	add := func(f string) bool {
		if f == "" || seen[f] {
			return false
		}
		seen[f] = true
		forms = append(forms, f)
		return true
	}
	q, p := url.QueryEscape(secret), url.PathEscape(secret)
	level := []string{}
	for _, f := range append([]string{secret, q, strings.ReplaceAll(q, "+", "%20"), p, lowerHex(q), lowerHex(p)}, htmlForms(secret)...) {
		if add(f) {
			level = append(level, f)
		}
	}
	for range layers {
		var next []string
		for _, f := range level {
			for _, g := range append(jsonForms(f), quoted(f), quotedASCII(f)) {
				if add(g) {
					next = append(next, g)
				}
			}
		}
		level = next
	}
	return forms
}

// htmlForms is s HTML-escaped as Go's html and templates write it (&#34; &#39;), as Python's
// html.escape does (&quot; &#x27;), with named entities (&quot; &apos;), and in element text,
// where only &, < and > need escaping.
func htmlForms(s string) []string {
	goForm := html.EscapeString(s)
	return []string{
		goForm,
		strings.NewReplacer("&#34;", "&quot;", "&#39;", "&#x27;").Replace(goForm),
		strings.NewReplacer("&#34;", "&quot;", "&#39;", "&apos;").Replace(goForm),
		strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s),
	}
}

// jsonForms is a string's body inside JSON quotes, as Go (HTML-escaped or not), Python
// (ensure_ascii), Java's and .NET's encoders (upper-case \u escapes) and PHP's (\/ for /) write it.
func jsonForms(s string) []string {
	var out []string
	if b, err := json.Marshal(s); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	var plain bytes.Buffer
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		b := bytes.TrimSpace(plain.Bytes())
		out = append(out, string(b[1:len(b)-1]))
	}
	short := map[rune]string{'\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}
	var ascii strings.Builder
	for _, r := range s {
		switch {
		case short[r] != "":
			ascii.WriteString(short[r])
		case r == '"' || r == '\\':
			ascii.WriteString(`\` + string(r))
		case r < 0x20 || r >= 0x7f:
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&ascii, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&ascii, `\u%04x`, r)
			}
		default:
			ascii.WriteRune(r)
		}
	}
	out = append(out, ascii.String(), upperEscapes.ReplaceAllStringFunc(ascii.String(), func(m string) string { return m[:2] + strings.ToUpper(m[2:]) }))
	for _, f := range out[:len(out):len(out)] {
		if strings.Contains(f, "/") {
			out = append(out, strings.ReplaceAll(f, "/", `\/`))
		}
	}
	return out
}

var upperEscapes = regexp.MustCompile(`\\u[0-9a-f]{4}`)

func quoted(s string) string      { q := strconv.Quote(s); return q[1 : len(q)-1] }
func quotedASCII(s string) string { q := strconv.QuoteToASCII(s); return q[1 : len(q)-1] }

var percentHex = regexp.MustCompile(`%[0-9A-F]{2}`)

func lowerHex(s string) string { return percentHex.ReplaceAllStringFunc(s, strings.ToLower) }
