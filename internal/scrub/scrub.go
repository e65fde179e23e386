// Package scrub replaces personal and secret data in recorded JSON with consistent fakes of the
// same format, so recordings from a real server can be committed as fixtures.
//
// Phones keep their country and operator code and get fake subscriber digits; names become names
// from a fixed list (Cyrillic for Cyrillic); emails become userN@example.com; birth dates become
// another date of the same year; tokens, identifiers and card numbers become fakes of the same
// length and alphabet. The same real value becomes the same fake everywhere in one recording, and
// a real value found inside free text (a reason, a screen message) is replaced there too.
package scrub

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Scrubber holds the mapping of one recording. It is not safe for concurrent use.
type Scrubber struct {
	salt  []byte
	fakes map[string]string // real → fake, for every kind
}

// New returns a Scrubber; salt makes its fakes differ from another recording's (use random bytes).
func New(salt []byte) *Scrubber {
	return &Scrubber{salt: salt, fakes: map[string]string{}}
}

// kind is how a field's value is faked.
type kind int

const (
	kindNone kind = iota
	kindPhone
	kindName
	kindEmail
	kindDate
	kindToken
	kindIdentifier
	kindText // free text: only known real values inside it are replaced
)

// fields maps JSON keys (any object) to how their values are scrubbed.
var fields = map[string]kind{
	"phone": kindPhone, "phones": kindPhone,
	"firstName": kindName, "lastName": kindName, "middleName": kindName,
	"email":       kindEmail,
	"birthDate":   kindDate,
	"accessToken": kindToken, "refreshToken": kindToken, "access_token": kindToken, "refresh_token": kindToken,
	"identifier": kindIdentifier, "value": kindIdentifier, "cardNumber": kindIdentifier, "card": kindIdentifier,
	"info": kindText, "screenMessage": kindText, "printMessage": kindText, "reason": kindText,
}

// JSON scrubs a JSON document. A body that is not JSON is returned with known values replaced.
func (s *Scrubber) JSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []byte(s.Text(string(body)))
	}
	v = s.walk(v, kindNone)
	v = s.replaceKnown(v) // values seen anywhere, inside text anywhere
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return []byte(s.Text(string(body)))
	}
	return out.Bytes()
}

// Text replaces every real value the Scrubber has seen inside s.
func (s *Scrubber) Text(text string) string {
	reals := make([]string, 0, len(s.fakes))
	for real := range s.fakes {
		if len(real) >= 4 {
			reals = append(reals, real)
		}
	}
	sort.Slice(reals, func(i, j int) bool { return len(reals[i]) > len(reals[j]) }) // longest first
	for _, real := range reals {
		text = strings.ReplaceAll(text, real, s.fakes[real])
	}
	return text
}

func (s *Scrubber) walk(v any, k kind) any {
	switch x := v.(type) {
	case map[string]any:
		for key, val := range x {
			x[key] = s.walk(val, fields[key])
		}
		return x
	case []any:
		for i := range x {
			x[i] = s.walk(x[i], k)
		}
		return x
	case string:
		return s.fake(x, k)
	case json.Number:
		if k == kindPhone || k == kindIdentifier {
			return json.Number(s.fake(string(x), k))
		}
	}
	return v
}

// replaceKnown replaces, in every string of the document, the real values found anywhere in it.
func (s *Scrubber) replaceKnown(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for key, val := range x {
			x[key] = s.replaceKnown(val)
		}
	case []any:
		for i := range x {
			x[i] = s.replaceKnown(x[i])
		}
	case string:
		return s.Text(x)
	}
	return v
}

// fake returns the consistent fake of real for its kind.
func (s *Scrubber) fake(real string, k kind) string {
	if k == kindNone || k == kindText || strings.TrimSpace(real) == "" {
		return real
	}
	if f, ok := s.fakes[real]; ok {
		return f
	}
	// A fake depends only on the value and the salt, never on where it was met first, so a phone
	// that is also an identifier gets one fake, and a recording is repeatable.
	h := s.hash(real)
	var f string
	switch k {
	case kindPhone, kindIdentifier:
		keep := 0
		if digits(real) >= 10 {
			keep = 4 // a phone's country and operator code, a card's issuer
		}
		f = fakeDigits(real, keep, h)
		for i := uint64(1); f == real && i < 10; i++ {
			f = fakeDigits(real, keep, h+i)
		}
	case kindName:
		f = fakeName(real, h)
	case kindEmail:
		f = fmt.Sprintf("user%d@example.com", h%100000)
	case kindDate:
		f = fakeDate(real, h)
		if f == real {
			f = fakeDate(real, h+1) // one day in 365 the fake day is the real one
		}
	case kindToken:
		f = fakeToken(real, h)
	}
	s.fakes[real] = f
	s.fakes[f] = f // a fake met again stays itself
	return f
}

func (s *Scrubber) hash(real string) uint64 {
	sum := sha256.Sum256(append(append([]byte{}, s.salt...), real...))
	return binary.BigEndian.Uint64(sum[:8])
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// fakeDigits replaces each digit after the first keep digits with a pseudo-random one, keeping
// every other character (a "+", spaces, letters of an identifier are replaced by letters).
func fakeDigits(real string, keep int, h uint64) string {
	out := []rune(real)
	seen := 0
	for i, r := range out {
		switch {
		case unicode.IsDigit(r):
			seen++
			if seen > keep {
				out[i] = rune('0' + h%10)
				h = h/10 + uint64(i)*2654435761
			}
		case unicode.IsLetter(r):
			out[i] = rune('A' + h%26)
			h = h/26 + uint64(i)*2654435761
		}
	}
	return string(out)
}

var (
	latinNames    = []string{"Alex", "Maria", "Ivan", "Olga", "Peter", "Anna", "Sergey", "Elena"}
	cyrillicNames = []string{"Алексей", "Мария", "Иван", "Ольга", "Пётр", "Анна", "Сергей", "Елена"}
)

func fakeName(real string, h uint64) string {
	names := latinNames
	for _, r := range real {
		if unicode.Is(unicode.Cyrillic, r) {
			names = cyrillicNames
			break
		}
	}
	for i := range uint64(len(names)) {
		// never a fake that holds the real name, or is held in it
		name := names[(h+i)%uint64(len(names))]
		if !strings.Contains(name, real) && !strings.Contains(real, name) {
			return fmt.Sprintf("%s%d", name, h%97)
		}
	}
	return fmt.Sprintf("Guest%d", h%9973)
}

// fakeDate keeps the year (the age band) and picks another day in it.
func fakeDate(real string, h uint64) string {
	t, err := time.Parse(time.DateOnly, real[:min(len(real), 10)])
	if err != nil {
		return "1990-01-01"
	}
	return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(h%365)).Format(time.DateOnly) + real[min(len(real), 10):]
}

// fakeToken keeps a JWT's shape (three base64url parts) and an opaque token's length.
func fakeToken(real string, h uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := []byte(real)
	for i, c := range out {
		if c != '.' {
			out[i] = alphabet[h%64]
			h = h/64 + uint64(i)*2654435761
		}
	}
	return "fake-" + string(out[min(5, len(out)):])
}
