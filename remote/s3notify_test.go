package remote

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/s3test"
)

// TestS3Listen: on MinIO, an object created under the prefix wakes the
// listener, one created elsewhere does not, and the listener comes back
// after the server restarts.
func TestS3Listen(t *testing.T) {
	srv := s3test.Start(t)
	srv.MakeBucket(t, "dx-listen")
	s3Env(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	be, err := Open(ctx, Config{URL: "s3://dx-listen/team", Endpoint: "http://" + srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	wakes, err := be.(*s3Backend).Listen(ctx, "events/")
	if err != nil {
		t.Fatalf("listen on MinIO: %v", err)
	}
	<-wakes // the first wake, to catch up
	put := func(key string) {
		t.Helper()
		if err := be.Put(ctx, key, bytes.NewReader([]byte("x")), 1); err != nil {
			t.Fatal(err)
		}
	}
	woken := func(within time.Duration) bool {
		select {
		case <-wakes:
			return true
		case <-time.After(within):
			return false
		}
	}
	put("objects/a")
	if woken(time.Second) {
		t.Fatal("woken by an object outside the prefix")
	}
	put("events/1")
	if !woken(10 * time.Second) {
		t.Fatal("not woken by an object under the prefix")
	}
	srv.Restart(t)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		put("events/2")
		if woken(2 * time.Second) {
			return
		}
	}
	t.Fatal("not woken after a restart")
}
