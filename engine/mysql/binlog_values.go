package mysql

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"golang.org/x/text/encoding"

	"tributary/engine/charset"
	"tributary/engine/event"
)

// This file turns the values go-mysql decodes from row events into the canonical text of the
// package documentation, byte for byte what the snapshot reader (RowReader) produces for the
// same stored data. What go-mysql v1.16 hands over, with BinlogSyncerConfig{ParseTime: false,
// UseDecimal: false, TimestampStringLocation: UTC, RenderJSONAsMySQLText: true}:
//
//   - integers: int8/int16/int32/int64, or uint8…uint64 when the table map carries signedness
//     (binlog_row_metadata MINIMAL or FULL). Without it UNSIGNED columns arrive as signed Go
//     integers of the storage width (MEDIUMINT as a sign-extended int32) and are reinterpreted
//     with the column's Unsigned flag.
//   - YEAR: int (0, or 1901…2155).
//   - FLOAT: float32; DOUBLE: float64.
//   - DECIMAL: string with exactly the column's scale ("10.50"), as MySQL prints it.
//   - BIT: int64 of the big-endian bits (BIT(64) all ones is -1).
//   - ENUM: int64 1-based member index (0 = the empty "error" value); SET: int64 bitmask.
//   - DATE, DATETIME, TIMESTAMP: strings with the column's fractional digits; TIMESTAMP in UTC.
//   - TIME: string, but without the fraction when it is zero ("-838:59:59" for TIME(6)): the
//     fraction is padded back to the column's digits here.
//   - CHAR/VARCHAR/BINARY/VARBINARY: string. The binlog stores CHAR without trailing spaces (as
//     the snapshot returns it) and BINARY(n) without trailing 0x00 bytes (the snapshot returns
//     all n bytes): BINARY is padded back with 0x00 to the column's length.
//   - TEXT/BLOB/GEOMETRY and MariaDB's JSON (a LONGTEXT): []byte, raw.
//   - MySQL's binary JSON: a string of compact JSON text, re-spaced here as MySQL prints JSON.
//
// ENUM and SET members come from the schema, whose Elements are UTF-8 (the catalog's text);
// the snapshot returns them in the column's character set, so they are encoded to it here.

// valueKind says how one column's binlog values become canonical text.
type valueKind uint8

const (
	kindRaw      valueKind = iota // string or []byte copied as is
	kindInt                       // integer types
	kindYear                      // YEAR
	kindFloat                     // FLOAT (float32)
	kindDouble                    // DOUBLE
	kindBit                       // BIT
	kindEnum                      // ENUM
	kindSet                       // SET
	kindTime                      // TIME: pad the fraction
	kindBinary                    // BINARY(n): pad with 0x00
	kindJSON                      // JSON: MySQL binary JSON is re-spaced
	kindTemporal                  // DATE/DATETIME/TIMESTAMP: go-mysql's text is canonical
)

// colConv is how one column's values are converted: the kind, and for ENUM and SET the
// members in the column's character set.
type colConv struct {
	kind  valueKind
	elems []string
}

// columnConvs computes the conversion of each column of a table.
func columnConvs(t *event.Table) []colConv {
	out := make([]colConv, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		out[i].kind = kindOf(c)
		if out[i].kind == kindEnum || out[i].kind == kindSet {
			out[i].elems = encodeElements(c.Elements, c.Charset)
		}
	}
	return out
}

// charsetEncoding is the encoding of a MySQL character set, nil when its bytes are kept as
// they are (UTF-8, binary, unknown).
func charsetEncoding(cs string) encoding.Encoding { return charset.Encoding(cs) }

// encodeElements converts UTF-8 ENUM/SET members to the column's character set.
func encodeElements(elems []string, cs string) []string { return convertElements(elems, cs, true) }

// decodeElements converts ENUM/SET members from the column's character set to UTF-8.
func decodeElements(elems []string, cs string) []string { return convertElements(elems, cs, false) }

// convertElements converts each member to (toCharset) or from the character set, keeping a
// member that does not convert as it is.
func convertElements(elems []string, cs string, toCharset bool) []string {
	e := charsetEncoding(cs)
	if e == nil {
		return elems
	}
	out := make([]string, len(elems))
	for i, m := range elems {
		var s string
		var err error
		if toCharset {
			s, err = e.NewEncoder().String(m)
		} else {
			s, err = e.NewDecoder().String(m)
		}
		if err != nil {
			s = m
		}
		out[i] = s
	}
	return out
}

