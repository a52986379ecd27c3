package mysql

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"tributary/engine/event"
)

func tableString(t *event.Table) string {
	if t == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s.%s pk=%v uk=%+v\n", t.Database, t.Name, t.PrimaryKey, t.UniqueKeys)
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "  %+v\n", c)
	}
	return b.String()
}

// tableDiff lists what differs between two schemas ("" = equal).
func tableDiff(got, want *event.Table) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("got %s, want %s", tableString(got), tableString(want))
	}
	var d []string
	if got.Database != want.Database || got.Name != want.Name {
		d = append(d, fmt.Sprintf("name %s.%s, want %s.%s", got.Database, got.Name, want.Database, want.Name))
	}
	if fmt.Sprint(got.PrimaryKey) != fmt.Sprint(want.PrimaryKey) || fmt.Sprintf("%+v", got.UniqueKeys) != fmt.Sprintf("%+v", want.UniqueKeys) {
		d = append(d, fmt.Sprintf("keys pk=%v uk=%+v, want pk=%v uk=%+v", got.PrimaryKey, got.UniqueKeys, want.PrimaryKey, want.UniqueKeys))
	}
	for i := 0; i < max(len(got.Columns), len(want.Columns)); i++ {
		var g, w string
		if i < len(got.Columns) {
			g = fmt.Sprintf("%+v", got.Columns[i])
		}
		if i < len(want.Columns) {
			w = fmt.Sprintf("%+v", want.Columns[i])
		}
		if g != w {
			d = append(d, fmt.Sprintf("column %d:\n    got  %s\n    want %s", i, g, w))
		}
	}
	if len(d) == 0 && !reflect.DeepEqual(got, want) {
		d = append(d, "nil versus empty slices")
	}
	return strings.Join(d, "\n  ")
}

func columnNames(t *event.Table) string {
	n := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		n[i] = c.Name
	}
	return strings.Join(n, ",")
}

// TestSchemaHistoryLagging runs every DDL before the stream reads anything: the reader lags
// behind all of it, so only the schema history (or full row metadata) can name the columns of
// the early rows.
func TestSchemaHistoryLagging(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		full    bool
		history bool
	}{
		{"no_log+history", false, true},
		{"full+history", true, true},
		{"full+no_history", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testLagging(t, tc.full, tc.history)
		})
	}
}

