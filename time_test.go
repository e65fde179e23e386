package probonus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freshTypes numbers the struct types TestTimeRelocatedOnConcurrentFirstDecodes builds, so every round
// (and every -count repetition) decodes a type the analysis has never seen.
var freshTypes atomic.Int64

// freshTimeHolder returns a struct type nobody has decoded yet: many fields that hold no Time, so
// analysing it takes a while, then one Time field named T.
func freshTimeHolder() reflect.Type {
	n := freshTypes.Add(1)
	fields := make([]reflect.StructField, 0, 257)
	for i := range 256 {
		inner := reflect.StructOf([]reflect.StructField{
			{Name: fmt.Sprintf("A%d", n), Type: reflect.TypeFor[string]()},
			{Name: "B", Type: reflect.TypeFor[[]int64]()},
			{Name: "C", Type: reflect.TypeFor[map[string]Amount]()},
		})
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: inner})
	}
	fields = append(fields, reflect.StructField{Name: "T", Type: timeType})
	return reflect.StructOf(fields)
}

// TestTimeRelocatedOnConcurrentFirstDecodes: many goroutines decode, through Client.Do, a response type
// none of them has decoded before, on a client whose location is not the default. Every one of them
// reads the offset-less timestamp in the client's location (issue 10 #5: the type analysis used to
// publish a provisional "no Time here" that a concurrent first decode believed).
func TestTimeRelocatedOnConcurrentFirstDecodes(t *testing.T) {
	t.Parallel()
	ekb := time.FixedZone("YEKT", 5*3600)
	c, mt := setup(t, WithLocation(ekb))
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/fresh"), httpmock.NewStringResponder(200, `{"T":"2026-01-01T10:00:00"}`))
	want := time.Date(2026, 1, 1, 10, 0, 0, 0, ekb)
	const rounds, goroutines = 50, 32
	var wrong atomic.Int64
	for range rounds {
		typ := freshTimeHolder()
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := reflect.New(typ)
				<-start
				if err := c.Do(context.Background(), http.MethodGet, "/api/v0/fresh", nil, nil, out.Interface()); err != nil {
					t.Error(err)
					return
				}
				if got := out.Elem().FieldByName("T").Interface().(Time); !got.Equal(want) {
					wrong.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
	}
	assert.Zero(t, wrong.Load(), "of %d first decodes, these kept the default location", rounds*goroutines)
}

// transactionsBody is 1000 transactions as the server writes them: offset-less timestamps.
func transactionsBody(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Hour)
		fmt.Fprintf(&buf, `{"id":%d,"datetime":%q,"type":"check_accrual","sum":%d.%02d,"reason":null,"checkId":%d,`+
			`"checkNumber":%d,"restaurantCode":12,"restaurantName":"Пекарня на Невском","cashDesk":3,`+
			`"identifierType":"phone","identifier":"79991234567"}`,
			90000-i, at.Format(wireLayout), i%500, i%100, 5000+i, 1000+i)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// BenchmarkDecodeTransactions1000 decodes 1000 transactions the way Client.decode does, in the
// default location (no relocation walk) and in another one (the walk runs), and times the walk
// alone: what removing it would save.
func BenchmarkDecodeTransactions1000(b *testing.B) {
	body := transactionsBody(b)
	decode := func(b *testing.B, loc *time.Location) []Transaction {
		var txs []Transaction
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&txs); err != nil || len(txs) != 1000 {
			b.Fatal(err, len(txs))
		}
		localize(&txs, loc)
		return txs
	}
	ekb := time.FixedZone("YEKT", 5*3600)
	b.Run("default-location", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decode(b, defaultLocation)
		}
	})
	b.Run("other-location", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decode(b, ekb)
		}
	})
	b.Run("walk-only", func(b *testing.B) {
		txs := decode(b, defaultLocation)
		b.ReportAllocs()
		for b.Loop() {
			localize(&txs, ekb)
		}
	})
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
		assert.Equal(t, tt.floating, v.floating(), tt.json)
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

func reflectTypeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Type graphs for TestTimeAnalysisOfRecursiveTypes, each used by that test alone, so nothing else
// has put an answer for them in the cache.
type (
	cycleA struct{ B *cycleB }
	cycleB struct {
		A *cycleA
		T Time
	}
	// P → Q → Z → Q and Q → P: P's Time is reached from Z only through the cycle.
	cycleP struct {
		Q *cycleQ
		T Time
	}
	cycleQ struct {
		P *cycleP
		Z *cycleZ
	}
	cycleZ struct{ Q *cycleQ }
	// the same shape without a Time anywhere
	plainP struct{ Q *plainQ }
	plainQ struct {
		P *plainP
		Z []plainZ
	}
	plainZ   struct{ Q map[string]plainQ }
	selfList struct {
		Next *selfList
		At   Time
	}
	embedsUnexported struct{ inner }
	inner            struct{ At Time }
	hidesTime        struct{ at Time } // a field json cannot write: never relocated
)

// TestTimeAnalysisOfRecursiveTypes: every type of a cycle gets the right answer, published, from
// whichever member is asked first; an embedded unexported struct is looked into as json does.
func TestTimeAnalysisOfRecursiveTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ask     reflect.Type
		members []reflect.Type
		want    bool
	}{
		{reflect.TypeFor[cycleA](), []reflect.Type{reflect.TypeFor[cycleA](), reflect.TypeFor[cycleB]()}, true},
		{reflect.TypeFor[cycleZ](), []reflect.Type{reflect.TypeFor[cycleZ](), reflect.TypeFor[cycleQ](), reflect.TypeFor[cycleP]()}, true},
		{reflect.TypeFor[plainZ](), []reflect.Type{reflect.TypeFor[plainZ](), reflect.TypeFor[plainQ](), reflect.TypeFor[plainP](),
			reflect.TypeFor[map[string]plainQ](), reflect.TypeFor[*plainP]()}, false},
		{reflect.TypeFor[*selfList](), []reflect.Type{reflect.TypeFor[selfList](), reflect.TypeFor[*selfList]()}, true},
		{reflect.TypeFor[embedsUnexported](), []reflect.Type{reflect.TypeFor[embedsUnexported](), reflect.TypeFor[inner]()}, true},
		{reflect.TypeFor[hidesTime](), []reflect.Type{reflect.TypeFor[hidesTime]()}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, hasTime(tt.ask), "%v", tt.ask)
		for _, m := range tt.members {
			v, ok := facts.Load(m)
			if assert.True(t, ok, "%v: answer for %v not published", tt.ask, m) {
				assert.Equal(t, tt.want, v.(typeFacts).hasTime, "%v: published for %v", tt.ask, m)
			}
		}
	}

	ekb := time.FixedZone("YEKT", 5*3600)
	var z cycleZ
	require.NoError(t, json.Unmarshal([]byte(`{"Q":{"P":{"T":"2026-01-01T10:00:00","Q":{"Z":{"Q":{"P":{"T":"2026-01-01T11:00:00"}}}}}}}`), &z))
	localize(&z, ekb)
	assert.True(t, time.Date(2026, 1, 1, 10, 0, 0, 0, ekb).Equal(z.Q.P.T.Time), "%v", z.Q.P.T)
	assert.True(t, time.Date(2026, 1, 1, 11, 0, 0, 0, ekb).Equal(z.Q.P.Q.Z.Q.P.T.Time), "%v", z.Q.P.Q.Z.Q.P.T)
	var e embedsUnexported
	require.NoError(t, json.Unmarshal([]byte(`{"At":"2026-01-01T10:00:00"}`), &e))
	localize(&e, ekb)
	assert.True(t, time.Date(2026, 1, 1, 10, 0, 0, 0, ekb).Equal(e.At.Time), "promoted from an unexported embedded struct: %v", e.At)
	floating, err := parseTime("2026-01-01T10:00:00", defaultLocation)
	require.NoError(t, err)
	h := hidesTime{at: floating}
	localize(&h, ekb)
	assert.Equal(t, floating, h.at, "an unexported field is not the decoder's: left alone")
}

