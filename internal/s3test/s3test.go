// Package s3test runs a real MinIO server on 127.0.0.1 for tests: the
// pinned build that scripts/minio.sh installs, on a free port, with a
// fresh data directory, stopped when the test ends. A test can also crash
// it (Stop) and bring it back on the same port and data (Restart).
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running MinIO.
type Server struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string

	bin     string
	dir     string // holds data/ and minio.log
	console string // host:port of the (disabled) console listener
	log     *os.File

	mu   sync.Mutex
	proc *process // the current server process; nil when stopped
}

// process is one run of the server binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
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
// the command that builds it. The server is stopped when the test ends,
// whichever process (after Restart) is current then.
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
	s := &Server{
		Endpoint:  fmt.Sprintf("127.0.0.1:%d", port),
		AccessKey: "dxtest",
		SecretKey: "dxtest-secret-key",
		bin:       bin,
		dir:       tb.TempDir(),
		console:   fmt.Sprintf("127.0.0.1:%d", console),
	}
	s.log, err = os.Create(filepath.Join(s.dir, "minio.log"))
	if err != nil {
		tb.Fatal(err)
	}
	// Registered after TempDir, so it runs before the directory goes.
	tb.Cleanup(func() {
		s.stop(syscall.SIGTERM, 10*time.Second)
		s.log.Close()
	})
	s.start(tb)
	return s
}

// Stop kills the server with SIGKILL, as a crash would, and waits until
// it has exited. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.stop(syscall.SIGKILL, 0)
}

// Restart starts the server again on the same address and data directory
// and waits until it is healthy. A running server is killed first.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	s.start(tb)
}

// MakeBucket creates a bucket, failing the test if it cannot.
func (s *Server) MakeBucket(tb testing.TB, name string) {
	tb.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, "")})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		tb.Fatalf("make bucket %q: %v", name, err)
	}
}

// Env returns the environment a dx subprocess needs to reach the server
// with its root credentials (append it to os.Environ()).
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=us-east-1",
	}
}

// start runs the binary and waits until the server answers its health
// check.
func (s *Server) start(tb testing.TB) {
	tb.Helper()
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.Endpoint,
		"--console-address", s.console, filepath.Join(s.dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Endpoint+"/minio/health/live", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			log, _ := os.ReadFile(s.log.Name())
			tb.Fatalf("MinIO exited at start:\n%s", log)
		case <-ctx.Done():
			tb.Fatal("MinIO not healthy after 30 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop signals the current process group and waits for the process to
// exit; after grace it kills it. A zero grace means sig is final.
func (s *Server) stop(sig syscall.Signal, grace time.Duration) {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case <-p.done: // exited on its own; its group id may be reused
		return
	default:
	}
	// The server leads its own process group (Setpgid).
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	if grace > 0 {
		select {
		case <-p.done:
			return
		case <-time.After(grace):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	<-p.done
}
