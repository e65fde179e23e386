package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue 27: the example runs with no set-up and shows the credit surviving the outage, once.
func TestExampleRuns(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	assert.Regexp(t, regexp.MustCompile(`(?s)ProBonus is down.*duplicate: true.*attempt 1 failed \(503: true\), River will retry.*ProBonus is back.*`+
		`credit completed after \d+ attempts; balance 50.00; credits applied: 1\nstuck credits: 0\n$`), out.String())
}
