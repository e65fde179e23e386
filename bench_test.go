package probonus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/fixture"
)

// The benchmarks compare the SDK with what a user would hand-write with net/http and
// encoding/json, against the same local server, in the same run: each has an /sdk and a /raw
// half, and `make bench` prints their ratios.

// benchServer serves a recorded account and 1000 transactions from memory, so the server costs
// the same for both halves.
func benchServer(b *testing.B) (*httptest.Server, *http.Client) {
	b.Helper()
	acc, err := fixture.Load("testdata/accounts/find_by_phone.http")
	if err != nil {
		b.Fatal(err)
	}
	txs := make([]map[string]any, 1000)
	for i := range txs {
		txs[i] = map[string]any{"id": 90000 - i, "datetime": time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05"),
			"type": "check_accrual", "sum": json.Number(fmt.Sprintf("%d.%02d", i%500, i%100)), "reason": nil, "checkId": 5000 + i,
			"checkNumber": 1000 + i, "restaurantCode": 12, "restaurantName": "Пекарня на Невском", "cashDesk": 3,
			"identifierType": "phone", "identifier": "79991234567"}
	}
	txBody, err := json.Marshal(txs)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v0/accounts/find_by_phone":
			_, _ = w.Write(acc.Body)
		case "/api/v0/accounts/transactions":
			_, _ = w.Write(txBody)
		default:
			http.NotFound(w, r)
		}
	}))
	b.Cleanup(srv.Close)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	b.Cleanup(transport.CloseIdleConnections)
	return srv, &http.Client{Transport: transport}
}

func benchClient(b *testing.B, srv *httptest.Server, hc *http.Client) *probonus.Client {
	c, err := probonus.New(probonus.WithBaseURL(srv.URL), probonus.WithAPIKey("bench-key"), probonus.WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	return c
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
	Identifiers []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"identifiers"`
	Tags                   []string `json:"tags"`
	SpentSumDay            float64  `json:"spentSumDay"`
	SpentSumDiscountPeriod float64  `json:"spentSumDiscountPeriod"`
	Info                   string   `json:"info"`
	ScreenMessage          string   `json:"screenMessage"`
	PrintMessage           string   `json:"printMessage"`
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

// rawGet is the hand-written call: build, send with the key, check the status, decode.
func rawGet(ctx context.Context, hc *http.Client, base, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", "bench-key")
	req.Header.Set("Accept", "application/json")
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

func BenchmarkFindByPhone(b *testing.B) {
	srv, hc := benchServer(b)
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c := benchClient(b, srv, hc)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Accounts.FindByPhone(ctx, "79991234567"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a rawAccount
			if err := rawGet(ctx, hc, srv.URL, "/api/v0/accounts/find_by_phone", url.Values{"phone": {"79991234567"}}, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLastTransactions1000(b *testing.B) {
	srv, hc := benchServer(b)
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c := benchClient(b, srv, hc)
		b.ReportAllocs()
		for b.Loop() {
			txs, err := c.Accounts.LastTransactions(ctx, 1042, 1000)
			if err != nil || len(txs) != 1000 {
				b.Fatal(err, len(txs))
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var txs []rawTransaction
			if err := rawGet(ctx, hc, srv.URL, "/api/v0/accounts/transactions", url.Values{"accountId": {"1042"}, "count": {"1000"}}, &txs); err != nil || len(txs) != 1000 {
				b.Fatal(err, len(txs))
			}
		}
	})
}

// BenchmarkParallel32 runs 32 goroutines (16 per GOMAXPROCS on the 2-core reference machine)
// through one Client, and through one raw *http.Client.
func BenchmarkParallel32(b *testing.B) {
	srv, hc := benchServer(b)
	ctx := context.Background()
	parallelism := max(1, 32/runtime.GOMAXPROCS(0))
	b.Run("sdk", func(b *testing.B) {
		c := benchClient(b, srv, hc)
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
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				var a rawAccount
				if err := rawGet(ctx, hc, srv.URL, "/api/v0/accounts/find_by_phone", url.Values{"phone": {"79991234567"}}, &a); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
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
