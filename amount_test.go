package probonus

import (
	"encoding/json"
	"math"
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
