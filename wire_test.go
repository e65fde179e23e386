package probonus_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

func rvRefill(reason string) probonus.Refill {
	return probonus.Refill{AccountID: 1042, Amount: probonus.MustAmount("50"), Reason: probonus.Ptr(reason)}
}

// rvH2Frame writes one HTTP/2 frame.
func rvH2Frame(w io.Writer, typ, flags byte, stream uint32, payload []byte) {
	h := make([]byte, 9, 9+len(payload))
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	_, _ = w.Write(append(h, payload...))
}

// rvH2Server is a minimal HTTP/2 server over TLS, speaking frames by hand so that it can do what
// a proxy in front of ProBonus may do: act on a request and then reset its stream. answer is
// called once per complete request (n counts from 1) and writes the frames of the answer.
func rvH2Server(t *testing.T, answer func(w io.Writer, stream uint32, n int32)) (baseURL string, hc *http.Client, seen *atomic.Int32) {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.EnableHTTP2 = true
	ts.StartTLS() // only for its certificate and a client that trusts it
	t.Cleanup(ts.Close)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: ts.TLS.Certificates, NextProtos: []string{"h2"}})
	require.NoError(t, err)
	seen = &atomic.Int32{}
	serveConns(t, ln, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		if _, err := io.ReadFull(br, make([]byte, 24)); err != nil { // the client preface
			return
		}
		rvH2Frame(conn, 0x4, 0, 0, nil) // SETTINGS
		for {
			var h [9]byte
			if _, err := io.ReadFull(br, h[:]); err != nil {
				return
			}
			payload := make([]byte, int(h[0])<<16|int(h[1])<<8|int(h[2]))
			if _, err := io.ReadFull(br, payload); err != nil {
				return
			}
			typ, flags, stream := h[3], h[4], binary.BigEndian.Uint32(h[5:])&0x7fffffff
			switch {
			case typ == 0x4 && flags&0x1 == 0: // SETTINGS: acknowledge
				rvH2Frame(conn, 0x4, 0x1, 0, nil)
			case typ == 0x6 && flags&0x1 == 0: // PING: answer
				rvH2Frame(conn, 0x6, 0x1, 0, payload)
			case (typ == 0x0 || typ == 0x1) && flags&0x1 != 0: // DATA or HEADERS with END_STREAM: the request is whole
				answer(conn, stream, seen.Add(1))
			}
		}
	})
	return "https://" + ln.Addr().String(), ts.Client(), seen
}

// From the adversarial review of issues 9 and 10.
// TestReviewHTTP2ResetAfterApplyResendsRefill (money). Over HTTP/2 (what the default client speaks
// to any https server or proxy that offers it), Go's own transport silently resends a request whose
// stream the peer reset with PROTOCOL_ERROR, whenever Request.GetBody is set (net/http h2_bundle
// canRetryError; golang/go#47635: some servers send it for requests they never processed). The SDK
// builds every request from a bytes.Reader, so GetBody is always set, and the resend happens below
// the SDK, invisible to shouldRetry and mayBeWritten. Nothing promises the peer had not acted: a
// proxy that resets the stream after its upstream committed (say, on a malformed upstream answer)
// gets the write twice. Seen: one Refill call, two credits, and Refill returns success.
// Fixed: a write's request has no GetBody at all (newRequest), so nothing below the SDK can
// rewind and resend it; only send decides whether a write goes out again.
func TestReviewHTTP2ResetAfterApplyResendsRefill(t *testing.T) {
	t.Parallel()
	var applied atomic.Int32
	base, hc, seen := rvH2Server(t, func(w io.Writer, stream uint32, n int32) {
		applied.Add(1) // the upstream acted on it
		if n == 1 {
			rvH2Frame(w, 0x3, 0, stream, []byte{0, 0, 0, 0x1}) // RST_STREAM PROTOCOL_ERROR
			return
		}
		rvH2Frame(w, 0x1, 0x4, stream, []byte{0x88}) // HEADERS :status 200 (HPACK static index 8)
		rvH2Frame(w, 0x0, 0x1, stream, []byte(`{"transactionId":88017,"balance":"100.00"}`))
	})
	c, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey("h2-review-key"), probonus.WithHTTPClient(hc),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
	require.NoError(t, err)
	_, err = c.Accounts.Refill(context.Background(), rvRefill("h2"))
	assert.Equal(t, int32(1), seen.Load(), "requests the server read: a reset stream after the server acted must not be resent")
	assert.Equal(t, int32(1), applied.Load(), "credits applied")
	assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the stream was reset after the request was written: outcome unknown")
}

// rvNoTrace is a RoundTripper that rebuilds the request with a context of its own (as some signing
// or retrying wrappers, and test doubles, do), so the SDK's httptrace never fires.
type rvNoTrace struct{ inner http.RoundTripper }

func (r rvNoTrace) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.inner.RoundTrip(req.Clone(context.Background()))
}

