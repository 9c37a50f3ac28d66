package main

// The Parquet datasets (issue 20): the table dataset's rows written as
// Parquet with zstd, v1 and a v2 with the 0.01% updates and the 2% append
// (no deletions: the v2), stored by dx and the peers. No writer
// reachable here writes content-defined pages (parquet-go and arrow-go
// v18.9.0 have none; pyarrow's use_content_defined_chunking is out of
// reach), so the same rows are written twice: by parquet-go with its own
// page cuts (the "parquet" dataset, growth reported without a target) and
// by dx's own content-defined writer, cdcwrite, which dx uses where it
// writes Parquet itself ("parquet-cdc", growth against the ≤ 10% target).

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/internal/table/parquet/cdcwrite"
)

// parquetRow is one row of the table as Parquet columns.
type parquetRow struct {
	ID        int64     `parquet:"id"`
	Name      string    `parquet:"name"`
	Email     string    `parquet:"email"`
	City      string    `parquet:"city,dict"`
	Amount    float64   `parquet:"amount"`
	CreatedAt time.Time `parquet:"created_at,timestamp(millisecond)"`
	Note      string    `parquet:"note"`
}

// Parquet writer settings: pyarrow's default row group (1 Mi rows) and
// parquet-go's default page buffer (256 KiB before compression).
const (
	parquetGroupRows = 1 << 20
	parquetBatch     = 4096
)

// ParquetWriterName says which writer and options made the files.
const ParquetWriterName = "parquet-go v0.32.1, zstd, 1 Mi rows per row group, 256 KiB page buffer, page index on, no content-defined pages"

// ParquetCDCWriterName says how the content-defined files were made.
const ParquetCDCWriterName = "dx's content-defined page writer (internal/table/parquet/cdcwrite: parquet-go, zstd, page-local encodings and city's dictionary, pages of 4–32 KiB of values, row groups of 64–512 MiB, page index on)"

// parquetRowWriter takes rows in batches and finishes the file on Close.
type parquetRowWriter interface {
	write(rows []parquetRow) error
	Close() error
}

type plainParquetWriter struct {
	*parquet.GenericWriter[parquetRow]
}

func (w plainParquetWriter) write(rows []parquetRow) error {
	_, err := w.Write(rows)
	return err
}

type cdcParquetWriter struct {
	*cdcwrite.Writer
	rows []parquet.Row
}

func (w *cdcParquetWriter) write(rows []parquetRow) error {
	w.rows = w.rows[:0]
	s := w.Schema()
	for i := range rows {
		w.rows = append(w.rows, s.Deconstruct(nil, &rows[i]))
	}
	_, err := w.WriteRows(w.rows)
	return err
}

// WriteParquetTable writes the rows of the table of target CSV bytes as
// Parquet to w: v1's rows, or with v2 the same rows with ~0.01% updated
// (amount and note) and 2% appended; with cdc by cdcwrite, else by
// parquet-go.
func WriteParquetTable(w io.Writer, seed uint64, target int64, v2, cdc bool) (TableStats, error) {
	var pw parquetRowWriter = plainParquetWriter{parquet.NewGenericWriter[parquetRow](w, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(parquetGroupRows))}
	if cdc {
		cw, err := cdcwrite.NewWriter(w, parquet.SchemaOf(parquetRow{}), cdcwrite.DefaultOptions())
		if err != nil {
			return TableStats{}, err
		}
		pw = &cdcParquetWriter{Writer: cw}
	}
	batch := make([]parquetRow, 0, parquetBatch)
	emit := func(id int64, v *rowVals, st *TableStats) error {
		batch = append(batch, toParquetRow(id, v))
		if len(batch) < cap(batch) {
			return nil
		}
		err := pw.write(batch)
		batch = batch[:0]
		return err
	}
	var edit func(g *rowGen, id int64, v *rowVals, st *TableStats) bool
	if v2 {
		edit = func(g *rowGen, id int64, v *rowVals, st *TableStats) bool {
			if tableEdit(seed, id) == 1 {
				g.editVals(id, v)
				st.Updated++
			}
			return true
		}
	}
	g := newRowGen(seed)
	st, err := eachTableRow(g, target, edit, emit)
	if err != nil {
		return st, err
	}
	id := st.BaseRows
	if v2 {
		n := int64(math.Ceil(float64(id) * tableAppendFrac))
		for range n {
			id++
			v := g.draw(id)
			if err := emit(id, &v, &st); err != nil {
				return st, err
			}
			st.Rows++
			st.Appended++
		}
	}
	st.MaxID = id
	if err := pw.write(batch); err != nil {
		return st, err
	}
	return st, pw.Close()
}

func toParquetRow(id int64, v *rowVals) parquetRow {
	var note strings.Builder
	for i := 0; i < v.noteN; i++ {
		if i > 0 {
			note.WriteByte(' ')
		}
		note.WriteString(words[v.note[i]])
	}
	return parquetRow{
		ID:        id,
		Name:      firstNames[v.fn] + " " + lastNames[v.ln],
		Email:     fmt.Sprintf("%s.%s%d@%s", lowerFirst[v.fn], lowerLast[v.ln], v.emailNum, domains[v.dom]),
		City:      cities[v.city],
		Amount:    float64(v.cents) / 100,
		CreatedAt: time.Unix(v.ts, 0).UTC(),
		Note:      note.String(),
	}
}

// parquetDataset is the table's rows as one Parquet file, the table of
// size CSV bytes, written by parquet-go, or with cdc by cdcwrite.
func parquetDataset(seed uint64, size int64, cdc bool) *dataset {
	const rel = "table.parquet"
	name, writer := "parquet", ParquetWriterName
	if cdc {
		name, writer = "parquet-cdc", ParquetCDCWriterName
	}
	write := func(root string, v2 bool) (TableStats, error) {
		var st TableStats
		err := writeStream(filepath.Join(root, rel), func(w io.Writer) (err error) {
			st, err = WriteParquetTable(w, seed, size, v2, cdc)
			return err
		})
		return st, err
	}
	return &dataset{
		name:       name,
		title:      fmt.Sprintf("Parquet: the table's rows (%s as CSV) as one Parquet file, written by %s", human(size), writer),
		paths:      []string{rel},
		withPeers:  true,
		noRemote:   true,
		attributes: "*.parquet table=parquet key=id\n",
		genV1: func(root string) (genInfo, error) {
			st, err := write(root, false)
			return genInfo{Bytes: fileSize(filepath.Join(root, rel)), Files: 1, Edits: fmt.Sprintf("%d rows", st.Rows)}, err
		},
		applyV2: func(root string) (genInfo, error) {
			st, err := write(root, true)
			return genInfo{Bytes: fileSize(filepath.Join(root, rel)), Files: 1, Edits: fmt.Sprintf(
				"%d rows: %d appended, %d updated (amount+note), none deleted (of %d v1 rows)", st.Rows, st.Appended, st.Updated, st.BaseRows),
				RowsAdded: st.Appended, RowsChanged: st.Updated}, err
		},
		expectV2: func() (map[string][32]byte, error) {
			sum, err := hashStream(func(w io.Writer) error {
				_, err := WriteParquetTable(w, seed, size, true, cdc)
				return err
			})
			return map[string][32]byte{rel: sum}, err
		},
	}
}
