package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/chunker"
)

// A row by key (GET /v1/rows/REV/PATH?key=K, K repeated for each column
// of a composite key) reads the table's first chunk for its header, looks
// up the key range of every chunk in the store's index (recorded at
// ingest: the least and greatest key of the rows starting in the chunk),
// and reads only the chunks whose range holds the key, with those whose
// range is not recorded. A chunk of the chunker's maximum size may end
// inside a row (it found no row end), so such a chunk and the next one are
// read together, whatever their ranges say. A table not cut at row ends
// (sniffed as binary, or a CSV cut in line mode) is read whole.

// rowAnswer is the answer of /v1/rows.
type rowAnswer struct {
	Commit     dag.ID            `json:"commit"`
	Path       string            `json:"path"`
	Key        []string          `json:"key"`
	Row        *table.OrderedRow `json:"row"`
	Line       int               `json:"line,omitempty"` // counted from the start of the chunks read
	Chunks     int               `json:"chunks"`         // of the table
	ChunksRead int               `json:"chunks_read"`    // for the lookup, the header's included
	Spec       string            `json:"table"`
}

func apiRow(ctx context.Context, rv readView, spec string, q url.Values) (any, *apiError) {
	rev, p, _ := strings.Cut(spec, "/")
	p = strings.Trim(p, "/")
	keyParts := q["key"]
	if p == "" || len(keyParts) == 0 {
		return nil, &apiError{http.StatusBadRequest, "InvalidArgument", "want /v1/rows/REV/PATH?key=K"}
	}
	v, e := apiVersion(ctx, rv, rev)
	if e != nil {
		return nil, e
	}
	entry, err := dag.LookupPath(ctx, rv.r.Store, v.c.Tree, p)
	if errors.Is(err, dag.ErrNotFound) || (err == nil && (!entry.Mode.IsFile() || !v.showsFile(p))) {
		return nil, notFound("no file " + strconv.Quote(p) + " in " + rev)
	}
	if err != nil {
		return nil, apiErr(repoError(err))
	}
	ts, ok, err := rv.r.TableSpec(ctx, v.c.Tree, p)
	if err != nil {
		return nil, apiErr(repoError(err))
	}
	if !ok || len(ts.Key) == 0 {
		return nil, &apiError{http.StatusBadRequest, "NotKeyed", p + " is not a keyed table in .dxattributes"}
	}
	if len(keyParts) != len(ts.Key) {
		return nil, &apiError{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("%s is keyed by %d columns (%s): give key= %d times", p, len(ts.Key), strings.Join(ts.Key, ","), len(ts.Key))}
	}
	ans, err := lookupRow(ctx, rv, ts, entry, p, strings.Join(keyParts, merge.KeySep))
	if err != nil {
		return nil, apiErr(repoError(err))
	}
	if ans.Row == nil {
		return nil, notFound(fmt.Sprintf("no row with key %s in %s", merge.ShowKey(strings.Join(keyParts, merge.KeySep)), p))
	}
	ans.Commit, ans.Key = v.commit, keyParts
	return ans, nil
}

// tableIndex is what a row lookup learns of one version of a table: its
// chunks, its header, and each chunk's recorded key range. A version's
// content never changes, so it is kept for the next lookups (tableCache).
type tableIndex struct {
	spans   []span
	header  merge.Header
	hlen    int    // bytes of the first chunk the header takes
	aligned bool   // cut only at row ends, but after full-size chunks and where inside says
	inside  []bool // the cuts that fall inside a row (after chunk i); nil if none
	// ranges[i] is chunk i's recorded key range, if known[i]; known is
	// nil when the table has no usable ranges (every chunk is a
	// candidate).
	ranges []dag.KeyRange
	known  []bool
	tag    [8]byte // the ranges' tag, if hasTag
	hasTag bool    // the table's chunks may have ranges recorded

	mu     sync.Mutex // guards ranged, and ranges and known until it is set
	ranged bool       // ranges and known are loaded
}

