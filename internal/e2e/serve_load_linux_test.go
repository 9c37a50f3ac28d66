package e2e

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestServeTenThousandConnections: 10,000 clients connected at once each
// ask for a 64 KiB range; every one gets its bytes, and the server's peak
// resident memory stays bounded.
func TestServeTenThousandConnections(t *testing.T) {
	const clients, size = 10000, 64 << 10
	f := newServeFixture(t)
	big := f.cat("main", "data/big.bin")
	g := startServe(t, f.r.dir, "--anonymous", "--stats", "--repo", "data="+f.r.dir)
	conns := make([]net.Conn, clients)
	offsets := make([]int, clients)
	rng := rand.New(rand.NewPCG(10, 10))
	for i := range conns {
		c, err := net.Dial("tcp", g.addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		conns[i], offsets[i] = c, rng.IntN(len(big)-size)
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := offsets[i]
			// Some send a body with their GET too.
			body := ""
			if i%10 == 0 {
				body = "ignored"
			}
			fmt.Fprintf(c, "GET /data/main/data/big.bin HTTP/1.1\r\nHost: %s\r\nRange: bytes=%d-%d\r\nContent-Length: %d\r\n\r\n%s", g.addr, a, a+size-1, len(body), body)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && (resp.StatusCode != 206 || string(b) != big[a:a+size]) {
				err = fmt.Errorf("client %d: %d with %d bytes", i, resp.StatusCode, len(b))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	peak := peakRSS(t, g.cmd.Process.Pid)
	t.Logf("peak resident memory of dx serve with %d connections: %d MiB", clients, peak>>20)
	t.Logf("server counters: %v", g.stats())
	if peak > 512<<20 {
		t.Errorf("dx serve peaked at %d MiB with %d connections", peak>>20, clients)
	}
}

// peakRSS is a process's peak resident memory (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
