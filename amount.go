package probonus

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Amount is an exact decimal for money and percentages. It decodes a JSON number or a string
// ("150.50", as Pydantic v2 sends Decimal) and encodes a JSON number; it never passes through a
// float64. The zero value is 0.
//
// An amount of up to 18 significant digits, which is every amount a server sends, is held as an
// int64 coefficient and an exponent, and costs no allocation to read, compare, add or print; a
// decimal.Decimal is built only when Decimal asks for one. Amounts are compared with Equal or Cmp:
// 150.5 and 150.50 are equal but not ==.
type Amount struct {
	coef int64            // the coefficient when big is nil: |coef| <= maxInline
	exp  int32            // the exponent when big is nil
	big  *decimal.Decimal // an amount of more than 18 digits, never changed once made
}

// Limits that keep a hostile number from costing unbounded memory when printed: at most 40
// integer digits and 30 decimals. Within them an amount's own encoding (at most 73 characters)
// always reads back.
const (
	maxAmountLen      = 100
	maxAmountDigits   = 40
	maxAmountExponent = 30
)

// maxInline is the largest coefficient an Amount holds without a big.Int: 18 digits, so that the
// sum of two never overflows an int64.
const maxInline = 999_999_999_999_999_999

// pow10 are the powers of ten an int64 holds.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// inline makes the amount coef × 10^exp, without a big.Int when coef has at most 18 digits.
func inline(coef int64, exp int32) Amount {
	if coef < -maxInline || coef > maxInline {
		return fromDecimal(decimal.New(coef, exp))
	}
	return Amount{coef: coef, exp: exp}
}

// fromDecimal makes an Amount of d, keeping its coefficient and exponent; every Amount is made
// here or by inline, so that one number with one exponent has one form (reflect.DeepEqual and
// the fuzz targets that compare decoders rely on it).
func fromDecimal(d decimal.Decimal) Amount {
	if d.NumDigits() <= 18 { // allocates nothing for a coefficient within an int64
		return Amount{coef: d.CoefficientInt64(), exp: d.Exponent()}
	}
	return Amount{big: &d}
}

// NewAmount makes an Amount from a decimal.
func NewAmount(d decimal.Decimal) Amount { return fromDecimal(d) }

// AmountFromMinor makes an Amount from minor units: AmountFromMinor(15050) is 150.50.
func AmountFromMinor(kopecks int64) Amount { return inline(kopecks, -2) }

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
	return fromDecimal(d), nil
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
	if neg {
		coef = -coef
	}
	return Amount{coef: coef, exp: int32(-frac)}, true
}

// MustAmount is ParseAmount for constants; it panics on a malformed amount.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// Decimal returns the amount as a decimal.Decimal, for arithmetic beyond the methods here, with
// the coefficient and exponent it was read with (150.50 has exponent -2).
func (a Amount) Decimal() decimal.Decimal {
	switch {
	case a.big != nil:
		return *a.big
	case a.coef == 0 && a.exp == 0:
		return decimal.Decimal{}
	}
	return decimal.New(a.coef, a.exp)
}

// String formats with two decimals, rounded half away from zero: "150.50".
func (a Amount) String() string {
	if b, ok := a.appendFixed2(make([]byte, 0, 24)); ok {
		return string(b)
	}
	return a.Decimal().StringFixed(2)
}

// appendFixed2 appends what decimal's StringFixed(2) writes for an inline amount whose exponent
// is within ±40; ok is false for any other.
func (a Amount) appendFixed2(b []byte) (_ []byte, ok bool) {
	if a.big != nil || a.exp > 40 || a.exp < -40 {
		return b, false
	}
	c, zeros := a.coef, int(a.exp)+2 // the amount is c kopecks followed by zeros zeros
	if zeros < 0 {
		// drop -zeros digits, rounding half away from zero
		q, r := int64(0), c
		if -zeros <= 18 {
			p := pow10[-zeros]
			q, r = c/p, c%p
			switch {
			case r > 0 && r >= p-r:
				q++
			case r < 0 && -r >= p+r:
				q--
			}
		} // else |c| < 10^18 is less than half of 10^-zeros: q = 0
		c, zeros = q, 0
	}
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	// the kopecks' digits, at least three, then the point put before the last two
	var buf [64]byte
	k := append(buf[:0], "00"...) // so that there are at least three
	k = strconv.AppendInt(k, c, 10)
	for range zeros {
		k = append(k, '0')
	}
	whole := k[:len(k)-2]
	for len(whole) > 1 && whole[0] == '0' {
		whole = whole[1:]
	}
	return append(append(append(b, whole...), '.'), k[len(k)-2:]...), true
}

