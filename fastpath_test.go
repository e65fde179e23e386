package probonus

// Tests of the request path's fast paths (issue 11): each one's edge cases, so that being cheaper
// never changes what a call does.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/shopspring/decimal"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttemptTimer: an attempt is bounded by the attempt timeout or the caller's deadline,
// whichever ends first, whether or not it made a timer of its own; and a caller's cancel reaches
// the request either way.
func TestAttemptTimer(t *testing.T) {
	t.Parallel()
	const timeout = 30 * time.Second
	for _, tt := range []struct {
		name      string
		deadline  time.Duration // the caller's; 0: none
		wantTimer bool
	}{
		{"no deadline", 0, true},
		{"a deadline after the attempt timeout", time.Hour, true},
		{"a deadline before the attempt timeout", 10 * time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			assert.Equal(t, tt.wantTimer, attemptTimerNeeded(ctx, timeout))

			c, mt := setup(t, WithTimeout(timeout))
			var got time.Time
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
				dl, ok := req.Context().Deadline()
				require.True(t, ok, "every attempt has a deadline")
				got = dl
				return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}}, nil
			})
			before := time.Now()
			require.NoError(t, c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil))
			if cdl, ok := ctx.Deadline(); ok && !tt.wantTimer {
				assert.Equal(t, cdl, got, "the caller's deadline, which comes first")
			} else {
				assert.False(t, got.Before(before.Add(timeout)), "the attempt timeout")
				assert.False(t, got.After(time.Now().Add(timeout)), "the attempt timeout")
			}
		})
	}

	t.Run("a cancel without a timer of the attempt's own", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t, WithTimeout(timeout))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.False(t, attemptTimerNeeded(ctx, timeout))
		mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
			cancel()
			<-req.Context().Done()
			return nil, req.Context().Err()
		})
		err := c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 1, mt.GetTotalCallCount(), "a cancelled call is not retried")
	})
}

// TestTypedQueriesAreCanonical: every typed method's query is what url.Values.Encode writes (its
// keys sorted, its values escaped), built without url.Values.
func TestTypedQueriesAreCanonical(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	var got []string
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		got = append(got, req.URL.Path+"?"+req.URL.RawQuery)
		body := `{"id":1}` // an account or a check
		if strings.HasSuffix(req.URL.Path, "/transactions") {
			body = `[]`
		}
		return httpmock.NewStringResponse(200, body), nil
	})
	ctx := context.Background()
	from := time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)
	_, err := c.Accounts.FindByPhone(ctx, "+7 (999) 123-45-67")
	require.NoError(t, err)
	_, err = c.Accounts.Transactions(ctx, 1042, from, from.Add(48*time.Hour))
	require.NoError(t, err)
	_, err = c.Accounts.LastTransactions(ctx, 1042, 1000)
	require.NoError(t, err)
	_, err = c.Accounts.BalanceExtended(ctx, 9223372036854775807)
	require.NoError(t, err)
	_, err = c.Checks.GetByID(ctx, 5501)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"/pb/api/v0/accounts/find_by_phone?phone=79991234567",
		"/pb/api/v0/accounts/transactions?accountId=1042&dateFrom=2026-02-01T12%3A30%3A00&dateTo=2026-02-03T12%3A30%3A00",
		"/pb/api/v0/accounts/transactions?accountId=1042&count=1000",
		"/pb/api/v0/accounts/get_balance_extended?accountId=9223372036854775807",
		"/pb/api/v0/checks/get_by_id?checkId=5501",
	}, got)
	for _, g := range got {
		_, raw, _ := strings.Cut(g, "?")
		q, err := url.ParseQuery(raw)
		require.NoError(t, err)
		assert.Equal(t, q.Encode(), raw, "sorted and escaped as url.Values.Encode would")
	}
}

// FuzzEncodeQuery: encodeQuery writes what url.Values.Encode writes, for any keys and values
// given in sorted order, integers included.
func FuzzEncodeQuery(f *testing.F) {
	for _, s := range []string{"", "79991234567", "2026-02-16T09:42:00", "a b&c=d+e", "Пекарня", "%zz", "~-_.", "\x00\xff"} {
		f.Add("k", s, int64(-5))
	}
	f.Fuzz(func(t *testing.T, key, value string, n int64) {
		// A key sorts before its extensions, and "~int" before "~str": the order Encode sorts into.
		want := url.Values{key: {value}, key + "~int": {strconv.FormatInt(n, 10)}, key + "~str": {value}}.Encode()
		got := encodeQuery(qStr(key, value), qInt(key+"~int", n), qStr(key+"~str", value))
		if got != want {
			t.Fatalf("encodeQuery = %q, url.Values.Encode = %q", got, want)
		}
		if q := encodeQuery(qStr(key, value)); q != url.QueryEscape(key)+"="+url.QueryEscape(value) {
			t.Fatalf("one parameter: %q", q)
		}
	})
}

