package benchserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	h, err := Handler("../../testdata")
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, check := range map[string]func(any) bool{
		FindByPhonePath:      func(v any) bool { return v.(map[string]any)["id"] == 1042.0 },
		InsertByTemplatePath: func(v any) bool { return v.(map[string]any)["id"] == 1043.0 },
		RefillPath:           func(v any) bool { return v.(map[string]any)["transactionId"] == 88017.0 },
		TransactionsPath:     func(v any) bool { return len(v.([]any)) == Transactions },
	} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(`{"a":1}`))
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), path)
		var v any
		require.NoError(t, json.Unmarshal(body, &v), path)
		assert.True(t, check(v), path)
	}
	resp, err := http.Get(srv.URL + "/api/v0/unknown")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	_, err = Handler("no such folder")
	assert.Error(t, err)
}

func TestTransactionsBody(t *testing.T) {
	t.Parallel()
	b, err := TransactionsBody()
	require.NoError(t, err)
	var txs []struct {
		ID       int64       `json:"id"`
		Datetime string      `json:"datetime"`
		Sum      json.Number `json:"sum"`
	}
	require.NoError(t, json.Unmarshal(b, &txs))
	require.Len(t, txs, Transactions)
	assert.Equal(t, int64(90000), txs[0].ID)
	assert.Equal(t, "2026-11-01T12:00:00", txs[0].Datetime, "the server's wall clock, no offset")
	assert.Equal(t, json.Number("1.01"), txs[1].Sum, "kopecks, as a number")
}
