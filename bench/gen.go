package main

// Deterministic, streaming data generators for the benchmark.
//
// Everything here is a pure function of a seed and a size: generating twice
// gives the same bytes, and v2 of a dataset is produced by replaying v1's
// random stream with the edits applied, so nothing is ever held in memory
// beyond one row or one small file.

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

const (
	// Table edits between v1 and v2.
	tableAppendFrac = 0.02    // rows appended (new ids)
	tableUpdateMod  = 10000   // 1 in 10,000 rows updated  (0.01%)
	tableDeleteMod  = 20000   // 1 in 20,000 rows deleted  (0.005%)
	smallChangeFrac = 0.02    // small files changed in v2
	smallNewFrac    = 0.01    // small files added in v2
	smallMinSize    = 1 << 10 // 1 KiB
	smallMaxSize    = 50 << 10
	smallSizeExp    = 1.58 // size = min + (max-min)*u^exp  → mean ≈ 20 KiB
	bigBlock        = 1 << 20

	tableHeader = "id,name,email,city,amount,created_at,note\n"

	// Keys mixed into the seed so that independent decisions use independent
	// streams.
	keyEditSelect = 0x9e3779b97f4a7c15
	keyEditValues = 0xbf58476d1ce4e5b9
	keySmallPick  = 0x94d049bb133111eb
	keySmallEdit  = 0x2545f4914f6cdd1d
	keyBig        = 0x5851f42d4c957f2d
	keyBranchSel  = 0x3c6ef372fe94f82b
)

var (
	firstNames = []string{"Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi",
		"Ivan", "Judy", "Karl", "Laura", "Mallory", "Niaj", "Olivia", "Peggy",
		"Quentin", "Rupert", "Sybil", "Trent", "Ursula", "Victor", "Walter", "Xavier",
		"Yolanda", "Zoe", "Amir", "Beatriz", "Chen", "Dmitri", "Eun", "Fatima"}
	lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
		"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
		"Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
		"Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young"}
	cities = []string{"Springfield", "Riverside", "Fairview", "Madison", "Georgetown", "Salem",
		"Franklin", "Clinton", "Greenville", "Bristol", "Oakland", "Lisbon", "Kyoto", "Porto",
		"Tallinn", "Lyon", "Bergen", "Graz", "Leeds", "Quito", "Perth", "Austin", "Denver",
		"Boise", "Tucson", "Dayton", "Akron", "Omaha", "Fresno", "Reno", "Mesa", "Tulsa"}
	domains = []string{"example.com", "mail.test", "corp.example", "data.invalid"}
	words   = []string{"alpha", "beta", "gamma", "delta", "order", "refund", "shipped", "pending",
		"priority", "customer", "request", "invoice", "account", "updated", "review", "late",
		"express", "bulk", "gift", "return", "damaged", "urgent", "standard", "promo",
		"coupon", "annual", "monthly", "trial", "renewal", "cancel", "retry", "ok",
		"warehouse", "north", "south", "east", "west", "central", "backorder", "split",
		"partial", "full", "manual", "auto", "batch", "import", "export", "sync",
		"error", "timeout", "cache", "hit", "miss", "queue", "worker", "node",
		"disk", "net", "cpu", "mem", "read", "write", "open", "close"}
	lowerFirst, lowerLast []string
	logLevels             = []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"}
	services              = []string{"api", "auth", "billing", "search", "ingest", "export", "web", "cron"}
)

func init() {
	lower := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			b := []byte(s)
			for j, c := range b {
				if c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			out[i] = string(b)
		}
		return out
	}
	lowerFirst, lowerLast = lower(firstNames), lower(lastNames)
}

// mix is splitmix64's finalizer: a cheap keyed hash for per-id decisions.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// ---------------------------------------------------------------- table

// TableStats describes one generated table version.
type TableStats struct {
	Rows     int64 // data rows written (header excluded)
	Bytes    int64 // total bytes written, header included
	BaseRows int64 // rows of v1 (ids 1..BaseRows)
	MaxID    int64
	Updated  int64 // v2 only
	Deleted  int64 // v2 only
	Appended int64 // v2 only
}

type rowVals struct {
	fn, ln, dom, city int
	emailNum          int
	cents             int
	ts                int64
	noteN             int
	note              [8]int
}

var tableEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// rowGen draws row values from one sequential random stream; v2 replays the
// same stream, so every unedited row comes out byte-identical.
type rowGen struct {
	seed    uint64
	rng     *rand.Rand
	editPCG *rand.PCG
	edit    *rand.Rand
}

func newRowGen(seed uint64) *rowGen {
	ep := rand.NewPCG(0, 0)
	return &rowGen{seed: seed, rng: rand.New(rand.NewPCG(seed, 0x7461626c65)), editPCG: ep, edit: rand.New(ep)}
}

func (g *rowGen) draw(id int64) rowVals {
	r := g.rng
	var v rowVals
	x := r.Uint64()
	v.fn = int(x & 31)
	v.ln = int(x >> 5 & 31)
	v.dom = int(x >> 10 & 3)
	v.city = int(x >> 12 & 31)
	v.emailNum = int(x >> 17 % 1000)
	v.cents = int(x >> 27 % 2000000)
	v.ts = tableEpoch + id*29 + int64(x>>48%600)
	v.noteN = 2 + r.IntN(5)
	y := r.Uint64()
	for i := 0; i < v.noteN; i++ {
		v.note[i] = int(y >> (6 * i) & 63)
	}
	return v
}

// editVals replaces amount and note with values from a per-id edit stream.
func (g *rowGen) editVals(id int64, v *rowVals) { g.editValsKey(id, keyEditValues, v) }

func (g *rowGen) editValsKey(id int64, key uint64, v *rowVals) {
	g.editPCG.Seed(g.seed^key, uint64(id))
	e := g.edit
	v.cents = e.IntN(5000000)
	v.noteN = 2 + e.IntN(5)
	for i := 0; i < v.noteN; i++ {
		v.note[i] = e.IntN(len(words))
	}
	v.note[v.noteN] = 13 // "updated"
	v.noteN++
}

func appendRow(b []byte, id int64, v *rowVals) []byte {
	b = appendInt(b, id)
	b = append(b, ',')
	b = append(b, firstNames[v.fn]...)
	b = append(b, ' ')
	b = append(b, lastNames[v.ln]...)
	b = append(b, ',')
	b = append(b, lowerFirst[v.fn]...)
	b = append(b, '.')
	b = append(b, lowerLast[v.ln]...)
	b = appendInt(b, int64(v.emailNum))
	b = append(b, '@')
	b = append(b, domains[v.dom]...)
	b = append(b, ',')
	b = append(b, cities[v.city]...)
	b = append(b, ',')
	b = appendInt(b, int64(v.cents/100))
	b = append(b, '.', byte('0'+v.cents/10%10), byte('0'+v.cents%10), ',')
	b = appendTS(b, v.ts)
	b = append(b, ',')
	for i := 0; i < v.noteN; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, words[v.note[i]]...)
	}
	return append(b, '\n')
}

