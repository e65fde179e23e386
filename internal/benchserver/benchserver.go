// Package benchserver serves the fixed answers the root package's benchmarks ask for: a recorded
// account, 1000 transactions, a created account and a refill. The benchmarks run it in their own
// process (httptest) for `make bench`; `make bench-instr` runs it in a process of its own, so that
// valgrind counts the client's instructions only.
package benchserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	"github.com/probonus-go/probonus/internal/fixture"
)

// Paths the handler answers, below the server's root.
const (
	FindByPhonePath      = "/api/v0/accounts/find_by_phone"
	TransactionsPath     = "/api/v0/accounts/transactions"
	InsertByTemplatePath = "/api/v0/accounts/insert_by_template"
	RefillPath           = "/api/v0/accounts/refill"
)

// Transactions is how many transactions TransactionsPath returns.
const Transactions = 1000

// Handler serves the benchmarks' answers from memory, read once from the fixtures in testdata (the
// root package's testdata folder), so the server costs the same for the SDK and the raw call.
func Handler(testdata string) (http.Handler, error) {
	bodies := map[string][]byte{}
	for path, file := range map[string]string{
		FindByPhonePath:      "accounts/find_by_phone.http",
		InsertByTemplatePath: "accounts/insert_by_template.http",
		RefillPath:           "accounts/refill.http",
	} {
		r, err := fixture.Load(filepath.Join(testdata, file))
		if err != nil {
			return nil, err
		}
		bodies[path] = r.Body
	}
	txs, err := TransactionsBody()
	if err != nil {
		return nil, err
	}
	bodies[TransactionsPath] = txs
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		// A write's body is read, as a real server would, before it answers.
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}), nil
}

// TransactionsBody is the JSON list of Transactions transactions, newest first, in the server's
// own forms: wall-clock timestamps without an offset, sums as JSON numbers with kopecks.
func TransactionsBody() ([]byte, error) {
	txs := make([]map[string]any, Transactions)
	start := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for i := range txs {
		txs[i] = map[string]any{"id": 90000 - i, "datetime": start.Add(-time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05"),
			"type": "check_accrual", "sum": json.Number(fmt.Sprintf("%d.%02d", i%500, i%100)), "reason": nil, "checkId": 5000 + i,
			"checkNumber": 1000 + i, "restaurantCode": 12, "restaurantName": "Пекарня на Невском", "cashDesk": 3,
			"identifierType": "phone", "identifier": "79991234567"}
	}
	return json.Marshal(txs)
}
