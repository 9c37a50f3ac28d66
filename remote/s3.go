package remote

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	// s3PartSize is the multipart part size, and the size above which a
	// Put goes multipart.
	s3PartSize = 16 << 20
	// s3PutThreads is how many parts of one Put are in flight at once
	// (each holds a part-sized buffer).
	s3PutThreads = 4
	// s3StreamPartSize and s3StreamThreads shape the Put of a stream (a
	// pack copied from another remote): smaller parts, fewer in flight, so
	// that a copy holds a fixed 16 MiB whatever the size of what it copies.
	s3StreamPartSize = 8 << 20
	s3StreamThreads  = 2
	// s3StreamSingleMax is the largest stream sent as one PUT, streamed
	// with a chunked signature and held nowhere: one request instead of a
	// multipart upload's parts, initiation and completion. It cannot be
	// retried mid-way; the caller's rerun takes it again.
	s3StreamSingleMax = 64 << 20
	// s3DialTimeout bounds one TCP connect, so that a black-holed endpoint
	// fails in seconds rather than minio-go's default 30 s per attempt.
	s3DialTimeout = 5 * time.Second
	// s3CheckRetries is how many attempts Check makes. Other requests keep
	// minio-go's default (10 attempts, backoff capped at 1 s), which rides
	// out a flaky network in the middle of a long push.
	s3CheckRetries = 2
	// s3CheckTimeout bounds the wait for each of Check's responses.
	s3CheckTimeout = 10 * time.Second
)

// s3Backend is a remote in an S3 bucket, under an optional key prefix.
type s3Backend struct {
	url      string // s3://bucket[/prefix]
	bucket   string
	root     string // "" or the prefix followed by "/"
	endpoint string // host[:port], for messages
	client   *minio.Client
	core     minio.Core    // client's low-level calls
	probe    *minio.Client // client with few retries, for Check
	creds    *credentials.Credentials
	// transport carries the requests made outside minio-go (Listen's).
	transport http.RoundTripper
}

var _ Backend = (*s3Backend)(nil)

// s3Endpoint is the endpoint c reaches: its own, else the environment's,
// else AWS.
func s3Endpoint(c Config, loc location) (string, error) {
	ep := c.Endpoint
	for _, v := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if ep != "" {
			break
		}
		if env := strings.TrimSpace(os.Getenv(v)); env != "" {
			var err error
			if ep, err = normalizeEndpoint(env); err != nil {
				return "", fmt.Errorf("remote %s: $%s: %w", loc, v, err)
			}
		}
	}
	if ep == "" {
		ep = "s3.amazonaws.com"
	}
	return ep, nil
}