// TestNewRequestMatchesNetHTTP: newRequest makes the request http.NewRequestWithContext makes from
// the printed URL, for base URLs and paths with everything a URL can hold, with and without a body.
func TestNewRequestMatchesNetHTTP(t *testing.T) {
	t.Parallel()
	ctx := context.WithValue(context.Background(), noAuthKey{}, "marker")
	for _, base := range []string{"http://probonus.test:11030/pb", "https://probonus.test", "http://probonus.test:/x",
		"http://[::1]:8080/p", "http://[fe80::1%25en0]:80/p%20q", "HTTP://Probonus.Test/Bonus"} {
		for _, path := range []string{"/api/v0/x", "/api/v0/a b", "/api/v0/Пекарня", "/api/v0/a+b;c=d", "/api/v0/%41"} {
			for _, tt := range []struct {
				method     string
				query      string
				body       []byte
				idempotent bool
			}{
				{http.MethodGet, "", nil, true},
				{http.MethodGet, "phone=79991234567&x=a%3Ab", nil, true},
				{http.MethodPost, "", []byte(`{"accountId":1}`), false},
				{http.MethodPost, "", []byte(`{"login":"l"}`), true},
				{"PROPFIND", "a=1", []byte(`[]`), false},
			} {
				c, _ := setup(t, WithBaseURL(base))
				u := *c.baseURL
				u.Path += path
				u.RawQuery = tt.query
				got, wt, err := c.newRequest(ctx, tt.method, &u, tt.body, tt.idempotent)
				require.NoError(t, err)
				if tt.idempotent {
					assert.Nil(t, wt, "a read needs no wire trace")
					assert.Nil(t, httptrace.ContextClientTrace(got.Context()))
				} else {
					require.NotNil(t, wt, "a write learns whether it reached the wire")
					assert.Same(t, &wt.trace, httptrace.ContextClientTrace(got.Context()))
					assert.NotNil(t, wt.trace.GotConn)
					assert.NotNil(t, wt.trace.GetConn, "the transport is not net/http's own: GetConn says the trace reached it")
				}
				var rdr io.Reader
				if tt.body != nil {
					rdr = bytes.NewReader(tt.body)
				}
				want, err := http.NewRequestWithContext(ctx, tt.method, u.String(), rdr)
				require.NoError(t, err)
				name := base + " " + tt.method + " " + path
				assert.Equal(t, want.URL, got.URL, name)
				assert.Equal(t, want.URL.String(), got.URL.String(), name)
				assert.Equal(t, want.URL.RequestURI(), got.URL.RequestURI(), name)
				assert.Equal(t, want.Host, got.Host, name)
				assert.Equal(t, []any{want.Method, want.Proto, want.ProtoMajor, want.ProtoMinor, want.ContentLength},
					[]any{got.Method, got.Proto, got.ProtoMajor, got.ProtoMinor, got.ContentLength}, name)
				assert.Equal(t, "marker", got.Context().Value(noAuthKey{}), name)
				assert.Equal(t, http.Header{"Accept": {"application/json"}, "User-Agent": {c.userAgent}}, without(got.Header, "Content-Type"), name)
				if tt.body == nil {
					assert.Nil(t, got.Body, name)
					assert.Empty(t, got.Header["Content-Type"], name)
					assert.Nil(t, got.GetBody, name)
					continue
				}
				assert.Equal(t, []string{"application/json"}, got.Header["Content-Type"], name)
				b, err := io.ReadAll(got.Body)
				require.NoError(t, err)
				assert.Equal(t, tt.body, b, name)
				require.NoError(t, got.Body.Close())
				if !tt.idempotent {
					assert.Nil(t, got.GetBody, "a write's body is never re-read below the SDK")
					continue
				}
				for range 2 {
					again, err := got.GetBody()
					require.NoError(t, err)
					b, err = io.ReadAll(again)
					require.NoError(t, err)
					assert.Equal(t, tt.body, b, "GetBody gives the whole body each time")
				}
			}
		}
	}
}

