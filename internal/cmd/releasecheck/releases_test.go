package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/module"
)

// The base of the API comparison is what was tagged, not the working tree: the previous release is
// zipped from its tag (the root's vX.Y.Z, a nested module's sub/vX.Y.Z).
func TestBuildReleasesTakesThePreviousReleaseFromItsTag(t *testing.T) {
	t.Parallel()
	repo := fixtureRepo(t)
	git(t, repo, "tag", "v0.1.0")
	git(t, repo, "tag", "sub/v0.1.0")
	writeTree(t, repo, map[string]string{
		"r.go":       "package r\n\n// V is in every release.\nfunc V() int { return 1 }\n\n// Added is new in v0.2.0.\nfunc Added() {}\n",
		"sub/go.mod": "module example.com/r/sub\n\ngo 1.26.0\n\nreplace example.com/r => ../\n\nrequire example.com/r v0.2.0\n",
	})
	mods, err := discoverModules(repo)
	require.NoError(t, err)
	allTags, err := tags(repo)
	require.NoError(t, err)

	var out strings.Builder
	set, err := buildReleases(&out, repo, mods, allTags, "v0.2.0")
	require.NoError(t, err)
	require.Len(t, set.previous, 2)
	assert.Contains(t, out.String(), "previous release v0.1.0, from tag sub/v0.1.0")

	prev := set.previous["example.com/r"]
	assert.Equal(t, "v0.1.0", prev.Version)
	assert.NotContains(t, zipFile(t, prev, "r.go"), "Added")
	assert.Contains(t, zipFile(t, set.candidate(mods[0]), "r.go"), "Added")
	assert.Contains(t, string(set.previous["example.com/r/sub"].GoMod), "require example.com/r v0.1.0")
	assert.Len(t, set.without(mods[1]), 3, "every release but sub's candidate")
	assert.Len(t, set.all(), 4)

	_, err = buildReleases(io.Discard, repo, mods, allTags, "v0.1.0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tag v0.1.0 already exists")
}

func zipFile(t *testing.T, r release, name string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, unpack(dir, releaseSet{mods: []mod{{Path: r.Path}}, candidates: []release{r}}))
	names, err := zipNames(r.Zip, module.Version{Path: r.Path, Version: r.Version})
	require.NoError(t, err)
	require.Contains(t, names, name)
	return readFile(t, dir, name)
}
