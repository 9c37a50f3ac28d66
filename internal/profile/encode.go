package profile

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"unsafe"

	"github.com/zeebo/xxh3"
)

// encodingVersion is the first byte of an encoded Profile; a change of
// layout changes it (and the cache keys, which hold it).
const encodingVersion = 7

// errCorrupt: an encoded profile does not decode (a cache entry to
// compute again).
var errCorrupt = errors.New("profile: a corrupt encoded profile")

// Column flags.
const (
	flagOver = 1 << iota
	flagTruncated
	flagHLL
	flagSketch
	flagSummary
	// flagTail: a summarized column's counts are in the span's tail
	// entry, not here (see EncodeSpan).
	flagTail
)

// summaryFrom is how many distinct values an exact column's counts hold
// past which its encoding starts with a summary: its top values and its
// registers, so that merging it into a column whose counts are estimates
// reads those and skips the counts.
const summaryFrom = 64

// Encode appends p's binary encoding to dst, which ends with the xxh3
// hash of the rest: a cache entry that changed is found out before it is
// read (a sketch's bins read from garbage could ask for any memory).
func (p *Profile) Encode(dst []byte) ([]byte, error) { return p.encode(dst, nil) }

// EncodeSpan encodes a span's profile as two cache entries: its head,
// which Encode's layout but for the counts of the columns it summarizes
// (an exact column of many values), and its tail, those counts (nil:
// none). A file's column past its exact limits takes a span's summary
// only, so that a file profiled from its spans' cached profiles reads
// their tails only for the columns that end up exact.
func (p *Profile) EncodeSpan() (head, tail []byte, err error) {
	tail = []byte{encodingVersion}
	if head, err = p.encode(nil, &tail); err != nil || len(tail) == 1 {
		return head, nil, err
	}
	return head, binary.LittleEndian.AppendUint64(tail, xxh3.Hash(tail)), nil
}

// encode appends p's encoding; with tail, the counts of the columns it
// summarizes go to *tail, after each column's name.
func (p *Profile) encode(dst []byte, tail *[]byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, encodingVersion)
	dst = binary.AppendUvarint(dst, uint64(p.Rows))
	dst = binary.AppendUvarint(dst, uint64(len(p.Header)))
	for _, h := range p.Header {
		dst = appendString(dst, h)
	}
	dst = binary.AppendUvarint(dst, uint64(len(p.Columns)))
	for _, c := range p.Columns {
		var err error
		if dst, err = c.encode(dst, tail); err != nil {
			return nil, err
		}
	}
	return binary.LittleEndian.AppendUint64(dst, xxh3.Hash(dst[start:])), nil
}

// opened is a decoder of an encoding past its version byte, if its hash
// holds and the version is this one's.
func opened(b []byte) (decoder, bool) {
	b, ok := checked(b)
	if !ok || b[0] != encodingVersion {
		return decoder{}, false
	}
	return decoder{b: b[1:]}, true
}

// checked is an encoding without its hash, if the hash holds.
func checked(b []byte) ([]byte, bool) {
	if len(b) < 9 {
		return nil, false
	}
	body := b[:len(b)-8]
	return body, binary.LittleEndian.Uint64(b[len(b)-8:]) == xxh3.Hash(body)
}

func (c *Column) encode(dst []byte, tail *[]byte) ([]byte, error) {
	c.flushSketch()
	dst = appendString(dst, c.Name)
	dst = binary.AppendUvarint(dst, uint64(c.Values))
	dst = append(dst, byte(c.Kinds))
	for _, v := range []int64{c.LenMin, c.LenMax, c.LenSum, c.IntMin, c.IntMax, c.SumHi, c.TimeMin.S, c.TimeMin.N, c.TimeMax.S, c.TimeMax.N} {
		dst = binary.AppendVarint(dst, v)
	}
	dst = binary.AppendUvarint(dst, c.SumLo)
	for _, f := range []float64{c.FloatMin, c.FloatMax} {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	}
	for _, n := range c.Lacking {
		dst = binary.AppendUvarint(dst, uint64(n))
	}
	for _, n := range c.Ties {
		dst = binary.AppendUvarint(dst, uint64(n))
	}
	dst = binary.AppendUvarint(dst, uint64(c.Stale))
	dst = appendString(appendString(dst, c.StrMin), c.StrMax)
	var flags byte
	if c.Over {
		flags |= flagOver
	}
	if c.Truncated {
		flags |= flagTruncated
	}
	if c.regs != nil {
		flags |= flagHLL
	}
	if c.sketch != nil {
		flags |= flagSketch
	}
	summary := !c.Over && c.regs == nil && len(c.counts) > summaryFrom
	if summary {
		flags |= flagSummary
		if tail != nil {
			flags |= flagTail
		}
	}
	dst = append(dst, flags)
	dst = appendWide(appendWide(dst, &c.sum), &c.sq)
	if summary {
		dst = c.appendSummary(dst)
		block := bytesString(appendCounts(nil, c.counts))
		if tail != nil {
			*tail = appendString(appendString(*tail, c.Name), block)
		} else {
			dst = appendString(dst, block)
		}
	} else {
		dst = appendCounts(dst, c.counts)
	}
	if c.regs != nil {
		dst = c.regs.encode(dst)
	}
	if c.sketch != nil {
		dst = appendSketch(dst, c.sketch)
	}
	return dst, nil
}

