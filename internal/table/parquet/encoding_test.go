package parquet

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/dxdata/dx/merge"
)

// withPageEncoding rewrites the header of the first data page of column
// 0 to say encoding enc (the header keeps its length).
func withPageEncoding(t *testing.T, data []byte, enc format.Encoding) []byte {
	t.Helper()
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	off := f.OffsetIndexes()[0].PageLocations[0].Offset
	p := &thrift.CompactProtocol{}
	r := p.NewReaderFromBytes(data[off:])
	var h format.PageHeader
	if err := thrift.NewDecoder(r).Decode(&h); err != nil {
		t.Fatal(err)
	}
	n := r.BytesRead()
	dp, ok := h.DataPageHeaderV2.Get() // parquet-go writes version 2 data pages
	if !ok {
		t.Fatalf("page at %d is not a version 2 data page (%v)", off, h.Type)
	}
	dp.Encoding = enc
	h.DataPageHeaderV2.Set(dp)
	out, err := thrift.Marshal(p, &h)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != n {
		t.Fatalf("the rewritten header is %d bytes, was %d", len(out), n)
	}
	bad := bytes.Clone(data)
	copy(bad[off:], out)
	return bad
}

// TestUnsupportedEncoding: a page in an encoding dx's Parquet library
// cannot decode is one clear line naming the side, not a crash.
func TestUnsupportedEncoding(t *testing.T) {
	good := writeFile(t, rangeRecs(0, 200), 100, 1<<10)
	bad := withPageEncoding(t, good, format.Encoding(31))
	_, err := Diff(context.Background(), []string{"id"}, source(t, nil), source(t, bad))
	var se *merge.SideError
	if !errors.Is(err, merge.ErrInvalidRows) || !errors.As(err, &se) || se.Side != 1 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%v, want one line: an invalid new version", err)
	}
	t.Log(err)
}
