// Package statuswriter is the http.ResponseWriter that remembers what was answered, for the fake
// server's request log and the command line's access log alike.
package statuswriter

import (
	"bufio"
	"net"
	"net/http"
)

// Writer keeps the status answered and whether the connection was taken over (a fault that drops
// it), and passes on the Flusher, the Hijacker and, through Unwrap, the read deadline that faults
// and timeouts use.
type Writer struct {
	http.ResponseWriter
	Status   int  // 0: nothing answered yet
	Hijacked bool // the connection was taken over: the answer, if any, is not the status
}

// WriteHeader keeps the first status.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write answers 200 when no status was written.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush flushes when the writer below can.
func (w *Writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack takes the connection over, as a fault that drops it does.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.Hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap is the writer below, for http.ResponseController.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
