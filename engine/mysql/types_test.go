package mysql

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tributary/engine/event"
)

// allTypes is a table with every column type the readers render.
const allTypes = `CREATE TABLE alltypes (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  bz INT(5) UNSIGNED ZEROFILL,
  d DECIMAL(10,2), d0 DECIMAL(5,0), dmax DECIMAL(65,30), du DECIMAL(10,2) UNSIGNED, dfrac DECIMAL(30,30),
  f FLOAT, dbl DOUBLE, f72 FLOAT(7,2),
  b1 BIT(1), b9 BIT(9), b64 BIT(64),
  dt DATE, tm TIME, tm3 TIME(3), tm6 TIME(6),
  dt0 DATETIME, dt1 DATETIME(1), dt2 DATETIME(2), dt3 DATETIME(3), dt4 DATETIME(4), dt5 DATETIME(5), dt6 DATETIME(6),
  ts0 TIMESTAMP NULL, ts1 TIMESTAMP(1) NULL, ts2 TIMESTAMP(2) NULL, ts3 TIMESTAMP(3) NULL,
  ts4 TIMESTAMP(4) NULL, ts5 TIMESTAMP(5) NULL, ts6 TIMESTAMP(6) NULL,
  y YEAR,
  c CHAR(5), cl CHAR(200), vc VARCHAR(50), tx TEXT, tt TINYTEXT, mt MEDIUMTEXT, lt LONGTEXT,
  c1 CHAR(5) CHARACTER SET latin1, vc1 VARCHAR(20) CHARACTER SET latin1, tx1 TEXT CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(10), bl BLOB, tb TINYBLOB, mb MEDIUMBLOB, lb LONGBLOB,
  e ENUM('a','b','c'), s SET('a','b','c'), e1 ENUM('x','é') CHARACTER SET latin1,
  j JSON, g GEOMETRY, p POINT
)`

// typeRows inserts rows with edge values; TIMESTAMPs are written in a +05:00 session.
var typeRows = []string{
	`SET time_zone = '+05:00'`,
	`SET sql_mode = ''`,
	`INSERT INTO alltypes VALUES (1,
  127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 42,
  10.5, 99999, 99999999999999999999999999999999999.999999999999999999999999999999, 0.01, 0.123456789012345678901234567891,
  3.14159274, 1e300, 12345.67,
  b'1', b'111111111', b'1111111111111111111111111111111111111111111111111111111111111111',
  '2024-02-29', '838:59:59', '-12:34:56.789', '-838:59:59.000000',
  '2024-01-02 03:04:05', '2024-01-02 03:04:05.1', '2024-01-02 03:04:05.12', '2024-01-02 03:04:05.123',
  '2024-01-02 03:04:05.1234', '2024-01-02 03:04:05.12345', '2024-01-02 03:04:05.123456',
  '2024-01-02 03:04:05', '2024-01-02 03:04:05.1', '2024-01-02 03:04:05.12', '2024-01-02 03:04:05.123',
  '2024-01-02 03:04:05.1234', '2024-01-02 03:04:05.12345', '2024-01-02 03:04:05.123456',
  2155,
  'ab  ', REPEAT('é', 200), 'héllo 😀', '日本語 😀', 'tiny', 'medium', 'long',
  'é', 'ça', 'Ünïcödé',
  'a', 0x00FF00, 0x00FF, 0x01, 0xFFFF, 0x00,
  'b', 'a,c', 'é',
  '{"a": [1, 2.5, "x"], "b": null}', ST_GeomFromText('POINT(1 2)'), POINT(1, 2))`,
	`INSERT INTO alltypes VALUES (2,
  -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0,
  -10.5, -99999, -99999999999999999999999999999999999.999999999999999999999999999999, 0, -0.000000000000000000000000000001,
  -1.5e-7, 1e-300, -0.01,
  b'0', b'0', b'0',
  '1000-01-01', '-838:59:59', '00:00:00.5', '838:59:59',
  '1000-01-01 00:00:00', '9999-12-31 23:59:59.9', '1000-01-01 00:00:00.01', '1970-01-01 00:00:00',
  '2038-01-19 03:14:07.9999', '1999-12-31 23:59:59.99999', '9999-12-31 23:59:59.999999',
  '1970-01-01 05:00:01', '2038-01-19 08:14:07.9', '2000-01-01 00:00:00.01', '2000-01-01 00:00:00',
  '2000-01-01 00:00:00.0001', '2000-01-01 00:00:00.00001', '2038-01-19 08:14:07.999999',
  1901,
  '', '', '', '', '', '', '',
  '', '', '',
  'abcd', '', '', '', '', '',
  'a', '', 'x',
  '[]', ST_GeomFromText('LINESTRING(0 0, 1 1)'), POINT(-1.5, 1e10))`,
	// Zero values (sql_mode ''): zero dates and timestamps, YEAR 0, the ENUM error value.
	`INSERT INTO alltypes (id, dt, dt0, dt6, ts0, ts6, y, e, s, f, dbl, d, tm, tm6, bn, vb) VALUES (3,
  '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000',
  0, 'nope', '', 0, -0.0, 0, '00:00:00', '-00:00:00.000001', 0x00, 0x00)`,
	`INSERT INTO alltypes (id) VALUES (4)`,
	`INSERT INTO alltypes (id, f, dbl, tm3, y, e, s) VALUES (5, 1e-10, 123456789012345.6, '-00:00:00.5', 69, 3, 7)`,
}