func appendInt(b []byte, n int64) []byte {
	if n == 0 {
		return append(b, '0')
	}
	var tmp [20]byte
	i := len(tmp)
	for n > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// appendTS formats a Unix time as 2006-01-02T15:04:05Z without allocating.
func appendTS(b []byte, unix int64) []byte {
	days := unix / 86400
	secs := int(unix % 86400)
	// civil_from_days (Howard Hinnant)
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := int(doy - (153*mp+2)/5 + 1)
	m := int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	b = appendInt(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, secs/3600)
	b = append(b, ':')
	b = append2(b, secs/60%60)
	b = append(b, ':')
	b = append2(b, secs%60)
	return append(b, 'Z')
}

// tableEdit says what v2 does to row id of v1: 0 keep, 1 update, 2 delete.
func tableEdit(seed uint64, id int64) int {
	h := mix(seed ^ keyEditSelect ^ mix(uint64(id)))
	if h%tableUpdateMod == 0 {
		return 1
	}
	if (h>>32)%tableDeleteMod == 0 {
		return 2
	}
	return 0
}

// WriteTable streams the CSV table to w. v1 has rows 1..N where N is the
// first row count whose v1 size reaches target bytes; v2 replays the same
// stream, updates ~0.01% of rows (amount and note), deletes ~0.005%, and
// appends ceil(2% of N) new rows with ids N+1...
func WriteTable(w io.Writer, seed uint64, target int64, v2 bool) (TableStats, error) {
	var edit func(g *rowGen, id int64, v *rowVals, st *TableStats) bool
	if v2 {
		edit = func(g *rowGen, id int64, v *rowVals, st *TableStats) bool {
			switch tableEdit(seed, id) {
			case 1:
				g.editVals(id, v)
				st.Updated++
			case 2:
				st.Deleted++
				return false
			}
			return true
		}
	}
	g := newRowGen(seed)
	st, err := writeTableRows(w, g, target, edit)
	if err != nil || !v2 {
		return st, err
	}
	// Appended rows continue the same stream of values.
	buf := make([]byte, 0, 512)
	id := st.BaseRows
	n := int64(math.Ceil(float64(id) * tableAppendFrac))
	for i := int64(0); i < n; i++ {
		id++
		v := g.draw(id)
		buf = appendRow(buf[:0], id, &v)
		if _, err := w.Write(buf); err != nil {
			return st, err
		}
		st.Rows++
		st.Appended++
		st.Bytes += int64(len(buf))
	}
	st.MaxID = id
	return st, nil
}

// writeTableRows streams the header and the v1 rows 1..N drawn from g (N:
// the first row count whose v1 size reaches target), passing each row
// through edit (nil: none), which may change it (and count that in st) or
// drop it (false).
func writeTableRows(w io.Writer, g *rowGen, target int64, edit func(g *rowGen, id int64, v *rowVals, st *TableStats) bool) (TableStats, error) {
	var st TableStats
	buf := make([]byte, 0, 512)
	if _, err := io.WriteString(w, tableHeader); err != nil {
		return st, err
	}
	v1Bytes := int64(len(tableHeader))
	st.Bytes = v1Bytes
	var id int64
	for v1Bytes < target || id == 0 {
		id++
		v := g.draw(id)
		buf = appendRow(buf[:0], id, &v)
		v1Bytes += int64(len(buf))
		if edit != nil {
			if !edit(g, id, &v, &st) {
				continue
			}
			buf = appendRow(buf[:0], id, &v)
		}
		if _, err := w.Write(buf); err != nil {
			return st, err
		}
		st.Rows++
		st.Bytes += int64(len(buf))
	}
	st.BaseRows, st.MaxID = id, id
	return st, nil
}

// branchEdit says which of two branches updates row id: 1 or 2 (each
// about 1 in mod rows, scattered, disjoint), or 0.
func branchEdit(seed uint64, id int64, mod uint64) int {
	switch mix(seed^keyBranchSel^mix(uint64(id))) % mod {
	case 1:
		return 1
	case 2:
		return 2
	}
	return 0
}

// WriteTableBranches streams v1 of the table with the updates of branch 1
// and/or branch 2 applied (amount and note; different values per branch),
// each to about 1 in mod rows (0: tableUpdateMod, 0.01%). With both, it is
// what merging the two branches must give.
func WriteTableBranches(w io.Writer, seed uint64, target int64, mod uint64, one, two bool) (TableStats, error) {
	if mod == 0 {
		mod = tableUpdateMod
	}
	return writeTableRows(w, newRowGen(seed), target, func(g *rowGen, id int64, v *rowVals, st *TableStats) bool {
		if b := branchEdit(seed, id, mod); b == 1 && one || b == 2 && two {
			g.editValsKey(id, keyEditValues^uint64(b), v)
			st.Updated++
		}
		return true
	})
}

// ---------------------------------------------------------------- binary helpers

// fillRandom fills b with incompressible bytes from r.
func fillRandom(r *rand.Rand, b []byte) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := r.Uint64()
		b[i], b[i+1], b[i+2], b[i+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
		b[i+4], b[i+5], b[i+6], b[i+7] = byte(x>>32), byte(x>>40), byte(x>>48), byte(x>>56)
	}
	if i < len(b) {
		x := r.Uint64()
		for ; i < len(b); i++ {
			b[i] = byte(x)
			x >>= 8
		}
	}
}

// fillLowEntropy fills b with a short repeating random pattern sprinkled with
// noise: compresses roughly 4-10x, but is not trivially constant.
func fillLowEntropy(r *rand.Rand, b []byte) {
	var pat [64]byte
	plen := 8 + r.IntN(56)
	fillRandom(r, pat[:plen])
	for i := range b {
		b[i] = pat[i%plen]
	}
	for i := 0; i < len(b)/64; i++ {
		x := r.Uint64()
		b[int(x%uint64(len(b)))] = byte(x >> 32)
	}
}

