package probonus

//go:generate go run ./internal/cmd/gendecode -dir .

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
)

// decode reads a success body into out, through the size cap. For a typed method, an empty,
// all-white-space or null body is a *DecodeError (no account, list or result); for Do it leaves out
// unchanged (a 204, say). With a nil out any body is read and discarded. After a JSON value
// anything may follow and is ignored, as a streaming decoder would.
// eof is true when the body was read to its end (nothing is left to drain). transport is true when
// reading failed (the connection broke or the attempt timed out) rather than the body being bad; a
// JSON value read whole before the failure still counts.
func (c *Client) decode(resp *http.Response, cl *call, fullPath string, out any, req *http.Request, at *Attempt) (transport, eof bool, err error) {
	if out == nil {
		capped := &cappedReader{r: resp.Body, left: c.maxBody}
		_, err = io.Copy(io.Discard, capped)
		switch {
		case err == nil:
			return false, true, nil
		case capped.exceeded:
			return false, false, c.tooLarge(cl, fullPath)
		}
		return true, false, fmt.Errorf("probonus: %s %s: reading the response: %w", cl.method, fullPath, err)
	}
	buf := bodyBuffers.Get().(*[]byte)
	defer putBodyBuffer(buf)
	b, exceeded, rerr := readBody(resp.Body, resp.ContentLength, c.maxBody, buf)
	switch {
	case exceeded:
		return false, false, c.tooLarge(cl, fullPath)
	case rerr == nil && len(bytes.TrimSpace(b)) == 0:
		if cl.mayBeEmpty {
			return false, true, nil // an empty body: nothing to decode
		}
		return false, true, &DecodeError{StatusCode: resp.StatusCode, Method: cl.method, Path: fullPath, Err: errEmptyAnswer}
	}
	if !cl.mayBeEmpty && isNull(b) {
		// json leaves out as it was for a null: an account with id 0, a refill of 0.00
		return false, rerr == nil, &DecodeError{StatusCode: resp.StatusCode, Method: cl.method, Path: fullPath, Sample: "null", Err: errNullAnswer}
	}
	// A typed method's answer goes through its generated decoder (decode_gen.go); whatever that
	// does not accept, and every Do, through encoding/json, which gives the error.
	fast := cl.op != opDo && fastDecode(b, out)
	if !fast {
		err = unmarshal(b, out)
	}
	if err == nil {
		if !cl.mayBeEmpty {
			if err := missingIdentity(out); err != nil {
				// a write's answer without its identity: applied, but with what result?
				sample := c.attemptSecrets(at, cl, req, resp.Request).Sample(b, 256)
				return false, rerr == nil, &DecodeError{StatusCode: resp.StatusCode, Method: cl.method, Path: fullPath, Sample: sample, Err: err}
			}
		}
		localize(out, c.loc)
		return false, rerr == nil, nil
	}
	if rerr != nil {
		return true, false, fmt.Errorf("probonus: %s %s: reading the response: %w", cl.method, fullPath, rerr)
	}
	sample := ""
	if !cl.noAuth { // a login's or refresh's body holds tokens
		sample = c.attemptSecrets(at, cl, req, resp.Request).Sample(b, 256) // an echoed credential is removed before the cut
	}
	return false, true, &DecodeError{StatusCode: resp.StatusCode, Method: cl.method, Path: fullPath, Sample: sample, Err: err}
}

// missingIdentity says what a decoded answer lacks to be one: the id of an account or a check,
// a refill's transaction id, the id of each entry of a list ({} or an envelope such as
// {"data": {...}} decodes into zeros). The balance has no field it must hold.
func missingIdentity(out any) error {
	missing := func(what string) error { return fmt.Errorf("the answer has no %s", what) }
	switch v := out.(type) {
	case *Account:
		if v.ID == 0 {
			return missing("account id")
		}
	case *Check:
		if v.ID == 0 {
			return missing("check id")
		}
	case *RefillResult:
		if v.TransactionID == 0 {
			return missing("transactionId")
		}
	case *[]Transaction:
		for i := range *v {
			if (*v)[i].ID == 0 {
				return missing(fmt.Sprintf("id in transaction %d of the list (null or empty)", i))
			}
		}
	case *[]AccountGroup:
		for i := range *v {
			if (*v)[i].ID == 0 {
				return missing(fmt.Sprintf("id in group %d of the list (null or empty)", i))
			}
		}
	}
	return nil
}

