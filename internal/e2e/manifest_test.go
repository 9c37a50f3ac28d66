package e2e

import (
	"strings"
	"syscall"
	"testing"

	"github.com/dxdata/dx/internal/faultinject"
)

// TestIndexManifestFsyncFails: an fsync of the index's MANIFEST that fails
// (EIO) leaves badger's MANIFEST naming a table it removed; the next open
// mends it, and the store is whole, with the commit or without it.
func TestIndexManifestFsyncFails(t *testing.T) {
	self := faultTracer(t)
	hit := 0
	for n := 1; n < 40; n++ {
		r := newRepo(t)
		for i := 0; i < 300; i++ {
			r.write("d/f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+".txt", strings.Repeat("data ", i+1))
		}
		rep, out, hung := runFaulted(t, self, r, faultinject.Plan{Class: faultinject.Fsync, N: n, Errno: syscall.EIO}, []string{"commit", "-m", "c"})
		if hung {
			t.Fatalf("dx hung:\n%s", out)
		}
		if !rep.Fired {
			break
		}
		if !strings.Contains(rep.Call, "MANIFEST") {
			continue
		}
		hit++
		if res := r.run("fsck"); res.code != 0 {
			t.Fatalf("after EIO at %s (exit %d): fsck: %s%s", rep.Call, rep.Exit, res.stdout, res.stderr)
		}
		st := r.ok("status", "--short")
		committed := strings.Contains(r.run("log", "--oneline").stdout, " c")
		if committed && st != "" || !committed && !strings.Contains(st, "A d/") {
			t.Fatalf("after EIO at %s: committed %v, status %q", rep.Call, committed, st)
		}
		r.ok("commit", "--allow-empty", "-m", "again")
		r.ok("fsck", "--full")
	}
	if hit == 0 {
		t.Fatal("no fsync of the MANIFEST was hit")
	}
}
