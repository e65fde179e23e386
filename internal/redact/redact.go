package redact

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Mask stands where a secret was.
const Mask = "[redacted]"

const (
	// MinLength is the shortest value that may be a credential (a request header's, say) removed
	// wherever it stands; a shorter one ("1") is removed only as a whole word, as it cannot be told
	// from ordinary text.
	MinLength = 6
	// MinHeld is the shortest credential the program holds (its key, a password, a token) removed
	// wherever it stands: it is known to be a secret, so a 3-byte PIN goes too. A shorter one ("k",
	// a test's key) is removed only as a whole word.
	MinHeld = 3
	// MinFragment is the shortest start of a secret that counts at the end of a text that may have
	// been cut elsewhere (a log value, an error of the SDK's): shorter, it cannot be told from the
	// text's own last letters. A cut made here drops any start, however short (see Set.Cut).
	MinFragment = 4
	// Layers is how many times over a secret may come back JSON-escaped or quoted (see Forms).
	Layers = 3
)

// Set is a set of secrets and the one place they are removed: every form of each (see Forms),
// the longest first, so that a form that contains another is replaced whole. It is safe for
// concurrent use: a program may learn a token while it prints.
type Set struct {
	mu    sync.RWMutex
	seen  map[string]bool // a value added, and whether it is removed wherever it stands
	forms []string        // removed wherever they stand, longest first
	words []string        // the forms of secrets too short for that, removed as whole words, longest first
}

// New returns an empty set.
func New() *Set { return &Set{seen: map[string]bool{}} }

// Add adds credentials the program holds: from MinHeld bytes on, each is removed wherever it
// stands; shorter, as a whole word. A value is added as given and without its surrounding spaces.
func (s *Set) Add(secrets ...string) { s.add(MinHeld, secrets) }

// AddSeen adds values that may be credentials (a request's headers): from MinLength bytes on,
// each is removed wherever it stands; shorter, as a whole word.
func (s *Set) AddSeen(values ...string) { s.add(MinLength, values) }

func (s *Set) add(minLen int, values []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		for _, v := range []string{v, strings.TrimSpace(v)} {
			whole := len(v) >= minLen
			if was, ok := s.seen[v]; v == "" || ok && (was || !whole) {
				continue // a value seen as a word and now held is removed wherever it stands
			}
			s.seen[v] = whole
			if whole {
				s.forms = append(s.forms, Forms(v, Layers)...)
			} else {
				s.words = append(s.words, Forms(v, Layers)...)
			}
		}
	}
	longestFirst := func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	}
	slices.SortFunc(s.forms, longestFirst)
	slices.SortFunc(s.words, longestFirst)
	s.forms, s.words = slices.Compact(s.forms), slices.Compact(s.words)
	// A form removed wherever it stands is never also a word: it would be removed first anyway.
	s.words = slices.DeleteFunc(s.words, func(w string) bool { return slices.Contains(s.forms, w) })
}

// Clone is a copy of s, to add to without changing s.
func (s *Set) Clone() *Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &Set{seen: maps.Clone(s.seen), forms: slices.Clone(s.forms), words: slices.Clone(s.words)}
}

// Empty reports whether the set holds no secret.
func (s *Set) Empty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.forms) == 0 && len(s.words) == 0
}

// Longest is the length of the longest form: a text cut at n can only reach into a secret that
// starts before n+Longest.
func (s *Set) Longest() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	if len(s.forms) > 0 {
		n = len(s.forms[0])
	}
	if len(s.words) > 0 {
		n = max(n, len(s.words[0]))
	}
	return n
}

// Redact replaces every whole secret, in each of its forms, with Mask.
func (s *Set) Redact(text string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, f := range s.forms {
		if strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, Mask)
		}
	}
	for _, f := range s.words {
		if strings.Contains(text, f) {
			text = replaceWord(text, f)
		}
	}
	return text
}

// Trailing is how many bytes at the end of text are the start of a secret's form (at least
// minLen of it, never all of it): 0 when none are. Only forms removed wherever they stand count:
// the start of a word is ordinary text.
func (s *Set) Trailing(text string, minLen int) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	minLen = max(minLen, 1)
	best := 0
	for _, f := range s.forms {
		for k := min(len(f)-1, len(text)); k >= minLen && k > best; k-- {
			if strings.HasSuffix(text, f[:k]) {
				best = k
				break
			}
		}
	}
	return best
}

