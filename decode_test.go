package probonus

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From the hardening of issue 10.
// TestEmptyAndNonJSONSuccessBodies: a 204 or an empty 200 into a non-nil out succeeds and leaves out
// as it was; with a nil out any 2xx body is read and discarded.
func TestEmptyAndNonJSONSuccessBodies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		body   string
		out    bool
	}{
		{204, "", true}, {200, "", true}, {200, "  \n", true},
		{204, "", false}, {200, "OK", false}, {201, "<html>created</html>", false}, {200, `{"a":1}`, false},
	} {
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/x"), httpmock.NewStringResponder(tt.status, tt.body))
		if tt.out {
			out := map[string]any{"kept": true}
			require.NoError(t, c.Do(context.Background(), http.MethodPost, "/api/v0/x", nil, nil, &out), "%d %q", tt.status, tt.body)
			assert.Equal(t, map[string]any{"kept": true}, out)
		} else {
			require.NoError(t, c.Do(context.Background(), http.MethodPost, "/api/v0/x", nil, nil, nil), "%d %q", tt.status, tt.body)
		}
	}
	// a body that is not JSON into a non-nil out is still a DecodeError
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, "OK"))
	var out map[string]any
	var de *DecodeError
	require.ErrorAs(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, &out), &de)
}

// scriptedBody is a response body that hands out its data in chunks, then ends with err (io.EOF
// for a clean end), and records reads after the end and closes.
type scriptedBody struct {
	chunks    []string
	err       error
	ended     bool
	readAfter int
	closed    int
}

func (b *scriptedBody) Read(p []byte) (int, error) {
	if b.ended {
		b.readAfter++
		return 0, b.err
	}
	if len(b.chunks) == 0 {
		b.ended = true
		return 0, b.err
	}
	n := copy(p, b.chunks[0])
	if b.chunks[0] = b.chunks[0][n:]; b.chunks[0] == "" {
		b.chunks = b.chunks[1:]
	}
	return n, nil
}

func (b *scriptedBody) Close() error { b.closed++; return nil }

func respond(status int, body *scriptedBody, size int64) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: status, Body: body, Header: http.Header{}, ContentLength: size, Request: req}, nil
	}
}

// From the fast paths of issue 11 (fastpath_test.go).
// TestDecodeBodies: what a success body decodes to, read whole into a pooled buffer: the JSON
// value, with anything after it ignored (as when it was streamed); nothing for an empty or
// all-white-space body of any length; the streaming decoder's errors for a bad body; money exact
// in an interface value.
func TestDecodeBodies(t *testing.T) {
	t.Parallel()
	type account struct {
		ID      int64  `json:"id"`
		Balance Amount `json:"balance"`
		Name    string `json:"name"`
	}
	for _, tt := range []struct {
		name    string
		chunks  []string
		want    account
		wantErr error // matched with errors.Is, or a *json.UnmarshalTypeError when errType
		errType bool
	}{
		{name: "one value", chunks: []string{`{"id":7,"balance":"150.50","name":"Анна"}`}, want: account{7, MustAmount("150.50"), "Анна"}},
		{name: "in pieces", chunks: []string{`{"id":7,"bal`, `ance":150.5`, `,"name":"А`, "\xd0\xbdна\"}"}, want: account{7, MustAmount("150.5"), "Анна"}},
		{name: "trailing data ignored", chunks: []string{`{"id":7} and then <html>`}, want: account{ID: 7}},
		{name: "a second value ignored", chunks: []string{`{"id":7}{"id":8}`}, want: account{ID: 7}},
		{name: "white space around", chunks: []string{"\r\n\t {\"id\":7} \n"}, want: account{ID: 7}},
		{name: "empty", chunks: nil, want: account{ID: -1}},
		{name: "white space only", chunks: []string{" \n\t\r "}, want: account{ID: -1}},
		{name: "long white space only", chunks: []string{strings.Repeat(" ", 300), strings.Repeat("\n", 5000)}, want: account{ID: -1}},
		{name: "truncated", chunks: []string{`{"id":7,"name":"An`}, wantErr: io.ErrUnexpectedEOF},
		{name: "not JSON", chunks: []string{`<html>maintenance</html>`}, wantErr: nil},
		{name: "a type mismatch", chunks: []string{`{"id":"seven"}`}, errType: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			body := &scriptedBody{chunks: append([]string(nil), tt.chunks...), err: io.EOF}
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), respond(200, body, -1))
			got := account{ID: -1}
			err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, &got)
			assert.Zero(t, body.readAfter, "a body read to its end is not read again")
			assert.Equal(t, 1, body.closed)
			if tt.want != (account{}) {
				require.NoError(t, err)
				assert.Equal(t, tt.want.ID, got.ID)
				assert.True(t, tt.want.Balance.Equal(got.Balance), got.Balance.String())
				assert.Equal(t, tt.want.Name, got.Name)
				return
			}
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, strings.Join(tt.chunks, ""), de.Sample)
			assert.Equal(t, 1, mt.GetTotalCallCount(), "a bad body is not retried")
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			if tt.errType {
				var te *json.UnmarshalTypeError
				assert.ErrorAs(t, err, &te)
			}
		})
	}
}

