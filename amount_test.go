package probonus

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAmountDecodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json, want string
	}{
		{`150`, "150.00"},
		{`150.5`, "150.50"},
		{`"150.50"`, "150.50"},
		{`-200`, "-200.00"},
		{`"-0.01"`, "-0.01"},
		{`0.1`, "0.10"},
		{`1e2`, "100.00"},
		{`"  42.35 "`, "42.35"},
		{`null`, "0.00"},
		{`""`, "0.00"},
		{`12345678901234567890.12`, "12345678901234567890.12"},
		{`1000000000000000000000000000000000e6`, "1000000000000000000000000000000000000000.00"}, // 40 digits: the most
		{`"1e-30"`, "0.00"},
	}
	for _, tt := range tests {
		var a Amount
		require.NoError(t, json.Unmarshal([]byte(tt.json), &a), tt.json)
		assert.Equal(t, tt.want, a.String(), tt.json)
	}
	for _, bad := range []string{`1000000000000000000000000000000000e7`, `"1e-31"`, `"abc"`, `true`, `{}`, `[1]`, `"1,5"`, `"NaN"`, `"1e1000000000"`, `"0x10"`, `"` + string(make([]byte, 100)) + `"`} {
		var a Amount
		assert.Error(t, json.Unmarshal([]byte(bad), &a), bad)
	}
}

func TestAmountIsExact(t *testing.T) {
	t.Parallel()
	// 0.1 + 0.2 is not 0.3 in float64; it is here.
	sum := MustAmount("0.1").Add(MustAmount("0.2"))
	assert.True(t, sum.Equal(MustAmount("0.3")))
	b, err := json.Marshal(sum)
	require.NoError(t, err)
	assert.Equal(t, "0.3", string(b), "encodes a JSON number, exactly")
	b, err = json.Marshal(struct {
		A Amount `json:"a"`
	}{AmountFromMinor(15050)})
	require.NoError(t, err)
	assert.Equal(t, `{"a":150.5}`, string(b))
	assert.Equal(t, "-1.00", MustAmount("1").Sub(MustAmount("2")).String())
	assert.Equal(t, "-5.00", MustAmount("5").Neg().String())
	assert.Equal(t, -1, MustAmount("1").Cmp(MustAmount("2")))
	assert.Equal(t, 1, MustAmount("0.01").Sign())
	assert.True(t, Amount{}.IsZero())
	m, whole := MustAmount("150.5").Minor()
	assert.Equal(t, int64(15050), m)
	assert.True(t, whole)
	_, whole = MustAmount("0.001").Minor()
	assert.False(t, whole)
	assert.True(t, NewAmount(decimal.New(5, 0)).Decimal().Equal(decimal.NewFromInt(5)))
	assert.Panics(t, func() { MustAmount("five") })
	_, err = ParseAmount("")
	assert.Error(t, err)
}

// TestAmountMinorRange: Minor is exact up to the int64 limits, in kopecks, and says so one kopeck
// beyond them instead of wrapping around (issue 10 #11: 92233720368547758.08 gave MinInt64, true).
func TestAmountMinorRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amount string
		want   int64
		ok     bool
	}{
		{"92233720368547758.07", math.MaxInt64, true},
		{"-92233720368547758.08", math.MinInt64, true},
		{"92233720368547758.08", 0, false},
		{"-92233720368547758.09", 0, false},
		{"184467440737095516.16", 0, false}, // 2^64 kopecks: wraps to 0 in uint64 arithmetic
		{"1e39", 0, false},
		{"-1e39", 0, false},
		{"92233720368547758.075", math.MaxInt64, false}, // in range, not whole: truncated
		{"-92233720368547758.085", math.MinInt64, false},
		{"1.005", 100, false},
		{"-1.005", -100, false},
		{"0.001", 0, false},
		{"0", 0, true},
		{"-0.01", -1, true},
		{"150.5", 15050, true},
	}
	for _, tt := range tests {
		m, ok := MustAmount(tt.amount).Minor()
		assert.Equal(t, tt.ok, ok, tt.amount)
		assert.Equal(t, tt.want, m, tt.amount)
	}
	for _, k := range []int64{math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 0, -1, 1} {
		m, ok := AmountFromMinor(k).Minor()
		assert.True(t, ok, "%d", k)
		assert.Equal(t, k, m, "AmountFromMinor(%d) reads back", k)
	}
	one := AmountFromMinor(1)
	_, ok := AmountFromMinor(math.MaxInt64).Add(one).Minor()
	assert.False(t, ok, "one kopeck above MaxInt64")
	_, ok = AmountFromMinor(math.MinInt64).Sub(one).Minor()
	assert.False(t, ok, "one kopeck below MinInt64")
	require.Equal(t, "92233720368547758.08", AmountFromMinor(math.MaxInt64).Add(one).String(), "the sum itself is exact")
}

