package probonusotel

import (
	"context"
	"errors"
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
// error in the chain whose type is exported ("*net.OpError", "*probonus.DecodeError"), looking
// through wrappers such as fmt.Errorf's.
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

// unwrapPlain looks through wrappers whose type a user cannot name (fmt.Errorf's, errors.Join's,
// the SDK's own unexported ones) to the error that says what happened. Of several wrapped errors it
// takes the first that is not one of the SDK's sentinels, as those only classify the others.
func unwrapPlain(err error) error {
	for !exported(err) {
		var next error
		switch w := err.(type) {
		case interface{ Unwrap() []error }:
			errs := w.Unwrap()
			for _, e := range errs {
				if e != nil && !isSDKSentinel(e) {
					next = e
					break
				}
			}
			if next == nil && len(errs) > 0 {
				next = errs[0]
			}
		case interface{ Unwrap() error }:
			next = w.Unwrap()
		}
		if next == nil {
			return err
		}
		err = next
	}
	return err
}

// exported reports whether err's type (or the type it points to) is exported: its name means
// something to a reader of the package's documentation.
func exported(err error) bool {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := t.Name()
	return name != "" && name[0] >= 'A' && name[0] <= 'Z'
}

// sdkSentinels is probonus.Sentinels, read once: it returns a new slice each call.
var sdkSentinels = probonus.Sentinels()

func isSDKSentinel(err error) bool {
	for _, s := range sdkSentinels {
		if err == s {
			return true
		}
	}
	return false
}
