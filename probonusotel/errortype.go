package probonusotel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"

	"github.com/probonus-go/probonus"
)

// sentinels are named in error.type when an error matches them, in this order: the first match
// wins, so a cause comes before ErrOutcomeUnknown, which only says what the cause means for a write.
var sentinels = []struct {
	err  error
	name string
}{
	{context.DeadlineExceeded, "context.DeadlineExceeded"},
	{context.Canceled, "context.Canceled"},
	{probonus.ErrResponseTooLarge, "probonus.ErrResponseTooLarge"},
	{probonus.ErrInvalidInput, "probonus.ErrInvalidInput"},
	{io.ErrUnexpectedEOF, "io.ErrUnexpectedEOF"},
	{io.EOF, "io.EOF"},
}

// ErrorType is the error.type this package records for err: the status code of an *APIError
// ("503"), "probonus.AuthError" for a failed login or refresh, the name of a well-known sentinel
// ("context.DeadlineExceeded", "probonus.ErrResponseTooLarge"), else the Go type of the first
// error in the chain that is not a plain wrapper ("*net.OpError", "*probonus.DecodeError").
// It never reads err's message, which may hold personal data. It returns "" for nil.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	// A failed login or refresh is named as such, not by its status: on the call that needed the
	// token, the status is not the call's own. The attempt spans under Auth.Login have it.
	if _, ok := errors.AsType[*probonus.AuthError](err); ok {
		return "probonus.AuthError"
	}
	if ae, ok := errors.AsType[*probonus.APIError](err); ok {
		return strconv.Itoa(ae.StatusCode)
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	err = unwrapPlain(err)
	if err == probonus.ErrOutcomeUnknown {
		return "probonus.ErrOutcomeUnknown"
	}
	return reflect.TypeOf(err).String()
}

// unwrapPlain looks through wrappers that only add text (fmt.Errorf's, errors.Join's) to the error
// that says what happened. Of several wrapped errors it takes the first that is not one of the
// SDK's sentinels, as those only classify the others.
func unwrapPlain(err error) error {
	for {
		switch w := err.(type) {
		case interface{ Unwrap() []error }:
			if !plainWrapper(err) {
				return err
			}
			errs := w.Unwrap()
			var next error
			for _, e := range errs {
				if e != nil && !isSDKSentinel(e) {
					next = e
					break
				}
			}
			if next == nil {
				for _, e := range errs {
					if e != nil {
						next = e
						break
					}
				}
			}
			if next == nil {
				return err
			}
			err = next
		case interface{ Unwrap() error }:
			if !plainWrapper(err) {
				return err
			}
			next := w.Unwrap()
			if next == nil {
				return err
			}
			err = next
		default:
			return err
		}
	}
}

var (
	fmtWrapType   = reflect.TypeOf(fmt.Errorf("%w", errors.New("a")))
	fmtWrapsType  = reflect.TypeOf(fmt.Errorf("%w %w", errors.New("a"), errors.New("b")))
	errorJoinType = reflect.TypeOf(errors.Join(errors.New("a"), errors.New("b")))
)

// plainWrapper reports whether err's type only wraps with text.
func plainWrapper(err error) bool {
	t := reflect.TypeOf(err)
	return t == fmtWrapType || t == fmtWrapsType || t == errorJoinType
}

func isSDKSentinel(err error) bool {
	switch err {
	case probonus.ErrOutcomeUnknown, probonus.ErrBadRequest, probonus.ErrUnauthorized, probonus.ErrForbidden,
		probonus.ErrNotFound, probonus.ErrValidation, probonus.ErrRateLimited, probonus.ErrServer,
		probonus.ErrInvalidInput, probonus.ErrResponseTooLarge:
		return true
	}
	return false
}