// Minor returns the amount in minor units (kopecks) and whether that is exact. ok is false when
// the amount has a fraction of a kopeck (m is then truncated toward zero) or when it does not
// fit in an int64, beyond ±92233720368547758.07 (m is then 0). Check ok before using m.
func (a Amount) Minor() (m int64, ok bool) {
	if a.big == nil {
		// Integer arithmetic on the coefficient, as the decimals below would do it.
		switch c, e := a.coef, a.exp; {
		case e >= -2:
			for ; e > -2; e-- {
				if c > math.MaxInt64/10 || c < math.MinInt64/10 {
					return 0, false // beyond an int64 of kopecks
				}
				c *= 10
			}
			return c, true
		case e >= -20:
			p := pow10[-2-e]
			return c / p, c%p == 0
		default:
			return 0, c == 0 // |c| < 10^18: less than a kopeck, truncated to 0
		}
	}
	kopecks := a.big.Shift(2)
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

// aligned returns a's and b's coefficients at the smaller of their exponents, as decimal's Add
// and Cmp align them, when both are inline and both scaled coefficients fit in 18 digits.
func aligned(a, b Amount) (ca, cb int64, exp int32, ok bool) {
	if a.big != nil || b.big != nil {
		return 0, 0, 0, false
	}
	ca, cb, exp = a.coef, b.coef, min(a.exp, b.exp)
	scale := func(c int64, by int64) (int64, bool) {
		if by == 0 || c == 0 {
			return c, true
		}
		if by > 18 {
			return 0, false
		}
		p := pow10[by]
		if c > maxInline/p || c < -maxInline/p {
			return 0, false
		}
		return c * p, true
	}
	var oka, okb bool
	ca, oka = scale(ca, int64(a.exp)-int64(exp))
	cb, okb = scale(cb, int64(b.exp)-int64(exp))
	return ca, cb, exp, oka && okb
}

// Add returns a + b, with the smaller of their exponents (as decimal's Add).
func (a Amount) Add(b Amount) Amount {
	if ca, cb, exp, ok := aligned(a, b); ok {
		return inline(ca+cb, exp)
	}
	return fromDecimal(a.Decimal().Add(b.Decimal()))
}

// Sub returns a - b, with the smaller of their exponents.
func (a Amount) Sub(b Amount) Amount {
	if ca, cb, exp, ok := aligned(a, b); ok {
		return inline(ca-cb, exp)
	}
	return fromDecimal(a.Decimal().Sub(b.Decimal()))
}

// Neg returns -a.
func (a Amount) Neg() Amount {
	if a.big == nil {
		return Amount{coef: -a.coef, exp: a.exp}
	}
	return fromDecimal(a.big.Neg())
}

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
func (a Amount) Cmp(b Amount) int {
	if ca, cb, _, ok := aligned(a, b); ok {
		return cmp.Compare(ca, cb)
	}
	if sa, sb := a.Sign(), b.Sign(); sa != sb {
		return cmp.Compare(sa, sb)
	}
	return a.Decimal().Cmp(b.Decimal())
}

// Equal reports whether a and b are the same number (150.5 equals 150.50).
func (a Amount) Equal(b Amount) bool { return a.Cmp(b) == 0 }

// IsZero reports whether the amount is 0.
func (a Amount) IsZero() bool { return a.big == nil && a.coef == 0 }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int {
	if a.big != nil {
		return a.big.Sign()
	}
	return cmp.Compare(a.coef, 0)
}

// MarshalJSON writes a JSON number, exactly.
func (a Amount) MarshalJSON() ([]byte, error) {
	if b, ok := a.appendNumber(make([]byte, 0, 24)); ok {
		return b, nil
	}
	return []byte(a.Decimal().String()), nil
}

// appendNumber appends what decimal's String writes (the digits, a point only before a fraction,
// no trailing zeros after it) for an inline amount with an exponent within ±30, without big.Int's
// formatting and its allocations; ok is false for any other amount.
func (a Amount) appendNumber(b []byte) (_ []byte, ok bool) {
	c, e := a.coef, a.exp
	if a.big != nil || e > 30 || e < -30 {
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