// From the adversarial review of issues 9 and 10.
// TestReviewReplacedDefaultTransportIsTrustedBlindly (money). mayBeWritten trusts "nothing was
// written" without a connection only for Go's own *http.Transport, and rightly distrusts any
// other transport, except a wrong one: a nil http.Client.Transport is taken for *http.Transport,
// though it means http.DefaultTransport, which a process may have replaced (a global
// instrumentation wrapper, httpmock.Activate in a user's tests). With such a wrapper installed
// globally, a refill the server applied before the connection dropped is resent: two credits,
// where the same wrapper passed with WithHTTPClient gives one credit and ErrOutcomeUnknown.
// Fix: in mayBeWritten, resolve a nil Transport to http.DefaultTransport before the type switch.
// It replaces http.DefaultTransport, which every goroutine of the process reads (a token refresh
// another test left running, say: the shuffled stress run caught that race), so it runs alone, in
// a process of its own.
func TestReviewReplacedDefaultTransportIsTrustedBlindly(t *testing.T) {
	if os.Getenv(ownProcessEnv) != t.Name() {
		t.Parallel()
		runInOwnProcess(t)
		return
	}
	var applied atomic.Int32
	base := serveRequests(t, func(conn net.Conn, req *http.Request, n int32) bool {
		applied.Add(1) // applied; then the connection drops before any answer
		return false
	})
	wrapper := rvNoTrace{http.DefaultTransport.(*http.Transport).Clone()}
	opts := []probonus.Option{probonus.WithBaseURL(base), probonus.WithAPIKey("default-transport-key"),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})}

	explicit, err := probonus.New(append(opts, probonus.WithHTTPClient(&http.Client{Transport: wrapper}))...)
	require.NoError(t, err)
	_, err = explicit.Accounts.Refill(context.Background(), rvRefill("explicit"))
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown, "the wrapper passed explicitly: distrusted, as designed")
	require.Equal(t, int32(1), applied.Load())

	applied.Store(0)
	old := http.DefaultTransport
	http.DefaultTransport = wrapper
	defer func() { http.DefaultTransport = old }()
	implicit, err := probonus.New(opts...)
	require.NoError(t, err)
	_, err = implicit.Accounts.Refill(context.Background(), rvRefill("implicit"))
	http.DefaultTransport = old
	assert.Equal(t, int32(1), applied.Load(), "the same wrapper installed as http.DefaultTransport: the refill was resent")
	assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
}

// rvIdempotencyKey is an Observer that adds an Idempotency-Key to every attempt, as a team used
// to Stripe-style APIs may do through the Attempt.Header the Observer API offers.
type rvIdempotencyKey struct{}

func (rvIdempotencyKey) CallStart(ctx context.Context, _ *probonus.Call) context.Context { return ctx }

func (rvIdempotencyKey) AttemptStart(ctx context.Context, a *probonus.Attempt) context.Context {
	a.Header.Set("Idempotency-Key", "order-1234")
	return ctx
}

func (rvIdempotencyKey) CallEnd(context.Context, *probonus.Call) {}

func (rvIdempotencyKey) AttemptEnd(context.Context, *probonus.Attempt) {}

// rvRetrying is a "resilient" RoundTripper that retries a 502 once, re-reading the body through
// Request.GetBody, the way net/http documents for re-sending a body.
type rvRetrying struct{ inner http.RoundTripper }

func (r rvRetrying) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.inner.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusBadGateway || req.GetBody == nil {
		return resp, err
	}
	body, gerr := req.GetBody()
	if gerr != nil {
		return resp, nil
	}
	_ = resp.Body.Close()
	again := req.Clone(req.Context())
	again.Body = body
	return r.inner.RoundTrip(again)
}

