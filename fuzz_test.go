package probonus

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	pathpkg "path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/probonus-go/probonus/internal/fixture"
)

// Invariants of every fuzz target: no panic, no allocation beyond what the input justifies,
// typed errors, and whatever decodes re-encodes and decodes to the same value.

// FuzzParseError feeds any status, headers and body to the error parser.
func FuzzParseError(f *testing.F) {
	files, _ := filepath.Glob("testdata/errors/*.http")
	for _, name := range files {
		if r, err := fixture.Load(name); err == nil {
			f.Add(r.Status, r.Header.Get("Content-Type"), r.Header.Get("Retry-After"), r.Body)
		}
	}
	f.Add(422, "application/json", "", []byte(`{"detail":[{"loc":["body",0,{}],"msg":1}]}`))
	f.Add(0, "", "1e308", []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter string, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		resp.Header.Set("Content-Type", contentType)
		resp.Header.Set("Retry-After", retryAfter)
		e := parseError(resp, "GET", "/p", newRedactor())
		if e.StatusCode != status {
			t.Fatalf("status %d, want %d", e.StatusCode, status)
		}
		if len(e.Body) > keptErrorBody || !strings.HasPrefix(string(body), e.Body) {
			t.Fatalf("body kept %d bytes, not a prefix", len(e.Body))
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative Retry-After %v", e.RetryAfter)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "probonus: GET /p: ") {
			t.Fatalf("message %q", msg)
		}
		if utf8.ValidString(string(body)) && !utf8.ValidString(msg) {
			t.Fatalf("a valid body made an invalid message %q", msg)
		}
		if errors.Is(e, ErrServer) != (status >= 500 && status <= 599) {
			t.Fatalf("ErrServer for %d", status)
		}
		if errors.Is(e, ErrUnauthorized) && errors.Is(e, ErrForbidden) {
			t.Fatal("both unauthorized and forbidden")
		}
	})
}

// roundTrip checks that v, decoded from data, re-encodes to JSON that decodes to the same value.
func roundTrip[T any](t *testing.T, data []byte) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return
	}
	first, err := json.Marshal(v)
	if err != nil {
		// Only a timestamp can refuse to encode: one json accepts but RFC 3339 cannot hold.
		if !strings.Contains(err.Error(), "time") {
			t.Fatalf("%T encodes with %v", v, err)
		}
		return
	}
	var again T
	if err := json.Unmarshal(first, &again); err != nil {
		t.Fatalf("%T: re-decoding %s: %v", v, first, err)
	}
	second, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) && !sameWithoutNulls(t, first, second) {
		t.Fatalf("%T changed in a round trip:\n%s\n%s", v, first, second)
	}
}

// sameWithoutNulls compares two encodings with their null members dropped: absent and null mean
// the same on the wire, and encoding/json turns a pointer to an empty Date or Time ("" read into
// it) into null, then null into a nil pointer, which is omitted.
func sameWithoutNulls(t *testing.T, a, b []byte) bool {
	read := func(data []byte) any {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("re-reading %s: %v", data, err)
		}
		return dropNulls(v)
	}
	return reflect.DeepEqual(read(a), read(b))
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
			} else {
				v[k] = dropNulls(e)
			}
		}
	case []any:
		for i, e := range v {
			v[i] = dropNulls(e)
		}
	}
	return v
}

// FuzzAmount decodes arbitrary JSON as an Amount.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{`150`, `150.5`, `"150.50"`, `-0.01`, `1e2`, `"1E-5"`, `null`, `""`, `"  1 "`, `1e999999999`, `"0x1"`,
		`92233720368547758.07`, `92233720368547758.08`, `"-92233720368547758.08"`, `-92233720368547758.09`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Amount
		if err := json.Unmarshal(data, &a); err != nil {
			return
		}
		if len(a.String()) > 2*maxAmountLen {
			t.Fatalf("%q decoded to %d characters", data, len(a.String()))
		}
		roundTrip[Amount](t, data)
		b, _ := json.Marshal(a)
		var back Amount
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(a) {
			t.Fatalf("%s → %s → %s (%v)", data, b, back, err)
		}
		// Minor is exact when it says so, and says so whenever it can be
		kopecks := a.Decimal().Shift(2)
		fits := kopecks.IsInteger() && kopecks.Cmp(minMinor) >= 0 && kopecks.Cmp(maxMinor) <= 0
		if m, ok := a.Minor(); ok != fits || ok && !AmountFromMinor(m).Equal(a) {
			t.Fatalf("%s: Minor() = %d, %v", a.Decimal(), m, ok)
		}
	})
}

