package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCampaignFileAmounts: exact to the kopeck, positive, the decimal comma only where it cannot
// be a separator of thousands.
func TestCampaignFileAmounts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		comma rune
		want  string // the amount, or the problem
	}{
		{"50", ',', "50.00"},
		{"12.5", ',', "12.50"},
		{"50,00", ';', "50.00"},
		{"1 000,50", ';', "1000.50"},
		{"1\u202f000,50", ';', "1000.50"},
		{"1 000.50", ',', "1000.50"},
		{"0", ',', `"0": must be positive`},
		{"-5", ',', `"-5": must be positive`},
		{"0.001", ',', `"0.001" has a fraction of a kopeck`},
		{"1e3", ',', `"1e3": want a number such as 50 or 12.50`},
		{"fifty", ',', `"fifty": want a number such as 50 or 12.50`},
		{"10 00", ';', `"10 00": want a number such as 50 or 12.50`},
		{"", ',', "empty"},
	} {
		a, msg := parseCampaignAmount(tc.in, tc.comma)
		if msg != "" {
			assert.Equal(t, tc.want, msg, "%q", tc.in)
			continue
		}
		assert.Equal(t, tc.want, a.String(), "%q", tc.in)
	}
}

// issue 26 item 3: in a semicolon (decimal comma) file a dot before three digits may be a
// thousands separator, as a comma is in a comma file: refused, saying what to write.
func TestCampaignFileDotThousands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		comma rune
		want  string
	}{
		{"1.000", ';', `"1.000": in a semicolon file the decimal separator is the comma, and a dot before three digits may separate thousands: write 1000 (no separator) or 1,00 (the decimal comma)`},
		{"12.500", ';', `"12.500": in a semicolon file the decimal separator is the comma, and a dot before three digits may separate thousands: write 12500 (no separator) or 12,50 (the decimal comma)`},
		{"1.000.000", ';', `"1.000.000": in a semicolon file the decimal separator is the comma: write the amount without a thousands separator, 1000000`},
		{"1.000,50", ';', `"1.000,50": in a semicolon file the decimal separator is the comma: write the amount without a thousands separator, 1000,50`},
		{"1,000.50", ';', `"1,000.50": in a semicolon file the decimal separator is the comma: write the amount without a thousands separator, 1000,50`},
		{"1,000", ',', `"1,000": a comma in an amount is read only in a semicolon file, and before three digits it may separate thousands: write 1000 (no separator) or 1.00 (the decimal point)`},
		{"1,000.50", ',', `"1,000.50": a comma in an amount is read only in a semicolon file: write the amount without a thousands separator, 1000.50`},
		{"50,00", ',', `"50,00": a comma in an amount is read only in a semicolon file: write 50.00`},
	} {
		_, msg := parseCampaignAmount(tc.in, tc.comma)
		assert.Equal(t, tc.want, msg, "%q in a %q file", tc.in, tc.comma)
	}
	for _, ok := range []struct{ in, want string }{{"1.5", "1.50"}, {"1.50", "1.50"}, {"1000", "1000.00"}, {"1000,5", "1000.50"}, {"0.125", ""}} {
		a, msg := parseCampaignAmount(ok.in, ';')
		if ok.want == "" {
			assert.Equal(t, `"0.125" has a fraction of a kopeck`, msg, "a thousands group never starts with 0")
			continue
		}
		assert.Empty(t, msg, ok.in)
		assert.Equal(t, ok.want, a.String(), ok.in)
	}
}
