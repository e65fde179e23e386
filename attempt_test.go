package probonus

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From the fast paths of issue 11 (fastpath_test.go).
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

// From the fast paths of issue 11 (fastpath_test.go).
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

// From the fast paths of issue 11 (fastpath_test.go).
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

// From the fast paths of issue 11 (fastpath_test.go).
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

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// From the fast paths of issue 11 (fastpath_test.go).
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
