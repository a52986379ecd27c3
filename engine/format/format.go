// Package format holds what the two wire formats (Canal JSON in canaljson, DTS Avro in dtsavro)
// share: the Encoder interface, the capitalization of object names, the MySQL type tables
// (DTS dataTypeNumber, JDBC sqlType, the value kind of each type), charset decoding and JSON
// string escaping.
//
// # Type codes
//
// DataTypeNumber gives the DTS Avro Field.dataTypeNumber (reference §1.4), also used for Canal
// JSON "sqlType" when FormatOptions.CanalSQLType is "dts". The one real record published
// (reference §2.7) shows 253 (VAR_STRING) for a VARCHAR column, which is the code the MySQL
// client protocol reports, not the binlog table-map code (15). The official DTS demo consumer
// (subscribe_example MysqlFieldConverter) picks its value adapter by dataTypeNumber and has
// adapters for 7, 10, 11, 12, 13 but none for 17, 18, 19 (TIMESTAMP2/DATETIME2/TIME2), so a
// record carrying 17–19 would crash it. Tributary therefore uses the client-protocol numbering
// [inferred]:
//
//	tinyint 1, smallint 2, int 3, float 4, double 5, timestamp 7, bigint 8, mediumint 9,
//	date 10, time 11, datetime 12, year 13, bit 16, json 245, decimal 246, enum 247, set 248,
//	tinyblob/tinytext 249, mediumblob/mediumtext 250, longblob/longtext 251, blob/text 252,
//	varchar/varbinary 253, char/binary 254, geometry and its subtypes 255.
//
// ENUM and SET use 247/248 (the protocol would say 254) because the demo maps exactly those
// codes to TextObject.
//
// JDBCType gives the java.sql.Types code that open-source Canal puts in "sqlType"
// (RowsLogBuffer.mysqlToJavaType plus LogEventConvert's post-processing):
//
//	tinyint -6 (unsigned 5), smallint 5 (unsigned 4), mediumint 4 (unsigned 4),
//	int 4 (unsigned -5), bigint -5 (unsigned 3), decimal 3, float 7 (REAL), double 8,
//	bit -7, date 91, time 92, datetime/timestamp 93, year 12 (Canal: VARCHAR),
//	char 1, varchar 12, json 12, tinytext..longtext 2005 (CLOB),
//	binary/varbinary/tinyblob..longblob 2004 (BLOB: Canal turns every byte[] value that is not
//	a TEXT column into BLOB), geometry 2004, enum 1, set 1.
//
// Deviations from Canal, both [inferred]: Canal promotes an unsigned column only for a value that
// overflows the signed type, so its sqlType varies row by row; Tributary promotes by column type,
// as DTS's documentation describes ("unsigned INT becomes Long, unsigned BIGINT BigDecimal").
// Canal emits an ENUM as its index with sqlType INTEGER and a SET as its bitmask with sqlType
// BIT; Tributary emits the member text (as DTS's JSON strings do), so it labels both CHAR (1).
package format

import (
	"errors"
	"strings"
	"sync"

	"tributary/engine/event"
)

// Encoder turns one event into one Kafka message value. Encode appends the message to dst and
// returns the extended slice. Implementations are safe for concurrent use.
type Encoder interface {
	Encode(dst []byte, ev *event.Event) ([]byte, error)
}

// ErrSkip is returned by an encoder for an event that has no representation in its format (a
// heartbeat in Canal JSON). The caller writes nothing for it.
var ErrSkip = errors.New("format: event has no representation in this format")

// Capitalization policies (task.Capitalizations).
const (
	CaseDTSDefault = "dts-default"
	CaseSource     = "source"
	CaseUpper      = "upper"
	CaseLower      = "lower"
)

// Names applies the capitalization policy to object names. DTS documents no default for a
// Kafka destination; "dts-default" keeps the source case [inferred], like "source". Names
// computed for a table are cached per *event.Table pointer (a schema change produces a new
// Table, hence new names). A Names is safe for concurrent use.
type Names struct {
	mode  int // 0 keep, 1 upper, 2 lower
	cache sync.Map
}

// TableNames are a table's names after capitalization.
type TableNames struct {
	Database string
	Table    string
	Columns  []string
}

// NewNames returns the Names for a capitalization policy ("" means "dts-default").
func NewNames(policy string) (*Names, error) {
	n := &Names{}
	switch policy {
	case "", CaseDTSDefault, CaseSource:
	case CaseUpper:
		n.mode = 1
	case CaseLower:
		n.mode = 2
	default:
		return nil, errors.New("format: unknown capitalization policy " + policy +
			` (want "dts-default", "source", "upper" or "lower")`)
	}
	return n, nil
}

