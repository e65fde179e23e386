package probonus

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
)

//go:generate go run ./internal/cmd/genopenapi

// The extensions of the model document. A reader of the document (doctor's comparison,
// internal/openapidiff) finds in them what OpenAPI has no word for.
const (
	// xSeen on a property or operation: public material shows it (true), or it is inferred (false).
	xSeen = "x-probonus-seen"
	// xGoField on a property: the Go type and field it is read into or sent from, "Refill.Amount".
	xGoField = "x-go-field"
	// xGoType on a schema: the Go type, "probonus.Refill".
	xGoType = "x-go-type"
	// xKind on a property: how the SDK reads and writes it: money, code, date-time, date, enum.
	xKind = "x-probonus-kind"
	// xAlso on a property: other names the SDK reads it under (access_token for accessToken).
	xAlso = "x-probonus-also"
	// xOperations on an operation: each SDK method that calls it, with the query keys it sends.
	xOperations = "x-probonus-operations"
)

// seenFields are the JSON names that public material shows, by Go type (the wire model's
// "seen"); every other name is inferred.
var seenFields = map[string]bool{
	"AccountGroup.id":           true,
	"AccountGroup.haveTemplate": true,
	"NewAccount.accountId":      true,
	"loginRequest.login":        true,
	"loginRequest.password":     true,
	"tokenResponse.accessToken": true,
}

// enumValues are the values the SDK knows of its string enums; it keeps any other value it reads.
var enumValues = map[reflect.Type][]string{
	typeOf[Gender]():          {string(GenderMale), string(GenderFemale)},
	typeOf[IdentifierType]():  {string(IdentifierCard), string(IdentifierPhone), string(IdentifierOther)},
	typeOf[TransactionType](): {string(TransactionCheckAccrual), string(TransactionCheckPayment), string(TransactionRefill), string(TransactionWithdrawal), string(TransactionBurn), string(TransactionDeferredAccrual)},
}

// schemaNames are the component names of the types whose Go names are not exported.
var schemaNames = map[reflect.Type]string{
	typeOf[loginRequest]():   "Login",
	typeOf[refreshRequest](): "RefreshTokenRequest",
	typeOf[tokenResponse]():  "Token",
}

// OpenAPI returns the SDK's model of the ProBonus API as an OpenAPI 3.1 document (JSON), derived
// from its endpoint table and its types' JSON tags: every endpoint it calls, the query parameters
// it sends, the bodies it sends and the answers it reads. Each property says whether public
// material shows it (x-probonus-seen) and the Go field behind it (x-go-field); the variants the
// SDK tolerates are in the schemas (money: a number or a string; codes: an integer or a string;
// times with or without an offset). openapi.json at the module's root is this document.
func OpenAPI() []byte {
	b, err := json.MarshalIndent(modelDocument(), "", "  ")
	if err != nil {
		panic("probonus: the model document: " + err.Error()) // only maps, slices and strings
	}
	return append(b, '\n')
}

type object = map[string]any

// modelDocument builds the document from the endpoint table.
func modelDocument() object {
	m := &modeller{schemas: object{}}
	paths := object{}
	for _, d := range endpoints {
		item, _ := paths[d.path].(object)
		if item == nil {
			item = object{}
			paths[d.path] = item
		}
		method := strings.ToLower(d.method)
		if op, ok := item[method].(object); ok { // a second SDK method on the same route
			m.merge(op, d)
			continue
		}
		item[method] = m.operation(d)
	}
	return object{
		"openapi": "3.1.0",
		"info": object{
			"title":   "ProBonus API, as the probonus Go SDK models it",
			"version": Version,
			"description": "Derived from the SDK's endpoint table and its types' JSON tags (go generate). " +
				"x-probonus-seen: true marks what public material shows; everything else is inferred. " +
				"required: the SDK always sends the field or parameter; it reads any answer field that is absent or null as its zero value. " +
				"Tolerated variants: money reads as a JSON number or a decimal string, and is sent as a number; " +
				"codes read as an integer or a string, and are sent as a string; date-times read with or without an offset " +
				"(without one, in the client's location), and query date-times are sent without one; " +
				"snake_case token names (access_token, refresh_token, expires_in, token_type) read as well; unknown fields and enum values are kept or ignored.",
		},
		"paths": paths,
		"components": object{
			"schemas": m.schemas,
			"securitySchemes": object{
				"APIKeyHeader": object{"type": "apiKey", "in": "header", "name": "X-API-Key"},
				"HTTPBearer":   object{"type": "http", "scheme": "bearer"},
			},
		},
		"security": []any{object{"APIKeyHeader": []any{}}, object{"HTTPBearer": []any{}}},
	}
}

type modeller struct{ schemas object }

func (m *modeller) operation(d described) object {
	op := object{
		"operationId": d.op,
		xSeen:         object{"path": true, "method": d.methodSeen},
		xOperations:   []any{sdkOperation(d)},
	}
	if d.path == epLogin.path || d.path == epRefreshToken.path {
		op["security"] = []any{} // the credentials are in the body
	}
	if len(d.query) > 0 {
		op["parameters"] = m.parameters(d.query, true)
	}
	if d.body != nil {
		op["requestBody"] = object{"required": true, "content": object{"application/json": object{"schema": m.schema(d.body)}}}
	}
	op["responses"] = object{"200": object{"description": "Success", "content": object{"application/json": object{"schema": m.schema(d.answer)}}}}
	return op
}

