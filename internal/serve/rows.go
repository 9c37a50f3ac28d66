package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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
// read together, whatever their ranges say. A table not cut at row ends (sniffed as binary, or a CSV
// cut in line mode) is read whole.

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

// lookupRow finds the row with key in the table file entry, reading the
// chunks as the comment at the top of this file says.
func lookupRow(ctx context.Context, rv readView, ts table.Spec, entry dag.TreeEntry, p, key string) (*rowAnswer, error) {
	spans, err := fileSpans(ctx, rv.r.Store, entry.ID, 0, int64(entry.Size))
	if err != nil {
		return nil, err
	}
	ans := &rowAnswer{Path: p, Chunks: len(spans), Spec: ts.String()}
	if len(spans) == 0 {
		return ans, nil
	}
	read := map[int][]byte{}
	chunk := func(i int) ([]byte, error) {
		if b, ok := read[i]; ok {
			return b, nil
		}
		b, err := rv.chunk(ctx, spans[i].ref)
		if err != nil {
			return nil, err
		}
		read[i] = b
		return b, nil
	}
	first, err := chunk(0)
	if err != nil {
		return nil, err
	}
	rd := table.New(ts)
	h, hlen, err := rd.Header(first, len(spans) == 1)
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", p, err)
	}
	// A chunk of the chunker's maximum size may end inside a row: the
	// boundary after it is not trusted, and the key ranges of the chunks
	// on both sides of it were computed from part of a row.
	maxLen := chunker.DefaultOptions().ForMode(chunker.Lines).Max
	untrusted := func(i int) bool { return int(spans[i].ref.Len) >= maxLen } // the boundary after chunk i
	candidate := make([]bool, len(spans))
	if rowAligned(p, first, ts.Format) {
		if err := keyCandidates(ctx, rv, rd, h, spans, chunk, key, candidate); err != nil {
			return nil, err
		}
	} else {
		for i := range candidate {
			candidate[i] = true
		}
	}
	for i := range candidate {
		candidate[i] = candidate[i] || untrusted(i) || (i > 0 && untrusted(i-1))
	}
	// Read each run of candidates, widened over untrusted boundaries, and
	// parse its rows.
	for i := 0; i < len(spans); i++ {
		if !candidate[i] {
			continue
		}
		lo, hi := i, i
		for lo > 0 && untrusted(lo-1) {
			lo--
		}
		for hi < len(spans)-1 && (untrusted(hi) || candidate[hi+1]) {
			hi++
		}
		var data []byte
		for j := lo; j <= hi; j++ {
			b, err := chunk(j)
			if err != nil {
				return nil, err
			}
			if j == 0 {
				b = b[hlen:]
			}
			data = append(data, b...)
		}
		err := rd.Parse(h, data, hi == len(spans)-1, func(row merge.Row) error {
			if row.Key == key && ans.Row == nil {
				ans.Row = &table.OrderedRow{Cols: row.Cols, Vals: row.Vals, JSON: ts.Format == table.JSONL}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		i = hi
	}
	ans.ChunksRead = len(read)
	return ans, nil
}

// keyCandidates marks the chunks whose recorded key range holds key, and
// those with no range recorded.
func keyCandidates(ctx context.Context, rv readView, rd *table.Reader, h merge.Header, spans []span, chunk func(int) ([]byte, error), key string, candidate []bool) error {
	tag, _, ok := rd.ChunkKeys(h)
	if !ok {
		for i := range candidate {
			candidate[i] = true
		}
		return nil
	}
	refs := make([]store.KeyRangeRef, len(spans))
	for i, sp := range spans {
		refs[i] = store.KeyRangeRef{ID: sp.ref.ID, First: i == 0}
	}
	ranges, found, err := rv.r.Store.KeyRanges(ctx, tag, refs)
	if err != nil {
		return err
	}
	for i, r := range ranges {
		candidate[i] = !found[i] || (dag.CompareKeys(r.Lo, key) <= 0 && dag.CompareKeys(key, r.Hi) <= 0)
	}
	return nil
}

// rowAligned reports whether a table was cut only at row ends, from its
// first bytes, as the chunker chose its mode.
func rowAligned(name string, head []byte, f table.Format) bool {
	if len(head) > chunker.SniffSize {
		head = head[:chunker.SniffSize]
	}
	switch chunker.Sniff(name, head) {
	case chunker.CSV:
		return true
	case chunker.Lines:
		return f != table.CSV // a quoted CSV field may hold a line end
	}
	return false
}

// chunk reads a chunk through the shared cache under this view.
func (rv readView) chunk(ctx context.Context, ref dag.ChunkRef) ([]byte, error) {
	return rv.b.chunkIn(ctx, rv.r, ref)
}