// Name applies the policy to one name.
func (n *Names) Name(s string) string {
	if n == nil {
		return s
	}
	switch n.mode {
	case 1:
		return strings.ToUpper(s)
	case 2:
		return strings.ToLower(s)
	}
	return s
}

// Table returns the capitalized names of a table, computed once per table pointer.
func (n *Names) Table(t *event.Table) *TableNames {
	if v, ok := n.cache.Load(t); ok {
		return v.(*TableNames)
	}
	tn := &TableNames{Database: n.Name(t.Database), Table: n.Name(t.Name),
		Columns: make([]string, len(t.Columns))}
	for i := range t.Columns {
		tn.Columns[i] = n.Name(t.Columns[i].Name)
	}
	v, _ := n.cache.LoadOrStore(t, tn)
	return v.(*TableNames)
}

// Kind classifies a column by how its canonical Value text is read and rendered.
type Kind uint8

const (
	KindOther     Kind = iota
	KindInteger        // tinyint smallint mediumint int bigint: decimal text
	KindBit            // bit: decimal text of the unsigned value
	KindDecimal        // decimal: exact text
	KindFloat          // float double: decimal/exponent text
	KindDate           // date: YYYY-MM-DD
	KindTime           // time: [-]HH:MM:SS[.f]
	KindDateTime       // datetime: YYYY-MM-DD HH:MM:SS[.f]
	KindTimestamp      // timestamp: YYYY-MM-DD HH:MM:SS[.f] in UTC
	KindYear           // year: YYYY
	KindChar           // char varchar: bytes in Column.Charset
	KindText           // tinytext text mediumtext longtext: bytes in Column.Charset
	KindBinary         // binary varbinary: raw bytes
	KindBlob           // tinyblob blob mediumblob longblob: raw bytes
	KindEnum           // enum: member text in Column.Charset
	KindSet            // set: member text in Column.Charset
	KindJSON           // json: JSON text (utf8mb4)
	KindGeometry       // geometry and subtypes: 4-byte LE SRID + WKB
)

// IsBinary reports whether values of the kind are raw bytes with no character set.
func (k Kind) IsBinary() bool { return k == KindBinary || k == KindBlob || k == KindGeometry }

// IsCharacter reports whether values of the kind are text in the column's character set.
func (k Kind) IsCharacter() bool {
	return k == KindChar || k == KindText || k == KindEnum || k == KindSet || k == KindJSON
}

type typeInfo struct {
	kind   Kind
	number int32 // DTS dataTypeNumber
	jdbc   int32 // java.sql.Types, signed
	jdbcU  int32 // java.sql.Types, unsigned
	width  int32 // integer storage width in bytes
}

// JDBC codes.
const (
	jdbcBit       = -7
	jdbcTinyint   = -6
	jdbcSmallint  = 5
	jdbcInteger   = 4
	jdbcBigint    = -5
	jdbcDecimal   = 3
	jdbcReal      = 7
	jdbcDouble    = 8
	jdbcChar      = 1
	jdbcVarchar   = 12
	jdbcDate      = 91
	jdbcTime      = 92
	jdbcTimestamp = 93
	jdbcBlob      = 2004
	jdbcClob      = 2005
)