// From the adversarial review of issues 9 and 10.
// TestReviewResendsBelowTheSDK (money). Besides HTTP/2 (above), a write is resent beneath the SDK,
// where shouldRetry never sees it, whenever something below may re-read the body: net/http's
// HTTP/1 transport resends a POST on a reused connection that broke after the write when the
// request carries Idempotency-Key or X-Idempotency-Key (Request.isReplayable), which an Observer can
// add through Attempt.Header and an Authenticator through req.Header; and a retrying RoundTripper
// passed with WithHTTPClient re-reads Request.GetBody. Seen: two credits each, while the SDK's error
// says "not resent". Fixed (one mechanism for all three and HTTP/2): a write's request has no
// GetBody, so nothing below the SDK can rewind its body to send it twice, whatever its headers.
func TestReviewResendsBelowTheSDK(t *testing.T) {
	t.Parallel()
	fast := probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	t.Run("an observer's Idempotency-Key on a reused connection", func(t *testing.T) {
		t.Parallel()
		var applied atomic.Int32
		base := serveRequests(t, func(conn net.Conn, req *http.Request, n int32) bool {
			if req.Method == http.MethodGet {
				answer(conn, 200, "application/json", `[]`)
				return true // keep the connection for the refill
			}
			applied.Add(1)
			return false // applied, then the connection drops before any answer
		})
		c, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey("idem-review-key"), probonus.WithObserver(rvIdempotencyKey{}), fast)
		require.NoError(t, err)
		_, err = c.AccountGroups.List(context.Background())
		require.NoError(t, err)
		_, err = c.Accounts.Refill(context.Background(), rvRefill("idempotency key"))
		assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
		assert.Equal(t, int32(1), applied.Load(), "credits applied; the error said: %v", err)
	})
	t.Run("a retrying RoundTripper", func(t *testing.T) {
		t.Parallel()
		var applied atomic.Int32
		base := serveRequests(t, func(conn net.Conn, req *http.Request, n int32) bool {
			applied.Add(1)
			if n == 1 {
				answer(conn, http.StatusBadGateway, "application/json", `{"detail":"upstream timed out after committing"}`)
				return true
			}
			answer(conn, 200, "application/json", `{"transactionId":88017,"balance":"100.00"}`)
			return true
		})
		hc := &http.Client{Transport: rvRetrying{http.DefaultTransport.(*http.Transport).Clone()}}
		c, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey("retrying-review-key"), probonus.WithHTTPClient(hc), fast)
		require.NoError(t, err)
		_, err = c.Accounts.Refill(context.Background(), rvRefill("retrying transport"))
		assert.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
		assert.Equal(t, int32(1), applied.Load(), "credits applied; the error said: %v", err)
	})
}

// rvPassThrough is a wrapper that passes the request on unchanged, context and trace included,
// as otelhttp.Transport does.
type rvPassThrough struct{ inner http.RoundTripper }

func (r rvPassThrough) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.inner.RoundTrip(req)
}

// From the adversarial review of issues 9 and 10.
// TestReviewTracedWrapperIsDistrusted (correctness). mayBeWritten trusts "no connection, nothing
// written" only when the Transport is *http.Transport, so behind otelhttp.Transport (the usual
// wrapper, which passes the trace on) a TLS handshake failure, a refused proxy CONNECT or any
// error other than a dial error on a write reads as ErrOutcomeUnknown and is not retried, though
// httptrace told the SDK that no connection was ever obtained. A caller of Refill then holds an
// order for a human to check a credit that certainly was not made. Fix: also record the GetConn
// hook; when it fired the trace is live whatever the Transport's type, so trust GotConn as for
// *http.Transport.
func TestReviewTracedWrapperIsDistrusted(t *testing.T) {
	t.Parallel()
	var seen atomic.Int32
	base := serveRequests(t, func(conn net.Conn, req *http.Request, n int32) bool { seen.Add(1); return false })
	base = strings.Replace(base, "http://", "https://", 1) // the handshake fails: nothing is written
	hc := &http.Client{Transport: rvPassThrough{http.DefaultTransport.(*http.Transport).Clone()}}
	c, err := probonus.New(probonus.WithBaseURL(base), probonus.WithAPIKey("wrapper-review-key"), probonus.WithHTTPClient(hc),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.Accounts.Refill(context.Background(), rvRefill("wrapper"))
	require.Error(t, err)
	assert.Zero(t, seen.Load(), "no request reached the server")
	assert.NotErrorIs(t, err, probonus.ErrOutcomeUnknown, "the TLS handshake failed: nothing was written")
}

// From the write-outcome suite of issue 9 (at the byte level).
// TestProxyConnectFailureIsNotSent: a proxy refusing CONNECT means nothing reached the server, so
// a write is safe to resend and is not "outcome unknown".
func TestProxyConnectFailureIsNotSent(t *testing.T) {
	t.Parallel()
	var connects atomic.Int32
	proxy := newWireServer(t, func(conn net.Conn, n int32, apply func()) bool {
		connects.Add(1)
		answer(conn, 403, "text/plain", "Forbidden")
		return false
	})
	hc := &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return url.Parse(proxy.URL()) }}}
	c, err := probonus.New(probonus.WithBaseURL("https://probonus.invalid"), probonus.WithAPIKey("proxy-test-key"), probonus.WithHTTPClient(hc),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}))
	require.NoError(t, err)
	_, err = c.Accounts.Refill(context.Background(), probonus.Refill{AccountID: 1, Amount: probonus.MustAmount("1")})
	require.Error(t, err)
	assert.NotErrorIs(t, err, probonus.ErrOutcomeUnknown, "%v", err)
	assert.Equal(t, int32(2), connects.Load(), "nothing was written, so the refill was tried again")
}

const rvRefillPath = "/api/v0/accounts/refill"

// ownProcessEnv names the test a child test process runs alone (runInOwnProcess).
const ownProcessEnv = "PROBONUS_TEST_OWN_PROCESS"

// runInOwnProcess runs t again, alone, in a child of the test binary, for a test that changes what
// the whole process shares; t fails when the child does.
func runInOwnProcess(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.count", "1", "-test.v")
	cmd.Env = append(os.Environ(), ownProcessEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "%s", out)
}
