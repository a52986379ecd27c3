package mysql

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"

	"tributary/engine/event"
)

// chunkableTypes are the key column types whose ORDER BY order equals their comparison order,
// so keyset pagination over them neither skips nor repeats rows.
var chunkableTypes = map[string]bool{
	"tinyint": true, "smallint": true, "mediumint": true, "int": true, "bigint": true,
	"decimal": true, "date": true, "datetime": true, "timestamp": true, "time": true, "year": true,
	"char": true, "varchar": true, "binary": true, "varbinary": true,
}

// ChunkKey returns the key columns the snapshot can read the table by in resumable chunks, or
// nil when the table has no usable key (it is then read in one pass, not resumable).
func ChunkKey(t *event.Table) []int {
	k := t.ChunkKey()
	for _, c := range k {
		if !chunkableTypes[t.Columns[c].DataType] {
			return nil
		}
	}
	return k
}

// IsIntegerKey reports whether the key is one integer column (which can be split into ranges
// read in parallel).
func IsIntegerKey(t *event.Table, key []int) bool {
	if len(key) != 1 {
		return false
	}
	switch t.Columns[key[0]].DataType {
	case "tinyint", "smallint", "mediumint", "int", "bigint":
		return true
	}
	return false
}

// Literal renders a canonical value as an SQL literal that compares with the column the way
// the column's ORDER BY sorts.
func Literal(c *event.Column, v event.Value) string {
	if v == nil {
		return "NULL"
	}
	switch c.DataType {
	case "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double", "year":
		return string(v)
	case "bit":
		return string(v)
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json":
		if c.Charset == "" || c.Charset == "binary" {
			return "X'" + hex.EncodeToString(v) + "'"
		}
		return "_" + c.Charset + " X'" + hex.EncodeToString(v) + "'"
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return "X'" + hex.EncodeToString(v) + "'"
	}
	return QuoteString(string(v))
}

// SelectList is the column list of a snapshot query: FLOAT is read widened to DOUBLE so the
// text carries the full stored value (DTS reads it with ROUND(col, 38)).
func SelectList(t *event.Table) string {
	parts := make([]string, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		q := QuoteName(c.Name)
		if c.DataType == "float" {
			q = "(" + q + " + 0E0)"
		}
		parts[i] = q
	}
	return strings.Join(parts, ", ")
}