func without(h http.Header, key string) http.Header {
	h = h.Clone()
	delete(h, key)
	return h
}

// TestNewRequestRefusesWhatNetHTTPRefuses: a method that is not an HTTP token fails before
// anything is sent, with net/http's own message, and is not retried.
func TestNewRequestRefusesWhatNetHTTPRefuses(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"GE T", "GE\tT", "GÉT", "(GET)"} {
		_, want := http.NewRequest(m, "http://x/", nil)
		require.Error(t, want)
		c, mt := setup(t)
		u := *c.baseURL
		_, _, err := c.newRequest(context.Background(), m, &u, nil, true)
		assert.EqualError(t, err, want.Error())
		err = c.Do(context.Background(), m, "/api/v0/x", nil, nil, nil)
		assert.ErrorIs(t, err, ErrInvalidInput, "Do refuses it as bad input (issue 17 #11)")
		assert.Zero(t, mt.GetTotalCallCount())
	}
	assert.True(t, validMethod("M-SEARCH"))
	assert.True(t, validMethod("X!#$%&'*+.^_`|~1"))
	assert.False(t, validMethod(""))
}

// headerScribbler is a transport that writes into the request's header values in place and
// appends to them, as a careless RoundTripper or Authenticator may: no other request may see it.
type headerScribbler struct{ seen []http.Header }

