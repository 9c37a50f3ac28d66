package remote

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors every Backend reports in the same way, so the protocol above it
// never looks at a backend's own error types.
var (
	// ErrNotExist: the object does not exist.
	ErrNotExist = errors.New("object does not exist")
	// ErrPrecondition: a conditional write lost (the object changed, or
	// exists where it must not).
	ErrPrecondition = errors.New("precondition failed")
	// ErrIntegrity: bytes from the remote do not match their id.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrNonFastForward: a ref update would drop remote commits.
	ErrNonFastForward = errors.New("non-fast-forward: pull first")
	// ErrUnreachable: the remote's endpoint did not answer (connection
	// refused, no such host, timed out); it may answer later.
	ErrUnreachable = errors.New("endpoint unreachable")
	// ErrTooLarge: an object is larger than its reader allows (a
	// damaged or hostile remote).
	ErrTooLarge = errors.New("object too large")
)

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key  string // relative to the remote's root (no leading slash)
	Size int64
	// Tag identifies this version of the object for Swap: the ETag on
	// S3, a hash of the content on a directory.
	Tag string
	// Modified is when the object was written, by the server's clock (a
	// directory's: its modification time). Listings set it.
	Modified time.Time
}

// Backend is the storage a remote lives on: a flat namespace of immutable
// objects plus small mutable ones (refs) updated by compare-and-swap. Keys
// are slash-separated, relative to the remote's root (bucket prefix or
// directory). Implementations are safe for concurrent use.
type Backend interface {
	// Get reads a whole (small) object and its tag. An object of more
	// than limit bytes is ErrTooLarge, found having read at most limit+1
	// of them: what the remote says about a size is never trusted with
	// memory.
	Get(ctx context.Context, key string, limit int64) ([]byte, string, error)
	// GetRange streams n bytes of key from off.
	GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
	// Put writes an immutable object of the given size. A reader is
	// consumed exactly once; an object is either wholly there or absent.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// List returns every object whose key starts with prefix, sorted by
	// key. Tag may be empty in listings.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Swap writes data to key if the object's current tag is oldTag (""
	// means: only if it does not exist) and returns the new tag. A lost
	// race is ErrPrecondition.
	Swap(ctx context.Context, key, oldTag string, data []byte) (string, error)
	// Delete removes an object; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// String names the remote in messages (its URL).
	String() string
}
