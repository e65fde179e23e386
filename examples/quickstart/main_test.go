package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

func TestQuickstartEmbedded(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(nil, func(string) string { return "" }, &out)
	require.Equal(t, 0, code, out.String())
	for _, line := range []string{
		"using an embedded probonustest server",
		`new guests go to 3 "Самостоятельно зарегистрировавшиеся"`,
		"is not a guest yet: created account",
		"balance 500.00 (the template's welcome bonus)",
		"credited 50.00 for a review in the app",
		"balance now 550.00",
		"last check #1207 at Пекарня на Невском",
		"Суп дня, полпорции         0.5 ×   534.00 =   267.00",
		"8. balance 142.35, awaiting issue 15.00",
	} {
		assert.Contains(t, out.String(), line)
	}
}

// TestQuickstartAgainstAServerChangesNothingWithoutWrite points the example at a server through the
// environment, as a user would point it at theirs.
func TestQuickstartAgainstAServerChangesNothingWithoutWrite(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithDemoData())
	env := map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey()}
	var out bytes.Buffer
	require.Equal(t, 0, run(nil, func(k string) string { return env[k] }, &out), out.String())
	assert.Contains(t, out.String(), "read-only (pass -write to let it change data)")
	assert.Contains(t, out.String(), "is not a guest; run with -write to sign them up")
	for _, r := range srv.Requests() {
		assert.Equal(t, "GET", r.Method, "%s %s", r.Method, r.Path)
	}

	out.Reset()
	require.Equal(t, 0, run([]string{"-write"}, func(k string) string { return env[k] }, &out), out.String())
	assert.Contains(t, out.String(), "created account")
	assert.Equal(t, 1, srv.Count("POST", probonustest.PathRefill))
}

func TestQuickstartNeedsCredentialsForARealServer(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(nil, func(k string) string { return map[string]string{"PROBONUS_BASE_URL": "http://127.0.0.1:1"}[k] }, &out)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "set PROBONUS_API_KEY")
	assert.Empty(t, strings.TrimPrefix(out.String(), "error: probonus: FromEnv: set PROBONUS_API_KEY, or PROBONUS_LOGIN and PROBONUS_PASSWORD\n"),
		"nothing else is said before the error")
}

// TestExamplesImportOnlyPublicPackages keeps every example copyable into a user's module: an
// internal package of this module cannot be imported from another.
func TestExamplesImportOnlyPublicPackages(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../*/*.go")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 10, "four examples, each with its test (the webhook's handler in a file of its own)")
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			assert.NotContains(t, path, "/internal", "%s imports %s", name, path)
			if strings.HasPrefix(path, "github.com/probonus-go/probonus") {
				assert.Contains(t, []string{"github.com/probonus-go/probonus", "github.com/probonus-go/probonus/probonustest"}, path, name)
			}
		}
	}
}