func (s *headerScribbler) RoundTrip(req *http.Request) (*http.Response, error) {
	s.seen = append(s.seen, req.Header.Clone())
	for k, v := range req.Header {
		v[0] = "scribbled " + k
		req.Header[k] = append(v, "appended")
	}
	return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// TestHeaderValuesAreNotShared: the constant headers' values share one array per request, cut
// so that neither writing into one nor appending to one reaches another header or request.
func TestHeaderValuesAreNotShared(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	s := &headerScribbler{}
	c.hc.Transport = s
	for range 3 {
		require.NoError(t, c.Do(context.Background(), http.MethodPost, "/api/v0/x", nil, map[string]int{"a": 1}, nil))
	}
	require.Len(t, s.seen, 3)
	for _, h := range s.seen {
		assert.Equal(t, []string{"application/json"}, h["Accept"])
		assert.Equal(t, []string{c.userAgent}, h["User-Agent"])
		assert.Equal(t, []string{"application/json"}, h["Content-Type"])
		assert.Equal(t, []string{testAPIKey}, h["X-Api-Key"])
	}

	u := *c.baseURL
	req, _, err := c.newRequest(context.Background(), http.MethodPost, &u, []byte(`{}`), false)
	require.NoError(t, err)
	req.Header["Accept"] = append(req.Header["Accept"], "text/plain")
	assert.Equal(t, []string{c.userAgent}, req.Header["User-Agent"], "an append copies the values away")
	req.Header["User-Agent"][0] = "changed"
	assert.Equal(t, []string{"application/json"}, req.Header["Content-Type"])
	assert.Equal(t, []string{"application/json", "text/plain"}, req.Header["Accept"])
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

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestWriteGoesOutInOneWrite: a write's headers and JSON body leave in one write (net/http knows
// the body is in memory), not the headers flushed first and the body after.
func TestWriteGoesOutInOneWrite(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"transactionId":1,"balance":"1.00"}`)
	}))
	defer srv.Close()
	var writes atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{conn, &writes}, err
	}}
	defer tr.CloseIdleConnections()
	c, err := New(WithBaseURL(srv.URL), WithAPIKey(testAPIKey), WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		_, err = c.Accounts.Refill(context.Background(), Refill{AccountID: 1, Amount: MustAmount("1")})
		require.NoError(t, err)
		assert.Equal(t, int32(i), writes.Load(), "one write per request")
	}
}

// The general ways the value types read JSON, as they were before the fast paths: the references
// the fuzz targets below hold the fast paths to.

func slowAmount(b []byte) (Amount, error) {
	if string(b) == "null" {
		return Amount{}, nil
	}
	s := string(b)
	if len(b) >= 2 && b[0] == '"' {
		var err error
		if s, err = unquote(b); err != nil {
			return Amount{}, err
		}
		if strings.TrimSpace(s) == "" {
			return Amount{}, nil
		}
	}
	return ParseAmount(s)
}

func slowMinor(a Amount) (int64, bool) {
	kopecks := a.Decimal().Shift(2)
	whole := kopecks.Truncate(0)
	if whole.LessThan(minMinor) || whole.GreaterThan(maxMinor) {
		return 0, false
	}
	return whole.IntPart(), whole.Equal(kopecks)
}

func slowTime(b []byte) (Time, error) {
	if string(b) == "null" {
		return Time{}, nil
	}
	s, err := unquote(b)
	if err != nil || len(b) == 0 || b[0] != '"' {
		return Time{}, errors.New("not a string")
	}
	return parseTime(s, defaultLocation)
}

func slowDate(b []byte) (Date, error) {
	if string(b) == "null" {
		return Date{}, nil
	}
	s, err := unquote(b)
	if err != nil || len(b) == 0 || b[0] != '"' {
		return Date{}, errors.New("not a string")
	}
	if s == "" {
		return Date{}, nil
	}
	return ParseDate(s)
}

func sameDecimal(a, b Amount) bool {
	return a.Decimal().Exponent() == b.Decimal().Exponent() && a.Decimal().Cmp(b.Decimal()) == 0
}

// FuzzValuesFromBytes: Amount, Time and Date read from the bytes what the general way reads, to
// the exponent of a decimal and the location of a time, and refuse what it refuses.
func FuzzValuesFromBytes(f *testing.F) {
	for _, s := range []string{`150`, `150.5`, `"150.50"`, `-0.01`, `"-0.01"`, `1e2`, `"1E-5"`, `null`, `""`, `"  1 "`, `"1."`,
		`".5"`, `"-"`, `-.5`, `0`, `-0`, `"007"`, `123456789012345678`, `1234567890123456789`, `"1\u0030"`,
		`"2026-02-16T09:42:00"`, `"2026-02-16 09:42:00"`, `"2026-02-16T09:42:00.5"`, `"2026-02-16T09:42:00.123456789"`,
		`"2026-02-16T09:42:00.1234567891"`, `"2026-02-16T09:42:00Z"`, `"2026-02-16T09:42:00.25Z"`, `"2026-02-16T09:42:00z"`,
		`"2026-02-16T09:42:00+03:00"`, `"2026-02-16T09:42:00,5"`, `"2026-02-16T09:42:00."`, `"2026-02-29T00:00:00"`,
		`"2024-02-29T24:00:00"`, `"2026-02-16"`, `"2026-02-16Tanything"`, `"2026-13-01"`, `"0000-01-01"`, `"2026-02-16t09:42:00"`,
		`"\u0032026-02-16"`, `" 2026-02-16"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Amount
		aerr := a.UnmarshalJSON(data)
		want, werr := slowAmount(data)
		if (aerr == nil) != (werr == nil) || aerr == nil && !sameDecimal(a, want) {
			t.Fatalf("Amount %q: %v (%v), the general way %v (%v)", data, a.Decimal(), aerr, want.Decimal(), werr)
		}
		var tm Time
		terr := tm.UnmarshalJSON(data)
		wantT, werr := slowTime(data)
		if (terr == nil) != (werr == nil) || terr == nil && !reflect.DeepEqual(tm, wantT) {
			t.Fatalf("Time %q: %v (%v), the general way %v (%v)", data, tm, terr, wantT, werr)
		}
		var d Date
		derr := d.UnmarshalJSON(data)
		wantD, werr := slowDate(data)
		if (derr == nil) != (werr == nil) || d != wantD {
			t.Fatalf("Date %q: %v (%v), the general way %v (%v)", data, d, derr, wantD, werr)
		}
	})
}

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

