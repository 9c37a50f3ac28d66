package main

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestParquetTable: the Parquet table, by either writer, is the same bytes
// on every run, and v2 holds v1's rows (a few updated) plus 2% appended,
// none deleted.
func TestParquetTable(t *testing.T) {
	for _, cdc := range []bool{false, true} {
		testParquetTable(t, cdc)
	}
}

func testParquetTable(t *testing.T, cdc bool) {
	const target = 2 << 20
	var a, b, v2 bytes.Buffer
	st1, err := WriteParquetTable(&a, 7, target, false, cdc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteParquetTable(&b, 7, target, false, cdc); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("two writes of v1 differ (%v)", err)
	}
	st2, err := WriteParquetTable(&v2, 7, target, true, cdc)
	if err != nil {
		t.Fatal(err)
	}
	if st2.BaseRows != st1.Rows || st2.Rows != st1.Rows+st2.Appended || st2.Appended < st1.Rows/50 || st2.Updated == 0 {
		t.Fatalf("v1 %+v, v2 %+v: want v1's rows, some updated, 2%% appended", st1, st2)
	}
	for _, c := range []struct {
		data []byte
		rows int64
	}{{a.Bytes(), st1.Rows}, {v2.Bytes(), st2.Rows}} {
		f, err := parquet.OpenFile(bytes.NewReader(c.data), int64(len(c.data)))
		if err != nil {
			t.Fatal(err)
		}
		if f.NumRows() != c.rows {
			t.Fatalf("file holds %d rows, want %d", f.NumRows(), c.rows)
		}
	}
}
