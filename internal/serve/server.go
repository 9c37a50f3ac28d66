package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxdata/dx/store"
)

// Repo is one repository the server serves, as a bucket.
type Repo struct {
	Name string
	Open Opener
}

// Options configure a Server.
type Options struct {
	Repos []Repo
	// Credentials maps each access key id to its secret key.
	Credentials map[string]string
	// Anonymous serves unsigned requests too.
	Anonymous bool
	// CacheBytes bounds the decoded chunks kept for all requests. Zero
	// means 256 MiB.
	CacheBytes int64
	// FileCacheDir is where decoded copies of whole files are kept
	// (filecache.go), up to FileCacheBytes; either empty or zero: none.
	FileCacheDir   string
	FileCacheBytes int64
	// Region is what GetBucketLocation answers; empty means us-east-1.
	Region string
	// Now is the clock signatures are checked against; nil means time.Now.
	Now func() time.Time
}

// validBucket says whether a bucket may be called name: S3's rules for
// path-style names, loosened to the characters a directory name commonly
// has (1 to 255 letters, digits, '.', '_' and '-', the first a letter or
// digit). A function, not a regexp: compiling {0,254} cost every dx
// command 0.6 ms and 245 KB at start.
func validBucket(name string) bool {
	if len(name) == 0 || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Validate checks the options.
func (o Options) Validate() error {
	if len(o.Repos) == 0 {
		return errors.New("serve: no repositories")
	}
	seen := map[string]bool{}
	for _, r := range o.Repos {
		if !validBucket(r.Name) {
			return fmt.Errorf("serve: %q cannot be a bucket name (letters, digits, '.', '_', '-')", r.Name)
		}
		if "/"+r.Name+"/" == apiPrefix {
			return fmt.Errorf("serve: %q is the data API's path, not a bucket name", r.Name)
		}
		if seen[r.Name] {
			return fmt.Errorf("serve: two repositories named %q", r.Name)
		}
		seen[r.Name] = true
	}
	if len(o.Credentials) == 0 && !o.Anonymous {
		return fmt.Errorf("serve: no credentials (%s and %s, or a file) and no --anonymous: %w", EnvAccessKey, EnvSecretKey, ErrCredentials)
	}
	for k, v := range o.Credentials {
		if k == "" || v == "" {
			return errors.New("serve: empty access key or secret")
		}
	}
	if o.CacheBytes < 0 || o.FileCacheBytes < 0 {
		return errors.New("serve: negative cache size")
	}
	return nil
}

// Stats counts the server's work since New.
type Stats struct {
	Requests          atomic.Int64
	ChunksDecoded     atomic.Int64 // chunks read from a store and decompressed
	ChunkBytesDecoded atomic.Int64
	CacheHits         atomic.Int64 // chunks found in the cache (or loading for another request)
	// BatchesAhead are the batches of response bodies dispatched to be
	// decoded and not yet written (stream.go); BatchesAheadPeak its most.
	BatchesAhead     atomic.Int64
	BatchesAheadPeak atomic.Int64
	// The file cache (filecache.go): GETs served from a copy, copies
	// kept, fills given up (a client gone, a full disk), copies evicted
	// for room and copies found damaged and dropped.
	FileCacheHits      atomic.Int64
	FileCacheFills     atomic.Int64
	FileCacheAbandoned atomic.Int64
	FileCacheEvictions atomic.Int64
	FileCacheDiscards  atomic.Int64
}

// batchDispatched counts a batch dispatched to be decoded.
func (s *Stats) batchDispatched() {
	n := s.BatchesAhead.Add(1)
	for {
		p := s.BatchesAheadPeak.Load()
		if n <= p || s.BatchesAheadPeak.CompareAndSwap(p, n) {
			return
		}
	}
}

// Server is the S3 gateway over the repositories of its Options. It is an
// http.Handler.
type Server struct {
	opts    Options
	buckets map[string]*bucket
	names   []string // bucket names, sorted
	cache   *chunkCache
	files   *fileCache // nil: none
	// bg is the context of background fills (hotfill.go), ended by
	// stopBg when the server stops; fills counts those running, and
	// none starts once bgStopped (under bgMu).
	bg        context.Context
	stopBg    context.CancelFunc
	fills     sync.WaitGroup
	bgMu      sync.Mutex
	bgStopped bool
	tables    *tableCache   // the indexes of tables rows were looked up in
	slots     chan struct{} // bounds the requests served at once
	limits    streamLimits
	ahead     chan struct{} // bounds the batches decoded ahead (stream.go)
	runBufs   sync.Pool     // of *[]byte: stored bytes of pack runs being decoded
	// batchBufs: of *[]byte, buffers of chunks decoded and not cached
	batchBufs sync.Pool
	streams   streams
	stats     Stats
	reqSeq    atomic.Uint64
	started   time.Time
}

// bucket is one served repository.
type bucket struct {
	srv  *Server
	name string
	view *view
}

// maxServing bounds the requests served at once: each holds a few
// decoded chunks and a goroutine stack grown by its reads. More requests
// wait for a turn, each with a small stack, so that memory follows
// maxServing rather than the number of connections.
const maxServing = 128

// New returns a server for the options.
func New(o Options) (*Server, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 256 << 20
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, buckets: map[string]*bucket{}, cache: newChunkCache(o.CacheBytes), tables: newTableCache(),
		slots: make(chan struct{}, maxServing), limits: defaultStreamLimits, ahead: make(chan struct{}, defaultStreamLimits.ahead), started: o.Now()}
	s.bg, s.stopBg = context.WithCancel(context.Background())
	if o.FileCacheDir != "" && o.FileCacheBytes > 0 {
		var err error
		if s.files, err = newFileCache(o.FileCacheDir, o.FileCacheBytes, &s.stats); err != nil {
			return nil, err
		}
	}
	for _, r := range o.Repos {
		s.buckets[r.Name] = &bucket{srv: s, name: r.Name, view: newView(r.Open)}
		s.names = append(s.names, r.Name)
	}
	sort.Strings(s.names)
	return s, nil
}

