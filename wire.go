package probonus

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
)

// wireTrace learns from net/http whether a request reached the wire. Each hook costs an
// allocation per write, so it has only those it needs. No WroteRequest: net/http (HTTP/1 and
// HTTP/2, bundled or x/net's) reports GotConn before it writes a byte, so a written request always
// got its connection first. GetConn only when the transport is not net/http's own (for which
// mayBeWritten needs no more than GotConn): it tells that the trace reached net/http below it.
type wireTrace struct {
	getConn, gotConn atomic.Bool
	trace            httptrace.ClientTrace
}

func (w *wireTrace) start(ctx context.Context, netHTTP bool) context.Context {
	if !netHTTP {
		w.trace.GetConn = func(string) { w.getConn.Store(true) }
	}
	w.trace.GotConn = func(httptrace.GotConnInfo) { w.gotConn.Store(true) }
	return httptrace.WithClientTrace(ctx, &w.trace)
}

// netHTTPTransport reports whether requests go straight to net/http's own transport.
func (c *Client) netHTTPTransport() bool {
	t := c.hc.Transport
	if t == nil {
		t = http.DefaultTransport // which a program may have replaced with a wrapper
	}
	_, ok := t.(*http.Transport)
	return ok
}

// mayBeWritten reports whether a request that failed with err may have reached the server. Go's own
// transport reports, through httptrace, when it has a connection: without one nothing was written
// (a refused dial, a proxy's CONNECT or a TLS handshake that failed, a header value net/http
// refused). A connection counts as written, whether or not the write finished: a cancelled
// request may still be on its way. Another transport (a test double, a wrapper that does not pass
// the trace on) is trusted only for a dial error.
func (c *Client) mayBeWritten(w *wireTrace, err error) bool {
	if w.gotConn.Load() {
		return true
	}
	if w.getConn.Load() || c.netHTTPTransport() {
		return false // the trace reached net/http, which asked for a connection and got none
	}
	return !neverConnected(err)
}

// drainAndClose reads a little of what is left of a body, so the connection can be reused, and closes it.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	_ = body.Close()
}

// neverConnected reports whether a transport error happened while dialling: no connection was
// made, so the server cannot have seen the request.
func neverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// unwrapURLError drops *url.Error's wrapping, which repeats the full URL (and its query).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errBadLocation replaces net/http's error for a redirect whose Location does not parse, which
// quotes the Location: a query there may hold a credential or a phone.
var errBadLocation = errors.New("the server redirected to a Location that does not parse")

// withoutLocation is err, unless it is net/http's error for a Location that does not parse.
func withoutLocation(err error) error {
	if strings.Contains(err.Error(), "failed to parse Location header") {
		return errBadLocation
	}
	return err
}
