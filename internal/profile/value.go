package profile

import (
	"math"
	"strconv"
	"time"
	"unsafe"
)

// Kinds is a set of value kinds: a column's Kinds are those every one of
// its non-null values has (all of them while it has none).
type Kinds uint8

// Value kinds. An int is a float too; a date is a timestamp too (at
// midnight UTC).
const (
	KindInt Kinds = 1 << iota
	KindFloat
	KindBool
	KindDate
	KindTimestamp
	allKinds = KindInt | KindFloat | KindBool | KindDate | KindTimestamp
	// kindCount is how many kinds there are: kind k is 1<<k.
	kindCount = 5
)

// parsed is one value read in the kinds its column may still have.
type parsed struct {
	kinds Kinds // of those asked for, the ones the value has
	i     int64
	f     float64
	t     Instant
}

// Instant is a point in time as Unix seconds and nanoseconds, which (unlike
// Unix nanoseconds in an int64) reaches from year 1 to 9999.
type Instant struct{ S, N int64 }

func instantOf(t time.Time) Instant { return Instant{t.Unix(), int64(t.Nanosecond())} }

// Before reports whether i is before j.
func (i Instant) Before(j Instant) bool { return i.S < j.S || i.S == j.S && i.N < j.N }

func earliest(i, j Instant) Instant {
	if j.Before(i) {
		return j
	}
	return i
}

func latest(i, j Instant) Instant {
	if i.Before(j) {
		return j
	}
	return i
}

// Time is i as a time.Time in UTC.
func (i Instant) Time() time.Time { return time.Unix(i.S, i.N).UTC() }

// classify reads text in each kind of want.
func classify(text []byte, want Kinds) parsed {
	var p parsed
	if want&(KindInt|KindFloat) != 0 {
		if i, ok := parseInt(text); ok {
			p.kinds |= KindInt | KindFloat
			p.i, p.f = i, float64(i)
		} else if want&KindFloat != 0 && maybeNumber(text) {
			if f, err := strconv.ParseFloat(bytesString(text), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				p.kinds |= KindFloat
				p.f = f
			}
		}
		p.kinds &= want
	}
	if want&KindBool != 0 && isBool(text) {
		p.kinds |= KindBool
	}
	if want&(KindDate|KindTimestamp) != 0 && len(text) >= 10 && text[4] == '-' {
		if t, ok := fastTime(text); ok {
			if len(text) == 10 {
				p.kinds |= (KindDate | KindTimestamp) & want
			} else {
				p.kinds |= KindTimestamp & want
			}
			p.t = t
		} else if len(text) == 10 {
			if t, err := time.Parse(time.DateOnly, bytesString(text)); err == nil {
				p.kinds |= (KindDate | KindTimestamp) & want
				p.t = instantOf(t)
			}
		} else if want&KindTimestamp != 0 {
			if t, err := time.Parse(time.RFC3339Nano, bytesString(text)); err == nil {
				p.kinds |= KindTimestamp
				p.t = instantOf(t)
			}
		}
	}
	return p
}

// parseInt reads a base-10 int64 ([+-]digits) without allocating.
func parseInt(b []byte) (int64, bool) {
	s := b
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		if len(s) > 18 {
			i, err := strconv.ParseInt(bytesString(b), 10, 64)
			return i, err == nil
		}
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// maybeNumber: text could be a float (spares ParseFloat most words).
func maybeNumber(b []byte) bool {
	if c := b[0]; !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		return false
	}
	// Only what a float's text may hold (hex floats too): a date or a
	// phone number is not parsed to fail.
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '.', c == '_', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F',
			c == 'x', c == 'X', c == 'p', c == 'P':
		case (c == '-' || c == '+') && (b[i-1]|0x20 == 'e' || b[i-1]|0x20 == 'p'):
		default:
			return false
		}
	}
	return true
}

func isBool(b []byte) bool {
	switch string(b) {
	case "true", "false", "TRUE", "FALSE", "True", "False":
		return true
	}
	return false
}

// bytesString views b as a string for a call that does not keep it.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// fastTime reads the usual forms of a date (2006-01-02) and a UTC
// timestamp (2006-01-02T15:04:05Z, with a fraction or not) as
// time.Parse would; anything else is not read (ok false)
// and left to time.Parse.
func fastTime(b []byte) (Instant, bool) {
	if len(b) != 10 && (len(b) < 20 || b[10] != 'T' || b[len(b)-1] != 'Z' || b[13] != ':' || b[16] != ':') {
		return Instant{}, false
	}
	if b[4] != '-' || b[7] != '-' {
		return Instant{}, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return Instant{}, false
	}
	days := daysFromCivil(y, mo, d)
	if len(b) == 10 {
		return Instant{S: days * 86400}, true
	}
	h, ok1 := digits(b[11:13])
	mi, ok2 := digits(b[14:16])
	sec, ok3 := digits(b[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return Instant{}, false
	}
	var ns int64
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return Instant{}, false
		}
		f, ok := digits(frac[1:])
		if !ok {
			return Instant{}, false
		}
		for range 10 - len(frac) {
			f *= 10
		}
		ns = f
	}
	return Instant{S: ((days*24+h)*60+mi)*60 + sec, N: ns}, true
}

// digits reads a run of ASCII digits.
func digits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the days from 1970-01-01 to y-m-d (proleptic
// Gregorian; Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
