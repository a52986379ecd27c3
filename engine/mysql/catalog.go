package mysql

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"

	"tributary/engine/event"
)

// TableInfo is what the catalog knows of a table beyond its columns.
type TableInfo struct {
	Database  string `json:"database"`
	Name      string `json:"name"`
	Type      string `json:"type"` // BASE TABLE, VIEW
	Engine    string `json:"engine"`
	Rows      int64  `json:"rows"` // the server's estimate
	AvgRowLen int64  `json:"avgRowLength"`
	HasKey    bool   `json:"hasKey"` // a primary key or a NOT NULL unique key
}

// Ref names a table.
type Ref struct{ Database, Table string }

func (r Ref) String() string { return r.Database + "." + r.Table }

var systemDatabases = map[string]bool{"mysql": true, "information_schema": true, "performance_schema": true, "sys": true}

// ListTables lists the user tables of the server (system databases excluded), with estimates.
func ListTables(ctx context.Context, conn *client.Conn) ([]TableInfo, error) {
	res, err := conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(ENGINE,''), IFNULL(TABLE_ROWS,0), IFNULL(AVG_ROW_LENGTH,0)
		FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')
		ORDER BY TABLE_SCHEMA, TABLE_NAME`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer res.Close()
	keyed, err := keyedTables(conn, "")
	if err != nil {
		return nil, err
	}
	out := make([]TableInfo, 0, res.RowNumber())
	for i := 0; i < res.RowNumber(); i++ {
		ti := TableInfo{}
		ti.Database = cell(res, i, 0)
		ti.Name = cell(res, i, 1)
		ti.Type = cell(res, i, 2)
		ti.Engine = cell(res, i, 3)
		ti.Rows = intCol(res, i, 4)
		ti.AvgRowLen = intCol(res, i, 5)
		ti.HasKey = keyed[ti.Database+"\x00"+ti.Name]
		out = append(out, ti)
	}
	return out, nil
}

func intCol(res interface {
	GetString(row, col int) (string, error)
}, row, col int) int64 {
	s := cell(res, row, col)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// keyedTables returns the tables that have a primary key or a unique key whose columns are all
// NOT NULL, as "db\x00table" keys.
func keyedTables(conn *client.Conn, where string) (map[string]bool, error) {
	q := `SELECT s.TABLE_SCHEMA, s.TABLE_NAME, s.INDEX_NAME, MIN(c.IS_NULLABLE = 'NO')
		FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c
		  ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
		WHERE s.NON_UNIQUE = 0 AND s.TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') ` + where + `
		GROUP BY s.TABLE_SCHEMA, s.TABLE_NAME, s.INDEX_NAME`
	res, err := conn.Execute(q)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer res.Close()
	out := map[string]bool{}
	for i := 0; i < res.RowNumber(); i++ {
		db := cell(res, i, 0)
		t := cell(res, i, 1)
		idx := cell(res, i, 2)
		notNull := intCol(res, i, 3) == 1
		if idx == "PRIMARY" || notNull {
			out[db+"\x00"+t] = true
		}
	}
	return out, nil
}

func inList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = QuoteString(v)
	}
	return strings.Join(q, ",")
}

// LoadTables reads the current schema of the given tables in bulk (three catalog queries,
// whatever the number of tables). Tables that do not exist are absent from the result.
func LoadTables(ctx context.Context, conn *client.Conn, refs []Ref) (map[Ref]*event.Table, error) {
	if len(refs) == 0 {
		return map[Ref]*event.Table{}, nil
	}
	dbSet := map[string]bool{}
	want := map[Ref]bool{}
	for _, r := range refs {
		dbSet[r.Database] = true
		want[r] = true
	}
	dbs := make([]string, 0, len(dbSet))
	for d := range dbSet {
		dbs = append(dbs, d)
	}
	sort.Strings(dbs)
	// The server matches names by its own rules (case per lower_case_table_names); keep the
	// catalog's spelling and match case-insensitively on our side.
	lookup := func(db, t string) (Ref, bool) {
		r := Ref{db, t}
		if want[r] {
			return r, true
		}
		for w := range want {
			if strings.EqualFold(w.Database, db) && strings.EqualFold(w.Table, t) {
				return w, true
			}
		}
		return Ref{}, false
	}

	res, err := conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
		IFNULL(CHARACTER_SET_NAME,''), IFNULL(NUMERIC_PRECISION,0), IFNULL(NUMERIC_SCALE,0), IFNULL(DATETIME_PRECISION,0),
		IFNULL(CHARACTER_MAXIMUM_LENGTH,0), COLUMN_KEY
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (` + inList(dbs) + `)
		ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	out := map[Ref]*event.Table{}
	for i := 0; i < res.RowNumber(); i++ {
		db := cell(res, i, 0)
		tn := cell(res, i, 1)
		ref, ok := lookup(db, tn)
		if !ok {
			continue
		}
		t := out[ref]
		if t == nil {
			t = &event.Table{Database: db, Name: tn}
			out[ref] = t
		}
		c := event.Column{}
		c.Name = cell(res, i, 2)
		c.DataType = cell(res, i, 3)
		c.DataType = strings.ToLower(c.DataType)
		c.ColumnType = cell(res, i, 4)
		nullable := cell(res, i, 5)
		c.Nullable = nullable == "YES"
		c.Charset = cell(res, i, 6)
		c.Unsigned = strings.Contains(strings.ToLower(c.ColumnType), "unsigned")
		switch c.DataType {
		case "decimal", "bit":
			c.Precision = int(intCol(res, i, 7))
			c.Scale = int(intCol(res, i, 8))
		case "time", "datetime", "timestamp":
			c.Scale = int(intCol(res, i, 9))
		case "char", "varchar", "binary", "varbinary":
			c.Precision = int(intCol(res, i, 10))
		case "enum", "set":
			c.Elements = ParseElements(c.ColumnType)
		default:
			c.Precision = int(intCol(res, i, 7))
		}
		t.Columns = append(t.Columns, c)
	}
	res.Close()

	// MariaDB stores JSON as LONGTEXT with a json_valid() check named after the column.
	if res, err := conn.Execute(`SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA IN (` + inList(dbs) + `) AND CHECK_CLAUSE LIKE 'json_valid(%'`); err == nil {
		for i := 0; i < res.RowNumber(); i++ {
			db := cell(res, i, 0)
			tn := cell(res, i, 1)
			name := cell(res, i, 2)
			if ref, ok := lookup(db, tn); ok && out[ref] != nil {
				if ci := out[ref].ColumnIndex(name); ci >= 0 && strings.HasSuffix(out[ref].Columns[ci].DataType, "text") {
					out[ref].Columns[ci].DataType = "json"
				}
			}
		}
		res.Close()
	}

	res, err = conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA IN (` + inList(dbs) + `) ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`)
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	defer res.Close()
	for i := 0; i < res.RowNumber(); i++ {
		db := cell(res, i, 0)
		tn := cell(res, i, 1)
		ref, ok := lookup(db, tn)
		if !ok || out[ref] == nil {
			continue
		}
		t := out[ref]
		idx := cell(res, i, 2)
		col := cell(res, i, 3)
		ci := t.ColumnIndex(col)
		if ci < 0 {
			continue
		}
		if idx == "PRIMARY" {
			t.PrimaryKey = append(t.PrimaryKey, ci)
			t.Columns[ci].InPrimaryKey = true
			continue
		}
		if n := len(t.UniqueKeys); n == 0 || t.UniqueKeys[n-1].Name != idx {
			t.UniqueKeys = append(t.UniqueKeys, event.Key{Name: idx, NotNull: true})
		}
		k := &t.UniqueKeys[len(t.UniqueKeys)-1]
		k.Columns = append(k.Columns, ci)
		if t.Columns[ci].Nullable {
			k.NotNull = false
		}
	}
	return out, nil
}

// ParseElements reads the members of enum('a','b') or set('a','b').
func ParseElements(columnType string) []string {
	open := strings.IndexByte(columnType, '(')
	if open < 0 {
		return nil
	}
	s := columnType[open+1:]
	var out []string
	for {
		s = strings.TrimLeft(s, ", ")
		if !strings.HasPrefix(s, "'") {
			return out
		}
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		out = append(out, b.String())
		if i+1 > len(s) {
			return out
		}
		s = s[i+1:]
	}
}

// ServerInfo is what the precheck and the encoders need to know about the server.
type ServerInfo struct {
	Version string
	MariaDB bool
}

// Server reads the server's version and flavour.
func Server(conn *client.Conn) ServerInfo {
	v := conn.GetServerVersion()
	v = strings.TrimPrefix(v, "5.5.5-") // MariaDB’s replication-compatibility prefix
	return ServerInfo{Version: v, MariaDB: strings.Contains(strings.ToLower(v), "mariadb")}
}

// cell reads a result cell as a string that stays valid after the result is closed (go-mysql
// pools result buffers).
func cell(res interface {
	GetString(row, col int) (string, error)
}, row, col int) string {
	s, _ := res.GetString(row, col)
	return strings.Clone(s)
}
