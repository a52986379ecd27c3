package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-mysql-org/go-mysql/client"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/charset"

	"tributary/engine/event"
)

// SchemaHistory is the schema of each tracked table through the binlog: every version keyed
// by the position where it took effect, so that a row event is decoded with the schema its row
// was written with, not today's. It starts from the catalog at the stream's start position
// (SeedSchemaHistory, or Seed with tables the caller read there) and follows the DDL the binlog
// carries (Apply). The pipeline stores it with its checkpoints (Snapshot, LoadSchemaHistory);
// a stream opened at position P first drops the versions after P (Truncate), which it re-reads.
//
// Tables are tracked when the caller selects them, or once they are in the history. A DDL
// statement the history cannot follow (see ddl.go) marks the table stale; the stream then
// reloads it from the catalog, which is only right when the stream is not lagging behind later
// DDL on that table, and cross-checks it against the binlog's table map.
//
// It is safe for concurrent use; the *event.Table values it hands out are never modified.
type SchemaHistory struct {
	mu             sync.Mutex
	flavor         string
	defaultCharset string
	dbCharsets     map[string]string
	tables         map[string]*tableHistory
	parser         *parser.Parser
}

type tableHistory struct {
	Database string          `json:"database"`
	Name     string          `json:"name"`
	Versions []SchemaVersion `json:"versions"`
}

