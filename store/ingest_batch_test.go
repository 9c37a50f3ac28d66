package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/chunker"
)

// batchPipeline is a pipeline with only what handOn uses.
func batchPipeline(copts chunker.Options, queue int) *pipeline {
	p := &pipeline{copts: copts, jobs: make(chan *chunkJob, queue)}
	p.bufs.New = func() any { b := make([]byte, 0, batchBytes+copts.Max); return &b }
	return p
}

// scriptedCutter yields chunks of the given sizes cut from data, into the
// buffer it is given when the chunk fits it and into one of its own when
// not, as the Parquet cutter does.
func scriptedCutter(data []byte, sizes []int) func([]byte) ([]byte, error) {
	off, i := 0, 0
	return func(buf []byte) ([]byte, error) {
		if i == len(sizes) {
			return buf[:0], io.EOF
		}
		n := sizes[i]
		i++
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		copy(buf, data[off:off+n])
		off += n
		return buf, nil
	}
}

func TestHandOnBatches(t *testing.T) {
	copts := chunker.Options{Min: 64, Avg: 256, Max: 1024, Mode: chunker.Binary, TextMin: 64, TextAvg: 256, TextMax: 1024}
	var sizes []int
	for range 500 {
		sizes = append(sizes, 100)
	}
	over := len(sizes)
	sizes = append(sizes, batchBytes+copts.Max+5000) // over any room: in a buffer of its own
	for range 50 {
		sizes = append(sizes, 1000)
	}
	sizes = append(sizes, copts.Max, 7)
	total := 0
	for _, n := range sizes {
		total += n
	}
	data := randData(3, total)

	p := batchPipeline(copts, len(sizes))
	st := newFileState()
	n, err := p.handOn(context.Background(), scriptedCutter(data, sizes), st, IngestFile{}, "x")
	if err != nil || n != len(sizes) {
		t.Fatalf("handed on %d of %d chunks: %v", n, len(sizes), err)
	}
	close(p.jobs)
	var got []byte
	var jobs []*chunkJob
	seq := 0
	for j := range p.jobs {
		if j.seq != seq || len(j.ends) == 0 {
			t.Fatalf("job %d: seq %d with %d chunks, want seq %d", len(jobs), j.seq, len(j.ends), seq)
		}
		start := 0
		for i, end := range j.ends {
			if end-start != sizes[seq+i] {
				t.Fatalf("chunk %d: %d bytes, want %d", seq+i, end-start, sizes[seq+i])
			}
			start = end
		}
		if start != len(*j.data) {
			t.Fatalf("job %d: chunks end at %d of %d bytes", len(jobs), start, len(*j.data))
		}
		got = append(got, *j.data...)
		seq += len(j.ends)
		jobs = append(jobs, j)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("the jobs' chunks are not the file's bytes in order")
	}
	for i, j := range jobs {
		switch {
		case j.seq == over:
			if len(j.ends) != 1 {
				t.Fatalf("the chunk over the maximum shares job %d with %d others", i, len(j.ends)-1)
			}
		case i+1 < len(jobs) && jobs[i+1].seq != over && len(*j.data) < batchBytes:
			t.Fatalf("job %d handed on with %d bytes, under a batch's %d", i, len(*j.data), batchBytes)
		}
	}
	// 50,000 bytes of 100-byte chunks take four jobs, not 500.
	if len(jobs) > 15 {
		t.Fatalf("%d jobs for %d chunks", len(jobs), len(sizes))
	}
}

func TestHandOnCancelled(t *testing.T) {
	copts := chunker.DefaultOptions()
	data := randData(4, 100<<10)
	sizes := []int{20 << 10, 20 << 10, 20 << 10, 20 << 10, 20 << 10}
	p := batchPipeline(copts, 1)
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("stop")
	// The queue holds one job and no worker takes it: the ingest is
	// cancelled while the second waits for room.
	cut, calls := scriptedCutter(data, sizes), 0
	next := func(b []byte) ([]byte, error) {
		if calls++; calls == 2 {
			cancel(cause)
		}
		return cut(b)
	}
	n, err := p.handOn(ctx, next, newFileState(), IngestFile{}, "x")
	if !errors.Is(err, cause) {
		t.Fatalf("err %v, want the cancel's cause", err)
	}
	if j := <-p.jobs; n != len(j.ends) || j.seq != 0 {
		t.Fatalf("reported %d chunks handed on; the queue holds %d from seq %d", n, len(j.ends), j.seq)
	}
}

// TestIngestSmallChunks stores a file cut into thousands of small chunks,
// many to a job: the File is the one built from the chunker's own cuts, and
// it reads back.
func TestIngestSmallChunks(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	copts := chunker.Options{Min: 64, Avg: 256, Max: 1024, Mode: chunker.Binary, TextMin: 64, TextAvg: 256, TextMax: 1024}
	data := randData(5, 1<<20)

	ck, err := chunker.New(bytes.NewReader(data), copts)
	if err != nil {
		t.Fatal(err)
	}
	fb := dag.NewFileBuilder(ctx, hashPutter{})
	chunks := 0
	for {
		c, err := ck.Next(nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := fb.Add(dag.ChunkRef{ID: dag.Hash(dag.KindChunk, c), Len: uint32(len(c))}); err != nil {
			t.Fatal(err)
		}
		chunks++
	}
	want, _, err := fb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Ingest(ctx, []IngestFile{memFile("x.bin", data)}, IngestOptions{Chunking: copts})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ID != want {
		t.Fatalf("File %s, want %s (the chunker's %d cuts)", res[0].ID.Short(), want.Short(), chunks)
	}
	if got := s.Stats().ChunksWritten.Load(); got != int64(chunks) {
		t.Fatalf("%d chunks written, want %d", got, chunks)
	}
	if !bytes.Equal(readFile(t, s, res[0].ID), data) {
		t.Fatal("content does not round trip")
	}
}
