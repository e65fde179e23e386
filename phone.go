package probonus

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone turns a phone number in any common form into the form the API uses: digits with
// the country code, e.g. "+7 (999) 123-45-67", "8 999 123 45 67" and "9991234567" all become
// "79991234567". A number without a country code is read as Russian; Client.NormalizePhone uses
// the client's region (WithPhoneRegion). An invalid number is an *InputError whose reason says
// what shape was expected, without repeating the number.
//
// Digits written without a "+" are read, in this order, as: the API form of a number of the region
// ("79991234567"); a national number of the region ("8 999 123 45 67", "9991234567"); the API form
// of another country's number, country code first ("442079460958", "375291234567"). So a 10-digit
// "9611234567" is a Russian number, never the Lebanese +961 1 234567. The result is always its own
// normal form: NormalizePhone(NormalizePhone(x)) is NormalizePhone(x), so a phone the server
// returns can be passed back. A foreign number whose API form would read as a number of the region
// (the Vietnamese +84 95 123 4567 is "84951234567", which reads as the Moscow 8 495 123-45-67) is
// refused as ambiguous: sent, it would later be taken for that other number. Full-width and
// Arabic-Indic digits are read as digits.
func NormalizePhone(raw string) (string, error) { return normalizePhone(raw, "RU", "phone") }

// NormalizePhone is the package's NormalizePhone with the client's region.
func (c *Client) NormalizePhone(raw string) (string, error) { return c.normalizePhone(raw, "phone") }

// normalizePhone normalises with the client's region, remembering the numbers it has seen
// already normal: the same guest looked up again costs a map read, not a validation.
func (c *Client) normalizePhone(raw, field string) (string, error) {
	if _, ok := c.phones.m.Load(raw); ok {
		return raw, nil
	}
	n, err := normalizePhone(raw, c.phoneRegion, field)
	if err == nil && n == raw {
		c.phones.remember(raw)
	}
	return n, err
}

// phoneCache is a bounded set of valid, already normal numbers; it empties when full.
type phoneCache struct {
	m sync.Map
	n atomic.Int32
}

const phoneCacheSize = 4096

func (p *phoneCache) remember(phone string) {
	if p.n.Add(1) > phoneCacheSize {
		p.m.Clear()
		p.n.Store(0)
	}
	p.m.Store(phone, struct{}{})
}

// maxPhoneRunes bounds the input: the longest valid number with spaces, dashes, parentheses and
// a short extension fits, and a hostile string costs the parser nothing.
const maxPhoneRunes = 40

// normalizePhone validates and normalises raw, naming field in the error.
func normalizePhone(raw, region, field string) (string, error) {
	bad := func(reason string) (string, error) { return "", &InputError{Field: field, Reason: reason} }
	raw = strings.TrimSpace(withoutFormatCharacters(raw))
	if raw == "" {
		return bad("empty phone number")
	}
	if n := utf8.RuneCountInString(raw); n > maxPhoneRunes {
		return bad(fmt.Sprintf("too long for a phone number (%d characters given, at most %d)", n, maxPhoneRunes))
	}
	if reason := strayCharacters(raw); reason != "" {
		return bad(reason)
	}
	n, cc, ok := readPhone(raw, region)
	if !ok {
		return bad(shapeReason(raw, region))
	}
	if n != raw && !readsBack(n, cc, region) {
		// The API form has no "+": read back as another number, a later lookup with the phone
		// the server returns would find another subscriber.
		return bad(fmt.Sprintf("ambiguous for region %s: the API form of this +%d number (%d digits, no +) "+
			"also reads as a number of region %s", region, cc, len(n), region))
	}
	return n, nil
}

// readPhone applies the reading order NormalizePhone documents and returns the API form and the
// country code; ok is false when raw is no valid number in any of the readings.
func readPhone(raw, region string) (n string, cc int32, ok bool) {
	if cc, national, ok := normalShape(raw, region); ok && validNumber(cc, national) {
		return raw, cc, true
	}
	if num, err := phonenumbers.Parse(raw, region); err == nil && phonenumbers.IsValidNumber(num) {
		return apiForm(num), num.GetCountryCode(), true
	}
	// digits alone, no "+": perhaps the API form of another country's number
	if digits, ok := plainDigits(raw); ok {
		if num, err := phonenumbers.Parse("+"+digits, "ZZ"); err == nil && phonenumbers.IsValidNumber(num) {
			return apiForm(num), num.GetCountryCode(), true
		}
	}
	return "", 0, false
}

// readsBack reports whether n, the API form of a valid number with country code cc, reads as
// itself. The region's own numbers in the usual shape take the fast path to the same valid
// number without validating it again.
func readsBack(n string, cc int32, region string) bool {
	if regionCC, _, ok := normalShape(n, region); ok && regionCC == cc {
		return true
	}
	again, _, _ := readPhone(n, region)
	return again == n
}

// apiForm writes num as the API does: the country code and the national significant number.
func apiForm(num *phonenumbers.PhoneNumber) string {
	return strconv.FormatInt(int64(num.GetCountryCode()), 10) + phonenumbers.GetNationalSignificantNumber(num)
}

