package mysql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"

	"tributary/engine/event"
)

// DDL statements read from the binlog are handled in two steps:
//
//  1. ClassifyDDL names the operation (the DDL kinds of task.DDLOps plus "create database",
//     "drop database" and "other") and the objects it touches, from the statement's leading
//     keywords. It understands every statement MySQL and MariaDB write, including those the
//     TiDB parser rejects (triggers, functions, CREATE OR REPLACE, ALTER VIEW, spatial types).
//  2. The schema history applies table statements to its table definitions using the TiDB
//     parser's AST (applyDDL). A statement that changes a table in a way the AST cannot tell
//     (a parse failure, CREATE TABLE … SELECT, CONVERT TO CHARACTER SET…) marks the table
//     stale: its schema is then reloaded from the catalog when its next row event arrives.

// DDLInfo is what a DDL statement is and which objects it names.
type DDLInfo struct {
	// Kind is the normalised operation: "create table", "alter table", "drop table",
	// "rename table", "truncate table", "create view", "alter view", "drop view",
	// "create procedure", "alter procedure", "drop procedure", "create function",
	// "drop function", "create trigger", "drop trigger", "create index", "drop index",
	// "create database", "drop database", or "other".
	Kind string
	// Database and Object name the statement's object (the first one for lists); Object is
	// empty for database statements.
	Database string
	Object   string
	// Tables are the tables the statement changes or names (for the selection of DDL events
	// and for the schema history); for RENAME both the old and the new names.
	Tables []Ref
	// Renames are the (from, to) pairs of RENAME TABLE.
	Renames [][2]Ref
	// DML is true for a statement-based INSERT/UPDATE/DELETE/REPLACE/LOAD DATA (binlog_format
	// is not ROW for it); TxnControl for BEGIN/COMMIT/ROLLBACK/SAVEPOINT/XA.
	DML        bool
	TxnControl bool
	// Account is true for account and privilege statements (GRANT, REVOKE, CREATE/ALTER/DROP
	// USER or ROLE, SET PASSWORD…): they may hold password hashes and are never forwarded.
	Account bool
}

// ddlToken is one token of an SQL statement.
type ddlToken struct {
	text       string // the word upper-cased, or the unquoted name, or the punctuation
	raw        string
	start, end int
	quoted     bool // `name`, 'string' or "string"
	word       bool // a bare word
}

type ddlLexer struct {
	s string
	i int
}

