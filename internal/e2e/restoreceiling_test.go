package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// TestRestoreCeiling: dx debug restore-ceiling writes every file of the
// revision (their count and bytes in its JSON, and the time their removal
// took apart) and leaves nothing behind.
func TestRestoreCeiling(t *testing.T) {
	r := newRepo(t)
	var bytes int64
	for i := range 30 {
		data := fmt.Sprintf("file %d\n%0*d\n", i, i*100, i)
		r.write(fmt.Sprintf("d%d/f%02d.txt", i%4, i), data)
		bytes += int64(len(data))
	}
	r.ok("commit", "-m", "v1")
	var res struct {
		Files   int      `json:"files"`
		Bytes   int64    `json:"bytes"`
		Seconds *float64 `json:"seconds"`
		Cleanup *float64 `json:"cleanup_seconds"`
	}
	if err := json.Unmarshal([]byte(r.ok("debug", "restore-ceiling", "HEAD")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Files != 30 || res.Bytes != bytes || res.Seconds == nil || res.Cleanup == nil {
		t.Fatalf("restore-ceiling: %+v, want 30 files of %d bytes and both times", res, bytes)
	}
	left, err := os.ReadDir(r.path(".dx/tmp"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("restore-ceiling left %d entries in .dx/tmp", len(left))
	}
}