func kindOf(c *event.Column) valueKind {
	switch c.DataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return kindInt
	case "year":
		return kindYear
	case "float":
		return kindFloat
	case "double", "real":
		return kindDouble
	case "bit":
		return kindBit
	case "enum":
		return kindEnum
	case "set":
		return kindSet
	case "time":
		return kindTime
	case "binary":
		return kindBinary
	case "json":
		return kindJSON
	case "date", "datetime", "timestamp":
		return kindTemporal
	}
	return kindRaw
}

// intMask is the storage width of an integer column, to reinterpret a signed value as unsigned.
func intMask(dataType string) uint64 {
	switch dataType {
	case "tinyint":
		return 0xFF
	case "smallint":
		return 0xFFFF
	case "mediumint":
		return 0xFFFFFF
	case "int", "integer":
		return 0xFFFFFFFF
	}
	return math.MaxUint64
}

// appendBinlogValue appends the canonical text of one non-NULL decoded value.
func appendBinlogValue(dst []byte, c *event.Column, conv *colConv, v any) ([]byte, error) {
	k := conv.kind
	switch k {
	case kindInt, kindYear, kindBit, kindEnum, kindSet:
		var n int64
		var u uint64
		unsigned := false
		switch x := v.(type) {
		case int8:
			n = int64(x)
		case int16:
			n = int64(x)
		case int32:
			n = int64(x)
		case int64:
			n = x
		case int:
			n = int64(x)
		case uint8:
			u, unsigned = uint64(x), true
		case uint16:
			u, unsigned = uint64(x), true
		case uint32:
			u, unsigned = uint64(x), true
		case uint64:
			u, unsigned = x, true
		default:
			return dst, fmt.Errorf("column %s (%s): unexpected binlog value %T", c.Name, c.DataType, v)
		}
		switch k {
		case kindYear:
			if unsigned {
				n = int64(u)
			}
			return appendYear(dst, n), nil
		case kindInt:
			if unsigned {
				return strconv.AppendUint(dst, u, 10), nil
			}
			if c.Unsigned {
				return strconv.AppendUint(dst, uint64(n)&intMask(c.DataType), 10), nil
			}
			return strconv.AppendInt(dst, n, 10), nil
		}
		if !unsigned {
			u = uint64(n)
		}
		switch k {
		case kindBit:
			if c.Precision > 0 && c.Precision < 64 {
				u &= 1<<uint(c.Precision) - 1
			}
			return strconv.AppendUint(dst, u, 10), nil
		case kindEnum:
			if u == 0 {
				return dst, nil
			}
			if u > uint64(len(conv.elems)) {
				return dst, fmt.Errorf("column %s: ENUM index %d but the schema has %d members: the schema used does not match the binlog", c.Name, u, len(conv.elems))
			}
			return append(dst, conv.elems[u-1]...), nil
		default: // kindSet
			first := true
			for i := 0; u != 0 && i < 64; i++ {
				if u&(1<<uint(i)) == 0 {
					continue
				}
				u &^= 1 << uint(i)
				if i >= len(conv.elems) {
					return dst, fmt.Errorf("column %s: SET bit %d but the schema has %d members: the schema used does not match the binlog", c.Name, i, len(conv.elems))
				}
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = append(dst, conv.elems[i]...)
			}
			return dst, nil
		}
	case kindFloat, kindDouble:
		switch x := v.(type) {
		case float32:
			return AppendFloat(dst, float64(x), 32), nil
		case float64:
			if k == kindFloat {
				return AppendFloat(dst, x, 32), nil
			}
			return AppendFloat(dst, x, 64), nil
		}
		return dst, fmt.Errorf("column %s (%s): unexpected binlog value %T", c.Name, c.DataType, v)
	case kindTime:
		s, ok := v.(string)
		if !ok {
			return dst, fmt.Errorf("column %s (time): unexpected binlog value %T", c.Name, v)
		}
		return appendTime(dst, s, c.Scale), nil
	case kindBinary:
		start := len(dst)
		dst = appendRaw(dst, v)
		for len(dst)-start < c.Precision {
			dst = append(dst, 0)
		}
		return dst, nil
	case kindJSON:
		if s, ok := v.(string); ok { // MySQL binary JSON, decoded by go-mysql
			return appendMySQLJSON(dst, s), nil
		}
	}
	switch v.(type) {
	case string, []byte:
		return appendRaw(dst, v), nil
	case *replication.JsonDiff:
		return dst, fmt.Errorf("column %s: the binlog holds a partial JSON update: set binlog_row_value_options='' on the source so full JSON values are logged", c.Name)
	}
	// A type the schema did not lead us to expect (the binlog is the truth): render it plainly.
	switch x := v.(type) {
	case int8, int16, int32, int64, int:
		return strconv.AppendInt(dst, toInt64(x), 10), nil
	case uint8, uint16, uint32, uint64:
		return strconv.AppendUint(dst, toUint64(x), 10), nil
	case float32:
		return AppendFloat(dst, float64(x), 32), nil
	case float64:
		return AppendFloat(dst, x, 64), nil
	}
	return dst, fmt.Errorf("column %s (%s): unexpected binlog value %T", c.Name, c.DataType, v)
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return 0
}

