package probonustest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// parseBody reads a JSON object body as FastAPI does; FastAPI ≥ 0.132 (Modern) refuses a body
// without Content-Type: application/json.
func (s *Server) parseBody(w http.ResponseWriter, r *http.Request, body []byte) (map[string]json.RawMessage, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if (s.flavor == Modern && mt != "application/json") || dec.Decode(&fields) != nil || fields == nil {
		s.invalid(w, issue{loc: []any{"body"}, input: string(body),
			v1: [2]string{"value is not a valid dict", "type_error.dict"},
			v2: [2]string{"Input should be a valid dictionary or object to extract fields from", "model_attributes_type"}})
		return nil, false
	}
	return fields, true
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

// requireString reads a required string field of the body.
func (s *Server) requireString(w http.ResponseWriter, body map[string]json.RawMessage, name string, out *string) bool {
	raw, ok := body[name]
	if !ok || string(raw) == "null" {
		s.invalid(w, missing("body", name))
		return false
	}
	if json.Unmarshal(raw, out) != nil {
		s.invalid(w, issue{loc: []any{"body", name}, input: json.RawMessage(raw),
			v1: [2]string{"str type expected", "type_error.str"}, v2: [2]string{"Input should be a valid string", "string_type"}})
		return false
	}
	return true
}

// requireInt reads a required integer from the body (where) or the query.
func (s *Server) requireInt(w http.ResponseWriter, where string, raw string, present bool, name string) (int64, bool) {
	if !present || raw == "" || raw == "null" {
		s.invalid(w, missing(where, name))
		return 0, false
	}
	n, err := strconv.ParseInt(strings.Trim(raw, `"`), 10, 64)
	if err != nil {
		s.invalid(w, notInt(raw, where, name))
		return 0, false
	}
	return n, true
}

func (s *Server) bodyInt(w http.ResponseWriter, body map[string]json.RawMessage, name string) (int64, bool) {
	raw, ok := body[name]
	return s.requireInt(w, "body", string(raw), ok, name)
}

func (s *Server) queryInt(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	v, ok := r.URL.Query()[name]
	if !ok {
		return s.requireInt(w, "query", "", false, name)
	}
	return s.requireInt(w, "query", v[0], true, name)
}

// optString reads an optional string field: (value, present).
func optString(body map[string]json.RawMessage, name string) (string, bool) {
	raw, ok := body[name]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return strings.Trim(string(raw), `"`), true
	}
	return v, true
}

// The amount field is condecimal(max_digits=18, decimal_places=2): a NUMERIC(18,2) column, whose
// largest value, 9999999999999999.99, is well inside int64 kopecks (Money in the fake never wraps).
const (
	maxDigits     = 18
	decimalPlaces = 2
)

// parseAmount reads money as Pydantic's condecimal(max_digits=18, decimal_places=2) does: a number
// or a numeric string; the issue when it is not one, or has a fraction of a kopeck or too many
// digits. Pydantic counts the digits of the normalised value (1.500 has one place), and checks the
// total, then the places, then the digits before the point.
func parseAmount(raw json.RawMessage, loc ...any) (money, *issue) {
	input := jsonValue(raw)
	var text string
	switch v := input.(type) {
	case string:
		text = strings.TrimSpace(v)
	case json.Number:
		text = v.String()
		if strings.ContainsAny(text, ".eE") { // Python reads it as a float, and Decimal its repr
			f, err := strconv.ParseFloat(text, 64)
			if err != nil && !math.IsInf(f, 0) {
				is := notDecimal(input, loc...)
				return 0, &is
			}
			text = strconv.FormatFloat(f, 'e', -1, 64) // +Inf for one past float64: not finite
		}
	default: // true, a list, an object
		is := issue{loc: loc, input: input, v1: [2]string{"value is not a valid decimal", "type_error.decimal"},
			v2: [2]string{"Decimal input should be an integer, float, string or Decimal object", "decimal_type"}}
		return 0, &is
	}
	switch strings.ToLower(strings.TrimLeft(text, "+-")) {
	case "nan", "snan", "inf", "infinity": // Python's Decimal reads them; Pydantic refuses them after
		is := issue{loc: loc, input: input, v1: [2]string{"value is not a valid decimal", "type_error.decimal"},
			v2: [2]string{"Input should be a finite number", "finite_number"}}
		return 0, &is
	}
	d, err := decimal.NewFromString(text)
	if err != nil || text == "" || strings.ContainsAny(text, " _") {
		is := notDecimal(input, loc...)
		return 0, &is
	}
	digits, places := decimalDigits(d)
	switch {
	case digits > maxDigits:
		return 0, &issue{loc: loc, input: input, ctx: map[string]any{"max_digits": maxDigits}, ctx1: map[string]any{"max_digits": maxDigits},
			v1: [2]string{fmt.Sprintf("ensure that there are no more than %d digits in total", maxDigits), "value_error.decimal.max_digits"},
			v2: [2]string{fmt.Sprintf("Decimal input should have no more than %d digits in total", maxDigits), "decimal_max_digits"}}
	case places > decimalPlaces:
		is := tooManyPlaces(input, loc...)
		return 0, &is
	case digits-places > maxDigits-decimalPlaces:
		whole := maxDigits - decimalPlaces
		return 0, &issue{loc: loc, input: input, ctx: map[string]any{"whole_digits": whole}, ctx1: map[string]any{"whole_digits": whole},
			v1: [2]string{fmt.Sprintf("ensure that there are no more than %d digits before the decimal point", whole), "value_error.decimal.whole_digits"},
			v2: [2]string{fmt.Sprintf("Decimal input should have no more than %d digits before the decimal point", whole), "decimal_whole_digits"}}
	}
	m, err := parseMoney(d.String())
	if err != nil { // cannot happen within 18 digits and 2 places; refuse rather than wrap
		is := tooManyPlaces(input, loc...)
		return 0, &is
	}
	return m, nil
}

