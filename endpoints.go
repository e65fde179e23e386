package probonus

import (
	"net/http"
	"reflect"
	"strconv"

	"github.com/probonus-go/probonus/internal/apimodel"
)

// opDo is the operation name of Client.Do's calls.
const opDo = "Do"

// endpoint is one operation's name (as observers see it), method and path.
type endpoint struct{ op, method, path string }

// shape is what an endpoint sends and reads: the query parameters (each always sent), the request
// body's type (nil: none) and the answer's. methodSeen says that public material shows the method,
// not only the path (every path is seen: see the wire model).
type shape struct {
	query      []param
	body       reflect.Type
	answer     reflect.Type
	methodSeen bool
}

// param is a query parameter an endpoint always sends, with its type as OpenAPI names it:
// "integer", "string" or "date-time" (wall-clock time in the client's location, no offset).
type param struct{ key, typ string }

// described is one row of the table: an endpoint and its shape.
type described struct {
	endpoint
	shape
}

// endpoints is the table, in the order of the rows below. The SDK's model of the API (OpenAPI,
// openapi.json), which doctor compares with a server's own document, is derived from it and the
// types' JSON tags.
var endpoints []described

// describe adds a row to the table and returns its endpoint.
func describe(op, method, path string, s shape) endpoint {
	e := endpoint{op, method, path}
	endpoints = append(endpoints, described{e, s})
	if method == http.MethodGet && s.answer != nil {
		apimodel.Register(path, s.answer) // the CLI's doctor reads the same table
	}
	return e
}

// typeOf is the reflect.Type of T, for the table.
func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Every endpoint the SDK calls stands in this table, so a difference found on a real server is a
// one-line change.
var (
	epLogin = describe("Auth.Login", http.MethodPost, "/api/v0/auth/login",
		shape{body: typeOf[loginRequest](), answer: typeOf[tokenResponse](), methodSeen: true})
	epRefreshToken = describe("Auth.Refresh", http.MethodPost, "/api/v0/auth/refresh_token",
		shape{body: typeOf[refreshRequest](), answer: typeOf[tokenResponse]()})
	epAccountGroupsList = describe("AccountGroups.List", http.MethodGet, "/api/v0/account_groups/list",
		shape{answer: typeOf[[]AccountGroup]()})
	epInsertByTemplate = describe("Accounts.InsertByTemplate", http.MethodPost, "/api/v0/accounts/insert_by_template",
		shape{body: typeOf[NewAccount](), answer: typeOf[Account](), methodSeen: true})
	epFindByPhone = describe("Accounts.FindByPhone", http.MethodGet, "/api/v0/accounts/find_by_phone",
		shape{query: []param{{qPhone, "string"}}, answer: typeOf[Account]()})
	epRefill = describe("Accounts.Refill", http.MethodPost, "/api/v0/accounts/refill",
		shape{body: typeOf[Refill](), answer: typeOf[RefillResult]()})
	epTransactions = describe("Accounts.Transactions", http.MethodGet, "/api/v0/accounts/transactions",
		shape{query: []param{{qAccountID, "integer"}, {qDateFrom, "date-time"}, {qDateTo, "date-time"}}, answer: typeOf[[]Transaction]()})
	epLastTransactions = describe("Accounts.LastTransactions", http.MethodGet, "/api/v0/accounts/transactions",
		shape{query: []param{{qAccountID, "integer"}, {qCount, "integer"}}, answer: typeOf[[]Transaction]()})
	epUpdate = describe("Accounts.Update", http.MethodPost, "/api/v0/accounts/update",
		shape{body: typeOf[AccountUpdate](), answer: typeOf[Account]()})
	epBalanceExtended = describe("Accounts.BalanceExtended", http.MethodGet, "/api/v0/accounts/get_balance_extended",
		shape{query: []param{{qAccountID, "integer"}}, answer: typeOf[BalanceExtended]()})
	epCheckGetByID = describe("Checks.GetByID", http.MethodGet, "/api/v0/checks/get_by_id",
		shape{query: []param{{qCheckID, "integer"}}, answer: typeOf[Check]()})
)

// The query parameters of the endpoints above (inferred from the seed and the admin UI).
const (
	qPhone     = "phone"
	qAccountID = "accountId"
	qDateFrom  = "dateFrom"
	qDateTo    = "dateTo"
	qCount     = "count"
	qCheckID   = "checkId"
)

// loginRequest and refreshRequest are the bodies of a login and a refresh (seen: login and
// password; refreshToken is inferred), as auth.go sends them.
type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type refreshRequest struct {
	RefreshToken string `json:"refreshToken"`
}

// call is one logical request: what to send, before any attempt.
type call struct {
	endpoint
	query    string // encoded, without the "?"
	in       any
	noAuth   bool      // login and refresh carry their credentials in the body, and no header
	onSend   func()    // called as each attempt is handed to the transport (a token's lifetime starts there)
	secret   string    // a login's password or a refresh token: redacted from errors before anyone sees them
	fresh    bool      // an answer no cache may give: RefillOnce's looks in the history
	gate     writeGate // a write's last check before the transport: RefillOnce's lease
	template string    // Do's path as observers see it: "" or the caller's WithPathTemplate
	absentOK bool      // the method handles a 404 itself (FindOrInsert's finds): observers see Call.Handled
	// mayBeEmpty: an empty or null body is a success that leaves out unchanged (Do). A typed
	// method's answer must be an object or a list.
	mayBeEmpty bool
}

// idempotent reports whether the call may be sent again after an uncertain attempt. Login and
// refresh change no state a retry could double.
func (cl *call) idempotent() bool {
	switch cl.method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return cl.noAuth
}

// queryParam is one parameter of a typed method's query; an integer is written without a string
// of its own.
type queryParam struct {
	key, s string
	n      int64
	isInt  bool
}

func qStr(key, v string) queryParam { return queryParam{key: key, s: v} }

func qInt(key string, v int64) queryParam { return queryParam{key: key, n: v, isInt: true} }

// encodeQuery writes the parameters exactly as url.Values.Encode would, given in the order Encode
// sorts them (by key), in one allocation: no map, no sort, no string per value.
func encodeQuery(ps ...queryParam) string {
	var buf [128]byte
	b := buf[:0]
	for i, p := range ps {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendQueryEscape(b, p.key)
		b = append(b, '=')
		if p.isInt {
			b = strconv.AppendInt(b, p.n, 10)
		} else {
			b = appendQueryEscape(b, p.s)
		}
	}
	return string(b)
}

// appendQueryEscape appends s escaped as url.QueryEscape does: letters, digits and -_.~ as they
// are, a space as +, every other byte as %XX.
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
