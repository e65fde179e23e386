package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/redact"
)

// mask stands where a secret was.
const mask = redact.Mask

// secrets is every credential one invocation holds (API key, login, password, the tokens it sees,
// what a base URL carries) and the one scrubber every output goes through: stdout, stderr (the
// --debug log included), --json and --report. Its rules are internal/redact's, the SDK's own; it
// is safe for concurrent use: the transport learns tokens while a command prints.
type secrets struct{ set *redact.Set }

func newSecrets() *secrets { return &secrets{set: redact.New()} }

// add learns credentials, in every form a server may echo them.
func (s *secrets) add(values ...string) { s.set.Add(values...) }

// addURL learns what a base URL carries that is a secret: its user info and its query's values
// (?apikey=...). The URL may not parse, or have no scheme.
func (s *secrets) addURL(raw string) { s.set.Add(redact.URLSecrets(raw)...) }

// text scrubs a value that may have been cut at its end (an error's detail, a body's sample):
// secrets are removed first, then a trailing fragment of one.
func (s *secrets) text(v string) string { return s.set.Text(v) }

// cut shortens a scrubbed value to about n bytes for a reader, ending it with "…".
func (s *secrets) cut(v string, n int) string { return s.set.Shorten(v, n) }

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
			v.Input = redact.Input(v.Input, s.text)
			for k, c := range v.Ctx {
				v.Ctx[k] = redact.Value(c, s.text)
			}
			for j, p := range v.Loc {
				if str, ok := p.(string); ok {
					v.Loc[j] = s.text(str)
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
	text := r.s.set.Redact(r.held + string(p))
	r.held = ""
	if n := r.s.set.Trailing(text, redact.MinFragment); n > 0 {
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
		if redact.PlainHeader(k) {
			continue
		}
		for _, v := range vs {
			l.s.add(redact.HeaderSecrets(v)...)
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

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

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
