package probonus_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

// TestTLSIsVerified: the default transport refuses a certificate it cannot verify.
func TestTLSIsVerified(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "[]") }))
	defer srv.Close()
	c, err := probonus.New(probonus.WithBaseURL(srv.URL), probonus.WithAPIKey("k"), probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.AccountGroups.List(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")

	trusted, err := probonus.New(probonus.WithBaseURL(srv.URL), probonus.WithAPIKey("k"), probonus.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = trusted.AccountGroups.List(context.Background())
	assert.NoError(t, err, "a client that trusts the test certificate works")
}

// TestNothingDisablesTLSVerification reads every non-test source file of the module.
func TestNothingDisablesTLSVerification(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		assert.NotContains(t, string(b), "InsecureSkipVerify", path)
		return nil
	})
	require.NoError(t, err)
}
