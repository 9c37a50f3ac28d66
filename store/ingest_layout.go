package store

import (
	"errors"
	"fmt"
	"io"

	"github.com/dxdata/dx/store/chunker"
	"github.com/dxdata/dx/store/chunker/parquetcut"
)

// Layout says how a file's bytes are laid out, which decides where its
// chunks are cut.
type Layout uint8

const (
	// LayoutSniff cuts a file that starts and ends with Parquet's magic
	// at its pages, and anything else as plain bytes.
	LayoutSniff Layout = iota
	// LayoutParquet says the file is Parquet (table=parquet): it is cut
	// at its pages, or, if it is not valid Parquet, stored as plain bytes
	// with a warning.
	LayoutParquet
	// LayoutPlain says the file is not Parquet (another table format, or
	// -table): plain bytes, whatever its magic.
	LayoutPlain
)

func (l Layout) String() string {
	switch l {
	case LayoutSniff:
		return "sniff"
	case LayoutParquet:
		return "parquet"
	case LayoutPlain:
		return "plain"
	}
	return fmt.Sprintf("layout(%d)", uint8(l))
}

// sizedReaderAt is what cutting a Parquet file needs of it: the footer is at
// the end.
type sizedReaderAt interface {
	io.ReaderAt
	Size() (int64, error)
}

// cutter returns the function that yields one file's chunks: at its
// Parquet pages if it is Parquet, else from ck in the mode sniffed from its
// name and head. Only a read error is returned; a file that is not valid
// Parquet is cut as plain bytes.
func (p *pipeline) cutter(ck *chunker.Chunker, f IngestFile, rc io.Reader, name string) (func([]byte) ([]byte, error), error) {
	ck.ResetSniff(rc, name)
	if f.Layout == LayoutPlain {
		return ck.Next, nil
	}
	// The head is read for sniffing anyway, so a file that does not start
	// like Parquet costs nothing more.
	if f.Layout == LayoutSniff && string(prefix(ck.Buffered(), len(parquetcut.Magic))) != parquetcut.Magic {
		return ck.Next, nil
	}
	ra, ok := rc.(sizedReaderAt)
	if !ok {
		return ck.Next, nil
	}
	size, err := ra.Size()
	if err != nil {
		return nil, err
	}
	if f.Layout == LayoutSniff && !parquetcut.Sniff(ra, size) {
		return ck.Next, nil
	}
	spans, err := parquetcut.Plan(ra, size, p.copts.ForMode(chunker.Binary))
	switch {
	case errors.Is(err, parquetcut.ErrNotParquet):
		if p.o.Warn != nil && p.o.Mode == IngestStore {
			p.o.Warn(fmt.Sprintf("%s: %v; stored as plain bytes", name, err))
		}
		return ck.Next, nil
	case err != nil:
		return nil, err
	}
	return parquetcut.NewCutter(ra, spans, ck).Next, nil
}

func prefix(b []byte, n int) []byte {
	return b[:min(n, len(b))]
}
