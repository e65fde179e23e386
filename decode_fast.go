package probonus

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// The fast decoders: one per response type, generated into decode_gen.go from the
// types' tags by internal/cmd/gendecode, on the reader below. They read a body once, without
// reflection and without encoding/json's pre-scan, and accept exactly what json.Unmarshal (as
// decode's unmarshal calls it) accepts, to the same value: the same grammar and nesting limit, the
// same case-insensitive key match, last duplicate wins (merging into a struct or slice element
// already there, as json does), null leaves a value as it is and empties a pointer or slice, and
// every value type (Amount, Code, Date, Time) is read by its own UnmarshalJSON from the same bytes
// json would hand it. They never produce an error of their own: whatever they do not accept, they
// report as not done, and decode runs encoding/json on the body from the same starting state,
// which gives the error (the fuzz targets in decode_fast_test.go hold both to the same answers).

// maxNesting is encoding/json's limit on nested objects and arrays.
const maxNesting = 10000

// internSlots is how many string fields of a response remember their last value: a list repeats
// a restaurant's name, a type, an identifier in every entry, and a repeat costs no new string.
const internSlots = 32

// reader reads one JSON value from b. Any error stops it for good: bad is set and i moves to the
// end, so that every loop ends at once.
type reader struct {
	b      []byte
	i      int
	depth  int
	bad    bool
	intern [internSlots]string
}

func (r *reader) fail() {
	r.bad = true
	r.i = len(r.b)
}

// ws skips JSON white space and returns the next byte (0 at the end).
func (r *reader) ws() byte {
	for r.i < len(r.b) {
		c := r.b[r.i]
		if c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
		r.i++
	}
	return 0
}

// open enters an object or array whose first byte is at r.i.
func (r *reader) open() bool {
	r.i++
	r.depth++
	if r.depth > maxNesting {
		r.fail()
		return false
	}
	return true
}

// objectStart enters an object, reporting false for an empty one (already left) or a failure.
func (r *reader) objectStart() bool {
	if !r.open() {
		return false
	}
	if r.ws() == '}' {
		r.i++
		r.depth--
		return false
	}
	return true
}

// objectNext reads what follows a member: true for a comma (another member follows), false for the
// closing brace (or a failure).
func (r *reader) objectNext() bool {
	switch r.ws() {
	case ',':
		r.i++
		return true
	case '}':
		r.i++
		r.depth--
		return false
	}
	r.fail()
	return false
}

// arrayStart and arrayNext are objectStart and objectNext for an array.
func (r *reader) arrayStart() bool {
	if !r.open() {
		return false
	}
	if r.ws() == ']' {
		r.i++
		r.depth--
		return false
	}
	return true
}

func (r *reader) arrayNext() bool {
	switch r.ws() {
	case ',':
		r.i++
		return true
	case ']':
		r.i++
		r.depth--
		return false
	}
	r.fail()
	return false
}

// key reads a member's name and its colon. plain is false when the name has escapes, which the
// caller unquotes before matching it.
func (r *reader) key() (name []byte, plain bool) {
	if r.ws() != '"' {
		r.fail()
		return nil, false
	}
	start := r.i
	_, esc := r.scanString()
	end := r.i
	if r.ws() != ':' {
		r.fail()
		return nil, false
	}
	r.i++
	return r.b[start+1 : end-1], !esc
}

// strClass marks the bytes a string's fast scan stops at: 1 for a quote, a backslash or a control
// character, 2 for a byte of a multi-byte UTF-8 sequence.
var strClass = func() (t [256]byte) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	t['"'], t['\\'] = 1, 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 2
	}
	return t
}()

// scanString reads a string starting at its quote at r.i, leaving r.i after the closing quote.
// high: it holds bytes beyond ASCII; esc: it holds escapes. It reads eight bytes at a time to the
// first that ends the string, starts an escape or is a control character.
func (r *reader) scanString() (high, esc bool) {
	b := r.b
	i := r.i + 1
	var hi uint64
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if m := specials(x); m != 0 {
				first := m & -m       // the first special byte's top bit
				hi |= x & (first - 1) // the bytes before it
				i += bits.TrailingZeros64(m) >> 3
				goto special
			}
			hi |= x
			i += 8
		}
		for i < len(b) && strClass[b[i]] != 1 {
			hi |= uint64(b[i])
			i++
		}
		if i >= len(b) {
			r.fail()
			return
		}
	special:
		switch c := b[i]; {
		case c == '"':
			r.i = i + 1
			return hi&0x8080808080808080 != 0, esc
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				r.fail()
				return
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					r.fail()
					return
				}
				i += 6
			default:
				r.fail()
				return
			}
		default: // a control character
			r.fail()
			return
		}
	}
}