// fillMixedBinary: 4 KiB blocks, each either random or low-entropy, so the
// whole is "partly compressible" (about half).
func fillMixedBinary(r *rand.Rand, b []byte) {
	for off := 0; off < len(b); off += 4096 {
		end := min(off+4096, len(b))
		if r.IntN(2) == 0 {
			fillRandom(r, b[off:end])
		} else {
			fillLowEntropy(r, b[off:end])
		}
	}
}

// ---------------------------------------------------------------- small files

// SmallSpec describes the many-small-files dataset.
type SmallSpec struct {
	Seed  uint64
	Files int // number of files in v1
}

// SmallStats describes one generated version of the small-files dataset.
type SmallStats struct {
	Files   int
	Bytes   int64
	Changed int // v2 only
	Added   int // v2 only
}

// smallRel is the worktree-relative path of file i: 100 files per leaf
// directory, two directory levels.
func smallRel(i int) string {
	ext := "bin"
	switch i % 4 {
	case 0:
		ext = "csv"
	case 2:
		ext = "log"
	}
	d := i / 100
	return filepath.Join("files", fmt.Sprintf("d%02d", d/10), fmt.Sprintf("d%02d", d%10), fmt.Sprintf("f%05d.%s", i, ext))
}

// smallV1 returns v1 content of file i, reusing buf.
func (s SmallSpec) smallV1(i int, buf []byte) []byte {
	r := rand.New(rand.NewPCG(s.Seed, uint64(i)))
	size := smallMinSize + int(float64(smallMaxSize-smallMinSize)*math.Pow(r.Float64(), smallSizeExp))
	switch i % 4 {
	case 0: // CSV-like lines
		buf = append(buf[:0], tableHeader...)
		g := newRowGen(s.Seed ^ uint64(i)*0x9e37)
		id := int64(r.IntN(1_000_000))
		for len(buf) < size {
			id++
			v := g.draw(id)
			buf = appendRow(buf, id, &v)
		}
		return buf[:size]
	case 2: // log-like lines
		buf = buf[:0]
		ts := tableEpoch + int64(r.IntN(86400*365))
		for len(buf) < size {
			ts += int64(r.IntN(5))
			buf = appendTS(buf, ts)
			buf = append(buf, ' ')
			buf = append(buf, logLevels[r.IntN(len(logLevels))]...)
			buf = append(buf, " svc="...)
			buf = append(buf, services[r.IntN(len(services))]...)
			buf = append(buf, " req="...)
			buf = appendInt(buf, int64(r.IntN(10_000_000)))
			buf = append(buf, " latency_ms="...)
			buf = appendInt(buf, int64(r.IntN(2000)))
			buf = append(buf, " msg="...)
			n := 2 + r.IntN(6)
			for k := 0; k < n; k++ {
				if k > 0 {
					buf = append(buf, '_')
				}
				buf = append(buf, words[r.IntN(len(words))]...)
			}
			buf = append(buf, '\n')
		}
		return buf[:size]
	default: // binary, partly compressible
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		fillMixedBinary(r, buf)
		return buf
	}
}

// smallChangedSet picks exactly round(2% of Files) (at least 1) distinct
// v1 files to edit in v2.
func (s SmallSpec) smallChangedSet() map[int]bool {
	k := int(math.Round(float64(s.Files) * smallChangeFrac))
	if k < 1 && s.Files > 0 {
		k = 1
	}
	r := rand.New(rand.NewPCG(s.Seed^keySmallPick, 1))
	perm := r.Perm(s.Files)
	set := make(map[int]bool, k)
	for _, i := range perm[:k] {
		set[i] = true
	}
	return set
}

func (s SmallSpec) smallAdded() int {
	k := int(math.Round(float64(s.Files) * smallNewFrac))
	if k < 1 && s.Files > 0 {
		k = 1
	}
	return k
}

// smallEdit applies v2's small edit to file i's content: text files get a
// short line inserted at a line boundary, binary files get 64 bytes
// overwritten.
func (s SmallSpec) smallEdit(i int, b []byte) []byte {
	r := rand.New(rand.NewPCG(s.Seed^keySmallEdit, uint64(i)))
	if i%2 == 1 {
		n := min(64, len(b))
		off := r.IntN(len(b) - n + 1)
		fillRandom(r, b[off:off+n])
		return b
	}
	off := r.IntN(len(b))
	for off > 0 && b[off-1] != '\n' {
		off--
	}
	line := []byte("EDITED v2 ")
	line = appendInt(line, int64(r.IntN(1_000_000)))
	line = append(line, " changed by bench\n"...)
	out := make([]byte, 0, len(b)+len(line))
	out = append(out, b[:off]...)
	out = append(out, line...)
	return append(out, b[off:]...)
}

