package probonus_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	login, password := srv.Login()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" when the options must reach the server
	}{
		{"api key", map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey() + "\n"}, ""},
		{"login", map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_LOGIN": login, "PROBONUS_PASSWORD": password}, ""},
		{"blank login beside a key", map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey(), "PROBONUS_LOGIN": "  "}, ""},
		{"nothing", nil, "probonus: FromEnv: PROBONUS_BASE_URL is not set"},
		{"no credentials", map[string]string{"PROBONUS_BASE_URL": srv.URL()}, "set PROBONUS_API_KEY, or PROBONUS_LOGIN and PROBONUS_PASSWORD"},
		{"both modes", map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": "k-secret", "PROBONUS_LOGIN": login, "PROBONUS_PASSWORD": "p-secret"},
			"both PROBONUS_API_KEY and PROBONUS_LOGIN/PROBONUS_PASSWORD are set"},
		{"a key and a stray password", map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": "k-secret", "PROBONUS_PASSWORD": "p-secret"},
			"both PROBONUS_API_KEY and"},
		{"login without password", map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_LOGIN": login}, "PROBONUS_LOGIN is set but PROBONUS_PASSWORD is not"},
		{"password without login", map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_PASSWORD": "p-secret"}, "PROBONUS_PASSWORD is set but PROBONUS_LOGIN is not"},
		{"bad URL", map[string]string{"PROBONUS_BASE_URL": "127.0.0.1:11030", "PROBONUS_API_KEY": "k-secret"}, "probonus: FromEnv: PROBONUS_BASE_URL: WithBaseURL:"},
		{"bad key", map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": "k-se\x00cret"}, "probonus: FromEnv: PROBONUS_API_KEY: WithAPIKey: the key holds a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := probonus.FromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Nil(t, opts)
				assert.NotContains(t, err.Error(), "secret", "no credential in the error")
				assert.Equal(t, 1, strings.Count(err.Error(), "probonus:"), err.Error())
				return
			}
			require.NoError(t, err)
			c, err := probonus.New(opts...)
			require.NoError(t, err)
			groups, err := c.AccountGroups.List(context.Background())
			require.NoError(t, err, "the options reach the server and authenticate")
			assert.Len(t, groups, 2)
		})
	}
}

func TestFromEnvNilReadsTheProcessEnvironment(t *testing.T) {
	t.Setenv("PROBONUS_BASE_URL", "")
	t.Setenv("PROBONUS_API_KEY", "")
	t.Setenv("PROBONUS_LOGIN", "")
	t.Setenv("PROBONUS_PASSWORD", "")
	_, err := probonus.FromEnv(nil)
	require.ErrorContains(t, err, "PROBONUS_BASE_URL is not set")
	t.Setenv("PROBONUS_BASE_URL", "http://127.0.0.1:11030")
	t.Setenv("PROBONUS_API_KEY", "key")
	opts, err := probonus.FromEnv(nil)
	require.NoError(t, err)
	assert.Len(t, opts, 2)
}
