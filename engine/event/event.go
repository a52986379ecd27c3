// Package event defines the one currency of the data path: a row change, a DDL statement or a
// heartbeat, read from MySQL by the snapshot reader or the binlog stream and written to Kafka by
// an encoder. Both readers must produce identical Values for identical data, so that a row read
// by the snapshot and by the binlog encodes to the same message apart from its kind.
package event

import (
	"strconv"
	"strings"
	"time"
)

// Kind says what an Event is.
type Kind uint8

const (
	// Init is a row read by full data migration (DTS "INIT").
	Init Kind = iota + 1
	Insert
	Update
	Delete
	DDL
	Heartbeat
)

func (k Kind) String() string {
	switch k {
	case Init:
		return "INIT"
	case Insert:
		return "INSERT"
	case Update:
		return "UPDATE"
	case Delete:
		return "DELETE"
	case DDL:
		return "DDL"
	case Heartbeat:
		return "HEARTBEAT"
	}
	return "UNKNOWN"
}

// Column describes one column as the source declares it.
type Column struct {
	Name string
	// DataType is the lower-case MySQL data type without length or attributes:
	// "bigint", "varchar", "datetime", "enum".
	DataType string
	// ColumnType is the full declared type as information_schema.COLUMNS.COLUMN_TYPE shows it:
	// "bigint(20) unsigned", "varchar(50)", "enum('a','b')".
	ColumnType string
	Unsigned   bool
	Nullable   bool
	// Charset is the character set of a character column (utf8mb4, latin1, binary...).
	Charset string
	// Precision is the numeric precision (DECIMAL), the character length (CHAR/VARCHAR) or the
	// bit width (BIT); Scale is the decimal scale or the fractional-seconds digits of
	// TIME/DATETIME/TIMESTAMP.
	Precision int
	Scale     int
	// Elements are the members of an ENUM or SET, in declaration order.
	Elements []string
	// InPrimaryKey is true when the column is part of the primary key.
	InPrimaryKey bool
}

// Table is the schema of one table at one point of the source's history.
type Table struct {
	Database string
	Name     string
	Columns  []Column
	// PrimaryKey holds the indexes into Columns of the primary-key columns, in key order.
	PrimaryKey []int
	// UniqueKeys are the other unique keys, by index name, each as indexes into Columns.
	UniqueKeys []Key
}

// Key is a named unique key.
type Key struct {
	Name    string
	Columns []int
	// NotNull is true when every column of the key is NOT NULL (usable as a chunk key).
	NotNull bool
}

// ColumnIndex returns the index of the named column (case-insensitive, as MySQL), or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

// PKNames returns the primary-key column names.
func (t *Table) PKNames() []string {
	out := make([]string, len(t.PrimaryKey))
	for i, c := range t.PrimaryKey {
		out[i] = t.Columns[c].Name
	}
	return out
}

// ChunkKey returns the columns that identify a row: the primary key, else the first unique key
// whose columns are all NOT NULL, else nil (the table cannot be read in resumable chunks).
func (t *Table) ChunkKey() []int {
	if len(t.PrimaryKey) > 0 {
		return t.PrimaryKey
	}
	for _, k := range t.UniqueKeys {
		if k.NotNull {
			return k.Columns
		}
	}
	return nil
}

// QualifiedName is `db`.`table` for messages and logs.
func (t *Table) QualifiedName() string { return t.Database + "." + t.Name }

// Value is one column value in its canonical text form (see the package documentation of
// engine/mysql for the rendering of each type). A nil Value is SQL NULL; an empty string is a
// non-nil, zero-length Value.
type Value []byte

// Row is one row image, aligned with Table.Columns.
type Row []Value

// Position is a place in the source's binlog.
type Position struct {
	File   string `json:"file,omitempty"`
	Offset uint64 `json:"offset,omitempty"`
	// GTID is the GTID set executed up to and including this position (MySQL uuid:1-5 sets or
	// MariaDB domain-server-sequence lists), when the server has GTIDs.
	GTID string `json:"gtid,omitempty"`
}

// IsZero is true for an unset position.
func (p Position) IsZero() bool { return p.File == "" && p.GTID == "" }

func (p Position) String() string {
	if p.File == "" {
		return p.GTID
	}
	s := p.File + ":" + strconv.FormatUint(p.Offset, 10)
	if p.GTID != "" {
		s += " (" + p.GTID + ")"
	}
	return s
}

// FileIndex returns the numeric suffix of the binlog file name (mysql-bin.000143 → 143).
func (p Position) FileIndex() uint64 {
	i := strings.LastIndexByte(p.File, '.')
	if i < 0 {
		return 0
	}
	n, _ := strconv.ParseUint(p.File[i+1:], 10, 64)
	return n
}

// Event is one change read from the source.
type Event struct {
	Kind Kind
	// Table is the schema the row images are aligned with. For DDL it may be nil.
	Table *Table
	// Database and TableName name the object of a DDL (TableName may be empty, e.g. for
	// CREATE DATABASE); for row events they equal Table.Database and Table.Name.
	Database  string
	TableName string
	// DDLKind is the normalised DDL operation ("create table", "alter table", ...), for DDL.
	DDLKind string
	Before  Row // UPDATE and DELETE
	After   Row // INIT, INSERT and UPDATE
	SQL     string
	// Pos is where the event is in the binlog; SafePos is the start of its transaction.
	Pos     Position
	SafePos Position
	// CommitTime is the source commit time (binlog header time, second-granular); for INIT rows
	// the time the row was read.
	CommitTime time.Time
	// Seq is a per-task serial number (Canal "id", Avro "id").
	Seq uint64
	// ServerID and ThreadID are copied into DTS Avro tags when known.
	ServerID uint32
	// SourceVersion is the server version string (for DTS Avro Source.version).
	SourceVersion string
}

// Compare orders two binlog positions of the same server: by file index, then offset. It
// returns 0 when either has no file (GTID-only positions are not ordered here).
func (p Position) Compare(q Position) int {
	if p.File == "" || q.File == "" {
		return 0
	}
	if p.File != q.File {
		pi, qi := p.FileIndex(), q.FileIndex()
		switch {
		case pi < qi:
			return -1
		case pi > qi:
			return 1
		}
		return strings.Compare(p.File, q.File)
	}
	switch {
	case p.Offset < q.Offset:
		return -1
	case p.Offset > q.Offset:
		return 1
	}
	return 0
}
