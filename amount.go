package probonus

import (
	"fmt"
	"math"
	"strconv"
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
// parser: money arrives this way in every response, many times per transaction list. It reads a
// JSON body's bytes as well as a string.
func parsePlainAmount[T string | []byte](s T) (Amount, bool) {
	start := 0
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		start = 1
	}
	var coef int64
	digits, frac, dot := 0, 0, false
	for i := start; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			coef = coef*10 + int64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot && i > start && i < len(s)-1:
			dot = true
		default:
			return Amount{}, false
		}
	}
	if digits == 0 || digits > 18 {
		return Amount{}, false
	}
	if coef == 0 && frac == 0 {
		return Amount{}, true // the zero value is 0 (exponent 0) without a big.Int
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
	if c, e, small := a.small(); small {
		// Integer arithmetic on the coefficient, as the decimals below would do it.
		switch {
		case e >= -2:
			for ; e > -2; e-- {
				if c > math.MaxInt64/10 || c < math.MinInt64/10 {
					return 0, false // beyond an int64 of kopecks
				}
				c *= 10
			}
			return c, true
		case e >= -17:
			p := int64(1)
			for ; e < -2; e++ {
				p *= 10
			}
			return c / p, c%p == 0
		}
		return 0, c == 0 // |c| < 10^16: less than a kopeck, truncated to 0
	}
	kopecks := a.d.Shift(2)
	whole := kopecks.Truncate(0)
	if whole.LessThan(minMinor) || whole.GreaterThan(maxMinor) {
		return 0, false
	}
	return whole.IntPart(), whole.Equal(kopecks)
}

// small returns the amount's coefficient and exponent when the coefficient has at most 15 digits
// (decimal.NumDigits allocates nothing below 2^53), as every amount a server sends has: arithmetic
// on it needs no big.Int.
func (a Amount) small() (coef int64, exp int32, ok bool) {
	if a.d.NumDigits() > 15 {
		return 0, 0, false
	}
	return a.d.CoefficientInt64(), a.d.Exponent(), true
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
func (a Amount) MarshalJSON() ([]byte, error) {
	if b, ok := a.appendNumber(make([]byte, 0, 24)); ok {
		return b, nil
	}
	return []byte(a.d.String()), nil
}

// appendNumber appends what a.d.String() writes (the digits, a point only before a fraction, no
// trailing zeros after it) for a small amount with an exponent within ±30, without big.Int's
// formatting and its allocations; ok is false for any other amount.
func (a Amount) appendNumber(b []byte) (_ []byte, ok bool) {
	c, e, small := a.small()
	if !small || e > 30 || e < -30 {
		return b, false
	}
	if c == 0 {
		return append(b, '0'), true
	}
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], c, 10)
	if e >= 0 {
		b = append(b, digits...)
		for range e {
			b = append(b, '0')
		}
		return b, true
	}
	point := len(digits) + int(e) // where the point goes among the digits; <= 0: "0.000ddd"
	frac := digits[max(point, 0):]
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if point > 0 {
		b = append(b, digits[:point]...)
	} else {
		b = append(b, '0')
	}
	if len(frac) > 0 {
		b = append(b, '.')
		for range -point {
			b = append(b, '0')
		}
		b = append(b, frac...)
	}
	return b, true
}

// UnmarshalJSON reads a JSON number or a string holding one; null and "" leave the amount zero.
func (a *Amount) UnmarshalJSON(b []byte) error {
	// The usual forms, a number or a quoted number with at most 18 digits, straight from the
	// bytes; anything else (null, spaces, exponents, escapes, errors) takes the general way.
	if len(b) > 0 && b[0] != '"' {
		if v, ok := parsePlainAmount(b); ok {
			*a = v
			return nil
		}
	} else if len(b) > 2 && b[len(b)-1] == '"' {
		if v, ok := parsePlainAmount(b[1 : len(b)-1]); ok {
			*a = v
			return nil
		}
	}
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