// From the fast paths of issue 11 (fastpath_test.go).
// TestDecodeKeepsNumbersExactInInterfaces: Do into a map or into a struct with an interface field
// gets json.Number (UseNumber), as before; a typed out never sees a float.
func TestDecodeKeepsNumbersExactInInterfaces(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	const body = `{"balance":150.10,"big":12345678901234567890123,"list":[0.1],"nested":{"x":1e400}}`
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), httpmock.NewStringResponder(200, body+" trailing"))
	var m map[string]any
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, &m))
	assert.Equal(t, json.Number("150.10"), m["balance"])
	assert.Equal(t, json.Number("12345678901234567890123"), m["big"])
	assert.Equal(t, []any{json.Number("0.1")}, m["list"])
	assert.Equal(t, map[string]any{"x": json.Number("1e400")}, m["nested"])

	var s struct {
		Balance any `json:"balance"`
		Nested  *struct {
			X any `json:"x"`
		} `json:"nested"`
	}
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, &s))
	assert.Equal(t, json.Number("150.10"), s.Balance)
	assert.Equal(t, json.Number("1e400"), s.Nested.X, "1e400 overflows a float64: only UseNumber reads it")
}

// From the fast paths of issue 11 (fastpath_test.go).
func TestHoldsInterface(t *testing.T) {
	t.Parallel()
	type node struct {
		Next *node
		Kids []node
	}
	type withAny struct {
		Next *withAny
		V    []map[string]any
	}
	type hidden struct{ v any }
	type inner struct{ V any }
	type embedsUnexported struct{ inner }
	for _, tt := range []struct {
		v    any
		want bool
	}{
		{&Account{}, false}, {&[]Transaction{}, false}, {&Check{}, false}, {&BalanceExtended{}, false},
		{&RefillResult{}, false}, {&[]AccountGroup{}, false}, {&json.RawMessage{}, false},
		{&node{}, false}, {&hidden{}, false},
		{new(any), true}, {&map[string]any{}, true}, {&withAny{}, true}, {&embedsUnexported{}, true},
		{&[2]struct{ X []any }{}, true},
	} {
		assert.Equal(t, tt.want, holdsInterface(reflect.TypeOf(tt.v)), "%T", tt.v)
		assert.Equal(t, tt.want, holdsInterface(reflect.TypeOf(tt.v)), "%T, cached", tt.v)
	}
	assert.Nil(t, hidden{}.v, "json never fills an unexported field")
}

// From the fast paths of issue 11 (fastpath_test.go).
// TestBodyCapReadWhole: the cap is on the body, read whole: exactly the cap fits, one byte more
// fails, a Content-Length above the cap fails without reading, and a JSON value followed by more
// than the cap allows fails too (a streamed decoder used to stop at the value's end).
func TestBodyCapReadWhole(t *testing.T) {
	t.Parallel()
	const limit = 64
	value := `["` + strings.Repeat("x", limit-4) + `"]`
	require.Len(t, value, limit)
	for _, tt := range []struct {
		name   string
		chunks []string
		size   int64
		fits   bool
	}{
		{"exactly the cap, length unknown", []string{value[:10], value[10:]}, -1, true},
		{"exactly the cap, length known", []string{value}, limit, true},
		{"one byte more", []string{value, " "}, -1, false},
		{"a Content-Length above the cap", []string{value, " "}, limit + 1, false},
		{"a value, then more than the cap", []string{`[1]`, strings.Repeat(" ", limit)}, -1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t, WithMaxResponseSize(limit))
			body := &scriptedBody{chunks: tt.chunks, err: io.EOF}
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), respond(200, body, tt.size))
			var out []any
			err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, &out)
			if tt.fits {
				require.NoError(t, err)
				assert.Len(t, out, 1)
				return
			}
			assert.ErrorIs(t, err, ErrResponseTooLarge)
			assert.Equal(t, 1, mt.GetTotalCallCount(), "a body too large is not retried")
		})
	}
}

