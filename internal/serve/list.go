package serve

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// bucketQuery are the query parameters of the bucket calls the gateway
// implements; any other asks for a call it does not.
var bucketQuery = map[string]bool{
	"list-type": true, "prefix": true, "delimiter": true, "continuation-token": true, "start-after": true,
	"max-keys": true, "encoding-type": true, "fetch-owner": true, "marker": true, "location": true, "x-id": true,
}

// serveBucket answers HeadBucket, GetBucketLocation, ListObjectsV2 and
// ListObjects.
func (b *bucket) serveBucket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if !bucketQuery[k] && !strings.HasPrefix(k, "X-Amz-") && !sigV2Query[k] {
			writeError(w, r, errNotImplemented("The bucket call ?"+k+" is not implemented."))
			return
		}
	}
	switch {
	case r.Method == http.MethodHead:
		w.Header().Set("x-amz-bucket-region", b.srv.opts.Region)
		w.WriteHeader(http.StatusOK)
	case q.Has("location"):
		loc := b.srv.opts.Region
		if loc == "us-east-1" {
			loc = "" // as S3 answers for its first region
		}
		writeXML(w, struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			NS      string   `xml:"xmlns,attr"`
			Region  string   `xml:",chardata"`
		}{NS: s3NS, Region: loc})
	default:
		b.listObjects(w, r, q.Get("list-type") == "2")
	}
}

// listBuckets answers ListBuckets: one bucket per repository.
func (s *Server) listBuckets(w http.ResponseWriter) {
	type bucketXML struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
	}
	res := struct {
		XMLName xml.Name    `xml:"ListAllMyBucketsResult"`
		NS      string      `xml:"xmlns,attr"`
		OwnerID string      `xml:"Owner>ID"`
		Owner   string      `xml:"Owner>DisplayName"`
		Buckets []bucketXML `xml:"Buckets>Bucket"`
	}{NS: s3NS, OwnerID: "dx", Owner: "dx"}
	for _, n := range s.names {
		res.Buckets = append(res.Buckets, bucketXML{Name: n, CreationDate: s3Time(s.started)})
	}
	writeXML(w, res)
}

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type contentXML struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         uint64 `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type prefixXML struct {
	Prefix string `xml:"Prefix"`
}

type listResult struct {
	XMLName               xml.Name     `xml:"ListBucketResult"`
	NS                    string       `xml:"xmlns,attr"`
	Name                  string       `xml:"Name"`
	Prefix                string       `xml:"Prefix"`
	Marker                *string      `xml:"Marker,omitempty"`
	NextMarker            string       `xml:"NextMarker,omitempty"`
	StartAfter            string       `xml:"StartAfter,omitempty"`
	ContinuationToken     string       `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string       `xml:"NextContinuationToken,omitempty"`
	KeyCount              *int         `xml:"KeyCount,omitempty"`
	MaxKeys               int          `xml:"MaxKeys"`
	Delimiter             string       `xml:"Delimiter,omitempty"`
	EncodingType          string       `xml:"EncodingType,omitempty"`
	IsTruncated           bool         `xml:"IsTruncated"`
	Contents              []contentXML `xml:"Contents"`
	CommonPrefixes        []prefixXML  `xml:"CommonPrefixes"`
}

// listObjects answers ListObjectsV2 (v2) or ListObjects.
func (b *bucket) listObjects(w http.ResponseWriter, r *http.Request, v2 bool) {
	q := r.URL.Query()
	l := &lister{ctx: r.Context(), prefix: q.Get("prefix"), delim: q.Get("delimiter"), max: 1000}
	if s := q.Get("max-keys"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, r, errBadRequest("InvalidArgument", "max-keys must be a number from 0."))
			return
		}
		l.max = min(n, 1000)
	}
	if enc := q.Get("encoding-type"); enc != "" && enc != "url" {
		writeError(w, r, errBadRequest("InvalidArgument", "encoding-type must be url."))
		return
	}
	res := listResult{NS: s3NS, Name: b.name, MaxKeys: l.max, Delimiter: q.Get("delimiter"), Prefix: l.prefix}
	if v2 {
		res.StartAfter, l.after = q.Get("start-after"), q.Get("start-after")
		if tok := q.Get("continuation-token"); tok != "" {
			after, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				writeError(w, r, errBadRequest("InvalidArgument", "The continuation token is not valid."))
				return
			}
			res.ContinuationToken = tok
			l.after = max(l.after, string(after))
		}
	} else {
		marker := q.Get("marker")
		res.Marker, l.after = &marker, marker
	}
	if l.max > 0 {
		if e := b.read(r.Context(), l.run); e != nil {
			writeError(w, r, e)
			return
		}
	}
	enc := func(s string) string { return s }
	if q.Get("encoding-type") == "url" {
		res.EncodingType = "url"
		enc = func(s string) string { return uriEncode(s, true) }
		res.Prefix, res.Delimiter, res.StartAfter = enc(res.Prefix), enc(res.Delimiter), enc(res.StartAfter)
		if res.Marker != nil {
			m := enc(*res.Marker)
			res.Marker = &m
		}
	}
	for _, k := range l.keys {
		res.Contents = append(res.Contents, contentXML{Key: enc(k.key), LastModified: s3Time(k.modified),
			ETag: `"` + k.id.String() + `"`, Size: k.size, StorageClass: "STANDARD"})
	}
	for _, p := range l.prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, prefixXML{Prefix: enc(p)})
	}
	res.IsTruncated = l.truncated
	if v2 {
		n := len(l.keys) + len(l.prefixes)
		res.KeyCount = &n
		if l.truncated {
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(l.last))
		}
	} else if l.truncated {
		res.NextMarker = enc(l.last)
	}
	writeXML(w, res)
}

