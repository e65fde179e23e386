package probonustest

import "time"

// The seed types: what a test gives AddGroup, AddAccount and AddCheck (and what a seed file's
// entries mean, see Seed).

// Group seeds an account group. A group with HaveTemplate receives accounts created by template,
// which start with WelcomeBonus (burning after BurnAfterDays, never when zero) at Level.
type Group struct {
	ID            int64 // zero: the next free id
	Name          string
	HaveTemplate  bool
	ParentID      int64
	WelcomeBonus  string // e.g. "500"
	BurnAfterDays int    // how long credited bonuses live; zero: they never burn
	Level         Level
}

// Level seeds a loyalty level.
type Level struct {
	ID              int64
	Name            string
	DiscountPercent string
	BonusPercent    string
}

// Account seeds a guest's account.
type Account struct {
	ID          int64  // zero: the next free id
	GroupID     int64  // required
	Phone       string // any usual form, "+7 (999) 123-45-67" or "89991234567"; 10 to 15 digits; empty: none
	FirstName   string
	LastName    string
	MiddleName  string
	Email       string
	Gender      string    // "male" or "female"
	BirthDate   string    // "YYYY-MM-DD"
	Balance     string    // a starting balance, e.g. "150.50": carried over from before the history, so no transaction
	BurnDate    string    // when the starting balance burns ("YYYY-MM-DD"); empty: never
	CreatedAt   time.Time // when the account was created; zero: now
	Blocked     bool
	Tags        []string
	Coupons     []Coupon
	Identifiers []Identifier
}

// Coupon seeds a coupon on an account.
type Coupon struct {
	Name         string
	DishCode     int
	DiscountCode int
	Quantity     int
	ValidUntil   time.Time // zero: no end
}

// Identifier seeds a card or other identifier.
type Identifier struct {
	Type  string // "card", "phone", "other"
	Value string
}

// Check seeds a guest's check. Its payment and accrual become transactions on the account; an
// accrual with AccrueOn set is deferred until that date.
type Check struct {
	ID             int64 // zero: the next free id
	AccountID      int64 // required
	Number         int
	Datetime       time.Time // zero: now
	RestaurantCode int
	RestaurantName string
	CashDesk       int
	Dishes         []Dish
	BonusPaid      string // bonuses spent on the check
	BonusAccrued   string // bonuses earned
	AccrueOn       string // "YYYY-MM-DD": the accrual is deferred until then
}

// Dish seeds a line of a check.
type Dish struct {
	Code        int
	Name        string
	Quantity    string // e.g. "2" or "0.5"
	Price       string
	DiscountSum string
}

// AddGroup seeds a group and returns its id.
func (s *Server) AddGroup(g Group) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.addGroup(g)
}

// AddAccount seeds an account and returns its id. It panics on a missing group, an invalid or
// taken phone, or a malformed balance: seeding is the test's own code, so a mistake there stops it.
func (s *Server) AddAccount(a Account) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc, err := s.st.addAccount(a, s.now())
	if err != nil {
		panic("probonustest: AddAccount: " + err.Error())
	}
	return acc.ID
}

// AddCheck seeds a check (with its payment and accrual transactions) and returns its id.
func (s *Server) AddCheck(c Check) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.st.addCheck(c, s.now())
	if err != nil {
		panic("probonustest: AddCheck: " + err.Error())
	}
	return ch.ID
}
