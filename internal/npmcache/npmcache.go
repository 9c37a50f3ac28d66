// Package npmcache installs an npm package set that dx's tests and bench
// drive (DuckDB for Node) into a cache directory outside the repository,
// once per lock file: `npm ci` from a directory holding package.json and
// package-lock.json, with the scripts beside them copied along.
package npmcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Install makes sure the packages locked in src are installed in a cache
// directory named for name and the lock file's hash, copies src's other
// files there, and returns the directory. marker is a file below
// node_modules that says the install is complete. It fails, saying why,
// when node or npm is missing or npm ci fails.
func Install(src, name, marker string) (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s is needed to install %s: %w", tool, name, err)
		}
	}
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(lock)
	dir := filepath.Join(cache, "dx-tests", name+"-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
		if err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(marker))); err == nil {
		return dir, nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci in %s (%s): %w\n%s", dir, name, err, out)
	}
	return dir, nil
}
