package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBearerRefreshesInTheLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	out := &lockedWriter{w: &buf} // a background refresh may still be logging when run returns
	code := run([]string{"-for", "4500ms", "-every", "250ms"}, func(string) string { return "" }, out)
	out.mu.Lock()
	log := buf.String()
	out.mu.Unlock()
	require.Equal(t, 0, code, log)
	assert.Equal(t, 1, strings.Count(log, "path=/api/v0/auth/login"), log)
	assert.GreaterOrEqual(t, strings.Count(log, "path=/api/v0/auth/refresh_token"), 2, log)
	assert.Contains(t, log, "listed 2 account groups")
	assert.Regexp(t, regexp.MustCompile(`the server saw 1 login and [2-9] token refreshes`), log)
	assert.NotContains(t, log, "probonustest-password")
	assert.NotContains(t, log, "probonustest-refresh-")
	assert.NotContains(t, log, "eyJ", "no token in the log")
}
