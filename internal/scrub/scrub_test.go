package scrub

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A realistic account, history and token, as a real server would send them.
const account = `{"id":1042,"groupId":3,"groupName":"Самостоятельно зарегистрировавшиеся","phone":"79161234567",
"phones":["79161234567","79037654321"],"email":"ivan.petrov@mail.ru","firstName":"Иван","lastName":"Петров",
"middleName":"Сергеевич","birthDate":"1987-03-14","balance":150.5,
"identifiers":[{"type":"phone","value":"79161234567"},{"type":"card","value":"4276380012345678"},{"type":"other","value":"A7X-99812"}],
"screenMessage":"Иван Петров: поздравить с днём рождения 1987-03-14","info":"тел. 79037654321, ivan.petrov@mail.ru"}`

const history = `[{"id":1,"type":"check_accrual","sum":42.35,"identifierType":"phone","identifier":"79161234567","reason":"Бонус для Иван"},
{"id":2,"type":"check_payment","sum":-200,"identifierType":"card","identifier":4276380012345678,"reason":null}]`

const tokens = `{"accessToken":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcGkiLCJleHAiOjE3OTk5OTk5OTl9.c2lnbmF0dXJlLXJlYWw","refreshToken":"r3fr3sh-t0k3n-real-value","tokenType":"bearer"}`

var reals = []string{"79161234567", "79037654321", "ivan.petrov@mail.ru", "Иван", "Петров", "Сергеевич", "1987-03-14",
	"4276380012345678", "A7X-99812", "eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJlLXJlYWw", "r3fr3sh-t0k3n-real-value"}

func TestNoRealValueSurvives(t *testing.T) {
	t.Parallel()
	s := New([]byte("salt-1"))
	out := string(s.JSON([]byte(account))) + string(s.JSON([]byte(history))) + string(s.JSON([]byte(tokens)))
	for _, r := range reals {
		assert.NotContains(t, out, r)
	}
	assert.Contains(t, out, "Самостоятельно зарегистрировавшиеся", "what is not personal stays")
	assert.Contains(t, out, `"balance": 150.5`, "numbers keep their form")
}

func TestFakesAreConsistentAndKeepTheFormat(t *testing.T) {
	t.Parallel()
	s := New([]byte("salt-1"))
	var acc map[string]any
	require.NoError(t, json.Unmarshal(s.JSON([]byte(account)), &acc))
	var txs []map[string]any
	dec := json.NewDecoder(strings.NewReader(string(s.JSON([]byte(history)))))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&txs))
	var tok map[string]any
	require.NoError(t, json.Unmarshal(s.JSON([]byte(tokens)), &tok))

	phone := acc["phone"].(string)
	assert.Regexp(t, `^7916\d{7}$`, phone, "a phone keeps country and operator code")
	assert.Equal(t, phone, acc["phones"].([]any)[0])
	assert.Equal(t, phone, acc["identifiers"].([]any)[0].(map[string]any)["value"], "the same phone as an identifier")
	assert.Equal(t, phone, txs[0]["identifier"], "and in the history")
	card := acc["identifiers"].([]any)[1].(map[string]any)["value"].(string)
	assert.Regexp(t, `^4276\d{12}$`, card)
	assert.Equal(t, card, txs[1]["identifier"].(json.Number).String(), "a card as a number maps alike")
	assert.Regexp(t, `^[A-Z]\d[A-Z]-\d{5}$`, acc["identifiers"].([]any)[2].(map[string]any)["value"])
	assert.Regexp(t, `^user\d+@example\.com$`, acc["email"])
	assert.Regexp(t, `^1987-\d\d-\d\d$`, acc["birthDate"], "a birth date keeps its year")
	assert.Regexp(t, `^\p{Cyrillic}+\d+$`, acc["firstName"])
	assert.Contains(t, acc["screenMessage"], acc["firstName"].(string)+" "+acc["lastName"].(string), "names inside text get the same fakes")
	assert.Contains(t, acc["info"], acc["phones"].([]any)[1].(string))
	assert.Contains(t, txs[0]["reason"], acc["firstName"].(string))
	assert.Len(t, strings.Split(tok["accessToken"].(string), "."), 3, "a JWT keeps its shape")
	assert.Equal(t, "bearer", tok["tokenType"])

	again := New([]byte("salt-1"))
	assert.Equal(t, string(s.JSON([]byte(account))), string(again.JSON([]byte(account))), "repeatable with the same salt")
	other := New([]byte("salt-2"))
	assert.NotEqual(t, string(s.JSON([]byte(account))), string(other.JSON([]byte(account))))
}

func TestNonJSONAndOddValues(t *testing.T) {
	t.Parallel()
	s := New(nil)
	s.JSON([]byte(`{"phone":"79161234567","birthDate":"not a date","firstName":"","email":null,"phones":[null,5]}`))
	assert.Equal(t, "<html>"+s.fakes["79161234567"]+"</html>", string(s.JSON([]byte("<html>79161234567</html>"))))
	assert.Regexp(t, regexp.MustCompile(`^\d{4}-\d\d-\d\d$`), s.fakes["not a date"])
}

// TestAFakeIsNeverTheRealValue tries many salts: a fake day or digit string must never come out
// equal to the real one (found as a one-in-365 flake of the recorder's test).
func TestAFakeIsNeverTheRealValue(t *testing.T) {
	t.Parallel()
	for i := range 2000 {
		s := New([]byte{byte(i), byte(i >> 8)})
		assert.NotEqual(t, "1987-03-14", s.fake("1987-03-14", kindDate))
		assert.NotEqual(t, "79161234567", s.fake("79161234567", kindPhone))
		assert.NotEqual(t, "12", s.fake("12", kindIdentifier))
	}
}
