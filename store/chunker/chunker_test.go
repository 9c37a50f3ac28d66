package chunker

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dxdata/dx/internal/csvdialect"

	"github.com/zeebo/blake3"
)

var update = flag.Bool("update", false, "rewrite golden files")

func chunkAll(t testing.TB, r io.Reader, o Options) [][]byte {
	t.Helper()
	c, err := New(r, o)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		b, err := c.Next(nil)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatal("empty chunk")
		}
		out = append(out, b)
	}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// csvTable makes a CSV with ~100-byte rows, some with quoted commas and
// newlines.
func csvTable(seed uint64, rows int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	var b bytes.Buffer
	b.WriteString("id,name,note,value\n")
	for i := 0; i < rows; i++ {
		note := fmt.Sprintf("note %d", r.IntN(1e6))
		switch r.IntN(10) {
		case 0:
			note = fmt.Sprintf("\"multi\nline, %d\"", r.IntN(1e6))
		case 1:
			note = fmt.Sprintf("\"say \"\"hi\"\"\n%d\"", r.IntN(1e6))
		}
		fmt.Fprintf(&b, "%d,name-%08x-%08x,%s,%d.%04d\n", i, r.Uint32(), r.Uint32(), note, r.IntN(1e6), r.IntN(1e4))
	}
	return b.Bytes()
}

func small() Options { return Options{Min: 256, Avg: 1024, Max: 4096} }

func checkBounds(t *testing.T, chunks [][]byte, o Options) {
	t.Helper()
	for i, c := range chunks {
		if len(c) > o.Max {
			t.Fatalf("chunk %d: %d bytes > max %d", i, len(c), o.Max)
		}
		if i < len(chunks)-1 && len(c) < o.Min {
			t.Fatalf("chunk %d of %d: %d bytes < min %d", i, len(chunks), len(c), o.Min)
		}
	}
}

func TestReassembly(t *testing.T) {
	text := csvTable(1, 20000)
	tests := []struct {
		name string
		data []byte
		opts Options
		rd   func(io.Reader) io.Reader
	}{
		{"empty", nil, DefaultOptions(), nil},
		{"one byte", []byte{7}, DefaultOptions(), nil},
		{"below min", randBytes(1, 1000), DefaultOptions(), nil},
		{"random default", randBytes(2, 3<<20), DefaultOptions(), nil},
		{"random small", randBytes(3, 300<<10), small(), nil},
		{"random half reads", randBytes(4, 300<<10), small(), iotest.HalfReader},
		{"random one-byte reads", randBytes(5, 40<<10), small(), iotest.OneByteReader},
		{"zeros", make([]byte, 1<<20), DefaultOptions(), nil},
		{"text lines", text, Options{Min: 256, Avg: 1024, Max: 4096, Mode: Lines}, nil},
		{"text csv", text, Options{Min: 256, Avg: 1024, Max: 4096, Mode: CSV}, nil},
		{"csv data err reads", text, Options{Min: 256, Avg: 1024, Max: 4096, Mode: CSV}, iotest.DataErrReader},
		{"no newline text", bytes.Repeat([]byte("abcdefghij"), 50000), Options{Min: 256, Avg: 1024, Max: 4096, Mode: Lines}, nil},
		{"unbalanced quote", append([]byte("a,\"b\n"), text...), Options{Min: 256, Avg: 1024, Max: 4096, Mode: CSV}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tt.data)
			if tt.rd != nil {
				r = tt.rd(r)
			}
			chunks := chunkAll(t, r, tt.opts)
			if got := bytes.Join(chunks, nil); !bytes.Equal(got, tt.data) {
				t.Fatalf("reassembled %d bytes, want %d", len(got), len(tt.data))
			}
			checkBounds(t, chunks, tt.opts)
		})
	}
}

func TestLinesCutAtLineEnds(t *testing.T) {
	text := csvTable(7, 30000)
	for _, m := range []Mode{Lines, CSV} {
		o := DefaultOptions()
		o.Mode = m
		chunks := chunkAll(t, bytes.NewReader(text), o)
		if len(chunks) < 10 {
			t.Fatalf("%v: only %d chunks", m, len(chunks))
		}
		st := csvdialect.FieldStart
		for i, c := range chunks {
			if c[len(c)-1] != '\n' {
				t.Fatalf("%v: chunk %d does not end at a line end", m, i)
			}
			st = csvdialect.Default.Advance(st, c)
			if m == CSV && st != csvdialect.FieldStart {
				t.Fatalf("csv: chunk %d ends inside a quoted field", i)
			}
		}
	}
}

