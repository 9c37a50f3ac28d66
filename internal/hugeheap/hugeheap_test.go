package hugeheap

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// vmFlags returns the VmFlags line of the mapping holding addr, from
// /proc/self/smaps.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 && strings.Contains(line[:strings.IndexByte(line, ' ')], "-") {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return line
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}

// TestGrow: in a fresh process, heap memory allocated after Grow lies in
// a mapping advised for huge pages ("hg" in its VmFlags); without Grow it
// does not.
func TestGrow(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("huge pages are advised on Linux only")
	}
	if mode := os.Getenv("HUGEHEAP_CHILD"); mode != "" {
		if mode == "grow" {
			Grow(32 << 20)
		}
		b := make([]byte, 4<<20)
		fmt.Println(vmFlags(t, uintptr(unsafe.Pointer(&b[2<<20]))))
		runtime.KeepAlive(b)
		return
	}
	for _, mode := range []string{"grow", "plain"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGrow$", "-test.count=1")
		cmd.Env = append(os.Environ(), "HUGEHEAP_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		advised := strings.Contains(string(out), " hg")
		if advised != (mode == "grow") {
			t.Errorf("%s: heap allocated after it advised for huge pages: %v\n%s", mode, advised, out)
		}
	}
}

// TestCapped: Grow asks for at most an eighth of the machine's memory,
// and nothing where that is unknown.
func TestCapped(t *testing.T) {
	for _, c := range []struct {
		n    int
		mem  uint64
		want int
	}{
		{512 << 20, 24 << 30, 512 << 20},
		{512 << 20, 1 << 30, 128 << 20},
		{32 << 20, 0, 0},
		{-1, 1 << 30, 0},
	} {
		if got := capped(c.n, c.mem); got != c.want {
			t.Errorf("capped(%d, %d) = %d, want %d", c.n, c.mem, got, c.want)
		}
	}
}
