package probonus

import (
	"context"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"+7 (999) 123-45-67", "8 999 123 45 67", "9991234567", "79991234567", "+79991234567", "8(999)1234567", " 7 999 123-45-67 "} {
		got, err := NormalizePhone(in)
		require.NoError(t, err, in)
		assert.Equal(t, "79991234567", got, in)
	}
	got, err := NormalizePhone("+375 29 123-45-67")
	require.NoError(t, err, "a foreign number with its country code")
	assert.Equal(t, "375291234567", got)
	got, err = NormalizePhone("+3522020")
	require.NoError(t, err, "found by the fuzzer: a valid seven-digit number (Luxembourg)")
	assert.Equal(t, "3522020", got)
	got, err = NormalizePhone("+4921000000000000")
	require.NoError(t, err, "found by the fuzzer: a valid sixteen-digit German number")
	assert.Equal(t, "4921000000000000", got)
	for _, bad := range []string{"", "12345", "+7 (999) 123", "not a phone", "79991234567890123", "+7 000 000 00 00", "+99999999999999999999999999999999999999"} {
		_, err := NormalizePhone(bad)
		var ie *InputError
		require.ErrorAs(t, err, &ie, bad)
		assert.Equal(t, "phone", ie.Field)
	}
	kz, err := New(WithBaseURL(testBase), WithoutAuth(), WithPhoneRegion("KZ"))
	require.NoError(t, err)
	got, err = kz.NormalizePhone("8 701 123 45 67")
	require.NoError(t, err)
	assert.Equal(t, "77011234567", got)
}

// TestNormalizePhoneIsIdempotent: what NormalizePhone returns normalises to itself, in every region
// tried, for the guests restaurants in Russia commonly see: Britain, Belarus, Kazakhstan,
// Uzbekistan, Armenia (issue 10 #6: "442079460958" was refused as a bad Russian number).
func TestNormalizePhoneIsIdempotent(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"+44 20 7946 0958", "442079460958"},
		{"+375 29 123-45-67", "375291234567"},
		{"+7 701 123 45 67", "77011234567"},
		{"+998 90 123 45 67", "998901234567"},
		{"+374 91 123456", "37491123456"},
		{"+7 (916) 123-45-67", "79161234567"},
		{"+1 800 356 9377", "18003569377"},
		{"+49 30 12345678", "493012345678"},
		{"+3522020", "3522020"},
	}
	for _, region := range []string{"RU", "KZ", "BY", "UZ", "AM", "GB", "US"} {
		for _, tt := range tests {
			first, err := normalizePhone(tt.in, region, "phone")
			require.NoError(t, err, "%s in %s", tt.in, region)
			assert.Equal(t, tt.want, first, "%s in %s", tt.in, region)
			for _, again := range []string{first, "+" + first, " " + first + " "} {
				got, err := normalizePhone(again, region, "phone")
				require.NoError(t, err, "%q in %s", again, region)
				assert.Equal(t, first, got, "%q in %s", again, region)
			}
		}
	}
}

// TestNormalizePhoneReadingOrder: digits without "+" are the region's API form, then a national
// number of the region, then another country's API form; a foreign number whose API form would be
// read back as a number of the region is refused, never sent to be confused later.
func TestNormalizePhoneReadingOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region, in, want string
		ambiguous        bool
	}{
		{"RU", "9611234567", "79611234567", false},      // Beeline, not Lebanon's +961 1 234567
		{"RU", "84951234567", "74951234567", false},     // Moscow with the trunk prefix, not Vietnam
		{"RU", "442079460958", "442079460958", false},   // no Russian number: Britain's API form
		{"RU", "375291234567", "375291234567", false},   // Belarus
		{"RU", "998901234567", "998901234567", false},   // Uzbekistan
		{"RU", "37491123456", "37491123456", false},     // Armenia
		{"RU", "77011234567", "77011234567", false},     // Kazakhstan shares +7
		{"RU", "8 701 123 45 67", "77011234567", false}, // and Russia's trunk prefix
		{"RU", "810 44 20 7946 0958", "442079460958", false},
		{"RU", "+961 1 234567", "", true},
		{"RU", "+84 95 123 4567", "", true},
		{"RU", "+960 777 1234", "", true},
		{"KZ", "+84 95 123 4567", "", true},
		{"GB", "+84 95 123 4567", "84951234567", false}, // not ambiguous where 8 is no trunk prefix
		{"GB", "84951234567", "84951234567", false},
		{"GB", "9611234567", "9611234567", false},
		{"BY", "8 029 123 45 67", "375291234567", false},
		{"BY", "80291234567", "375291234567", false},
		// German national numbers vary in length and "442079460958" is one of them
		{"DE", "+44 20 7946 0958", "", true},
		{"DE", "030 12345678", "493012345678", false},
	}
	for _, tt := range tests {
		got, err := normalizePhone(tt.in, tt.region, "phone")
		if tt.ambiguous {
			var ie *InputError
			require.ErrorAs(t, err, &ie, "%s in %s", tt.in, tt.region)
			assert.Contains(t, ie.Reason, "ambiguous for region "+tt.region, tt.in)
			assert.NotContains(t, err.Error(), digitsOf(tt.in)[2:], "the number is not repeated")
			continue
		}
		require.NoError(t, err, "%s in %s", tt.in, tt.region)
		assert.Equal(t, tt.want, got, "%s in %s", tt.in, tt.region)
	}
}

