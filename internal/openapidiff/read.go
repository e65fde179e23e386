// Package openapidiff compares an installation's OpenAPI document with the SDK's model of the
// ProBonus API (probonus.OpenAPI), endpoint by endpoint, and says what each difference does to a
// user: fail (what the SDK sends would be refused or misapplied), warn (what it reads would be
// wrong or missing), info (what the server has more). Variants the SDK tolerates are no
// difference. It reads OpenAPI 3.0.x (FastAPI before 0.99: nullable, allOf around one $ref) and
// 3.1.x (anyOf with null, type arrays, X-Input/X-Output pairs) through kin-openapi; the comparison
// is this package's own.
package openapidiff

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/probonus-go/probonus"
)

// MaxSize is the largest document Read accepts: FastAPI's documents of a few hundred endpoints
// are well under 1 MiB.
const MaxSize = 16 << 20

// Document is a read OpenAPI document, flattened into what the comparison needs.
type Document struct {
	Version string   // the openapi field: 3.0.2, 3.1.0
	Title   string   // info.title
	Servers []string // servers[].url, as written
	ops     map[string]*operation
	schemes []scheme
}

type operation struct {
	method, path string
	params       []parameter
	body         *schema // nil: no request body
	answer       *schema // the 2xx JSON answer; nil: not described
	sdk          []sdkCall
}

type parameter struct {
	name, in string
	required bool
	schema   *schema
}

type sdkCall struct {
	name  string
	query []string
}

type scheme struct {
	name, typ, in, header, httpScheme string
}

// schema is a JSON Schema flattened: anyOf/oneOf with null and allOf around one $ref read as the
// schema inside, nullable and type arrays as a set of types.
type schema struct {
	name     string          // the component's name, without -Input/-Output; "" inline
	types    map[string]bool // integer, number, string, boolean, array, object; empty: any
	format   string
	enum     []string
	items    *schema
	props    map[string]*schema
	required map[string]bool
	// the model's extensions
	goField, goType, kind string
	also                  []string
}

// Read parses an OpenAPI 3.0 or 3.1 document (JSON or YAML). It resolves $refs within the
// document only, never a file or URL, and refuses a document larger than MaxSize.
func Read(b []byte) (doc *Document, err error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("the document is %d MiB, more than the %d MiB a ProBonus document could be", len(b)>>20, MaxSize>>20)
	}
	defer func() {
		if r := recover(); r != nil { // the library on a document it did not foresee
			doc, err = nil, fmt.Errorf("unreadable OpenAPI document: %v", r)
		}
	}()
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.ReadFromURIFunc = func(*openapi3.Loader, *url.URL) ([]byte, error) {
		return nil, errors.New("a $ref outside the document is not followed")
	}
	kin, err := loader.LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("not an OpenAPI document: %w", err)
	}
	if !strings.HasPrefix(kin.OpenAPI, "3.") {
		return nil, fmt.Errorf("OpenAPI %q: only 3.0 and 3.1 are read", kin.OpenAPI)
	}
	return flatten(kin), nil
}

func flatten(kin *openapi3.T) *Document {
	d := &Document{Version: kin.OpenAPI, ops: map[string]*operation{}}
	if kin.Info != nil {
		d.Title = kin.Info.Title
	}
	for _, s := range kin.Servers {
		if s != nil {
			d.Servers = append(d.Servers, s.URL)
		}
	}
	f := &flattener{seen: map[*openapi3.Schema]*schema{}}
	if kin.Paths != nil {
		for path, item := range kin.Paths.Map() {
			if item == nil {
				continue
			}
			for method, op := range item.Operations() {
				if op == nil {
					continue
				}
				o := &operation{method: method, path: path}
				for _, p := range append(item.Parameters, op.Parameters...) {
					if p == nil || p.Value == nil {
						continue
					}
					o.params = append(o.params, parameter{name: p.Value.Name, in: p.Value.In, required: p.Value.Required, schema: f.ref(p.Value.Schema)})
				}
				if op.RequestBody != nil && op.RequestBody.Value != nil {
					o.body = f.content(op.RequestBody.Value.Content)
					if o.body == nil {
						o.body = &schema{}
					}
				}
				o.answer = f.answer(op.Responses)
				if calls, ok := op.Extensions["x-probonus-operations"].([]any); ok {
					for _, c := range calls {
						c, _ := c.(map[string]any)
						call := sdkCall{}
						call.name, _ = c["name"].(string)
						q, _ := c["query"].([]any)
						for _, k := range q {
							if k, ok := k.(string); ok {
								call.query = append(call.query, k)
							}
						}
						o.sdk = append(o.sdk, call)
					}
				}
				d.ops[method+" "+path] = o
			}
		}
	}
	if kin.Components != nil {
		names := make([]string, 0, len(kin.Components.SecuritySchemes))
		for n := range kin.Components.SecuritySchemes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			s := kin.Components.SecuritySchemes[n]
			if s == nil || s.Value == nil {
				continue
			}
			d.schemes = append(d.schemes, scheme{name: n, typ: s.Value.Type, in: s.Value.In, header: s.Value.Name, httpScheme: strings.ToLower(s.Value.Scheme)})
		}
	}
	return d
}