func (l *ddlLexer) next() (ddlToken, bool) {
	s := l.s
	for l.i < len(s) {
		c := s[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.i++
		case c == '/' && l.i+2 < len(s) && s[l.i+1] == '*' && (s[l.i+2] == '!' || (s[l.i+2] == 'M' && l.i+3 < len(s) && s[l.i+3] == '!')):
			// Executable comment: its content is code.
			l.i += 3
			if s[l.i-1] == 'M' {
				l.i++
			}
			for l.i < len(s) && s[l.i] >= '0' && s[l.i] <= '9' {
				l.i++
			}
		case c == '/' && l.i+1 < len(s) && s[l.i+1] == '*':
			end := strings.Index(s[l.i+2:], "*/")
			if end < 0 {
				l.i = len(s)
			} else {
				l.i += 2 + end + 2
			}
		case c == '*' && l.i+1 < len(s) && s[l.i+1] == '/': // end of an executable comment
			l.i += 2
		case c == '#' || (c == '-' && l.i+2 < len(s) && s[l.i+1] == '-' && (s[l.i+2] == ' ' || s[l.i+2] == '\t')):
			end := strings.IndexByte(s[l.i:], '\n')
			if end < 0 {
				l.i = len(s)
			} else {
				l.i += end + 1
			}
		case c == '`' || c == '\'' || c == '"':
			start := l.i
			var b strings.Builder
			l.i++
			for l.i < len(s) {
				if s[l.i] == c {
					if l.i+1 < len(s) && s[l.i+1] == c {
						b.WriteByte(c)
						l.i += 2
						continue
					}
					l.i++
					break
				}
				if s[l.i] == '\\' && c != '`' && l.i+1 < len(s) {
					l.i++
				}
				b.WriteByte(s[l.i])
				l.i++
			}
			return ddlToken{text: b.String(), raw: s[start:l.i], start: start, end: l.i, quoted: true}, true
		case isWordByte(c):
			start := l.i
			for l.i < len(s) && isWordByte(s[l.i]) {
				l.i++
			}
			w := s[start:l.i]
			return ddlToken{text: strings.ToUpper(w), raw: w, start: start, end: l.i, word: true}, true
		default:
			l.i++
			return ddlToken{text: string(c), raw: string(c), start: l.i - 1, end: l.i}, true
		}
	}
	return ddlToken{}, false
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

// name returns the identifier of a name token (a bare word keeps its spelling).
func (t ddlToken) name() string {
	if t.quoted {
		return t.text
	}
	return t.raw
}

// ClassifyDDL names the operation of a statement from a query event and the objects it
// touches. defaultDB is the event's current database.
func ClassifyDDL(sql, defaultDB string) DDLInfo {
	l := &ddlLexer{s: sql}
	info := DDLInfo{Kind: "other", Database: defaultDB}
	first, ok := l.next()
	if !ok {
		return info
	}
	peek := func() ddlToken {
		save := l.i
		t, _ := l.next()
		l.i = save
		return t
	}
	// qualified reads [db.]name.
	qualified := func() (Ref, bool) {
		t, ok := l.next()
		if !ok || (!t.word && !t.quoted) {
			return Ref{}, false
		}
		r := Ref{Database: defaultDB, Table: t.name()}
		if p := peek(); p.text == "." {
			l.next()
			t2, ok := l.next()
			if !ok {
				return Ref{}, false
			}
			r = Ref{Database: t.name(), Table: t2.name()}
		}
		return r, true
	}
	skipIfExists := func() {
		if p := peek(); p.word && p.text == "IF" {
			l.next()
			if p := peek(); p.word && p.text == "NOT" {
				l.next()
			}
			if p := peek(); p.word && p.text == "EXISTS" {
				l.next()
			}
		}
	}
	switch first.text {
	case "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA", "START":
		info.TxnControl = true
		return info
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD":
		info.DML = true
		return info
	case "GRANT", "REVOKE", "SET":
		info.Account = true
		return info
	case "TRUNCATE":
		if p := peek(); p.word && p.text == "TABLE" {
			l.next()
		}
		if r, ok := qualified(); ok {
			info.Kind = "truncate table"
			info.Database, info.Object = r.Database, r.Table
			info.Tables = []Ref{r}
		}
		return info
	case "RENAME":
		t, _ := l.next()
		if t.text == "USER" {
			info.Account = true
		}
		if t.text != "TABLE" && t.text != "TABLES" {
			return info
		}
		info.Kind = "rename table"
		for {
			from, ok := qualified()
			if !ok {
				break
			}
			if t, _ := l.next(); t.text != "TO" {
				break
			}
			to, ok := qualified()
			if !ok {
				break
			}
			if len(info.Renames) == 0 {
				info.Database, info.Object = from.Database, from.Table
			}
			info.Renames = append(info.Renames, [2]Ref{from, to})
			info.Tables = append(info.Tables, from, to)
			if p := peek(); p.text != "," {
				break
			}
			l.next()
		}
		return info
	case "CREATE", "ALTER", "DROP":
	default:
		return info
	}
	verb := strings.ToLower(first.text)
	var object string
	for object == "" {
		t, ok := l.next()
		if !ok || !t.word {
			return info
		}
		switch t.text {
		case "OR": // OR REPLACE
			l.next()
		case "DEFINER":
			if p := peek(); p.text == "=" {
				l.next()
			}
			u, _ := l.next()
			if u.text == "CURRENT_USER" {
				if p := peek(); p.text == "(" {
					l.next()
					l.next()
				}
				continue
			}
			if p := peek(); p.text == "@" {
				l.next()
				l.next()
			} else if strings.HasPrefix(peek().raw, "@") {
				l.next()
			}
		case "ALGORITHM", "LOCK":
			if p := peek(); p.text == "=" {
				l.next()
			}
			l.next()
		case "SQL": // SQL SECURITY {DEFINER | INVOKER}
			l.next()
			l.next()
		case "TEMPORARY", "ONLINE", "OFFLINE", "IGNORE", "AGGREGATE", "UNIQUE", "FULLTEXT", "SPATIAL", "NONBLOCKING", "DEFAULT":
		case "SCHEMA":
			object = "DATABASE"
		default:
			object = t.text
		}
	}
	switch object {
	case "USER", "ROLE":
		info.Account = true
	case "TABLE":
		info.Kind = verb + " table"
		skipIfExists()
		for {
			r, ok := qualified()
			if !ok {
				break
			}
			if len(info.Tables) == 0 {
				info.Database, info.Object = r.Database, r.Table
			}
			info.Tables = append(info.Tables, r)
			if verb != "drop" || peek().text != "," {
				break
			}
			l.next()
		}
	case "VIEW", "PROCEDURE", "FUNCTION":
		kind := verb + " " + strings.ToLower(object)
		if kind == "alter function" {
			kind = "other"
		}
		info.Kind = kind
		skipIfExists()
		if r, ok := qualified(); ok {
			info.Database, info.Object = r.Database, r.Table
		}
	case "TRIGGER":
		if verb == "alter" {
			return info
		}
		info.Kind = verb + " trigger"
		skipIfExists()
		if r, ok := qualified(); ok {
			info.Database, info.Object = r.Database, r.Table
		}
		if verb == "create" {
			for {
				t, ok := l.next()
				if !ok {
					break
				}
				if t.word && t.text == "ON" {
					if r, ok := qualified(); ok {
						info.Tables = []Ref{r}
					}
					break
				}
			}
		}
	case "INDEX", "KEY":
		if verb == "alter" {
			return info
		}
		info.Kind = verb + " index"
		skipIfExists()
		l.next() // the index name
		for {
			t, ok := l.next()
			if !ok {
				break
			}
			if t.word && t.text == "ON" {
				if r, ok := qualified(); ok {
					info.Database, info.Object = r.Database, r.Table
					info.Tables = []Ref{r}
				}
				break
			}
		}
	case "DATABASE":
		if verb == "alter" {
			info.Kind = "other"
		} else {
			info.Kind = verb + " database"
		}
		skipIfExists()
		if t, ok := l.next(); ok && (t.word || t.quoted) && !(t.word && (t.text == "CHARACTER" || t.text == "CHARSET" || t.text == "COLLATE" || t.text == "DEFAULT")) {
			info.Database = t.name()
		}
	}
	return info
}

// geometryTypes are the spatial column types the TiDB parser does not know. A CREATE or ALTER
// TABLE that uses them is parsed with each replaced by a VARBINARY marker of an impossible
// length (geometryMarker + index), mapped back afterwards.
var geometryTypes = []string{"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
	"multipolygon", "geometrycollection", "geomcollection"}

const geometryMarker = 1 << 24

// parseDDLStmt parses one DDL statement with the TiDB parser, retrying with MariaDB's
// CREATE OR REPLACE TABLE reduced to CREATE TABLE (orReplace is then true) and with spatial
// types replaced by markers.
func parseDDLStmt(p *parser.Parser, sql string) (stmt ast.StmtNode, orReplace bool, err error) {
	try := func(q string) (ast.StmtNode, error) {
		stmts, _, err := p.Parse(q, "", "")
		if err != nil {
			return nil, err
		}
		if len(stmts) != 1 {
			return nil, fmt.Errorf("%d statements in one query event", len(stmts))
		}
		return stmts[0], nil
	}
	stmt, err = try(sql)
	if err == nil {
		return stmt, false, nil
	}
	q := sql
	l := &ddlLexer{s: q}
	if t, ok := l.next(); ok && t.text == "CREATE" {
		if t2, ok := l.next(); ok && t2.text == "OR" {
			if t3, ok := l.next(); ok && t3.text == "REPLACE" {
				q = q[:t2.start] + q[t3.end:]
				orReplace = true
			}
		}
	}
	q = replaceGeometry(q)
	if q == sql {
		return nil, false, err
	}
	stmt, err2 := try(q)
	if err2 != nil {
		return nil, false, err
	}
	return stmt, orReplace, nil
}

// replaceGeometry replaces spatial type names that follow a column name with VARBINARY markers.
func replaceGeometry(q string) string {
	l := &ddlLexer{s: q}
	var b strings.Builder
	last := 0
	var prev ddlToken
	for {
		t, ok := l.next()
		if !ok {
			break
		}
		if t.word && (prev.word || prev.quoted) {
			for i, g := range geometryTypes {
				if strings.EqualFold(t.raw, g) {
					b.WriteString(q[last:t.start])
					b.WriteString("VARBINARY(" + strconv.Itoa(geometryMarker+i) + ")")
					last = t.end
					break
				}
			}
		}
		prev = t
	}
	if last == 0 {
		return q
	}
	b.WriteString(q[last:])
	return b.String()
}

// tableDef is the working form of a table while a DDL statement is applied to it: keys by
// column name, so that column moves and renames keep them right.
type tableDef struct {
	cols    []event.Column
	pk      []string
	uniques []uniqueDef
	charset string // the table's default character set
}

type uniqueDef struct {
	name string
	cols []string
}

func defFromTable(t *event.Table, charset string) *tableDef {
	d := &tableDef{cols: append([]event.Column(nil), t.Columns...), charset: charset}
	for i := range d.cols {
		d.cols[i].Elements = append([]string(nil), d.cols[i].Elements...)
	}
	for _, c := range t.PrimaryKey {
		d.pk = append(d.pk, t.Columns[c].Name)
	}
	for _, k := range t.UniqueKeys {
		u := uniqueDef{name: k.Name}
		for _, c := range k.Columns {
			u.cols = append(u.cols, t.Columns[c].Name)
		}
		d.uniques = append(d.uniques, u)
	}
	return d
}

func (d *tableDef) index(name string) int {
	for i := range d.cols {
		if strings.EqualFold(d.cols[i].Name, name) {
			return i
		}
	}
	return -1
}

// table builds the event.Table, with keys as LoadTables reports them.
func (d *tableDef) table(db, name string) *event.Table {
	t := &event.Table{Database: db, Name: name, Columns: append([]event.Column(nil), d.cols...)}
	for i := range t.Columns {
		t.Columns[i].InPrimaryKey = false
	}
	for _, n := range d.pk {
		if i := d.index(n); i >= 0 {
			t.PrimaryKey = append(t.PrimaryKey, i)
			t.Columns[i].InPrimaryKey = true
			t.Columns[i].Nullable = false
		}
	}
	us := append([]uniqueDef(nil), d.uniques...)
	sort.SliceStable(us, func(i, j int) bool { return strings.ToLower(us[i].name) < strings.ToLower(us[j].name) })
	for _, u := range us {
		k := event.Key{Name: u.name, NotNull: true}
		for _, n := range u.cols {
			if i := d.index(n); i >= 0 {
				k.Columns = append(k.Columns, i)
				if t.Columns[i].Nullable {
					k.NotNull = false
				}
			}
		}
		if len(k.Columns) > 0 {
			t.UniqueKeys = append(t.UniqueKeys, k)
		}
	}
	return t
}

func (d *tableDef) addUnique(name string, cols []string) {
	if len(cols) == 0 {
		return
	}
	if name == "" {
		// MySQL names an unnamed key after its first column, then _2, _3… on clashes.
		name = cols[0]
		for n := 2; d.hasUnique(name) || strings.EqualFold(name, "PRIMARY"); n++ {
			name = cols[0] + "_" + strconv.Itoa(n)
		}
	}
	d.uniques = append(d.uniques, uniqueDef{name: name, cols: cols})
}

func (d *tableDef) hasUnique(name string) bool {
	for _, u := range d.uniques {
		if strings.EqualFold(u.name, name) {
			return true
		}
	}
	return false
}

// dropColumn removes a column and its key parts (a key left with no column is dropped).
func (d *tableDef) dropColumn(i int) {
	name := d.cols[i].Name
	d.cols = append(d.cols[:i], d.cols[i+1:]...)
	d.pk = removeName(d.pk, name)
	out := d.uniques[:0]
	for _, u := range d.uniques {
		u.cols = removeName(u.cols, name)
		if len(u.cols) > 0 {
			out = append(out, u)
		}
	}
	d.uniques = out
}

func (d *tableDef) renameColumn(old, name string) {
	for i, n := range d.pk {
		if strings.EqualFold(n, old) {
			d.pk[i] = name
		}
	}
	for _, u := range d.uniques {
		for i, n := range u.cols {
			if strings.EqualFold(n, old) {
				u.cols[i] = name
			}
		}
	}
}

func removeName(names []string, name string) []string {
	out := names[:0]
	for _, n := range names {
		if !strings.EqualFold(n, name) {
			out = append(out, n)
		}
	}
	return out
}

// errStale says that a statement changed a table in a way the history cannot compute.
type errStale struct{ why string }

func (e *errStale) Error() string { return e.why }

func stale(format string, args ...any) error { return &errStale{fmt.Sprintf(format, args...)} }

// columnEnv is what a column definition needs beyond itself.
type columnEnv struct {
	flavor  string
	charset string // the table's default character set
}

// keyOpts are the key options of one column definition.
type keyOpts struct {
	primary, unique, notNull, null bool
	collate                        string
}

// columnFromDef renders a parsed column definition as LoadTables would report the column.
func columnFromDef(def *ast.ColumnDef, env columnEnv) (event.Column, keyOpts, error) {
	var ko keyOpts
	for _, o := range def.Options {
		switch o.Tp {
		case ast.ColumnOptionPrimaryKey:
			ko.primary = true
		case ast.ColumnOptionUniqKey:
			ko.unique = true
		case ast.ColumnOptionNotNull:
			ko.notNull, ko.null = true, false
		case ast.ColumnOptionNull:
			ko.null, ko.notNull = true, false
		case ast.ColumnOptionCollate:
			ko.collate = o.StrValue
		}
	}
	ft := def.Tp
	c := event.Column{Name: def.Name.Name.O, Nullable: true}
	if ft == nil {
		return c, ko, stale("column %s has no type", c.Name)
	}
	flag := ft.GetFlag()
	if flag&pmysql.NotNullFlag != 0 { // SERIAL
		ko.notNull = true
	}
	if flag&pmysql.UniqueKeyFlag != 0 {
		ko.unique = true
	}
	c.Unsigned = flag&pmysql.UnsignedFlag != 0 || flag&pmysql.ZerofillFlag != 0
	zerofill := flag&pmysql.ZerofillFlag != 0
	mariadb := env.flavor == "mariadb"
	flen, dec := ft.GetFlen(), ft.GetDecimal()
	suffix := func(s string) string {
		if c.Unsigned {
			s += " unsigned"
		}
		if zerofill {
			s += " zerofill"
		}
		return s
	}
	charset := func() string {
		cs := ft.GetCharset()
		if cs == "" && ft.GetCollate() != "" {
			cs = collationCharset(ft.GetCollate())
		}
		if cs == "" && ko.collate != "" {
			cs = collationCharset(ko.collate)
		}
		if cs == "" {
			cs = env.charset
		}
		return normCharset(cs)
	}
	tp := ft.GetType()
	switch tp {
	case pmysql.TypeTiny, pmysql.TypeShort, pmysql.TypeInt24, pmysql.TypeLong, pmysql.TypeLonglong:
		names := map[byte]string{pmysql.TypeTiny: "tinyint", pmysql.TypeShort: "smallint", pmysql.TypeInt24: "mediumint",
			pmysql.TypeLong: "int", pmysql.TypeLonglong: "bigint"}
		precision := map[byte]int{pmysql.TypeTiny: 3, pmysql.TypeShort: 5, pmysql.TypeInt24: 7, pmysql.TypeLong: 10, pmysql.TypeLonglong: 19}
		width := map[byte]int{pmysql.TypeTiny: 4, pmysql.TypeShort: 6, pmysql.TypeInt24: 9, pmysql.TypeLong: 11, pmysql.TypeLonglong: 20}
		c.DataType = names[tp]
		c.Precision = precision[tp]
		if c.Unsigned && (tp == pmysql.TypeLonglong || tp == pmysql.TypeInt24) {
			c.Precision++ // as information_schema says: 20 and 8
		}
		w := flen
		if w <= 0 {
			w = width[tp]
			if c.Unsigned && tp != pmysql.TypeLonglong {
				w--
			}
		}
		if mariadb || zerofill || (tp == pmysql.TypeTiny && flen == 1) {
			c.ColumnType = suffix(c.DataType + "(" + strconv.Itoa(w) + ")")
		} else {
			c.ColumnType = suffix(c.DataType)
		}
	case pmysql.TypeNewDecimal:
		c.DataType = "decimal"
		c.Precision, c.Scale = flen, dec
		if c.Precision <= 0 {
			c.Precision = 10
		}
		if c.Scale < 0 {
			c.Scale = 0
		}
		c.ColumnType = suffix(fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale))
	case pmysql.TypeFloat, pmysql.TypeDouble:
		c.DataType, c.Precision = "float", 12
		if tp == pmysql.TypeDouble || (dec < 0 && flen > 24) {
			c.DataType, c.Precision = "double", 22
		}
		c.ColumnType = c.DataType
		if dec >= 0 && flen > 0 {
			c.Precision = flen
			c.ColumnType = fmt.Sprintf("%s(%d,%d)", c.DataType, flen, dec)
		}
		c.ColumnType = suffix(c.ColumnType)
	case pmysql.TypeBit:
		c.DataType = "bit"
		c.Precision = flen
		if c.Precision <= 0 {
			c.Precision = 1
		}
		c.ColumnType = "bit(" + strconv.Itoa(c.Precision) + ")"
	case pmysql.TypeDate:
		c.DataType, c.ColumnType = "date", "date"
	case pmysql.TypeDuration, pmysql.TypeDatetime, pmysql.TypeTimestamp:
		c.DataType = map[byte]string{pmysql.TypeDuration: "time", pmysql.TypeDatetime: "datetime", pmysql.TypeTimestamp: "timestamp"}[tp]
		c.ColumnType = c.DataType
		if dec > 0 {
			c.Scale = dec
			c.ColumnType += "(" + strconv.Itoa(dec) + ")"
		}
	case pmysql.TypeYear:
		c.DataType, c.ColumnType = "year", "year"
		if mariadb {
			c.ColumnType = "year(4)"
		}
	case pmysql.TypeString, pmysql.TypeVarchar, pmysql.TypeVarString:
		n := flen
		if n < 0 {
			n = 1
		}
		if tp == pmysql.TypeVarchar && n >= geometryMarker && n < geometryMarker+len(geometryTypes) {
			c.DataType = geometryTypes[n-geometryMarker]
			c.ColumnType = c.DataType
			break
		}
		cs := charset()
		c.Precision = n
		if cs == "binary" {
			c.DataType = map[bool]string{true: "binary", false: "varbinary"}[tp == pmysql.TypeString]
		} else {
			c.DataType = map[bool]string{true: "char", false: "varchar"}[tp == pmysql.TypeString]
			c.Charset = cs
		}
		c.ColumnType = c.DataType + "(" + strconv.Itoa(n) + ")"
	case pmysql.TypeTinyBlob, pmysql.TypeBlob, pmysql.TypeMediumBlob, pmysql.TypeLongBlob:
		cs := charset()
		size := map[byte]string{pmysql.TypeTinyBlob: "tiny", pmysql.TypeBlob: "", pmysql.TypeMediumBlob: "medium", pmysql.TypeLongBlob: "long"}[tp]
		if tp == pmysql.TypeBlob && flen > 0 { // TEXT(n) / BLOB(n): the smallest type that holds n
			bytes := flen * charsetMaxLen(cs)
			switch {
			case bytes < 1<<8:
				size = "tiny"
			case bytes < 1<<16:
				size = ""
			case bytes < 1<<24:
				size = "medium"
			default:
				size = "long"
			}
		}
		if cs == "binary" {
			c.DataType = size + "blob"
		} else {
			c.DataType = size + "text"
			c.Charset = cs
		}
		c.ColumnType = c.DataType
	case pmysql.TypeEnum, pmysql.TypeSet:
		c.DataType = map[bool]string{true: "enum", false: "set"}[tp == pmysql.TypeEnum]
		c.Elements = append([]string(nil), ft.GetElems()...)
		c.Charset = charset()
		q := make([]string, len(c.Elements))
		for i, e := range c.Elements {
			q[i] = "'" + strings.ReplaceAll(e, "'", "''") + "'"
		}
		c.ColumnType = c.DataType + "(" + strings.Join(q, ",") + ")"
	case pmysql.TypeJSON:
		c.DataType = "json"
		if mariadb {
			c.ColumnType = "longtext"
			c.Charset = "utf8mb4"
		} else {
			c.ColumnType = "json"
		}
	default:
		return c, ko, stale("column %s has a type this reader cannot map (%s)", c.Name, ft.String())
	}
	if ko.notNull || ko.primary {
		c.Nullable = false
	}
	return c, ko, nil
}