func sdkOperation(d described) object {
	keys := []any{}
	for _, p := range d.query {
		keys = append(keys, p.key)
	}
	return object{"name": d.op, "query": keys}
}

// merge adds a second SDK method of the same route: its parameters, required only where every
// method sends them.
func (m *modeller) merge(op object, d described) {
	op["operationId"] = op["operationId"].(string) + "+" + d.op
	op[xOperations] = append(op[xOperations].([]any), sdkOperation(d))
	params, _ := op["parameters"].([]any)
	sends := map[string]bool{}
	for _, p := range d.query {
		sends[p.key] = true
	}
	have := map[string]bool{}
	for _, p := range params {
		p := p.(object)
		have[p["name"].(string)] = true
		if !sends[p["name"].(string)] {
			p["required"] = false
		}
	}
	for _, p := range m.parameters(d.query, false) {
		if !have[p.(object)["name"].(string)] {
			params = append(params, p)
		}
	}
	op["parameters"] = params
}

func (m *modeller) parameters(ps []param, required bool) []any {
	out := []any{}
	for _, p := range ps {
		s := object{"type": p.typ}
		if p.typ == "date-time" {
			s = object{"type": "string", "format": "date-time", xKind: "date-time",
				"description": "sent as the client location's wall-clock time, without an offset: 2026-02-16T09:42:00"}
		}
		out = append(out, object{"name": p.key, "in": "query", "required": required, "schema": s, xSeen: false})
	}
	return out
}

var (
	tAmount = typeOf[Amount]()
	tCode   = typeOf[Code]()
	tTime   = typeOf[Time]()
	tDate   = typeOf[Date]()
	tNumber = typeOf[json.Number]()
)

// schema is the JSON Schema of a Go type as the SDK reads and writes it.
func (m *modeller) schema(t reflect.Type) object {
	switch t {
	case tAmount:
		return object{"type": []any{"number", "string"}, xKind: "money",
			"description": "money: reads a JSON number or a decimal string (150, 150.5, \"150.50\"), sent as a number; never a float in Go"}
	case tCode:
		return object{"type": []any{"integer", "string"}, xKind: "code",
			"description": "an r_keeper code or number: reads an integer or a string, sent as a string"}
	case tTime:
		return object{"type": "string", "format": "date-time", xKind: "date-time",
			"description": "reads with or without an offset and fractional seconds; without one, in the client's location"}
	case tDate:
		return object{"type": "string", "format": "date", xKind: "date"}
	case tNumber:
		return object{"type": "number"}
	}
	if vals, ok := enumValues[t]; ok {
		enum := []any{}
		for _, v := range vals {
			enum = append(enum, v)
		}
		return object{"type": "string", "enum": enum, xKind: "enum", "description": "values the SDK does not know are kept"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return m.schema(t.Elem())
	case reflect.Slice:
		return object{"type": "array", "items": m.schema(t.Elem())}
	case reflect.String:
		return object{"type": "string"}
	case reflect.Bool:
		return object{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return object{"type": "integer"}
	case reflect.Struct:
		return object{"$ref": "#/components/schemas/" + m.component(t)}
	}
	panic("probonus: the model document has no schema for " + t.String())
}

// component adds a struct type's schema to the components once, and returns its name.
func (m *modeller) component(t reflect.Type) string {
	name := schemaNames[t]
	if name == "" {
		name = t.Name()
	}
	if _, ok := m.schemas[name]; ok {
		return name
	}
	s := object{"type": "object", xGoType: t.String()}
	m.schemas[name] = s // before the fields: a type may contain itself
	props := object{}
	required := []string{}
	also := map[string]string{}  // AccessToken's json name by Go name, for AccessTokenSnake
	aliased := map[string]bool{} // a field read under two names is required under neither
	for i := range t.NumField() {
		f := t.Field(i)
		jname, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || jname == "-" || jname == "" {
			continue
		}
		if base, ok := strings.CutSuffix(f.Name, "Snake"); ok {
			if p, ok := props[also[base]].(object); ok {
				p[xAlso] = []any{jname}
				aliased[also[base]] = true
				continue
			}
		}
		also[f.Name] = jname
		p := m.schema(f.Type)
		if _, isRef := p["$ref"]; isRef {
			p = object{"allOf": []any{p}} // a $ref takes no siblings in 3.0; in 3.1 it may, but this reads in both
		}
		p[xGoField] = t.Name() + "." + f.Name
		p[xSeen] = seenFields[t.Name()+"."+jname]
		props[jname] = p
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
			required = append(required, jname)
		}
	}
	s["properties"] = props
	required = slices.DeleteFunc(required, func(n string) bool { return aliased[n] })
	if len(required) > 0 {
		sort.Strings(required)
		s["required"] = required
	}
	return name
}