// TestCSVBareQuotes: quotes that open nothing (inside an unquoted field,
// after a closing quote) do not throw CSV mode's row ends off: it cuts
// where csvdialect reads a row end, though quote parity would not.
func TestCSVBareQuotes(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 5000; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "%d,37°36'%d.8\"N\n", i, i%100)
		case 1:
			fmt.Fprintf(&b, "%d,\"ab\"c\"%d\n", i, i)
		default:
			fmt.Fprintf(&b, "%d,\"multi\nline %d\"\n", i, i)
		}
	}
	o := small()
	o.Mode = CSV
	chunks := chunkAll(t, bytes.NewReader(b.Bytes()), o)
	checkRowAligned(t, chunks, o)
	if len(chunks) < 20 {
		t.Fatalf("only %d chunks", len(chunks))
	}
}

// TestCSVQuotedNewlines checks that Lines mode would split inside quoted
// fields on this input (so the test has teeth) and CSV mode never does.
func TestCSVQuotedNewlines(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "%d,\"%s\"\n", i, strings.Repeat(fmt.Sprintf("x%d\n", i), 20))
	}
	data := b.Bytes()
	inQuotes := func(chunks [][]byte) int {
		bad, st := 0, csvdialect.FieldStart
		for _, c := range chunks {
			if st = csvdialect.Default.Advance(st, c); st != csvdialect.FieldStart {
				bad++
			}
		}
		return bad
	}
	o := small()
	o.Mode = Lines
	if n := inQuotes(chunkAll(t, bytes.NewReader(data), o)); n == 0 {
		t.Fatal("lines mode never cut inside quotes; test input too easy")
	}
	o.Mode = CSV
	if n := inQuotes(chunkAll(t, bytes.NewReader(data), o)); n != 0 {
		t.Fatalf("csv mode cut inside quotes %d times", n)
	}
}

func TestAverageSize(t *testing.T) {
	data := randBytes(9, 16<<20)
	o := DefaultOptions()
	chunks := chunkAll(t, bytes.NewReader(data), o)
	avg := len(data) / len(chunks)
	if avg < o.Avg/2 || avg > o.Avg*2 {
		t.Fatalf("average chunk %d, want about %d", avg, o.Avg)
	}
}

// TestShiftResistance: an insertion near the start and an edit in the
// middle change only the chunks around them.
func TestShiftResistance(t *testing.T) {
	for _, m := range []Mode{Binary, Lines, CSV} {
		t.Run(m.String(), func(t *testing.T) {
			var a []byte
			if m == Binary {
				a = randBytes(11, 8<<20)
			} else {
				a = csvTable(11, 80000)
			}
			b := append([]byte(nil), a[:1000]...)
			b = append(b, []byte("1000001,inserted row,\"x\",1\n")...)
			b = append(b, a[1000:]...)
			mid := len(b) / 2
			b[mid] ^= 1
			o := DefaultOptions()
			o.Mode = m
			ca := chunkAll(t, bytes.NewReader(a), o)
			cb := chunkAll(t, bytes.NewReader(b), o)
			seen := map[string]bool{}
			for _, c := range ca {
				seen[string(c)] = true
			}
			newBytes := 0
			for _, c := range cb {
				if !seen[string(c)] {
					newBytes += len(c)
				}
			}
			if newBytes > 6*o.Max {
				t.Fatalf("%d new bytes of %d after two small edits", newBytes, len(b))
			}
		})
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(randBytes(1, 100<<10)), iotest.ErrReader(boom))
	c, err := New(r, small())
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := c.Next(nil)
		if err == nil {
			continue
		}
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want %v", err, boom)
		}
		break
	}
}