// typeExpect are canonical values that both readers must produce (not just agree on).
var typeExpect = map[int]map[string]string{
	1: {"tiu": "255", "iu": "4294967295", "biu": "18446744073709551615", "miu": "16777215", "bz": "42",
		"d": "10.50", "dmax": "99999999999999999999999999999999999.999999999999999999999999999999", "du": "0.01",
		"f": "3.1415927", "dbl": "1e300", "b1": "1", "b9": "511", "b64": "18446744073709551615",
		"tm": "838:59:59", "tm3": "-12:34:56.789", "tm6": "-838:59:59.000000",
		"dt0": "2024-01-02 03:04:05", "dt3": "2024-01-02 03:04:05.123", "dt6": "2024-01-02 03:04:05.123456",
		"ts0": "2024-01-01 22:04:05", "ts6": "2024-01-01 22:04:05.123456", "y": "2155", "c": "ab",
		"bn": "a\x00\x00\x00", "vb": "\x00\xff\x00", "c1": "\xe9", "e": "b", "s": "a,c", "e1": "\xe9"},
	2: {"bi": "-9223372036854775808", "d0": "-99999", "f": "-1.5e-7", "dbl": "1e-300", "b64": "0", "tm3": "00:00:00.500",
		"ts0": "1970-01-01 00:00:01", "y": "1901", "bn": "abcd", "vb": "", "e": "a", "s": ""},
	3: {"dt": "0000-00-00", "dt0": "0000-00-00 00:00:00", "dt6": "0000-00-00 00:00:00.000000",
		"ts0": "0000-00-00 00:00:00", "ts6": "0000-00-00 00:00:00.000000", "y": "0000", "e": "", "d": "0.00",
		"tm": "00:00:00", "tm6": "-00:00:00.000001", "bn": "\x00\x00\x00\x00", "vb": "\x00"},
	5: {"f": "1e-10", "y": "2069", "e": "c", "s": "a,b,c", "tm3": "-00:00:00.500"},
}

func TestTypesSnapshotEqualsBinlog(t *testing.T) {
	t.Parallel()
	for _, full := range []bool{false, true} {
		t.Run(fmt.Sprintf("full_metadata=%v", full), func(t *testing.T) {
			t.Parallel()
			testTypes(t, full)
		})
	}
}

