// Package formattest holds the fixtures and golden-file helpers the encoder tests share: a
// table with a column of every MySQL type, events of every kind over it, and a fixed clock.
package formattest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tributary/engine/event"
)

// Update rewrites golden files instead of comparing with them (go test -update).
var Update = flag.Bool("update", false, "rewrite the golden files under engine/format/testdata/golden")

// GoldenDir is the golden directory relative to a package directory under engine/format.
const GoldenDir = "../testdata/golden"

// Now is the fixed encoding time of the tests.
var Now = time.Date(2024, 5, 1, 12, 0, 0, 412_000_000, time.UTC)

// Clock returns Now.
func Clock() time.Time { return Now }

// Golden compares got with the golden file name (under GoldenDir), or rewrites the file with
// -update. equal compares the file's bytes with got; nil means byte equality.
func Golden(t *testing.T, name string, got []byte, equal func(want, got []byte) bool) {
	t.Helper()
	path := filepath.Join(GoldenDir, name)
	if *Update {
		if err := os.MkdirAll(GoldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if equal == nil {
		equal = bytes.Equal
	}
	if !equal(want, got) {
		t.Errorf("%s differs from the golden file\n got: %s\nwant: %s", name, got, want)
	}
}

func col(name, dataType, columnType string, mods ...func(*event.Column)) event.Column {
	c := event.Column{Name: name, DataType: dataType, ColumnType: columnType, Nullable: true}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func unsigned(c *event.Column) { c.Unsigned = true; c.ColumnType += " unsigned" }
func utf8mb4(c *event.Column)  { c.Charset = "utf8mb4" }
func latin1(c *event.Column)   { c.Charset = "latin1" }
func prec(p, s int) func(*event.Column) {
	return func(c *event.Column) { c.Precision, c.Scale = p, s }
}

// AllTypes returns a table with a column of every MySQL type. Column 0 (id) is the primary key;
// (c_int, c_varchar) is a unique key named uk_int_varchar.
func AllTypes() *event.Table {
	cols := []event.Column{
		col("id", "bigint", "bigint(20)", unsigned, func(c *event.Column) { c.InPrimaryKey, c.Nullable = true, false }),
		col("c_tinyint", "tinyint", "tinyint(4)"),
		col("c_tinyint_u", "tinyint", "tinyint(3)", unsigned),
		col("c_smallint", "smallint", "smallint(6)"),
		col("c_smallint_u", "smallint", "smallint(5)", unsigned),
		col("c_mediumint", "mediumint", "mediumint(9)"),
		col("c_mediumint_u", "mediumint", "mediumint(8)", unsigned),
		col("c_int", "int", "int(11)"),
		col("c_int_u", "int", "int(10)", unsigned),
		col("c_bigint", "bigint", "bigint(20)"),
		col("c_bigint_u", "bigint", "bigint(20)", unsigned),
		col("c_decimal", "decimal", "decimal(65,30)", prec(65, 30)),
		col("c_float", "float", "float", prec(12, 0)),
		col("c_double", "double", "double", prec(22, 0)),
		col("c_bit1", "bit", "bit(1)", prec(1, 0)),
		col("c_bit64", "bit", "bit(64)", prec(64, 0)),
		col("c_date", "date", "date"),
		col("c_time", "time", "time"),
		col("c_time6", "time", "time(6)", prec(0, 6)),
		col("c_datetime0", "datetime", "datetime"),
		col("c_datetime1", "datetime", "datetime(1)", prec(0, 1)),
		col("c_datetime2", "datetime", "datetime(2)", prec(0, 2)),
		col("c_datetime3", "datetime", "datetime(3)", prec(0, 3)),
		col("c_datetime4", "datetime", "datetime(4)", prec(0, 4)),
		col("c_datetime5", "datetime", "datetime(5)", prec(0, 5)),
		col("c_datetime6", "datetime", "datetime(6)", prec(0, 6)),
		col("c_timestamp0", "timestamp", "timestamp"),
		col("c_timestamp1", "timestamp", "timestamp(1)", prec(0, 1)),
		col("c_timestamp2", "timestamp", "timestamp(2)", prec(0, 2)),
		col("c_timestamp3", "timestamp", "timestamp(3)", prec(0, 3)),
		col("c_timestamp4", "timestamp", "timestamp(4)", prec(0, 4)),
		col("c_timestamp5", "timestamp", "timestamp(5)", prec(0, 5)),
		col("c_timestamp6", "timestamp", "timestamp(6)", prec(0, 6)),
		col("c_year", "year", "year(4)"),
		col("c_char", "char", "char(10)", utf8mb4, prec(10, 0)),
		col("c_varchar", "varchar", "varchar(100)", utf8mb4, prec(100, 0)),
		col("c_text", "text", "text", utf8mb4),
		col("c_tinytext", "tinytext", "tinytext", utf8mb4),
		col("c_mediumtext", "mediumtext", "mediumtext", utf8mb4),
		col("c_longtext", "longtext", "longtext", utf8mb4),
		col("c_char_latin1", "char", "char(10)", latin1, prec(10, 0)),
		col("c_varchar_latin1", "varchar", "varchar(100)", latin1, prec(100, 0)),
		col("c_text_latin1", "text", "text", latin1),
		col("c_binary", "binary", "binary(4)", prec(4, 0)),
		col("c_varbinary", "varbinary", "varbinary(16)", prec(16, 0)),
		col("c_tinyblob", "tinyblob", "tinyblob"),
		col("c_blob", "blob", "blob"),
		col("c_mediumblob", "mediumblob", "mediumblob"),
		col("c_longblob", "longblob", "longblob"),
		col("c_enum", "enum", "enum('red','green','blue')", utf8mb4, func(c *event.Column) { c.Elements = []string{"red", "green", "blue"} }),
		col("c_set", "set", "set('a','b','c')", utf8mb4, func(c *event.Column) { c.Elements = []string{"a", "b", "c"} }),
		col("c_json", "json", "json", utf8mb4),
		col("c_geometry", "geometry", "geometry"),
		col("c_point", "point", "point"),
	}
	t := &event.Table{Database: "shop", Name: "all_types", Columns: cols, PrimaryKey: []int{0}}
	t.UniqueKeys = []event.Key{{Name: "uk_int_varchar", Columns: []int{t.ColumnIndex("c_int"), t.ColumnIndex("c_varchar")}}}
	return t
}

// point is POINT(1 2) with SRID 0 in MySQL's internal format (4-byte little-endian SRID, WKB).
var point = []byte{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0x40}

// polygon4326 is a WKB LINESTRING(0 0, 1 1) with SRID 4326.
var line4326 = []byte{0xE6, 0x10, 0, 0, 1, 2, 0, 0, 0, 2, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F}

func row(t *event.Table, vals map[string]string, bin map[string][]byte) event.Row {
	r := make(event.Row, len(t.Columns))
	for k, v := range vals {
		i := t.ColumnIndex(k)
		if i < 0 {
			panic("no column " + k)
		}
		r[i] = event.Value(v)
	}
	for k, v := range bin {
		i := t.ColumnIndex(k)
		if i < 0 {
			panic("no column " + k)
		}
		r[i] = event.Value(append([]byte{}, v...))
	}
	return r
}

// Typical is an ordinary row with a non-NULL value in every column.
func Typical(t *event.Table) event.Row {
	return row(t, map[string]string{
		"id":               "7",
		"c_tinyint":        "-8",
		"c_tinyint_u":      "200",
		"c_smallint":       "-300",
		"c_smallint_u":     "60000",
		"c_mediumint":      "-70000",
		"c_mediumint_u":    "16000000",
		"c_int":            "-2000000000",
		"c_int_u":          "4000000000",
		"c_bigint":         "-9000000000000000000",
		"c_bigint_u":       "18000000000000000000",
		"c_decimal":        "12345678901234567890123456789012345.123456789012345678901234567890",
		"c_float":          "3.14",
		"c_double":         "2.718281828459045",
		"c_bit1":           "1",
		"c_bit64":          "12297829382473034410",
		"c_date":           "2024-05-01",
		"c_time":           "12:34:56",
		"c_time6":          "-12:34:56.000789",
		"c_datetime0":      "2024-05-01 12:00:00",
		"c_datetime1":      "2024-05-01 12:00:00.1",
		"c_datetime2":      "2024-05-01 12:00:00.12",
		"c_datetime3":      "2024-05-01 12:00:00.123",
		"c_datetime4":      "2024-05-01 12:00:00.1234",
		"c_datetime5":      "2024-05-01 12:00:00.12345",
		"c_datetime6":      "2024-05-01 12:00:00.123456",
		"c_timestamp0":     "2024-05-01 12:00:00",
		"c_timestamp1":     "2024-05-01 12:00:00.1",
		"c_timestamp2":     "2024-05-01 12:00:00.12",
		"c_timestamp3":     "2024-05-01 12:00:00.123",
		"c_timestamp4":     "2024-05-01 12:00:00.1234",
		"c_timestamp5":     "2024-05-01 12:00:00.12345",
		"c_timestamp6":     "2024-05-01 12:00:00.000001",
		"c_year":           "2024",
		"c_char":           "héllo 😀",
		"c_varchar":        "q\" b\\ t\t n\n c\x01 é 😀 </script>",
		"c_text":           "long text 😀\u2028",
		"c_tinytext":       "tiny",
		"c_mediumtext":     "medium",
		"c_longtext":       "long",
		"c_enum":           "green",
		"c_set":            "a,c",
		"c_json":           `{"k": "v\"", "n": [1, 2.5, null], "e": "😀"}`,
		"c_char_latin1":    "caf\xe9",
		"c_varchar_latin1": "\x80 \x81 \xff",
		"c_text_latin1":    "na\xefve",
	}, map[string][]byte{
		"c_binary":     {0x00, 0xFF, 0x7F, '"'},
		"c_varbinary":  {0x00, 0xFF, '\\', '\n', 0x80},
		"c_tinyblob":   {0x00},
		"c_blob":       {0x00, 0xFF, 0x01, 0xC3, 0xA9},
		"c_mediumblob": {},
		"c_longblob":   {0xFF, 0xFE},
		"c_geometry":   line4326,
		"c_point":      point,
	})
}

// Extremes is a row of boundary values: integer limits, zero dates, TIME limits.
func Extremes(t *event.Table) event.Row {
	return row(t, map[string]string{
		"id":               "18446744073709551615",
		"c_tinyint":        "-128",
		"c_tinyint_u":      "255",
		"c_smallint":       "-32768",
		"c_smallint_u":     "65535",
		"c_mediumint":      "-8388608",
		"c_mediumint_u":    "16777215",
		"c_int":            "-2147483648",
		"c_int_u":          "4294967295",
		"c_bigint":         "-9223372036854775808",
		"c_bigint_u":       "18446744073709551615",
		"c_decimal":        "-99999999999999999999999999999999999.999999999999999999999999999999",
		"c_float":          "-3.4028235e+38",
		"c_double":         "1.7976931348623157e+308",
		"c_bit1":           "0",
		"c_bit64":          "18446744073709551615",
		"c_date":           "0000-00-00",
		"c_time":           "838:59:59",
		"c_time6":          "-838:59:59.000000",
		"c_datetime0":      "0000-00-00 00:00:00",
		"c_datetime1":      "9999-12-31 23:59:59.9",
		"c_datetime2":      "1000-01-01 00:00:00.00",
		"c_datetime3":      "0000-00-00 00:00:00.000",
		"c_datetime4":      "2024-02-29 23:59:59.9999",
		"c_datetime5":      "2024-02-29 23:59:59.00001",
		"c_datetime6":      "9999-12-31 23:59:59.999999",
		"c_timestamp0":     "0000-00-00 00:00:00",
		"c_timestamp1":     "1970-01-01 00:00:01.0",
		"c_timestamp2":     "2038-01-19 03:14:07.99",
		"c_timestamp3":     "0000-00-00 00:00:00.000",
		"c_timestamp4":     "2000-01-01 00:00:00.0001",
		"c_timestamp5":     "2000-01-01 00:00:00.00000",
		"c_timestamp6":     "2038-01-19 03:14:07.999999",
		"c_year":           "0000",
		"c_char":           "",
		"c_varchar":        "",
		"c_text":           "",
		"c_tinytext":       "",
		"c_mediumtext":     "",
		"c_longtext":       "",
		"c_enum":           "",
		"c_set":            "",
		"c_json":           "null",
		"c_char_latin1":    "",
		"c_varchar_latin1": "",
		"c_text_latin1":    "",
	}, map[string][]byte{
		"c_binary":     {0, 0, 0, 0},
		"c_varbinary":  {},
		"c_tinyblob":   {},
		"c_blob":       {},
		"c_mediumblob": {},
		"c_longblob":   {},
		"c_geometry":   point,
		"c_point":      point,
	})
}

// Nulls is a row in which every column but the primary key is NULL.
func Nulls(t *event.Table) event.Row {
	return row(t, map[string]string{"id": "9"}, nil)
}

// Updated is Typical with some columns changed: a value to another, a value to NULL, and the
// binary and latin1 data.
func Updated(t *event.Table) event.Row {
	r := Typical(t)
	set := func(name string, v event.Value) { r[t.ColumnIndex(name)] = v }
	set("c_int", event.Value("42"))
	set("c_varchar", nil)
	set("c_datetime6", event.Value("2024-05-02 00:00:00.000000"))
	set("c_blob", event.Value{0xFF})
	set("c_char_latin1", event.Value("na\xefve"))
	return r
}

var (
	commit = time.Date(2024, 5, 1, 11, 59, 59, 0, time.UTC)
	pos    = event.Position{File: "mysql-bin.000143", Offset: 2924526, GTID: "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-23"}
	safe   = event.Position{File: "mysql-bin.000143", Offset: 2924372, GTID: "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-22"}
)

// Case is a named event.
type Case struct {
	Name  string
	Event *event.Event
}

// Cases returns events of every kind over AllTypes.
func Cases() []Case {
	t := AllTypes()
	base := func(k event.Kind, seq uint64) *event.Event {
		return &event.Event{Kind: k, Table: t, Database: t.Database, TableName: t.Name,
			Pos: pos, SafePos: safe, CommitTime: commit, Seq: seq, ServerID: 2814094928,
			SourceVersion: "8.0.34"}
	}
	initEv := base(event.Init, 1)
	initEv.Pos, initEv.SafePos, initEv.ServerID = event.Position{}, event.Position{}, 0
	initEv.CommitTime = Now.Add(-time.Second).Truncate(time.Second)
	initEv.After = Typical(t)

	insert := base(event.Insert, 2)
	insert.After = Extremes(t)

	insertNulls := base(event.Insert, 3)
	insertNulls.After = Nulls(t)

	update := base(event.Update, 4)
	update.Before, update.After = Typical(t), Updated(t)

	updateNoChange := base(event.Update, 5)
	updateNoChange.Before, updateNoChange.After = Nulls(t), Nulls(t)

	del := base(event.Delete, 6)
	del.Before = Updated(t)

	deleteNulls := base(event.Delete, 7)
	deleteNulls.Before = Nulls(t)

	ddl := base(event.DDL, 8)
	ddl.Table = nil
	ddl.DDLKind = "alter table"
	ddl.SQL = "ALTER TABLE `all_types` ADD COLUMN `vip` tinyint(1) DEFAULT 0 COMMENT 'say \"hi\"\n😀'"

	ddlDB := base(event.DDL, 9)
	ddlDB.Table, ddlDB.TableName = nil, ""
	ddlDB.Database = "new_db"
	ddlDB.DDLKind = "create database"
	ddlDB.SQL = "CREATE DATABASE `new_db`"
	ddlDB.Pos.GTID = ""

	return []Case{
		{"init", initEv},
		{"insert_extremes", insert},
		{"insert_nulls", insertNulls},
		{"update", update},
		{"update_nochange", updateNoChange},
		{"delete", del},
		{"delete_nulls", deleteNulls},
		{"ddl", ddl},
		{"ddl_database", ddlDB},
	}
}

// Bench returns a 10-column table and an INSERT of a row of about 300 bytes, for benchmarks.
func Bench() *event.Event {
	t := &event.Table{Database: "shop", Name: "orders", PrimaryKey: []int{0}, Columns: []event.Column{
		col("id", "bigint", "bigint(20)", func(c *event.Column) { c.InPrimaryKey = true }),
		col("user_id", "int", "int(10)", unsigned),
		col("status", "tinyint", "tinyint(4)"),
		col("amount", "decimal", "decimal(12,2)", prec(12, 2)),
		col("currency", "char", "char(3)", utf8mb4, prec(3, 0)),
		col("buyer_nick", "varchar", "varchar(64)", utf8mb4, prec(64, 0)),
		col("address", "varchar", "varchar(255)", utf8mb4, prec(255, 0)),
		col("note", "text", "text", utf8mb4),
		col("created_at", "datetime", "datetime(3)", prec(0, 3)),
		col("updated_at", "timestamp", "timestamp"),
	}}
	r := event.Row{
		event.Value("1234567890"),
		event.Value("987654"),
		event.Value("2"),
		event.Value("1299.50"),
		event.Value("CNY"),
		event.Value("buyer_nick_éà_12345"),
		event.Value("No. 969 West Wen Yi Road, Yu Hang District, Hangzhou, Zhejiang, China 311121"),
		event.Value("Please deliver between 9am and 6pm; call before arrival. Leave at the front desk if nobody answers the door. Thanks!"),
		event.Value("2024-05-01 12:00:00.123"),
		event.Value("2024-05-01 12:00:01"),
	}
	return &event.Event{Kind: event.Insert, Table: t, Database: t.Database, TableName: t.Name,
		After: r, Pos: pos, SafePos: safe, CommitTime: commit, Seq: 1, ServerID: 1, SourceVersion: "8.0.34"}
}