// specials marks, by its top bit, each byte of the eight in x (little-endian: the first is the
// lowest) that is a quote, a backslash or a control character, by the classic has-zero-byte and
// has-less-than tests. Their borrows may mark bytes after a marked one too, never before: the
// lowest mark is exactly the first such byte.
func specials(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (ones * '"')
	bslash := x ^ (ones * '\\')
	zeroQ := (quote - ones) &^ quote
	zeroB := (bslash - ones) &^ bslash
	less := (x - ones*0x20) &^ x
	return (zeroQ | zeroB | less) & highs
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// stringValue reads a JSON string into a Go string as json does: as it is when it has no escape
// and is valid UTF-8, else through json's own unquoting (escapes, invalid UTF-8 made U+FFFD).
// slot is the field's intern slot (-1: none).
func (r *reader) stringValue(slot int) (string, bool) {
	start := r.i
	high, esc := r.scanString()
	if r.bad {
		return "", false
	}
	raw := r.b[start+1 : r.i-1]
	if !esc && slot >= 0 && r.intern[slot] == string(raw) {
		// a slot holds only strings taken as they were: raw is one, already checked
		return r.intern[slot], true
	}
	if !esc && (!high || utf8.Valid(raw)) {
		s := string(raw)
		if slot >= 0 {
			r.intern[slot] = s
		}
		return s, true
	}
	var s string
	if json.Unmarshal(r.b[start:r.i], &s) != nil {
		r.fail()
		return "", false
	}
	return s, true
}

// literal reads true, false or null, as word.
func (r *reader) literal(word string) {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		r.fail()
		return
	}
	r.i += len(word)
}

// number reads a JSON number's bytes (its grammar, as json's scanner checks it).
func (r *reader) number() []byte {
	b, start := r.b, r.i
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
	default:
		r.fail()
		return nil
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			r.fail()
			return nil
		}
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			r.fail()
			return nil
		}
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
	}
	r.i = i
	return b[start:i]
}

// raw reads a literal, number or string and returns its bytes, as json hands them to an
// UnmarshalJSON; an object or an array, which no value type here accepts, fails.
func (r *reader) raw() []byte {
	start := r.i
	switch c := r.ws(); {
	case c == '"':
		start = r.i
		r.scanString()
	case c == '-' || '0' <= c && c <= '9':
		start = r.i
		r.number()
	case c == 'n':
		start = r.i
		r.literal("null")
	case c == 't':
		start = r.i
		r.literal("true")
	case c == 'f':
		start = r.i
		r.literal("false")
	default:
		r.fail()
	}
	if r.bad {
		return nil
	}
	return r.b[start:r.i]
}

// isNullNext reports whether the next value is null, and reads it if so.
func (r *reader) isNullNext() bool {
	if r.ws() != 'n' {
		return false
	}
	r.literal("null")
	return true
}

// skip reads any value, checking it as json's scanner does.
func (r *reader) skip() {
	switch c := r.ws(); {
	case c == '{':
		if !r.objectStart() {
			return
		}
		for {
			if r.key(); r.bad {
				return
			}
			r.skip()
			if !r.objectNext() {
				return
			}
		}
	case c == '[':
		if !r.arrayStart() {
			return
		}
		for {
			r.skip()
			if !r.arrayNext() {
				return
			}
		}
	case c == '"':
		r.scanString()
	case c == '-' || '0' <= c && c <= '9':
		r.number()
	case c == 'n':
		r.literal("null")
	case c == 't':
		r.literal("true")
	case c == 'f':
		r.literal("false")
	default:
		r.fail()
	}
}

// name unquotes a key that has escapes, as json does, for matching.
func (r *reader) name(key []byte) []byte {
	var s string
	q := make([]byte, 0, len(key)+2)
	q = append(append(append(q, '"'), key...), '"')
	if json.Unmarshal(q, &s) != nil {
		r.fail()
		return nil
	}
	return []byte(s)
}

// foldName is encoding/json's key folding since Go 1.21 (fold.go, and json/v2's, which Go 1.27's
// encoding/json runs on): ASCII letters to upper case, any other rune to the smallest rune of its
// unicode.SimpleFold orbit. Two keys fold alike exactly when strings.EqualFold holds: the Kelvin
// sign K folds with k and the long s ſ with s, but dotless ı and dotted İ fold with no ASCII letter
// (the older rule, upper(lower(r)), made both an I).
func foldName(in []byte, out []byte) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		rn, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, foldRune(rn))
		i += n
	}
	return out
}

// foldRune returns the smallest rune of r's case-folding orbit, as encoding/json's foldRune does.
func foldRune(r rune) rune {
	for {
		next := unicode.SimpleFold(r)
		if next <= r {
			return next
		}
		r = next
	}
}

// fastDecode decodes b into out with its generated decoder and reports whether it did; false
// (out back in its starting state) for a type without one or a body it does not accept. out must
// be in the state a typed method gives it: a new value, or an empty slice whose capacity is all
// zero values.
func fastDecode(b []byte, out any) bool {
	r := reader{b: b}
	return r.decode(out) && !r.bad
}