// loadTableBase reads what every lookup in a table version needs: its
// file nodes and its first chunk (through read), for the header. The key
// ranges are left to loadRanges.
func loadTableBase(ctx context.Context, rv readView, rd *table.Reader, entry dag.TreeEntry, p string, read func(dag.ChunkRef) ([]byte, error)) (*tableIndex, error) {
	spans, err := fileSpans(ctx, rv.r.Store, entry.ID, 0, int64(entry.Size))
	if err != nil || len(spans) == 0 {
		return &tableIndex{spans: spans}, err
	}
	first, err := read(spans[0].ref)
	if err != nil {
		return nil, err
	}
	ti := &tableIndex{spans: spans}
	if ti.header, ti.hlen, err = rd.Header(first, len(spans) == 1); err != nil {
		return nil, fmt.Errorf("%s: header: %w", p, err)
	}
	var inside []int
	if ti.aligned, inside, err = rv.r.CutAtRowEnds(ctx, rd.Spec(), entry.ID, p); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(inside) > 0 {
		ti.inside = make([]bool, len(spans))
		for _, i := range inside {
			if i < len(spans) {
				ti.inside[i] = true
			}
		}
	}
	ti.tag, _, ti.hasTag = rd.ChunkKeys(ti.header)
	ti.hasTag = ti.hasTag && ti.aligned
	return ti, nil
}

// loadRanges looks up the key ranges recorded for every chunk, once.
func (ti *tableIndex) loadRanges(ctx context.Context, rv readView) error {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if ti.ranged || !ti.hasTag {
		ti.ranged = true
		return nil
	}
	var err error
	if ti.ranges, ti.known, err = keyRanges(ctx, rv, ti.tag, ti.spans); err != nil {
		ti.ranges, ti.known = nil, nil
		return err
	}
	ti.ranged = true
	return nil
}

// isRanged reports whether loadRanges is done.
func (ti *tableIndex) isRanged() bool {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ti.ranged
}

// probe finds by binary search over the chunks' recorded ranges, as if
// the table were sorted by key, the chunk the row with key would start
// in; -1 when the search meets a chunk with no range or ends on none.
// In a table not sorted it may miss the row, never find a wrong one.
func (ti *tableIndex) probe(ctx context.Context, rv readView, key string) (int, error) {
	if !ti.hasTag {
		return -1, nil
	}
	lo, hi := 0, len(ti.spans)-1
	for lo <= hi {
		mid := (lo + hi) / 2
		r, ok, err := rv.r.Store.KeyRanges(ctx, ti.tag, []store.KeyRangeRef{{ID: ti.spans[mid].ref.ID, First: mid == 0}})
		switch {
		case err != nil:
			return -1, err
		case !ok[0]:
			return -1, nil
		case dag.CompareKeys(key, r[0].Lo) < 0:
			hi = mid - 1
		case dag.CompareKeys(key, r[0].Hi) > 0:
			lo = mid + 1
		default:
			return mid, nil
		}
	}
	return -1, nil
}

// keyRanges looks up the recorded key ranges of the chunks of spans, in
// parallel parts: a big table has tens of thousands.
func keyRanges(ctx context.Context, rv readView, tag [8]byte, spans []span) ([]dag.KeyRange, []bool, error) {
	ranges, known := make([]dag.KeyRange, len(spans)), make([]bool, len(spans))
	const part = 2048
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for lo := 0; lo < len(spans); lo += part {
		hi := min(lo+part, len(spans))
		g.Go(func() error {
			refs := make([]store.KeyRangeRef, hi-lo)
			for i := range refs {
				refs[i] = store.KeyRangeRef{ID: spans[lo+i].ref.ID, First: lo+i == 0}
			}
			r, k, err := rv.r.Store.KeyRanges(ctx, tag, refs)
			copy(ranges[lo:], r)
			copy(known[lo:], k)
			return err
		})
	}
	return ranges, known, g.Wait()
}

// candidates marks the chunks the row with key may start in: those whose
// recorded range holds it, those with none recorded, and those on either
// side of a boundary that may fall inside a row (a chunk of the chunker's
// maximum size ends inside a row when it found no row end, and a table of
// another dialect may be cut inside a quoted field; the ranges next to it
// were computed from part of a row).
func (ti *tableIndex) candidates(key string) []bool {
	c := make([]bool, len(ti.spans))
	for i := range c {
		c[i] = ti.known == nil || !ti.known[i] ||
			(dag.CompareKeys(ti.ranges[i].Lo, key) <= 0 && dag.CompareKeys(key, ti.ranges[i].Hi) <= 0) ||
			ti.untrusted(i) || (i > 0 && ti.untrusted(i-1))
	}
	return c
}

