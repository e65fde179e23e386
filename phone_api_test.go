package probonus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/probonus-go/probonus"
)

// From the round-3 review of issue 17.
// TestRound3ReviewPhoneCheckRefusesWhatTheParserRead
//
// Defect: issue 17 #17's strayCharacters refuses every rune outside a short list, not only letters
// and extension marks, so numbers the SDK read before (and libphonenumber reads as valid) are now
// refused: the first phone of a CSV file with a byte-order mark ("\ufeff+7 999 123-45-67"), a number
// typed with a full-width IME (the doc says full-width digits are read, but its parentheses and
// hyphen are refused), an ideographic space, "[999]", a soft hyphen pasted from a web page. The
// error then names an invisible character ("holds '\ufeff'").
// Reproduced: NormalizePhone on each; each is valid for phonenumbers.Parse(raw, "RU").
// Severity: correctness (a regression: sign-ups and look-ups that worked fail).
// Suggested fix: refuse only what marks an extension or another number (letters, '#', ',', ';',
// '*', a '+' after the start) and leave other punctuation, spaces (unicode.IsSpace, Zs) and format
// characters (Cf, stripped first) to the parser.
func TestRound3ReviewPhoneCheckRefusesWhatTheParserRead(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"\ufeff+7 999 123-45-67", "＋７（９９９）１２３－４５－６７", "+7\u3000999\u3000123\u300045\u300067",
		"+7 [999] 123-45-67", "+7 999 123 45 67\u00ad"} {
		n, err := probonus.NormalizePhone(p)
		if assert.NoError(t, err, "%q", p) {
			assert.Equal(t, "79991234567", n)
		}
	}
}