// eachSmall calls fn with the index, relative path and content of every
// file of the given version. The content slice is only valid during the call.
func (s SmallSpec) eachSmall(v2 bool, fn func(i int, rel string, data []byte) error) (SmallStats, error) {
	var st SmallStats
	var changed map[int]bool
	total := s.Files
	if v2 {
		changed = s.smallChangedSet()
		st.Added = s.smallAdded()
		total += st.Added
	}
	buf := make([]byte, 0, smallMaxSize+4096)
	for i := 0; i < total; i++ {
		buf = s.smallV1(i, buf)
		data := buf
		if changed[i] {
			data = s.smallEdit(i, buf)
			st.Changed++
		}
		if err := fn(i, smallRel(i), data); err != nil {
			return st, err
		}
		st.Files++
		st.Bytes += int64(len(data))
	}
	return st, nil
}

// WriteSmall writes every file of v1 under root, on all cores (every file
// depends only on the seed and its index, so the order does not matter).
func (s SmallSpec) WriteSmall(root string) (SmallStats, error) {
	workers := max(1, min(runtime.NumCPU(), 8))
	stats := make([]SmallStats, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, smallMaxSize+4096)
			for i := w; i < s.Files; i += workers {
				buf = s.smallV1(i, buf)
				if err := writeFileMkdir(filepath.Join(root, smallRel(i)), buf); err != nil {
					errs[w] = err
					return
				}
				stats[w].Files++
				stats[w].Bytes += int64(len(buf))
			}
		}()
	}
	wg.Wait()
	var st SmallStats
	for w := range stats {
		st.Files += stats[w].Files
		st.Bytes += stats[w].Bytes
	}
	return st, errors.Join(errs...)
}

// ApplySmallV2 turns a v1 tree under root into v2 in place: it rewrites only
// the changed files and creates the new ones. The returned stats describe
// the whole v2 tree.
func (s SmallSpec) ApplySmallV2(root string) (SmallStats, error) {
	changed := s.smallChangedSet()
	st := SmallStats{Changed: len(changed), Added: s.smallAdded()}
	st.Files = s.Files + st.Added
	buf := make([]byte, 0, smallMaxSize+4096)
	for i := 0; i < st.Files; i++ {
		buf = s.smallV1(i, buf)
		data := buf
		if changed[i] {
			data = s.smallEdit(i, buf)
		}
		st.Bytes += int64(len(data))
		if i < s.Files && !changed[i] {
			continue
		}
		if err := writeFileMkdir(filepath.Join(root, smallRel(i)), data); err != nil {
			return st, err
		}
	}
	return st, nil
}

func writeFileMkdir(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		if !os.IsNotExist(err) {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o644)
	}
	return nil
}

// ---------------------------------------------------------------- big file

// WriteBig streams a single file of exactly size bytes: 1 MiB blocks, half
// CSV text, a quarter random binary, a quarter partly compressible binary.
func WriteBig(w io.Writer, seed uint64, size int64) error {
	r := rand.New(rand.NewPCG(seed^keyBig, 2))
	g := newRowGen(seed ^ keyBig)
	blk := make([]byte, 0, bigBlock+512)
	var id int64
	for written := int64(0); written < size; {
		n := int(min(int64(bigBlock), size-written))
		switch r.IntN(4) {
		case 0, 1:
			blk = blk[:0]
			for len(blk) < n {
				id++
				v := g.draw(id)
				blk = appendRow(blk, id, &v)
			}
		case 2:
			blk = blk[:n]
			fillRandom(r, blk)
		default:
			blk = blk[:n]
			fillMixedBinary(r, blk)
		}
		if _, err := w.Write(blk[:n]); err != nil {
			return err
		}
		written += int64(n)
	}
	return nil
}

// ---------------------------------------------------------------- file helpers

// writeStream creates path and streams gen into it through a 1 MiB buffer.
func writeStream(path string, gen func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := gen(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hashStream returns the SHA-256 of what gen writes.
func hashStream(gen func(io.Writer) error) ([32]byte, error) {
	h := sha256.New()
	bw := bufio.NewWriterSize(h, 1<<20)
	var sum [32]byte
	if err := gen(bw); err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
