package probonus

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

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

func TestDate(t *testing.T) {
	t.Parallel()
	d, err := ParseDate("1990-05-17")
	require.NoError(t, err)
	assert.Equal(t, Date{1990, time.May, 17}, d)
	d, err = ParseDate("2026-12-31T00:00:00")
	require.NoError(t, err, "a timestamp's date part")
	assert.Equal(t, Date{2026, time.December, 31}, d)
	for _, bad := range []string{"17.05.1990", "1990-13-01", "1990-02-30", "", "x"} {
		_, err := ParseDate(bad)
		assert.Error(t, err, bad)
	}
	var v struct {
		D Date  `json:"d"`
		P *Date `json:"p"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"d":"2027-01-31","p":null}`), &v))
	assert.Equal(t, "2027-01-31", v.D.String())
	assert.Nil(t, v.P)
	require.NoError(t, json.Unmarshal([]byte(`{"d":""}`), &v))
	assert.True(t, v.D.IsZero())
	assert.Error(t, json.Unmarshal([]byte(`{"d":20270131}`), &v))
	b, err := json.Marshal(Date{2027, 1, 5})
	require.NoError(t, err)
	assert.Equal(t, `"2027-01-05"`, string(b))
	b, err = json.Marshal(Date{})
	require.NoError(t, err)
	assert.Equal(t, `null`, string(b))
	assert.Equal(t, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), Date{2027, 1, 5}.In(time.UTC))
	assert.True(t, Date{2026, 1, 1}.Before(Date{2026, 1, 2}))
	assert.Equal(t, Date{2026, 11, 27}, DateOf(time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)))
}

func TestTimeReadsEveryForm(t *testing.T) {
	t.Parallel()
	msk := defaultLocation
	tests := []struct {
		json     string
		want     time.Time
		floating bool
		encoded  string
	}{
		{`"2026-02-16T09:42:00"`, time.Date(2026, 2, 16, 9, 42, 0, 0, msk), true, `"2026-02-16T09:42:00"`},
		{`"2026-02-16T09:42:00.123"`, time.Date(2026, 2, 16, 9, 42, 0, 123e6, msk), true, `"2026-02-16T09:42:00.123"`},
		{`"2026-02-16 09:42:00"`, time.Date(2026, 2, 16, 9, 42, 0, 0, msk), true, `"2026-02-16T09:42:00"`},
		{`"2026-02-16T06:42:00Z"`, time.Date(2026, 2, 16, 6, 42, 0, 0, time.UTC), false, `"2026-02-16T06:42:00Z"`},
		{`"2026-02-16T06:42:00.5Z"`, time.Date(2026, 2, 16, 6, 42, 0, 5e8, time.UTC), false, `"2026-02-16T06:42:00.5Z"`},
		{`"2026-02-16T09:42:00+03:00"`, time.Date(2026, 2, 16, 6, 42, 0, 0, time.UTC), false, `"2026-02-16T09:42:00+03:00"`},
		{`"2026-02-16T09:42:00+0300"`, time.Date(2026, 2, 16, 6, 42, 0, 0, time.UTC), false, `"2026-02-16T09:42:00+03:00"`},
		{`"2026-02-16T09:42"`, time.Date(2026, 2, 16, 9, 42, 0, 0, msk), true, `"2026-02-16T09:42:00"`},
		{`"2026-02-16"`, time.Date(2026, 2, 16, 0, 0, 0, 0, msk), true, `"2026-02-16T00:00:00"`},
	}
	for _, tt := range tests {
		var v Time
		require.NoError(t, json.Unmarshal([]byte(tt.json), &v), tt.json)
		assert.True(t, tt.want.Equal(v.Time), "%s: got %v", tt.json, v.Time)
		assert.Equal(t, tt.floating, v.floating, tt.json)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		assert.Equal(t, tt.encoded, string(b))
	}
	var v Time
	require.NoError(t, json.Unmarshal([]byte(`null`), &v))
	assert.True(t, v.IsZero())
	b, _ := json.Marshal(v)
	assert.Equal(t, "null", string(b))
	for _, bad := range []string{`"yesterday"`, `12`, `"2026-02-30T00:00:00"`, `"16.02.2026 09:42"`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &v), bad)
	}
	_, err := json.Marshal(Time{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	assert.Error(t, err)
	assert.Equal(t, "2026-02-16T09:42:00", formatWireTime(time.Date(2026, 2, 16, 6, 42, 0, 0, time.UTC), msk))
}

func TestLocalizeReachesEveryTime(t *testing.T) {
	t.Parallel()
	ekb := time.FixedZone("YEKT", 5*3600)
	type nested struct {
		T   Time
		P   *Time
		S   []Time
		M   map[string]Time
		A   [1]Time
		I   any
		Own *nested
	}
	var v nested
	raw := `{"T":"2026-01-01T10:00:00","P":"2026-01-01T10:00:00","S":["2026-01-01T10:00:00","2026-01-01T07:00:00Z"],
		"M":{"k":"2026-01-01T10:00:00"},"A":["2026-01-01T10:00:00"],"Own":{"T":"2026-01-01T10:00:00"}}`
	require.NoError(t, json.Unmarshal([]byte(raw), &v))
	v.I = &Time{}
	require.NoError(t, json.Unmarshal([]byte(`"2026-01-01T10:00:00"`), v.I))
	localize(&v, ekb)
	want := time.Date(2026, 1, 1, 10, 0, 0, 0, ekb)
	for name, got := range map[string]Time{"T": v.T, "P": *v.P, "S0": v.S[0], "M": v.M["k"], "A": v.A[0], "I": *v.I.(*Time), "Own": v.Own.T} {
		assert.True(t, want.Equal(got.Time), "%s: %v", name, got.Time)
	}
	assert.True(t, time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC).Equal(v.S[1].Time), "a time with an offset is left alone")
	assert.False(t, hasTime(reflectTypeOf[[]string]()))
	assert.True(t, hasTime(reflectTypeOf[[]Transaction]()))
}

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