// openS3 builds the S3 client for c. minio.New does no I/O.
func openS3(c Config, loc location) (*s3Backend, error) {
	ep, err := s3Endpoint(c, loc)
	if err != nil {
		return nil, err
	}
	host, insecure, explicit := endpointAddr(ep)
	if !explicit {
		insecure = c.Insecure
	}
	region := c.Region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	// Environment keys, then the AWS shared files (AWS_PROFILE,
	// AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), then MinIO's
	// variables. No IAM/instance metadata: that probes the network. When
	// none has keys the chain yields anonymous (unsigned) access.
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.EnvMinio{},
	})
	tr, err := minio.DefaultTransport(!insecure)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", loc, err)
	}
	tr.DialContext = (&net.Dialer{Timeout: s3DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	// Check's client also gives up sooner on a server that accepts a
	// connection but does not answer (minio-go waits a minute).
	probeTr := tr.Clone()
	probeTr.ResponseHeaderTimeout = s3CheckTimeout
	opts := func(tr http.RoundTripper, retries int) *minio.Options {
		o := &minio.Options{
			Creds:      creds,
			Secure:     !insecure,
			Transport:  tr,
			Region:     region, // empty: minio-go asks the bucket's location once
			MaxRetries: retries,
		}
		if c.PathStyle {
			o.BucketLookup = minio.BucketLookupPath
		}
		return o
	}
	client, err := minio.New(host, opts(tr, 0)) // 0: minio-go's default
	if err != nil {
		return nil, fmt.Errorf("remote %s: endpoint %q: %w", loc, ep, err)
	}
	probe, err := minio.New(host, opts(probeTr, s3CheckRetries))
	if err != nil {
		return nil, fmt.Errorf("remote %s: endpoint %q: %w", loc, ep, err)
	}
	root := ""
	if loc.prefix != "" {
		root = loc.prefix + "/"
	}
	return &s3Backend{
		url:       loc.String(),
		bucket:    loc.bucket,
		root:      root,
		endpoint:  host,
		client:    client,
		core:      minio.Core{Client: client},
		probe:     probe,
		creds:     creds,
		transport: tr,
	}, nil
}

func (b *s3Backend) String() string { return b.url }

func (b *s3Backend) object(key string) string { return b.root + key }

// Check lists at most one ref with a client that retries little, so that
// an unreachable endpoint, a missing bucket or wrong credentials fail fast.
func (b *s3Backend) Check(ctx context.Context) error {
	noOwner := false
	for o := range b.probe.ListObjectsIter(ctx, b.bucket, minio.ListObjectsOptions{
		Prefix: b.object(refsPrefix), Recursive: true, MaxKeys: 1, FetchOwner: &noOwner,
	}) {
		if o.Err != nil {
			return b.fail(ctx, "check", "", o.Err)
		}
		break
	}
	return ctx.Err()
}

func (b *s3Backend) Get(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	if err := checkKey(key); err != nil {
		return nil, "", fmt.Errorf("remote %s: %w", b, err)
	}
	body, info, _, err := b.core.GetObject(ctx, b.bucket, b.object(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, "", b.fail(ctx, "get", key, err)
	}
	defer body.Close()
	if info.Size > limit {
		return nil, "", fmt.Errorf("remote %s: get %s: %d bytes, more than %d: %w", b, key, info.Size, limit, ErrTooLarge)
	}
	data, err := readLimited(body, limit, info.Size)
	if errors.Is(err, ErrTooLarge) {
		return nil, "", fmt.Errorf("remote %s: get %s: %w", b, key, err)
	}
	if err != nil {
		return nil, "", b.fail(ctx, "get", key, err)
	}
	return data, trimTag(info.ETag), nil
}

func (b *s3Backend) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("remote %s: %w", b, err)
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("remote %s: get %s: bad range %d+%d", b, key, off, n)
	}
	if n == 0 {
		// S3 has no empty range; check the object and its bounds instead.
		info, err := b.client.StatObject(ctx, b.bucket, b.object(key), minio.StatObjectOptions{})
		if err != nil {
			return nil, b.fail(ctx, "get", key, err)
		}
		if off > info.Size {
			return nil, rangeError(b, key, off, n, info.Size)
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	var opts minio.GetObjectOptions
	if err := opts.SetRange(off, off+n-1); err != nil {
		return nil, fmt.Errorf("remote %s: get %s: %w", b, key, err)
	}
	body, info, _, err := b.core.GetObject(ctx, b.bucket, b.object(key), opts)
	if err != nil {
		var er minio.ErrorResponse
		if errors.As(err, &er) && (er.Code == "InvalidRange" || er.StatusCode == http.StatusRequestedRangeNotSatisfiable) {
			return nil, rangeError(b, key, off, n, -1)
		}
		return nil, b.fail(ctx, "get", key, err)
	}
	if info.Size != n { // a range running past the end comes back short
		body.Close()
		return nil, rangeError(b, key, off, n, -1)
	}
	return body, nil
}

// Put stores exactly size bytes from r. From random access (a pack in
// memory or a file) it is one request up to 16 MiB, above a multipart
// upload with up to 4 parts in flight. From a stream it is one request up
// to 8 MiB (buffered, so it can be retried), above a multipart upload of
// 8 MiB parts, 2 in flight; an error from r aborts the upload. Either way
// S3 shows the object only when complete.
func (b *s3Backend) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("remote %s: %w", b, err)
	}
	if size < 0 {
		return fmt.Errorf("remote %s: put %s: negative size %d", b, key, size)
	}
	// A stream's own failure (a copied pack found damaged) is what the
	// Put failed of, whatever minio-go or net/http wrap it in.
	src := &readErr{r: r}
	body := io.Reader(&exactReader{r: src, left: size, size: size})
	var opts minio.PutObjectOptions
	if _, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		// Random access (a pack in memory): minio-go uploads the parts
		// straight from it, in parallel, and can retry without copies.
		body = r
		opts.PartSize = s3PartSize
		opts.NumThreads = uint(min((size+s3PartSize-1)/s3PartSize, s3PutThreads))
		opts.DisableMultipart = size <= s3PartSize
	} else if size <= s3StreamPartSize {
		buf := make([]byte, size)
		if _, err := io.ReadFull(body, buf); err != nil {
			return fmt.Errorf("remote %s: put %s: %w", b, key, err)
		}
		body = bytes.NewReader(buf)
		opts.DisableMultipart = true
	} else if size <= s3StreamSingleMax {
		opts.DisableMultipart = true
	} else {
		parts := (size + s3StreamPartSize - 1) / s3StreamPartSize
		opts.PartSize = s3StreamPartSize
		opts.NumThreads = uint(min(parts, s3StreamThreads))
		opts.ConcurrentStreamParts = true // r need not be seekable
	}
	if _, err := b.client.PutObject(ctx, b.bucket, b.object(key), body, size, opts); err != nil {
		var short *shortBodyError
		if errors.As(err, &short) {
			return fmt.Errorf("remote %s: put %s: %w", b, key, short)
		}
		if src.err != nil {
			return fmt.Errorf("remote %s: put %s: %w", b, key, src.err)
		}
		return b.fail(ctx, "put", key, err)
	}
	return nil
}

