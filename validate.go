package probonus

import (
	"net/mail"
	"net/url"
	"strings"
)

// validatePath refuses anything that could leave the base URL: an absolute URL, a scheme-relative
// path, a query or fragment, or a ".." segment, encoded or not. It returns the path unescaped.
func validatePath(path string) (string, error) {
	bad := func(reason string) (string, error) { return "", &InputError{Field: "path", Reason: reason} }
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return bad("must start with a single /")
	}
	if strings.ContainsAny(path, "?#\\") {
		return bad("must not hold a query, fragment or backslash (pass the query separately)")
	}
	decoded, err := url.PathUnescape(path)
	if err != nil {
		return bad("bad escape")
	}
	for _, seg := range strings.Split(decoded, "/") {
		if seg == ".." || seg == "." {
			return bad("must not hold . or .. segments")
		}
	}
	if lower := strings.ToLower(path); strings.Contains(lower, "%2f") || strings.Contains(lower, "%3f") ||
		strings.Contains(lower, "%23") || strings.Contains(lower, "%5c") {
		return bad("must not hold an encoded /, ?, # or backslash")
	}
	return decoded, nil
}

// requireID refuses a zero or negative id.
func requireID(field string, id int64) error {
	if id <= 0 {
		return &InputError{Field: field, Reason: "must be a positive id"}
	}
	return nil
}

// validateNewAccount checks a and returns it with its phone normalised.
func (s *AccountsService) validateNewAccount(a NewAccount) (NewAccount, error) {
	if err := requireID("NewAccount.GroupID", a.GroupID); err != nil {
		return a, err
	}
	phone, err := s.c.normalizePhone(a.Phone, "NewAccount.Phone")
	if err != nil {
		return a, err
	}
	a.Phone = phone
	if a.Email != nil {
		if err := validateEmail("NewAccount.Email", *a.Email); err != nil {
			return a, err
		}
	}
	return a, validateIdentifiers("NewAccount.Identifiers", a.Identifiers)
}

func validateRefill(r Refill) error {
	if err := requireID("Refill.AccountID", r.AccountID); err != nil {
		return err
	}
	if r.Amount.Sign() <= 0 {
		return &InputError{Field: "Refill.Amount", Reason: "must be positive"}
	}
	if _, ok := r.Amount.Minor(); !ok {
		if !r.Amount.Decimal().Shift(2).IsInteger() {
			return &InputError{Field: "Refill.Amount", Reason: "has a fraction of a kopeck"}
		}
		return &InputError{Field: "Refill.Amount", Reason: "is too large (at most 92233720368547758.07)"}
	}
	return nil
}

func validateIdentifiers(field string, ids []Identifier) error {
	for _, id := range ids {
		if id.Type == "" || id.Value == "" {
			return &InputError{Field: field, Reason: "an identifier needs a type and a value"}
		}
	}
	return nil
}

// validateEmail refuses anything but a bare address.
func validateEmail(field, email string) error {
	if plainEmail(email) {
		return nil // what net/mail accepts as itself, without its parser's allocations
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return &InputError{Field: field, Reason: "not an email address"}
	}
	return nil
}

// plainEmail reports whether email is a plain address that validateEmail's parser certainly accepts
// unchanged: an atom of letters, digits and ._%+- (no dot first, last or doubled) before one @,
// and a domain of at least two such labels of letters, digits and -. Anything else takes the
// parser's way.
func plainEmail(email string) bool {
	at := strings.IndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return false
	}
	local, domain := email[:at], email[at+1:]
	if !dotAtom(local, "._%+-") || !dotAtom(domain, ".-") || !strings.Contains(domain, ".") {
		return false
	}
	return true
}

// dotAtom reports whether s is letters, digits and the extra bytes, with no dot first, last or
// twice in a row.
func dotAtom(s, extra string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}
