package mysql

import (
	"math"
	"strconv"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"

	"tributary/engine/event"
)

// AppendFloat renders a FLOAT (bits 32) or DOUBLE (bits 64) in the canonical form: the
// shortest digits that read back to the same value, in plain notation between 1e-5 and 1e15
// and as MySQL's exponent notation ("1e15", "1.5e-7") outside.
func AppendFloat(dst []byte, v float64, bits int) []byte {
	if bits == 32 {
		v = float64(float32(v))
	}
	a := math.Abs(v)
	if v == 0 || (a >= 1e-5 && a < 1e15) {
		return strconv.AppendFloat(dst, v, 'f', -1, bits)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, v, 'e', -1, bits)
	// Go writes 1e+15 / 1.5e-07; MySQL writes 1e15 / 1.5e-7.
	for i := start; i < len(dst); i++ {
		if dst[i] != 'e' {
			continue
		}
		j := i + 1
		neg := dst[j] == '-'
		k := j + 1
		for k < len(dst)-1 && dst[k] == '0' {
			k++
		}
		exp := append([]byte(nil), dst[k:]...)
		dst = dst[:j]
		if neg {
			dst = append(dst, '-')
		}
		return append(dst, exp...)
	}
	return dst
}

// appendBit renders BIT bytes (big-endian) as the decimal text of the unsigned value.
func appendBit(dst []byte, b []byte) []byte {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return strconv.AppendUint(dst, n, 10)
}

// appendText converts one text-protocol field into the canonical form for its column.
func appendText(dst []byte, c *event.Column, fv *gmysql.FieldValue) []byte {
	switch fv.Type {
	case gmysql.FieldValueTypeSigned:
		if c.DataType == "year" {
			return appendYear(dst, fv.AsInt64())
		}
		return strconv.AppendInt(dst, fv.AsInt64(), 10)
	case gmysql.FieldValueTypeUnsigned:
		if c.DataType == "year" {
			return appendYear(dst, int64(fv.AsUint64()))
		}
		return strconv.AppendUint(dst, fv.AsUint64(), 10)
	case gmysql.FieldValueTypeFloat:
		bits := 64
		if c.DataType == "float" {
			bits = 32
		}
		return AppendFloat(dst, fv.AsFloat64(), bits)
	}
	s := fv.AsString()
	if c.DataType == "bit" {
		return appendBit(dst, s)
	}
	return append(dst, s...)
}

func appendYear(dst []byte, y int64) []byte {
	if y < 1000 && y >= 0 {
		s := strconv.FormatInt(y, 10)
		for i := len(s); i < 4; i++ {
			dst = append(dst, '0')
		}
		return append(dst, s...)
	}
	return strconv.AppendInt(dst, y, 10)
}