// isNull reports whether the JSON value at the start of b is null.
func isNull(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) >= 4 && string(b[:4]) == "null" && (len(b) == 4 || strings.IndexByte(" \t\r\n", b[4]) >= 0)
}

func (c *Client) tooLarge(cl *call, fullPath string) error {
	return fmt.Errorf("probonus: %s %s: %w (limit %d bytes)", cl.method, fullPath, ErrResponseTooLarge, c.maxBody)
}

// bodyBuffers holds the buffers success bodies are read into, so that a call reuses one instead of
// growing a decoder's buffer from nothing. A buffer that grew beyond maxPooledBody (a body larger
// than a list of 1000 transactions) is left to the garbage collector rather than kept.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

const maxPooledBody = 512 << 10

func putBodyBuffer(buf *[]byte) {
	if poolable(buf) {
		bodyBuffers.Put(buf)
	}
}

// poolable empties buf and reports whether it may go back to the pool: not when it grew beyond
// maxPooledBody.
func poolable(buf *[]byte) bool {
	if cap(*buf) > maxPooledBody {
		return false
	}
	*buf = (*buf)[:0]
	return true
}

// readBody reads body to its end into *buf, growing it as needed (to size at once when the
// Content-Length gives it; size is -1 when unknown), and reading at most limit+1 bytes: one more
// than the cap tells a body of exactly the cap from a longer one. err is the first read error other
// than io.EOF; b holds what was read before it.
func readBody(body io.Reader, size, limit int64, buf *[]byte) (b []byte, exceeded bool, err error) {
	if size > limit {
		return nil, true, nil
	}
	b = (*buf)[:0]
	if size > 0 && int64(cap(b)) <= size {
		b = make([]byte, 0, size+1) // +1: room to see the end without growing
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):cap(b)]
		if left := limit + 1 - int64(len(b)); int64(len(room)) > left {
			room = room[:left]
		}
		n, rerr := body.Read(room)
		b = b[:len(b)+n]
		*buf = b // its growth, for the pool
		switch {
		case int64(len(b)) > limit:
			return nil, true, nil
		case rerr == io.EOF:
			return b, false, nil
		case rerr != nil:
			return b, false, rerr
		}
	}
}

// unmarshal decodes the JSON value at the start of b into out. A typed out goes through
// json.Unmarshal; one that can hold an interface value (Do's map[string]any, say) through a
// decoder with UseNumber, so that money inside it stays exact. Whatever json.Unmarshal refuses
// (data after the value, a truncated value, a type mismatch) is decoded again by that decoder,
// which gives the result and the errors a streamed body always gave.
func unmarshal(b []byte, out any) error {
	if !holdsInterface(reflect.TypeOf(out)) && json.Unmarshal(b, out) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(out)
}

// holdsInterface reports whether encoding/json, decoding into a value of type t, may store into an
// interface (where UseNumber matters).
func holdsInterface(t reflect.Type) bool { return factsOf(t).holdsInterface }