// Text scrubs a value that may have been cut at its end by someone else (an error's detail, a
// body's sample, a log value): the secrets are removed, then a trailing start of one (at least
// MinFragment bytes) becomes Mask.
func (s *Set) Text(v string) string {
	v = s.Redact(v)
	if n := s.Trailing(v, MinFragment); n > 0 {
		v = v[:len(v)-n] + Mask
	}
	return v
}

// Cut redacts v, then keeps at most n bytes of it (on a rune boundary) and drops what the cut
// leaves at its end of the start of a secret, however short. Redaction comes first: a cut inside
// a secret would leave most of it behind.
func (s *Set) Cut(v string, n int) string {
	v = s.Redact(v)
	if len(v) <= n {
		return v
	}
	v = truncate(v, n)
	return v[:len(v)-s.Trailing(v, 1)]
}

// Sample is the start of a body, at most n bytes of it once redacted, as Cut makes it. It reads a
// window of n bytes and the longest form more: a secret that starts before n ends inside it, but
// one that starts later may be cut by the window itself, and redaction may shorten what comes
// before.
func (s *Set) Sample(b []byte, n int) string {
	window := n + s.Longest()
	if len(b) <= window {
		return s.Cut(string(b), n)
	}
	v := truncate(s.Redact(string(b[:window])), n)
	return v[:len(v)-s.Trailing(v, 1)]
}

// Shorten is Cut for a reader: v scrubbed as Text, then, when longer than n bytes, cut on a rune
// boundary (a Mask the cut reaches stays whole, so the result may pass n by a Mask's length),
// scrubbed again and ended with "…".
func (s *Set) Shorten(v string, n int) string {
	v = s.Text(v)
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	if i := strings.LastIndex(v[:n], "["); i >= 0 && strings.HasPrefix(v[i:], Mask) && i+len(Mask) > n {
		n = i + len(Mask)
	}
	return s.Text(v[:n]) + "…"
}

// Value removes the secrets from a decoded JSON value (a validation item's ctx), however deep:
// a string that scrub changes becomes Mask whole, as what is left of it may be another form.
// Lists and maps are changed in place.
func Value(v any, scrub func(string) string) any {
	switch x := v.(type) {
	case string:
		if scrub(x) != x {
			return Mask
		}
	case []any:
		for i := range x {
			x[i] = Value(x[i], scrub)
		}
	case map[string]any:
		for k := range x {
			x[k] = Value(x[k], scrub)
		}
	}
	return v
}

// Input is a refused input (a validation item's, which Pydantic v2 copies from the request), or
// Mask when scrub changes it as JSON or as Go prints it, or it cannot be written as JSON.
func Input(v any, scrub func(string) string) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil || scrub(string(b)) != string(b) {
		return Mask
	}
	if p := fmt.Sprint(v); scrub(p) != p {
		return Mask
	}
	return v
}

// PlainHeader reports whether a request header never carries a credential: Accept, User-Agent,
// Content-Type and Cache-Control. Every other header's values may (X-API-Key, Authorization, a
// cookie, whatever an Authenticator or a transport sets).
func PlainHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Accept", "User-Agent", "Content-Type", "Cache-Control":
		return true
	}
	return false
}

// HeaderSecrets is what a header's value holds that may be a secret: the value, and what follows
// its first and its last space ("Bearer <token>": the token alone; a scheme with parameters).
func HeaderSecrets(v string) []string {
	out := []string{v}
	if _, after, ok := strings.Cut(v, " "); ok {
		out = append(out, after)
	}
	if i := strings.LastIndexByte(v, ' '); i >= 0 {
		out = append(out, v[i+1:])
	}
	return out
}

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
			b.WriteString(text[:i] + Mask)
		} else {
			b.WriteString(text[:i+len(f)])
		}
		text = text[i+len(f):]
	}
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' }

// truncate keeps at most n bytes of s, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
