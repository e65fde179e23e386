package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunPrintsTheCallAndBothAttempts(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, false))

	type span struct {
		Name        string
		SpanContext struct{ SpanID string }
		Parent      struct{ SpanID string }
		Attributes  []struct {
			Key   string
			Value struct{ Value any }
		}
	}
	var spans []span
	var comments []string
	for line := range strings.Lines(out.String()) {
		if strings.HasPrefix(line, "#") {
			comments = append(comments, line)
			continue
		}
		var s span
		require.NoError(t, json.Unmarshal([]byte(line), &s), line)
		spans = append(spans, s)
	}
	require.Len(t, spans, 3, out.String())
	// A span is printed when it ends: the attempts first, then the call.
	assert.Equal(t, "GET /api/v0/account_groups/list", spans[0].Name)
	assert.Equal(t, "GET /api/v0/account_groups/list", spans[1].Name)
	assert.Equal(t, "probonus AccountGroups.List", spans[2].Name)
	for _, s := range spans[:2] {
		assert.Equal(t, spans[2].SpanContext.SpanID, s.Parent.SpanID)
	}
	retry := map[string]any{}
	for _, a := range spans[1].Attributes {
		retry[a.Key] = a.Value.Value
	}
	assert.Equal(t, true, retry["probonus.retry"])
	assert.EqualValues(t, 1, retry["http.request.resend_count"])
	assert.EqualValues(t, 200, retry["http.response.status_code"])

	require.Len(t, comments, 3)
	for i, c := range comments[:2] {
		assert.Contains(t, c, spans[i].SpanContext.SpanID, "the server got attempt %d's traceparent", i+1)
	}
	assert.Contains(t, comments[2], "2 account groups, after 2 requests")
}