func testLagging(t *testing.T, full, withHistory bool) {
	ctx := context.Background()
	src := startSource(t, full)
	src.m.Exec(t, "CREATE DATABASE d", "USE d", "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT)")
	conn := src.conn(t)
	start := src.position(t)
	var hist *SchemaHistory
	if withHistory {
		var err error
		if hist, err = SeedSchemaHistory(ctx, conn, "mariadb", []Ref{{"d", "t"}}, start); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		sql     string
		columns string // after the statement
		row     string // the row the INSERT writes, in column order
	}{
		{"INSERT INTO t VALUES (1, 'a1', 10)", "id,a,b", "1,a1,10"},
		{"ALTER TABLE t ADD COLUMN c DATETIME(3) NULL AFTER a", "id,a,c,b", ""},
		{"INSERT INTO t VALUES (2, 'a2', '2024-01-01 00:00:00.5', 20)", "id,a,c,b", "2,a2,2024-01-01 00:00:00.500,20"},
		{"ALTER TABLE t DROP COLUMN b", "id,a,c", ""},
		{"INSERT INTO t VALUES (3, 'a3', NULL)", "id,a,c", "3,a3,NULL"},
		{"ALTER TABLE t CHANGE a name VARCHAR(20) NOT NULL", "id,name,c", ""},
		{"INSERT INTO t VALUES (4, 'n4', '2024-02-02 02:02:02')", "id,name,c", "4,n4,2024-02-02 02:02:02.000"},
		{"ALTER TABLE t MODIFY c DATETIME(3) FIRST", "c,id,name", ""},
		{"INSERT INTO t VALUES (NULL, 5, 'n5')", "c,id,name", "NULL,5,n5"},
		{"ALTER TABLE t MODIFY name VARCHAR(20) NOT NULL AFTER c, ADD COLUMN u BIGINT UNSIGNED", "c,name,id,u", ""},
		{"INSERT INTO t VALUES (NULL, 'n6', 6, 18446744073709551615)", "c,name,id,u", "NULL,n6,6,18446744073709551615"},
		{"RENAME TABLE t TO t2", "c,name,id,u", ""},
		{"INSERT INTO t2 VALUES (NULL, 'n7', 7, 1)", "c,name,id,u", "NULL,n7,7,1"},
		{"ALTER TABLE t2 RENAME COLUMN name TO nm, MODIFY u DECIMAL(20,0) UNSIGNED", "c,nm,id,u", ""},
		{"INSERT INTO t2 VALUES (NULL, 'n8', 8, 255)", "c,nm,id,u", "NULL,n8,8,255"},
		{"TRUNCATE TABLE t2", "c,nm,id,u", ""},
		{"DROP TABLE t2", "", ""},
		{"CREATE TABLE t2 (x ENUM('p','q') NOT NULL, id INT PRIMARY KEY)", "x,id", ""},
		{"INSERT INTO t2 VALUES ('q', 9)", "x,id", "q,9"},
	}
	// The catalog after each DDL, to compare the history's versions with.
	catalog := map[int]*event.Table{}
	for i, s := range steps {
		src.m.Exec(t, "USE d", s.sql)
		if s.row == "" && s.columns != "" {
			tables, err := LoadTables(ctx, conn, []Ref{{"d", "t"}, {"d", "t2"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range tables {
				catalog[i] = tb
			}
		}
	}

	var mu sync.Mutex
	var warnings []string
	st := src.open(t, StreamConfig{Start: start, History: hist,
		Tables: func(db, table string) bool { return db == "d" },
		Warn: func(msg string) {
			mu.Lock()
			warnings = append(warnings, msg)
			mu.Unlock()
		}})
	var events []*event.Event
	for len(events) < len(steps)-1 { // every statement but TRUNCATE gives one event... see below
		b := next(t, st)
		events = append(events, b.Events...)
	}
	if len(events) != len(steps) {
		for len(events) < len(steps) {
			events = append(events, next(t, st).Events...)
		}
	}
	for i, s := range steps {
		e := events[i]
		if s.row != "" {
			if e.Kind != event.Insert || columnNames(e.Table) != s.columns || rowString(e.After) != s.row {
				t.Errorf("step %d (%s): event %v columns %s row %s, want columns %s row %s", i, s.sql, e.Kind, columnNames(e.Table), rowString(e.After), s.columns, s.row)
			}
			continue
		}
		if e.Kind != event.DDL || !strings.HasPrefix(strings.ReplaceAll(e.SQL, "`", ""), s.sql) {
			t.Errorf("step %d: event %v %q, want the DDL %q", i, e.Kind, e.SQL, s.sql)
			continue
		}
		if s.columns == "" {
			if e.Table != nil {
				t.Errorf("step %d (%s): DDL event table %s, want none", i, s.sql, tableString(e.Table))
			}
			continue
		}
		if diff := tableDiff(e.Table, catalog[i]); withHistory && diff != "" {
			t.Errorf("step %d (%s): the history's schema differs from the catalog's:\n  %s", i, s.sql, diff)
		}
	}
	if withHistory && len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if withHistory {
		// The history keeps every version by position.
		if got := hist.At("d", "t", start); got == nil || columnNames(got) != "id,a,b" {
			t.Errorf("At(start) = %v", got)
		}
		if got := hist.At("d", "t", events[3].Pos); got == nil || columnNames(got) != "id,a,c,b" {
			t.Errorf("At(before DROP COLUMN) = %v", got)
		}
		if got := hist.At("d", "t", st.Position()); got != nil {
			t.Errorf("At(now) of the renamed table = %v, want nil", columnNames(got))
		}
	}
}

// TestSchemaHistoryMatchesCatalog applies DDL statements to a history and compares each
// resulting table with what the server's catalog says after running the same statement.
func TestSchemaHistoryMatchesCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := startSource(t, false)
	src.m.Exec(t, "CREATE DATABASE h")
	conn := src.conn(t)
	hist, err := SeedSchemaHistory(ctx, conn, "mariadb", nil, event.Position{File: "binlog.000001", Offset: 4})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		sql   string
		table string // the table to compare ("" = none)
		stale bool   // the history cannot follow the statement
	}{
		{allTypes, "alltypes", false},
		{"CREATE TABLE k (a INT NOT NULL, b INT, c VARCHAR(5), d CHAR(3) CHARACTER SET binary, UNIQUE KEY uk_b (b), UNIQUE (c), PRIMARY KEY (a))", "k", false},
		{"ALTER TABLE k DROP PRIMARY KEY, ADD PRIMARY KEY (a, b)", "k", false},
		{"ALTER TABLE k ADD UNIQUE (c, a)", "k", false},
		{"ALTER TABLE k RENAME INDEX uk_b TO uk_bb", "k", false},
		{"CREATE UNIQUE INDEX ux ON k (d)", "k", false},
		{"CREATE INDEX plain ON k (c)", "k", false},
		{"DROP INDEX ux ON k", "k", false},
		{"ALTER TABLE k ADD COLUMN (x INT ZEROFILL, y TEXT CHARACTER SET latin1, w TEXT(100), v BLOB(70000))", "k", false},
		{"ALTER TABLE k DEFAULT CHARSET latin1", "k", false},
		{"ALTER TABLE k ADD COLUMN z VARCHAR(3), ADD COLUMN zz ENUM('é','b') COLLATE latin1_bin FIRST", "k", false},
		{"ALTER TABLE k RENAME COLUMN x TO xx, ALTER COLUMN z SET DEFAULT 'q'", "k", false},
		{"ALTER TABLE k MODIFY COLUMN xx BIGINT UNSIGNED FIRST, DROP COLUMN IF EXISTS nope, ADD COLUMN IF NOT EXISTS a INT", "k", false},
		{"ALTER TABLE k DROP COLUMN d", "k", false},
		{"ALTER TABLE k ENGINE=InnoDB, COMMENT 'x'", "k", false},
		{"CREATE TABLE l LIKE k", "l", false},
		{"ALTER TABLE k CONVERT TO CHARACTER SET utf8mb4", "k", true},
		{"CREATE OR REPLACE TABLE m (id SERIAL, v BOOL, f FLOAT(10), r REAL, n NUMERIC(7,3), js JSON, ts TIMESTAMP(2), tm TIME(1), y YEAR(4))", "m", false},
		{"CREATE OR REPLACE TABLE m (id INT, g POLYGON NOT NULL, p POINT)", "m", false},
		{"CREATE TABLE IF NOT EXISTS m (other INT)", "m", false},
		{"RENAME TABLE l TO l2, m TO h.m2", "l2", false},
		{"ALTER TABLE l2 RENAME TO l3, ADD COLUMN added INT AFTER xx", "l3", false},
		{"TRUNCATE l3", "l3", false},
		{"CREATE DATABASE e CHARACTER SET latin1", "", false},
		{"CREATE TABLE e.t (s VARCHAR(5), u VARCHAR(5) CHARACTER SET utf8)", "e.t", false},
		{"CREATE TABLE s AS SELECT 1 AS one", "s", true},
		{"ALTER TABLE s ADD COLUMN two INT", "s", true}, // still unknown
		{"CREATE TABLE tk (a INT, b INT, UNIQUE KEY (a), UNIQUE KEY (a, b), UNIQUE KEY a_2x (b))", "tk", false},
		{"DROP TABLE IF EXISTS l3, nope", "", false},
	}
	pos := uint64(100)
	for _, s := range steps {
		src.m.Exec(t, "USE h", s.sql)
		pos += 100
		res := hist.Apply(event.Position{File: "binlog.000001", Offset: pos}, "h", s.sql, nil)
		if s.table == "" {
			continue
		}
		ref := Ref{"h", s.table}
		if db, tb, ok := strings.Cut(s.table, "."); ok {
			ref = Ref{db, tb}
		}
		v := hist.Current(ref.Database, ref.Table)
		if s.stale {
			if v == nil || !v.Stale || len(res.Stale) == 0 {
				t.Errorf("%s: history %+v, want stale", s.sql, v)
			}
			continue
		}
		tables, err := LoadTables(ctx, conn, []Ref{ref})
		if err != nil {
			t.Fatal(err)
		}
		if v == nil || v.Table == nil {
			t.Errorf("%s: the history has no table %s (%+v, stale %v)", s.sql, ref, v, res.Stale)
			continue
		}
		if diff := tableDiff(v.Table, tables[ref]); diff != "" {
			t.Errorf("%.70s: the history differs from the catalog:\n  %s", s.sql, diff)
		}
	}
	if v := hist.Current("h", "l3"); v == nil || !v.Dropped {
		t.Errorf("l3 after DROP TABLE: %+v", v)
	}
	if hist.At("h", "l", event.Position{File: "binlog.000001", Offset: 2000}) == nil {
		t.Errorf("l before its rename is not in the history")
	}
}

func TestClassifyDDL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sql, kind, db, object string
		tables                string
	}{
		{"CREATE TABLE t (a INT)", "create table", "d", "t", "d.t"},
		{"create temporary table if not exists `x`.`t``q` (a int)", "create table", "x", "t`q", "x.t`q"},
		{"CREATE OR REPLACE TABLE t (a INT)", "create table", "d", "t", "d.t"},
		{"/* c */ ALTER ONLINE IGNORE TABLE o.t ADD b INT", "alter table", "o", "t", "o.t"},
		{"DROP TABLE IF EXISTS a, b.c /* generated by server */", "drop table", "d", "a", "d.a b.c"},
		{"RENAME TABLE a TO b, c.d TO e.f", "rename table", "d", "a", "d.a d.b c.d e.f"},
		{"TRUNCATE t", "truncate table", "d", "t", "d.t"},
		{"TRUNCATE TABLE x.t", "truncate table", "x", "t", "x.t"},
		{"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1", "create view", "d", "v", ""},
		{"/*!50001 CREATE OR REPLACE */ /*!50013 DEFINER=root@localhost */ VIEW x.v AS SELECT 1", "create view", "x", "v", ""},
		{"ALTER DEFINER=CURRENT_USER() VIEW v AS SELECT 2", "alter view", "d", "v", ""},
		{"DROP VIEW IF EXISTS v", "drop view", "d", "v", ""},
		{"CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN SELECT 1; END", "create procedure", "d", "p", ""},
		{"ALTER PROCEDURE p COMMENT 'x'", "alter procedure", "d", "p", ""},
		{"DROP PROCEDURE IF EXISTS x.p", "drop procedure", "x", "p", ""},
		{"CREATE DEFINER='root'@'localhost' AGGREGATE FUNCTION f() RETURNS INT RETURN 1", "create function", "d", "f", ""},
		{"DROP FUNCTION f", "drop function", "d", "f", ""},
		{"ALTER FUNCTION f COMMENT 'x'", "other", "d", "f", ""},
		{"CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON o.t FOR EACH ROW SET NEW.a = 1", "create trigger", "d", "tr", "o.t"},
		{"DROP TRIGGER IF EXISTS x.tr", "drop trigger", "x", "tr", ""},
		{"CREATE UNIQUE INDEX i ON t (a)", "create index", "d", "t", "d.t"},
		{"DROP INDEX i ON x.t", "drop index", "x", "t", "x.t"},
		{"CREATE DATABASE IF NOT EXISTS `n`", "create database", "n", "", ""},
		{"CREATE SCHEMA n2 CHARACTER SET latin1", "create database", "n2", "", ""},
		{"DROP DATABASE n", "drop database", "n", "", ""},
		{"ALTER DATABASE n CHARACTER SET utf8mb4", "other", "n", "", ""},
		{"GRANT SELECT ON *.* TO 'u'@'%'", "other", "d", "", ""},
		{"CREATE USER u", "other", "d", "", ""},
		{"ANALYZE TABLE t", "other", "d", "", ""},
	} {
		info := ClassifyDDL(tc.sql, "d")
		var tables []string
		for _, r := range info.Tables {
			tables = append(tables, r.String())
		}
		if info.Kind != tc.kind || info.Database != tc.db || info.Object != tc.object || strings.Join(tables, " ") != tc.tables {
			t.Errorf("%s:\n got %q %q %q [%s]\nwant %q %q %q [%s]", tc.sql, info.Kind, info.Database, info.Object, strings.Join(tables, " "), tc.kind, tc.db, tc.object, tc.tables)
		}
	}
	for _, q := range []string{"BEGIN", "COMMIT", "XA START 'x'", "SAVEPOINT a"} {
		if !ClassifyDDL(q, "").TxnControl {
			t.Errorf("%s: not transaction control", q)
		}
	}
	for _, q := range []string{"GRANT SELECT ON *.* TO u", "REVOKE ALL ON *.* FROM u", "CREATE USER u IDENTIFIED BY 'x'",
		"ALTER USER u IDENTIFIED BY 'y'", "DROP ROLE r", "SET PASSWORD FOR u = PASSWORD('z')", "RENAME USER a TO b"} {
		if !ClassifyDDL(q, "").Account {
			t.Errorf("%s: not an account statement", q)
		}
	}
	for _, q := range []string{"INSERT INTO t VALUES (1)", "update t set a=1", "DELETE FROM t", "REPLACE INTO t VALUES (1)"} {
		if !ClassifyDDL(q, "").DML {
			t.Errorf("%s: not DML", q)
		}
	}
}

