package remote

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
	// The second is how long an unwanted wake has to show up, not a bound
	// on the wanted one, which gets a limit no loaded machine reaches.
	put("objects/a")
	if woken(time.Second) {
		t.Fatal("woken by an object outside the prefix")
	}
	put("events/1")
	if !woken(2 * time.Minute) {
		t.Fatal("not woken by an object under the prefix")
	}
	srv.Restart(t)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		put("events/2")
		if woken(2 * time.Second) {
			return
		}
	}
	t.Fatal("not woken after a restart")
}

// TestS3ListenRefused: a server without bucket notifications is found out
// at once when it refuses the request (AWS S3 answers with an error), and
// within notifyDeadAfter when it takes the request but streams nothing (a
// MinIO with minio/minio#21651); either way Listen returns an error, and
// the caller polls.
func TestS3ListenRefused(t *testing.T) {
	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"refused", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusMethodNotAllowed)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MethodNotAllowed</Code><Message>The specified method is not allowed against this resource.</Message></Error>`)
		}, "MethodNotAllowed"},
		{"silent", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, "streamed nothing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			isolateAWSEnv(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "testtest")
			ctx := context.Background()
			be, err := Open(ctx, Config{URL: "s3://bucket/team", Endpoint: srv.URL, Region: "us-east-1", PathStyle: true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = be.(*s3Backend).Listen(ctx, "events/")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Listen: %v, want an error naming %q", err, c.want)
			}
		})
	}
}