// FuzzTime decodes arbitrary JSON as a Time and as a Date.
func FuzzTime(f *testing.F) {
	for _, s := range []string{`"2026-02-16T09:42:00"`, `"2026-02-16T06:42:00.123456Z"`, `"2026-02-16T09:42:00+03:00"`,
		`"2026-02-16 09:42:00"`, `"2026-02-16"`, `"2026-02-16T09:42:00+0300"`, `null`, `"0000-01-01T00:00:00Z"`, `"9999-12-31T23:59:59-23:59"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip[Time](t, data)
		roundTrip[Date](t, data)
		var v Time
		if json.Unmarshal(data, &v) == nil && !v.IsZero() {
			b, err := json.Marshal(v)
			if err != nil {
				return
			}
			var back Time
			if err := json.Unmarshal(b, &back); err != nil || !back.Equal(v.Time) {
				t.Fatalf("%s → %s → %v (%v)", data, b, back, err)
			}
			// a changed time is written with its offset, however it was read
			moved := v
			moved.Time = v.Add(time.Nanosecond)
			if b, err := json.Marshal(moved); err == nil && !hasOffset(strings.Trim(string(b), `"`)) {
				t.Fatalf("%s changed, written without an offset: %s", data, b)
			}
		}
	})
}

// FuzzNormalizePhone: in every region tried, a normalised number is digits only and normalises to
// itself, with or without a "+"; a refusal is a typed error that does not repeat the number.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+7 (999) 123-45-67", "8 999 123 45 67", "9991234567", "79991234567", "+375 29 123-45-67", "12345", "", "+", "８９９９",
		"+44 20 7946 0958", "442079460958", "375291234567", "8 029 123 45 67", "+7 701 123 45 67", "77011234567", "+998 90 123 45 67",
		"998901234567", "+374 91 123456", "37491123456", "9611234567", "+961 1 234567", "+84 95 123 4567", "84951234567",
		"７９１６１２３４５６７", "＋７ ９１６ １２３-４５-６７", "٧٩١٦١٢٣٤٥٦٧", "810 44 20 7946 0958", "8 (916) 123-45-67 доб. 12"} {
		f.Add(s)
	}
	regions := []string{"RU", "KZ", "BY", "UZ", "AM", "GB", "DE", "US"}
	f.Fuzz(func(t *testing.T, raw string) {
		var given []byte // the digits of raw, which no error may repeat
		for _, r := range raw {
			if d, ok := asciiDigit(r); ok {
				given = append(given, d)
			}
		}
		for _, region := range regions {
			n, err := normalizePhone(raw, region, "phone")
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Field != "phone" {
					t.Fatalf("%s: untyped error %v", region, err)
				}
				if len(given) >= 5 && strings.Contains(err.Error(), string(given)) {
					t.Fatalf("%s: %q repeated in %q", region, given, err)
				}
				continue
			}
			// E.164 says at most 15 digits, but libphonenumber knows valid longer ones (German, 16)
			if n == "" || len(n) > 17 || strings.Trim(n, "0123456789") != "" {
				t.Fatalf("%s: %q → %q", region, raw, n)
			}
			for _, again := range []string{n, "+" + n} {
				if got, err := normalizePhone(again, region, "phone"); err != nil || got != n {
					t.Fatalf("%s: %q → %q, %q → %q (%v)", region, raw, n, again, got, err)
				}
			}
		}
	})
}

// FuzzDecodeResponses decodes arbitrary bytes as every response type.
func FuzzDecodeResponses(f *testing.F) {
	for name := range successFixtures {
		if r, err := fixture.Load("testdata/" + name); err == nil {
			f.Add(r.Body)
		}
	}
	if b, err := os.ReadFile("testdata/accounts/update.request.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip[Account](t, data)
		roundTrip[[]AccountGroup](t, data)
		roundTrip[RefillResult](t, data)
		roundTrip[[]Transaction](t, data)
		roundTrip[Check](t, data)
		roundTrip[BalanceExtended](t, data)
		roundTrip[NewAccount](t, data)
		roundTrip[AccountUpdate](t, data)
	})
}

// FuzzDoPath: a path Do accepts never leads off the base URL's host or out from under its path.
func FuzzDoPath(f *testing.F) {
	for _, p := range []string{"/api/v0/x", "/api/../x", "//evil/x", "/api/%2e%2e/x", "/a%20b", "/api/%2fx", "http://evil/", "/%zz"} {
		f.Add(p)
	}
	base, _ := url.Parse("http://probonus.test:11030/pb")
	f.Fuzz(func(t *testing.T, p string) {
		decoded, err := validatePath(p)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		u := *base
		u.Path += decoded
		sent, err := url.Parse(u.String())
		if err != nil {
			return
		}
		if sent.Host != base.Host || sent.Scheme != base.Scheme {
			t.Fatalf("%q left the host: %s", p, sent)
		}
		if clean := pathpkg.Clean(sent.Path); clean != "/pb" && !strings.HasPrefix(clean, "/pb/") {
			t.Fatalf("%q left the base path: %s", p, clean)
		}
	})
}