// appendCounts appends values and their counts, their number first.
func appendCounts(dst []byte, cs counts) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(cs)))
	for v, n := range cs {
		dst = binary.AppendUvarint(appendString(dst, v), uint64(*n))
	}
	return dst
}

// appendSummary appends an exact column's summary: the overKept most
// frequent of its values counted twice or more (as an Over span keeps),
// and the registers of its values.
func (c *Column) appendSummary(dst []byte) []byte {
	var top topValues
	var dense [1 << hllPrecision]uint8
	var set [1 << hllPrecision / 64]uint64
	for v, n := range c.counts {
		top.offer(stringBytes(v), *n)
		e := register(hashValue(stringBytes(v)))
		i := e >> 6
		dense[i] = max(dense[i], uint8(e&63))
		set[i/64] |= 1 << (i % 64)
	}
	dst = binary.AppendUvarint(dst, uint64(len(top.vs)))
	for _, t := range top.vs {
		dst = binary.AppendUvarint(appendString(dst, bytesString(t.v)), uint64(t.n))
	}
	return sparseRegisters(&dense, &set).encode(dst)
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// Decode reads a profile that Encode wrote.
func Decode(b []byte) (*Profile, error) {
	d, ok := opened(b)
	if !ok {
		return nil, errCorrupt
	}
	p := &Profile{Rows: int64(d.uvarint())}
	if n := d.count(); n > 0 {
		p.Header = make([]string, n)
		for i := range p.Header {
			p.Header[i] = d.string()
		}
	}
	p.Columns = make([]*Column, d.count())
	for i := range p.Columns {
		c, err := d.column()
		if err != nil {
			return nil, err
		}
		p.Columns[i] = c
	}
	if d.bad || len(d.b) != 0 {
		return nil, errCorrupt
	}
	return p, nil
}

// decoder reads an encoding, noting (not failing at) a short one.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length no longer than what is left to read.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.count()
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) string() string { return string(d.bytes()) }

// pairs reads values and their counts, their number first.
func (d *decoder) pairs(fn func(v []byte, n int64)) {
	for range d.count() {
		v := d.bytes()
		fn(v, int64(d.uvarint()))
	}
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.bad, d.b = true, nil
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return f
}

// figures reads a column's name (viewed, not copied), figures and
// flags.
func (d *decoder) figures(c *Column) (name []byte, flags byte) {
	name = d.bytes()
	c.Values, c.Kinds = int64(d.uvarint()), Kinds(d.byte())
	for _, v := range []*int64{&c.LenMin, &c.LenMax, &c.LenSum, &c.IntMin, &c.IntMax, &c.SumHi, &c.TimeMin.S, &c.TimeMin.N, &c.TimeMax.S, &c.TimeMax.N} {
		*v = d.varint()
	}
	c.SumLo = d.uvarint()
	for _, f := range []*float64{&c.FloatMin, &c.FloatMax} {
		*f = d.float()
	}
	for k := range c.Lacking {
		c.Lacking[k] = int64(d.uvarint())
	}
	for k := range c.Ties {
		c.Ties[k] = int64(d.uvarint())
	}
	c.Stale = int64(d.uvarint())
	c.StrMin, c.StrMax = bytesString(d.bytes()), bytesString(d.bytes()) // viewed
	flags = d.byte()
	c.Over, c.Truncated = flags&flagOver != 0, flags&flagTruncated != 0
	return name, flags
}

func (d *decoder) column() (*Column, error) {
	c := &Column{}
	name, flags := d.figures(c)
	c.Name = string(name)
	c.StrMin, c.StrMax = strings.Clone(c.StrMin), strings.Clone(c.StrMax)
	if !d.wide(&c.sum) || !d.wide(&c.sq) {
		return nil, errCorrupt
	}
	cd := d
	if flags&flagTail != 0 {
		return nil, errCorrupt // a span's head: its counts are elsewhere
	}
	if flags&flagSummary != 0 {
		d.pairs(func([]byte, int64) {}) // the summary: the counts say it all
		decodeRegisters(d)
		cd = &decoder{b: d.bytes()}
	}
	c.counts = counts{}
	cd.pairs(func(v []byte, n int64) { c.counts.add(v, n) })
	if cd.bad || cd != d && len(cd.b) != 0 {
		return nil, errCorrupt
	}
	if flags&flagHLL != 0 {
		if r, ok := decodeRegisters(d); ok {
			c.regs = r.clone()
		}
	}
	if flags&flagSketch != 0 {
		c.bins = &sketchBins{}
		if !mergeSketch(d, c.bins) {
			return nil, errCorrupt
		}
		c.flushSketch()
	}
	if d.bad {
		return nil, errCorrupt
	}
	return c, nil
}

