package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestForms: every way of writing a secret that a server or a program after it uses is among the
// forms, and the secret itself comes first.
func TestForms(t *testing.T) {
	t.Parallel()
	const s = `pbk/ж&"1+2`
	forms := Forms(s, 1)
	assert.Equal(t, s, forms[0])
	for _, want := range []string{
		`pbk%2F%D0%B6%26%221%2B2`, `pbk%2f%d0%b6%26%221%2b2`, // a query, both hex cases
		`pbk/ж&amp;&#34;1+2`, `pbk/ж&amp;&quot;1+2`, `pbk/ж&amp;"1+2`, // Go's, Python's and element text's HTML
		`pbk/ж&\"1+2`, `pbk/ж\u0026\"1+2`, `pbk/\u0436&\"1+2`, // JSON: plain, Go's HTML-safe, Python's ASCII
		`pbk\/ж&\"1+2`, // PHP's
	} {
		assert.Contains(t, forms, want)
	}
	assert.Contains(t, Forms("пароль", 1), `\u043F\u0430\u0440\u043E\u043B\u044C`, "upper-case escapes (Java, .NET)")
	assert.Contains(t, Forms(`a"b`, 3), `a\\\"b`, "JSON inside JSON")
	assert.NotContains(t, Forms(`a"b`, 1), `a\\\"b`, "one layer only")
}
