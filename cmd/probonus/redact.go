package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/redact"
)

// mask stands where a secret was.
const mask = "[redacted]"

const (
	// minSecret is the shortest secret removed wherever it stands; a shorter one ("k", a test's
	// key) is removed only as a whole word, as it cannot be told from ordinary text.
	minSecret = 6
	// minFragment is the shortest start of a secret that counts when a text ends in it: a cut
	// inside an echoed secret leaves its first characters.
	minFragment = 4
)

// secrets is every credential one invocation holds (API key, login, password, the tokens it sees,
// what a base URL carries) and the one scrubber every output goes through: stdout, stderr (the
// --debug log included), --json and --report. It is safe for concurrent use: the transport learns
// tokens while a command prints.
type secrets struct {
	mu    sync.Mutex
	seen  map[string]bool
	forms []string // every form of every secret, longest first
	short []string // the forms of secrets shorter than minSecret
}

func newSecrets() *secrets { return &secrets{seen: map[string]bool{}} }

// add learns secrets, in every form a server may echo them.
func (s *secrets) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		for _, v := range []string{v, strings.TrimSpace(v)} {
			if v == "" || s.seen[v] {
				continue
			}
			s.seen[v] = true
			for _, f := range redact.Forms(v, 3) {
				if utf8.RuneCountInString(v) < minSecret {
					s.short = append(s.short, f)
				} else {
					s.forms = append(s.forms, f)
				}
			}
		}
	}
	longestFirst := func(fs []string) {
		sort.SliceStable(fs, func(i, j int) bool { return len(fs[i]) > len(fs[j]) })
	}
	longestFirst(s.forms)
	longestFirst(s.short)
}

// addURL learns what a base URL carries that is a secret: its user info and its query's values
// (?apikey=...). The URL may not parse, or have no scheme.
func (s *secrets) addURL(raw string) {
	raw = strings.TrimSpace(raw)
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		q := raw[i+1:]
		for _, part := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' || r == '#' }) {
			_, v, _ := strings.Cut(part, "=")
			s.add(v)
			if u, err := url.QueryUnescape(v); err == nil {
				s.add(u)
			}
		}
		raw = raw[:i]
	}
	if m := userInfoRE.FindStringSubmatch(raw); m != nil {
		user, password, _ := strings.Cut(m[2], ":")
		for _, v := range []string{user, password} {
			s.add(v)
			if u, err := url.PathUnescape(v); err == nil {
				s.add(u)
			}
		}
	}
}

// userInfoRE finds the user info of a URL, with or without a scheme: $1 is the scheme and its
// "://", $2 the user info.
var userInfoRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://)?([^/?#]*)@`)

// redact removes every whole secret, in each of its forms, from text.
func (s *secrets) redact(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.forms {
		text = strings.ReplaceAll(text, f, mask)
	}
	for _, f := range s.short {
		text = replaceWord(text, f)
	}
	return text
}

// trailing returns how many bytes at the end of text are the start of a secret (at least
// minFragment of it, never all of it): 0 when none are.
func (s *secrets) trailing(text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := 0
	for _, f := range s.forms {
		for k := min(len(f)-1, len(text)); k >= minFragment && k > best; k-- {
			if strings.HasSuffix(text, f[:k]) {
				best = k
				break
			}
		}
	}
	return best
}

// text scrubs a value that may have been cut at its end (an error's detail, a body's sample):
// secrets are removed first, then a trailing fragment of one.
func (s *secrets) text(v string) string {
	v = s.redact(v)
	if n := s.trailing(v); n > 0 {
		v = v[:len(v)-n] + mask
	}
	return v
}

// cut shortens a scrubbed value to at most n bytes, on a rune boundary, and drops a fragment of a
// secret the cut leaves at its end.
func (s *secrets) cut(v string, n int) string {
	v = s.text(v)
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	if i := strings.LastIndex(v[:n], "["); i >= 0 && strings.HasPrefix(v[i:], mask) && i+len(mask) > n {
		n = i + len(mask) // a mask stays whole
	}
	return s.text(v[:n]) + "…"
}

// scrubErr removes the secrets from the server's words an SDK error carries (a detail, a body, a
// sample, validation items), each a value that may have been cut, before anything formats it.
// It changes the errors in place and returns err.
func (s *secrets) scrubErr(err error) error {
	s.walk(err, 0)
	return err
}

