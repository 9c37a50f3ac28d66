// Package minioproc runs the pinned MinIO server (scripts/minio.sh builds
// and caches it) as a child process on 127.0.0.1: on free ports, with its
// data and log in a given directory. Tests use it through internal/s3test,
// the benchmark harness directly.
package minioproc

import (
	"context"
	"errors"
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
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Binary finds the MinIO build: $DX_MINIO_BIN, else where scripts/minio.sh
// caches it.
func Binary() (string, error) {
	bin := os.Getenv("DX_MINIO_BIN")
	if bin == "" {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "minio.sh")
		out, err := exec.Command("bash", script, "path").Output()
		if err != nil {
			return "", fmt.Errorf("scripts/minio.sh path: %w", err)
		}
		bin = strings.TrimSpace(string(out))
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("MinIO not installed (%v); build it with: bash scripts/minio.sh install", err)
	}
	return filepath.Abs(bin)
}

// freePorts returns two distinct ports free on 127.0.0.1 a moment ago
// (both held until both are known, so they differ).
func freePorts() (port, console int, err error) {
	var ports [2]int
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, err
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1], nil
}

// errPortTaken: the server found its address taken, by a process that
// bound the port between freePorts and the server's start.
var errPortTaken = errors.New("MinIO's port was taken meanwhile")

// startAttempts is how many pairs of free ports Start tries.
const startAttempts = 5

// Server is a MinIO run by this process.
type Server struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string

	bin     string
	dir     string // holds data/ and minio.log
	console string
	log     *os.File

	mu   sync.Mutex
	proc *process // nil when stopped
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// Start runs bin with its data and log under dir, as root user access with
// password secret, and waits until it is healthy.
//
// A port is free only until someone binds it: another process may take
// one between the moment it is found free and the server's start, and
// then Start tries again on other ports.
func Start(ctx context.Context, bin, dir, access, secret string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var err error
	for range startAttempts {
		var port, console int
		if port, console, err = freePorts(); err != nil {
			return nil, err
		}
		s := &Server{
			Endpoint:  fmt.Sprintf("127.0.0.1:%d", port),
			AccessKey: access,
			SecretKey: secret,
			bin:       bin,
			dir:       dir,
			console:   fmt.Sprintf("127.0.0.1:%d", console),
		}
		if s.log, err = os.Create(filepath.Join(dir, "minio.log")); err != nil {
			return nil, err
		}
		if err = s.start(ctx); err == nil {
			return s, nil
		}
		s.log.Close()
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
	return nil, err
}

// Restart starts the server again on the same address and data, killing a
// running one first.
func (s *Server) Restart(ctx context.Context) error {
	s.Kill()
	return s.start(ctx)
}

// Kill kills the server with SIGKILL, as a crash would, and waits until it
// has exited. Killing a stopped server does nothing.
func (s *Server) Kill() { s.signal(syscall.SIGKILL, 0) }

// Close stops the server (SIGTERM, then SIGKILL after 10 s) and closes its
// log. The data directory stays.
func (s *Server) Close() {
	s.signal(syscall.SIGTERM, 10*time.Second)
	s.log.Close()
}

// Client returns a minio-go client with the root credentials.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, "")})
}

// MakeBucket creates a bucket.
func (s *Server) MakeBucket(ctx context.Context, name string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("make bucket %q: %w", name, err)
	}
	return nil
}

// Env returns the environment a subprocess (dx, the aws CLI, restic) needs
// to reach the server with the root credentials.
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=us-east-1",
	}
}

// start runs the binary and waits until the server answers its health
// check.
func (s *Server) start(ctx context.Context) error {
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.Endpoint,
		"--console-address", s.console, filepath.Join(s.dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	// Its own process group: a Ctrl-C reaches it only through Close,
	// after the commands using it have ended.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()

	hctx, cancel := context.WithTimeout(ctx, startLimit)
	defer cancel()
	for {
		// Whether it exited first: a probe may reach whoever took its port.
		select {
		case <-p.done:
			return s.exited()
		default:
		}
		if s.healthy(hctx) {
			return nil
		}
		select {
		case <-p.done:
			return s.exited()
		case <-hctx.Done():
			s.Kill()
			return fmt.Errorf("MinIO not healthy after %s", startLimit)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startLimit bounds the wait for a started server to be healthy: far
// more than a loaded machine takes, so only a server that never comes up
// fails.
const startLimit = 2 * time.Minute

// probeLimit bounds one health probe, so that one lost on the way (or
// sent to a process that took the port) does not use up startLimit.
const probeLimit = 10 * time.Second

// healthy says whether the server answers its health check and IAM is
// ready.
func (s *Server) healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, probeLimit)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Endpoint+"/minio/health/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && s.iamReady(ctx)
}

// exited is the error of a server that exited at start, errPortTaken
// when its address was taken.
func (s *Server) exited() error {
	log, _ := os.ReadFile(s.log.Name())
	if strings.Contains(string(log), "port is already in use") {
		return fmt.Errorf("%w (%s): %s", errPortTaken, s.Endpoint, strings.TrimSpace(string(log)))
	}
	return fmt.Errorf("MinIO exited at start: %s", strings.TrimSpace(string(log)))
}

// iamReady says whether the server answers a request signed with an
// unknown key as such. Live is not enough: IAM loads after, and until then
// such a request fails with XMinioIAMNotInitialized instead of access
// denied (a test of bad credentials met it).
func (s *Server) iamReady(ctx context.Context) bool {
	cl, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4("dx-iam-probe", "dx-iam-probe-secret", "")})
	if err != nil {
		return false
	}
	_, err = cl.ListBuckets(ctx)
	return err != nil && !strings.Contains(err.Error(), "IAM")
}

// signal signals the current process group and waits for the process to
// exit; after grace it kills it. A zero grace means sig is final.
func (s *Server) signal(sig syscall.Signal, grace time.Duration) {
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
