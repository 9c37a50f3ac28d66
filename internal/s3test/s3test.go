// Package s3test runs a real MinIO server on 127.0.0.1 for tests: the
// pinned build that scripts/minio.sh installs, on a free port, with a
// fresh data directory, stopped when the test ends. A test can also crash
// it (Stop) and bring it back on the same port and data (Restart).
package s3test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/minioproc"
)

// Server is a running MinIO.
type Server struct {
	*minioproc.Server
}

// Start starts a MinIO for the test. Without the binary the test fails
// when DX_REQUIRE_MINIO=1 (make test, CI) and is skipped otherwise, naming
// the command that builds it. The server is stopped when the test ends,
// whichever process (after Restart) is current then.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := minioproc.Binary()
	if err != nil {
		if os.Getenv("DX_REQUIRE_MINIO") == "1" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	dir := tb.TempDir()
	s, err := minioproc.Start(context.Background(), bin, dir, "dxtest", "dxtest-secret-key")
	if err != nil {
		tb.Fatal(err)
	}
	// Registered after TempDir, so it runs before the directory goes.
	tb.Cleanup(s.Close)
	return &Server{s}
}

// Stop kills the server with SIGKILL, as a crash would, and waits until
// it has exited. Stopping a stopped server does nothing.
func (s *Server) Stop() { s.Kill() }

// Restart starts the server again on the same address and data directory
// and waits until it is healthy. A running server is killed first.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.Server.Restart(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// MakeBucket creates a bucket, failing the test if it cannot.
func (s *Server) MakeBucket(tb testing.TB, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Server.MakeBucket(ctx, name); err != nil {
		tb.Fatal(err)
	}
}
