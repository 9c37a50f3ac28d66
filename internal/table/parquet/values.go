package parquet

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/dxdata/dx/internal/table"
)

// A row's values come out as JSON, one value per top-level column, with
// the logical types applied: timestamps in RFC 3339 (with a Z when
// adjusted to UTC, without a zone when not), dates as YYYY-MM-DD, times
// as hh:mm:ss[.fff], decimals as exact JSON numbers, UUIDs in their
// usual text, lists as arrays, structs as objects in schema order, maps
// as objects (keys as text), nulls as null. Bytes without a logical type
// are a string when they are valid UTF-8, else base64 text.

// leaves counts the leaf columns under n.
func leaves(n pq.Node) int {
	if n.Leaf() {
		return 1
	}
	k := 0
	for _, f := range n.Fields() {
		k += leaves(f)
	}
	return k
}

// assembler turns the values of one row (grouped by leaf column) into
// JSON, following the record shredding's repetition and definition levels.
type assembler struct {
	buf []byte
}

// column appends the JSON of node n (at definition level def and
// repetition depth rep) from cols, the values of its leaf columns.
func (a *assembler) column(n pq.Node, def, rep int, cols [][]pq.Value) error {
	if n.Optional() {
		def++
		if len(cols) > 0 && len(cols[0]) > 0 && cols[0][0].DefinitionLevel() < def {
			a.buf = append(a.buf, "null"...)
			return nil
		}
	}
	if n.Repeated() {
		return a.repeated(n, def+1, rep+1, cols, func(cols [][]pq.Value) error {
			return a.required(n, def+1, rep+1, cols)
		})
	}
	return a.required(n, def, rep, cols)
}

// repeated appends the elements of a repeated node as an array, each
// written by elem from its share of the values.
func (a *assembler) repeated(n pq.Node, def, rep int, cols [][]pq.Value, elem func([][]pq.Value) error) error {
	return a.elements(def, rep, cols, '[', ']', elem)
}

// elements appends the elements of a repeated node between open and
// close, each written by elem from its share of the values.
func (a *assembler) elements(def, rep int, cols [][]pq.Value, open, close byte, elem func([][]pq.Value) error) error {
	a.buf = append(a.buf, open)
	if len(cols) == 0 || len(cols[0]) == 0 || cols[0][0].DefinitionLevel() < def && len(cols[0]) == 1 {
		a.buf = append(a.buf, close)
		return nil
	}
	parts := make([][]pq.Value, len(cols))
	rest := make([][]pq.Value, len(cols))
	copy(rest, cols)
	for first := true; len(rest[0]) > 0; first = false {
		if !first {
			a.buf = append(a.buf, ',')
		}
		for j, c := range rest {
			k := 1
			for k < len(c) && c[k].RepetitionLevel() > rep {
				k++
			}
			parts[j], rest[j] = c[:min(k, len(c))], c[min(k, len(c)):]
		}
		if err := elem(parts); err != nil {
			return err
		}
	}
	a.buf = append(a.buf, close)
	return nil
}

// required appends a node known to be present at def.
func (a *assembler) required(n pq.Node, def, rep int, cols [][]pq.Value) error {
	if n.Leaf() {
		if len(cols) == 0 || len(cols[0]) == 0 {
			return fmt.Errorf("no value for a leaf column")
		}
		v := cols[0][0]
		if v.IsNull() || v.DefinitionLevel() < def {
			a.buf = append(a.buf, "null"...)
			return nil
		}
		var err error
		a.buf, err = appendLeaf(a.buf, n, v)
		return err
	}
	lt := n.Type().LogicalType()
	switch {
	case lt != nil && isA[*format.ListType](lt) && len(n.Fields()) == 1 && n.Fields()[0].Repeated():
		inner := n.Fields()[0]
		return a.repeated(inner, def+1, rep+1, cols, func(cols [][]pq.Value) error {
			if inner.Leaf() || len(inner.Fields()) != 1 {
				return a.required(inner, def+1, rep+1, cols) // two-level list: the repeated node is the element
			}
			return a.column(inner.Fields()[0], def+1, rep+1, cols)
		})
	case lt != nil && isA[*format.MapType](lt) && len(n.Fields()) == 1 && n.Fields()[0].Repeated() && len(n.Fields()[0].Fields()) == 2:
		return a.mapColumn(n.Fields()[0], def+1, rep+1, cols)
	}
	a.buf = append(a.buf, '{')
	at := 0
	for i, f := range n.Fields() {
		if i > 0 {
			a.buf = append(a.buf, ',')
		}
		a.buf = appendString(a.buf, f.Name())
		a.buf = append(a.buf, ':')
		k := leaves(f)
		if err := a.column(f, def, rep, cols[at:at+k]); err != nil {
			return err
		}
		at += k
	}
	a.buf = append(a.buf, '}')
	return nil
}

// mapColumn appends a MAP's key_value group as an object: each key as
// its text, each value as JSON.
func (a *assembler) mapColumn(kv pq.Node, def, rep int, cols [][]pq.Value) error {
	fields := kv.Fields()
	nk := leaves(fields[0])
	return a.elements(def, rep, cols, '{', '}', func(cols [][]pq.Value) error {
		save := a.buf
		a.buf = nil
		if err := a.column(fields[0], def, rep, cols[:nk]); err != nil {
			return err
		}
		key := jsonText(string(a.buf))
		a.buf = append(appendString(save, key), ':')
		return a.column(fields[1], def, rep, cols[nk:])
	})
}

func isA[T format.LogicalTypeValue](lt *format.LogicalType) bool {
	_, ok := lt.Value.(T)
	return ok
}

