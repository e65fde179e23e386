package probonustest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// parseBody reads a JSON object body as FastAPI's request handler does (fastapi/routing.py): an
// empty body, or null, is a missing body; one Python's json refuses is json_invalid at the
// character where it stopped; one not valid UTF-8 is a 400; one that is not an object is
// model_attributes_type with the value as input (issue 26 item 19). Only a body declared
// application/json (or …+json) is read as JSON, and in Legacy (FastAPI before 0.132) also one
// without a Content-Type; any other is validated as its text, which is not an object.
func (s *Server) parseBody(w http.ResponseWriter, r *http.Request, body []byte) (map[string]json.RawMessage, bool) {
	notObject := func(input any) {
		s.invalid(w, issue{loc: []any{"body"}, input: input,
			v1: [2]string{"value is not a valid dict", "type_error.dict"},
			v2: [2]string{"Input should be a valid dictionary or object to extract fields from", "model_attributes_type"}})
	}
	if len(body) == 0 {
		s.invalid(w, missing("body"))
		return nil, false
	}
	if !s.jsonBody(r) {
		notObject(string(body))
		return nil, false
	}
	text := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // Python decodes it as utf-8-sig
	if !utf8.Valid(text) {
		s.detail(w, http.StatusBadRequest, "There was an error parsing the body")
		return nil, false
	}
	doc := []rune(string(text))
	msg, pos, ok, nonFinite := pyJSONError(doc)
	if !ok && pos < 0 { // Python's RecursionError
		s.detail(w, http.StatusBadRequest, "There was an error parsing the body")
		return nil, false
	}
	if !ok {
		line, col := 1, pos+1
		for i, c := range doc[:pos] {
			if c == '\n' {
				line, col = line+1, pos-i
			}
		}
		s.invalid(w, issue{loc: []any{"body", pos}, input: map[string]any{},
			ctx:  map[string]any{"error": msg},
			ctx1: map[string]any{"msg": msg, "doc": string(doc), "pos": pos, "lineno": line, "colno": col},
			v1:   [2]string{fmt.Sprintf("%s: line %d column %d (char %d)", msg, line, col, pos), "value_error.jsondecode"},
			v2:   [2]string{"JSON decode error", "json_invalid"}})
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	switch err := dec.Decode(&v); {
	case err != nil && nonFinite:
		// NaN or Infinity: Python reads them, Pydantic refuses them, and Starlette's JSONResponse
		// (allow_nan=False) cannot write the refusal, which quotes them: a 500
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return nil, false
	case err != nil:
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return nil, false
	}
	switch v.(type) {
	case nil:
		s.invalid(w, missing("body"))
		return nil, false
	case map[string]any:
		var fields map[string]json.RawMessage
		if json.Unmarshal(text, &fields) != nil {
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return nil, false
		}
		return fields, true
	}
	notObject(v)
	return nil, false
}

// jsonBody is whether FastAPI reads r's body as JSON.
func (s *Server) jsonBody(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return s.flavor == Legacy
	}
	mt, _, err := mime.ParseMediaType(ct)
	main, sub, _ := strings.Cut(mt, "/")
	return err == nil && main == "application" && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

// lockAccount locks the state and returns the account; when there is none it answers 404 and
// returns nil, leaving the state unlocked.
func (s *Server) lockAccount(w http.ResponseWriter, id int64) *account {
	s.mu.Lock()
	if a := s.st.accounts[id]; a != nil {
		return a
	}
	s.mu.Unlock()
	s.detail(w, http.StatusNotFound, "Счёт не найден")
	return nil
}

func (s *Server) detail(w http.ResponseWriter, status int, detail string) {
	s.writeJSON(w, status, map[string]any{"detail": detail})
}

// queryInt reads a required integer query parameter; one sent empty is a string that is no integer.
func (s *Server) queryInt(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	v, ok := r.URL.Query()[name]
	if !ok {
		s.invalid(w, missing("query", name))
		return 0, false
	}
	n, is := s.intFromString(v[0], "query", name)
	if is != nil {
		s.invalid(w, *is)
		return 0, false
	}
	return n, true
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request, _ map[string]json.RawMessage) {
	s.mu.Lock()
	out := make([]map[string]any, 0, len(s.st.groups))
	for _, g := range s.st.groups {
		out = append(out, s.object("group", map[string]any{"id": g.ID, "name": g.Name, "haveTemplate": g.HaveTemplate, "parentId": nullInt(g.ParentID)}))
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleInsert(w http.ResponseWriter, r *http.Request, body map[string]json.RawMessage) {
	f := s.form(body)
	groupID := f.int("accountId")
	a := Account{GroupID: groupID, Phone: normalizePhone(f.str("phone"))}
	a.FirstName, _ = f.optStr("firstName")
	a.LastName, _ = f.optStr("lastName")
	a.MiddleName, _ = f.optStr("middleName")
	a.Email, _ = f.optStr("email")
	a.Gender, _ = f.optStr("gender")
	a.BirthDate, _ = f.optDate("birthDate")
	if raw, ok := body["identifiers"]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &a.Identifiers) != nil {
			f.add(&issue{loc: []any{"body", "identifiers"}, input: jsonValue(raw),
				v1: [2]string{"value is not a valid list", "type_error.list"}, v2: [2]string{"Input should be a valid list", "list_type"}})
		}
	}
	if f.failed(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.group(groupID)
	switch {
	case g == nil:
		s.detail(w, http.StatusBadRequest, "Группа счетов не найдена")
		return
	case !g.HaveTemplate:
		s.detail(w, http.StatusBadRequest, "У группы нет шаблона для API")
		return
	case len(a.Phone) < 10:
		s.detail(w, http.StatusBadRequest, "Некорректный номер телефона")
		return
	}
	if _, dup := s.st.byPhone[a.Phone]; dup {
		s.detail(w, http.StatusBadRequest, "Счёт с таким телефоном уже существует")
		return
	}
	now := s.now()
	acc, err := s.st.addAccount(a, now)
	if err != nil {
		s.detail(w, http.StatusBadRequest, err.Error())
		return
	}
	if welcome := mustMoney(g.WelcomeBonus); welcome > 0 {
		s.st.credit(acc, "refill", welcome, "Приветственные бонусы", s.st.burnDate(g, now), now)
	}
	s.writeJSON(w, http.StatusOK, s.accountJSON(acc))
}

func (s *Server) handleFind(w http.ResponseWriter, r *http.Request, _ map[string]json.RawMessage) {
	phone := r.URL.Query().Get("phone")
	if phone == "" {
		s.invalid(w, missing("query", "phone"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.st.byPhone[normalizePhone(phone)]
	if !ok {
		s.detail(w, http.StatusNotFound, "Счёт не найден")
		return
	}
	s.writeJSON(w, http.StatusOK, s.accountJSON(s.st.accounts[id]))
}

func (s *Server) handleRefill(w http.ResponseWriter, r *http.Request, body map[string]json.RawMessage) {
	f := s.form(body)
	id := f.int("accountId")
	amount := f.amount("amount") // issue 26 item 19, and never past int64 (the review of issue 26)
	reason, _ := f.optStr("reason")
	burn, hasBurn := f.optDate("burnDate")
	if f.failed(w) {
		return
	}
	a := s.lockAccount(w, id)
	if a == nil {
		return
	}
	defer s.mu.Unlock()
	if a.balance() > maxMoney-amount { // the balance column would overflow: the database refuses it
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	now := s.now()
	if !hasBurn {
		burn = s.st.burnDate(s.st.group(a.GroupID), now)
	}
	tx := s.st.credit(a, "refill", amount, reason, burn, now)
	tx.byRefill = true
	s.writeJSON(w, http.StatusOK, s.object("refill", map[string]any{"transactionId": tx.id, "balance": s.money(a.balance())}))
}

func (s *Server) handleTransactions(w http.ResponseWriter, r *http.Request, _ map[string]json.RawMessage) {
	id, ok := s.queryInt(w, r, "accountId")
	if !ok {
		return
	}
	q := r.URL.Query()
	var from, to time.Time
	count := int64(-1)
	switch {
	case q.Has("count"):
		if count, ok = s.queryInt(w, r, "count"); !ok {
			return
		}
	case q.Has("dateFrom") || q.Has("dateTo"):
		// FastAPI reports every parameter at fault at once; one not sent is missing, not unreadable
		// (issue 26 item 19)
		var issues []issue
		for _, p := range []struct {
			name string
			out  *time.Time
		}{{"dateFrom", &from}, {"dateTo", &to}} {
			if !q.Has(p.name) {
				issues = append(issues, missing("query", p.name))
				continue
			}
			t, err := s.parseTime(q.Get(p.name))
			if err != nil {
				issues = append(issues, notDatetime(q.Get(p.name), "query", p.name))
				continue
			}
			*p.out = t
		}
		if len(issues) > 0 {
			s.invalid(w, issues...)
			return
		}
	default:
		s.invalid(w, missing("query", "count"))
		return
	}
	if s.lockAccount(w, id) == nil {
		return
	}
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, t := range s.st.transactions(id) {
		if count >= 0 && int64(len(out)) >= count {
			break
		}
		if count < 0 && (t.at.Before(from) || t.at.After(to)) {
			continue
		}
		out = append(out, s.transactionJSON(t))
	}
	s.writeJSON(w, http.StatusOK, out)
}

// parseTime reads a query timestamp: without an offset in the server's location, or with one.
func (s *Server) parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return t, nil
		}
	}
	return time.ParseInLocation("2006-01-02 15:04:05", v, s.loc)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, body map[string]json.RawMessage) {
	// the whole body is validated before anything changes: a 422 applies nothing
	f := s.form(body)
	id := f.int("accountId")
	phone, hasPhone := f.optStr("phone")
	texts := map[string]string{}
	for _, name := range []string{"email", "firstName", "lastName", "middleName", "gender", "birthDate", "info",
		"screenMessage", "printMessage", "discountCode", "bonusTypeCode"} {
		if v, ok := f.optStr(name); ok {
			texts[name] = v
		}
	}
	blocked, hasBlocked := f.optBool("isBlocked")
	days, hasDays := f.optInt("bonusLifetimeDays")
	if f.failed(w) {
		return
	}
	a := s.lockAccount(w, id)
	if a == nil {
		return
	}
	defer s.mu.Unlock()
	if hasPhone {
		p := normalizePhone(phone)
		if other, dup := s.st.byPhone[p]; dup && other != id {
			s.detail(w, http.StatusBadRequest, "Счёт с таким телефоном уже существует")
			return
		}
		delete(s.st.byPhone, a.Phone)
		a.Phone = p
		s.st.byPhone[p] = id
	}
	for name, field := range map[string]*string{
		"email": &a.Email, "firstName": &a.FirstName, "lastName": &a.LastName, "middleName": &a.MiddleName,
		"gender": &a.Gender, "birthDate": &a.BirthDate, "info": &a.info, "screenMessage": &a.screen,
		"printMessage": &a.prn, "discountCode": &a.discountCode, "bonusTypeCode": &a.bonusTypeCode,
	} {
		if v, ok := texts[name]; ok {
			*field = v
		}
	}
	if hasBlocked {
		a.Blocked = blocked
	}
	if hasDays {
		a.bonusLifetimeDays = int(days)
	}
	s.writeJSON(w, http.StatusOK, s.accountJSON(a))
}

func (s *Server) handleBalance(w http.ResponseWriter, r *http.Request, _ map[string]json.RawMessage) {
	id, ok := s.queryInt(w, r, "accountId")
	if !ok {
		return
	}
	a := s.lockAccount(w, id)
	if a == nil {
		return
	}
	defer s.mu.Unlock()
	byDate := func(lots []lot) ([]map[string]any, money) {
		sums := map[string]money{}
		var dates []string
		var never money
		for _, l := range lots {
			if l.left <= 0 {
				continue
			}
			if l.burn == "" {
				never += l.left
				continue
			}
			if _, seen := sums[l.burn]; !seen {
				dates = append(dates, l.burn)
			}
			sums[l.burn] += l.left
		}
		sort.Strings(dates)
		out := []map[string]any{}
		for _, d := range dates {
			out = append(out, map[string]any{"sum": s.money(sums[d]), "date": d})
		}
		return out, never
	}
	burnings, never := byDate(a.lots)
	late, _ := byDate(a.deferred)
	var awaiting money
	for _, l := range a.deferred {
		awaiting += l.left
	}
	s.writeJSON(w, http.StatusOK, s.object("balance", map[string]any{
		"accountId": a.ID, "bonusBalance": s.money(a.balance()), "bonusAwaitingIssue": s.money(awaiting),
		"lateIssues": late, "burnings": burnings, "neverBurns": s.money(never),
	}))
}

func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request, _ map[string]json.RawMessage) {
	id, ok := s.queryInt(w, r, "checkId")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.checks[id]
	if c == nil {
		s.detail(w, http.StatusNotFound, "Чек не найден")
		return
	}
	dishes := []map[string]any{}
	for _, d := range c.dishes {
		dishes = append(dishes, s.object("dish", map[string]any{
			"code": d.Code, "name": d.Name, "quantity": s.quantity(d.qty), "price": s.money(d.price),
			"sum": s.money(d.sum), "discountSum": s.money(d.discountSum),
		}))
	}
	s.writeJSON(w, http.StatusOK, s.object("check", map[string]any{
		"id": c.ID, "number": c.Number, "datetime": s.timestamp(c.Datetime), "restaurantCode": c.RestaurantCode,
		"restaurantName": c.RestaurantName, "cashDesk": c.CashDesk, "accountId": c.AccountID, "sum": s.money(c.sum),
		"discountSum": s.money(c.discountSum), "bonusPaid": s.money(c.bonusPaid), "bonusAccrued": s.money(c.bonusAccrued),
		"dishes": dishes,
	}))
}

func (s *Server) accountJSON(a *account) map[string]any {
	phones := []string{}
	if a.Phone != "" {
		phones = append(phones, a.Phone)
	}
	coupons := []map[string]any{}
	for i, c := range a.Coupons {
		var until any
		if !c.ValidUntil.IsZero() {
			until = s.timestamp(c.ValidUntil)
		}
		coupons = append(coupons, map[string]any{"id": i + 1, "name": c.Name, "dishCode": c.DishCode,
			"discountCode": c.DiscountCode, "quantity": c.Quantity, "validUntil": until})
	}
	ids := []map[string]any{}
	if a.Phone != "" {
		ids = append(ids, map[string]any{"type": "phone", "value": a.Phone})
	}
	for _, id := range a.Identifiers {
		ids = append(ids, map[string]any{"type": id.Type, "value": id.Value})
	}
	var level any
	if a.level.Name != "" {
		level = map[string]any{"id": a.level.ID, "name": a.level.Name,
			"discountPercent": s.money(mustMoney(a.level.DiscountPercent)), "bonusPercent": s.money(mustMoney(a.level.BonusPercent))}
	}
	var groupName string
	if g := s.st.group(a.GroupID); g != nil {
		groupName = g.Name
	}
	tags := a.Tags
	if tags == nil {
		tags = []string{}
	}
	return s.object("account", map[string]any{
		"id": a.ID, "groupId": a.GroupID, "groupName": groupName, "phone": nullString(a.Phone), "phones": phones,
		"email": nullString(a.Email), "firstName": nullString(a.FirstName), "lastName": nullString(a.LastName),
		"middleName": nullString(a.MiddleName), "gender": nullString(a.Gender), "birthDate": nullString(a.BirthDate),
		"createdAt": s.timestamp(a.createdAt), "isBlocked": a.Blocked, "balance": s.money(a.balance()),
		"discountPercent": s.money(mustMoney(a.level.DiscountPercent)), "level": level, "coupons": coupons,
		"identifiers": ids, "tags": tags, "spentSumDay": s.money(a.spentDay), "spentSumDiscountPeriod": s.money(a.spentPeriod),
		"info": nullString(a.info), "screenMessage": nullString(a.screen), "printMessage": nullString(a.prn),
	})
}

func (s *Server) transactionJSON(t *transaction) map[string]any {
	m := map[string]any{"id": t.id, "datetime": s.timestamp(t.at), "type": t.typ, "sum": s.money(t.sum),
		"reason": nullString(t.reason), "checkId": nullInt(t.checkID), "checkNumber": nullInt(int64(t.checkNumber)),
		"restaurantCode": nullInt(int64(t.restaurantCode)), "restaurantName": nullString(t.restaurantName),
		"cashDesk": nullInt(int64(t.cashDesk)), "identifierType": nullString(t.identType), "identifier": nullString(t.ident)}
	return s.object("transaction", m)
}

// money writes an amount as the flavour does: Pydantic v1 a JSON number, v2 a string with two decimals.
func (s *Server) money(m money) any {
	if s.flavor == Legacy {
		return json.Number(m.decimal().String())
	}
	return m.decimal().StringFixed(2)
}

func (s *Server) quantity(d decimal.Decimal) any {
	if s.flavor == Legacy {
		return json.Number(d.String())
	}
	return d.String()
}

// timestamp writes the server's local wall-clock time without an offset, as ProBonus does.
func (s *Server) timestamp(t time.Time) string { return t.In(s.loc).Format("2006-01-02T15:04:05") }

func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}