// cappedReader fails once more than left bytes have been read: a body read only to be discarded (a
// nil out) goes through it.
type cappedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (r *cappedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		// one byte more tells a body of exactly the cap from a longer one
		var one [1]byte
		n, err := r.r.Read(one[:])
		if n > 0 {
			r.exceeded = true
			return 0, ErrResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}

var (
	errEmptyAnswer = errors.New("the body is empty where an object or a list must be")
	errNullAnswer  = errors.New("the body is null where an object or a list must be")
)

// localize re-reads, in loc, every timestamp in v that came without an offset. Decoding reads
// them in the default location; this runs only for a client with another one.
func localize(v any, loc *time.Location) {
	if loc == defaultLocation {
		return
	}
	rv := reflect.ValueOf(v)
	if hasTime(rv.Type()) {
		relocate(rv, loc)
	}
}

var (
	timeType   = reflect.TypeFor[Time]()
	facts      sync.Map // reflect.Type → typeFacts: final answers only
	timeFields sync.Map // reflect.Type (a struct) → []int: the fields relocate descends into
)

// typeFacts are what decoding needs to know of a type, found in one walk of the types json fills
// from it and cached once for both: unmarshal's choice of decoder and localize's walk.
type typeFacts struct {
	holdsInterface bool // json may store into an interface inside it
	hasTime        bool // a Time can be reached inside it (an interface may hold a *Time)
}

func (f typeFacts) or(g typeFacts) typeFacts {
	return typeFacts{f.holdsInterface || g.holdsInterface, f.hasTime || g.hasTime}
}

func (f typeFacts) all() bool { return f.holdsInterface && f.hasTime }

// hasTime reports whether a Time can be reached inside a value of type t.
func hasTime(t reflect.Type) bool { return factsOf(t).hasTime }

// factsOf returns t's facts. Only complete answers are published: a concurrent first caller either
// reads one or computes its own, never a guess made halfway through another goroutine's analysis.
func factsOf(t reflect.Type) typeFacts {
	if v, ok := facts.Load(t); ok {
		return v.(typeFacts)
	}
	a := typeAnalysis{depth: map[reflect.Type]int{}}
	f, _ := a.visit(t)
	return f
}

// typeAnalysis walks a type graph once. A recursive type meets itself while its answer is still
// open; such an answer is kept local (pending) until the outermost type it depends on is done, as
// Tarjan's strongly connected components are: every type of a cycle has the same answer.
type typeAnalysis struct {
	depth   map[reflect.Type]int // the types on the current path, by depth
	pending []reflect.Type       // incomplete answers that depend on a type still on the path
}

// visit returns t's facts, and the smallest depth of a type on the path that the answer depends on
// (math.MaxInt: none, the answer is final).
func (a *typeAnalysis) visit(t reflect.Type) (found typeFacts, low int) {
	if v, ok := facts.Load(t); ok {
		return v.(typeFacts), math.MaxInt
	}
	if d, open := a.depth[t]; open {
		return typeFacts{}, d
	}
	d := len(a.depth)
	a.depth[t] = d
	mark := len(a.pending)
	low = math.MaxInt
	child := func(c reflect.Type) {
		f, l := a.visit(c)
		low = min(low, l)
		found = found.or(f)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		child(t.Elem())
	case reflect.Interface:
		found = typeFacts{holdsInterface: true, hasTime: true}
	case reflect.Struct:
		if t == timeType {
			found.hasTime = true // read by its own UnmarshalJSON: nothing inside it is filled
			break
		}
		for i := 0; i < t.NumField() && !found.all(); i++ {
			if f := t.Field(i); decodedInto(f) {
				child(f.Type)
			}
		}
	}
	delete(a.depth, t)
	if !found.all() && low < d {
		a.pending = append(a.pending, t)
		return found, low
	}
	// Final. The types left pending since t was entered reach t (their answers depend on it or on
	// a type between), and t reaches them: they share t's answer.
	for _, p := range a.pending[mark:] {
		facts.Store(p, found)
	}
	a.pending = a.pending[:mark]
	facts.Store(t, found)
	return found, math.MaxInt
}

// decodedInto reports whether encoding/json may write into field f: an exported field, or an
// embedded struct (exported or not) whose exported fields it promotes.
func decodedInto(f reflect.StructField) bool {
	return (f.IsExported() || f.Anonymous && f.Type.Kind() == reflect.Struct) && f.Tag.Get("json") != "-"
}

// fieldsWithTime lists the fields of struct type t through which a Time can be reached, so that
// relocating a slice of structs looks at each struct's few such fields, not at all of them.
func fieldsWithTime(t reflect.Type) []int {
	if v, ok := timeFields.Load(t); ok {
		return v.([]int)
	}
	var idx []int
	for i := range t.NumField() {
		if f := t.Field(i); decodedInto(f) && hasTime(f.Type) {
			idx = append(idx, i)
		}
	}
	timeFields.Store(t, idx) // a pure function of final answers: racing stores agree
	return idx
}

func relocate(v reflect.Value, loc *time.Location) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			relocate(v.Elem(), loc)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanAddr() {
				t := v.Addr().Interface().(*Time)
				if t.floating() {
					y, mo, d := t.Date()
					h, mi, s := t.Clock()
					*t = wallClock(time.Date(y, mo, d, h, mi, s, t.Nanosecond(), loc))
				}
			}
			return
		}
		for _, i := range fieldsWithTime(v.Type()) {
			relocate(v.Field(i), loc)
		}
	case reflect.Slice, reflect.Array:
		if !hasTime(v.Type().Elem()) {
			return
		}
		for i := 0; i < v.Len(); i++ {
			relocate(v.Index(i), loc)
		}
	case reflect.Map:
		if !hasTime(v.Type().Elem()) {
			return
		}
		iter := v.MapRange()
		for iter.Next() {
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(iter.Value())
			relocate(val, loc)
			v.SetMapIndex(iter.Key(), val)
		}
	}
}