// TestAmountPercent: p percent of an amount, rounded once to the kopeck by the mode chosen.
func TestAmountPercent(t *testing.T) {
	t.Parallel()
	// issue 26 item 16: 5% of an order total, each mode by its rule
	tests := []struct {
		amount, p string
		mode      RoundingMode
		want      string
	}{
		{"1234.50", "5", RoundHalfUp, "61.73"}, // 61.725 exactly
		{"1234.50", "5", RoundHalfEven, "61.72"},
		{"1234.50", "5", RoundDown, "61.72"},
		{"1234.50", "5", RoundUp, "61.73"},
		{"1234.50", "5", RoundFloor, "61.72"},
		{"1234.50", "5", RoundCeiling, "61.73"},
		{"-1234.50", "5", RoundHalfUp, "-61.73"},
		{"-1234.50", "5", RoundHalfEven, "-61.72"},
		{"-1234.50", "5", RoundDown, "-61.72"},
		{"-1234.50", "5", RoundUp, "-61.73"},
		{"-1234.50", "5", RoundFloor, "-61.73"},
		{"-1234.50", "5", RoundCeiling, "-61.72"},
		{"1234.70", "5", RoundHalfEven, "61.74"}, // 61.735: a tie to the even kopeck, up this time
		{"1234.51", "5", RoundHalfEven, "61.73"}, // 61.7255: above the tie
		{"999.99", "7.5", RoundHalfUp, "75.00"},  // 74.99925
		{"999.99", "7.5", RoundDown, "74.99"},
		{"100", "250", RoundHalfUp, "250.00"},
		{"100", "-5", RoundHalfUp, "-5.00"},
		{"0.01", "1", RoundHalfUp, "0.00"}, // 0.0001
		{"0.01", "1", RoundUp, "0.01"},
		{"0.01", "1", RoundCeiling, "0.01"},
		{"-0.01", "1", RoundFloor, "-0.01"},
		{"0", "5", RoundUp, "0.00"},
		{"1234.50", "0", RoundUp, "0.00"},
		{"150.5", "100", RoundHalfUp, "150.50"},
		{"92233720368547758.07", "100", RoundDown, "92233720368547758.07"}, // 19 digits: the decimal way
		{"123456789012345678901234567890", "3.3333", RoundHalfEven, "4115185148148518514814851851.48"}, // ...51.47737
		{"1e-30", "1e-30", RoundUp, "0.01"},
		{"-1e-30", "1e-30", RoundUp, "-0.01"},
		{"-1e-30", "1e-30", RoundCeiling, "0.00"},
	}
	for _, tt := range tests {
		got, err := MustAmount(tt.amount).Percent(MustAmount(tt.p), tt.mode)
		require.NoError(t, err, "%s%% of %s %s", tt.p, tt.amount, tt.mode)
		assert.Equal(t, tt.want, got.String(), "%s%% of %s %s", tt.p, tt.amount, tt.mode)
		assert.Equal(t, int32(-2), got.Decimal().Exponent(), "two decimals")
		want := MustAmount(tt.amount).Decimal().Mul(MustAmount(tt.p).Decimal()).Shift(-2)
		assert.True(t, want.Sub(got.Decimal()).Abs().LessThan(decimal.New(1, -2)), "within a kopeck of %s", want)
	}
}

