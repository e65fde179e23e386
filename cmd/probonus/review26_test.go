package main

// Review of issue 26's fixes to the CLI (adversarial; these tests FAIL on the branch as reviewed).
//
// Findings:
//   - item 1: the "rows account for every non-empty line" check counts a blank line inside a
//     quoted value (a reason with a paragraph break, Alt+Enter twice in Excel) as a line the rows
//     do not cover, so a valid file is refused as mis-quoted (TestReview26QuotedBlankLineIsRead).
//   - item 6: doctor --openapi URL with credentials in the environment and no base URL panics
//     (nil base URL in sameOrigin) when the document answers 401
//     (TestReview26DoctorOpenAPIWithoutBaseURL).
//   - doctor (beside item 6): "probonus doctor --openapi FILE --report doctor-report.md", the very
//     command the doctor's verdict tells a user to run, panics without a base URL (a nil recorder
//     in the report) (TestReview26DoctorOpenAPIFileReport).
//   - item 6: on a shared gateway, a document on the base URL's origin but outside its path prefix
//     gets the API key, and with a login the password is POSTed to the origin's root login route,
//     another application's; the SDK keeps credentials within origin and prefix (redirect.go
//     inScope) (TestReview26DoctorOpenAPIOutsideThePrefix).
//   - item 18: the dry run of a rerun says "Would credit 5.00 in all" for rows credited before,
//     the claim the confirmation's "up to" fixed (TestReview26DryRunOfARerunSaysUpTo).
//   - item 18: --json with --dry-run prints the human text, not JSON, so a script cannot read
//     what a run would credit (TestReview26DryRunJSON).
//   - item 18: Ctrl-C during a sign-up campaign's group check (before any row) exits 1, "an API
//     or network error", not 130 (TestReview26SignupInterruptedBeforeRowsExits130).
//   - item 5: --out - creates a file named "-" in the working directory instead of writing to
//     stdout or refusing (TestReview26OutDashIsNoFileNamedDash).
//   - item 4 (arguable): a cell starting with a full-width ＝ ＋ － ＠ is written as is; a
//     Japanese/Chinese-locale spreadsheet reads it as a formula (TestReview26FullWidthFormula).
//
// Held: a stray quote in the last line (BOM + CRLF + quoted newlines before it) refused naming its
// line; a bare quote refused; more or fewer fields than the header (the header's trailing empty
// column too) refused per row; 1.000, 1.000,00 and 1'000 refused in a semicolon file, 1 000 and
// 1 000,50 (NBSP) read; "1,000.00" refused in a comma file; quoted =… and @… neutralised in
// --out; --out as the file by path, hard link, symlink refused (case-insensitive paths not
// testable on Linux); Russian headers with NBSP, BOM, ё, upper case read; a Windows-1251 header
// gets the hint (a UTF-16 file gets it too, naming Windows-1251: misleading, left alone);
// doctor --openapi to another port, scheme (https→http), host or userinfo host gets no
// credentials, and redirects are not followed.

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// issue 26 item 4 (arguable: OWASP names the ASCII characters): a full-width equals, plus, minus
// or at sign at a cell's start (＝ U+FF1D, ＋ U+FF0B, － U+FF0D, ＠ U+FF20) is converted to its
// ASCII form by spreadsheets in CJK locales and run as a formula. Today written unchanged.
func TestReview26FullWidthFormula(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	var b strings.Builder
	b.WriteString("account,amount,reason\n")
	reasons := []string{"＝HYPERLINK(\"\"http://evil.example\"\")", "＋1+cmd", "－1+cmd", "＠SUM(1)"}
	for i, reason := range reasons {
		fmt.Fprintf(&b, "%d,%d,\"%s\"\n", f.account, i+1, reason)
	}
	path := writeCSV(t, "c.csv", b.String())
	out := filepath.Join(filepath.Dir(path), "results.csv")
	r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--out", out)
	require.Equal(t, exitOK, r.code, r.stderr)
	_, rows := readResults(t, out)
	for i := range reasons {
		v := rows[fmt.Sprint(i+2)]["reason"]
		assert.False(t, strings.ContainsRune("＝＋－＠", []rune(v)[0]), "line %d: %q starts a formula", i+2, v)
	}
}