// collationCharset is the character set of a collation (utf8mb4_general_ci → utf8mb4).
func collationCharset(collation string) string {
	collation = strings.ToLower(collation)
	if collation == "binary" {
		return "binary"
	}
	if i := strings.IndexByte(collation, '_'); i > 0 {
		return collation[:i]
	}
	return collation
}

// normCharset spells a character set as the catalog does (utf8 is utf8mb3).
func normCharset(cs string) string {
	cs = strings.ToLower(cs)
	if cs == "utf8" {
		return "utf8mb3"
	}
	return cs
}

func charsetMaxLen(cs string) int {
	switch cs {
	case "utf8mb4", "utf16", "utf16le", "utf32":
		return 4
	case "utf8mb3", "utf8", "ujis", "eucjpms":
		return 3
	case "ucs2", "gbk", "gb2312", "big5", "sjis", "cp932", "euckr":
		return 2
	}
	return 1
}

// tableCharset reads CHARACTER SET / COLLATE table options (CONVERT TO excluded).
func tableCharset(opts []*ast.TableOption) (cs string, convert bool) {
	for _, o := range opts {
		switch o.Tp {
		case ast.TableOptionCharset:
			if o.UintValue == ast.TableOptionCharsetWithConvertTo {
				convert = true
			}
			cs = normCharset(o.StrValue)
		case ast.TableOptionCollate:
			if cs == "" {
				cs = normCharset(collationCharset(o.StrValue))
			}
		}
	}
	return cs, convert
}