// plainDigits returns the digits of raw when it holds digits and the separators people type
// between them, and nothing else: no "+", letters or extension.
func plainDigits(raw string) (string, bool) {
	var b strings.Builder
	for _, r := range raw {
		switch d, ok := asciiDigit(r); {
		case ok:
			b.WriteByte(d)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '/' || r == '\u00a0':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// asciiDigit reads the digits phonenumbers reads: ASCII, full-width and Arabic-Indic.
func asciiDigit(r rune) (byte, bool) {
	for _, zero := range [...]rune{'0', '\uff10', '\u0660', '\u06f0'} {
		if r >= zero && r <= zero+9 {
			return byte('0' + r - zero), true
		}
	}
	return 0, false
}

// strayCharacters says why raw, which holds digits, is no guest's phone because of what else it
// holds: a letter (an extension, "доб. 12", "x12", or a typo), an extension's mark (#, ;, ",", *),
// or a + after the start. The parser would drop an extension and accept the rest, and a guest's
// phone has none. Every other character (separators of any width, brackets) is left to the parser.
func strayCharacters(raw string) string {
	if !strings.ContainsFunc(raw, func(r rune) bool { _, d := asciiDigit(r); return d }) {
		return "" // no digits at all: shapeReason says so
	}
	for i, r := range raw {
		switch {
		case unicode.IsLetter(r):
			return "holds a letter: a guest's phone is digits with an optional leading + and separators, " +
				"without an extension (доб., ext., x)"
		case (r == '+' || r == '\uff0b') && i > 0:
			return "holds a + after the start: the + goes only before the country code"
		case strings.ContainsRune("#;,*\uff03\uff1b\uff0c\uff0a", r):
			return fmt.Sprintf("holds %q: a guest's phone is digits with an optional leading + and separators, "+
				"without an extension", r)
		}
	}
	return ""
}

// withoutFormatCharacters drops the invisible characters a copy from a file or a web page
// brings along (a byte-order mark, a soft hyphen, zero-width spaces and joiners).
func withoutFormatCharacters(raw string) string {
	if !strings.ContainsFunc(raw, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) {
		return raw
	}
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, raw)
}

// shapeReason says why raw is no phone number, and what shape the region's numbers have, without
// repeating raw: a phone number is personal data and error messages end up in logs. It counts the
// digits after a leading + and country code, or the region's trunk prefix (8 in Russia), the way
// the number was meant to be read, so a number of the right length is not told it has the wrong one.
func shapeReason(raw, region string) string {
	var d strings.Builder
	for _, r := range raw {
		if digit, ok := asciiDigit(r); ok {
			d.WriteByte(digit)
		}
	}
	digits := d.String()
	if digits == "" {
		return "not a phone number: no digits given"
	}
	ex := phonenumbers.GetExampleNumber(region)
	if ex == nil {
		return fmt.Sprintf("not a valid phone number for region %s (%d digits given): want + and the country code", region, len(digits))
	}
	cc := strconv.Itoa(phonenumbers.GetCountryCodeForRegion(region))
	prefix, ndd := cc, phonenumbers.GetNddPrefixForRegion(region, true)
	if ndd != "" && ndd != cc {
		prefix = ndd + " or " + cc
	}
	national := len(phonenumbers.GetNationalSignificantNumber(ex))
	given, after := len(digits), ""
	plus := strings.HasPrefix(raw, "+") || strings.HasPrefix(raw, "\uff0b")
	switch {
	case plus && strings.HasPrefix(digits, cc):
		given, after = len(digits)-len(cc), "+"+cc
	case plus:
		return fmt.Sprintf("not a valid phone number (%d digits given after the +): no country has such a number", len(digits))
	case ndd != "" && strings.HasPrefix(digits, ndd) && len(digits) > national-1:
		given, after = len(digits)-len(ndd), "the leading "+ndd
	case strings.HasPrefix(digits, cc) && len(digits) > national:
		given, after = len(digits)-len(cc), "the leading "+cc
	}
	count := fmt.Sprintf("%d digits given", len(digits))
	if after != "" {
		count += fmt.Sprintf(": %d after %s", given, after)
	}
	if given == national {
		// the length is right: it is the number's start that no number of the region has
		return fmt.Sprintf("not a valid phone number for region %s (%s, as many as a national number has, "+
			"but no number of the region begins so): check its first digits, or give + and the country code "+
			"for another country's number", region, count)
	}
	return fmt.Sprintf("not a valid phone number for region %s (%s): want a national number of %d digits, "+
		"optionally after %s, or + and the country code", region, count, national, prefix)
}

// normalShape is the fast path for the common case, a number already in the API's form with the
// region's country code ("79991234567" for RU): digits, the country code, a national number that
// does not start with 0. It returns the number's parts for validNumber, skipping the parser; the
// full path gives the same answer for these.
func normalShape(raw, region string) (cc int32, national uint64, ok bool) {
	if len(raw) < 8 || len(raw) > 15 {
		return 0, 0, false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return 0, 0, false
		}
	}
	cc = int32(phonenumbers.GetCountryCodeForRegion(region))
	prefix := strconv.Itoa(int(cc))
	if !strings.HasPrefix(raw, prefix) || raw[len(prefix)] == '0' {
		return 0, 0, false
	}
	national, err := strconv.ParseUint(raw[len(prefix):], 10, 64)
	return cc, national, err == nil
}

func validNumber(cc int32, national uint64) bool {
	return phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &national})
}

func knownRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}
