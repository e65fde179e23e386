package probonus

import (
	"net/http"
	"strconv"
)

// opDo is the operation name of Client.Do's calls.
const opDo = "Do"

// endpoint is one operation's name (as observers see it), method and path. Every path the SDK calls
// stands in this table, so a difference found on a real server is a one-line change.
type endpoint struct{ op, method, path string }

var (
	epLogin             = endpoint{"Auth.Login", http.MethodPost, "/api/v0/auth/login"}
	epRefreshToken      = endpoint{"Auth.Refresh", http.MethodPost, "/api/v0/auth/refresh_token"}
	epAccountGroupsList = endpoint{"AccountGroups.List", http.MethodGet, "/api/v0/account_groups/list"}
	epInsertByTemplate  = endpoint{"Accounts.InsertByTemplate", http.MethodPost, "/api/v0/accounts/insert_by_template"}
	epFindByPhone       = endpoint{"Accounts.FindByPhone", http.MethodGet, "/api/v0/accounts/find_by_phone"}
	epRefill            = endpoint{"Accounts.Refill", http.MethodPost, "/api/v0/accounts/refill"}
	epTransactions      = endpoint{"Accounts.Transactions", http.MethodGet, "/api/v0/accounts/transactions"}
	epLastTransactions  = endpoint{"Accounts.LastTransactions", http.MethodGet, "/api/v0/accounts/transactions"}
	epUpdate            = endpoint{"Accounts.Update", http.MethodPost, "/api/v0/accounts/update"}
	epBalanceExtended   = endpoint{"Accounts.BalanceExtended", http.MethodGet, "/api/v0/accounts/get_balance_extended"}
	epCheckGetByID      = endpoint{"Checks.GetByID", http.MethodGet, "/api/v0/checks/get_by_id"}
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

// call is one logical request: what to send, before any attempt.
type call struct {
	endpoint
	query    string // encoded, without the "?"
	in       any
	noAuth   bool   // login and refresh carry their credentials in the body, and no header
	onSend   func() // called as each attempt is handed to the transport (a token's lifetime starts there)
	secret   string // a login's password or a refresh token: redacted from errors before anyone sees them
	fresh    bool   // an answer no cache may give: RefillOnce's looks in the history
	template string // Do's path as observers see it: "" or the caller's WithPathTemplate
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
