package probonus_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

// serveConns hands each connection accepted on ln to handle, each in its own goroutine, until the
// test ends; then it closes the listener and every connection, and waits for the handlers.
func serveConns(t *testing.T, ln net.Listener, handle func(net.Conn)) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				handle(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// serveRequests is a raw HTTP/1.1 server on a loopback port: it reads each request whole (its body
// kept readable) and hands it to serve with its number, counted from 1 across connections; serve
// answers byte by byte and returns whether to keep the connection. It returns the base URL.
func serveRequests(t *testing.T, serve func(conn net.Conn, req *http.Request, n int32) (keep bool)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var seen atomic.Int32
	serveConns(t, ln, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			body, err := io.ReadAll(req.Body)
			if err != nil {
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			if !serve(conn, req, seen.Add(1)) {
				return
			}
		}
	})
	return "http://" + ln.Addr().String()
}

// wireServer is a raw TCP server: it reads each request whole, counts it, and then does exactly
// what the test says at the byte level, as a real server or network may (close mid-answer, stall,
// answer 500 after acting). Nothing in net/http smooths its behaviour.
type wireServer struct {
	url     string
	seen    atomic.Int32 // requests read whole
	writes  atomic.Int32 // of them, those that are no GET (InsertByTemplate's refusal is followed by a find)
	applied atomic.Int32 // requests the "server" acted on
}

// serveFunc answers request number n (1-based) on conn, calling apply when the server acts on it;
// it returns whether to keep the connection for another request.
type serveFunc func(conn net.Conn, n int32, apply func()) (keep bool)

func newWireServer(t *testing.T, serve serveFunc) *wireServer {
	t.Helper()
	s := &wireServer{}
	s.url = serveRequests(t, func(conn net.Conn, req *http.Request, n int32) bool {
		s.seen.Add(1)
		if req.Method != http.MethodGet {
			s.writes.Add(1)
		}
		return serve(conn, n, func() { s.applied.Add(1) })
	})
	return s
}

func (s *wireServer) URL() string { return s.url }

// okBody decodes as every write's result: a RefillResult, an Account, or anything for Do.
const okBody = `{"id":1042,"transactionId":88017,"balance":"100.00","phone":"79991234567"}`

func answer(conn net.Conn, status int, contentType, body string) {
	_, _ = fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), contentType, len(body), body)
}

// stall blocks until the client closes the connection or the test ends (which closes it).
func stall(conn net.Conn) { _, _ = io.Copy(io.Discard, conn) }

// write is one write operation of the SDK.
type write struct {
	name string
	call func(ctx context.Context, c *probonus.Client) error
}

var writes = []write{
	{"Refill", func(ctx context.Context, c *probonus.Client) error {
		_, err := c.Accounts.Refill(ctx, probonus.Refill{AccountID: 1042, Amount: probonus.MustAmount("100")})
		return err
	}},
	{"InsertByTemplate", func(ctx context.Context, c *probonus.Client) error {
		_, err := c.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: 3, Phone: "+7 999 123-45-67"})
		return err
	}},
	{"Update", func(ctx context.Context, c *probonus.Client) error {
		_, err := c.Accounts.Update(ctx, probonus.AccountUpdate{AccountID: 1042, FirstName: probonus.Ptr("Анна")})
		return err
	}},
	{"Do POST", func(ctx context.Context, c *probonus.Client) error {
		var out map[string]any
		return c.Do(ctx, http.MethodPost, "/api/v0/accounts/refill", nil, map[string]any{"accountId": 1042, "amount": 100}, &out)
	}},
}