// TestAmountMulAndRound: Mul rounds the exact product once; Round brings an amount to the kopeck.
func TestAmountMulAndRound(t *testing.T) {
	t.Parallel()
	// issue 26 item 16: multiplication by a decimal
	tests := []struct {
		amount, factor string
		mode           RoundingMode
		want           string
	}{
		{"199.90", "1.5", RoundHalfUp, "299.85"},
		{"0.05", "0.5", RoundHalfUp, "0.03"}, // 0.025
		{"0.05", "0.5", RoundHalfEven, "0.02"},
		{"0.05", "0.5", RoundDown, "0.02"},
		{"-0.05", "0.5", RoundHalfUp, "-0.03"},
		{"-0.05", "0.5", RoundHalfEven, "-0.02"},
		{"0.15", "0.5", RoundHalfEven, "0.08"}, // 0.075: to the even kopeck, up
		{"33.33", "3", RoundDown, "99.99"},
		{"1e20", "1e10", RoundHalfUp, "1000000000000000000000000000000.00"},
		{"999999999999999999", "9", RoundHalfUp, "8999999999999999991.00"}, // beyond an int64 of kopecks
		{"1e-30", "5", RoundUp, "0.01"},
	}
	for _, tt := range tests {
		got, err := MustAmount(tt.amount).Mul(MustAmount(tt.factor), tt.mode)
		require.NoError(t, err, "%s × %s", tt.amount, tt.factor)
		assert.Equal(t, tt.want, got.String(), "%s × %s %s", tt.amount, tt.factor, tt.mode)
	}
	rounds := []struct {
		amount string
		mode   RoundingMode
		want   string
	}{
		{"0.125", RoundHalfUp, "0.13"}, {"-0.125", RoundHalfUp, "-0.13"},
		{"0.125", RoundHalfEven, "0.12"}, {"0.135", RoundHalfEven, "0.14"},
		{"0.129", RoundDown, "0.12"}, {"-0.129", RoundDown, "-0.12"},
		{"0.121", RoundUp, "0.13"}, {"-0.121", RoundUp, "-0.13"},
		{"0.129", RoundFloor, "0.12"}, {"-0.121", RoundFloor, "-0.13"},
		{"0.121", RoundCeiling, "0.13"}, {"-0.129", RoundCeiling, "-0.12"},
		{"150", RoundDown, "150.00"},
		{"1e39", RoundHalfUp, "1000000000000000000000000000000000000000.00"}, // the largest amount still is one
	}
	for _, tt := range rounds {
		got, err := MustAmount(tt.amount).Round(tt.mode)
		require.NoError(t, err, tt.amount)
		assert.Equal(t, tt.want, got.String(), "%s %s", tt.amount, tt.mode)
		assert.Equal(t, int32(-2), got.Decimal().Exponent())
	}
}

// TestAmountArithmeticErrors: no rounding mode, or a result beyond an amount's 40 digits, is an
// *InputError naming the parameter.
func TestAmountArithmeticErrors(t *testing.T) {
	t.Parallel()
	// issue 26 item 16: the mode is chosen explicitly; overflow is an error, not a wrapped value
	big := MustAmount("1e39")
	tests := []struct {
		name      string
		do        func() (Amount, error)
		op, field string
	}{
		{"zero mode", func() (Amount, error) { return MustAmount("100").Percent(MustAmount("5"), 0) }, "Amount.Percent", "mode"},
		{"unknown mode", func() (Amount, error) { return MustAmount("100").Mul(MustAmount("5"), RoundCeiling+1) }, "Amount.Mul", "mode"},
		{"round, no mode", func() (Amount, error) { return MustAmount("100").Round(RoundingMode(0)) }, "Amount.Round", "mode"},
		{"product beyond 40 digits", func() (Amount, error) { return big.Mul(MustAmount("10"), RoundHalfUp) }, "Amount.Mul", "factor"},
		{"percent beyond 40 digits", func() (Amount, error) { return big.Percent(MustAmount("1000"), RoundDown) }, "Amount.Percent", "p"},
		{"41 digits by rounding", func() (Amount, error) {
			return MustAmount("9999999999999999999999999999999999999999").Mul(MustAmount("1.00000000000000000000000000001"), RoundUp)
		}, "Amount.Mul", "factor"},
		{"a huge exponent", func() (Amount, error) { return NewAmount(decimal.New(1, math.MaxInt32)).Mul(MustAmount("1"), RoundUp) }, "Amount.Mul", "factor"},
		{"a huge decimal", func() (Amount, error) { return NewAmount(decimal.New(1, 100)).Round(RoundUp) }, "Amount.Round", "amount"},
	}
	for _, tt := range tests {
		got, err := tt.do()
		require.Error(t, err, tt.name)
		assert.True(t, got.IsZero(), tt.name)
		assert.ErrorIs(t, err, ErrInvalidInput, tt.name)
		var ie *InputError
		require.ErrorAs(t, err, &ie, tt.name)
		assert.Equal(t, tt.op, ie.Op, tt.name)
		assert.Equal(t, tt.field, ie.Field, tt.name)
	}
	_, err := MustAmount("1").Mul(MustAmount("1"), 0)
	assert.EqualError(t, err, "probonus: Amount.Mul: invalid mode: no rounding mode RoundingMode(0): choose one, such as RoundHalfUp")
	// a tiny factor costs no power of ten as long as its exponent
	got, err := MustAmount("5").Mul(NewAmount(decimal.New(1, math.MinInt32+100)), RoundUp)
	require.NoError(t, err)
	assert.Equal(t, "0.01", got.String())
	assert.Equal(t, "RoundHalfEven", RoundHalfEven.String())
}