// The general ways the value types read JSON, as they were before the fast paths: the references
// the fuzz targets hold the fast paths to.
func slowAmount(b []byte) (Amount, error) {
	if string(b) == "null" {
		return Amount{}, nil
	}
	s := string(b)
	if len(b) >= 2 && b[0] == '"' {
		var err error
		if s, err = unquote(b); err != nil {
			return Amount{}, err
		}
		if strings.TrimSpace(s) == "" {
			return Amount{}, nil
		}
	}
	return ParseAmount(s)
}

func slowMinor(a Amount) (int64, bool) {
	kopecks := a.Decimal().Shift(2)
	whole := kopecks.Truncate(0)
	if whole.LessThan(minMinor) || whole.GreaterThan(maxMinor) {
		return 0, false
	}
	return whole.IntPart(), whole.Equal(kopecks)
}

func slowTime(b []byte) (Time, error) {
	if string(b) == "null" {
		return Time{}, nil
	}
	s, err := unquote(b)
	if err != nil || len(b) == 0 || b[0] != '"' {
		return Time{}, errors.New("not a string")
	}
	return parseTime(s, defaultLocation)
}

func slowDate(b []byte) (Date, error) {
	if string(b) == "null" {
		return Date{}, nil
	}
	s, err := unquote(b)
	if err != nil || len(b) == 0 || b[0] != '"' {
		return Date{}, errors.New("not a string")
	}
	if s == "" {
		return Date{}, nil
	}
	return ParseDate(s)
}

func sameDecimal(a, b Amount) bool {
	return a.Decimal().Exponent() == b.Decimal().Exponent() && a.Decimal().Cmp(b.Decimal()) == 0
}

// From the fast paths of issue 11 (fastpath_test.go).
// FuzzValuesFromBytes: Amount, Time and Date read from the bytes what the general way reads, to
// the exponent of a decimal and the location of a time, and refuse what it refuses.
func FuzzValuesFromBytes(f *testing.F) {
	for _, s := range []string{`150`, `150.5`, `"150.50"`, `-0.01`, `"-0.01"`, `1e2`, `"1E-5"`, `null`, `""`, `"  1 "`, `"1."`,
		`".5"`, `"-"`, `-.5`, `0`, `-0`, `"007"`, `123456789012345678`, `1234567890123456789`, `"1\u0030"`,
		`"2026-02-16T09:42:00"`, `"2026-02-16 09:42:00"`, `"2026-02-16T09:42:00.5"`, `"2026-02-16T09:42:00.123456789"`,
		`"2026-02-16T09:42:00.1234567891"`, `"2026-02-16T09:42:00Z"`, `"2026-02-16T09:42:00.25Z"`, `"2026-02-16T09:42:00z"`,
		`"2026-02-16T09:42:00+03:00"`, `"2026-02-16T09:42:00,5"`, `"2026-02-16T09:42:00."`, `"2026-02-29T00:00:00"`,
		`"2024-02-29T24:00:00"`, `"2026-02-16"`, `"2026-02-16Tanything"`, `"2026-13-01"`, `"0000-01-01"`, `"2026-02-16t09:42:00"`,
		`"\u0032026-02-16"`, `" 2026-02-16"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Amount
		aerr := a.UnmarshalJSON(data)
		want, werr := slowAmount(data)
		if (aerr == nil) != (werr == nil) || aerr == nil && !sameDecimal(a, want) {
			t.Fatalf("Amount %q: %v (%v), the general way %v (%v)", data, a.Decimal(), aerr, want.Decimal(), werr)
		}
		var tm Time
		terr := tm.UnmarshalJSON(data)
		wantT, werr := slowTime(data)
		if (terr == nil) != (werr == nil) || terr == nil && !reflect.DeepEqual(tm, wantT) {
			t.Fatalf("Time %q: %v (%v), the general way %v (%v)", data, tm, terr, wantT, werr)
		}
		var d Date
		derr := d.UnmarshalJSON(data)
		wantD, werr := slowDate(data)
		if (derr == nil) != (werr == nil) || d != wantD {
			t.Fatalf("Date %q: %v (%v), the general way %v (%v)", data, d, derr, wantD, werr)
		}
	})
}