var types = map[string]typeInfo{
	"tinyint":            {KindInteger, 1, jdbcTinyint, jdbcSmallint, 1},
	"smallint":           {KindInteger, 2, jdbcSmallint, jdbcInteger, 2},
	"mediumint":          {KindInteger, 9, jdbcInteger, jdbcInteger, 3},
	"int":                {KindInteger, 3, jdbcInteger, jdbcBigint, 4},
	"integer":            {KindInteger, 3, jdbcInteger, jdbcBigint, 4},
	"bigint":             {KindInteger, 8, jdbcBigint, jdbcDecimal, 8},
	"decimal":            {KindDecimal, 246, jdbcDecimal, jdbcDecimal, 0},
	"numeric":            {KindDecimal, 246, jdbcDecimal, jdbcDecimal, 0},
	"float":              {KindFloat, 4, jdbcReal, jdbcReal, 0},
	"double":             {KindFloat, 5, jdbcDouble, jdbcDouble, 0},
	"real":               {KindFloat, 5, jdbcDouble, jdbcDouble, 0},
	"bit":                {KindBit, 16, jdbcBit, jdbcBit, 0},
	"date":               {KindDate, 10, jdbcDate, jdbcDate, 0},
	"time":               {KindTime, 11, jdbcTime, jdbcTime, 0},
	"datetime":           {KindDateTime, 12, jdbcTimestamp, jdbcTimestamp, 0},
	"timestamp":          {KindTimestamp, 7, jdbcTimestamp, jdbcTimestamp, 0},
	"year":               {KindYear, 13, jdbcVarchar, jdbcVarchar, 0},
	"char":               {KindChar, 254, jdbcChar, jdbcChar, 0},
	"varchar":            {KindChar, 253, jdbcVarchar, jdbcVarchar, 0},
	"tinytext":           {KindText, 249, jdbcClob, jdbcClob, 0},
	"text":               {KindText, 252, jdbcClob, jdbcClob, 0},
	"mediumtext":         {KindText, 250, jdbcClob, jdbcClob, 0},
	"longtext":           {KindText, 251, jdbcClob, jdbcClob, 0},
	"binary":             {KindBinary, 254, jdbcBlob, jdbcBlob, 0},
	"varbinary":          {KindBinary, 253, jdbcBlob, jdbcBlob, 0},
	"tinyblob":           {KindBlob, 249, jdbcBlob, jdbcBlob, 0},
	"blob":               {KindBlob, 252, jdbcBlob, jdbcBlob, 0},
	"mediumblob":         {KindBlob, 250, jdbcBlob, jdbcBlob, 0},
	"longblob":           {KindBlob, 251, jdbcBlob, jdbcBlob, 0},
	"enum":               {KindEnum, 247, jdbcChar, jdbcChar, 0},
	"set":                {KindSet, 248, jdbcChar, jdbcChar, 0},
	"json":               {KindJSON, 245, jdbcVarchar, jdbcVarchar, 0},
	"geometry":           {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
	"point":              {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
	"linestring":         {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
	"polygon":            {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
	"multipoint":         {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
	"multilinestring":    {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
	"multipolygon":       {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
	"geometrycollection": {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
	"geomcollection":     {KindGeometry, 255, jdbcBlob, jdbcBlob, 0},
}

func lookup(c *event.Column) typeInfo {
	if ti, ok := types[c.DataType]; ok {
		return ti
	}
	if ti, ok := types[strings.ToLower(c.DataType)]; ok {
		return ti
	}
	// Unknown types are carried as character data.
	return typeInfo{KindChar, 253, jdbcVarchar, jdbcVarchar, 0}
}

// KindOf returns the value kind of a column.
func KindOf(c *event.Column) Kind {
	k := lookup(c).kind
	if k == KindChar && strings.EqualFold(c.Charset, "binary") {
		return KindBinary
	}
	if k == KindText && strings.EqualFold(c.Charset, "binary") {
		return KindBlob
	}
	return k
}

// DataTypeNumber returns the DTS dataTypeNumber of a column (see the package documentation).
func DataTypeNumber(c *event.Column) int32 { return lookup(c).number }

// JDBCType returns the java.sql.Types code Canal would give the column, with unsigned
// integer types promoted (see the package documentation).
func JDBCType(c *event.Column) int32 {
	ti := lookup(c)
	if c.Unsigned {
		return ti.jdbcU
	}
	return ti.jdbc
}

// IntegerWidth returns the storage width in bytes of an integer column (tinyint 1, smallint 2,
// mediumint 3, int 4, bigint 8), or 0.
func IntegerWidth(c *event.Column) int32 { return lookup(c).width }

// MySQLTypeName returns the Canal JSON "mysqlType" of a column: the data type without length
// or precision, as DTS's current documentation shows ("bigint", "varchar"), followed by
// " unsigned" for an unsigned numeric column ("int unsigned") [inferred: the documentation says
// only that precision and length are dropped; the signedness is kept because it changes what
// the values mean].
func MySQLTypeName(c *event.Column) string {
	name := strings.ToLower(c.DataType)
	if c.Unsigned {
		return name + " unsigned"
	}
	return name
}

// Key returns the columns that identify a row for partitioning and message keys: keyCols when
// given, else the primary key, else the first unique key whose columns are all NOT NULL, else
// the first unique key, else nil.
func Key(t *event.Table, keyCols []int) []int {
	if len(keyCols) > 0 {
		return keyCols
	}
	if t == nil {
		return nil
	}
	if len(t.PrimaryKey) > 0 {
		return t.PrimaryKey
	}
	for _, k := range t.UniqueKeys {
		if k.NotNull && len(k.Columns) > 0 {
			return k.Columns
		}
	}
	for _, k := range t.UniqueKeys {
		if len(k.Columns) > 0 {
			return k.Columns
		}
	}
	return nil
}
