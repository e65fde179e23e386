package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestGroupsParse: groups has no flags of its own.
func TestGroupsParse(t *testing.T) {
	t.Parallel()
	o, err := parseCmd(t, newGroupsCmd, nil)
	require.NoError(t, err)
	assert.Equal(t, groupsOptions{}, o)
	_, err = parseCmd(t, newGroupsCmd, nil, "--last", "5")
	assert.ErrorContains(t, err, "flag provided but not defined: -last")
}

// TestRunGroups runs groups without flags: the table with the template's group named, and JSON.
func TestRunGroups(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	s, stdout, _ := testSession(t, srv)
	require.NoError(t, runGroups(context.Background(), s, groupsOptions{}))
	assert.Contains(t, stdout.String(), "signup can create guests in group 3, the one with a template.")

	s, stdout, _ = testSession(t, srv)
	s.cfg.json = true
	require.NoError(t, runGroups(context.Background(), s, groupsOptions{}))
	var groups []map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout.String()), &groups))
	assert.Len(t, groups, 2)
}
