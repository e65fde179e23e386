// Package contract compares what a server sends with the SDK's model of the wire: fields the
// server sends that the model lacks, fields the model has that never came, and values of a type
// or format the SDK does not read. The live check (PROBONUS_LIVE=1 go test -run Live ./...) runs
// it against a real server.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Report is what differed. Each entry names the Go type and the JSON field, e.g. "Account.loyaltyCard".
type Report struct {
	Unknown    []string // sent by the server, not modelled
	Missing    []string // modelled, never sent in any response (objects that never came are not judged)
	Mismatches []string // sent with a type or format the SDK does not read
	Responses  int      // how many responses were compared
}

// Empty reports whether nothing differed.
func (r Report) Empty() bool { return len(r.Unknown)+len(r.Missing)+len(r.Mismatches) == 0 }

// String is a short report, one line per difference.
func (r Report) String() string {
	var b strings.Builder
	if r.Empty() {
		fmt.Fprintf(&b, "%d responses compared with the model: no difference\n", r.Responses)
		return b.String()
	}
	fmt.Fprintf(&b, "%d responses compared with the model:\n", r.Responses)
	for _, s := range []struct {
		title string
		items []string
	}{
		{"fields the server sends that the SDK does not model", r.Unknown},
		{"fields the SDK models that never came", r.Missing},
		{"values of a type or format the SDK does not read", r.Mismatches},
	} {
		if len(s.items) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %s:\n", s.title)
		for _, it := range s.items {
			fmt.Fprintf(&b, "    %s\n", it)
		}
	}
	return b.String()
}

// Checker accumulates a Report over many responses.
type Checker struct {
	unknown, mismatch map[string]bool
	fields            map[reflect.Type]map[string]bool // every struct met: its JSON fields, and whether each came
	responses         int
}

// NewChecker returns an empty Checker.
func NewChecker() *Checker {
	return &Checker{unknown: map[string]bool{}, mismatch: map[string]bool{}, fields: map[reflect.Type]map[string]bool{}}
}

// Check compares one JSON body with the type v points to.
func (k *Checker) Check(body []byte, v any) {
	k.responses++
	k.walk(json.RawMessage(bytes.TrimSpace(body)), reflect.TypeOf(v).Elem(), "")
}

// Report returns what differed so far, sorted.
func (k *Checker) Report() Report {
	r := Report{Responses: k.responses, Unknown: keys(k.unknown), Mismatches: keys(k.mismatch)}
	for t, fields := range k.fields {
		for name, came := range fields {
			if !came {
				r.Missing = append(r.Missing, t.Name()+"."+name)
			}
		}
	}
	sort.Strings(r.Missing)
	return r
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func (k *Checker) walk(raw json.RawMessage, t reflect.Type, path string) {
	if string(raw) == "null" {
		return // absent and null are alike
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) || t.Kind() != reflect.Struct && t.Kind() != reflect.Slice {
		// a type with its own decoding (Amount, Time, Date, Code), or a plain value
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			k.mismatch[fmt.Sprintf("%s: %s does not read %.40s", path, t.Name(), raw)] = true
		}
		return
	}
	if t.Kind() == reflect.Slice {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			k.mismatch[fmt.Sprintf("%s: want a list, got %.40s", path, raw)] = true
			return
		}
		for _, it := range items {
			k.walk(it, t.Elem(), path+"[]")
		}
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		k.mismatch[fmt.Sprintf("%s: want an object, got %.40s", path, raw)] = true
		return
	}
	fields := k.fields[t]
	byName := jsonFields(t)
	if fields == nil {
		fields = map[string]bool{}
		for name := range byName {
			fields[name] = false
		}
		k.fields[t] = fields
	}
	for key, val := range obj {
		f, ok := byName[key]
		if !ok {
			k.unknown[t.Name()+"."+key] = true
			continue
		}
		fields[key] = true
		k.walk(val, f.Type, t.Name()+"."+key)
	}
}

// jsonFields maps the JSON names of a struct's exported fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
