package probonus

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"math/bits"
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

// RoundingMode is the rule by which Mul, Percent and Round bring a result to the kopeck (two
// decimal places). Its zero value is no rule: the methods refuse it, so that every calculation
// says how it rounds.
type RoundingMode uint8

// The rounding modes. Each names the rule of shopspring/decimal's method beside it, which gives
// the same result. The examples round to the kopeck.
const (
	// RoundHalfUp rounds to the nearest kopeck, a half away from zero: 0.125 to 0.13 and -0.125
	// to -0.13. The rounding of receipts and of Russian accounting practice (decimal's Round);
	// Amount.String rounds this way too.
	RoundHalfUp RoundingMode = iota + 1
	// RoundHalfEven rounds to the nearest kopeck, a half to the even kopeck: 0.125 to 0.12 and
	// 0.135 to 0.14. Banker's rounding (IEEE 754's default, decimal's RoundBank): over many
	// credits, ties do not push a total up.
	RoundHalfEven
	// RoundDown drops a fraction of a kopeck, toward zero: 0.129 to 0.12 and -0.129 to -0.12. A
	// bonus is never more than the rate gives (decimal's RoundDown, Truncate(2)).
	RoundDown
	// RoundUp rounds any fraction of a kopeck away from zero: 0.121 to 0.13 and -0.121 to -0.13
	// (decimal's RoundUp).
	RoundUp
	// RoundFloor rounds toward minus infinity: 0.129 to 0.12 and -0.121 to -0.13 (decimal's
	// RoundFloor).
	RoundFloor
	// RoundCeiling rounds toward plus infinity: 0.121 to 0.13 and -0.129 to -0.12 (decimal's
	// RoundCeil).
	RoundCeiling
)

var roundingModeNames = [...]string{"", "RoundHalfUp", "RoundHalfEven", "RoundDown", "RoundUp", "RoundFloor", "RoundCeiling"}

// String returns the mode's name, "RoundHalfUp"; an invalid mode reads "RoundingMode(9)".
func (m RoundingMode) String() string {
	if m.valid() {
		return roundingModeNames[m]
	}
	return "RoundingMode(" + strconv.Itoa(int(m)) + ")"
}

func (m RoundingMode) valid() bool { return m >= RoundHalfUp && m <= RoundCeiling }

// Mul returns a × factor rounded to the kopeck by mode: the exact product, rounded once, with
// two decimals (exponent -2). Any signs are taken. The error, an *InputError, is for a mode that
// is not one of the RoundingMode constants, or a product beyond the 40 digits an Amount reads.
func (a Amount) Mul(factor Amount, mode RoundingMode) (Amount, error) {
	return a.mulRound("Amount.Mul", "factor", factor, 0, mode)
}

// Percent returns p percent of a, a × p / 100, rounded to the kopeck by mode: 5% of 1,234.50 is
// 61.725 exactly, 61.73 by RoundHalfUp and 61.72 by RoundHalfEven or RoundDown. Only the exact
// result is rounded, once. p is an Amount as the server's percentages are (Level.BonusPercent,
// Account.DiscountPercent); it may have any number of decimals, exceed 100, or be negative (the
// sign of the result follows a's and p's): check a percentage from a file or a form for the
// range your program allows before using it. The error is Mul's.
func (a Amount) Percent(p Amount, mode RoundingMode) (Amount, error) {
	return a.mulRound("Amount.Percent", "p", p, -2, mode)
}

// Round returns a rounded to the kopeck by mode, with two decimals (exponent -2). The error, an
// *InputError, is for an invalid mode.
func (a Amount) Round(mode RoundingMode) (Amount, error) {
	return a.mulRound("Amount.Round", "amount", Amount{coef: 1}, 0, mode)
}

