package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStoreHonoursUmask: what dx creates in .dx gets 0666 (files) and 0777
// (directories) less the umask, so a repository made under umask 002 can
// be shared by a group. Pack files used to be created 0600, directories
// and small files 0755 and 0644 whatever the umask.
func TestStoreHonoursUmask(t *testing.T) {
	for _, umask := range []string{"002", "022"} {
		t.Run(umask, func(t *testing.T) {
			dir := t.TempDir()
			dx := func(args ...string) {
				t.Helper()
				cmd := exec.Command("sh", append([]string{"-c", "umask " + umask + ` && exec "$0" "$@"`, dxBin}, args...)...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "DX_AUTHOR=Test <test@example.com>")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("dx %v: %v\n%s", args, err, out)
				}
			}
			dx("init")
			writeRandom(t, filepath.Join(dir, "data.bin"), 1<<20)
			dx("commit", "-m", "one")
			wantFile, wantDir := fs.FileMode(0o664), fs.FileMode(0o775)
			if umask == "022" {
				wantFile, wantDir = 0o644, 0o755
			}
			packs, _ := filepath.Glob(filepath.Join(dir, ".dx", "packs", "*.pack"))
			if len(packs) == 0 {
				t.Fatal("no pack written")
			}
			check := func(p string, want fs.FileMode) {
				t.Helper()
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != want {
					t.Errorf("%s: mode %o, want %o", p, got, want)
				}
			}
			for _, p := range append(packs, filepath.Join(dir, ".dx", "FORMAT")) {
				check(p, wantFile)
			}
			for _, d := range []string{".dx", ".dx/packs", ".dx/tmp", ".dx/index"} {
				check(filepath.Join(dir, d), wantDir)
			}
		})
	}
}