// SchemaVersion is one version of a table.
type SchemaVersion struct {
	// Pos is where this version took effect (the end of its DDL event, or the position the
	// table was first read at).
	Pos   event.Position `json:"pos"`
	Table *event.Table   `json:"table,omitempty"`
	// Charset is the table's default character set (for columns added later).
	Charset string `json:"charset,omitempty"`
	// Dropped: the table does not exist from Pos on. Stale: a DDL at Pos changed it in a way
	// the history cannot compute; Reason says which.
	Dropped bool   `json:"dropped,omitempty"`
	Stale   bool   `json:"stale,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// NewSchemaHistory returns an empty history for a server of the given flavor ("mysql" or
// "mariadb"), which decides how column types are spelled.
func NewSchemaHistory(flavor string) *SchemaHistory {
	return &SchemaHistory{flavor: flavor, dbCharsets: map[string]string{}, tables: map[string]*tableHistory{}}
}

func historyKey(db, table string) string {
	return strings.ToLower(db) + "\x00" + strings.ToLower(table)
}

// SeedSchemaHistory reads the schema of the given tables, the default character sets of the
// server and of every database from the catalog, and records them as the versions at pos. Call
// it when the catalog is at pos (e.g. with pos = CurrentPosition read just before).
func SeedSchemaHistory(ctx context.Context, conn *client.Conn, flavor string, refs []Ref, pos event.Position) (*SchemaHistory, error) {
	h := NewSchemaHistory(flavor)
	if err := h.loadCharsets(conn); err != nil {
		return nil, err
	}
	tables, err := LoadTables(ctx, conn, refs)
	if err != nil {
		return nil, err
	}
	charsets, err := tableCharsets(conn, refs)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range tables {
		h.putLocked(pos, t.Database, t.Name, SchemaVersion{Table: t, Charset: charsets[historyKey(t.Database, t.Name)]})
	}
	return h, nil
}

func (h *SchemaHistory) loadCharsets(conn *client.Conn) error {
	res, err := conn.Execute("SELECT @@character_set_server")
	if err != nil {
		return fmt.Errorf("read the server character set: %w", err)
	}
	cs := cell(res, 0, 0)
	res.Close()
	res, err = conn.Execute("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA")
	if err != nil {
		return fmt.Errorf("read database character sets: %w", err)
	}
	defer res.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.defaultCharset = normCharset(cs)
	for i := 0; i < res.RowNumber(); i++ {
		db := cell(res, i, 0)
		c := cell(res, i, 1)
		h.dbCharsets[strings.ToLower(db)] = normCharset(c)
	}
	return nil
}

// tableCharsets reads the default character set of tables (by historyKey).
func tableCharsets(conn *client.Conn, refs []Ref) (map[string]string, error) {
	out := map[string]string{}
	if len(refs) == 0 {
		return out, nil
	}
	dbs := map[string]bool{}
	var list []string
	for _, r := range refs {
		if !dbs[r.Database] {
			dbs[r.Database] = true
			list = append(list, r.Database)
		}
	}
	res, err := conn.Execute("SELECT TABLE_SCHEMA, TABLE_NAME, IFNULL(TABLE_COLLATION,'') FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (" + inList(list) + ")")
	if err != nil {
		return nil, fmt.Errorf("read table character sets: %w", err)
	}
	defer res.Close()
	for i := 0; i < res.RowNumber(); i++ {
		db := cell(res, i, 0)
		t := cell(res, i, 1)
		co := cell(res, i, 2)
		if co != "" {
			out[historyKey(db, t)] = normCharset(collationCharset(co))
		}
	}
	return out, nil
}

// Seed records tables as their versions at pos (e.g. the result of LoadTables read when the
// catalog was at pos). Columns added later without a character set get the database's default
// when known (SetDatabaseCharset), else the most common one of the table, else utf8mb4.
func (h *SchemaHistory) Seed(pos event.Position, tables map[Ref]*event.Table) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range tables {
		h.putLocked(pos, t.Database, t.Name, SchemaVersion{Table: t, Charset: guessCharset(t)})
	}
}

func guessCharset(t *event.Table) string {
	n := map[string]int{}
	best := ""
	for _, c := range t.Columns {
		if c.Charset == "" || c.DataType == "json" {
			continue
		}
		n[c.Charset]++
		if n[c.Charset] > n[best] {
			best = c.Charset
		}
	}
	return best
}

// SetDefaultCharset sets the server's default character set; SetDatabaseCharset a database's.
func (h *SchemaHistory) SetDefaultCharset(cs string) {
	h.mu.Lock()
	h.defaultCharset = normCharset(cs)
	h.mu.Unlock()
}

// SetDatabaseCharset sets the default character set of a database.
func (h *SchemaHistory) SetDatabaseCharset(db, cs string) {
	h.mu.Lock()
	h.dbCharsets[strings.ToLower(db)] = normCharset(cs)
	h.mu.Unlock()
}

func (h *SchemaHistory) dbCharsetLocked(db string) string {
	if cs := h.dbCharsets[strings.ToLower(db)]; cs != "" {
		return cs
	}
	if h.defaultCharset != "" {
		return h.defaultCharset
	}
	return "utf8mb4"
}

// Put records a version of a table that takes effect at pos (a schema read from the catalog
// or built from full row metadata while streaming).
func (h *SchemaHistory) Put(pos event.Position, t *event.Table, charset string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if charset == "" {
		if v := h.currentLocked(t.Database, t.Name); v != nil && v.Charset != "" {
			charset = v.Charset
		} else if charset = guessCharset(t); charset == "" {
			charset = h.dbCharsetLocked(t.Database)
		}
	}
	h.putLocked(pos, t.Database, t.Name, SchemaVersion{Table: t, Charset: charset})
}

func (h *SchemaHistory) putLocked(pos event.Position, db, name string, v SchemaVersion) {
	v.Pos = pos
	k := historyKey(db, name)
	th := h.tables[k]
	if th == nil {
		th = &tableHistory{Database: db, Name: name}
		h.tables[k] = th
	}
	// Versions stay in position order; a version at the same position replaces the last.
	if n := len(th.Versions); n > 0 && th.Versions[n-1].Pos == pos {
		th.Versions[n-1] = v
		return
	}
	th.Versions = append(th.Versions, v)
}

// comparePos orders two positions by binlog file and offset. Positions without a file (GTID
// only) compare equal to everything.
func comparePos(a, b event.Position) int { return a.Compare(b) }

func (h *SchemaHistory) currentLocked(db, name string) *SchemaVersion {
	th := h.tables[historyKey(db, name)]
	if th == nil || len(th.Versions) == 0 {
		return nil
	}
	return &th.Versions[len(th.Versions)-1]
}

// Current returns the latest version of a table (nil when the table is not tracked).
func (h *SchemaHistory) Current(db, name string) *SchemaVersion {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := h.currentLocked(db, name)
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// At returns the schema of a table in effect at pos, or nil when it did not exist there, is
// not tracked, or was stale.
func (h *SchemaHistory) At(db, name string, pos event.Position) *event.Table {
	h.mu.Lock()
	defer h.mu.Unlock()
	th := h.tables[historyKey(db, name)]
	if th == nil {
		return nil
	}
	var found *SchemaVersion
	for i := range th.Versions {
		if comparePos(th.Versions[i].Pos, pos) <= 0 {
			found = &th.Versions[i]
		}
	}
	if found == nil {
		return nil
	}
	return found.Table
}

// Tables lists the tracked tables that exist in their latest version.
func (h *SchemaHistory) Tables() []Ref {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Ref
	for _, th := range h.tables {
		if v := th.Versions[len(th.Versions)-1]; v.Table != nil && !v.Dropped && !v.Stale {
			out = append(out, Ref{v.Table.Database, v.Table.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Truncate forgets the versions that took effect after pos: a stream that restarts at pos
// re-reads their DDL. Positions without a file are not compared (nothing is dropped).
func (h *SchemaHistory) Truncate(pos event.Position) {
	if pos.File == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, th := range h.tables {
		n := len(th.Versions)
		for n > 0 && th.Versions[n-1].Pos.File != "" && comparePos(th.Versions[n-1].Pos, pos) > 0 {
			n--
		}
		th.Versions = th.Versions[:n]
		if n == 0 {
			delete(h.tables, k)
		}
	}
}

// Prune forgets the versions no position at or after pos can need: for each table every
// version before the one in effect at pos, and tables dropped before pos.
func (h *SchemaHistory) Prune(pos event.Position) {
	if pos.File == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, th := range h.tables {
		keep := 0
		for i := range th.Versions {
			if comparePos(th.Versions[i].Pos, pos) <= 0 {
				keep = i
			}
		}
		th.Versions = th.Versions[keep:]
		if len(th.Versions) == 1 && th.Versions[0].Dropped && comparePos(th.Versions[0].Pos, pos) <= 0 {
			delete(h.tables, k)
		}
	}
}

type historySnapshot struct {
	Version        int               `json:"version"`
	Flavor         string            `json:"flavor"`
	DefaultCharset string            `json:"defaultCharset,omitempty"`
	Databases      map[string]string `json:"databases,omitempty"`
	Tables         []*tableHistory   `json:"tables"`
}

// Snapshot serialises the history (JSON) for storage with a checkpoint.
func (h *SchemaHistory) Snapshot() ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := historySnapshot{Version: 1, Flavor: h.flavor, DefaultCharset: h.defaultCharset, Databases: h.dbCharsets}
	for _, th := range h.tables {
		s.Tables = append(s.Tables, th)
	}
	sort.Slice(s.Tables, func(i, j int) bool {
		return historyKey(s.Tables[i].Database, s.Tables[i].Name) < historyKey(s.Tables[j].Database, s.Tables[j].Name)
	})
	return json.Marshal(&s)
}

// LoadSchemaHistory restores a history saved by Snapshot.
func LoadSchemaHistory(data []byte) (*SchemaHistory, error) {
	var s historySnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read the saved schema history: %w", err)
	}
	if s.Version != 1 {
		return nil, fmt.Errorf("the saved schema history has version %d; this build reads version 1", s.Version)
	}
	h := NewSchemaHistory(s.Flavor)
	h.defaultCharset = s.DefaultCharset
	for db, cs := range s.Databases {
		h.dbCharsets[db] = cs
	}
	for _, th := range s.Tables {
		if len(th.Versions) == 0 {
			continue
		}
		h.tables[historyKey(th.Database, th.Name)] = th
	}
	return h, nil
}

// DDLResult is what applying one DDL statement did.
type DDLResult struct {
	Info DDLInfo
	// Table is the schema after the statement of the first table it names (its new name for a
	// rename), when the history tracks it and knows it.
	Table *event.Table
	// Stale are the tables the history could not follow, with why.
	Stale map[Ref]string
}

// Apply follows one DDL statement of the binlog that took effect at pos (the end of its
// event); defaultDB is the event's current database. track says whether a table not yet in
// the history should be (typically: is it selected?); nil tracks every table.
func (h *SchemaHistory) Apply(pos event.Position, defaultDB, sql string, track func(db, table string) bool) DDLResult {
	info := ClassifyDDL(sql, defaultDB)
	res := DDLResult{Info: info}
	h.mu.Lock()
	defer h.mu.Unlock()
	tracked := func(r Ref) bool {
		if _, ok := h.tables[historyKey(r.Database, r.Table)]; ok {
			return true
		}
		return track == nil || track(r.Database, r.Table)
	}
	markStale := func(r Ref, why string) {
		if !tracked(r) {
			return
		}
		if res.Stale == nil {
			res.Stale = map[Ref]string{}
		}
		res.Stale[r] = why
		cs := ""
		if v := h.currentLocked(r.Database, r.Table); v != nil {
			cs = v.Charset
		}
		h.putLocked(pos, r.Database, r.Table, SchemaVersion{Stale: true, Reason: why, Charset: cs})
	}
	present := func(r Ref) *SchemaVersion {
		v := h.currentLocked(r.Database, r.Table)
		if v == nil || v.Table == nil || v.Dropped || v.Stale {
			return nil
		}
		return v
	}
	switch info.Kind {
	case "truncate table", "create view", "alter view", "drop view", "create procedure", "alter procedure",
		"drop procedure", "create function", "drop function", "create trigger", "drop trigger":
	case "drop table":
		if strings.Contains(strings.ToUpper(sql), "TEMPORARY") {
			if stmt, _, err := parseDDLStmt(h.p(), sql); err == nil {
				if d, ok := stmt.(*ast.DropTableStmt); ok && d.TemporaryKeyword != ast.TemporaryNone {
					break
				}
			}
		}
		for _, r := range info.Tables {
			if _, ok := h.tables[historyKey(r.Database, r.Table)]; ok {
				h.putLocked(pos, r.Database, r.Table, SchemaVersion{Dropped: true})
			}
		}
	case "drop database":
		for _, th := range h.tables {
			if strings.EqualFold(th.Database, info.Database) {
				h.putLocked(pos, th.Database, th.Name, SchemaVersion{Dropped: true})
			}
		}
		delete(h.dbCharsets, strings.ToLower(info.Database))
	case "create database", "other":
		stmt, _, err := parseDDLStmt(h.p(), sql)
		if err != nil {
			break
		}
		var opts []*ast.DatabaseOption
		switch s := stmt.(type) {
		case *ast.CreateDatabaseStmt:
			opts = s.Options
			h.dbCharsets[strings.ToLower(s.Name.O)] = h.defaultCharset
		case *ast.AlterDatabaseStmt:
			opts = s.Options
		default:
			break
		}
		cs := ""
		for _, o := range opts {
			switch o.Tp {
			case ast.DatabaseOptionCharset:
				cs = normCharset(o.Value)
			case ast.DatabaseOptionCollate:
				if cs == "" {
					cs = normCharset(collationCharset(o.Value))
				}
			}
		}
		if cs != "" {
			h.dbCharsets[strings.ToLower(info.Database)] = cs
		}
	case "rename table":
		for _, rn := range info.Renames {
			from, to := rn[0], rn[1]
			v := h.currentLocked(from.Database, from.Table)
			if v == nil {
				if tracked(to) {
					markStale(to, fmt.Sprintf("renamed from %s, which the history does not know", from))
				}
				continue
			}
			nv := SchemaVersion{Charset: v.Charset, Stale: v.Stale, Reason: v.Reason, Dropped: v.Dropped}
			if v.Table != nil {
				t := *v.Table
				t.Database, t.Name = to.Database, to.Table
				nv.Table = &t
			}
			h.putLocked(pos, from.Database, from.Table, SchemaVersion{Dropped: true})
			h.putLocked(pos, to.Database, to.Table, nv)
		}
	case "create table", "alter table", "create index", "drop index":
		if len(info.Tables) == 0 || !tracked(info.Tables[0]) {
			break
		}
		r := info.Tables[0]
		stmt, orReplace, err := parseDDLStmt(h.p(), sql)
		if err != nil {
			markStale(r, "the statement could not be parsed: "+cleanParseError(err))
			break
		}
		switch s := stmt.(type) {
		case *ast.CreateTableStmt:
			if s.TemporaryKeyword != ast.TemporaryNone {
				break
			}
			if s.IfNotExists && !orReplace && present(r) != nil {
				break
			}
			if s.ReferTable != nil {
				src := Ref{s.ReferTable.Schema.O, s.ReferTable.Name.O}
				if src.Database == "" {
					src.Database = defaultDB
				}
				v := present(src)
				if v == nil {
					markStale(r, "CREATE TABLE … LIKE "+src.String()+", which the history does not know")
					break
				}
				d := defFromTable(v.Table, h.charsetOf(v, src.Database))
				h.putLocked(pos, r.Database, r.Table, SchemaVersion{Table: d.table(r.Database, r.Table), Charset: d.charset})
				break
			}
			if s.Select != nil {
				markStale(r, "CREATE TABLE … SELECT")
				break
			}
			d, err := createTableDef(s, h.flavor, h.dbCharsetLocked(r.Database))
			if err != nil {
				markStale(r, err.Error())
				break
			}
			h.putLocked(pos, r.Database, r.Table, SchemaVersion{Table: d.table(r.Database, r.Table), Charset: d.charset})
		case *ast.AlterTableStmt:
			v := present(r)
			if v == nil {
				markStale(r, "ALTER TABLE of a table whose schema the history does not know")
				break
			}
			d := defFromTable(v.Table, h.charsetOf(v, r.Database))
			rename, err := alterTableDef(d, s, h.flavor)
			if err != nil {
				markStale(r, err.Error())
				break
			}
			to := r
			if rename != nil {
				to = Ref{rename.Schema.O, rename.Name.O}
				if to.Database == "" {
					to.Database = defaultDB
				}
				h.putLocked(pos, r.Database, r.Table, SchemaVersion{Dropped: true})
				res.Info.Renames = [][2]Ref{{r, to}}
				res.Info.Tables = append(res.Info.Tables, to)
			}
			h.putLocked(pos, to.Database, to.Table, SchemaVersion{Table: d.table(to.Database, to.Table), Charset: d.charset})
		case *ast.CreateIndexStmt:
			if s.KeyType != ast.IndexKeyTypeUnique {
				break
			}
			v := present(r)
			if v == nil {
				markStale(r, "CREATE UNIQUE INDEX on a table whose schema the history does not know")
				break
			}
			cols, ok := keyColumns(s.IndexPartSpecifications)
			if !ok {
				break
			}
			d := defFromTable(v.Table, v.Charset)
			d.addUnique(s.IndexName, cols)
			h.putLocked(pos, r.Database, r.Table, SchemaVersion{Table: d.table(r.Database, r.Table), Charset: d.charset})
		case *ast.DropIndexStmt:
			v := present(r)
			if v == nil {
				break
			}
			d := defFromTable(v.Table, v.Charset)
			if strings.EqualFold(s.IndexName, "PRIMARY") {
				d.pk = nil
			}
			out := d.uniques[:0]
			for _, u := range d.uniques {
				if !strings.EqualFold(u.name, s.IndexName) {
					out = append(out, u)
				}
			}
			d.uniques = out
			h.putLocked(pos, r.Database, r.Table, SchemaVersion{Table: d.table(r.Database, r.Table), Charset: d.charset})
		default:
			markStale(r, fmt.Sprintf("unexpected statement %T", stmt))
		}
	}
	// The schema after the statement of the table it names first (by its new name).
	var target *Ref
	switch {
	case len(res.Info.Renames) > 0:
		target = &res.Info.Renames[0][1]
	case len(res.Info.Tables) > 0:
		target = &res.Info.Tables[0]
	}
	if target != nil {
		if v := present(*target); v != nil {
			res.Table = v.Table
		}
	}
	return res
}

// charsetOf is the default character set of a table version (its database's when unknown).
func (h *SchemaHistory) charsetOf(v *SchemaVersion, db string) string {
	if v.Charset != "" {
		return v.Charset
	}
	return h.dbCharsetLocked(db)
}

func (h *SchemaHistory) p() *parser.Parser {
	if h.parser == nil {
		h.parser = parser.New()
	}
	return h.parser
}

// tableFromTableMap builds a table's schema from a table map event with full row metadata
// (binlog_row_metadata=FULL): names, types, signedness, character sets, ENUM/SET members and
// the primary key. Columns of base (the history's or the catalog's schema) with the same name
// and a matching type give the details the binlog lacks (declared type text, display widths),
// and base's unique keys are kept when their columns all still exist.
func tableFromTableMap(tme *replication.TableMapEvent, flavor string, base *event.Table) *event.Table {
	names := tme.ColumnNameString()
	unsigned := tme.UnsignedMap()
	colls := tme.CollationMap()
	esColls := tme.EnumSetCollationMap()
	enums := tme.EnumStrValueMap()
	sets := tme.SetStrValueMap()
	geoms := tme.GeometryTypeMap()
	mariadb := flavor == "mariadb"
	t := &event.Table{Database: string(tme.Schema), Name: string(tme.Table)}
	for i := 0; i < int(tme.ColumnCount); i++ {
		tp, meta := tme.ColumnType[i], tme.ColumnMeta[i]
		c := event.Column{Name: names[i], Unsigned: unsigned[i], Nullable: true}
		if ok, null := tme.Nullable(i); ok {
			c.Nullable = null
		}
		coll, ok := colls[i]
		if !ok {
			coll, ok = esColls[i]
		}
		cs := ""
		if ok {
			if co, err := charset.GetCollationByID(int(coll)); err == nil {
				cs = normCharset(co.CharsetName)
			}
		}
		length := int(meta)
		if tp == gmysql.MYSQL_TYPE_STRING && meta >= 256 {
			b0, b1 := byte(meta>>8), byte(meta)
			if b0&0x30 != 0x30 {
				length = int(uint16(b1) | uint16((b0&0x30)^0x30)<<4)
				tp = b0 | 0x30
			} else {
				length = int(meta & 0xFF)
				tp = b0
			}
		}
		chars := func(n int) int {
			if cs == "" || cs == "binary" {
				return n
			}
			return n / charsetMaxLen(cs)
		}
		sign := func(s string) string {
			if c.Unsigned {
				return s + " unsigned"
			}
			return s
		}
		intType := func(name string, prec, width int) {
			c.DataType, c.Precision = name, prec
			if c.Unsigned && name != "bigint" {
				width--
			}
			if c.Unsigned && (name == "bigint" || name == "mediumint") {
				c.Precision++ // as information_schema says: 20 and 8
			}
			if mariadb {
				c.ColumnType = sign(name + "(" + strconv.Itoa(width) + ")")
			} else {
				c.ColumnType = sign(name)
			}
		}
		switch tp {
		case gmysql.MYSQL_TYPE_TINY:
			intType("tinyint", 3, 4)
		case gmysql.MYSQL_TYPE_SHORT:
			intType("smallint", 5, 6)
		case gmysql.MYSQL_TYPE_INT24:
			intType("mediumint", 7, 9)
		case gmysql.MYSQL_TYPE_LONG:
			intType("int", 10, 11)
		case gmysql.MYSQL_TYPE_LONGLONG:
			intType("bigint", 19, 20)
		case gmysql.MYSQL_TYPE_FLOAT:
			c.DataType, c.Precision, c.ColumnType = "float", 12, sign("float")
		case gmysql.MYSQL_TYPE_DOUBLE:
			c.DataType, c.Precision, c.ColumnType = "double", 22, sign("double")
		case gmysql.MYSQL_TYPE_NEWDECIMAL:
			c.DataType, c.Precision, c.Scale = "decimal", int(meta>>8), int(meta&0xFF)
			c.ColumnType = sign(fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale))
		case gmysql.MYSQL_TYPE_BIT:
			c.DataType, c.Precision = "bit", int(meta>>8)*8+int(meta&0xFF)
			c.ColumnType = "bit(" + strconv.Itoa(c.Precision) + ")"
		case gmysql.MYSQL_TYPE_DATE, gmysql.MYSQL_TYPE_NEWDATE:
			c.DataType, c.ColumnType = "date", "date"
		case gmysql.MYSQL_TYPE_TIME, gmysql.MYSQL_TYPE_TIME2, gmysql.MYSQL_TYPE_DATETIME, gmysql.MYSQL_TYPE_DATETIME2,
			gmysql.MYSQL_TYPE_TIMESTAMP, gmysql.MYSQL_TYPE_TIMESTAMP2:
			c.DataType = map[byte]string{gmysql.MYSQL_TYPE_TIME: "time", gmysql.MYSQL_TYPE_TIME2: "time",
				gmysql.MYSQL_TYPE_DATETIME: "datetime", gmysql.MYSQL_TYPE_DATETIME2: "datetime",
				gmysql.MYSQL_TYPE_TIMESTAMP: "timestamp", gmysql.MYSQL_TYPE_TIMESTAMP2: "timestamp"}[tp]
			c.ColumnType = c.DataType
			if tp == gmysql.MYSQL_TYPE_TIME2 || tp == gmysql.MYSQL_TYPE_DATETIME2 || tp == gmysql.MYSQL_TYPE_TIMESTAMP2 {
				if c.Scale = int(meta); c.Scale > 0 {
					c.ColumnType += "(" + strconv.Itoa(c.Scale) + ")"
				}
			}
		case gmysql.MYSQL_TYPE_YEAR:
			c.Unsigned = false // MariaDB flags YEAR unsigned; the catalog does not
			c.DataType, c.ColumnType = "year", "year"
			if mariadb {
				c.ColumnType = "year(4)"
			}
		case gmysql.MYSQL_TYPE_ENUM, gmysql.MYSQL_TYPE_SET:
			c.DataType, c.Charset = "enum", cs
			c.Elements = decodeElements(enums[i], cs)
			if tp == gmysql.MYSQL_TYPE_SET {
				c.DataType, c.Elements = "set", decodeElements(sets[i], cs)
			}
			q := make([]string, len(c.Elements))
			for j, e := range c.Elements {
				q[j] = "'" + strings.ReplaceAll(e, "'", "''") + "'"
			}
			c.ColumnType = c.DataType + "(" + strings.Join(q, ",") + ")"
		case gmysql.MYSQL_TYPE_STRING, gmysql.MYSQL_TYPE_VARCHAR, gmysql.MYSQL_TYPE_VAR_STRING:
			c.DataType = "char"
			if tp != gmysql.MYSQL_TYPE_STRING {
				c.DataType = "varchar"
			}
			if cs == "binary" {
				c.DataType = map[string]string{"char": "binary", "varchar": "varbinary"}[c.DataType]
			} else {
				c.Charset = cs
			}
			c.Precision = chars(length)
			c.ColumnType = c.DataType + "(" + strconv.Itoa(c.Precision) + ")"
		case gmysql.MYSQL_TYPE_BLOB:
			size := map[uint16]string{1: "tiny", 2: "", 3: "medium", 4: "long"}[meta]
			if cs == "binary" {
				c.DataType = size + "blob"
			} else {
				c.DataType, c.Charset = size+"text", cs
			}
			c.ColumnType = c.DataType
		case gmysql.MYSQL_TYPE_JSON:
			c.DataType, c.ColumnType = "json", "json"
		case gmysql.MYSQL_TYPE_GEOMETRY:
			g := []string{"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection"}
			c.DataType = "geometry"
			if k, ok := geoms[i]; ok && int(k) < len(g) {
				c.DataType = g[k]
			}
			c.ColumnType = c.DataType
		default:
			c.DataType = "unknown"
			c.ColumnType = "unknown"
		}
		if base != nil {
			if j := base.ColumnIndex(c.Name); j >= 0 && binlogTypeMatches(&base.Columns[j], flavor, tme.ColumnType[i], tme.ColumnMeta[i]) {
				bc := base.Columns[j]
				bc.Name = c.Name
				if c.Elements != nil { // the binlog's members are those the row was written with
					bc.Elements = c.Elements
				}
				c = bc
			}
		}
		c.InPrimaryKey = false
		t.Columns = append(t.Columns, c)
	}
	var pk []string
	for _, k := range tme.PrimaryKey {
		if int(k) < len(names) {
			pk = append(pk, names[k])
		}
	}
	d := &tableDef{cols: t.Columns, pk: pk}
	if base != nil {
		for _, k := range base.UniqueKeys {
			u := uniqueDef{name: k.Name}
			for _, ci := range k.Columns {
				if t.ColumnIndex(base.Columns[ci].Name) < 0 {
					u.cols = nil
					break
				}
				u.cols = append(u.cols, base.Columns[ci].Name)
			}
			if len(u.cols) > 0 {
				d.uniques = append(d.uniques, u)
			}
		}
	}
	return d.table(t.Database, t.Name)
}