// Snapshot returns the server's counters by name (for --stats).
func (s *Server) Snapshot() map[string]int64 {
	m := map[string]int64{
		"requests":             s.stats.Requests.Load(),
		"chunks_decoded":       s.stats.ChunksDecoded.Load(),
		"chunk_bytes_decoded":  s.stats.ChunkBytesDecoded.Load(),
		"cache_hits":           s.stats.CacheHits.Load(),
		"batches_ahead_peak":   s.stats.BatchesAheadPeak.Load(),
		"file_cache_hits":      s.stats.FileCacheHits.Load(),
		"file_cache_fills":     s.stats.FileCacheFills.Load(),
		"file_cache_abandoned": s.stats.FileCacheAbandoned.Load(),
		"file_cache_evictions": s.stats.FileCacheEvictions.Load(),
		"file_cache_discards":  s.stats.FileCacheDiscards.Load(),
	}
	var opens int64
	for _, b := range s.buckets {
		b.view.mu.Lock()
		opens += b.view.opens
		b.view.mu.Unlock()
	}
	m["repository_opens"] = opens
	return m
}

// Run serves HTTP on ln until ctx ends, then stops taking connections and
// waits (briefly) for the requests in flight.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	s.stopFills()
	for _, b := range s.buckets {
		b.view.close()
	}
	return s.files.close()
}

// ServeHTTP answers one S3 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.Requests.Add(1)
	w.Header().Set("x-amz-request-id", strconv.FormatUint(s.reqSeq.Add(1), 16))
	w.Header().Set("Server", "dx")
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-r.Context().Done():
		return
	}
	api := strings.HasPrefix(r.URL.Path, apiPrefix)
	e := checkPath(r)
	if e == nil {
		e = s.authenticate(r)
	}
	if e != nil && api {
		writeAPIError(w, apiErr(e))
		return
	}
	if e != nil {
		writeError(w, r, e)
		return
	}
	if api {
		s.serveAPI(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, r, errAccessDenied("dx serve is a read-only gateway: "+r.Method+" is not allowed."))
		return
	}
	name, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if name == "" {
		if r.Method == http.MethodHead {
			writeError(w, r, errNotImplemented("HEAD of the service is not implemented."))
			return
		}
		s.listBuckets(w)
		return
	}
	b, ok := s.buckets[name]
	if !ok {
		writeError(w, r, errNoSuchBucket)
		return
	}
	if key == "" {
		b.serveBucket(w, r)
		return
	}
	b.serveObject(w, r, key)
}

// checkPath refuses request paths that are not plain keys: a NUL, a ".."
// or "." component, or a percent-encoded slash (a key is its path).
func checkPath(r *http.Request) *s3Error {
	raw := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(raw, "%2f") || strings.Contains(r.URL.Path, "\x00") || strings.Contains(raw, "%00") {
		return errBadRequest("InvalidURI", "The key may not hold NUL or an encoded '/'.")
	}
	for _, c := range strings.Split(r.URL.Path, "/") {
		if c == ".." || c == "." {
			return errBadRequest("InvalidURI", "The key may not hold '.' or '..' components.")
		}
	}
	return nil
}

// authenticate checks a signed request's signature; an unsigned one
// passes only when anonymous access is allowed.
func (s *Server) authenticate(r *http.Request) *s3Error {
	if !isSigned(r) {
		if s.opts.Anonymous {
			return nil
		}
		return errAccessDenied("Anonymous access is not allowed: sign the request.")
	}
	if isSigV2(r) {
		return verifySigV2(r, s.opts.Credentials, s.opts.Now())
	}
	return verifySigV4(r, s.opts.Credentials, s.opts.Now())
}

// repoError turns an error opening or reading a repository into S3's.
func repoError(err error) *s3Error {
	switch {
	case errors.Is(err, store.ErrLocked):
		return errUnavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errUnavailable
	}
	return &s3Error{errInternal.Status, errInternal.Code, err.Error()}
}