func TestCode(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B, C Code
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":12,"B":"0012","C":null}`), &v))
	assert.Equal(t, Code("12"), v.A)
	assert.Equal(t, Code("0012"), v.B, "a string keeps its leading zeros")
	assert.Equal(t, Code(""), v.C)
	assert.Error(t, json.Unmarshal([]byte(`{"A":true}`), &v))
	assert.Error(t, json.Unmarshal([]byte(`{"A":[1]}`), &v))
}

func TestEnumsKeepUnknownValues(t *testing.T) {
	t.Parallel()
	var tx Transaction
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"type":"cashback_v3","identifierType":"qr","sum":1}`), &tx))
	assert.Equal(t, TransactionType("cashback_v3"), tx.Type)
	assert.Equal(t, IdentifierType("qr"), tx.IdentifierType)
	b, err := json.Marshal(tx)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"type":"cashback_v3"`)
	assert.Contains(t, string(b), `"identifierType":"qr"`)
}

func TestAbsentAndNullDecodeAlike(t *testing.T) {
	t.Parallel()
	var absent, null Account
	require.NoError(t, json.Unmarshal([]byte(`{"id":1}`), &absent))
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"groupId":null,"phone":null,"phones":null,"birthDate":null,"createdAt":null,
		"isBlocked":null,"balance":null,"level":null,"coupons":null,"tags":null,"gender":null,"spentSumDay":null}`), &null))
	assert.Equal(t, absent, null)
	var unknown Account
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"loyaltyCard":{"x":1},"newField":[1,2]}`), &unknown), "unknown fields never fail")
	assert.Equal(t, int64(1), unknown.ID)
}

func TestPtr(t *testing.T) {
	t.Parallel()
	p := Ptr(false)
	require.NotNil(t, p)
	assert.False(t, *p)
	b, err := json.Marshal(AccountUpdate{AccountID: 1, IsBlocked: Ptr(false), FirstName: Ptr("")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"accountId":1,"isBlocked":false,"firstName":""}`, string(b), "false and empty are sent when set")
}

func reflectTypeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// TestWallClockFastPathAgreesWithTimeParse: the hand-written reader of the server's form accepts
// and refuses exactly what time.ParseInLocation does, and reads the same instant.
func TestWallClockFastPathAgreesWithTimeParse(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"2026-02-16T09:42:00", "2024-02-29T23:59:59", "2023-02-29T00:00:00", "2026-04-31T00:00:00",
		"2026-13-01T00:00:00", "2026-00-10T00:00:00", "2026-01-00T00:00:00", "2026-01-01T24:00:00", "2026-01-01T23:60:00",
		"2026-01-01T23:59:60", "2000-02-29T12:00:00", "1900-02-29T12:00:00", "0000-01-01T00:00:00", "2026-01-01T1a:00:00",
		"2026-01-01 00:00:00", "2026-1-01T00:00:000", "+026-01-01T00:00:00"} {
		want, err := time.ParseInLocation(wireLayout, s, defaultLocation)
		got, ok := parseWallClock(s, defaultLocation)
		assert.Equal(t, err == nil, ok, s)
		if ok {
			assert.True(t, want.Equal(got), s)
		}
	}
}
