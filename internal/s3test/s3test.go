// Package s3test runs a real MinIO server on 127.0.0.1 for tests: the
// pinned build that scripts/minio.sh installs, on a free port, with a
// fresh data directory, stopped when the test ends.
package s3test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a running MinIO.
type Server struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
}

// binary finds the MinIO build: $DX_MINIO_BIN, else where scripts/minio.sh
// caches it.
func binary() (string, error) {
	if b := os.Getenv("DX_MINIO_BIN"); b != "" {
		return b, nil
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "minio.sh")
	out, err := exec.Command("bash", script, "path").Output()
	if err != nil {
		return "", fmt.Errorf("scripts/minio.sh path: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a MinIO for the test. Without the binary the test fails
// when DX_REQUIRE_MINIO=1 (make test, CI) and is skipped otherwise, naming
// the command that builds it.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binary()
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		msg := fmt.Sprintf("MinIO not installed (%v); run: bash scripts/minio.sh install", err)
		if os.Getenv("DX_REQUIRE_MINIO") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	console, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{Endpoint: fmt.Sprintf("127.0.0.1:%d", port), AccessKey: "dxtest", SecretKey: "dxtest-secret-key"}
	dir := tb.TempDir()
	logf, err := os.Create(filepath.Join(dir, "minio.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "--quiet", "--address", s.Endpoint,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", console), filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Endpoint+"/minio/health/live", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "minio.log"))
			tb.Fatalf("MinIO exited at start:\n%s", log)
		case <-ctx.Done():
			tb.Fatal("MinIO not healthy after 30 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}