func TestResetReuse(t *testing.T) {
	a, b := randBytes(1, 1<<20), csvTable(2, 5000)
	c, err := New(bytes.NewReader(a), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	drain := func() []byte {
		var all []byte
		for {
			x, err := c.Next(nil)
			if errors.Is(err, io.EOF) {
				return all
			}
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, x...)
		}
	}
	if !bytes.Equal(drain(), a) {
		t.Fatal("first stream")
	}
	if m := c.ResetSniff(bytes.NewReader(b), "t.csv"); m != CSV {
		t.Fatalf("sniffed %v, want csv", m)
	}
	if !bytes.Equal(drain(), b) {
		t.Fatal("second stream")
	}
	// ResetMode cuts the CSV as binary, with the binary sizes; Buffered
	// shows the head ResetSniff read.
	c.ResetMode(bytes.NewReader(b), Binary)
	if o := c.Options(); o.Mode != Binary || o.Max != DefaultOptions().Max {
		t.Fatalf("options after ResetMode(Binary): %+v", o)
	}
	if !bytes.Equal(drain(), b) {
		t.Fatal("third stream")
	}
	c.ResetSniff(bytes.NewReader(b), "t.csv")
	if head := c.Buffered(); len(head) < SniffSize || !bytes.HasPrefix(b, head) {
		t.Fatalf("Buffered after ResetSniff: %d bytes, not the stream's head", len(head))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		o  Options
		ok bool
	}{
		{DefaultOptions(), true},
		{Options{Min: 64, Avg: 128, Max: 256}, true},
		{Options{Min: 32, Avg: 128, Max: 256}, false},
		{Options{Min: 128, Avg: 128, Max: 256}, false},
		{Options{Min: 64, Avg: 256, Max: 256}, false},
		{Options{Min: 64, Avg: 100, Max: 256}, false},
		{Options{Min: 64, Avg: 128, Max: MaxMax + 1}, false},
		{Options{Min: 64, Avg: 128, Max: 256, Mode: 7}, false},
	}
	for _, tt := range tests {
		err := tt.o.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%+v: err=%v, want ok=%v", tt.o, err, tt.ok)
		}
		if _, err2 := New(nil, tt.o); (err2 == nil) != tt.ok {
			t.Errorf("New(%+v): err=%v", tt.o, err2)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head string
		want Mode
	}{
		{"data/t.csv", "a,b\n1,2\n", CSV},
		{"T.CSV", "", CSV},
		{"x.jsonl", "{}\n", Lines},
		{"x.tsv", "a\tb\n", Lines},
		{"notes", "hello\nworld\n", Lines},
		{"utf8", "héllo wörld\nzweite Zeile ü", Lines},
		{"cut rune", "abc\n\xc3", Lines},
		{"blob", "\x00\x01\x02\n", Binary},
		{"one line", "no newline here", Binary},
		{"latin1", "caf\xe9\nbar\n", Binary},
		{"x.gz", "plain\ntext\n", Binary},
		{"empty", "", Binary},
	}
	for _, tt := range tests {
		if got := Sniff(tt.name, []byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%q, %q) = %v, want %v", tt.name, tt.head, got, tt.want)
		}
	}
}

// TestGearGolden pins the gear table and the boundaries of fixed inputs:
// changing either silently breaks deduplication against existing stores.
func TestGearGolden(t *testing.T) {
	var b bytes.Buffer
	h := blake3.New()
	for _, g := range gear {
		fmt.Fprintf(h, "%016x", g)
	}
	fmt.Fprintf(&b, "gear %x\n", h.Sum(nil))
	inputs := []struct {
		name string
		data []byte
		mode Mode
	}{
		{"random", randBytes(42, 4<<20), Binary},
		{"csv", csvTable(42, 40000), CSV},
		{"lines", csvTable(43, 40000), Lines},
	}
	for _, in := range inputs {
		o := DefaultOptions()
		o.Mode = in.mode
		fmt.Fprintf(&b, "%s", in.name)
		for _, c := range chunkAll(t, bytes.NewReader(in.data), o) {
			fmt.Fprintf(&b, " %d", len(c))
		}
		b.WriteString("\n")
	}
	golden := filepath.Join("testdata", "boundaries.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("chunk boundaries changed:\n got %.300s\nwant %.300s", b.Bytes(), want)
	}
}

