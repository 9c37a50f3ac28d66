package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/minio/minio-go/v7"
)

// What a follower of a remote reads over and over: the keys added to the
// publish log since the last look (one LIST), and a ref only when it has
// changed (a conditional GET, answered without a body when it has not).

// ListAfter returns the objects under prefix whose keys sort after after,
// sorted by key: one LIST from StartAfter on S3.
func (b *s3Backend) ListAfter(ctx context.Context, prefix, after string) ([]ObjectInfo, error) {
	return b.listAfter(ctx, prefix, after)
}

// ListAfter returns the objects under prefix whose keys sort after after.
// A directory is walked whole; it is local, and the walk is cheap.
func (b *fileBackend) ListAfter(ctx context.Context, prefix, after string) ([]ObjectInfo, error) {
	all, err := b.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearchFunc(all, after, func(o ObjectInfo, k string) int {
		if o.Key <= k {
			return -1
		}
		return 1
	})
	return all[i:], nil
}

// GetIfChanged reads key unless its tag is still tag: a GET with
// If-None-Match, which the server answers 304, without a body, when
// nothing changed. An empty tag reads it in any case.
func (b *s3Backend) GetIfChanged(ctx context.Context, key, tag string, limit int64) ([]byte, string, bool, error) {
	if tag == "" {
		data, newTag, err := b.Get(ctx, key, limit)
		return data, newTag, true, err
	}
	if err := checkKey(key); err != nil {
		return nil, "", false, fmt.Errorf("remote %s: %w", b, err)
	}
	var opts minio.GetObjectOptions
	if err := opts.SetMatchETagExcept(tag); err != nil {
		return nil, "", false, err
	}
	body, info, _, err := b.core.GetObject(ctx, b.bucket, b.object(key), opts)
	if err != nil {
		var er minio.ErrorResponse
		if errors.As(err, &er) && er.StatusCode == http.StatusNotModified {
			return nil, tag, false, nil
		}
		return nil, "", false, b.fail(ctx, "get", key, err)
	}
	defer body.Close()
	if info.Size > limit {
		return nil, "", false, fmt.Errorf("remote %s: get %s: %d bytes, more than %d: %w", b, key, info.Size, limit, ErrTooLarge)
	}
	data, err := readLimited(body, limit, info.Size)
	if err != nil {
		return nil, "", false, b.fail(ctx, "get", key, err)
	}
	return data, trimTag(info.ETag), true, nil
}

// GetIfChanged reads key and says whether its tag differs from tag (a
// local read costs what comparing would).
func (b *fileBackend) GetIfChanged(ctx context.Context, key, tag string, limit int64) ([]byte, string, bool, error) {
	data, newTag, err := b.Get(ctx, key, limit)
	if err != nil {
		return nil, "", false, err
	}
	return data, newTag, tag == "" || newTag != tag, nil
}

// changeReader is a backend that reads an object only when it changed.
type changeReader interface {
	GetIfChanged(ctx context.Context, key, tag string, limit int64) ([]byte, string, bool, error)
}

// ReadRefIfChanged reads the ref last, named last.Name, unless it is
// unchanged on the remote since last was read; it then returns last
// itself. A ref deleted since is the zero Ref. Backends that cannot ask
// conditionally are read in full.
func ReadRefIfChanged(ctx context.Context, be Backend, last Ref) (Ref, error) {
	cr, ok := be.(changeReader)
	if !ok || last.Tag == "" {
		return ReadRef(ctx, be, last.Name)
	}
	b, tag, changed, err := cr.GetIfChanged(ctx, last.Name, last.Tag, maxRefSize)
	if errors.Is(err, ErrNotExist) {
		return Ref{Name: last.Name}, nil
	}
	if err != nil {
		return Ref{}, err
	}
	if !changed {
		return last, nil
	}
	id, err := decodeRef(be, last.Name, b)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Name: last.Name, ID: id, Tag: tag}, nil
}