// TestAmountInlineAllocatesNothing: an amount of up to 18 digits is read, compared, added and
// printed without a big.Int.
func TestAmountInlineAllocatesNothing(t *testing.T) {
	// issue 26 item 16: decimal.New allocated two objects per amount read
	var a, b Amount
	buf := make([]byte, 0, 64)
	quoted, number := []byte(`"150.50"`), []byte(`-12345678901234.5678`)
	allocs := testing.AllocsPerRun(100, func() {
		if a.UnmarshalJSON(quoted) != nil || b.UnmarshalJSON(number) != nil {
			panic("refused")
		}
		sum := a.Add(b).Sub(a).Neg()
		if !sum.Equal(b.Neg()) || sum.Cmp(a) <= 0 || !sum.Add(b).IsZero() || sum.Sign() != 1 {
			panic("wrong")
		}
		if m, ok := a.Minor(); !ok || m != 15050 {
			panic("minor")
		}
		p, err := a.Percent(MustAmount("5"), RoundHalfEven)
		if err != nil || p.coef != 752 {
			panic("percent")
		}
		buf, _ = a.appendNumber(buf[:0])
		buf, _ = a.appendFixed2(buf[:0])
	})
	assert.Zero(t, allocs)
}

// TestAmountForms: one number with one exponent has one form, however it was made, and Decimal
// gives back the coefficient and exponent read.
func TestAmountForms(t *testing.T) {
	t.Parallel()
	// issue 26 item 16
	for _, s := range []string{"150.50", "0", "0.00", "-0.01", "1e2", "999999999999999999", "1000000000000000000", "-12345678901234567890.12", "1e39"} {
		d := decimal.RequireFromString(s)
		a := MustAmount(s)
		var j Amount
		require.NoError(t, json.Unmarshal([]byte(s), &j))
		assert.Equal(t, a, j, s)
		assert.Equal(t, a, NewAmount(d), s)
		assert.Equal(t, d.Exponent(), a.Decimal().Exponent(), s)
		assert.True(t, d.Equal(a.Decimal()), s)
		assert.Equal(t, d.StringFixed(2), a.String(), s)
	}
	assert.Equal(t, AmountFromMinor(math.MaxInt64), NewAmount(decimal.New(math.MaxInt64, -2)))
	assert.Equal(t, decimal.Decimal{}, Amount{}.Decimal(), "the zero value's decimal is decimal's zero value")
}

// fuzzAmount makes an amount of coefficient lo + hi × 10^18 and exponent exp: inline when hi is
// 0 and lo has at most 18 digits, else a decimal of up to 37 digits.
func fuzzAmount(lo, hi int64, exp int8) Amount {
	d := decimal.New(lo, int32(exp))
	if hi != 0 {
		d = d.Add(decimal.New(hi, int32(exp)+18))
	}
	return NewAmount(d)
}

