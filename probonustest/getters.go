package probonustest

import (
	"sort"
	"time"
)

// What the server applied, for a test to read back after the code under test ran.

// Balance returns an account's bonus balance, e.g. "650.00"; "" when there is no such account.
func (s *Server) Balance(accountID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.accounts[accountID]
	if a == nil {
		return ""
	}
	return a.balance().decimal().StringFixed(2)
}

// TransactionCount returns how many transactions of a type ("refill", "check_accrual", …; "" for
// any) an account has.
func (s *Server) TransactionCount(accountID int64, typ string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.st.txs {
		if t.accountID == accountID && (typ == "" || t.typ == typ) {
			n++
		}
	}
	return n
}

// Transaction is one entry of an account's history, as the server applied it.
type Transaction struct {
	ID          int64
	AccountID   int64
	Datetime    time.Time // in the server's location (WithLocation)
	Type        string    // "refill" (a refill or a template's welcome bonus), "check_payment", "check_accrual"
	Sum         string    // signed, with two decimals: "50.00", "-200.00"
	Reason      string
	CheckID     int64 // zero unless the transaction belongs to a check
	CheckNumber int
}

func (t *transaction) export(loc *time.Location) Transaction {
	return Transaction{ID: t.id, AccountID: t.accountID, Datetime: t.at.In(loc), Type: t.typ, Sum: t.sum.decimal().StringFixed(2),
		Reason: t.reason, CheckID: t.checkID, CheckNumber: t.checkNumber}
}

// Transactions returns an account's transactions in the order they happened, oldest first (the
// wire's last-N answer is newest first); nil when there are none or there is no such account.
func (s *Server) Transactions(accountID int64) []Transaction {
	return s.history(accountID, func(*transaction) bool { return true })
}

// Refills returns the credits applied through POST PathRefill to an account, oldest first: what a
// test counts to prove a credit was applied exactly once, whatever answer the client saw. A
// template's welcome bonus and a seeded starting balance are not among them.
func (s *Server) Refills(accountID int64) []Transaction {
	return s.history(accountID, func(t *transaction) bool { return t.byRefill })
}

func (s *Server) history(accountID int64, keep func(*transaction) bool) []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	txs := s.st.transactions(accountID)
	var out []Transaction
	for i := len(txs) - 1; i >= 0; i-- {
		if keep(txs[i]) {
			out = append(out, txs[i].export(s.loc))
		}
	}
	return out
}

// Checks returns an account's checks in the order they happened, oldest first, with their ID and
// Datetime filled in; nil when there are none or there is no such account.
func (s *Server) Checks(accountID int64) []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Check
	for _, c := range s.st.checks {
		if c.AccountID == accountID {
			cp := c.Check
			cp.Datetime = cp.Datetime.In(s.loc)
			cp.Dishes = append([]Dish(nil), cp.Dishes...)
			out = append(out, cp)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Datetime.Equal(out[j].Datetime) {
			return out[i].Datetime.Before(out[j].Datetime)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