// TestTimeChangedIsWrittenWithItsOffset: a Time read without an offset is written back without one
// only while it holds the value read; whatever is assigned to t.Time is written with its offset
// (issue 10 #12: the old flag outlived the value and wrote the machine's wall clock bare).
func TestTimeChangedIsWrittenWithItsOffset(t *testing.T) {
	t.Parallel()
	ekb := time.FixedZone("YEKT", 5*3600)
	read := func(t *testing.T, loc *time.Location) Transaction {
		var tx Transaction
		require.NoError(t, json.Unmarshal([]byte(`{"id":1,"datetime":"2026-02-16T09:42:00"}`), &tx))
		localize(&tx, loc)
		return tx
	}
	now := time.Now()
	tests := []struct {
		name   string
		loc    *time.Location
		change func(*Time)
		want   string
	}{
		{"unchanged", defaultLocation, func(*Time) {}, `"2026-02-16T09:42:00"`},
		{"unchanged, relocated", ekb, func(*Time) {}, `"2026-02-16T09:42:00"`},
		{"assigned the same value", defaultLocation, func(v *Time) { v.Time = v.Round(0) }, `"2026-02-16T09:42:00"`},
		{"assigned now", defaultLocation, func(v *Time) { v.Time = now }, string(mustJSON(t, now))},
		{"moved an hour", defaultLocation, func(v *Time) { v.Time = v.Add(time.Hour) }, `"2026-02-16T10:42:00+03:00"`},
		{"moved an hour, relocated", ekb, func(v *Time) { v.Time = v.Add(time.Hour) }, `"2026-02-16T10:42:00+05:00"`},
		{"same instant in UTC", defaultLocation, func(v *Time) { v.Time = v.UTC() }, `"2026-02-16T06:42:00Z"`},
		{"same wall clock elsewhere", defaultLocation, func(v *Time) {
			v.Time = time.Date(2026, 2, 16, 9, 42, 0, 0, ekb)
		}, `"2026-02-16T09:42:00+05:00"`},
		{"read as text", defaultLocation, func(v *Time) {
			require.NoError(t, v.UnmarshalText([]byte("2026-02-16T09:42:00Z")))
		}, `"2026-02-16T09:42:00Z"`},
		{"whole value replaced", defaultLocation, func(v *Time) { *v = Time{Time: now} }, string(mustJSON(t, now))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tx := read(t, tt.loc)
			tt.change(&tx.Datetime)
			b, err := json.Marshal(tx.Datetime)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b))
			b, err = json.Marshal(tx)
			require.NoError(t, err)
			assert.Contains(t, string(b), `"datetime":`+tt.want, "inside a struct alike")
			var back Time
			require.NoError(t, json.Unmarshal([]byte(tt.want), &back))
			localize(&back, tt.loc)
			assert.True(t, back.Equal(tx.Datetime.Time), "reads back as the same instant: %v, %v", back, tx.Datetime)
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// From the fast paths of issue 11 (fastpath_test.go).
// FuzzDateString: Date.String writes what fmt did, for every date.
func FuzzDateString(f *testing.F) {
	f.Add(2026, 2, 16)
	f.Add(0, 0, 0)
	f.Add(-1, 13, 100)
	f.Add(9999, 99, 99)
	f.Add(10000, 1, 1)
	f.Fuzz(func(t *testing.T, y, m, d int) {
		date := Date{y, time.Month(m), d}
		if want := fmt.Sprintf("%04d-%02d-%02d", y, m, d); date.String() != want {
			t.Fatalf("%v: %q, fmt says %q", []int{y, m, d}, date.String(), want)
		}
		if b, err := date.MarshalJSON(); err != nil || !date.IsZero() && string(b) != `"`+date.String()+`"` {
			t.Fatalf("%v: MarshalJSON %s %v", []int{y, m, d}, b, err)
		}
	})
}