func toUint64(v any) uint64 {
	switch x := v.(type) {
	case uint8:
		return uint64(x)
	case uint16:
		return uint64(x)
	case uint32:
		return uint64(x)
	case uint64:
		return x
	}
	return 0
}

func appendRaw(dst []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(dst, x...)
	case []byte:
		return append(dst, x...)
	}
	return dst
}

// appendTime renders go-mysql's TIME text with exactly fsp fractional digits.
func appendTime(dst []byte, s string, fsp int) []byte {
	dot := strings.IndexByte(s, '.')
	if fsp <= 0 {
		if dot >= 0 {
			s = s[:dot]
		}
		return append(dst, s...)
	}
	if dot < 0 {
		dst = append(dst, s...)
		dst = append(dst, '.')
		for i := 0; i < fsp; i++ {
			dst = append(dst, '0')
		}
		return dst
	}
	frac := s[dot+1:]
	if len(frac) >= fsp {
		return append(dst, s[:dot+1+fsp]...)
	}
	dst = append(dst, s...)
	for i := len(frac); i < fsp; i++ {
		dst = append(dst, '0')
	}
	return dst
}

// appendMySQLJSON re-spaces compact JSON text the way MySQL prints a JSON value: ", " between
// members and elements, ": " after keys, strings untouched. Numbers in exponent form are
// rewritten as MySQL writes doubles ("1e-5", not "1e-05"). Not verified against a MySQL server
// here (the test environment has only MariaDB, whose JSON is text and is passed through).
func appendMySQLJSON(dst []byte, s string) []byte {
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			dst = append(dst, c)
			switch c {
			case '\\':
				if i+1 < len(s) {
					i++
					dst = append(dst, s[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			dst = append(dst, c)
		case c == ',':
			dst = append(dst, ',', ' ')
		case c == ':':
			dst = append(dst, ':', ' ')
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			for j < len(s) && strings.IndexByte("+-.0123456789eE", s[j]) >= 0 {
				j++
			}
			dst = appendJSONNumber(dst, s[i:j])
			i = j - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendJSONNumber(dst []byte, tok string) []byte {
	big := strings.HasSuffix(tok, ".0") && len(strings.TrimPrefix(tok, "-")) > 17
	if !strings.ContainsAny(tok, "eE") && !big {
		return append(dst, tok...)
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		return append(dst, tok...)
	}
	start := len(dst)
	dst = AppendFloat(dst, f, 64)
	if !strings.ContainsAny(string(dst[start:]), ".e") {
		dst = append(dst, '.', '0')
	}
	return dst
}

// binlogTypeMatches reports whether a column of the schema can be the column the table map
// describes with type tp and metadata meta: the check that the schema used to decode a row
// event is the schema the row was written with.
func binlogTypeMatches(c *event.Column, flavor string, tp byte, meta uint16) bool {
	switch tp {
	case gmysql.MYSQL_TYPE_STRING:
		// The real type of CHAR/BINARY/ENUM/SET is in the metadata's high byte, partly
		// overwritten by the length for CHAR(n) of more than 255 bytes.
		if meta >= 256 {
			b0 := byte(meta >> 8)
			if b0&0x30 != 0x30 {
				tp = b0 | 0x30
			} else {
				tp = b0
			}
		}
	case gmysql.MYSQL_TYPE_VAR_STRING:
		tp = gmysql.MYSQL_TYPE_VARCHAR
	}
	switch c.DataType {
	case "tinyint":
		return tp == gmysql.MYSQL_TYPE_TINY
	case "smallint":
		return tp == gmysql.MYSQL_TYPE_SHORT
	case "mediumint":
		return tp == gmysql.MYSQL_TYPE_INT24
	case "int", "integer":
		return tp == gmysql.MYSQL_TYPE_LONG
	case "bigint":
		return tp == gmysql.MYSQL_TYPE_LONGLONG
	case "float":
		return tp == gmysql.MYSQL_TYPE_FLOAT
	case "double", "real":
		return tp == gmysql.MYSQL_TYPE_DOUBLE
	case "decimal", "numeric":
		return tp == gmysql.MYSQL_TYPE_NEWDECIMAL && int(meta>>8) == c.Precision && int(meta&0xFF) == c.Scale
	case "bit":
		return tp == gmysql.MYSQL_TYPE_BIT && int(meta>>8)*8+int(meta&0xFF) == c.Precision
	case "date":
		return tp == gmysql.MYSQL_TYPE_DATE || tp == gmysql.MYSQL_TYPE_NEWDATE
	case "time":
		return (tp == gmysql.MYSQL_TYPE_TIME2 && int(meta) == c.Scale) || (tp == gmysql.MYSQL_TYPE_TIME && c.Scale == 0)
	case "datetime":
		return (tp == gmysql.MYSQL_TYPE_DATETIME2 && int(meta) == c.Scale) || (tp == gmysql.MYSQL_TYPE_DATETIME && c.Scale == 0)
	case "timestamp":
		return (tp == gmysql.MYSQL_TYPE_TIMESTAMP2 && int(meta) == c.Scale) || (tp == gmysql.MYSQL_TYPE_TIMESTAMP && c.Scale == 0)
	case "year":
		return tp == gmysql.MYSQL_TYPE_YEAR
	case "char", "binary":
		return tp == gmysql.MYSQL_TYPE_STRING
	case "enum":
		return tp == gmysql.MYSQL_TYPE_ENUM
	case "set":
		return tp == gmysql.MYSQL_TYPE_SET
	case "varchar", "varbinary":
		return tp == gmysql.MYSQL_TYPE_VARCHAR
	case "tinytext", "tinyblob":
		return tp == gmysql.MYSQL_TYPE_BLOB && meta == 1
	case "text", "blob":
		return tp == gmysql.MYSQL_TYPE_BLOB && meta == 2
	case "mediumtext", "mediumblob":
		return tp == gmysql.MYSQL_TYPE_BLOB && meta == 3
	case "longtext", "longblob":
		return tp == gmysql.MYSQL_TYPE_BLOB && meta == 4
	case "json":
		if flavor == "mariadb" {
			return tp == gmysql.MYSQL_TYPE_BLOB
		}
		return tp == gmysql.MYSQL_TYPE_JSON
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
		"geometrycollection", "geomcollection":
		return tp == gmysql.MYSQL_TYPE_GEOMETRY
	}
	// Types this reader does not know (VECTOR, INET6, UUID…) are not checked.
	return true
}

// checkTableMap verifies that a schema matches the table map of a row event: same column
// count, each column's type as the binlog declares it and, when the server logs full row
// metadata, the same names. It returns why not, or "".
func checkTableMap(t *event.Table, flavor string, tme *replication.TableMapEvent) string {
	if int(tme.ColumnCount) != len(t.Columns) {
		return fmt.Sprintf("the binlog row has %d columns, the schema has %d", tme.ColumnCount, len(t.Columns))
	}
	names := tme.ColumnNameString()
	for i := range t.Columns {
		c := &t.Columns[i]
		if len(names) == len(t.Columns) && !strings.EqualFold(names[i], c.Name) {
			return fmt.Sprintf("column %d is %q in the binlog, %q in the schema", i+1, names[i], c.Name)
		}
		if !binlogTypeMatches(c, flavor, tme.ColumnType[i], tme.ColumnMeta[i]) {
			return fmt.Sprintf("column %d (%s) is binlog type %d (meta %d), the schema says %s", i+1, c.Name, tme.ColumnType[i], tme.ColumnMeta[i], c.ColumnType)
		}
	}
	return ""
}