func testTypes(t *testing.T, full bool) {
	ctx := context.Background()
	src := startSource(t, full)
	src.m.Exec(t, "CREATE DATABASE types", "USE types", allTypes)
	conn := src.conn(t)
	start := src.position(t)
	ref := Ref{"types", "alltypes"}
	hist, err := SeedSchemaHistory(ctx, conn, "mariadb", []Ref{ref}, start)
	if err != nil {
		t.Fatal(err)
	}
	src.m.Exec(t, append([]string{"USE types"}, typeRows...)...)
	src.m.Exec(t, "DELETE FROM types.alltypes")
	// Put the rows back for the snapshot (same statements: same stored values).
	src.m.Exec(t, append([]string{"USE types"}, typeRows...)...)

	tables, err := LoadTables(ctx, conn, []Ref{ref})
	if err != nil {
		t.Fatal(err)
	}
	table := tables[ref]
	snap := map[string]event.Row{}
	_, _, err = ReadChunk(ctx, conn, table, []int{0}, nil, nil, "", 0, func(r event.Row) error {
		snap[string(r[0])] = CopyRow(r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap) != 5 {
		t.Fatalf("snapshot read %d rows", len(snap))
	}
	checkExpected(t, table, snap)

	st := src.open(t, StreamConfig{Start: start, Tables: only("types", "alltypes"), History: hist})
	binTable := compareTypes(t, st, table, snap)
	if diff := tableDiff(binTable, table); diff != "" {
		t.Errorf("the binlog events' schema differs from the catalog's:\n  %s", diff)
	}
	if !full {
		return
	}
	// With full row metadata the binlog alone describes the table: drop it, so that neither
	// the history nor the catalog knows it, and read again.
	src.m.Exec(t, "DROP TABLE types.alltypes")
	st = src.open(t, StreamConfig{Start: start, Tables: only("types", "alltypes")})
	binTable = compareTypes(t, st, table, snap)
	// What the binlog cannot tell: display widths, FLOAT(M,D) and MariaDB's JSON (LONGTEXT).
	for i, c := range binTable.Columns {
		want := table.Columns[i]
		want.ColumnType = c.ColumnType
		if want.DataType == "json" {
			want.DataType, want.Precision = "longtext", 0
		}
		if want.DataType == "float" || want.DataType == "double" { // FLOAT(M,D): M is not logged
			want.Precision = c.Precision
		}
		if fmt.Sprintf("%+v", c) != fmt.Sprintf("%+v", want) {
			t.Errorf("column %d from the table map:\n  %+v\nwant\n  %+v", i, c, table.Columns[i])
		}
		if c.ColumnType != table.Columns[i].ColumnType {
			t.Logf("column %s: type %q from the table map, %q in the catalog", c.Name, c.ColumnType, table.Columns[i].ColumnType)
		}
	}
}

// compareTypes reads the binlog inserts and deletes of the type rows and compares them with
// the snapshot's rows, column by column. It returns the schema of the binlog events.
func compareTypes(t *testing.T, st *Stream, table *event.Table, snap map[string]event.Row) *event.Table {
	t.Helper()
	inserted, deleted := map[string]event.Row{}, map[string]event.Row{}
	var binTable *event.Table
	for len(deleted) < 5 || len(inserted) < 5 {
		b := next(t, st)
		for _, e := range b.Events {
			binTable = e.Table
			switch e.Kind {
			case event.Insert:
				inserted[string(e.After[0])] = e.After
			case event.Delete:
				deleted[string(e.Before[0])] = e.Before
			}
		}
	}
	for id := 1; id <= 5; id++ {
		key := fmt.Sprint(id)
		for _, img := range []struct {
			name string
			row  event.Row
		}{{"insert", inserted[key]}, {"delete", deleted[key]}} {
			if img.row == nil {
				t.Errorf("row %d: no binlog %s", id, img.name)
				continue
			}
			for ci, c := range table.Columns {
				sv, bv := snap[key][ci], img.row[ci]
				if (sv == nil) != (bv == nil) || string(sv) != string(bv) {
					t.Errorf("row %d column %s (%s), binlog %s image:\n  snapshot %s\n  binlog   %s", id, c.Name, c.ColumnType, img.name, show(sv), show(bv))
				}
			}
		}
	}
	return binTable
}

// checkExpected checks canonical values both readers must produce.
func checkExpected(t *testing.T, table *event.Table, snap map[string]event.Row) {
	t.Helper()
	for id := 1; id <= 5; id++ {
		key := fmt.Sprint(id)
		for col, want := range typeExpect[id] {
			ci := table.ColumnIndex(col)
			if got := snap[key][ci]; string(got) != want || got == nil {
				t.Errorf("row %d column %s: snapshot %s, want %q", id, col, show(got), want)
			}
		}
	}
	for ci, c := range table.Columns {
		if ci > 0 && snap["4"][ci] != nil {
			t.Errorf("row 4 column %s: %s, want NULL", c.Name, show(snap["4"][ci]))
		}
	}
}

func show(v event.Value) string {
	if v == nil {
		return "NULL"
	}
	s := fmt.Sprintf("%q", string(v))
	if strings.ContainsFunc(string(v), func(r rune) bool { return r < 0x20 || r == 0xFFFD }) {
		s += fmt.Sprintf(" (% x)", []byte(v))
	}
	return s
}

// TestKeyPoint checks the order-preserving scale the snapshot splits integer keys on: points
// sort like the values, and a point maps back to its value, at both ends of both ranges.
func TestKeyPoint(t *testing.T) {
	for _, tc := range []struct {
		unsigned bool
		values   []string
	}{
		{false, []string{"-9223372036854775808", "-1", "0", "1", "9223372036854775807"}},
		{true, []string{"0", "1", "9223372036854775807", "9223372036854775808", "18446744073709551615"}},
	} {
		var prev uint64
		for i, v := range tc.values {
			p, err := KeyPoint(v, tc.unsigned)
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && p <= prev {
				t.Errorf("KeyPoint(%s) = %d does not sort after %s", v, p, tc.values[i-1])
			}
			if back := string(KeyValue(p, tc.unsigned)); back != v {
				t.Errorf("KeyValue(KeyPoint(%s)) = %s", v, back)
			}
			prev = p
		}
	}
}