func TestSchemaHistorySnapshot(t *testing.T) {
	t.Parallel()
	h := NewSchemaHistory("mariadb")
	p := func(file string, off uint64) event.Position { return event.Position{File: file, Offset: off} }
	h.Seed(p("binlog.000001", 100), map[Ref]*event.Table{{"d", "t"}: {Database: "d", Name: "t",
		Columns: []event.Column{{Name: "id", DataType: "int", ColumnType: "int(11)", Precision: 10, InPrimaryKey: true}}, PrimaryKey: []int{0}}})
	h.SetDatabaseCharset("d", "latin1")
	h.Apply(p("binlog.000001", 200), "d", "ALTER TABLE t ADD COLUMN s VARCHAR(3)", nil)
	h.Apply(p("binlog.000002", 50), "d", "ALTER TABLE t ADD COLUMN u INT", nil)
	h.Apply(p("binlog.000002", 80), "d", "CREATE TABLE n (a INT)", func(db, table string) bool { return false })

	data, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	h2, err := LoadSchemaHistory(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []struct {
		pos  event.Position
		cols string
	}{
		{p("binlog.000001", 150), "id"},
		{p("binlog.000001", 200), "id,s"},
		{p("binlog.000001", 999), "id,s"},
		{p("binlog.000002", 60), "id,s,u"},
	} {
		for i, hh := range []*SchemaHistory{h, h2} {
			got := hh.At("d", "t", at.pos)
			if got == nil || columnNames(got) != at.cols {
				t.Errorf("history %d At(%v) = %v, want %s", i, at.pos, got, at.cols)
			}
		}
	}
	if got := h2.At("d", "t", p("binlog.000001", 250)).Columns[1]; got.Charset != "latin1" || got.ColumnType != "varchar(3)" {
		t.Errorf("added column %+v", got)
	}
	if h2.Current("d", "n") != nil {
		t.Errorf("an untracked table is in the history")
	}
	if got := h2.Tables(); len(got) != 1 || got[0] != (Ref{"d", "t"}) {
		t.Errorf("Tables() = %v", got)
	}
	// A stream restarting at binlog.000001:200 drops the later version and re-reads its DDL.
	h2.Truncate(p("binlog.000001", 200))
	if got := h2.Current("d", "t"); got == nil || columnNames(got.Table) != "id,s" {
		t.Errorf("after Truncate: %+v", got)
	}
	// Pruning at binlog.000002:60 keeps only the version in effect there.
	h.Prune(p("binlog.000002", 60))
	if got := h.At("d", "t", p("binlog.000002", 60)); got == nil || columnNames(got) != "id,s,u" {
		t.Errorf("after Prune, At(prune position) = %v", got)
	}
	if got := h.At("d", "t", p("binlog.000001", 150)); got != nil {
		t.Errorf("after Prune, At(earlier) = %v, want nil", columnNames(got))
	}
	if _, err := LoadSchemaHistory([]byte(`{"version":9}`)); err == nil {
		t.Errorf("LoadSchemaHistory accepted version 9")
	}
}