// mergeEncoded adds an encoded profile to p as Merge would add it
// decoded, without building it: counts and registers go straight into
// p's, sketch bins into its columns' bins (see flushSketch). A corrupt
// encoding may leave p part merged.
func (p *Profile) mergeEncoded(b []byte) error { return p.mergeSpan(b, nil, -1) }

// mergeSpan is mergeEncoded for a span's head (see EncodeSpan), span
// at: its summarized columns' counts are taken from tail (its tail
// entry, decoded by decodeTail), or, nil, left for settleTails.
func (p *Profile) mergeSpan(b []byte, tail map[string][]byte, at int) error {
	d, ok := opened(b)
	if !ok {
		return errCorrupt
	}
	p.Rows += int64(d.uvarint())
	for range d.count() {
		d.bytes() // a header: a span's profile has none
	}
	var top topValues // reused by the columns
	for range d.count() {
		var o Column
		name, flags := d.figures(&o)
		if d.bad {
			return errCorrupt
		}
		c := p.Column(bytesString(name))
		if c == nil {
			c = &Column{Name: string(name), Kinds: allKinds}
			p.Columns = append(p.Columns, c)
		}
		if o.Values > 0 {
			c.mergeFigures(&o)
			// o's StrMin and StrMax are views of b: copied if kept.
			if unsafe.StringData(c.StrMin) == unsafe.StringData(o.StrMin) {
				c.StrMin = strings.Clone(c.StrMin)
			}
			if unsafe.StringData(c.StrMax) == unsafe.StringData(o.StrMax) {
				c.StrMax = strings.Clone(c.StrMax)
			}
		}
		if c.Kinds&KindFloat != 0 && o.Kinds&KindFloat != 0 {
			d.wide(&c.sum)
			d.wide(&c.sq)
		} else {
			d.wide(nil)
			d.wide(nil)
		}
		if c.counts == nil {
			c.counts = counts{}
		}
		if flags&flagSummary != 0 {
			if err := c.mergeSummarized(&d, &top, flags, tail, at); err != nil {
				return err
			}
		} else {
			c.mergeCounts(&d, flags, &top)
		}
		if flags&flagHLL != 0 {
			r, ok := decodeRegisters(&d)
			if !ok {
				return errCorrupt
			}
			if c.regs == nil {
				c.regs = registersOf(c.counts)
			}
			c.regs.merge(&r)
		}
		if flags&flagSketch != 0 {
			if c.Kinds&KindFloat != 0 && c.bins == nil {
				c.bins = &sketchBins{}
			}
			if !mergeSketch(&d, c.bins) {
				return errCorrupt
			}
		}
		if c.Kinds&KindFloat == 0 {
			c.sketch, c.bins = nil, nil
		}
		c.prune()
	}
	if d.bad || len(d.b) != 0 {
		return errCorrupt
	}
	return nil
}

// mergeCounts adds a span's counts (not summarized) to c's.
func (c *Column) mergeCounts(d *decoder, flags byte, top *topValues) {
	hashCounts := c.regs != nil && flags&flagHLL == 0
	// Estimates already: an exact span's counts go in as an Over span's
	// would (see overKept).
	useTop := c.Over && flags&flagHLL == 0
	top.vs = top.vs[:0]
	for range d.count() {
		v := d.bytes()
		n := int64(d.uvarint())
		if useTop {
			top.offer(v, n)
		} else {
			c.counts.add(v, n)
		}
		if hashCounts {
			c.regs.add(hashValue(v))
		}
	}
	if useTop {
		for _, t := range top.vs {
			c.counts.add(t.v, t.n)
		}
	}
}

// mergeSummarized adds an exact span's summarized counts to c's: into a
// column whose counts are estimates, its top values and registers (as
// mergeCounts would add them), the counts skipped; else its counts,
// those of a column with flagTail from tail, or, if nil, left for
// settleTails (span at).
func (c *Column) mergeSummarized(d *decoder, top *topValues, flags byte, tail map[string][]byte, at int) error {
	top.vs = top.vs[:0]
	d.pairs(func(v []byte, n int64) { top.vs = append(top.vs, valueN{v, n}) })
	r, ok := decodeRegisters(d)
	var block []byte
	if flags&flagTail == 0 {
		block = d.bytes()
	}
	if !ok || d.bad {
		return errCorrupt
	}
	if flags&flagTail != 0 && tail != nil {
		if block, ok = tail[c.Name]; !ok {
			return errCorrupt
		}
	} else if flags&flagTail != 0 && !c.Over {
		if at < 0 {
			return errCorrupt
		}
		c.pendTail(at, top.vs, &r)
		return nil
	}
	if c.Over {
		for _, t := range top.vs {
			c.counts.add(t.v, t.n)
		}
		if c.regs == nil {
			c.regs = registersOf(c.counts)
		}
		c.regs.merge(&r)
		return nil
	}
	cd := decoder{b: block}
	cd.pairs(func(v []byte, n int64) { c.counts.add(v, n) })
	if cd.bad || len(cd.b) != 0 {
		return errCorrupt
	}
	if c.regs != nil {
		c.regs.merge(&r)
	}
	return nil
}