func (b *s3Backend) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	return b.listAfter(ctx, prefix, "")
}

// listAfter lists the objects under prefix whose keys sort after after
// ("" for all of them), sorted by key.
func (b *s3Backend) listAfter(ctx context.Context, prefix, after string) ([]ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("remote %s: %w", b, err)
	}
	opts := minio.ListObjectsOptions{Prefix: b.object(prefix), Recursive: true}
	noOwner := false
	opts.FetchOwner = &noOwner
	if after != "" {
		opts.StartAfter = b.object(after)
	}
	var out []ObjectInfo
	for o := range b.client.ListObjectsIter(ctx, b.bucket, opts) {
		if o.Err != nil {
			return nil, b.fail(ctx, "list", prefix, o.Err)
		}
		key, ok := strings.CutPrefix(o.Key, b.root)
		if !ok || key == "" || key <= after || strings.HasSuffix(key, "/") { // folder markers
			continue
		}
		out = append(out, ObjectInfo{Key: key, Size: o.Size, Tag: trimTag(o.ETag), Modified: o.LastModified})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("remote %s: list %s: %w", b, prefix, err)
	}
	slices.SortFunc(out, func(x, y ObjectInfo) int { return strings.Compare(x.Key, y.Key) })
	return out, nil
}

// Swap is a conditional PUT: If-None-Match: * to create, If-Match: ETag to
// replace. A request retried after a lost response can report a
// precondition failure for a write that in fact landed; callers re-read
// the ref after ErrPrecondition anyway, so that errs on the safe side.
func (b *s3Backend) Swap(ctx context.Context, key, oldTag string, data []byte) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("remote %s: %w", b, err)
	}
	opts := minio.PutObjectOptions{DisableMultipart: true}
	if oldTag == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(trimTag(oldTag))
	}
	info, err := b.client.PutObject(ctx, b.bucket, b.object(key), bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		var er minio.ErrorResponse
		if errors.As(err, &er) && (er.StatusCode == http.StatusPreconditionFailed ||
			er.Code == "PreconditionFailed" || er.Code == "ConditionalRequestConflict" ||
			er.Code == "NoSuchKey" && oldTag != "") {
			return "", fmt.Errorf("remote %s: update %s: %w", b, key, ErrPrecondition)
		}
		return "", b.fail(ctx, "update", key, err)
	}
	return trimTag(info.ETag), nil
}

func (b *s3Backend) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("remote %s: %w", b, err)
	}
	err := b.client.RemoveObject(ctx, b.bucket, b.object(key), minio.RemoveObjectOptions{})
	if err == nil {
		return nil
	}
	if err = b.fail(ctx, "delete", key, err); errors.Is(err, ErrNotExist) {
		return nil
	}
	return err
}

// trimTag normalises an ETag to its bare form (minio-go strips the quotes
// in most places; a caller may hand one back quoted).
func trimTag(tag string) string { return strings.Trim(tag, `"`) }

func rangeError(b Backend, key string, off, n, size int64) error {
	if size >= 0 {
		return fmt.Errorf("remote %s: get %s: range %d+%d runs past the end of the object (%d bytes)", b, key, off, n, size)
	}
	return fmt.Errorf("remote %s: get %s: range %d+%d runs past the end of the object", b, key, off, n)
}

