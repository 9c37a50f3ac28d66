package parquetcut

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Thrift compact protocol type codes.
const (
	tStop   = 0
	tTrue   = 1
	tFalse  = 2
	tByte   = 3
	tI16    = 4
	tI32    = 5
	tI64    = 6
	tDouble = 7
	tBinary = 8
	tList   = 9
	tSet    = 10
	tMap    = 11
	tStruct = 12
)

// maxDepth bounds the nesting of structs and containers a reader follows.
const maxDepth = 64

// errShort means the bytes ended inside a value: a bigger window may hold it.
var errShort = errors.New("thrift: unexpected end of data")

// compact reads thrift compact-protocol values from a byte slice. It never
// allocates in proportion to a length it reads: every length is checked
// against the bytes that remain.
type compact struct {
	b     []byte
	p     int
	depth int
}

func (c *compact) byte() (byte, error) {
	if c.p >= len(c.b) {
		return 0, errShort
	}
	c.p++
	return c.b[c.p-1], nil
}

func (c *compact) uvarint() (uint64, error) {
	v, n := binary.Uvarint(c.b[c.p:])
	switch {
	case n == 0:
		return 0, errShort
	case n < 0:
		return 0, errors.New("thrift: varint overflows 64 bits")
	}
	c.p += n
	return v, nil
}

func (c *compact) varint() (int64, error) {
	u, err := c.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

// skipBytes moves past n bytes.
func (c *compact) skipBytes(n uint64) error {
	if n > uint64(len(c.b)-c.p) {
		return errShort
	}
	c.p += int(n)
	return nil
}

// field reads a field header inside a struct whose last field id was *last;
// typ is tStop at the end of the struct.
func (c *compact) field(last *int16) (id int16, typ byte, err error) {
	b, err := c.byte()
	if err != nil || b == tStop {
		return 0, tStop, err
	}
	typ = b & 0x0f
	if d := int16(b >> 4); d != 0 {
		id = *last + d
	} else {
		v, err := c.varint()
		if err != nil {
			return 0, 0, err
		}
		id = int16(v)
	}
	*last = id
	return id, typ, nil
}

// listHeader reads a list or set header: element type and count. The count
// is checked against the remaining bytes (every element takes one at least).
func (c *compact) listHeader() (elem byte, n int, err error) {
	b, err := c.byte()
	if err != nil {
		return 0, 0, err
	}
	elem, size := b&0x0f, uint64(b>>4)
	if size == 15 {
		if size, err = c.uvarint(); err != nil {
			return 0, 0, err
		}
	}
	if size > uint64(len(c.b)-c.p) {
		return 0, 0, errShort
	}
	return elem, int(size), nil
}

// skip moves past one value of type typ; inList says it is a list element
// (where booleans take a byte).
func (c *compact) skip(typ byte, inList bool) error {
	switch typ {
	case tTrue, tFalse:
		if inList {
			_, err := c.byte()
			return err
		}
		return nil
	case tByte:
		_, err := c.byte()
		return err
	case tI16, tI32, tI64:
		_, err := c.uvarint()
		return err
	case tDouble:
		return c.skipBytes(8)
	case tBinary:
		n, err := c.uvarint()
		if err != nil {
			return err
		}
		return c.skipBytes(n)
	}
	if c.depth++; c.depth > maxDepth {
		return errors.New("thrift: values nested too deep")
	}
	defer func() { c.depth-- }()
	switch typ {
	case tList, tSet:
		elem, n, err := c.listHeader()
		if err != nil {
			return err
		}
		for range n {
			if err := c.skip(elem, true); err != nil {
				return err
			}
		}
		return nil
	case tMap:
		n, err := c.uvarint()
		if err != nil || n == 0 {
			return err
		}
		if n > uint64(len(c.b)-c.p)/2 {
			return errShort
		}
		kv, err := c.byte()
		if err != nil {
			return err
		}
		for range n {
			if err := c.skip(kv>>4, true); err != nil {
				return err
			}
			if err := c.skip(kv&0x0f, true); err != nil {
				return err
			}
		}
		return nil
	case tStruct:
		return c.structFields(func(int16, byte) (bool, error) { return false, nil })
	}
	return fmt.Errorf("thrift: unknown type %d", typ)
}

// structFields reads a struct's fields up to its stop byte, offering each to
// f, which reads the value itself and returns true, or returns false to
// have it skipped.
func (c *compact) structFields(f func(id int16, typ byte) (bool, error)) error {
	if c.depth++; c.depth > maxDepth {
		return errors.New("thrift: values nested too deep")
	}
	defer func() { c.depth-- }()
	var last int16
	for {
		id, typ, err := c.field(&last)
		if err != nil {
			return err
		}
		if typ == tStop {
			return nil
		}
		done, err := f(id, typ)
		if err != nil {
			return err
		}
		if !done {
			if err := c.skip(typ, false); err != nil {
				return err
			}
		}
	}
}

// int reads an integer field of any width, checking its type.
func (c *compact) int(typ byte) (int64, error) {
	switch typ {
	case tByte:
		b, err := c.byte()
		return int64(int8(b)), err
	case tI16, tI32, tI64:
		return c.varint()
	}
	return 0, fmt.Errorf("thrift: expected an integer, got type %d", typ)
}

// structList reads a list of structs, calling f for each element (f reads
// the element with structFields).
func (c *compact) structList(typ byte, f func() error) error {
	if typ != tList && typ != tSet {
		return fmt.Errorf("thrift: expected a list, got type %d", typ)
	}
	elem, n, err := c.listHeader()
	if err != nil {
		return err
	}
	if elem != tStruct {
		return fmt.Errorf("thrift: expected a list of structs, got element type %d", elem)
	}
	for range n {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}