// TestNormalizePhoneWideDigits: full-width digits (an IME's) and Arabic-Indic ones are digits.
func TestNormalizePhoneWideDigits(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"７９１６１２３４５６７", "＋７ ９１６ １２３-４５-６７", "８ (９１６) １２３ ４５ ６７", "٧٩١٦١٢٣٤٥٦٧", "۸۹۱۶۱۲۳۴۵۶۷"} {
		got, err := NormalizePhone(in)
		require.NoError(t, err, in)
		assert.Equal(t, "79161234567", got, in)
	}
	got, err := NormalizePhone("４４２０７９４６０９５８")
	require.NoError(t, err, "another country's API form in full-width digits")
	assert.Equal(t, "442079460958", got)
	_, err = NormalizePhone("７９１６")
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Contains(t, err.Error(), "(4 digits given)", "full-width digits are counted as digits")
}

// TestPhoneErrorsSayWhatWasExpected: the reason names the region and the shape wanted, counts the
// digits given, and never repeats the number (personal data, and errors end up in logs).
func TestPhoneErrorsSayWhatWasExpected(t *testing.T) {
	t.Parallel()
	tests := []struct{ region, in, want string }{
		{"RU", "12345", "invalid phone: not a valid phone number for region RU (5 digits given): " +
			"want a national number of 10 digits, optionally after 8 or 7, or + and the country code"},
		{"RU", "+7 (916) 123-45", "not a valid phone number for region RU (9 digits given: 8 after +7)"},
		{"RU", "8 916 123 45 67 89", "not a valid phone number for region RU (13 digits given: 12 after the leading 8)"},
		{"BY", "8 029 123 45", "not a valid phone number for region BY (9 digits given: 8 after the leading 8): " +
			"want a national number of 9 digits, optionally after 8 or 375, or + and the country code"},
		{"RU", "guest", "not a phone number: no digits given"},
		{"RU", "", "empty phone number"},
		{"RU", strings.Repeat("9", 41), "too long for a phone number (41 characters given, at most 40)"},
		{"RU", "+84 95 123 4567", "ambiguous for region RU: the API form of this +84 number (11 digits, no +) also reads as a number of region RU"},
		// issue 17 #17: letters and extensions are refused, saying why
		{"RU", "89991234567x", "holds a letter: a guest's phone is digits with an optional leading + and separators, without an extension (доб., ext., x)"},
		{"RU", "+7 (999) 123-45-67 доб. 12", "holds a letter"},
		{"RU", "+7 999 123 45 67 ext. 3", "holds a letter"},
		{"RU", "+7 999 123-45-67#12", `holds '#'`},
		{"RU", "7 999 +123 45 67", "holds a + after the start"},
		// the right length, a start no number has: say so, not "want 10 digits"
		{"RU", "1234567890", "(10 digits given, as many as a national number has, but no number of the region begins so): check its first digits"},
		{"RU", "8 000 456 78 90", "(11 digits given: 10 after the leading 8, as many as a national number has"},
	}
	for _, tt := range tests {
		_, err := normalizePhone(tt.in, tt.region, "phone")
		require.ErrorIs(t, err, ErrInvalidInput, tt.in)
		assert.Contains(t, err.Error(), tt.want, tt.in)
		if d := digitsOf(tt.in); len(d) >= 4 {
			assert.NotContains(t, err.Error(), d[len(d)-4:], "%s: the number's digits are not in the message", tt.in)
		}
	}
}

// TestFindByPhoneTakesTheAccountsPhone: the phone an account comes back with is accepted as it is,
// for a foreign guest too, and sent unchanged.
func TestFindByPhoneTakesTheAccountsPhone(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	var sent []string
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/accounts/find_by_phone"), func(req *http.Request) (*http.Response, error) {
		sent = append(sent, req.URL.Query().Get("phone"))
		return httpmock.NewStringResponse(200, `{"id":7,"phone":"`+req.URL.Query().Get("phone")+`"}`), nil
	})
	for _, in := range []string{"+44 20 7946 0958", "+375 29 123-45-67", "+998 90 123 45 67", "+374 91 123456", "8 701 123 45 67"} {
		acc, err := c.Accounts.FindByPhone(context.Background(), in)
		require.NoError(t, err, in)
		again, err := c.Accounts.FindByPhone(context.Background(), acc.Phone)
		require.NoError(t, err, "FindByPhone(%q), the phone of %s", acc.Phone, in)
		assert.Equal(t, acc.Phone, again.Phone)
	}
	assert.Equal(t, []string{"442079460958", "442079460958", "375291234567", "375291234567", "998901234567", "998901234567",
		"37491123456", "37491123456", "77011234567", "77011234567"}, sent)
}

// digitsOf keeps the ASCII and full-width digits of s, as ASCII.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if d, ok := asciiDigit(r); ok {
			b.WriteByte(d)
		}
	}
	return b.String()
}

// FuzzPlainEmail holds the fast path of validateEmail to net/mail: whatever it accepts, the parser
// accepts unchanged, with a dot in the domain.
func FuzzPlainEmail(f *testing.F) {
	for _, s := range []string{"anna@example.com", "a.b+c@mail.ru", "x@y", "a..b@c.d", ".a@b.c", "a@b..c", "a@-b.c", "a@b.c-", "a%b@c.d", "a_b@c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainEmail(s) {
			return
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s {
			t.Fatalf("plainEmail(%q) accepted what net/mail reads as %v, %v", s, a, err)
		}
	})
}

func TestPlainEmail(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"anna@example.com": true, "a.b+c_d%e-f@mail.example.ru": true, "x@y": false,
		"a..b@c.d": false, ".a@b.c": false, "a.@b.c": false, "a@b..c": false, "a@.b.c": false, "a b@c.d": false,
		"\"a\"@b.c": false, "a@b.c.": false, "@b.c": false, "a@": false, "анна@почта.рф": false} {
		assert.Equal(t, want, plainEmail(s), s)
		if want {
			assert.NoError(t, validateEmail("e", s))
		}
	}
}