func keyColumns(parts []*ast.IndexPartSpecification) ([]string, bool) {
	var out []string
	for _, p := range parts {
		if p.Column == nil || p.Expr != nil {
			return nil, false
		}
		out = append(out, p.Column.Name.O)
	}
	return out, true
}

func isUniqueConstraint(tp ast.ConstraintType) bool {
	return tp == ast.ConstraintUniq || tp == ast.ConstraintUniqKey || tp == ast.ConstraintUniqIndex
}

// createTableDef builds a table definition from CREATE TABLE.
func createTableDef(s *ast.CreateTableStmt, flavor, dbCharset string) (*tableDef, error) {
	cs, _ := tableCharset(s.Options)
	if cs == "" {
		cs = dbCharset
	}
	d := &tableDef{charset: cs}
	env := columnEnv{flavor: flavor, charset: cs}
	var uniqueCols []string
	for _, def := range s.Cols {
		c, ko, err := columnFromDef(def, env)
		if err != nil {
			return nil, err
		}
		d.cols = append(d.cols, c)
		if ko.primary {
			d.pk = []string{c.Name}
		}
		if ko.unique {
			uniqueCols = append(uniqueCols, c.Name)
		}
	}
	for _, n := range uniqueCols {
		d.addUnique("", []string{n})
	}
	for _, con := range s.Constraints {
		if err := d.addConstraint(con); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *tableDef) addConstraint(con *ast.Constraint) error {
	switch {
	case con.Tp == ast.ConstraintPrimaryKey:
		cols, ok := keyColumns(con.Keys)
		if !ok {
			return stale("the primary key has an expression part")
		}
		d.pk = cols
		for _, n := range cols {
			if i := d.index(n); i >= 0 {
				d.cols[i].Nullable = false
			}
		}
	case isUniqueConstraint(con.Tp):
		cols, ok := keyColumns(con.Keys)
		if !ok {
			return nil // a functional unique index identifies no columns
		}
		if con.IfNotExists && con.Name != "" && d.hasUnique(con.Name) {
			return nil
		}
		d.addUnique(con.Name, cols)
	}
	return nil
}

// place moves column i to the position an ALTER asked for (FIRST, AFTER x; none = stay).
func (d *tableDef) place(i int, pos *ast.ColumnPosition) error {
	if pos == nil || pos.Tp == ast.ColumnPositionNone {
		return nil
	}
	c := d.cols[i]
	d.cols = append(d.cols[:i], d.cols[i+1:]...)
	at := 0
	if pos.Tp == ast.ColumnPositionAfter {
		j := d.index(pos.RelativeColumn.Name.O)
		if j < 0 {
			return stale("AFTER names the unknown column %s", pos.RelativeColumn.Name.O)
		}
		at = j + 1
	}
	d.cols = append(d.cols, event.Column{})
	copy(d.cols[at+1:], d.cols[at:])
	d.cols[at] = c
	return nil
}

// alterTableDef applies the specifications of ALTER TABLE in order. It returns the new name
// when the table is renamed.
func alterTableDef(d *tableDef, s *ast.AlterTableStmt, flavor string) (rename *ast.TableName, err error) {
	for _, spec := range s.Specs {
		env := columnEnv{flavor: flavor, charset: d.charset}
		switch spec.Tp {
		case ast.AlterTableOption:
			cs, convert := tableCharset(spec.Options)
			if convert {
				return nil, stale("CONVERT TO CHARACTER SET changes column types")
			}
			if cs != "" {
				d.charset = cs
			}
		case ast.AlterTableAddColumns:
			for i, def := range spec.NewColumns {
				if d.index(def.Name.Name.O) >= 0 {
					if spec.IfNotExists {
						continue
					}
					return nil, stale("ADD COLUMN %s: the column exists", def.Name.Name.O)
				}
				c, ko, err := columnFromDef(def, env)
				if err != nil {
					return nil, err
				}
				d.cols = append(d.cols, c)
				if i == 0 && len(spec.NewColumns) == 1 {
					if err := d.place(len(d.cols)-1, spec.Position); err != nil {
						return nil, err
					}
				}
				if ko.primary {
					d.pk = []string{c.Name}
				}
				if ko.unique {
					d.addUnique("", []string{c.Name})
				}
			}
			for _, con := range spec.NewConstraints {
				if err := d.addConstraint(con); err != nil {
					return nil, err
				}
			}
		case ast.AlterTableAddConstraint:
			if spec.Constraint != nil {
				if err := d.addConstraint(spec.Constraint); err != nil {
					return nil, err
				}
			}
		case ast.AlterTableDropColumn:
			i := d.index(spec.OldColumnName.Name.O)
			if i < 0 {
				if spec.IfExists {
					continue
				}
				return nil, stale("DROP COLUMN %s: no such column", spec.OldColumnName.Name.O)
			}
			d.dropColumn(i)
		case ast.AlterTableDropPrimaryKey:
			d.pk = nil
		case ast.AlterTableDropIndex:
			out := d.uniques[:0]
			for _, u := range d.uniques {
				if !strings.EqualFold(u.name, spec.Name) {
					out = append(out, u)
				}
			}
			d.uniques = out
			if strings.EqualFold(spec.Name, "PRIMARY") {
				d.pk = nil
			}
		case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
			if len(spec.NewColumns) != 1 {
				return nil, stale("MODIFY/CHANGE with %d columns", len(spec.NewColumns))
			}
			old := spec.NewColumns[0].Name.Name.O
			if spec.Tp == ast.AlterTableChangeColumn {
				old = spec.OldColumnName.Name.O
			}
			i := d.index(old)
			if i < 0 {
				if spec.IfExists {
					continue
				}
				return nil, stale("MODIFY/CHANGE %s: no such column", old)
			}
			c, ko, err := columnFromDef(spec.NewColumns[0], env)
			if err != nil {
				return nil, err
			}
			d.renameColumn(d.cols[i].Name, c.Name)
			d.cols[i] = c
			if ko.primary {
				d.pk = []string{c.Name}
			}
			if ko.unique {
				d.addUnique("", []string{c.Name})
			}
			if err := d.place(i, spec.Position); err != nil {
				return nil, err
			}
		case ast.AlterTableRenameColumn:
			i := d.index(spec.OldColumnName.Name.O)
			if i < 0 {
				return nil, stale("RENAME COLUMN %s: no such column", spec.OldColumnName.Name.O)
			}
			d.renameColumn(d.cols[i].Name, spec.NewColumnName.Name.O)
			d.cols[i].Name = spec.NewColumnName.Name.O
		case ast.AlterTableRenameTable:
			rename = spec.NewTable
		case ast.AlterTableRenameIndex:
			for i := range d.uniques {
				if strings.EqualFold(d.uniques[i].name, spec.FromKey.O) {
					d.uniques[i].name = spec.ToKey.O
				}
			}
		case ast.AlterTableAlterColumn, ast.AlterTableLock, ast.AlterTableAlgorithm, ast.AlterTableForce,
			ast.AlterTableDropForeignKey, ast.AlterTableEnableKeys, ast.AlterTableDisableKeys,
			ast.AlterTableAlterCheck, ast.AlterTableDropCheck, ast.AlterTableIndexInvisible,
			ast.AlterTableOrderByColumns, ast.AlterTableWithValidation, ast.AlterTableWithoutValidation,
			ast.AlterTableAddPartitions, ast.AlterTableCoalescePartitions, ast.AlterTableDropPartition,
			ast.AlterTableTruncatePartition, ast.AlterTablePartition, ast.AlterTableRemovePartitioning,
			ast.AlterTableRebuildPartition, ast.AlterTableReorganizePartition, ast.AlterTableCheckPartitions,
			ast.AlterTableExchangePartition, ast.AlterTableOptimizePartition, ast.AlterTableRepairPartition,
			ast.AlterTableImportPartitionTablespace, ast.AlterTableDiscardPartitionTablespace,
			ast.AlterTableImportTablespace, ast.AlterTableDiscardTablespace, ast.AlterTablePartitionOptions,
			ast.AlterTablePartitionAttributes:
			// No change to the columns or unique keys.
		default:
			return nil, stale("ALTER TABLE specification %d is not understood", spec.Tp)
		}
	}
	return rename, nil
}