// From the fast paths of issue 11 (fastpath_test.go).
// TestBodyBreaksOff: a read error after a whole JSON value still decodes it (a streamed decoder
// stopped at the value's end and never saw the error); one inside the value is a connection error,
// retried for a read, and the body is drained and closed, not read to an end it never reached.
func TestBodyBreaksOff(t *testing.T) {
	t.Parallel()
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

	c, mt := setup(t)
	whole := &scriptedBody{chunks: []string{`{"id":7}`}, err: reset}
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/whole"), respond(200, whole, 100))
	var got struct{ ID int64 }
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/whole", nil, nil, &got))
	assert.Equal(t, int64(7), got.ID)
	assert.Equal(t, 1, whole.closed)

	broken := func() *scriptedBody { return &scriptedBody{chunks: []string{`{"id":7,"na`}, err: reset} }
	var bodies []*scriptedBody
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/broken"), func(req *http.Request) (*http.Response, error) {
		b := broken()
		bodies = append(bodies, b)
		return respond(200, b, 100)(req)
	})
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/broken", nil, nil, &got)
	assert.ErrorIs(t, err, syscall.ECONNRESET)
	assert.Contains(t, err.Error(), "reading the response")
	assert.Len(t, bodies, fastRetry.MaxAttempts, "a read whose body broke off is retried")
	for _, b := range bodies {
		assert.Equal(t, 1, b.closed)
	}
}

// From the fast paths of issue 11 (fastpath_test.go).
// TestDecodedValuesDoNotShareTheBuffer: what one call decoded stays as it was when the next call
// reads its body into the same pooled buffer.
func TestDecodedValuesDoNotShareTheBuffer(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
		n := req.URL.Query().Get("n")
		return httpmock.NewStringResponse(200, `{"name":"`+strings.Repeat(n, 40)+`","code":`+n+`,"raw":{"n":"`+n+`"}}`), nil
	})
	type out struct {
		Name string          `json:"name"`
		Code Code            `json:"code"`
		Raw  json.RawMessage `json:"raw"`
	}
	var first out
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", url.Values{"n": {"1"}}, nil, &first))
	for i := 2; i < 10; i++ {
		var next out
		require.NoError(t, c.Do(context.Background(), http.MethodGet, "/api/v0/x", url.Values{"n": {strconv.Itoa(i)}}, nil, &next))
		assert.Equal(t, Code(strconv.Itoa(i)), next.Code)
	}
	assert.Equal(t, strings.Repeat("1", 40), first.Name)
	assert.Equal(t, Code("1"), first.Code)
	assert.JSONEq(t, `{"n":"1"}`, string(first.Raw))
}

// From the fast paths of issue 11 (fastpath_test.go).
// TestLargeBuffersAreNotPooled: a buffer grown for a body beyond maxPooledBody goes to the
// garbage collector, not back to the pool. A buffer once put is never touched again: parallel
// tests decode with it at once (issue 17 #13: reading one after the put was a data race that
// failed every test running at that moment).
func TestLargeBuffersAreNotPooled(t *testing.T) {
	t.Parallel()
	big := make([]byte, 0, maxPooledBody+1)
	assert.False(t, poolable(&big), "a buffer beyond maxPooledBody")
	putBodyBuffer(&big)
	for range 100 {
		b := bodyBuffers.Get().(*[]byte)
		assert.LessOrEqual(t, cap(*b), maxPooledBody)
	}
	small := make([]byte, 10, 4096)
	assert.True(t, poolable(&small))
	assert.Empty(t, small, "a pooled buffer is emptied")
	assert.Equal(t, 4096, cap(small), "and keeps its room")
}