func (s *secrets) walk(err error, depth int) {
	if err == nil || depth > 32 {
		return
	}
	switch e := err.(type) {
	case *probonus.APIError:
		e.Detail = s.text(e.Detail)
		e.Body = s.text(e.Body)
		e.RequestID = s.text(e.RequestID)
		for i := range e.Validation {
			v := &e.Validation[i]
			v.Msg = s.text(v.Msg)
			if v.Input != nil {
				if b, jerr := json.Marshal(v.Input); jerr != nil || s.text(string(b)) != string(b) || s.text(fmt.Sprint(v.Input)) != fmt.Sprint(v.Input) {
					v.Input = mask
				}
			}
			for k, c := range v.Ctx {
				if str, ok := c.(string); ok {
					v.Ctx[k] = s.text(str)
				}
			}
		}
	case *probonus.DecodeError:
		e.Sample = s.text(e.Sample)
	case *probonus.AuthError:
		s.walk(e.Err, depth+1) // its Unwrap hides a refusal's *APIError
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		s.walk(u.Unwrap(), depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			s.walk(e, depth+1)
		}
	}
}

// writer wraps an output so that no secret reaches it, whatever the bytes are: a secret split
// between two writes is held back until the next write shows whether it is one.
func (s *secrets) writer(w io.Writer) *redactingWriter { return &redactingWriter{s: s, w: w} }

type redactingWriter struct {
	s    *secrets
	mu   sync.Mutex
	w    io.Writer
	held string // the end of the last write: the start of a secret, perhaps
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := r.s.redact(r.held + string(p))
	r.held = ""
	if n := r.s.trailing(text); n > 0 {
		text, r.held = text[:len(text)-n], text[len(text)-n:]
	}
	if _, err := io.WriteString(r.w, text); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush ends what was held back: the start of a secret nothing completed is never shown.
func (r *redactingWriter) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held != "" {
		r.held = ""
		_, _ = io.WriteString(r.w, mask)
	}
}

// learner is a transport that makes every credential a request carries a secret before the
// answer can echo it (the bearer tokens of the SDK's own login among them), and the tokens a login
// or refresh answers with. It passes the request on unchanged, the SDK's trace with it.
type learner struct {
	s    *secrets
	next http.RoundTripper
}

func (l learner) RoundTrip(req *http.Request) (*http.Response, error) {
	for k, vs := range req.Header {
		if !credentialHeader(k) {
			continue
		}
		for _, v := range vs {
			l.s.add(v)
			if _, token, ok := strings.Cut(v, " "); ok {
				l.s.add(token) // "Bearer <token>": the token alone
			}
		}
	}
	if req.URL.User != nil {
		l.s.addURL(req.URL.String())
	}
	resp, err := l.next.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, "/auth/") {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
	}
	var tok map[string]any
	if json.Unmarshal(body, &tok) == nil {
		for k, v := range tok {
			if str, ok := v.(string); ok && strings.Contains(strings.ToLower(k), "token") {
				l.s.add(str)
			}
		}
	}
	return resp, nil
}

// credentialHeader reports whether a header may carry a credential: X-API-Key, Authorization, a
// cookie, or any header an Authenticator names after a key, a token, a secret or a password.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, word := range []string{"auth", "key", "token", "secret", "password", "cookie", "session"} {
		if strings.Contains(n, word) {
			return true
		}
	}
	return false
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// replaceWord replaces f in text where it stands as a whole word.
func replaceWord(text, f string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, f)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		after, _ := utf8.DecodeRuneInString(text[i+len(f):])
		if (i == 0 || !wordRune(before)) && (i+len(f) == len(text) || !wordRune(after)) {
			b.WriteString(text[:i] + mask)
		} else {
			b.WriteString(text[:i+len(f)])
		}
		text = text[i+len(f):]
	}
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' }

// scrubHandler removes the secrets from every value of a log record before the handler under it
// formats it: a value the SDK cut inside an echoed secret loses the fragment too, which a scrub of
// the formatted line could not tell from the quote that follows it.
type scrubHandler struct {
	s    *secrets
	next slog.Handler
}

func (h scrubHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.s.text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h scrubHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	scrubbed := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		scrubbed[i] = h.attr(a)
	}
	return scrubHandler{s: h.s, next: h.next.WithAttrs(scrubbed)}
}

func (h scrubHandler) WithGroup(name string) slog.Handler {
	return scrubHandler{s: h.s, next: h.next.WithGroup(name)}
}

func (h scrubHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.s.text(v.String()))
	case slog.KindGroup:
		group := v.Group()
		scrubbed := make([]any, len(group))
		for i, g := range group {
			scrubbed[i] = h.attr(g)
		}
		return slog.Group(a.Key, scrubbed...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.s.text(h.s.scrubErr(err).Error()))
		}
		return slog.String(a.Key, h.s.text(fmt.Sprint(v.Any())))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
