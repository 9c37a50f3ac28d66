package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReplaceFile: dirHandles.replace: the new file takes the name, over an old file or none,
// and no temporary name is left behind, whether or not its hint that the
// old file exists is still true.
func TestReplaceFile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		old, hint bool
	}{{"over an old file", true, true}, {"no old file", false, false}, {"an old file come since", true, false}, {"an old file gone since", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.old {
				if err := os.WriteFile(filepath.Join(dir, "d", "f"), []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "d", tmpMarker+"1"), []byte("new"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, h := openHandles(t, dir)
			if err := h.replace("d/"+tmpMarker+"1", "d/f", tc.hint, 3); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "d", "f")); err != nil || string(b) != "new" {
				t.Fatalf("d/f = %q, %v; want \"new\"", b, err)
			}
			if es, err := os.ReadDir(filepath.Join(dir, "d")); err != nil || len(es) != 1 {
				t.Fatalf("d holds %v (%v), want only f", es, err)
			}
		})
	}
}