// accessCodes are S3 error codes that mean the credentials are wrong or
// lack permission.
var accessCodes = map[string]bool{
	"AccessDenied":          true,
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"TokenRefreshRequired":  true,
	"AllAccessDisabled":     true,
	"AccountProblem":        true,
	"InvalidSecurity":       true,
}

// fail translates a minio-go error into one line naming the remote,
// wrapping ErrNotExist for a missing object and the context's error when
// the caller gave up.
func (b *s3Backend) fail(ctx context.Context, op, key string, err error) error {
	what := op
	if key != "" {
		what += " " + key
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("remote %s: %s: %w", b, what, ctx.Err())
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		switch {
		case er.Code == "NoSuchBucket":
			return fmt.Errorf("remote %s: bucket %q does not exist", b, b.bucket)
		case er.Code == "NoSuchKey" || er.Code == "" && er.StatusCode == http.StatusNotFound:
			return fmt.Errorf("remote %s: %s: %w", b, key, ErrNotExist)
		case accessCodes[er.Code] || er.StatusCode == http.StatusForbidden:
			if v, cerr := b.creds.GetWithContext(&credentials.CredContext{Client: http.DefaultClient, Context: ctx}); cerr == nil && v.SignerType.IsAnonymous() {
				return fmt.Errorf("remote %s: access denied (no credentials found: set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE)", b)
			}
			return fmt.Errorf("remote %s: access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE)", b)
		case er.Code == "PermanentRedirect" || er.Code == "AuthorizationHeaderMalformed" && er.Region != "":
			return fmt.Errorf("remote %s: the bucket is in another region%s (set --region or AWS_REGION)", b, inRegion(er.Region))
		}
		msg := er.Message
		if msg == "" {
			msg = http.StatusText(er.StatusCode)
		}
		if er.Code != "" {
			msg = er.Code + ": " + msg
		}
		return fmt.Errorf("remote %s: %s: %s", b, what, oneLine(msg))
	}
	if cause, ok := netCause(err); ok {
		return fmt.Errorf("remote %s: cannot reach endpoint %s: %w", b, b.endpoint, unreachableError{cause})
	}
	return fmt.Errorf("remote %s: %s: %w", b, what, err)
}

// readErr passes r on and keeps its first error other than io.EOF.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// unreachableError is a network failure, in a few words; it is
// ErrUnreachable.
type unreachableError struct{ cause string }

func (e unreachableError) Error() string        { return e.cause }
func (e unreachableError) Is(target error) bool { return target == ErrUnreachable }

func inRegion(r string) string {
	if r == "" {
		return ""
	}
	return " " + r
}

// netCause names the network failure in err, if it is one, in a few words
// rather than Go's whole chain ("Get "http://...": dial tcp ...: connect:
// connection refused").
func netCause(err error) (string, bool) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return "no such host", true
		case dnsErr.IsTimeout:
			return "DNS lookup timed out", true
		}
		return "DNS lookup failed: " + dnsErr.Err, true
	}
	for _, e := range []struct {
		errno syscall.Errno
		say   string
	}{
		{syscall.ECONNREFUSED, "connection refused"},
		{syscall.ECONNRESET, "connection reset"},
		{syscall.EHOSTUNREACH, "no route to host"},
		{syscall.ENETUNREACH, "network is unreachable"},
		{syscall.ETIMEDOUT, "timed out"},
	} {
		if errors.Is(err, e.errno) {
			return e.say, true
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if strings.Contains(err.Error(), "awaiting response headers") {
			return "timed out waiting for an answer", true
		}
		return "timed out", true
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		certErr   x509.CertificateInvalidError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certErr) {
		return "TLS certificate not trusted: " + innermost(err), true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := innermost(ue.Err)
		switch {
		case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
			return "it speaks plain http (use an http:// endpoint or --insecure)", true
		case errors.Is(ue.Err, io.EOF) || errors.Is(ue.Err, io.ErrUnexpectedEOF):
			return "connection closed by the server", true
		}
		return msg, true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return innermost(opErr), true
	}
	return "", false
}

// innermost is the message of the deepest error err wraps.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return oneLine(err.Error())
		}
		err = next
	}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}