type flattener struct {
	seen map[*openapi3.Schema]*schema
}

func (f *flattener) content(c openapi3.Content) *schema {
	for _, mt := range []string{"application/json", "*/*"} {
		if m := c.Get(mt); m != nil {
			return f.ref(m.Schema)
		}
	}
	for mt, m := range c {
		if strings.Contains(mt, "json") && m != nil {
			return f.ref(m.Schema)
		}
	}
	return nil
}

func (f *flattener) answer(rs *openapi3.Responses) *schema {
	if rs == nil {
		return nil
	}
	codes := []string{}
	for code := range rs.Map() {
		if strings.HasPrefix(code, "2") {
			codes = append(codes, code)
		}
	}
	sort.Strings(codes)
	for _, code := range codes {
		if r := rs.Value(code); r != nil && r.Value != nil {
			if s := f.content(r.Value.Content); s != nil {
				return s
			}
		}
	}
	return nil
}

// componentName is the schema name a $ref names, without Pydantic 2's -Input/-Output.
func componentName(ref string) string {
	i := strings.LastIndex(ref, "/")
	name := ref[i+1:]
	name, _ = strings.CutSuffix(name, "-Input")
	name, _ = strings.CutSuffix(name, "-Output")
	return name
}

// ref flattens a schema; a schema met before (a $ref cycle) is the same value.
func (f *flattener) ref(r *openapi3.SchemaRef) *schema {
	if r == nil || r.Value == nil {
		return &schema{}
	}
	v := r.Value
	if s, ok := f.seen[v]; ok {
		return s
	}
	s := &schema{types: map[string]bool{}}
	f.seen[v] = s
	if r.Ref != "" {
		s.name = componentName(r.Ref)
	}
	f.fill(s, v)
	return s
}

// fill reads v into s: its own types and properties, then those of its anyOf/oneOf branches
// (the union: null only marks it nullable) and its allOf parts (all of them).
func (f *flattener) fill(s *schema, v *openapi3.Schema) {
	if v.Type != nil {
		for _, t := range v.Type.Slice() {
			if t != "null" {
				s.types[t] = true
			}
		}
	}
	if s.format == "" {
		s.format = v.Format
	}
	for _, e := range v.Enum {
		s.enum = append(s.enum, fmt.Sprint(e))
	}
	if v.Items != nil {
		s.items = f.ref(v.Items)
	}
	if len(v.Properties) > 0 && s.props == nil {
		s.props = map[string]*schema{}
		s.required = map[string]bool{}
	}
	for name, p := range v.Properties {
		s.props[name] = f.ref(p)
	}
	for _, r := range v.Required {
		if s.required == nil {
			s.required = map[string]bool{}
		}
		s.required[r] = true
	}
	s.goField, _ = v.Extensions["x-go-field"].(string)
	if t, ok := v.Extensions["x-go-type"].(string); ok {
		s.goType = t
	}
	if k, ok := v.Extensions["x-probonus-kind"].(string); ok {
		s.kind = k
	}
	if also, ok := v.Extensions["x-probonus-also"].([]any); ok {
		for _, a := range also {
			if a, ok := a.(string); ok {
				s.also = append(s.also, a)
			}
		}
	}
	branches := append(append(openapi3.SchemaRefs{}, v.AnyOf...), v.OneOf...)
	branches = append(branches, v.AllOf...)
	for _, b := range branches {
		if b == nil || b.Value == nil {
			continue
		}
		if b.Value.Type != nil && b.Value.Type.Is("null") {
			continue
		}
		inner := f.ref(b)
		if s.name == "" {
			s.name = inner.name
		}
		merge(s, inner)
	}
}

// merge adds what inner says to s, for anyOf/oneOf/allOf.
func merge(s, inner *schema) {
	for t := range inner.types {
		s.types[t] = true
	}
	if s.format == "" {
		s.format = inner.format
	}
	s.enum = append(s.enum, inner.enum...)
	if s.items == nil {
		s.items = inner.items
	}
	switch {
	case inner.props != nil && s.props == nil:
		s.props, s.required = inner.props, inner.required // shared: inner may still be filling (a cycle)
	case inner.props != nil:
		for k, v := range inner.props {
			if _, ok := s.props[k]; !ok {
				s.props[k] = v
			}
		}
		for k := range inner.required {
			s.required[k] = true
		}
	}
	if s.goType == "" {
		s.goType = inner.goType
	}
	if s.kind == "" {
		s.kind = inner.kind
	}
	if len(s.types) == 0 && len(s.props) > 0 {
		s.types["object"] = true
	}
}

// Model is the SDK's model of the API, read from probonus.OpenAPI.
var Model = sync.OnceValue(func() *Document {
	d, err := Read(probonus.OpenAPI())
	if err != nil {
		panic("openapidiff: the SDK's own model: " + err.Error())
	}
	return d
})
