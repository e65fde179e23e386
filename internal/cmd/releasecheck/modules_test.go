package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// issue 28 item 7: a nested module that required the root at v0.0.0-00010101000000-000000000000
// (which only the replace made work) could not be resolved by a user's build, which ignores a
// dependency's replace. Each must require a real release of the root, the same one.
func TestRepoNestedModulesRequireARealRootRelease(t *testing.T) {
	t.Parallel()
	mods, err := discoverModules("../../..")
	require.NoError(t, err)
	require.Greater(t, len(mods), 1, "the repository has nested modules")
	root := mods[0]
	versions := map[string]string{}
	for _, m := range mods[1:] {
		for _, r := range m.File.Require {
			if r.Mod.Path == root.Path {
				versions[m.Dir] = r.Mod.Version
				assert.True(t, semver.IsValid(r.Mod.Version), "%s requires the root at %s", m.Dir, r.Mod.Version)
				assert.False(t, module.IsPseudoVersion(r.Mod.Version), "%s requires the root at %s, a pseudo-version no proxy serves", m.Dir, r.Mod.Version)
			}
		}
	}
	require.NotEmpty(t, versions, "some nested module requires the root")
	first := ""
	for dir, v := range versions {
		if first == "" {
			first = v
		}
		assert.Equal(t, first, v, "%s requires the root at %s, another at %s: the modules are released together", dir, v, first)
	}
}

func TestDiscoverModulesFindsEachGoModOneFolderDown(t *testing.T) {
	t.Parallel()
	mods, err := discoverModules(fixtureRepo(t))
	require.NoError(t, err)
	var got []string
	for _, m := range mods {
		got = append(got, m.Name()+"="+m.Path)
	}
	// tools/gen/go.mod is two folders down: a tool, not a released module (as the Makefile's MODULES).
	assert.Equal(t, []string{"root=example.com/r", "sub=example.com/r/sub"}, got)
	assert.Equal(t, "sub/", mods[1].TagPrefix())
	assert.Equal(t, "", mods[0].TagPrefix())
}

func TestDiscoverModulesRefusesANestedPathOutsideTheRoot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":       "module example.com/r\n\ngo 1.26.0\n",
		"other/go.mod": "module example.com/elsewhere\n\ngo 1.26.0\n",
	})
	_, err := discoverModules(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "other/go.mod: module example.com/elsewhere, want example.com/r/other")
}

func TestCheckRootRequires(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, require, wantErr string
	}{
		{"the release", "require example.com/r v0.1.0\n", ""},
		{"no require of the root", "", ""},
		{"the zero pseudo-version", "require example.com/r v0.0.0-00010101000000-000000000000\n", "sub/go.mod requires example.com/r v0.0.0-00010101000000-000000000000, want v0.1.0"},
		{"an older release", "require example.com/r v0.0.9\n", "sub/go.mod requires example.com/r v0.0.9, want v0.1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{
				"go.mod":     "module example.com/r\n\ngo 1.26.0\n",
				"sub/go.mod": "module example.com/r/sub\n\ngo 1.26.0\n\nreplace example.com/r => ../\n\n" + tt.require,
			})
			mods, err := discoverModules(dir)
			require.NoError(t, err)
			err = checkRootRequires(mods, "v0.1.0")
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{
		"v0.1.0":       true,
		"v1.2.3":       true,
		"v0.2.0-rc.1":  true,
		"0.1.0":        false,
		"v0.1":         false,
		"v0.1.0+build": false,
		"v2.0.0":       false,
		"":             false,
	} {
		err := checkVersion(v)
		assert.Equal(t, ok, err == nil, "%q: %v", v, err)
	}
}

func TestPreviousVersion(t *testing.T) {
	t.Parallel()
	tags := []string{"v0.1.0", "v0.2.0", "v0.3.0-rc.1", "sub/v0.1.5", "sub/v0.2.0", "nightly", "sub/deep/v0.9.0"}
	root := mod{Path: "example.com/r"}
	sub := mod{Path: "example.com/r/sub", Dir: "sub"}
	tests := []struct {
		name    string
		m       mod
		version string
		want    string
		wantErr string
	}{
		{"root: the highest release below", root, "v0.3.0", "v0.2.0", ""},
		{"root: a pre-release is no base", root, "v0.4.0", "v0.2.0", ""},
		{"root: a first release", root, "v0.0.1", "", ""},
		{"root: already tagged", root, "v0.2.0", "", "tag v0.2.0 already exists"},
		{"nested: its own tags only", sub, "v0.1.9", "v0.1.5", ""},
		{"nested: already tagged", sub, "v0.2.0", "", "tag sub/v0.2.0 already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := previousVersion(tt.m, tags, tt.version)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
