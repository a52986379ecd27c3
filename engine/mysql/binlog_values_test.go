package mysql

import (
	"testing"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"

	"tributary/engine/event"
)

func TestAppendBinlogValue(t *testing.T) {
	t.Parallel()
	col := func(dataType string, unsigned bool) *event.Column {
		return &event.Column{Name: "c", DataType: dataType, Unsigned: unsigned}
	}
	for _, tc := range []struct {
		c    *event.Column
		v    any
		want string
	}{
		// Without signedness metadata go-mysql hands UNSIGNED values over as signed integers.
		{col("tinyint", true), int8(-1), "255"},
		{col("smallint", true), int16(-1), "65535"},
		{col("mediumint", true), int32(-1), "16777215"},
		{col("int", true), int32(-1), "4294967295"},
		{col("bigint", true), int64(-1), "18446744073709551615"},
		{col("bigint", false), int64(-9223372036854775808), "-9223372036854775808"},
		{col("tinyint", false), int8(-128), "-128"},
		// With it they are unsigned already.
		{col("bigint", true), uint64(18446744073709551615), "18446744073709551615"},
		{col("int", true), uint32(7), "7"},
		{col("year", false), 0, "0000"},
		{col("year", false), 1901, "1901"},
		{&event.Column{DataType: "bit", Precision: 64}, int64(-1), "18446744073709551615"},
		{&event.Column{DataType: "bit", Precision: 1}, int64(1), "1"},
		{col("float", false), float32(3.14159274), "3.1415927"},
		{col("double", false), float64(1e300), "1e300"},
		{col("double", false), float64(-1.5e-7), "-1.5e-7"},
		{col("decimal", false), "10.50", "10.50"},
		{&event.Column{DataType: "time", Scale: 6}, "-838:59:59", "-838:59:59.000000"},
		{&event.Column{DataType: "time", Scale: 3}, "12:00:00.5", "12:00:00.500"},
		{&event.Column{DataType: "time", Scale: 2}, "-00:00:00.12", "-00:00:00.12"},
		{&event.Column{DataType: "time"}, "838:59:59", "838:59:59"},
		{&event.Column{DataType: "binary", Precision: 4}, "a", "a\x00\x00\x00"},
		{&event.Column{DataType: "binary", Precision: 2}, "ab", "ab"},
		{&event.Column{DataType: "enum", Elements: []string{"a", "b"}}, int64(2), "b"},
		{&event.Column{DataType: "enum", Elements: []string{"a", "b"}}, int64(0), ""},
		{&event.Column{DataType: "enum", Elements: []string{"x", "é"}, Charset: "latin1"}, int64(2), "\xe9"},
		{&event.Column{DataType: "set", Elements: []string{"a", "b", "c"}}, int64(5), "a,c"},
		{&event.Column{DataType: "set", Elements: []string{"a", "b", "c"}}, int64(0), ""},
		{col("json", false), []byte(`{"a":1}`), `{"a":1}`}, // MariaDB: text as stored
		{col("json", false), `{"a":[1,2.5,"x, y: z"],"b":null,"c":{"d":"\"q\""}}`, `{"a": [1, 2.5, "x, y: z"], "b": null, "c": {"d": "\"q\""}}`},
		{col("json", false), `[1.5e-05,1e+20,100000000000000000000.0,-2.0]`, `[0.000015, 1e20, 1e20, -2.0]`},
		{col("varchar", false), "héllo", "héllo"},
		{col("blob", false), []byte{0, 0xff}, "\x00\xff"},
	} {
		conv := columnConvs(&event.Table{Columns: []event.Column{*tc.c}})[0]
		got, err := appendBinlogValue(nil, tc.c, &conv, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s %T(%v): %q, %v; want %q", tc.c.DataType, tc.v, tc.v, got, err, tc.want)
		}
	}
	bad := &event.Column{DataType: "enum", Elements: []string{"a"}}
	conv := columnConvs(&event.Table{Columns: []event.Column{*bad}})[0]
	if _, err := appendBinlogValue(nil, bad, &conv, int64(3)); err == nil {
		t.Errorf("ENUM index beyond the members: no error")
	}
}

func TestBinlogTypeMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    event.Column
		tp   byte
		meta uint16
		want bool
	}{
		{event.Column{DataType: "int"}, gmysql.MYSQL_TYPE_LONG, 0, true},
		{event.Column{DataType: "int"}, gmysql.MYSQL_TYPE_LONGLONG, 0, false},
		{event.Column{DataType: "decimal", Precision: 10, Scale: 2}, gmysql.MYSQL_TYPE_NEWDECIMAL, 10<<8 | 2, true},
		{event.Column{DataType: "decimal", Precision: 10, Scale: 2}, gmysql.MYSQL_TYPE_NEWDECIMAL, 12<<8 | 2, false},
		{event.Column{DataType: "datetime", Scale: 3}, gmysql.MYSQL_TYPE_DATETIME2, 3, true},
		{event.Column{DataType: "datetime", Scale: 3}, gmysql.MYSQL_TYPE_DATETIME2, 6, false},
		// CHAR(200) utf8mb4 is 800 bytes: the length overwrites part of the real type.
		{event.Column{DataType: "char"}, gmysql.MYSQL_TYPE_STRING, uint16(gmysql.MYSQL_TYPE_STRING^(800>>4&0x30))<<8 | 800&0xFF, true},
		{event.Column{DataType: "enum"}, gmysql.MYSQL_TYPE_STRING, uint16(gmysql.MYSQL_TYPE_ENUM)<<8 | 1, true},
		{event.Column{DataType: "set"}, gmysql.MYSQL_TYPE_STRING, uint16(gmysql.MYSQL_TYPE_ENUM)<<8 | 1, false},
		{event.Column{DataType: "text"}, gmysql.MYSQL_TYPE_BLOB, 2, true},
		{event.Column{DataType: "text"}, gmysql.MYSQL_TYPE_BLOB, 4, false},
		{event.Column{DataType: "bit", Precision: 9}, gmysql.MYSQL_TYPE_BIT, 1<<8 | 1, true},
	} {
		if got := binlogTypeMatches(&tc.c, "mariadb", tc.tp, tc.meta); got != tc.want {
			t.Errorf("%s vs type %d meta %#x: %v, want %v", tc.c.DataType, tc.tp, tc.meta, got, tc.want)
		}
	}
	json := event.Column{DataType: "json"}
	if !binlogTypeMatches(&json, "mariadb", gmysql.MYSQL_TYPE_BLOB, 4) || binlogTypeMatches(&json, "mysql", gmysql.MYSQL_TYPE_BLOB, 4) ||
		!binlogTypeMatches(&json, "mysql", gmysql.MYSQL_TYPE_JSON, 4) {
		t.Errorf("JSON is LONGTEXT in MariaDB, its own type in MySQL")
	}
}
