package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPortable: the report names paths under the repository relative to
// it, those under the home directory from ~, and leaves others alone.
func TestPortable(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct{ in, want string }{
		{filepath.Join(wd, "bin", "dx"), filepath.Join("bin", "dx")},
		{filepath.Join(home, ".cache", "minio"), filepath.Join("~", ".cache", "minio")},
		{"/opt/other/minio", "/opt/other/minio"},
		{"bin/dx", "bin/dx"},
		{"-out", "-out"},
		{filepath.Dir(wd), filepath.Dir(wd)}, // above the repository: not ../
	} {
		if got := portable(tc.in); got != tc.want {
			t.Errorf("portable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