// keyAfter renders "key > after" for a composite key: a > x OR (a = x AND b > y) ..., which
// MySQL's and MariaDB's range optimizers both use an index for.
func keyCompare(t *event.Table, key []int, vals []event.Value, op string) string {
	var ors []string
	for i := range key {
		var ands []string
		for j := 0; j < i; j++ {
			c := &t.Columns[key[j]]
			ands = append(ands, QuoteName(c.Name)+" = "+Literal(c, vals[j]))
		}
		c := &t.Columns[key[i]]
		o := op
		if op == "<=" && i < len(key)-1 {
			o = "<"
		}
		ands = append(ands, QuoteName(c.Name)+" "+o+" "+Literal(c, vals[i]))
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	if op == "<=" {
		// (a,b) <= (x,y) is a < x OR (a = x AND b <= y).
		return "(" + strings.Join(ors, " OR ") + ")"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// ChunkQuery builds the query for one chunk: rows with key > after (nil = from the start) and
// key <= upTo (nil = no bound), matching filter, in key order, at most limit rows (0 = all).
func ChunkQuery(t *event.Table, key []int, after, upTo []event.Value, filter string, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(SelectList(t))
	b.WriteString(" FROM ")
	b.WriteString(QuoteName(t.Database) + "." + QuoteName(t.Name))
	var where []string
	if after != nil {
		where = append(where, keyCompare(t, key, after, ">"))
	}
	if upTo != nil {
		where = append(where, keyCompare(t, key, upTo, "<="))
	}
	if strings.TrimSpace(filter) != "" {
		where = append(where, "("+filter+")")
	}
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	if len(key) > 0 {
		b.WriteString(" ORDER BY ")
		for i, k := range key {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(QuoteName(t.Columns[k].Name))
		}
	}
	if limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(limit))
	}
	return b.String()
}

// RowReader turns text-protocol rows into canonical rows. The Row passed to the callback is
// reused: copy it (CopyRow) to keep it beyond the call.
type RowReader struct {
	table *event.Table
	buf   []byte
	row   event.Row
	ends  []int
}

// NewRowReader prepares a reader for the table's column order (as SelectList).
func NewRowReader(t *event.Table) *RowReader {
	return &RowReader{table: t, row: make(event.Row, len(t.Columns)), ends: make([]int, len(t.Columns))}
}

// Convert renders one result row.
func (r *RowReader) Convert(fields []gmysql.FieldValue) (event.Row, error) {
	if len(fields) != len(r.table.Columns) {
		return nil, fmt.Errorf("%s: the query returned %d columns, the table has %d: the table changed while it was read", r.table.QualifiedName(), len(fields), len(r.table.Columns))
	}
	r.buf = r.buf[:0]
	for i := range fields {
		if fields[i].Type == gmysql.FieldValueTypeNull {
			r.ends[i] = -1
			continue
		}
		r.buf = appendText(r.buf, &r.table.Columns[i], &fields[i])
		r.ends[i] = len(r.buf)
	}
	start := 0
	for i := range fields {
		if r.ends[i] < 0 {
			r.row[i] = nil
			continue
		}
		r.row[i] = event.Value(r.buf[start:r.ends[i]:r.ends[i]])
		if r.row[i] == nil {
			r.row[i] = event.Value{}
		}
		start = r.ends[i]
	}
	return r.row, nil
}

// CopyRow copies a row into one allocation.
func CopyRow(row event.Row) event.Row {
	n := 0
	for _, v := range row {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	out := make(event.Row, len(row))
	for i, v := range row {
		if v == nil {
			continue
		}
		s := len(buf)
		buf = append(buf, v...)
		out[i] = event.Value(buf[s:len(buf):len(buf)])
	}
	return out
}

// KeyOf extracts the key values of a row (copied).
func KeyOf(row event.Row, key []int) []event.Value {
	out := make([]event.Value, len(key))
	for i, k := range key {
		out[i] = append(event.Value{}, row[k]...)
	}
	return out
}

// ReadChunk streams one chunk and calls fn for each row (the row is only valid during the
// call). It returns the number of rows and the key of the last one.
func ReadChunk(ctx context.Context, conn *client.Conn, t *event.Table, key []int, after, upTo []event.Value, filter string, limit int, fn func(event.Row) error) (int, []event.Value, error) {
	q := ChunkQuery(t, key, after, upTo, filter, limit)
	rr := NewRowReader(t)
	var n int
	var last event.Row
	var result gmysql.Result
	err := conn.ExecuteSelectStreaming(q, &result, func(fields []gmysql.FieldValue) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := rr.Convert(fields)
		if err != nil {
			return err
		}
		n++
		last = row
		if err := fn(row); err != nil {
			return err
		}
		return nil
	}, integersAsText)
	if err != nil {
		return n, nil, fmt.Errorf("read %s: %w", t.QualifiedName(), err)
	}
	if n == 0 || len(key) == 0 {
		return n, nil, nil
	}
	// The last row's buffer is still the reader's: copy the key out.
	return n, KeyOf(last, key), nil
}

// integersAsText has go-mysql hand integer columns over as the server's text instead of parsing
// them: without ZEROFILL that text is already the canonical decimal, and parsing it only to
// print it again cost about a tenth of a snapshot row's CPU. YEAR (padded) and ZEROFILL columns
// are still parsed and printed canonically.
func integersAsText(res *gmysql.Result) error {
	for _, f := range res.Fields {
		switch f.Type {
		case gmysql.MYSQL_TYPE_TINY, gmysql.MYSQL_TYPE_SHORT, gmysql.MYSQL_TYPE_INT24, gmysql.MYSQL_TYPE_LONG, gmysql.MYSQL_TYPE_LONGLONG:
			if f.Flag&gmysql.ZEROFILL_FLAG == 0 {
				f.Type = gmysql.MYSQL_TYPE_VAR_STRING
			}
		}
	}
	return nil
}

// MinMax reads the smallest and largest value of a one-column integer key, as points on an
// order-preserving uint64 scale (KeyPoint), so that the whole range of BIGINT and of BIGINT
// UNSIGNED can be split without overflow. ok is false for an empty table.
func MinMax(conn *client.Conn, t *event.Table, key int) (lo, hi uint64, ok bool, err error) {
	c := QuoteName(t.Columns[key].Name)
	res, err := conn.Execute("SELECT MIN(" + c + "), MAX(" + c + ") FROM " + QuoteName(t.Database) + "." + QuoteName(t.Name))
	if err != nil {
		return 0, 0, false, fmt.Errorf("read key range of %s: %w", t.QualifiedName(), err)
	}
	defer res.Close()
	a := cell(res, 0, 0)
	b := cell(res, 0, 1)
	if a == "" || b == "" {
		return 0, 0, false, nil
	}
	unsigned := t.Columns[key].Unsigned
	lo, err1 := KeyPoint(a, unsigned)
	hi, err2 := KeyPoint(b, unsigned)
	if err1 != nil || err2 != nil {
		return 0, 0, false, nil
	}
	return lo, hi, true, nil
}

// KeyPoint maps an integer key value to a uint64 that sorts the same way: unsigned values as
// they are, signed ones with the sign bit flipped.
func KeyPoint(v string, unsigned bool) (uint64, error) {
	if unsigned {
		return strconv.ParseUint(v, 10, 64)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return uint64(n) ^ (1 << 63), err
}

// KeyValue is the key value of a KeyPoint.
func KeyValue(p uint64, unsigned bool) event.Value {
	if unsigned {
		return event.Value(strconv.FormatUint(p, 10))
	}
	return event.Value(strconv.FormatInt(int64(p^(1<<63)), 10))
}

// CountEstimate returns the server's row estimate of a table.
func CountEstimate(conn *client.Conn, t *event.Table) int64 {
	res, err := conn.Execute("SELECT IFNULL(TABLE_ROWS,0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + QuoteString(t.Database) + " AND TABLE_NAME = " + QuoteString(t.Name))
	if err != nil {
		return 0
	}
	defer res.Close()
	if res.RowNumber() == 0 {
		return 0
	}
	s := cell(res, 0, 0)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// BeginSnapshot starts a consistent-snapshot transaction and returns the binlog position it
// corresponds to, without any lock: MariaDB reports it in binlog_snapshot_file/position. ok is
// false when the server cannot say (MySQL): the transaction is then still open, but the caller
// has no position for it.
func BeginSnapshot(conn *client.Conn) (pos event.Position, ok bool, err error) {
	if _, err := conn.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
		return pos, false, fmt.Errorf("start a consistent snapshot: %w", err)
	}
	res, err := conn.Execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return pos, false, nil
	}
	defer res.Close()
	for i := 0; i < res.RowNumber(); i++ {
		switch cell(res, i, 0) {
		case "Binlog_snapshot_file":
			pos.File = cell(res, i, 1)
		case "Binlog_snapshot_position":
			pos.Offset, _ = strconv.ParseUint(cell(res, i, 1), 10, 64)
		}
	}
	return pos, pos.File != "", nil
}

// ExactKeyOrder reports whether CompareKey orders the key exactly as the server's index does:
// true when no key column is a character string, whose collation (accents, case, _bin or _cs
// variants) CompareKey only approximates.
func ExactKeyOrder(t *event.Table, key []int) bool {
	for _, c := range key {
		switch t.Columns[c].DataType {
		case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
			return false
		}
	}
	return true
}

// CompareKey orders two key values of a table the way the key's index does: numbers
// numerically, temporal values by time, binary strings byte by byte, character strings
// case-insensitively with trailing spaces ignored (the *_ci PAD SPACE collations every default
// MySQL and MariaDB collation is).
func CompareKey(t *event.Table, key []int, a, b []event.Value) int {
	for i, c := range key {
		col := &t.Columns[c]
		var x, y val
		if isNumericType(col.DataType) {
			x.num, _ = parseNum(a[i])
			y.num, _ = parseNum(b[i])
		} else {
			x.str, y.str = a[i], b[i]
		}
		x.col, y.col = col, col
		if r := compare(x, y); r != 0 {
			return r
		}
	}
	return 0
}
