package probonusredis

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// bounded runs one call to Redis within timeout, and returns when that timeout or ctx ends even
// if go-redis has not: without ContextTimeoutEnabled in the client's options, go-redis reads from
// a connection until its own ReadTimeout (5 s by default; never with -1), and this package cannot
// choose its user's options. The call runs in a goroutine of its own, left behind on a timeout:
// under ContextTimeoutEnabled it ends at the deadline of the context it is given, otherwise at
// the client's ReadTimeout or when the connection closes.
//
// When the timeout passes first, the error says so, without wrapping context.DeadlineExceeded: a
// caller testing for it means its own deadline.
func bounded[T any](ctx context.Context, timeout time.Duration, call func(context.Context) (T, error)) (T, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type answer struct {
		v   T
		err error
	}
	done := make(chan answer, 1) // buffered: a call given up on still finishes and exits
	go func() {
		v, err := call(rctx)
		done <- answer{v, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-rctx.Done():
		select {
		case a = <-done: // an answer that came with the deadline is still the answer
		default:
			a.err = rctx.Err()
		}
	}
	if a.err != nil && ctx.Err() == nil && errors.Is(a.err, context.DeadlineExceeded) {
		a.err = fmt.Errorf("no answer from Redis within %v", timeout)
	}
	return a.v, a.err
}