// listedKey is one object of a listing.
type listedKey struct {
	key      string
	id       dag.ID
	size     uint64
	modified time.Time
}

// lister walks the key space (refs, then their trees) in key order from
// after, keeping the keys under prefix, rolling keys up into common
// prefixes at delim, and stopping after max of both.
type lister struct {
	ctx                  context.Context
	prefix, delim, after string
	max                  int

	keys      []listedKey
	prefixes  []string
	last      string // the last key or prefix listed
	truncated bool
}

// errPageFull stops the walk once a page is full.
var errPageFull = errors.New("page full")

func (l *lister) run(rv readView) *s3Error {
	err := l.walkRefs(rv)
	if err != nil && !errors.Is(err, errPageFull) {
		return repoError(err)
	}
	return nil
}

// walkRefs lists the refs' trees: the one ref the prefix names, or every
// branch and tag that may hold keys under the prefix.
func (l *lister) walkRefs(rv readView) error {
	var refs []string
	if ref, _, ok := strings.Cut(l.prefix, "/"); ok {
		refs = []string{ref}
	} else {
		all, err := listedRefs(l.ctx, rv.r)
		if err != nil {
			return err
		}
		refs = all
	}
	for _, ref := range refs {
		err := l.dir(ref+"/", func() error {
			v, err := resolveRef(l.ctx, rv.r, ref)
			if errors.Is(err, ErrNoRef) {
				return nil
			}
			if err != nil {
				return err
			}
			return l.walkTree(rv, v, v.c.Tree, ref+"/", "")
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// walkTree lists the files of tree, whose keys begin with keyDir and
// whose paths with pathDir.
func (l *lister) walkTree(rv readView, v version, tree dag.ID, keyDir, pathDir string) error {
	entries, err := dag.ReadTree(l.ctx, rv.r.Store, tree)
	if err != nil {
		return err
	}
	// Keys sort a directory as its name and "/".
	sortKey := func(e dag.TreeEntry) string {
		if e.Mode == dag.ModeDir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.SliceStable(entries, func(i, j int) bool { return sortKey(entries[i]) < sortKey(entries[j]) })
	for _, e := range entries {
		key, p := keyDir+e.Name, pathDir+e.Name
		if e.Mode == dag.ModeDir {
			if !v.showsDir(p) {
				continue
			}
			err = l.dir(key+"/", func() error { return l.walkTree(rv, v, e.ID, key+"/", p+"/") })
		} else if v.showsFile(p) {
			err = l.file(listedKey{key: key, id: e.ID, size: e.Size, modified: v.c.Time})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// dir lists the keys under the directory key sub (ending in "/"): none
// when no key under it can be listed, its common prefix when the
// delimiter "/" rolls it up, else those descend lists. A common prefix
// sorting at or before after is not listed again (a continuation token
// is the last key or prefix listed).
func (l *lister) dir(sub string, descend func() error) error {
	if !strings.HasPrefix(sub, l.prefix) && !strings.HasPrefix(l.prefix, sub) {
		return nil
	}
	if l.delim == "/" && len(sub) > len(l.prefix) {
		return l.commonPrefix(sub)
	}
	if sub <= l.after && !strings.HasPrefix(l.after, sub) {
		return nil // every key under sub sorts before after
	}
	return descend()
}

// file lists one key, or the common prefix it rolls up into.
func (l *lister) file(k listedKey) error {
	if k.key <= l.after || !strings.HasPrefix(k.key, l.prefix) {
		return nil
	}
	if l.delim != "" {
		if i := strings.Index(k.key[len(l.prefix):], l.delim); i >= 0 {
			return l.commonPrefix(k.key[:len(l.prefix)+i+len(l.delim)])
		}
	}
	if err := l.room(); err != nil {
		return err
	}
	l.keys = append(l.keys, k)
	l.last = k.key
	return nil
}

func (l *lister) commonPrefix(p string) error {
	if p == l.last || p <= l.after {
		return nil
	}
	if err := l.room(); err != nil {
		return err
	}
	l.prefixes = append(l.prefixes, p)
	l.last = p
	return nil
}

// room fails with errPageFull, marking the listing truncated, when the
// page holds max entries already.
func (l *lister) room() error {
	if len(l.keys)+len(l.prefixes) >= l.max {
		l.truncated = true
		return errPageFull
	}
	return nil
}