// checkRowAligned: in the line modes, a chunk that is neither Max bytes
// long nor the last ends at a row end (for CSV, outside quotes). The row
// diff trusts such boundaries without reading around them.
func checkRowAligned(t *testing.T, chunks [][]byte, o Options) {
	t.Helper()
	if o.Mode == Binary {
		return
	}
	st := csvdialect.FieldStart
	for i, c := range chunks {
		st = csvdialect.Default.Advance(st, c)
		quoted := st != csvdialect.FieldStart
		if i == len(chunks)-1 || len(c) == o.Max {
			continue
		}
		if c[len(c)-1] != '\n' {
			t.Fatalf("%v: chunk %d (%d bytes < max %d) does not end at a line end", o.Mode, i, len(c), o.Max)
		}
		if o.Mode == CSV && quoted {
			t.Fatalf("csv: chunk %d (%d bytes < max %d) ends inside quotes", i, len(c), o.Max)
		}
	}
}

// TestLongLinesCutOnlyAtMax: lines longer than the chunk range force cuts
// mid-line, and those chunks are exactly Max bytes long.
func TestLongLinesCutOnlyAtMax(t *testing.T) {
	var b bytes.Buffer
	r := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 300; i++ {
		n := 10 + r.IntN(3*small().Max) // many lines longer than Max
		line := make([]byte, n)
		for j := range line {
			line[j] = 'a' + byte(r.IntN(26))
			if j%97 == 5 && r.IntN(4) == 0 {
				line[j] = '"'
			}
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	for _, m := range []Mode{Lines, CSV} {
		o := small()
		o.Mode = m
		chunks := chunkAll(t, bytes.NewReader(b.Bytes()), o)
		checkRowAligned(t, chunks, o)
		atMax := 0
		for _, c := range chunks {
			if len(c) == o.Max {
				atMax++
			}
		}
		if atMax == 0 {
			t.Fatalf("%v: no forced cut; the input is too easy", m)
		}
	}
}

func FuzzChunker(f *testing.F) {
	f.Add([]byte("a,b\n\"x\ny\",2\n"), uint8(2), uint16(0))
	f.Add(randBytes(1, 5000), uint8(0), uint16(3))
	f.Add(bytes.Repeat([]byte("line\n"), 1000), uint8(1), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, shift uint16) {
		o := Options{Min: 64, Avg: 128, Max: 256 + int(shift%512), Mode: Mode(mode % 3)}
		chunks := chunkAll(t, iotest.HalfReader(bytes.NewReader(data)), o)
		if !bytes.Equal(bytes.Join(chunks, nil), data) {
			t.Fatal("reassembly mismatch")
		}
		checkBounds(t, chunks, o)
		checkRowAligned(t, chunks, o)
		// Same input, different read pattern: same boundaries.
		again := chunkAll(t, bytes.NewReader(data), o)
		if len(again) != len(chunks) {
			t.Fatalf("boundaries depend on read sizes: %d vs %d chunks", len(again), len(chunks))
		}
		for i := range again {
			if len(again[i]) != len(chunks[i]) {
				t.Fatalf("chunk %d: %d vs %d bytes", i, len(again[i]), len(chunks[i]))
			}
		}
	})
}

func BenchmarkChunker(b *testing.B) {
	for _, m := range []Mode{Binary, CSV} {
		var data []byte
		if m == Binary {
			data = randBytes(1, 64<<20)
		} else {
			data = csvTable(1, 600000)
		}
		b.Run(m.String(), func(b *testing.B) {
			o := DefaultOptions()
			o.Mode = m
			c, _ := New(nil, o)
			buf := make([]byte, 0, o.Max)
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				c.Reset(bytes.NewReader(data))
				for {
					var err error
					buf, err = c.Next(buf)
					if err != nil {
						break
					}
				}
			}
		})
	}
}

// TestLazySameCuts: a lazy chunker cuts exactly where an eager one does.
func TestLazySameCuts(t *testing.T) {
	for _, m := range []Mode{Binary, Lines, CSV} {
		data := csvTable(9, 20000)
		if m == Binary {
			data = randBytes(9, 3<<20)
		}
		o := small()
		o.Mode = m
		eager := chunkAll(t, bytes.NewReader(data), o)
		c, err := New(iotest.OneByteReader(bytes.NewReader(data)), o)
		if err != nil {
			t.Fatal(err)
		}
		c.SetLazy(true)
		for i := 0; ; i++ {
			b, err := c.Next(nil)
			if err == io.EOF {
				if i != len(eager) {
					t.Fatalf("%v: %d chunks, want %d", m, i, len(eager))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, eager[i]) {
				t.Fatalf("%v: chunk %d differs", m, i)
			}
		}
	}
}
