package redact

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue 28 §1: the SDK removed a held credential from 3 bytes on and ignored a shorter one and a
// header value under 6 bytes; the CLI removed anything under 6 runes only as a whole word. The
// merged rule: held from 3 bytes and seen from 6 bytes wherever they stand, shorter as whole words,
// lengths in bytes.
func TestSetMinimumLengths(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		held, seen []string
		in, want   string
	}{
		{"held, 3 bytes: wherever it stands", []string{"pin"}, nil, "spin pin9 pin", "s[redacted] [redacted]9 [redacted]"},
		{"held, 2 bytes: as a word", []string{"qa"}, nil, "qa, aqua qa9 qa", "[redacted], aqua qa9 [redacted]"},
		{"held, 1 byte: as a word", []string{"k"}, nil, "check k; k9", "check [redacted]; k9"},
		{"seen, 6 bytes: wherever it stands", nil, []string{"tenant"}, "subtenants", "sub[redacted]s"},
		{"seen, 5 bytes: as a word", nil, []string{"42-ab"}, "x42-ab 42-ab.", "x42-ab [redacted]."},
		{"seen, 1 byte: as a word, never inside a number", nil, []string{"1"}, "page 1 of 10", "page [redacted] of 10"},
		{"bytes, not runes: 3 Cyrillic letters held", []string{"пин"}, nil, "кодпин", "код[redacted]"},
		{"bytes, not runes: 3 Cyrillic letters seen", nil, []string{"пин"}, "кодпин", "код[redacted]"},
		{"seen as a word, then held", []string{"abcd"}, []string{"abcd"}, "xabcdx", "x[redacted]x"},
		{"held, then seen", []string{"abcd"}, []string{"abcd"}, "xabcdx", "x[redacted]x"},
		{"surrounding spaces are not part of it", []string{"  secret-1 \n"}, nil, "a secret-1 b", "a [redacted] b"},
		{"the empty value is no secret", []string{""}, []string{""}, "text", "text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New()
			if strings.HasPrefix(tt.name, "held, then") {
				s.Add(tt.held...)
				s.AddSeen(tt.seen...)
			} else {
				s.AddSeen(tt.seen...)
				s.Add(tt.held...)
			}
			assert.Equal(t, tt.want, s.Redact(tt.in))
		})
	}
}

// issue 28 §1: the SDK knew one layer of JSON escaping, the CLI three; both now remove all three,
// each of the escaped forms, the longest first.
func TestSetRedactsEveryForm(t *testing.T) {
	t.Parallel()
	const secret = `pw"ä/1+2&<x>`
	s := New()
	s.Add(secret)
	for _, f := range Forms(secret, Layers) {
		text := "before " + f + " after"
		assert.Equal(t, "before [redacted] after", s.Redact(text), "form %q", f)
	}
	jsonBody := func(v string) string { b, _ := json.Marshal(v); return string(b[1 : len(b)-1]) }
	echoed := jsonBody(`{"password": "` + jsonBody(secret) + `"}`) // a request echoed in a JSON answer
	assert.Equal(t, `{\"password\": \"[redacted]\"}`, s.Redact(echoed), "two layers")
	assert.Equal(t, `detail: "[redacted]"`, s.Redact(fmt.Sprintf("detail: %q", jsonBody(jsonBody(secret)))), "three layers")
	assert.False(t, s.Empty())
	assert.True(t, New().Empty())
	assert.Equal(t, "nothing to remove", New().Redact("nothing to remove"))
}

// Longest counts the forms of short secrets too: Sample's window must reach past them.
func TestSetLongest(t *testing.T) {
	t.Parallel()
	s := New()
	assert.Equal(t, 0, s.Longest())
	s.AddSeen(`a"b`) // a word
	longest := 0
	for _, f := range Forms(`a"b`, Layers) {
		longest = max(longest, len(f))
	}
	require.Greater(t, longest, 6)
	assert.Equal(t, longest, s.Longest())
	s.Add("012345")
	assert.Equal(t, longest, s.Longest())
}

// issue 28 §1, the trailing-fragment rule: a text that may have been cut elsewhere (Text, the
// CLI's writer) loses a trailing start of at least MinFragment bytes, as Mask; a cut made here
// (Cut, Sample) drops any start, however short. Only the longest start counts.
func TestTrailingFragment(t *testing.T) {
	t.Parallel()
	s := New()
	s.Add("0123456789abcdef", "k", "xyz-secret")
	assert.Equal(t, 0, s.Trailing("key 012", MinFragment), "3 bytes: too short to tell")
	assert.Equal(t, 4, s.Trailing("key 0123", MinFragment))
	assert.Equal(t, 1, s.Trailing("key 0", 1))
	assert.Equal(t, 0, s.Trailing("key 0123456789abcdef", 1), "a whole secret is Redact's, not a start")
	assert.Equal(t, 0, s.Trailing("key k", 1), "the start of a word is ordinary text")
	assert.Equal(t, 5, s.Trailing("xyz-s", 1), "the longest start")
	assert.Equal(t, "key "+Mask, s.Text("key 0123456789abc"))
	assert.Equal(t, "key 012", s.Text("key 012"))
	assert.Equal(t, "a "+Mask+" b", s.Text("a 0123456789abcdef b"))
}

