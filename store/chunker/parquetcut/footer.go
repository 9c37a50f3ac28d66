package parquetcut

import (
	"errors"
	"fmt"
)

// columnChunk is where one column chunk's pages lie: [start, end).
type columnChunk struct{ start, end int64 }

// Field ids of the parts of the Parquet metadata the plan reads
// (parquet.thrift).
const (
	fileMetaRowGroups  = 4  // FileMetaData.row_groups
	rowGroupColumns    = 1  // RowGroup.columns
	chunkFilePath      = 1  // ColumnChunk.file_path
	chunkMetaData      = 3  // ColumnChunk.meta_data
	chunkEncryptedMeta = 9  // ColumnChunk.encrypted_column_metadata
	metaTotalCompr     = 7  // ColumnMetaData.total_compressed_size
	metaDataPage       = 9  // ColumnMetaData.data_page_offset
	metaDictPage       = 11 // ColumnMetaData.dictionary_page_offset
	pageHeaderSize     = 3  // PageHeader.compressed_page_size
)

// columnChunks reads the column chunks' byte ranges from a thrift-encoded
// FileMetaData.
func columnChunks(footer []byte) ([]columnChunk, error) {
	c := &compact{b: footer}
	var out []columnChunk
	err := c.structFields(func(id int16, typ byte) (bool, error) {
		if id != fileMetaRowGroups {
			return false, nil
		}
		return true, c.structList(typ, func() error {
			return c.structFields(func(id int16, typ byte) (bool, error) {
				if id != rowGroupColumns {
					return false, nil
				}
				return true, c.structList(typ, func() error {
					cc, inFile, err := readColumnChunk(c)
					if inFile {
						out = append(out, cc)
					}
					return err
				})
			})
		})
	})
	if errors.Is(err, errShort) {
		err = errors.New("footer metadata ends early")
	}
	return out, err
}

// readColumnChunk reads one ColumnChunk struct; inFile is false for a
// column chunk in another file (file_path set, as in a _metadata file).
func readColumnChunk(c *compact) (cc columnChunk, inFile bool, err error) {
	var total, data, dict int64
	var hasMeta, encrypted, external bool
	err = c.structFields(func(id int16, typ byte) (bool, error) {
		switch id {
		case chunkFilePath:
			external = true
			return false, nil
		case chunkEncryptedMeta:
			encrypted = true
			return false, nil
		case chunkMetaData:
		default:
			return false, nil
		}
		if typ != tStruct {
			return false, fmt.Errorf("column metadata has type %d", typ)
		}
		hasMeta = true
		return true, c.structFields(func(id int16, typ byte) (bool, error) {
			var err error
			switch id {
			case metaTotalCompr:
				total, err = c.int(typ)
			case metaDataPage:
				data, err = c.int(typ)
			case metaDictPage:
				dict, err = c.int(typ)
			default:
				return false, nil
			}
			return true, err
		})
	})
	switch {
	case err != nil:
		return columnChunk{}, false, err
	case external:
		return columnChunk{}, false, nil
	case !hasMeta && encrypted:
		return columnChunk{}, false, errors.New("encrypted column metadata")
	case !hasMeta:
		return columnChunk{}, false, errors.New("a column chunk without metadata")
	case total <= 0 || data <= 0:
		return columnChunk{}, false, fmt.Errorf("column chunk at %d of %d bytes", data, total)
	}
	// Writers disagree on an unset dictionary offset (absent or 0); it
	// counts only if it comes before the data pages.
	start := data
	if dict > 0 && dict < data {
		start = dict
	}
	if start > 1<<62-total {
		return columnChunk{}, false, fmt.Errorf("column chunk at %d of %d bytes", start, total)
	}
	return columnChunk{start: start, end: start + total}, true, nil
}

// pageHeader reads a PageHeader at the start of b and returns its length
// and the compressed size of the page that follows it. errShort means b
// ends inside the header.
func pageHeader(b []byte) (headerLen int, size int64, err error) {
	c := &compact{b: b}
	size = -1
	err = c.structFields(func(id int16, typ byte) (bool, error) {
		if id != pageHeaderSize {
			return false, nil
		}
		var err error
		size, err = c.int(typ)
		return true, err
	})
	if err != nil {
		return 0, 0, err
	}
	if size < 0 {
		return 0, 0, errors.New("page header without a valid compressed size")
	}
	return c.p, size, nil
}