// appendLeaf appends one present leaf value as JSON under its logical type.
func appendLeaf(b []byte, n pq.Node, v pq.Value) ([]byte, error) {
	t := n.Type()
	var lv format.LogicalTypeValue
	if lt := t.LogicalType(); lt != nil {
		lv = lt.Value
	}
	ct := t.ConvertedType()
	switch v.Kind() {
	case pq.Boolean:
		return strconv.AppendBool(b, v.Boolean()), nil
	case pq.Int32, pq.Int64:
		x := v.Int64()
		if v.Kind() == pq.Int32 {
			x = int64(v.Int32())
		}
		switch l := lv.(type) {
		case *format.DateType:
			return appendQuoted(b, time.Unix(x*86400, 0).UTC().Format(time.DateOnly)), nil
		case *format.TimestampType:
			return appendQuoted(b, timestamp(x, &l.Unit, l.IsAdjustedToUTC)), nil
		case *format.TimeType:
			d := time.Duration(x) * unitOf(&l.Unit)
			return appendQuoted(b, time.Unix(0, int64(d)).UTC().Format("15:04:05.999999999")), nil
		case *format.DecimalType:
			return append(b, decimal(big.NewInt(x), int(l.Scale))...), nil
		case *format.IntType:
			if !l.IsSigned {
				if v.Kind() == pq.Int32 {
					return strconv.AppendUint(b, uint64(uint32(v.Int32())), 10), nil
				}
				return strconv.AppendUint(b, uint64(x), 10), nil
			}
		}
		if ct != nil {
			switch *ct {
			case deprecated.Date:
				return appendQuoted(b, time.Unix(x*86400, 0).UTC().Format(time.DateOnly)), nil
			case deprecated.TimestampMillis:
				return appendQuoted(b, time.UnixMilli(x).UTC().Format(time.RFC3339Nano)), nil
			case deprecated.TimestampMicros:
				return appendQuoted(b, time.UnixMicro(x).UTC().Format(time.RFC3339Nano)), nil
			}
		}
		return strconv.AppendInt(b, x, 10), nil
	case pq.Int96:
		i := v.Int96()
		nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
		days := int64(i[2]) - 2440588 // the Julian day of 1970-01-01
		return appendQuoted(b, time.Unix(days*86400, nanos).UTC().Format(time.RFC3339Nano)), nil
	case pq.Float:
		return appendFloat(b, float64(v.Float()), 32), nil
	case pq.Double:
		return appendFloat(b, v.Double(), 64), nil
	case pq.ByteArray, pq.FixedLenByteArray:
		raw := v.ByteArray()
		switch l := lv.(type) {
		case *format.DecimalType:
			return append(b, decimal(twosComplement(raw), int(l.Scale))...), nil
		case *format.UUIDType:
			if len(raw) == 16 {
				h := hex.EncodeToString(raw)
				return appendQuoted(b, h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:]), nil
			}
		case *format.Float16Type:
			if len(raw) == 2 {
				return appendFloat(b, float16(binary.LittleEndian.Uint16(raw)), 32), nil
			}
		case *format.JsonType:
			if json.Valid(raw) {
				return appendCompactJSON(b, raw), nil
			}
		case *format.StringType, *format.EnumType:
			return appendString(b, string(raw)), nil
		}
		if utf8.Valid(raw) {
			return appendString(b, string(raw)), nil
		}
		return appendQuoted(b, base64.StdEncoding.EncodeToString(raw)), nil
	}
	return b, fmt.Errorf("a value of unknown kind %v", v.Kind())
}

func unitOf(u *format.TimeUnit) time.Duration {
	switch u.Value.(type) {
	case *format.MilliSeconds:
		return time.Millisecond
	case *format.MicroSeconds:
		return time.Microsecond
	}
	return time.Nanosecond
}

// timestamp is x units since the epoch in RFC 3339: with a Z when it is
// adjusted to UTC, without a zone (local time) when not.
func timestamp(x int64, u *format.TimeUnit, utc bool) string {
	var t time.Time
	switch unitOf(u) {
	case time.Millisecond:
		t = time.UnixMilli(x)
	case time.Microsecond:
		t = time.UnixMicro(x)
	default:
		t = time.Unix(0, x)
	}
	t = t.UTC()
	if utc {
		return t.Format(time.RFC3339Nano)
	}
	return t.Format("2006-01-02T15:04:05.999999999")
}

// twosComplement reads big-endian two's complement bytes.
func twosComplement(raw []byte) *big.Int {
	x := new(big.Int).SetBytes(raw)
	if len(raw) > 0 && raw[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(raw))))
	}
	return x
}

// decimal writes unscaled·10^-scale exactly.
func decimal(unscaled *big.Int, scale int) string {
	s := unscaled.String()
	if scale <= 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	if neg {
		s = "-" + s
	}
	return s
}

// appendFloat writes a float as a JSON number, or as a string for NaN and
// the infinities, which JSON has no number for.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendQuoted(b, strconv.FormatFloat(f, 'g', -1, bits))
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

func float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

func appendQuoted(b []byte, s string) []byte { return appendString(b, s) }

// appendString appends s as a JSON string (HTML characters unescaped).
func appendString(b []byte, s string) []byte { return table.AppendJSONString(b, s) }

// appendCompactJSON appends a JSON document without its insignificant
// white space.
func appendCompactJSON(b []byte, raw []byte) []byte {
	var sb strings.Builder
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return appendString(b, string(raw))
	}
	e := json.NewEncoder(&sb)
	e.SetEscapeHTML(false)
	if e.Encode(v) != nil {
		return appendString(b, string(raw))
	}
	return append(b, strings.TrimSuffix(sb.String(), "\n")...)
}

func jsonText(v string) string { return table.JSONText(v) }
