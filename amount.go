package probonus

import (
	"fmt"
	"math"
	"strings"

	"github.com/shopspring/decimal"
)

// Amount is an exact decimal for money and percentages. It decodes a JSON number or a string
// ("150.50", as Pydantic v2 sends Decimal) and encodes a JSON number; it never passes through a
// float64. The zero value is 0.
type Amount struct{ d decimal.Decimal }

// Limits that keep a hostile number from costing unbounded memory when printed: at most 40
// integer digits and 30 decimals. Within them an amount's own encoding (at most 73 characters)
// always reads back.
const (
	maxAmountLen      = 100
	maxAmountDigits   = 40
	maxAmountExponent = 30
)

// NewAmount makes an Amount from a decimal.
func NewAmount(d decimal.Decimal) Amount { return Amount{d} }

// AmountFromMinor makes an Amount from minor units: AmountFromMinor(15050) is 150.50.
func AmountFromMinor(kopecks int64) Amount { return Amount{decimal.New(kopecks, -2)} }

// ParseAmount reads a decimal such as "150", "150.5" or "-0.01".
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxAmountLen {
		return Amount{}, fmt.Errorf("probonus: amount %.20q: empty or too long", s)
	}
	if a, ok := parsePlainAmount(s); ok {
		return a, nil
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return Amount{}, fmt.Errorf("probonus: amount %.20q: not a decimal number", s)
		}
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Amount{}, fmt.Errorf("probonus: amount %.20q: not a decimal number", s)
	}
	// Bounds on the written form (its integer digits and decimals), which the encoding keeps or
	// shrinks, so whatever is read here reads back after encoding.
	if e := d.Exponent(); e < -maxAmountExponent || d.NumDigits()+int(max(e, 0)) > maxAmountDigits {
		return Amount{}, fmt.Errorf("probonus: amount %.20q: out of range", s)
	}
	return Amount{d}, nil
}

// parsePlainAmount reads the common form, "-123.45" with at most 18 digits, without the general
// parser: money arrives this way in every response, many times per transaction list.
func parsePlainAmount(s string) (Amount, bool) {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var coef int64
	digits, frac, dot := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			coef = coef*10 + int64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		default:
			return Amount{}, false
		}
	}
	if digits == 0 || digits > 18 {
		return Amount{}, false
	}
	if neg {
		coef = -coef
	}
	return Amount{decimal.New(coef, int32(-frac))}, true
}

// MustAmount is ParseAmount for constants; it panics on a malformed amount.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// Decimal returns the amount as a decimal.Decimal, for arithmetic beyond the methods here.
func (a Amount) Decimal() decimal.Decimal { return a.d }

// String formats with two decimals: "150.50".
func (a Amount) String() string { return a.d.StringFixed(2) }

// Minor returns the amount in minor units (kopecks) and whether that is exact. ok is false when
// the amount has a fraction of a kopeck (m is then truncated toward zero) or when it does not
// fit in an int64, beyond ±92233720368547758.07 (m is then 0). Check ok before using m.
func (a Amount) Minor() (m int64, ok bool) {
	kopecks := a.d.Shift(2)
	whole := kopecks.Truncate(0)
	if whole.LessThan(minMinor) || whole.GreaterThan(maxMinor) {
		return 0, false
	}
	return whole.IntPart(), whole.Equal(kopecks)
}

// The range of Minor: what an int64 of kopecks holds.
var (
	minMinor = decimal.NewFromInt(math.MinInt64)
	maxMinor = decimal.NewFromInt(math.MaxInt64)
)

// Add returns a + b.
func (a Amount) Add(b Amount) Amount { return Amount{a.d.Add(b.d)} }

// Sub returns a - b.
func (a Amount) Sub(b Amount) Amount { return Amount{a.d.Sub(b.d)} }

// Neg returns -a.
func (a Amount) Neg() Amount { return Amount{a.d.Neg()} }

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
func (a Amount) Cmp(b Amount) int { return a.d.Cmp(b.d) }

// Equal reports whether a and b are the same number (150.5 equals 150.50).
func (a Amount) Equal(b Amount) bool { return a.d.Equal(b.d) }

// IsZero reports whether the amount is 0.
func (a Amount) IsZero() bool { return a.d.IsZero() }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int { return a.d.Sign() }

// MarshalJSON writes a JSON number, exactly.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.d.String()), nil }

// UnmarshalJSON reads a JSON number or a string holding one; null and "" leave the amount zero.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) >= 2 && b[0] == '"' {
		var err error
		if s, err = unquote(b); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			*a = Amount{}
			return nil
		}
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}
