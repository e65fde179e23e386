package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// TestFindParse: the phone is taken as given; the run normalises it with the client's region.
func TestFindParse(t *testing.T) {
	t.Parallel()
	o, err := parseCmd(t, newFindCmd, nil, guestPhone, "--json")
	require.NoError(t, err)
	assert.Equal(t, findOptions{phone: guestPhone}, o)
}

// TestRunFind runs find without flags: a guest by a phone as people write it, an invalid phone
// refused before anything is sent, and a 404 with what to do.
func TestRunFind(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	s, stdout, _ := testSession(t, srv)
	require.NoError(t, runFind(context.Background(), s, findOptions{phone: "8 916 123 45 67"}))
	assert.Regexp(t, `account\s+`+fmt.Sprint(f.account)+`\n`, stdout.String())
	assert.Contains(t, stdout.String(), "Иван Сергеевич Петров")

	err := runFind(context.Background(), s, findOptions{phone: "12"})
	assert.Equal(t, exitUsage, exitCode(err), "%v", err)
	err = runFind(context.Background(), s, findOptions{phone: "+7 999 000-00-00"})
	assert.Equal(t, exitNotFound, exitCode(err))
	assert.ErrorContains(t, err, "no guest with phone 79990000000")
	assert.ErrorContains(t, err, "probonus signup 79990000000 --group ID")
}
