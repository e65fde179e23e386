package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

func fixtureReleases(t *testing.T, repo string) (rels []release, names map[string][]string) {
	t.Helper()
	mods, err := discoverModules(repo)
	require.NoError(t, err)
	names = map[string][]string{}
	for _, m := range mods {
		files, err := worktreeFiles(repo, m.Dir)
		require.NoError(t, err)
		r, err := makeRelease(m.Path, "v0.1.0", files, m.GoMod, time.Unix(1700000000, 0), otherModuleDirs(mods, m.Dir))
		require.NoError(t, err)
		rels = append(rels, r)
		names[m.Name()], err = zipNames(r.Zip, module.Version{Path: r.Path, Version: r.Version})
		require.NoError(t, err)
	}
	return rels, names
}

// issue 28 item 7: the root's zip leaves out the nested modules' files, a nested module's zip holds
// its own files only, and what .gitignore hides stays out of both; untracked files a commit would
// take are in.
func TestReleaseZipsHoldTheirOwnModuleOnly(t *testing.T) {
	t.Parallel()
	repo := fixtureRepo(t)
	writeTree(t, repo, map[string]string{
		"r.test":     "a built test binary\n",
		"new.go":     "package r\n",
		"sub/x.test": "another\n",
	})
	_, names := fixtureReleases(t, repo)
	assert.ElementsMatch(t, []string{".gitignore", "LICENSE", "go.mod", "new.go", "r.go"}, names["root"])
	assert.ElementsMatch(t, []string{"go.mod", "sub.go"}, names["sub"])
}

func TestMakeReleaseRefusesAFileOfAnotherModule(t *testing.T) {
	t.Parallel()
	files := []memFileForTest{{"go.mod", "module example.com/r\n"}, {"sub/sub.go", "package sub\n"}}
	_, err := makeRelease("example.com/r", "v0.1.0", toFiles(files), []byte("module example.com/r\n"), time.Now(), []string{"sub"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the zip holds sub/sub.go, a file of the module in sub")
}

func TestMakeReleaseRefusesAZipWithoutGoMod(t *testing.T) {
	t.Parallel()
	_, err := makeRelease("example.com/r", "v0.1.0", toFiles([]memFileForTest{{"r.go", "package r\n"}}), nil, time.Now(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no go.mod")
}

type memFileForTest struct{ path, body string }

func toFiles(fs []memFileForTest) (out []modzip.File) {
	for _, f := range fs {
		out = append(out, memFile{path: f.path, data: []byte(f.body), mode: 0o644})
	}
	return out
}

// The proxy on disk is one the go command reads: with GOPROXY naming it alone and a new module
// cache, go mod download fetches both modules, and the root's folder has no sub/.
func TestWriteProxyServesTheGoCommand(t *testing.T) {
	t.Parallel()
	repo := fixtureRepo(t)
	rels, _ := fixtureReleases(t, repo)
	proxy := t.TempDir()
	require.NoError(t, writeProxy(proxy, rels, []string{"example.com/unreleased"}))

	list, err := os.ReadFile(filepath.Join(proxy, "example.com", "r", "@v", "list"))
	require.NoError(t, err)
	assert.Equal(t, "v0.1.0\n", string(list))
	empty, err := os.ReadFile(filepath.Join(proxy, "example.com", "unreleased", "@v", "list"))
	require.NoError(t, err)
	assert.Empty(t, empty, "a module named for a list only gets an empty one, so no other proxy is asked")

	cmd := exec.Command("go", "mod", "download", "-json", "example.com/r@v0.1.0", "example.com/r/sub@v0.1.0")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"GOPROXY="+fileURL(proxy), "GONOSUMDB=example.com", "GOSUMDB=off", "GOFLAGS=-modcacherw",
		"GOMODCACHE="+t.TempDir(), "GOTOOLCHAIN=local", "GOWORK=off")
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "go mod download: %s", stderr)

	dec := json.NewDecoder(strings.NewReader(string(out)))
	dirs := map[string]string{}
	for dec.More() {
		var d struct{ Path, Dir, Error string }
		require.NoError(t, dec.Decode(&d))
		require.Empty(t, d.Error)
		dirs[d.Path] = d.Dir
	}
	require.Len(t, dirs, 2)
	assert.FileExists(t, filepath.Join(dirs["example.com/r"], "r.go"))
	assert.NoDirExists(t, filepath.Join(dirs["example.com/r"], "sub"))
	assert.FileExists(t, filepath.Join(dirs["example.com/r/sub"], "sub.go"))
	assert.NoFileExists(t, filepath.Join(dirs["example.com/r/sub"], "r.go"))
}