// upow10 are the powers of ten a uint64 holds.
var upow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// mulRound returns a × f × 10^shift rounded to the kopeck by mode: on the int64 coefficients when
// their product fits in one, else on decimals, with the same result.
func (a Amount) mulRound(op, field string, f Amount, shift int32, mode RoundingMode) (Amount, error) {
	if !mode.valid() {
		return Amount{}, &InputError{Op: op, Field: "mode", Reason: "no rounding mode " + mode.String() + ": choose one, such as RoundHalfUp"}
	}
	if a.big == nil && f.big == nil {
		neg := (a.coef < 0) != (f.coef < 0)
		hi, m := bits.Mul64(uabs(a.coef), uabs(f.coef))
		e := int64(a.exp) + int64(f.exp) + int64(shift) // the product is ±m × 10^e
		switch {
		case hi != 0 || m > math.MaxInt64:
		case m == 0:
			return Amount{exp: -2}, nil
		case e < -2:
			return inline(signed(roundMagnitude(m, -2-e, neg, mode), neg), -2), nil
		case e+2 <= 18 && m <= maxInline/upow10[e+2]:
			return inline(signed(m*upow10[e+2], neg), -2), nil // exact in kopecks
		}
	}
	x, y := a.Decimal(), f.Decimal()
	if x.IsZero() || y.IsZero() {
		return Amount{exp: -2}, nil
	}
	// |x × y × 10^shift| < 10^digits, and at least 10^(digits-2)
	digits := int64(x.NumDigits()) + int64(x.Exponent()) + int64(y.NumDigits()) + int64(y.Exponent()) + int64(shift)
	var product decimal.Decimal
	switch {
	case digits-2 >= maxAmountDigits:
		return Amount{}, outOfRange(op, field)
	case digits <= -3:
		// below 0.001: to the kopeck it rounds as any number of its sign below half a kopeck does,
		// and 0.0001 stands for it without the big power of ten its exponent would cost
		product = decimal.New(int64(x.Sign()*y.Sign()), -4)
	default:
		product = x.Mul(y).Shift(shift)
	}
	var r decimal.Decimal
	switch mode {
	case RoundHalfUp:
		r = product.Round(2)
	case RoundHalfEven:
		r = product.RoundBank(2)
	case RoundDown:
		r = product.RoundDown(2)
	case RoundUp:
		r = product.RoundUp(2)
	case RoundFloor:
		r = product.RoundFloor(2)
	case RoundCeiling:
		r = product.RoundCeil(2)
	}
	if !fitsAmount(r) {
		return Amount{}, outOfRange(op, field)
	}
	return fromDecimal(r), nil
}

func outOfRange(op, field string) error {
	return &InputError{Op: op, Field: field, Reason: fmt.Sprintf("the result is beyond the %d digits of an amount", maxAmountDigits)}
}

// fitsAmount reports whether ParseAmount reads r (two decimals) back from its encoding, which
// drops the trailing zeros of the fraction: at most 40 digits without them.
func fitsAmount(r decimal.Decimal) bool {
	digits := r.NumDigits()
	if digits <= maxAmountDigits {
		return true
	}
	var rem big.Int
	switch rem.Rem(r.Coefficient(), big.NewInt(100)); {
	case rem.Sign() == 0:
		digits -= 2
	case new(big.Int).Rem(&rem, big.NewInt(10)).Sign() == 0:
		digits--
	}
	return digits <= maxAmountDigits
}

// roundMagnitude rounds m × 10^-k (k >= 1), of sign neg, to an integer by mode, returning its
// magnitude.
func roundMagnitude(m uint64, k int64, neg bool, mode RoundingMode) uint64 {
	q, r, half := uint64(0), m, -1 // half: the dropped part r below (-1), at (0) or above (+1) one half
	if k < int64(len(upow10)) {
		p := upow10[k]
		q, r = m/p, m%p
		half = cmp.Compare(r, p-r)
	} // else m < 10^20 is below a tenth of 10^k
	switch mode {
	case RoundHalfUp:
		if half >= 0 {
			q++
		}
	case RoundHalfEven:
		if half > 0 || half == 0 && q%2 == 1 {
			q++
		}
	case RoundUp:
		if r != 0 {
			q++
		}
	case RoundFloor:
		if neg && r != 0 {
			q++
		}
	case RoundCeiling:
		if !neg && r != 0 {
			q++
		}
	}
	return q
}

func uabs(c int64) uint64 {
	if c < 0 {
		return uint64(-c)
	}
	return uint64(c)
}

// signed returns m (at most MaxInt64) with the sign neg.
func signed(m uint64, neg bool) int64 {
	if neg {
		return -int64(m)
	}
	return int64(m)
}