// TestValuesDecodeWithoutCopies: the usual forms decode without a string copy: a timestamp and a
// date with no allocation, an amount with only its big.Int (none for 0), and encode with one.
// Not parallel: AllocsPerRun counts the allocations of every goroutine.
func TestValuesDecodeWithoutCopies(t *testing.T) {
	var a Amount
	var tm Time
	var d Date
	in := func(s string) []byte { return []byte(s) } // made once, outside the runs counted
	wall, utc, date, zero, money, quoted := in(`"2026-02-16T09:42:00.5"`), in(`"2026-02-16T09:42:00Z"`), in(`"1990-05-17"`),
		in(`0`), in(`12400.75`), in(`"12400.75"`)
	amount, burn := MustAmount("150.50"), Date{2027, 1, 31}
	for _, tt := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"Time", 0, func() { _ = tm.UnmarshalJSON(wall) }},
		{"Time Z", 0, func() { _ = tm.UnmarshalJSON(utc) }},
		{"Date", 0, func() { _ = d.UnmarshalJSON(date) }},
		{"Amount 0", 0, func() { _ = a.UnmarshalJSON(zero) }},
		{"Amount", 2, func() { _ = a.UnmarshalJSON(money) }},
		{"quoted Amount", 2, func() { _ = a.UnmarshalJSON(quoted) }},
		{"Amount.MarshalJSON", 1, func() { _, _ = amount.MarshalJSON() }},
		{"Date.MarshalJSON", 1, func() { _, _ = burn.MarshalJSON() }},
		{"Minor", 0, func() { _, _ = amount.Minor() }},
	} {
		assert.LessOrEqual(t, testing.AllocsPerRun(100, tt.f), tt.max, tt.name)
	}
	require.NoError(t, a.UnmarshalJSON(zero))
	assert.Equal(t, Amount{}, a, "0 is the zero value")
	b, err := a.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, "0", string(b))
}

// TestWireTraceHooks: a write to net/http's own transport is traced with GotConn alone; through
// any other transport GetConn is added, to tell a trace that reached net/http from one that did not.
func TestWireTraceHooks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		transport http.RoundTripper
		getConn   bool
	}{
		{"net/http's transport", &http.Transport{}, false},
		{"http.DefaultTransport", nil, false},
		{"a wrapper", &headerScribbler{}, true},
	} {
		c, err := New(WithBaseURL(testBase), WithAPIKey(testAPIKey), WithHTTPClient(&http.Client{Transport: tt.transport}))
		require.NoError(t, err)
		u := *c.baseURL
		_, wt, err := c.newRequest(context.Background(), http.MethodPost, &u, []byte(`{}`), false)
		require.NoError(t, err)
		assert.NotNil(t, wt.trace.GotConn, tt.name)
		assert.Equal(t, tt.getConn, wt.trace.GetConn != nil, tt.name)
		assert.Nil(t, wt.trace.WroteRequest, tt.name)
	}
}

// stubTransport answers every request with 204 and no body, from memory.
type stubTransport struct{}

func (stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// TestBasePathCostsOneString: under a base path (a proxy's prefix) a call joins it to the
// endpoint's path once, for the URL and for its errors alike.
// Not parallel: AllocsPerRun counts the allocations of every goroutine.
func TestBasePathCostsOneString(t *testing.T) {
	allocs := func(base string) float64 {
		c, err := New(WithBaseURL(base), WithAPIKey(testAPIKey), WithHTTPClient(&http.Client{Transport: stubTransport{}}))
		require.NoError(t, err)
		return testing.AllocsPerRun(200, func() {
			_, _ = c.AccountGroups.List(context.Background())
		})
	}
	assert.Equal(t, allocs("http://probonus.test")+1, allocs("http://probonus.test/pb"))
}

// silentObserver observes nothing: what an observer costs the request path beyond itself.
type silentObserver struct{}

func (silentObserver) CallStart(ctx context.Context, _ *Call) context.Context       { return ctx }
func (silentObserver) CallEnd(context.Context, *Call)                               {}
func (silentObserver) AttemptStart(ctx context.Context, _ *Attempt) context.Context { return ctx }
func (silentObserver) AttemptEnd(context.Context, *Attempt)                         {}

// TestNoObserverCostsNothing (issue 13): a Call, an Attempt and the Attempt's Header map are made
// only for observers, so a call without one allocates at least three times less than a call with
// one that does nothing; anything made for observers regardless would narrow the gap.
// Not parallel: AllocsPerRun counts the allocations of every goroutine.
func TestNoObserverCostsNothing(t *testing.T) {
	allocs := func(opts ...Option) float64 {
		c, err := New(append([]Option{WithBaseURL(testBase), WithAPIKey(testAPIKey),
			WithHTTPClient(&http.Client{Transport: stubTransport{}})}, opts...)...)
		require.NoError(t, err)
		return testing.AllocsPerRun(200, func() {
			_, _ = c.AccountGroups.List(context.Background())
		})
	}
	none, one := allocs(), allocs(WithObserver(silentObserver{}))
	assert.GreaterOrEqual(t, one-none, 3.0, "without an observer: %v allocations; with one: %v", none, one)
}
