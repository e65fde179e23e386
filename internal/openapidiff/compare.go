package openapidiff

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Severities of a Difference.
const (
	Fail = "fail" // what the SDK sends would be refused or misapplied
	Warn = "warn" // what the SDK reads would be wrong or missing
	Info = "info" // what the server has more
)

// Where a Difference is.
const (
	InEndpoint = "endpoint"
	InQuery    = "query"
	InBody     = "body"
	InResponse = "response"
	InAuth     = "auth"
)

// Difference is one way the server's document differs from the SDK's model. SDK and Server are
// the name or value on each side, empty where a side has none; Path is the server's path.
type Difference struct {
	Severity string `json:"severity"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	Where    string `json:"where"`
	SDK      string `json:"sdk"`
	Server   string `json:"server"`
	Message  string `json:"message"`
}

// Compare lists every difference of the server's document from the model's, fails first, then
// warnings, then the rest, each group in the order of the endpoints.
func Compare(model, server *Document) []Difference {
	c := &comparer{server: server, done: map[string]bool{}}
	keys := make([]string, 0, len(model.ops))
	for k := range model.ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	modelled := map[string]bool{}
	for _, k := range keys {
		op := model.ops[k]
		modelled[op.path] = true
		c.operation(op)
	}
	c.auth(model)
	extra := []string{}
	for k, op := range server.ops {
		if !modelled[op.path] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		op := server.ops[k]
		m := strings.ToUpper(op.method)
		body := "nil"
		if op.body != nil {
			body = "body"
		}
		c.add(Difference{Severity: Info, Method: m, Path: op.path, Where: InEndpoint, Server: m + " " + op.path,
			Message: fmt.Sprintf("the SDK has no method for %s %s: client.Do(ctx, %q, %q, query, %s, &out) reaches it", m, op.path, m, op.path, body)})
	}
	rank := map[string]int{Fail: 0, Warn: 1, Info: 2}
	sort.SliceStable(c.out, func(i, j int) bool { return rank[c.out[i].Severity] < rank[c.out[j].Severity] })
	return c.out
}

type comparer struct {
	server *Document
	out    []Difference
	done   map[string]bool // schema pairs compared already: each difference is told once
	method string
	path   string
}

func (c *comparer) add(d Difference) {
	if d.Method == "" {
		d.Method, d.Path = c.method, c.path
	}
	c.out = append(c.out, d)
}

func (c *comparer) operation(m *operation) {
	method := strings.ToUpper(m.method)
	c.method, c.path = method, m.path
	names := sdkNames(m)
	s := c.server.ops[m.method+" "+m.path]
	if s == nil {
		var others []string
		for _, op := range c.server.ops {
			if op.path == m.path {
				others = append(others, strings.ToUpper(op.method))
			}
		}
		sort.Strings(others)
		if len(others) > 0 {
			c.add(Difference{Severity: Fail, Where: InEndpoint, SDK: method, Server: strings.Join(others, ", "),
				Message: fmt.Sprintf("%s sends %s %s; the server has %s there: the SDK's call is refused (405)", names, method, m.path, strings.Join(others, ", "))})
		} else {
			c.add(Difference{Severity: Fail, Where: InEndpoint, SDK: method + " " + m.path,
				Message: fmt.Sprintf("%s calls %s %s, which the server does not have (404): a route under another name? Client.Do reaches it", names, method, m.path)})
		}
		return
	}
	c.query(m, s)
	switch {
	case m.body != nil && s.body == nil:
		c.add(Difference{Severity: Fail, Where: InBody, SDK: m.body.name,
			Message: fmt.Sprintf("%s sends a JSON body (%s); the server's %s %s takes none", names, m.body.name, method, m.path)})
	case m.body != nil:
		c.request(m.body, s.body, "")
	}
	switch {
	case m.answer != nil && s.answer == nil:
		c.add(Difference{Severity: Info, Where: InResponse, SDK: m.answer.display(),
			Message: fmt.Sprintf("the server's document does not describe the answer of %s %s: nothing to compare with %s", method, m.path, m.answer.display())})
	case m.answer != nil:
		c.response(m.answer, s.answer, "")
	}
}

func sdkNames(m *operation) string {
	var n []string
	for _, c := range m.sdk {
		n = append(n, c.name)
	}
	if len(n) == 0 {
		return "the SDK"
	}
	return strings.Join(n, " and ")
}

// display names a schema: its component name, or its items' with [].
func (s *schema) display() string {
	switch {
	case s == nil:
		return ""
	case s.name != "":
		return s.name
	case s.items != nil:
		return "[]" + s.items.display()
	}
	return strings.Join(s.typeList(), "|")
}

func (s *schema) typeList() []string {
	var t []string
	for k := range s.types {
		t = append(t, k)
	}
	sort.Strings(t)
	return t
}

func (s *schema) typeText() string {
	if len(s.types) == 0 {
		return "any type"
	}
	t := strings.Join(s.typeList(), " or ")
	if s.format != "" {
		t += " (" + s.format + ")"
	}
	return t
}

// query compares each SDK method's query parameters with the server's.
func (c *comparer) query(m, s *operation) {
	server := map[string]parameter{}
	for _, p := range s.params {
		if p.in == "query" {
			server[p.name] = p
		}
	}
	model := map[string]parameter{}
	for _, p := range m.params {
		model[p.name] = p
	}
	for _, call := range m.sdk {
		sends := map[string]bool{}
		for _, k := range call.query {
			sends[k] = true
		}
		renamed := map[string]bool{}
		for _, k := range call.query {
			mp := model[k]
			sp, ok := server[k]
			if !ok {
				if to := c.renameParam(mp, server, model); to != "" {
					renamed[to] = true
					c.add(Difference{Severity: Fail, Where: InQuery, SDK: k, Server: to,
						Message: fmt.Sprintf("query %s (%s) is %s here? The server has %s and no %s: the SDK's call is refused (422)", k, call.name, to, to, k)})
					continue
				}
				c.add(Difference{Severity: Fail, Where: InQuery, SDK: k,
					Message: fmt.Sprintf("%s sends the query parameter %s, which the server does not have: it is ignored", call.name, k)})
				continue
			}
			if !sendable(mp.schema, sp.schema) {
				c.add(Difference{Severity: Fail, Where: InQuery, SDK: k + " " + mp.schema.typeText(), Server: k + " " + sp.schema.typeText(),
					Message: fmt.Sprintf("%s sends %s as %s; the server wants %s", call.name, k, mp.schema.typeText(), sp.schema.typeText())})
			}
		}
		names := make([]string, 0, len(server))
		for n := range server {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if server[n].required && !sends[n] && !renamed[n] {
				c.add(Difference{Severity: Fail, Where: InQuery, Server: n,
					Message: fmt.Sprintf("the server requires the query parameter %s, which %s never sends: its call is refused (422)", n, call.name)})
			}
		}
	}
}

// renameParam is the one server parameter no SDK method sends, of a type the SDK's can go to.
func (c *comparer) renameParam(mp parameter, server, model map[string]parameter) string {
	var cands []string
	for n, sp := range server {
		if _, ok := model[n]; !ok && sendable(mp.schema, sp.schema) {
			cands = append(cands, n)
		}
	}
	if len(cands) == 1 {
		return cands[0]
	}
	return ""
}

// field names a model property for a reader: `amount` (Refill.Amount).
func field(name string, p *schema) string {
	if p.goField == "" {
		return name
	}
	return name + " (" + p.goField + ")"
}

// serverName names a server schema's property: Refill.sum.
func serverName(s *schema, prop string) string {
	if s.name == "" {
		return prop
	}
	return s.name + "." + prop
}

func (c *comparer) once(dir string, m, s *schema) bool {
	k := fmt.Sprintf("%s %p %p", dir, m, s)
	if c.done[k] {
		return false
	}
	c.done[k] = true
	return true
}

// request compares what the SDK sends (m) with what the server takes (s).
func (c *comparer) request(m, s *schema, at string) {
	if !c.once("request", m, s) {
		return
	}
	if m.items != nil && s.items != nil {
		c.request(m.items, s.items, at+"[]")
		return
	}
	if m.props == nil || s.props == nil {
		return
	}
	props := sortedKeys(m.props)
	renamed := map[string]bool{}
	for _, name := range props {
		mp := m.props[name]
		sp, ok := s.props[name]
		if !ok {
			if to := rename(mp, m, s, sendable); to != "" {
				renamed[to] = true
				c.add(Difference{Severity: Fail, Where: InBody, SDK: field(name, mp), Server: serverName(s, to),
					Message: fmt.Sprintf("%s is %s here? The server's %s has %s (%s) and no %s: what the SDK sends there is refused or dropped", field(name, mp), to, s.display(), to, s.props[to].typeText(), name)})
				continue
			}
			c.add(Difference{Severity: Fail, Where: InBody, SDK: field(name, mp), Server: s.display(),
				Message: fmt.Sprintf("the SDK sends %s, which the server's %s does not have: it is ignored", field(name, mp), s.display())})
			continue
		}
		if !sendable(mp, sp) {
			msg := fmt.Sprintf("the SDK sends %s as %s; the server's %s.%s is %s", field(name, mp), sentText(mp), s.display(), name, sp.typeText())
			if mp.kind == "money" && sp.types["integer"] && !sp.types["number"] {
				msg += ": money in kopecks? The SDK sends roubles with a fraction"
			}
			c.add(Difference{Severity: Fail, Where: InBody, SDK: field(name, mp), Server: serverName(s, name), Message: msg})
			continue
		}
		if mp.kind == "enum" && len(sp.enum) > 0 {
			if missing := without(mp.enum, sp.enum); len(missing) > 0 {
				c.add(Difference{Severity: Fail, Where: InBody, SDK: field(name, mp), Server: serverName(s, name),
					Message: fmt.Sprintf("the SDK may send %s as %s; the server's %s.%s takes only %s", field(name, mp), strings.Join(missing, ", "), s.display(), name, strings.Join(sp.enum, ", "))})
			}
		}
		c.request(mp, sp, at+name+".")
	}
	for _, name := range sortedKeys(s.required) {
		if renamed[name] {
			continue
		}
		mp, ok := m.props[name]
		switch {
		case !ok:
			c.add(Difference{Severity: Fail, Where: InBody, SDK: m.display(), Server: serverName(s, name),
				Message: fmt.Sprintf("the server's %s requires %s, which the SDK's %s never sends: the call is refused (422)", s.display(), name, goName(m))})
		case !m.required[name]:
			c.add(Difference{Severity: Fail, Where: InBody, SDK: field(name, mp), Server: serverName(s, name),
				Message: fmt.Sprintf("the server's %s requires %s, which the SDK leaves out when it is not set: such a call is refused (422)", s.display(), field(name, mp))})
		}
	}
}

// response compares what the SDK reads (m) with what the server answers (s).
func (c *comparer) response(m, s *schema, at string) {
	if !c.once("response", m, s) {
		return
	}
	if m.items != nil {
		if s.items == nil {
			if !s.types["array"] && len(s.types) > 0 {
				c.add(Difference{Severity: Warn, Where: InResponse, SDK: m.display(), Server: s.display(),
					Message: fmt.Sprintf("the SDK reads a list (%s); the server answers %s: the SDK cannot read it", m.display(), s.typeText())})
			}
			return
		}
		c.response(m.items, s.items, at)
		return
	}
	if m.props == nil || s.props == nil {
		return
	}
	renamed := map[string]bool{}
	for _, name := range sortedKeys(m.props) {
		mp := m.props[name]
		sp, ok := s.props[name]
		for _, a := range mp.also {
			if !ok {
				sp, ok = s.props[a]
				renamed[a] = ok
			}
		}
		if !ok {
			if to := rename(mp, m, s, readable); to != "" {
				renamed[to] = true
				c.add(Difference{Severity: Warn, Where: InResponse, SDK: field(name, mp), Server: serverName(s, to),
					Message: fmt.Sprintf("%s is %s here? The server's %s has %s (%s) and no %s: the SDK reads it as %s", field(name, mp), to, s.display(), to, s.props[to].typeText(), name, zero(mp))})
				continue
			}
			c.add(Difference{Severity: Warn, Where: InResponse, SDK: field(name, mp), Server: s.display(),
				Message: fmt.Sprintf("the server's %s has no %s: the SDK reads it as %s", s.display(), field(name, mp), zero(mp))})
			continue
		}
		if !readable(mp, sp) {
			c.add(Difference{Severity: Warn, Where: InResponse, SDK: field(name, mp), Server: serverName(s, name),
				Message: fmt.Sprintf("the server's %s.%s is %s, which the SDK cannot read into %s (%s): the answer fails to decode", s.display(), name, sp.typeText(), field(name, mp), readText(mp))})
			continue
		}
		if mp.kind == "enum" && len(sp.enum) > 0 && !sameSet(mp.enum, sp.enum) {
			c.add(Difference{Severity: Warn, Where: InResponse, SDK: field(name, mp) + ": " + strings.Join(mp.enum, ", "), Server: serverName(s, name) + ": " + strings.Join(sp.enum, ", "),
				Message: fmt.Sprintf("the values of %s differ: the SDK knows %s, the server's %s.%s has %s; unknown values are kept as they are, but the SDK's constants do not match them", field(name, mp), strings.Join(mp.enum, ", "), s.display(), name, strings.Join(sp.enum, ", "))})
		}
		c.response(mp, sp, at+name+".")
	}
	for _, name := range sortedKeys(s.props) {
		if _, ok := m.props[name]; ok || renamed[name] {
			continue
		}
		c.add(Difference{Severity: Info, Where: InResponse, Server: serverName(s, name),
			Message: fmt.Sprintf("the server's %s has %s (%s), which the SDK's %s does not model: Client.Do reads it", s.display(), name, s.props[name].typeText(), goName(m))})
	}
}

func goName(m *schema) string {
	if t, ok := strings.CutPrefix(m.goType, "probonus."); ok && t != "" && t[0] >= 'A' && t[0] <= 'Z' {
		return t
	}
	return m.display()
}

// rename is the one property of the server's schema that the model lacks and whose type fits.
func rename(mp, m, s *schema, fits func(m, s *schema) bool) string {
	var cands []string
	for name, sp := range s.props {
		if _, modelled := m.props[name]; modelled || isAlias(m, name) {
			continue
		}
		if fits(mp, sp) && (mp.props == nil) == (sp.props == nil) {
			cands = append(cands, name)
		}
	}
	if len(cands) != 1 {
		return ""
	}
	for name, other := range m.props { // the candidate fits no other missing field
		if _, present := s.props[name]; !present && other != mp && fits(other, s.props[cands[0]]) && (other.props == nil) == (mp.props == nil) {
			return ""
		}
	}
	return cands[0]
}

func isAlias(m *schema, name string) bool {
	for _, p := range m.props {
		if slices.Contains(p.also, name) {
			return true
		}
	}
	return false
}

// sent is the JSON type the SDK writes for a model property.
func sent(m *schema) string {
	switch m.kind {
	case "money":
		return "number"
	case "code", "date-time", "date", "enum":
		return "string"
	}
	if len(m.types) == 1 {
		return m.typeList()[0]
	}
	return ""
}

func sentText(m *schema) string {
	switch m.kind {
	case "money":
		return "a decimal number"
	case "code":
		return "a string"
	}
	return m.typeText()
}

// sendable says whether the server takes what the SDK sends for m: an integer where a number is
// wanted, a code as a string where an integer is (Pydantic reads "5" as 5), any type where the
// server names none.
func sendable(m, s *schema) bool {
	if s == nil || len(s.types) == 0 {
		return true
	}
	if m.items != nil && s.items != nil {
		return sendable(m.items, s.items)
	}
	t := sent(m)
	switch {
	case t == "":
		return true
	case s.types[t]:
		return true
	case t == "integer" && s.types["number"]:
		return true
	case m.kind == "code" && (s.types["integer"] || s.types["number"]):
		return true
	}
	return false
}

// readable says whether the SDK reads what the server answers for m: money as a number or a
// string, a code as an integer or a string.
func readable(m, s *schema) bool {
	if s == nil || len(s.types) == 0 {
		return true
	}
	if m.items != nil && s.items != nil {
		return readable(m.items, s.items)
	}
	var accepts []string
	switch m.kind {
	case "money":
		accepts = []string{"number", "integer", "string"}
	case "code":
		accepts = []string{"integer", "number", "string"}
	case "date-time", "date", "enum":
		accepts = []string{"string"}
	default:
		accepts = m.typeList()
		if slices.Contains(accepts, "number") {
			accepts = append(accepts, "integer")
		}
	}
	for t := range s.types {
		if !slices.Contains(accepts, t) {
			return false
		}
	}
	return true
}

func readText(m *schema) string {
	switch m.kind {
	case "money":
		return "money: a number or a string"
	case "code":
		return "a code: an integer or a string"
	}
	return m.typeText()
}

// zero says what a field the server never sends reads as.
func zero(m *schema) string {
	switch {
	case m.kind == "money":
		return "0.00"
	case m.items != nil || m.types["array"]:
		return "an empty list"
	case m.props != nil:
		return "empty"
	case m.types["integer"] || m.types["number"]:
		return "0"
	case m.types["boolean"]:
		return "false"
	}
	return "empty"
}

// auth compares the security schemes: the SDK sends X-API-Key, or Authorization: Bearer.
func (c *comparer) auth(model *Document) {
	c.method, c.path = "", ""
	if len(c.server.schemes) == 0 {
		c.add(Difference{Severity: Info, Where: InAuth, SDK: "X-API-Key, Bearer",
			Message: "the server's document names no security scheme: nothing to compare with the SDK's X-API-Key header and bearer login"})
		return
	}
	for _, ms := range model.schemes {
		var found bool
		var others []string
		for _, ss := range c.server.schemes {
			switch {
			case ms.typ == "apiKey" && ss.typ == "apiKey":
				if ss.in == ms.in && strings.EqualFold(ss.header, ms.header) {
					found = true
				} else {
					others = append(others, fmt.Sprintf("%s (%s %s)", ss.header, ss.in, ss.name))
				}
			case ms.typ == "http" && (ss.typ == "http" && ss.httpScheme == "bearer" || ss.typ == "oauth2"):
				found = true
			case ms.typ == "http" && ss.typ == "http":
				others = append(others, ss.httpScheme+" ("+ss.name+")")
			}
		}
		if found {
			continue
		}
		switch ms.typ {
		case "apiKey":
			msg := "the server's document has no API key header: WithAPIKey's " + ms.header + " goes unread; use WithLogin"
			if len(others) > 0 {
				msg = fmt.Sprintf("the server reads its API key from %s, the SDK sends %s: every call with WithAPIKey is refused", strings.Join(others, ", "), ms.header)
			}
			c.add(Difference{Severity: Fail, Where: InAuth, SDK: ms.header, Server: strings.Join(others, ", "), Message: msg})
		case "http":
			c.add(Difference{Severity: Fail, Where: InAuth, SDK: "Authorization: Bearer", Server: strings.Join(others, ", "),
				Message: "the server's document has no bearer scheme: the tokens WithLogin sends go unread; use WithAPIKey"})
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func without(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	return len(without(a, b)) == 0 && len(without(b, a)) == 0
}
