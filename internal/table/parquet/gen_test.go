package parquet

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"
)

type addr struct {
	City string `parquet:"city"`
	Zip  int32  `parquet:"zip"`
}

// rec has a column of each logical type a row diff must show right.
type rec struct {
	ID    int64            `parquet:"id"`
	Name  *string          `parquet:"name,optional"`
	TS    time.Time        `parquet:"ts,timestamp(microsecond)"`
	Local int64            `parquet:"local,timestamp(millisecond:local)"`
	Day   int32            `parquet:"day,date"` // days: parquet-go v0.32.1 writes a time.Time date as truncated nanoseconds
	Price int64            `parquet:"price,decimal(2:18)"`
	Big   [16]byte         `parquet:"big,decimal(3:38)"`
	Tags  []string         `parquet:"tags,list"`
	Addr  *addr            `parquet:"addr,optional"`
	Score *float64         `parquet:"score,optional"`
	Attrs map[string]int32 `parquet:"attrs"`
	U     [16]byte         `parquet:"u,uuid"`
	Flag  bool             `parquet:"flag"`
	Small uint16           `parquet:"small,uint(16)"`
}

// mkRec is row i, varied by v (a version's edit of it).
func mkRec(i int64, v int) rec {
	r := rec{
		ID:    i,
		TS:    time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * 1500 * time.Microsecond),
		Local: 1_700_000_000_000 + i,
		Day:   int32(time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC).Unix()/86400 + i%1000),
		Price: i*137 - 5000 + int64(v),
		Tags:  []string{fmt.Sprint("t", i%7), fmt.Sprint("u", i%3)}[:i%3],
		Flag:  i%2 == 0,
		Small: uint16(60000 + i%100),
		Attrs: map[string]int32{"a": int32(i % 5)},
	}
	r.Big[15] = byte(i)
	r.Big[0] = 0xff // negative
	r.U[0], r.U[15] = byte(i>>8), byte(i)
	if i%5 != 0 {
		s := fmt.Sprintf("name %d, \"quoted\"", i)
		r.Name = &s
	}
	if i%4 != 1 {
		f := float64(i) / 8
		r.Score = &f
		r.Addr = &addr{City: fmt.Sprint("c", i%11), Zip: int32(i)}
	}
	// Edits besides the price: strings, lists, structs, maps, nulls.
	if v > 0 && v%2 == 0 {
		s := fmt.Sprint("updated ", v)
		r.Name = &s
	}
	if v > 0 && v%3 == 0 {
		r.Tags = append(r.Tags, "new")
	}
	if v > 0 && v%5 == 0 {
		r.Addr = nil
	}
	if v > 0 && v%7 == 0 {
		r.Attrs["z"] = int32(v)
	}
	return r
}

// writeFile writes rows with parquet-go: rowGroup rows per row group,
// pageBuf bytes of page buffer (the page size).
func writeFile(t testing.TB, rows []rec, rowGroup int64, pageBuf int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pq.NewGenericWriter[rec](&buf, pq.MaxRowsPerRowGroup(rowGroup), pq.PageBufferSize(pageBuf))
	for len(rows) > 0 {
		n := min(len(rows), 100)
		if _, err := w.Write(rows[:n]); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func rangeRecs(from, to int64) []rec {
	var out []rec
	for i := from; i < to; i++ {
		out = append(out, mkRec(i, 0))
	}
	return out
}

func writeOther(t testing.TB, rows []other) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pq.NewGenericWriter[other](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