// TestWritesAtEveryFailurePoint breaks every write at every point a network or server can, at the
// byte level, and counts what the server saw and applied. A write is resent only when it certainly
// was not applied; when the outcome is unknown the error says so with ErrOutcomeUnknown, and its
// cause stays reachable.
func TestWritesAtEveryFailurePoint(t *testing.T) {
	t.Parallel()
	type want struct {
		seen, applied int32
		unknown       bool
		is            []error // reachable with errors.Is as well
		ok            bool
	}
	tests := []struct {
		name     string
		serve    serveFunc
		base     func(s *wireServer) string // default: the wire server
		options  []probonus.Option
		deadline time.Duration // the caller's own deadline, when set
		want     want
	}{
		{
			name: "before dial: a header net/http refuses",
			serve: func(conn net.Conn, n int32, apply func()) bool {
				apply()
				answer(conn, 200, "application/json", okBody)
				return true
			},
			options: []probonus.Option{probonus.WithAuth(headerAuth{"X-Vault-Token", "tok\nen"})},
			want:    want{seen: 0, applied: 0},
		},
		{
			name:  "dial refused",
			serve: func(conn net.Conn, n int32, apply func()) bool { apply(); return false },
			base:  func(*wireServer) string { return closedPortURL(t) },
			want:  want{seen: 0, applied: 0},
		},
		{
			name:  "TLS handshake fails",
			serve: func(conn net.Conn, n int32, apply func()) bool { apply(); return false },
			base:  func(s *wireServer) string { return strings.Replace(s.URL(), "http://", "https://", 1) },
			want:  want{seen: 0, applied: 0},
		},
		{
			name:  "after the write, before any answer",
			serve: func(conn net.Conn, n int32, apply func()) bool { apply(); return false },
			want:  want{seen: 1, applied: 1, unknown: true},
		},
		{
			name: "200 header, then the body breaks off",
			serve: func(conn net.Conn, n int32, apply func()) bool {
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"transactionId\": 88017,")
				apply()
				return false
			},
			want: want{seen: 1, applied: 1, unknown: true, is: []error{io.ErrUnexpectedEOF}},
		},
		{
			name: "200 header, then the body stalls past the attempt timeout",
			serve: func(conn net.Conn, n int32, apply func()) bool {
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"transactionId\": 88017,")
				apply()
				stall(conn)
				return false
			},
			want: want{seen: 1, applied: 1, unknown: true},
		},
		{
			name: "500 after applying",
			serve: func(conn net.Conn, n int32, apply func()) bool {
				apply()
				answer(conn, 500, "text/plain", "Internal Server Error")
				return true
			},
			want: want{seen: 1, applied: 1, unknown: true, is: []error{probonus.ErrServer}},
		},
		{
			name: "a proxy's 504 while the server acts",
			serve: func(conn net.Conn, n int32, apply func()) bool {
				apply()
				answer(conn, 504, "text/html", "<html><title>504 Gateway Time-out</title></html>")
				return true
			},
			want: want{seen: 1, applied: 1, unknown: true, is: []error{probonus.ErrServer}},
		},
		{
			name:     "the caller's deadline ends mid-flight",
			serve:    func(conn net.Conn, n int32, apply func()) bool { apply(); stall(conn); return false },
			options:  []probonus.Option{probonus.WithTimeout(time.Minute)}, // the caller's deadline comes first
			deadline: 300 * time.Millisecond,
			want:     want{seen: 1, applied: 1, unknown: true, is: []error{context.DeadlineExceeded}},
		},
		{
			name: "429, then applied once",
			serve: func(conn net.Conn, n int32, apply func()) bool {
				if n == 1 {
					answer(conn, 429, "application/json", `{"detail":"Too Many Requests"}`)
					return true
				}
				apply()
				answer(conn, 200, "application/json", okBody)
				return true
			},
			want: want{seen: 2, applied: 1, ok: true},
		},
		{
			name: "400: a definitive refusal",
			serve: func(conn net.Conn, n int32, apply func()) bool {
				answer(conn, 400, "application/json", `{"detail":"Аккаунт уже существует"}`)
				return true
			},
			want: want{seen: 1, applied: 0, is: []error{probonus.ErrBadRequest}},
		},
	}
	for _, w := range writes {
		for _, tt := range tests {
			t.Run(w.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				srv := newWireServer(t, tt.serve)
				base := srv.URL()
				if tt.base != nil {
					base = tt.base(srv)
				}
				opts := append([]probonus.Option{probonus.WithBaseURL(base), probonus.WithTimeout(400 * time.Millisecond),
					probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})}, tt.options...)
				if !strings.HasPrefix(tt.name, "before dial") {
					opts = append(opts, probonus.WithAPIKey("wire-test-key"))
				}
				c, err := probonus.New(opts...)
				require.NoError(t, err)
				ctx := context.Background()
				if tt.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.deadline)
					defer cancel()
				}
				err = w.call(ctx, c)
				if tt.want.ok {
					require.NoError(t, err)
				} else {
					require.Error(t, err)
				}
				assert.Equal(t, tt.want.unknown, errors.Is(err, probonus.ErrOutcomeUnknown), "ErrOutcomeUnknown: %v", err)
				for _, target := range tt.want.is {
					assert.ErrorIs(t, err, target)
				}
				assert.Equal(t, tt.want.seen, srv.writes.Load(), "writes the server read")
				assert.Equal(t, tt.want.applied, srv.applied.Load(), "requests the server applied")
				if tt.want.unknown {
					assert.Contains(t, err.Error(), "outcome unknown")
				}
			})
		}
	}
}