// issue 28 §1, redact-then-cut: Cut keeps at most n bytes, on a rune boundary, of the redacted
// text, and drops the start of a secret the cut leaves; a text not cut keeps its end.
func TestCut(t *testing.T) {
	t.Parallel()
	s := New()
	s.Add("0123456789abcdef")
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short 0", 100, "short 0"},                                        // nothing cut: nothing dropped
		{"x 0123456789abcdef tail", 100, "x [redacted] tail"},              // redacted, not cut
		{"x 0123456789abcdef tail", 12, "x [redacted]"},                    // redacted before the cut
		{"x 0123456789abcdef tail", 8, "x [redac"},                         // the mask may be cut; never the secret
		{"abcdefgh 0123456789abcdef", 12, "abcdefgh [re"},                  // counted after redaction
		{"text 01 more", 7, "text "},                                       // the cut leaves "01": dropped
		{"text 0 more", 6, "text "},                                        // one byte of a start is dropped
		{"жжж", 5, "жж"},                                                   // on a rune boundary
		{strings.Repeat("a", 10) + "0123456789abcdef", 12, "aaaaaaaaaa[r"}, // only the mask is cut
	} {
		got := s.Cut(tt.in, tt.n)
		assert.Equal(t, tt.want, got, "Cut(%q, %d)", tt.in, tt.n)
		assert.LessOrEqual(t, len(got), tt.n)
		assert.True(t, utf8.ValidString(got))
	}
}

// Sample reads n bytes and the longest form more, so a secret the window itself cuts, after
// earlier echoes shortened by redaction, leaves no start.
func TestSample(t *testing.T) {
	t.Parallel()
	const secret = "echo-key-0123456789abcdefghijklmnopqrstu"
	s := New()
	s.Add(secret)
	for pad := 0; pad < 80; pad++ {
		body := strings.Repeat(secret+" ", 3) + strings.Repeat("x", pad) + secret + strings.Repeat(" more", 40)
		got := s.Sample([]byte(body), 64)
		assert.LessOrEqual(t, len(got), 64)
		for i := 0; i+4 <= len(secret); i++ {
			require.NotContains(t, got, secret[i:i+4], "pad %d: a piece of the secret in %q", pad, got)
		}
		require.Zero(t, s.Trailing(got, 1), "pad %d: the start of the secret ends %q", pad, got)
	}
	assert.Equal(t, "[redacted] x", s.Sample([]byte(secret+" x"), 64), "shorter than the window: Cut")
}

// Shorten is the cut for a reader (the CLI): a Mask it reaches stays whole, the end says "…", and
// a start of a secret of at least MinFragment bytes becomes Mask.
func TestShorten(t *testing.T) {
	t.Parallel()
	s := New()
	s.Add("0123456789abcdef", "k")
	assert.Equal(t, "x "+Mask+"…", s.Shorten("x 0123456789abcdef and more", 9), "redacted, then cut; the mask whole")
	assert.Equal(t, "x 01…", s.Shorten("x 01 and more", 4), "a start under MinFragment stays")
	assert.Equal(t, "x "+Mask+"…", s.Shorten("x 0123 and more", 6))
	assert.Equal(t, "short", s.Shorten("short", 9))
	assert.Equal(t, "жж…", s.Shorten("жжж", 5), "on a rune boundary")
}

// Value and Input: a string of a decoded value that holds a secret, however deep, is masked
// whole; an input whose JSON or printed form holds one is masked whole.
func TestValueAndInput(t *testing.T) {
	t.Parallel()
	s := New()
	s.Add("hunter2-pw")
	v := map[string]any{"min": 20.0, "tried": []any{"ok", "was hunter2-pw!", map[string]any{"deep": "hunter2-pw"}}}
	got := Value(v, s.Redact)
	assert.Equal(t, map[string]any{"min": 20.0, "tried": []any{"ok", Mask, map[string]any{"deep": Mask}}}, got)
	assert.Equal(t, "plain", Value("plain", s.Redact))
	assert.Equal(t, Mask, Input(map[string]any{"password": "hunter2-pw"}, s.Redact))
	assert.Equal(t, Mask, Input("hunter2-pw", s.Redact))
	assert.Equal(t, Mask, Input(func() {}, s.Redact), "what cannot be written as JSON is not shown")
	assert.Equal(t, 42.0, Input(42.0, s.Redact))
	assert.Nil(t, Input(nil, s.Redact))
	text := New()
	text.Add("0123456789abcdef")
	assert.Equal(t, Mask, Value("cut at 0123", text.Text), "the CLI's scrub: a trailing start counts")
}

// issue 28 §1: the SDK learnt every header but four plain ones and the token after the last
// space; the CLI only headers named for a key, token... and the token after the first space.
// Both now learn every header but the plain ones, the value, and what follows either space.
func TestHeaders(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Accept", "user-agent", "Content-Type", "Cache-Control"} {
		assert.True(t, PlainHeader(name), name)
	}
	for _, name := range []string{"X-Api-Key", "Authorization", "Cookie", "X-Tenant", "X-Vault-Token", "Proxy-Authorization"} {
		assert.False(t, PlainHeader(name), name)
	}
	assert.Equal(t, []string{"Bearer tok-123"}[0:1], HeaderSecrets("Bearer tok-123")[0:1])
	assert.ElementsMatch(t, []string{"Custom realm=x tok-123", "realm=x tok-123", "tok-123"}, HeaderSecrets("Custom realm=x tok-123"))
	assert.Equal(t, []string{"plain-key"}, HeaderSecrets("plain-key"))
}

// A set learns while others redact: the CLI's transport adds tokens while a command prints.
func TestSetConcurrentUse(t *testing.T) {
	t.Parallel()
	s := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			s.Add(fmt.Sprintf("token-%03d-secret", i))
		}()
		go func() {
			defer wg.Done()
			_ = s.Text(fmt.Sprintf("a token-%03d-secret b", i))
		}()
	}
	wg.Wait()
	for i := range 8 {
		assert.Equal(t, "a [redacted] b", s.Text(fmt.Sprintf("a token-%03d-secret b", i)))
	}
}