// decimalDigits is Pydantic's count of d normalised (trailing zeros dropped): its digits in all
// and after the point.
func decimalDigits(d decimal.Decimal) (digits, places int) {
	coef := new(big.Int).Abs(d.Coefficient())
	exp := int(d.Exponent())
	ten := big.NewInt(10)
	for coef.Sign() != 0 {
		q, r := new(big.Int).QuoRem(coef, ten, new(big.Int))
		if r.Sign() != 0 {
			break
		}
		coef, exp = q, exp+1
	}
	if coef.Sign() == 0 {
		return 1, 0
	}
	digits = len(coef.String())
	if exp >= 0 {
		return digits + exp, 0
	}
	return max(digits, -exp), -exp
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
	groupID, ok := s.bodyInt(w, body, "accountId")
	if !ok {
		return
	}
	var phone string
	if !s.requireString(w, body, "phone", &phone) {
		return
	}
	a := Account{GroupID: groupID, Phone: normalizePhone(phone)}
	a.FirstName, _ = optString(body, "firstName")
	a.LastName, _ = optString(body, "lastName")
	a.MiddleName, _ = optString(body, "middleName")
	a.Email, _ = optString(body, "email")
	a.Gender, _ = optString(body, "gender")
	if raw, ok := optString(body, "birthDate"); ok {
		bd, ok := s.readDate(raw)
		if !ok {
			s.invalid(w, notDate(raw, "body", "birthDate"))
			return
		}
		a.BirthDate = bd
	}
	if raw, ok := body["identifiers"]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &a.Identifiers) != nil {
			s.invalid(w, issue{loc: []any{"body", "identifiers"}, input: raw,
				v1: [2]string{"value is not a valid list", "type_error.list"}, v2: [2]string{"Input should be a valid list", "list_type"}})
			return
		}
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
	id, ok := s.bodyInt(w, body, "accountId")
	if !ok {
		return
	}
	raw, present := body["amount"]
	if !present || string(raw) == "null" {
		s.invalid(w, missing("body", "amount"))
		return
	}
	amount, problem := parseAmount(raw, "body", "amount") // issue 26 item 19
	if problem != nil {
		s.invalid(w, *problem)
		return
	}
	if amount <= 0 {
		s.invalid(w, notPositive(raw, "body", "amount"))
		return
	}
	reason, _ := optString(body, "reason")
	given, hasBurn := optString(body, "burnDate")
	burn, ok := s.readDate(given)
	if hasBurn && !ok {
		s.invalid(w, notDate(given, "body", "burnDate"))
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
	id, ok := s.bodyInt(w, body, "accountId")
	if !ok {
		return
	}
	a := s.lockAccount(w, id)
	if a == nil {
		return
	}
	defer s.mu.Unlock()
	if p, ok := optString(body, "phone"); ok {
		p = normalizePhone(p)
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
		if v, ok := optString(body, name); ok {
			*field = v
		}
	}
	if raw, ok := body["isBlocked"]; ok && string(raw) != "null" {
		a.Blocked = string(raw) == "true"
	}
	if raw, ok := body["bonusLifetimeDays"]; ok && string(raw) != "null" {
		n, err := strconv.Atoi(string(raw))
		if err != nil {
			s.invalid(w, notInt(string(raw), "body", "bonusLifetimeDays"))
			return
		}
		a.bonusLifetimeDays = n
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