// untrusted reports whether the boundary after chunk i may fall inside a
// row: after a chunk of the chunker's greatest size, or where a table of
// another dialect is cut inside a quoted field.
func (ti *tableIndex) untrusted(i int) bool {
	return int(ti.spans[i].ref.Len) >= chunker.DefaultOptions().ForMode(chunker.Lines).Max || ti.inside != nil && ti.inside[i]
}

// lookupRow finds the row with key in the table file entry, reading the
// chunks as the comment at the top of this file says. Until a lookup in
// a version of a table has needed every chunk's range, lookups try a
// binary search over the chunks' ranges first: in a table sorted by key
// it finds the row's chunk in a few index reads, and since a committed
// table's keys are unique (dx commit refuses a repeated one), a row found
// so is the row. Otherwise every chunk's range is looked up, and kept for
// the lookups after.
func lookupRow(ctx context.Context, rv readView, ts table.Spec, entry dag.TreeEntry, p, key string) (*rowAnswer, error) {
	read := map[dag.ID][]byte{}
	chunk := func(ref dag.ChunkRef) ([]byte, error) {
		if b, ok := read[ref.ID]; ok {
			return b, nil
		}
		b, err := rv.chunk(ctx, ref)
		if err != nil {
			return nil, err
		}
		read[ref.ID] = b
		return b, nil
	}
	rd := table.New(ts)
	ans := &rowAnswer{Path: p, Spec: ts.String()}
	ti, err := rv.b.srv.tables.get(tableKey{entry.ID, ts.String()}, func() (*tableIndex, error) {
		return loadTableBase(ctx, rv, rd, entry, p, chunk)
	})
	if err != nil {
		return nil, err
	}
	if !ti.isRanged() {
		i, err := ti.probe(ctx, rv, key)
		if err != nil {
			return nil, err
		}
		if i >= 0 {
			lo, hi := ti.run(i, i)
			if ans.Row, err = ti.find(rd, lo, hi, key, chunk); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		if ans.Row != nil {
			ans.Chunks, ans.ChunksRead = len(ti.spans), len(read)
			return ans, nil
		}
		if err := ti.loadRanges(ctx, rv); err != nil {
			return nil, err
		}
	}
	ans.Chunks = len(ti.spans)
	candidate := ti.candidates(key)
	for i := 0; i < len(ti.spans) && ans.Row == nil; i++ {
		if !candidate[i] {
			continue
		}
		hi := i
		for hi < len(ti.spans)-1 && candidate[hi+1] {
			hi++
		}
		lo, hi := ti.run(i, hi)
		var err error
		if ans.Row, err = ti.find(rd, lo, hi, key, chunk); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		i = hi
	}
	ans.ChunksRead = len(read)
	return ans, nil
}

// run widens chunks lo..hi over the boundaries that may fall inside a
// row, so that its bytes are whole rows.
func (ti *tableIndex) run(lo, hi int) (int, int) {
	for lo > 0 && ti.untrusted(lo-1) {
		lo--
	}
	for hi < len(ti.spans)-1 && ti.untrusted(hi) {
		hi++
	}
	return lo, hi
}

// find parses the rows of chunks lo..hi (a run of whole rows) and
// returns the one with key, or nil.
func (ti *tableIndex) find(rd *table.Reader, lo, hi int, key string, chunk func(dag.ChunkRef) ([]byte, error)) (*table.OrderedRow, error) {
	var data []byte
	for j := lo; j <= hi; j++ {
		b, err := chunk(ti.spans[j].ref)
		if err != nil {
			return nil, err
		}
		if j == 0 {
			b = b[ti.hlen:]
		}
		data = append(data, b...)
	}
	var found *table.OrderedRow
	err := rd.Parse(ti.header, data, hi == len(ti.spans)-1, func(row merge.Row) error {
		if row.Key == key && found == nil {
			found = &table.OrderedRow{Cols: row.Cols, Vals: row.Vals, JSON: rd.Spec().Format == table.JSONL}
		}
		return nil
	})
	return found, err
}

// chunk reads a chunk through the shared cache under this view.
func (rv readView) chunk(ctx context.Context, ref dag.ChunkRef) ([]byte, error) {
	return rv.b.chunkIn(ctx, rv.r, ref)
}