// roundDecimal is the rounding each mode names, by shopspring/decimal.
func roundDecimal(d decimal.Decimal, mode RoundingMode) decimal.Decimal {
	return map[RoundingMode]func(int32) decimal.Decimal{
		RoundHalfUp: d.Round, RoundHalfEven: d.RoundBank, RoundDown: d.RoundDown, RoundUp: d.RoundUp,
		RoundFloor: d.RoundFloor, RoundCeiling: d.RoundCeil,
	}[mode](2)
}

// FuzzAmountMul: Mul, Percent and Round give what shopspring/decimal gives for the exact product
// rounded by the mode's method, with two decimals, in the one form NewAmount makes of it, and
// refuse exactly the results an amount cannot hold.
func FuzzAmountMul(f *testing.F) {
	// issue 26 item 16
	for _, c := range []struct {
		lo, hi int64
		exp    int8
		lo2    int64
		hi2    int64
		exp2   int8
	}{
		{123450, 0, -2, 5, 0, 0}, {-123450, 0, -2, 5, 0, 0}, {5, 0, -2, 5, 0, -1}, {15, 0, -2, 5, 0, -1}, {999999999999999999, 0, 0, 9, 0, 0},
		{math.MaxInt64, 0, -2, 100, 0, 0}, {math.MinInt64, 0, -2, -3, 0, -1}, {1, 0, -30, 1, 0, -30}, {1, 0, 39, 10, 0, 0},
		{1, 3, 20, 7, 5, -10}, {0, 0, 0, 5, 0, 0}, {125, 0, -3, 1, 0, 0}, {-125, 0, -3, 1, 0, 0}, {1, 0, 127, 1, 0, -128},
		{999999999999999999, 999999999999999999, 2, 999999999999999999, 999999999999999999, 1}, {33333, 0, -2, 33333, 0, -4},
	} {
		for mode := range RoundCeiling + 2 {
			f.Add(c.lo, c.hi, c.exp, c.lo2, c.hi2, c.exp2, uint8(mode))
		}
	}
	f.Fuzz(func(t *testing.T, lo, hi int64, exp int8, lo2, hi2 int64, exp2 int8, m uint8) {
		a, x, mode := fuzzAmount(lo, hi, exp), fuzzAmount(lo2, hi2, exp2), RoundingMode(m)
		for _, c := range []struct {
			op    string
			got   func() (Amount, error)
			exact decimal.Decimal
		}{
			{"Mul", func() (Amount, error) { return a.Mul(x, mode) }, a.Decimal().Mul(x.Decimal())},
			{"Percent", func() (Amount, error) { return a.Percent(x, mode) }, a.Decimal().Mul(x.Decimal()).Shift(-2)},
			{"Round", func() (Amount, error) { return a.Round(mode) }, a.Decimal()},
		} {
			got, err := c.got()
			if !mode.valid() {
				if err == nil || !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("%s %s: mode %d accepted: %v", a.Decimal(), c.op, m, err)
				}
				continue
			}
			want := roundDecimal(c.exact, mode)
			if !fitsAmount(want) {
				if err == nil || !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("%s %s %s: %s has more than 40 digits, no error: %v", a.Decimal(), c.op, x.Decimal(), want, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %s %s %s: %v", a.Decimal(), c.op, x.Decimal(), mode, err)
			}
			if !reflect.DeepEqual(got, NewAmount(want)) || got.Decimal().Exponent() != -2 || !got.Decimal().Equal(want) {
				t.Fatalf("%s %s %s %s: %s (%d), decimal says %s", a.Decimal(), c.op, x.Decimal(), mode, got.Decimal(), got.Decimal().Exponent(), want)
			}
			if back, err := ParseAmount(got.Decimal().String()); err != nil || !back.Equal(got) {
				t.Fatalf("%s does not read back: %v", got.Decimal(), err)
			}
		}
	})
}