// headerAuth sets one header, whatever its value.
type headerAuth struct{ name, value string }

func (a headerAuth) Authenticate(_ context.Context, req *http.Request) error {
	req.Header[a.name] = []string{a.value}
	return nil
}

// closedPortURL is an address where nothing listens.
func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

// wireClient is a client of a raw server, quick to give up.
func wireClient(t *testing.T, base string, opts ...probonus.Option) *probonus.Client {
	t.Helper()
	c, err := probonus.New(append([]probonus.Option{probonus.WithBaseURL(base), probonus.WithAPIKey("wire-test-key-0000"),
		probonus.WithTimeout(2 * time.Second),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})}, opts...)...)
	require.NoError(t, err)
	return c
}

// TestFindOrInsertAtEveryFailurePoint: the sign-up's insert breaks at each point a network or
// server can after the server created the account (a 200 header and the connection closed, a body
// that stalls, a 500 after applying); FindOrInsert finds the account the insert made, and the
// server created one, whatever the answer.
func TestFindOrInsertAtEveryFailurePoint(t *testing.T) {
	t.Parallel()
	const account = `{"id":1042,"groupId":3,"phone":"79991234567"}`
	for name, lose := range map[string]func(conn net.Conn){
		"200 header, then closed": func(conn net.Conn) {
			_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(account))
		},
		"body stalls": func(conn net.Conn) {
			_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(account), account[:10])
			stall(conn)
		},
		"500 after applying": func(conn net.Conn) { answer(conn, 500, "text/plain", "Internal Server Error") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var created, inserts atomic.Int32
			base := serveRequests(t, func(conn net.Conn, req *http.Request, _ int32) bool {
				switch {
				case req.Method == http.MethodGet && created.Load() == 0:
					answer(conn, 404, "application/json", `{"detail":"Счёт не найден"}`)
				case req.Method == http.MethodGet:
					answer(conn, 200, "application/json", account)
				default:
					inserts.Add(1)
					created.Store(1) // applied before the answer is lost
					lose(conn)
					return false
				}
				return true
			})
			acc, made, err := wireClient(t, base, probonus.WithTimeout(300*time.Millisecond)).Accounts.FindOrInsert(
				context.Background(), probonus.NewAccount{GroupID: 3, Phone: "+7 999 123-45-67"})
			require.NoError(t, err)
			assert.Equal(t, int64(1042), acc.ID)
			assert.False(t, made, "the insert's outcome was unknown: not reported as this call's")
			assert.Equal(t, int32(1), inserts.Load(), "the insert is never resent")
		})
	}
}
