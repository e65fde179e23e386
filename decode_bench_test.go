package probonus

import (
	"testing"

	"github.com/probonus-go/probonus/internal/benchserver"
	"github.com/probonus-go/probonus/internal/fixture"
)

// BenchmarkDecodeAnswers decodes the benchmarks' answers alone, by the generated decoders and by
// encoding/json (decode's unmarshal): what the generated ones save, without the HTTP around it.
func BenchmarkDecodeAnswers(b *testing.B) {
	f, err := fixture.Load("testdata/accounts/find_by_phone.http")
	if err != nil {
		b.Fatal(err)
	}
	txs, err := benchserver.TransactionsBody()
	if err != nil {
		b.Fatal(err)
	}
	for _, way := range []struct {
		name   string
		decode func([]byte, any) bool
	}{
		{"generated", fastDecode},
		{"encoding_json", func(b []byte, out any) bool { return unmarshal(b, out) == nil }},
	} {
		b.Run("Account/"+way.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var a Account
				if !way.decode(f.Body, &a) {
					b.Fatal("refused")
				}
			}
		})
		b.Run("Transactions1000/"+way.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v := make([]Transaction, 0, benchserver.Transactions)
				if !way.decode(txs, &v) || len(v) != benchserver.Transactions {
					b.Fatal("refused")
				}
			}
		})
	}
}