// FuzzAmountOps: Add, Sub, Neg, Cmp, Equal, Sign, IsZero and String, worked out on the inline
// coefficients, give what shopspring/decimal gives, to the exponent, in NewAmount's form.
func FuzzAmountOps(f *testing.F) {
	// issue 26 item 16
	for _, c := range [][6]int64{
		{15050, 0, -2, 15050, 0, -3}, {1, 0, 0, -1, 0, 0}, {999999999999999999, 0, 0, 1, 0, 0}, {-999999999999999999, 0, 0, -1, 0, 0},
		{1, 0, 18, 1, 0, -18}, {1, 0, 19, 1, 0, 0}, {0, 0, 5, 0, 0, -5}, {5, 0, -3, -5, 0, -3}, {1, 1, 0, 1, 0, 0},
		{math.MaxInt64, 0, 0, math.MinInt64, 0, 0}, {123456789, 0, -40, 1, 0, 40}, {-125, 0, -3, 0, 0, 0}, {5, 0, -3, 0, 0, 0},
	} {
		f.Add(c[0], c[1], int8(c[2]), c[3], c[4], int8(c[5]))
	}
	f.Fuzz(func(t *testing.T, lo, hi int64, exp int8, lo2, hi2 int64, exp2 int8) {
		a, b := fuzzAmount(lo, hi, exp), fuzzAmount(lo2, hi2, exp2)
		da, db := a.Decimal(), b.Decimal()
		for _, c := range []struct {
			op   string
			got  Amount
			want decimal.Decimal
		}{{"+", a.Add(b), da.Add(db)}, {"-", a.Sub(b), da.Sub(db)}, {"neg", a.Neg(), da.Neg()}} {
			if !reflect.DeepEqual(c.got, NewAmount(c.want)) || c.got.Decimal().Exponent() != c.want.Exponent() || !c.got.Decimal().Equal(c.want) {
				t.Fatalf("%s %s %s = %s (exponent %d), decimal says %s", da, c.op, db, c.got.Decimal(), c.got.Decimal().Exponent(), c.want)
			}
		}
		if a.Cmp(b) != da.Cmp(db) || a.Equal(b) != da.Equal(db) || b.Cmp(a) != db.Cmp(da) {
			t.Fatalf("Cmp(%s, %s) = %d, decimal says %d", da, db, a.Cmp(b), da.Cmp(db))
		}
		if a.Sign() != da.Sign() || a.IsZero() != da.IsZero() {
			t.Fatalf("%s: Sign %d IsZero %v", da, a.Sign(), a.IsZero())
		}
		if exp > -60 && exp < 60 && a.String() != da.StringFixed(2) {
			t.Fatalf("%s: String %s, decimal says %s", da, a.String(), da.StringFixed(2))
		}
	})
}

// From the fast paths of issue 11 (fastpath_test.go).
// FuzzAmountArithmetic: an amount's JSON and Minor, worked out on an int64 coefficient, are what
// the decimal gives, for any coefficient and exponent.
func FuzzAmountArithmetic(f *testing.F) {
	for _, c := range []struct {
		coef int64
		exp  int32
	}{{15050, -2}, {0, -2}, {0, 5}, {-1, -30}, {1, 30}, {100, -2}, {5, -3}, {-50, -3}, {999999999999999, -2},
		{1000000000000000, -2}, {9007199254740993, 0}, {math.MaxInt64, 0}, {math.MinInt64, -2}, {922337203685477580, 1},
		{-922337203685477581, 0}, {12345, -17}, {12345, -18}, {1, 31}, {1, -31}} {
		f.Add(c.coef, c.exp)
	}
	f.Fuzz(func(t *testing.T, coef int64, exp int32) {
		if exp > 40 || exp < -40 {
			return // beyond any amount json or ParseAmount lets in; d.String() would be huge
		}
		a := NewAmount(decimal.New(coef, exp))
		b, err := a.MarshalJSON()
		if err != nil || string(b) != a.Decimal().String() {
			t.Fatalf("%de%d: MarshalJSON %s (%v), the decimal says %s", coef, exp, b, err, a.Decimal().String())
		}
		m, ok := a.Minor()
		wm, wok := slowMinor(a)
		if m != wm || ok != wok {
			t.Fatalf("%de%d: Minor %d %v, the decimal says %d %v", coef, exp, m, ok, wm, wok)
		}
	})
}
