package probonus

import (
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone turns a phone number in any common form into the form the API uses: digits with
// the country code, e.g. "+7 (999) 123-45-67", "8 999 123 45 67" and "9991234567" all become
// "79991234567". A number without a country code is read as Russian; Client.NormalizePhone uses
// the client's region (WithPhoneRegion). An invalid number is an *InputError.
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

// normalizePhone validates and normalises raw, naming field in the error.
func normalizePhone(raw, region, field string) (string, error) {
	bad := func(reason string) (string, error) { return "", &InputError{Field: field, Reason: reason} }
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("empty phone number")
	}
	if len(raw) > 32 {
		return bad("too long for a phone number")
	}
	if alreadyNormal(raw, region) {
		return raw, nil
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return bad("not a phone number")
	}
	if !phonenumbers.IsValidNumber(num) {
		return bad("not a valid phone number")
	}
	return strconv.FormatInt(int64(num.GetCountryCode()), 10) + phonenumbers.GetNationalSignificantNumber(num), nil
}

// alreadyNormal is the fast path for the common case, a number already in the API's form with the
// region's country code ("79991234567" for RU): it skips the parser and only validates. Anything
// else takes the full path, which gives the same answer for these.
func alreadyNormal(raw, region string) bool {
	if len(raw) < 8 || len(raw) > 15 {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return false
		}
	}
	cc := int32(phonenumbers.GetCountryCodeForRegion(region))
	prefix := strconv.Itoa(int(cc))
	if !strings.HasPrefix(raw, prefix) || raw[len(prefix)] == '0' {
		return false
	}
	national, err := strconv.ParseUint(raw[len(prefix):], 10, 64)
	return err == nil && phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &national})
}

func knownRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}

// checkEmail refuses anything but a bare address.
func checkEmail(field, email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return &InputError{Field: field, Reason: "not an email address"}
	}
	return nil
}
