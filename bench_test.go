package probonus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/benchserver"
)

// The benchmarks compare the SDK with what a user would hand-write with net/http and
// encoding/json (floats for money, strings for times), against the same local server, in the
// same run: each has an /sdk and a /raw half, and `make bench` prints their ratios. `make bench`
// runs the rounds in separate processes and alternates which half goes first (-bench.rawfirst),
// so that a slow moment of a shared machine does not always fall on the same half.

var rawFirst = flag.Bool("bench.rawfirst", false, "run each benchmark's raw half before its sdk half")

// benchURLEnv names a server already running (internal/benchserver in another process): `make
// bench-instr` sets it so that valgrind counts the client's instructions, not the server's.
const benchURLEnv = "PROBONUS_BENCH_URL"

// benchServer returns the base URL of a server answering from memory (the same for both halves),
// and a client whose pool keeps a connection per goroutine of BenchmarkParallel32.
func benchServer(b *testing.B) (string, *http.Client) {
	b.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	b.Cleanup(transport.CloseIdleConnections)
	hc := &http.Client{Transport: transport}
	if base := os.Getenv(benchURLEnv); base != "" {
		return base, hc
	}
	h, err := benchserver.Handler("testdata")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL, hc
}

func benchClient(b *testing.B, base string, hc *http.Client, opts ...probonus.Option) *probonus.Client {
	b.Helper()
	c, err := probonus.New(append([]probonus.Option{probonus.WithBaseURL(base), probonus.WithAPIKey("bench-key"),
		probonus.WithHTTPClient(hc)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// halves runs two sub-benchmarks in the order -bench.rawfirst asks for: the SDK's and the
// hand-written baseline's (or, for BenchmarkObserver, without and with an observer).
func halves(b *testing.B, first string, f1 func(*testing.B), second string, f2 func(*testing.B)) {
	if *rawFirst {
		first, f1, second, f2 = second, f2, first, f1
	}
	b.Run(first, f1)
	b.Run(second, f2)
}

// rawAccount is the struct a user writes by hand: floats for money, strings for times.
type rawAccount struct {
	ID              int64    `json:"id"`
	GroupID         int64    `json:"groupId"`
	GroupName       string   `json:"groupName"`
	Phone           string   `json:"phone"`
	Phones          []string `json:"phones"`
	Email           string   `json:"email"`
	FirstName       string   `json:"firstName"`
	LastName        string   `json:"lastName"`
	MiddleName      string   `json:"middleName"`
	Gender          string   `json:"gender"`
	BirthDate       string   `json:"birthDate"`
	CreatedAt       string   `json:"createdAt"`
	IsBlocked       bool     `json:"isBlocked"`
	Balance         float64  `json:"balance"`
	DiscountPercent float64  `json:"discountPercent"`
	Level           *struct {
		ID              int64   `json:"id"`
		Name            string  `json:"name"`
		DiscountPercent float64 `json:"discountPercent"`
		BonusPercent    float64 `json:"bonusPercent"`
	} `json:"level"`
	Coupons []struct {
		ID           int64   `json:"id"`
		Name         string  `json:"name"`
		DishCode     any     `json:"dishCode"`
		DiscountCode any     `json:"discountCode"`
		Quantity     int     `json:"quantity"`
		ValidUntil   *string `json:"validUntil"`
	} `json:"coupons"`
	Identifiers            []rawIdentifier `json:"identifiers"`
	Tags                   []string        `json:"tags"`
	SpentSumDay            float64         `json:"spentSumDay"`
	SpentSumDiscountPeriod float64         `json:"spentSumDiscountPeriod"`
	Info                   string          `json:"info"`
	ScreenMessage          string          `json:"screenMessage"`
	PrintMessage           string          `json:"printMessage"`
}

type rawIdentifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type rawTransaction struct {
	ID             int64   `json:"id"`
	Datetime       string  `json:"datetime"`
	Type           string  `json:"type"`
	Sum            float64 `json:"sum"`
	Reason         string  `json:"reason"`
	CheckID        int64   `json:"checkId"`
	CheckNumber    any     `json:"checkNumber"`
	RestaurantCode any     `json:"restaurantCode"`
	RestaurantName string  `json:"restaurantName"`
	CashDesk       any     `json:"cashDesk"`
	IdentifierType string  `json:"identifierType"`
	Identifier     string  `json:"identifier"`
}

type rawNewAccount struct {
	AccountID   int64           `json:"accountId"`
	Phone       string          `json:"phone"`
	FirstName   string          `json:"firstName,omitempty"`
	LastName    string          `json:"lastName,omitempty"`
	Gender      string          `json:"gender,omitempty"`
	BirthDate   string          `json:"birthDate,omitempty"`
	Email       string          `json:"email,omitempty"`
	Identifiers []rawIdentifier `json:"identifiers,omitempty"`
}

type rawRefill struct {
	AccountID int64   `json:"accountId"`
	Amount    float64 `json:"amount"`
	Reason    string  `json:"reason,omitempty"`
	BurnDate  string  `json:"burnDate,omitempty"`
}

type rawRefillResult struct {
	TransactionID int64   `json:"transactionId"`
	Balance       float64 `json:"balance"`
}

// rawGet is the hand-written read: build, send with the key, check the status, decode.
func rawGet(ctx context.Context, hc *http.Client, base, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", "bench-key")
	req.Header.Set("Accept", "application/json")
	return rawDo(hc, req, out)
}

// rawPost is the hand-written write: encode, send with the key and a content type, check, decode.
func rawPost(ctx context.Context, hc *http.Client, base, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", "bench-key")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	return rawDo(hc, req, out)
}

func rawDo(hc *http.Client, req *http.Request, out any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func benchFindByPhone(b *testing.B, ctx context.Context, opts ...probonus.Option) {
	base, hc := benchServer(b)
	halves(b, "sdk", func(b *testing.B) {
		c := benchClient(b, base, hc, opts...)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Accounts.FindByPhone(ctx, "79991234567"); err != nil {
				b.Fatal(err)
			}
		}
	}, "raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a rawAccount
			if err := rawGet(ctx, hc, base, benchserver.FindByPhonePath, url.Values{"phone": {"79991234567"}}, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFindByPhone(b *testing.B) { benchFindByPhone(b, context.Background()) }

// BenchmarkFindByPhoneDeadline calls with a context that ends before the attempt timeout would,
// as a request handler's context often does: the SDK then needs no timer of its own. The attempt
// timeout is an hour so that the context's half hour outlasts any -benchtime.
func BenchmarkFindByPhoneDeadline(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	benchFindByPhone(b, ctx, probonus.WithTimeout(time.Hour))
}

func BenchmarkLastTransactions1000(b *testing.B) {
	base, hc := benchServer(b)
	ctx := context.Background()
	halves(b, "sdk", func(b *testing.B) {
		c := benchClient(b, base, hc)
		b.ReportAllocs()
		for b.Loop() {
			txs, err := c.Accounts.LastTransactions(ctx, 1042, benchserver.Transactions)
			if err != nil || len(txs) != benchserver.Transactions {
				b.Fatal(err, len(txs))
			}
		}
	}, "raw", func(b *testing.B) {
		b.ReportAllocs()
		q := url.Values{"accountId": {"1042"}, "count": {"1000"}}
		for b.Loop() {
			var txs []rawTransaction
			if err := rawGet(ctx, hc, base, benchserver.TransactionsPath, q, &txs); err != nil || len(txs) != benchserver.Transactions {
				b.Fatal(err, len(txs))
			}
		}
	})
}

// BenchmarkParallel32 runs 32 goroutines (16 per GOMAXPROCS on the 2-core reference machine)
// through one Client, and through one raw *http.Client.
func BenchmarkParallel32(b *testing.B) {
	base, hc := benchServer(b)
	ctx := context.Background()
	parallelism := max(1, 32/runtime.GOMAXPROCS(0))
	halves(b, "sdk", func(b *testing.B) {
		c := benchClient(b, base, hc)
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Accounts.FindByPhone(ctx, "79991234567"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}, "raw", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				var a rawAccount
				if err := rawGet(ctx, hc, base, benchserver.FindByPhonePath, url.Values{"phone": {"79991234567"}}, &a); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkInsertByTemplate(b *testing.B) {
	base, hc := benchServer(b)
	ctx := context.Background()
	halves(b, "sdk", func(b *testing.B) {
		c := benchClient(b, base, hc)
		female := probonus.GenderFemale
		in := probonus.NewAccount{GroupID: 3, Phone: "79991234567", FirstName: probonus.Ptr("Анна"),
			LastName: probonus.Ptr("Иванова"), Gender: &female, BirthDate: &probonus.Date{Year: 1990, Month: time.May, Day: 17},
			Email: probonus.Ptr("anna@example.com"), Identifiers: []probonus.Identifier{{Type: probonus.IdentifierCard, Value: "7001002003"}}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Accounts.InsertByTemplate(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	}, "raw", func(b *testing.B) {
		in := rawNewAccount{AccountID: 3, Phone: "79991234567", FirstName: "Анна", LastName: "Иванова", Gender: "female",
			BirthDate: "1990-05-17", Email: "anna@example.com", Identifiers: []rawIdentifier{{"card", "7001002003"}}}
		b.ReportAllocs()
		for b.Loop() {
			var a rawAccount
			if err := rawPost(ctx, hc, base, benchserver.InsertByTemplatePath, &in, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRefill(b *testing.B) {
	base, hc := benchServer(b)
	ctx := context.Background()
	halves(b, "sdk", func(b *testing.B) {
		c := benchClient(b, base, hc)
		in := probonus.Refill{AccountID: 1042, Amount: probonus.MustAmount("100.5"), Reason: probonus.Ptr("Отзыв в приложении"),
			BurnDate: &probonus.Date{Year: 2027, Month: time.January, Day: 31}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Accounts.Refill(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	}, "raw", func(b *testing.B) {
		in := rawRefill{AccountID: 1042, Amount: 100.5, Reason: "Отзыв в приложении", BurnDate: "2027-01-31"}
		b.ReportAllocs()
		for b.Loop() {
			var r rawRefillResult
			if err := rawPost(ctx, hc, base, benchserver.RefillPath, &in, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// noopObserver is the cheapest Observer there is: what an observer costs the request path
// beyond itself.
type noopObserver struct{}

func (noopObserver) CallStart(ctx context.Context, _ *probonus.Call) context.Context { return ctx }
func (noopObserver) CallEnd(context.Context, *probonus.Call)                         {}
func (noopObserver) AttemptStart(ctx context.Context, _ *probonus.Attempt) context.Context {
	return ctx
}
func (noopObserver) AttemptEnd(context.Context, *probonus.Attempt) {}

// BenchmarkObserver is FindByPhone without an observer (the /none half: what every call without
// WithObserver costs, the same code as BenchmarkFindByPhone/sdk) and with one no-op observer.
func BenchmarkObserver(b *testing.B) {
	base, hc := benchServer(b)
	ctx := context.Background()
	run := func(opts ...probonus.Option) func(*testing.B) {
		return func(b *testing.B) {
			c := benchClient(b, base, hc, opts...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Accounts.FindByPhone(ctx, "79991234567"); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	halves(b, "none", run(), "noop", run(probonus.WithObserver(noopObserver{})))
}

// BenchmarkNormalizePhone measures phone normalisation alone, for the common already-normal case
// and a formatted one.
func BenchmarkNormalizePhone(b *testing.B) {
	for _, p := range []string{"79991234567", "+7 (999) 123-45-67"} {
		b.Run(strings.NewReplacer(" ", "", "(", "", ")", "", "-", "").Replace(p), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := probonus.NormalizePhone(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
