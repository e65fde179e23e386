package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeTree writes files (slash paths relative to dir) into dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
}

// git runs git in dir as a fixed author.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	c.Dir = dir
	out, err := c.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return string(out)
}

// fixtureRepo is a git repository with a root module example.com/r, a nested one in sub/, and
// files a release must leave out: an ignored binary, and a module two folders down.
func fixtureRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":            "module example.com/r\n\ngo 1.26.0\n",
		"LICENSE":           "MIT\n",
		".gitignore":        "*.test\n",
		"r.go":              "package r\n\n// V is in every release.\nfunc V() int { return 1 }\n",
		"sub/go.mod":        "module example.com/r/sub\n\ngo 1.26.0\n\nreplace example.com/r => ../\n\nrequire example.com/r v0.1.0\n",
		"sub/sub.go":        "package sub\n\nimport \"example.com/r\"\n\n// W uses the root.\nfunc W() int { return r.V() }\n",
		"tools/gen/go.mod":  "module example.com/r/tools/gen\n\ngo 1.26.0\n",
		"tools/gen/main.go": "package main\n\nfunc main() {}\n",
	})
	git(t, dir, "init", "-q")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "first")
	return dir
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	require.NoError(t, err)
	return string(b)
}
