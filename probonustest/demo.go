package probonustest

import "time"

// Phones of the demo data that WithDemoData adds.
const (
	// DemoPhone is the returning guest: an account with a visit, bonuses paid and earned, and a
	// deferred accrual.
	DemoPhone = "+7 916 111-22-33"
	// DemoNewPhone is a guest who is not signed up yet, for trying sign-up.
	DemoNewPhone = "+7 (999) 123-45-67"
)

// Demo is what SeedDemo added.
type Demo struct {
	AccountID int64   // the returning guest (DemoPhone)
	CheckIDs  []int64 // the guest's checks, oldest first
}

// WithDemoData gives the server a returning guest (DemoPhone) in the template group 3 with 300
// bonuses (burning in a month) and two visits to a bakery: a check 26 hours ago with three dishes,
// 200 bonuses paid and 42.35 earned, and a check 2 hours ago whose 15.00 accrual is deferred two
// weeks. Dates are relative to the start (and to Reset), so the data looks the same whenever it is
// seeded: a demo or a command-line tool shows a realistic guest without any setup.
func WithDemoData() Option { return func(s *Server) { s.demo = true } }

// SeedDemo adds WithDemoData's guest to a running server and returns its ids.
//
// Deprecated: Use WithDemoData. The guest is found by DemoPhone, its checks by Server.Checks.
func SeedDemo(s *Server) Demo { return s.seedDemo() }

// seedDemo adds the demo data now, and again at each Reset.
func (s *Server) seedDemo() Demo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.demo = true
	return s.st.addDemo(s.now())
}

// addDemo adds the demo data to a state: the server's at the start, or a fresh one at Reset.
func (st *state) addDemo(now time.Time) Demo {
	must := func(id int64, err error) int64 {
		if err != nil {
			panic("probonustest: SeedDemo: " + err.Error())
		}
		return id
	}
	acc, err := st.addAccount(Account{GroupID: 3, Phone: DemoPhone, FirstName: "Пётр", LastName: "Смирнов",
		Balance: "300", BurnDate: now.AddDate(0, 1, 0).Format(time.DateOnly), CreatedAt: now.AddDate(0, 0, -30)}, now)
	id := must(idOf(acc, err))
	first := must(checkIDOf(st.addCheck(Check{AccountID: id, Number: 1207, Datetime: now.Add(-26 * time.Hour),
		RestaurantCode: 12, RestaurantName: "Пекарня на Невском", CashDesk: 3, BonusPaid: "200", BonusAccrued: "42.35",
		Dishes: []Dish{
			{Code: 1024, Name: "Круассан с миндалём", Quantity: "2", Price: "245", DiscountSum: "24.50"},
			{Code: 2048, Name: "Капучино", Quantity: "1", Price: "290", DiscountSum: "14.50"},
			{Code: 3001, Name: "Суп дня, полпорции", Quantity: "0.5", Price: "534"},
		}}, now)))
	second := must(checkIDOf(st.addCheck(Check{AccountID: id, Number: 1311, Datetime: now.Add(-2 * time.Hour),
		RestaurantCode: 12, RestaurantName: "Пекарня на Невском", CashDesk: 1, BonusAccrued: "15.00",
		AccrueOn: now.AddDate(0, 0, 14).Format(time.DateOnly),
		Dishes:   []Dish{{Code: 2048, Name: "Капучино", Quantity: "1", Price: "300"}}}, now)))
	return Demo{AccountID: id, CheckIDs: []int64{first, second}}
}

func idOf(a *account, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return a.ID, nil
}

func checkIDOf(c *check, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return c.ID, nil
}
