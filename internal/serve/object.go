package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
)

// objectQuery are the query parameters GetObject and HeadObject accept;
// any other (acl, tagging, versionId, …) asks for a call not implemented.
func objectQuery(k string) bool {
	return strings.HasPrefix(k, "response-") || strings.HasPrefix(k, "X-Amz-") || k == "x-id" || sigV2Query[k]
}

// object is a file at a version, as a request found it.
type object struct {
	v     version
	entry dag.TreeEntry
}

func (o object) etag() string { return `"` + o.entry.ID.String() + `"` }

// serveObject answers GetObject and HeadObject for key (REF/PATH).
func (b *bucket) serveObject(w http.ResponseWriter, r *http.Request, key string) {
	for k := range r.URL.Query() {
		if !objectQuery(k) {
			writeError(w, r, errNotImplemented("The object call ?"+k+" is not implemented."))
			return
		}
	}
	ctx := r.Context()
	var obj object
	var bd *body
	var cached *os.File // the file's decoded copy, when the file cache has it
	var from, to int64
	partial := false
	// Under the view: resolve the key and, for a GET, the file's copy or
	// else the chunks of the range. The body is written after the view
	// is released.
	e := b.read(ctx, func(rp readView) *s3Error {
		var e *s3Error
		if obj, e = lookupObject(ctx, rp, key); e != nil {
			return e
		}
		setObjectHeaders(w, r, obj)
		if e := checkConditions(r, obj); e != nil {
			return e
		}
		size := int64(obj.entry.Size)
		from, to, partial, e = parseRange(r.Header.Get("Range"), size)
		if e != nil {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			return e
		}
		if r.Method == http.MethodGet {
			if cached = b.srv.files.open(obj.entry.ID, size); cached != nil {
				return nil
			}
			var err error
			if bd, err = b.rangeBody(ctx, rp.r, obj.entry.ID, from, to); err != nil {
				return repoError(err)
			}
		}
		return nil
	})
	if bd != nil {
		defer bd.close()
	}
	if cached != nil {
		defer cached.Close()
	}
	if e != nil {
		if e.Status == http.StatusNotModified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeError(w, r, e)
		return
	}
	size := int64(obj.entry.Size)
	w.Header().Set("Content-Length", strconv.FormatInt(to-from, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to-1, size))
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(status)
	var err error
	switch {
	case cached != nil:
		err = b.srv.files.copyRange(w, cached, obj.entry.ID, from, to)
	case from == 0 && to == size:
		// A whole GET keeps a copy of the file as it streams, when the
		// cache takes it.
		out := io.Writer(w)
		if fill := b.srv.files.startFill(obj.entry.ID, size); fill != nil {
			defer fill.abandon()
			out = fillWriter{w: w, fill: fill}
		}
		err = b.writeBody(ctx, out, bd, from, to)
	default:
		// A file asked for in ranges that add up to half of it is
		// filled in the background (hotfill.go).
		if b.srv.files.rangedRead(obj.entry.ID, to-from, size) {
			b.fillInBackground(obj.entry.ID, size)
		}
		err = b.writeBody(ctx, w, bd, from, to)
	}
	if err != nil {
		// The status is sent: only a cut connection tells the client.
		panic(http.ErrAbortHandler)
	}
}

// lookupObject resolves REF/PATH to a file.
func lookupObject(ctx context.Context, rp readView, key string) (object, *s3Error) {
	ref, p, _ := strings.Cut(key, "/")
	if p == "" || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return object{}, errNoSuchKey
	}
	v, err := resolveRef(ctx, rp.r, ref)
	if errors.Is(err, ErrNoRef) {
		return object{}, errNoSuchKey
	}
	if err != nil {
		return object{}, repoError(err)
	}
	if !v.showsFile(p) {
		return object{}, errNoSuchKey
	}
	e, err := dag.LookupPath(ctx, rp.r.Store, v.c.Tree, p)
	if errors.Is(err, dag.ErrNotFound) {
		return object{}, errNoSuchKey
	}
	if err != nil {
		return object{}, repoError(err)
	}
	if e.Mode == dag.ModeDir {
		return object{}, errNoSuchKey
	}
	return object{v: v, entry: e}, nil
}

// setObjectHeaders sets the headers every answer about an object carries.
func setObjectHeaders(w http.ResponseWriter, r *http.Request, o object) {
	h := w.Header()
	h.Set("ETag", o.etag())
	h.Set("Last-Modified", o.v.c.Time.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-amz-meta-dx-commit", o.v.commit.String())
	ct := mime.TypeByExtension(path.Ext(o.entry.Name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	q := r.URL.Query()
	for _, name := range []string{"Content-Type", "Content-Language", "Expires", "Cache-Control", "Content-Disposition", "Content-Encoding"} {
		if v := q.Get("response-" + strings.ToLower(name)); v != "" {
			h.Set(name, v)
		}
	}
}

// errNotModified is not an error for the client: it stops the request
// with 304 and no body.
var errNotModified = &s3Error{Status: http.StatusNotModified, Code: "NotModified"}

// checkConditions applies If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since, as S3 does: an ETag condition present overrides its
// date counterpart.
func checkConditions(r *http.Request, o object) *s3Error {
	etag := o.etag()
	modified := o.v.c.Time.UTC().Truncate(time.Second)
	if im := r.Header.Get("If-Match"); im != "" {
		if !etagMatches(im, etag) {
			return errPrecondition
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" {
		if t, err := http.ParseTime(ius); err == nil && modified.After(t) {
			return errPrecondition
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagMatches(inm, etag) {
			return errNotModified
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			return errNotModified
		}
	}
	return nil
}

// etagMatches reports whether a list of ETags (or "*") holds etag.
func etagMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag || `"`+t+`"` == etag {
			return true
		}
	}
	return false
}

// parseRange reads a Range header against an object of size bytes. A
// header that is not one byte range is ignored, as S3 does; a range that
// starts past the end is InvalidRange.
func parseRange(h string, size int64) (from, to int64, partial bool, e *s3Error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, z, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	if a == "" { // the last z bytes
		n, err := strconv.ParseInt(z, 10, 64)
		if err != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, errInvalidRange
		}
		return max(size-n, 0), size, true, nil
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return 0, size, false, nil
	}
	end := size - 1
	if z != "" {
		if end, err = strconv.ParseInt(z, 10, 64); err != nil || end < start {
			return 0, size, false, nil
		}
		end = min(end, size-1)
	}
	if start >= size {
		return 0, 0, false, errInvalidRange
	}
	return start, end + 1, true, nil
}
