package remote_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dxdata/dx/internal/s3test"
)

// TestServerConditionalWrites checks, against the real pinned MinIO, the
// two S3 features remote branch updates will stand on: create-only puts
// (If-None-Match: *) and compare-and-swap puts (If-Match: ETag).
func TestServerConditionalWrites(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Secure: false})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeBucket(ctx, "dx-test", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	put := func(body string, opts func(o *minio.PutObjectOptions)) (string, error) {
		o := minio.PutObjectOptions{}
		opts(&o)
		info, err := c.PutObject(ctx, "dx-test", "refs/heads/main", bytes.NewReader([]byte(body)), int64(len(body)), o)
		return info.ETag, err
	}
	createOnly := func(o *minio.PutObjectOptions) { o.SetMatchETagExcept("*") }
	etag, err := put("v1", createOnly)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := put("v1 again", createOnly); err == nil {
		t.Fatal("a create-only put over an existing object succeeded")
	} else if minio.ToErrorResponse(err).StatusCode != 412 {
		t.Fatalf("create-only put: %v, want 412 Precondition Failed", err)
	}
	etag2, err := put("v2", func(o *minio.PutObjectOptions) { o.SetMatchETag(etag) })
	if err != nil {
		t.Fatalf("compare-and-swap with the current ETag: %v", err)
	}
	if _, err := put("lost race", func(o *minio.PutObjectOptions) { o.SetMatchETag(etag) }); err == nil {
		t.Fatal("compare-and-swap with a stale ETag succeeded")
	} else if minio.ToErrorResponse(err).StatusCode != 412 {
		t.Fatalf("stale compare-and-swap: %v, want 412", err)
	}
	obj, err := c.GetObject(ctx, "dx-test", "refs/heads/main", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(obj)
	if err != nil || string(b) != "v2" {
		t.Fatalf("read back %q %v (etag %s)", b, err, etag2)
	}
}
