package tests

// TestRandomTables: "tables nobody here prepared". Random tables (random column types, key
// shapes, odd names and content) are created in a real MariaDB, migrated with a full data
// migration to kfake, read back with an independent client (kgo, via testenv) and compared row
// by row with what MariaDB itself reports for the same tables.
//
// Tables (names drawn from odd ones: spaces, dashes, backticks, quotes, backslashes, reserved
// words, non-ASCII, mixed case; two databases, one of them "Rnd-Mixed DB"):
//   - int-pk: 20–30k rows, INT / BIGINT / INT UNSIGNED key with gaps, negatives and sometimes the
//     type's extremes: many chunks, three parallel segments;
//   - ubig-pk: BIGINT UNSIGNED key with values around and above 2^63;
//   - composite-pk: VARCHAR (random collation) + INT, key order sometimes unlike column order;
//   - varchar-pk: mixed case, accents and trailing characters that collate next to or equal to
//     each other (ci, bin, nopad, unicode_520, latin1 collations, CHAR, VARBINARY, BINARY);
//   - unique-only: no primary key, a NOT NULL UNIQUE key over a random type + SMALLINT (and
//     sometimes a nullable UNIQUE key whose name sorts first);
//   - no-key: read in one pass; odd-pk: a key the snapshot cannot page through (FLOAT, DOUBLE,
//     BIT, ENUM+INT, TEXT prefix) or DATETIME+DECIMAL; empty: no rows.
// Columns: every integer type (signed, unsigned, ZEROFILL), DECIMAL, FLOAT, DOUBLE, DATE,
// DATETIME(0–6), TIMESTAMP(0–6) (written in a +05:30 session), TIME, YEAR, CHAR / VARCHAR /
// TEXT types in utf8mb4 or latin1, BINARY / VARBINARY / BLOB types, ENUM, SET, JSON, BIT(1–64),
// NULLs, sometimes a generated column and an INVISIBLE one. Chunk size, compression and the
// binary encoding (ISO-8859-1 or Base64) are drawn from the seed too.
//
// The seed is fixed (rtDefaultSeed) and logged; TRIBUTARY_RANDOM_SEED=<n> replays or varies it.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"tributary/engine/pipeline"
	"tributary/engine/task"
	"tributary/internal/testenv"
)

const rtDefaultSeed = 20240501

// rtKind says how a column's values are compared.
type rtKind int

const (
	rtInt      rtKind = iota // integers: exact decimal text
	rtDecimal                // exact text
	rtFloat                  // FLOAT: equal float32 values
	rtDouble                 // DOUBLE: equal float64 values
	rtTemporal               // DATE, DATETIME, TIMESTAMP (UTC), TIME, YEAR: exact text
	rtText                   // CHAR, VARCHAR, TEXT, ENUM, SET: exact text (UTF-8)
	rtBinary                 // BINARY, VARBINARY, BLOB: exact bytes
	rtBit                    // BIT: exact decimal text
	rtJSON                   // equal parsed JSON
)

// rtCol is one generated column.
type rtCol struct {
	name      string
	sqlType   string // as in CREATE TABLE, without NULL / NOT NULL
	mysqlType string // the Canal JSON "mysqlType" expected for it
	kind      rtKind
	nullable  bool
	gen       func(r *rand.Rand) string // SQL literal of a random non-NULL value
	// generated is the expression of a generated (VIRTUAL) column: it is not inserted.
	generated string
	invisible bool // an INVISIBLE column (MariaDB): not in SELECT *, still a column
}

// rtTable is one generated table.
type rtTable struct {
	shape    string
	db, name string
	topic    string
	cols     []*rtCol
	pk       []string // PRIMARY KEY columns in key order (nil: none)
	unique   []string // the NOT NULL UNIQUE key of a table without a primary key
	keys     []string // key clauses of CREATE TABLE
	rows     int      // rows generated (the table may keep fewer: key duplicates are dropped)
	prefix   int      // the primary key is a prefix of this many characters (one column)
	extremes bool     // the integer key holds its type's smallest and largest values
	keyType  string   // the SQL type of the int-pk table's key
	// keyCols are the columns keyGen fills (the others use their gen or NULL).
	keyCols []string
	keyGen  func(r *rand.Rand, i int) []string
}

// ident are the columns that identify a row (nil: the whole row).
func (tb *rtTable) ident() []string {
	if len(tb.pk) > 0 {
		return tb.pk
	}
	return tb.unique
}

func rtQN(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// rtQuoteDef quotes a string inside a column definition (ENUM and SET members).
func rtQuoteDef(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}

func rtLitText(s string) string { return "_utf8mb4 X'" + hex.EncodeToString([]byte(s)) + "'" }
func rtLitBin(b []byte) string  { return "X'" + hex.EncodeToString(b) + "'" }

// ---------------------------------------------------------------------------------------------
// Values

var (
	rtAlnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	// rtUTF8Pool are the interesting pieces of utf8mb4 text: quotes, backslashes, control
	// characters (NUL too), non-ASCII letters, 4-byte emoji, combining marks, invisible spaces.
	rtUTF8Pool = []string{"é", "ß", "ü", "Ω", "ж", "日", "本", "語", "€", "™", "\u00a0", "\u2028", "\u200b",
		"\ufeff", "😀", "🎉", "👍🏽", "𝄞", "e\u0301", "'", "\"", "\\", "\n", "\r", "\t", "\x00", "`", "%",
		"_", " ", "  ", "''", "\\'", "\\n", "</script>", "\x1f", "\x7f"}
	// rtLatin1Pool are pieces MariaDB's latin1 (cp1252 plus the five C1 bytes it leaves undefined)
	// can hold.
	rtLatin1Pool = []string{"é", "ÿ", "ß", "ü", "€", "‰", "Œ", "ƒ", "\u00a0", "\u0081", "\u008d", "\u008f",
		"\u0090", "\u009d", "¿", "×", "'", "\"", "\\", "\n", "\r", "\t", "\x00", "`", " ", "Ÿ", "™"}
)

// rtString returns random text of at most maxRunes runes.
func rtString(r *rand.Rand, maxRunes int, latin1 bool) string {
	n := r.Intn(maxRunes + 1)
	if r.Intn(3) > 0 {
		n = r.Intn(min(maxRunes, 24) + 1)
	}
	pool := rtUTF8Pool
	if latin1 {
		pool = rtLatin1Pool
	}
	var b strings.Builder
	count := 0
	for count < n {
		piece := string(rtAlnum[r.Intn(len(rtAlnum))])
		if r.Intn(5) < 2 {
			piece = pool[r.Intn(len(pool))]
		}
		k := utf8.RuneCountInString(piece)
		if count+k > n {
			continue
		}
		b.WriteString(piece)
		count += k
	}
	return b.String()
}

func rtBytes(r *rand.Rand, max int) []byte {
	n := r.Intn(max + 1)
	if r.Intn(3) > 0 {
		n = r.Intn(min(max, 20) + 1)
	}
	b := make([]byte, n)
	for i := range b {
		switch r.Intn(6) {
		case 0:
			b[i] = 0
		case 1:
			b[i] = 0xFF
		case 2:
			b[i] = rtAlnum[r.Intn(len(rtAlnum))]
		default:
			b[i] = byte(r.Intn(256))
		}
	}
	return b
}

// rtFrac returns "" or "." followed by fsp random digits.
func rtFrac(r *rand.Rand, fsp int) string {
	if fsp == 0 {
		return ""
	}
	b := []byte{'.'}
	all9 := r.Intn(10) == 0
	for i := 0; i < fsp; i++ {
		d := byte('0' + r.Intn(10))
		if all9 {
			d = '9'
		}
		b = append(b, d)
	}
	return string(b)
}

var (
	rtMinDate = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	rtMaxDate = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	// rtInsertZone is the session time zone the rows are written in (TIMESTAMP literals are
	// local to it); the expected values are read in UTC.
	rtInsertZone = time.FixedZone("+05:30", 5*3600+30*60)
)

func rtDate(r *rand.Rand) time.Time {
	switch r.Intn(12) {
	case 0:
		return rtMinDate
	case 1:
		return rtMaxDate
	case 2:
		return time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)
	}
	days := (rtMaxDate.Unix() - rtMinDate.Unix()) / 86400
	return rtMinDate.AddDate(0, 0, int(r.Int63n(days+1)))
}

func rtDoubleValue(r *rand.Rand) float64 {
	edges := []float64{0, 1, -1, 0.1, 1e15, 1e-5, 9.999999999999999e14, 123456789012345.67, math.MaxFloat64,
		-math.MaxFloat64, math.SmallestNonzeroFloat64, 2.2250738585072014e-308, 1e300, -1.5e-7,
		0.30000000000000004, 1e-300, 4503599627370497, -9007199254740993}
	switch r.Intn(6) {
	case 0:
		return edges[r.Intn(len(edges))]
	case 1:
		for {
			f := math.Float64frombits(r.Uint64())
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
		}
	case 2:
		return float64(r.Intn(2000001) - 1000000)
	case 3:
		return float64(r.Intn(100000000)-50000000) / 100
	}
	return r.NormFloat64() * math.Pow(10, float64(r.Intn(40)-20))
}

func rtFloat32(r *rand.Rand) float32 {
	edges := []float32{0, 1, -1, math.MaxFloat32, -math.MaxFloat32, 1.1754944e-38, 0.1, 16777216, 16777217, -1.5e-7, 3.1415927}
	switch r.Intn(5) {
	case 0:
		return edges[r.Intn(len(edges))]
	case 1:
		for {
			f := math.Float32frombits(r.Uint32())
			a := math.Abs(float64(f))
			if !math.IsNaN(a) && !math.IsInf(a, 0) && (a == 0 || a >= 1.1754944e-38) {
				return f
			}
		}
	}
	return float32(r.NormFloat64() * math.Pow(10, float64(r.Intn(20)-10)))
}

// rtJSONValue returns a random JSON tree (json.Number for numbers, so their text is kept).
func rtJSONValue(r *rand.Rand, depth int) any {
	choice := r.Intn(9)
	if depth >= 3 && choice >= 6 {
		choice = r.Intn(6)
	}
	switch choice {
	case 0:
		return nil
	case 1:
		return r.Intn(2) == 0
	case 2:
		nums := []string{"0", "-1", "42", "12345678901234567890", "-9223372036854775809", "1.5", "-0.25", "1e5",
			"1.5E-7", "-0.0", "3.141592653589793", "1e308"}
		return json.Number(nums[r.Intn(len(nums))])
	case 3:
		return json.Number(strconv.Itoa(r.Intn(2000000) - 1000000))
	case 4, 5:
		return rtString(r, 20, false)
	case 6, 7:
		m := map[string]any{}
		for i := r.Intn(5); i > 0; i-- {
			m[rtString(r, 8, false)] = rtJSONValue(r, depth+1)
		}
		return m
	}
	a := make([]any, r.Intn(5))
	for i := range a {
		a[i] = rtJSONValue(r, depth+1)
	}
	return a
}

func rtJSONText(r *rand.Rand) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(r.Intn(2) == 0)
	if r.Intn(4) == 0 {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(rtJSONValue(r, 0)); err != nil {
		panic(err)
	}
	s := buf.String()
	if r.Intn(2) == 0 {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}

// ---------------------------------------------------------------------------------------------
// Column types

var rtIntNames = map[int]string{8: "tinyint", 16: "smallint", 24: "mediumint", 32: "int", 64: "bigint"}

func rtIntCol(bits int, unsigned, zerofill bool) *rtCol {
	name := rtIntNames[bits]
	sqlType := strings.ToUpper(name)
	if zerofill {
		sqlType += "(6) UNSIGNED ZEROFILL"
		unsigned = true
	} else if unsigned {
		sqlType += " UNSIGNED"
	}
	mt := name
	if unsigned {
		mt += " unsigned"
	}
	return &rtCol{sqlType: sqlType, mysqlType: mt, kind: rtInt, gen: func(r *rand.Rand) string {
		if unsigned {
			max := uint64(math.MaxUint64) >> (64 - bits)
			switch r.Intn(10) {
			case 0:
				return "0"
			case 1:
				return strconv.FormatUint(max, 10)
			case 2:
				return strconv.Itoa(r.Intn(100))
			}
			return strconv.FormatUint(r.Uint64()>>(64-bits), 10)
		}
		lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
		switch r.Intn(12) {
		case 0:
			return strconv.FormatInt(lo, 10)
		case 1:
			return strconv.FormatInt(hi, 10)
		case 2:
			return "-1"
		case 3:
			return strconv.Itoa(r.Intn(101) - 50)
		}
		return strconv.FormatInt(int64(r.Uint64())>>(64-bits), 10)
	}}
}

func rtDecimalCol(r *rand.Rand) *rtCol {
	p := 1 + r.Intn(65)
	s := r.Intn(min(p, 30) + 1)
	unsigned := r.Intn(5) == 0
	c := &rtCol{sqlType: fmt.Sprintf("DECIMAL(%d,%d)", p, s), mysqlType: "decimal", kind: rtDecimal}
	if unsigned {
		c.sqlType += " UNSIGNED"
		c.mysqlType += " unsigned"
	}
	c.gen = func(r *rand.Rand) string {
		var b strings.Builder
		if !unsigned && r.Intn(2) == 0 {
			b.WriteByte('-')
		}
		all9 := r.Intn(10) == 0
		n := r.Intn(p - s + 1)
		if all9 {
			n = p - s
		}
		if n == 0 {
			b.WriteByte('0')
		}
		for i := 0; i < n; i++ {
			d := byte('0' + r.Intn(10))
			if i == 0 && d == '0' {
				d = '1'
			}
			if all9 {
				d = '9'
			}
			b.WriteByte(d)
		}
		if s > 0 {
			b.WriteByte('.')
			for i := 0; i < s; i++ {
				d := byte('0' + r.Intn(10))
				if all9 {
					d = '9'
				}
				b.WriteByte(d)
			}
		}
		return b.String()
	}
	return c
}

func rtDateTimeCol(r *rand.Rand, typ string) *rtCol {
	fsp := r.Intn(7)
	switch typ {
	case "date":
		return &rtCol{sqlType: "DATE", mysqlType: "date", kind: rtTemporal, gen: func(r *rand.Rand) string {
			return "'" + rtDate(r).Format("2006-01-02") + "'"
		}}
	case "year":
		return &rtCol{sqlType: "YEAR", mysqlType: "year", kind: rtTemporal, gen: func(r *rand.Rand) string {
			if r.Intn(20) == 0 {
				return "0"
			}
			return strconv.Itoa(1901 + r.Intn(255))
		}}
	case "datetime":
		return &rtCol{sqlType: fmt.Sprintf("DATETIME(%d)", fsp), mysqlType: "datetime", kind: rtTemporal, gen: func(r *rand.Rand) string {
			if r.Intn(15) == 0 {
				max := "'9999-12-31 23:59:59"
				if fsp > 0 {
					max += ".999999"[:fsp+1]
				}
				return max + "'"
			}
			d := rtDate(r).Add(time.Duration(r.Intn(86400)) * time.Second)
			return "'" + d.Format("2006-01-02 15:04:05") + rtFrac(r, fsp) + "'"
		}}
	case "timestamp":
		return &rtCol{sqlType: fmt.Sprintf("TIMESTAMP(%d)", fsp), mysqlType: "timestamp", kind: rtTemporal, gen: func(r *rand.Rand) string {
			sec := 1 + r.Int63n(math.MaxInt32)
			switch r.Intn(15) {
			case 0:
				sec = 1
			case 1:
				sec = math.MaxInt32
			}
			return "'" + time.Unix(sec, 0).In(rtInsertZone).Format("2006-01-02 15:04:05") + rtFrac(r, fsp) + "'"
		}}
	case "time":
		return &rtCol{sqlType: fmt.Sprintf("TIME(%d)", fsp), mysqlType: "time", kind: rtTemporal, gen: func(r *rand.Rand) string {
			switch r.Intn(15) {
			case 0:
				return "'-838:59:59'"
			case 1:
				return "'838:59:59'"
			case 2:
				return "'-00:00:00" + rtFrac(r, fsp) + "'"
			}
			sign := ""
			if r.Intn(3) == 0 {
				sign = "-"
			}
			h := r.Intn(839)
			if r.Intn(2) == 0 {
				h = r.Intn(24)
			}
			frac := rtFrac(r, fsp)
			if h == 838 {
				frac = ""
			}
			return fmt.Sprintf("'%s%02d:%02d:%02d%s'", sign, h, r.Intn(60), r.Intn(60), frac)
		}}
	}
	panic(typ)
}

// rtCharset returns a character set clause and whether it is latin1.
func rtCharset(r *rand.Rand) (string, bool) {
	switch r.Intn(6) {
	case 0:
		return " CHARACTER SET latin1", true
	case 1:
		return " CHARACTER SET latin1 COLLATE latin1_bin", true
	case 2:
		return " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", false
	case 3:
		return " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", false
	}
	return " CHARACTER SET utf8mb4", false
}

func rtTextCol(r *rand.Rand, typ string) *rtCol {
	cs, latin1 := rtCharset(r)
	var n, maxRunes int
	var sqlType string
	large := false // now and then a large value
	switch typ {
	case "char":
		n = 1 + r.Intn(30)
		sqlType, maxRunes = fmt.Sprintf("CHAR(%d)", n), n
	case "varchar":
		n = 1 + r.Intn(120)
		sqlType, maxRunes = fmt.Sprintf("VARCHAR(%d)", n), n
	case "tinytext":
		sqlType, maxRunes = "TINYTEXT", 60
	case "text":
		sqlType, maxRunes = "TEXT", 200
	case "mediumtext", "longtext":
		sqlType, maxRunes, large = strings.ToUpper(typ), 100, true
	}
	return &rtCol{sqlType: sqlType + cs, mysqlType: typ, kind: rtText, gen: func(r *rand.Rand) string {
		if large && r.Intn(200) == 0 {
			return rtLitText(rtString(r, 5000+r.Intn(25000), latin1)) // a large value, now and then
		}
		return rtLitText(rtString(r, maxRunes, latin1))
	}}
}

func rtEnumSetCol(r *rand.Rand, set bool) *rtCol {
	cs, latin1 := rtCharset(r)
	var members []string
	switch {
	case !set && !latin1:
		members = []string{"alpha", "Beta", "ça va", "it's", `back\slash`, "😀 smile", "tab\there", "日本"}
	case !set:
		members = []string{"alpha", "Beta", "ça va", "it's", "€uro", "naïve", `back\slash`}
	case !latin1:
		members = []string{"r", "W", "ex ec", "é", "it's", "😀", "日"}
	default:
		members = []string{"r", "W", "é", "€", "ÿ", "it's"}
	}
	quoted := make([]string, len(members))
	for i, m := range members {
		quoted[i] = rtQuoteDef(m)
	}
	typ := "enum"
	if set {
		typ = "set"
	}
	return &rtCol{sqlType: strings.ToUpper(typ) + "(" + strings.Join(quoted, ",") + ")" + cs, mysqlType: typ, kind: rtText,
		gen: func(r *rand.Rand) string {
			if !set {
				return rtLitText(members[r.Intn(len(members))])
			}
			var pick []string
			for _, m := range members {
				if r.Intn(3) == 0 {
					pick = append(pick, m)
				}
			}
			r.Shuffle(len(pick), func(i, j int) { pick[i], pick[j] = pick[j], pick[i] })
			return rtLitText(strings.Join(pick, ","))
		}}
}

func rtBinaryCol(r *rand.Rand, typ string) *rtCol {
	var sqlType string
	var max int
	large := false // now and then a large value
	switch typ {
	case "binary":
		max = 1 + r.Intn(16)
		sqlType = fmt.Sprintf("BINARY(%d)", max)
	case "varbinary":
		max = 1 + r.Intn(64)
		sqlType = fmt.Sprintf("VARBINARY(%d)", max)
	case "tinyblob":
		sqlType, max = "TINYBLOB", 255
	case "blob":
		sqlType, max = "BLOB", 400
	case "mediumblob", "longblob":
		sqlType, max, large = strings.ToUpper(typ), 100, true
	}
	return &rtCol{sqlType: sqlType, mysqlType: typ, kind: rtBinary, gen: func(r *rand.Rand) string {
		if large && r.Intn(200) == 0 {
			return rtLitBin(rtBytes(r, 5000+r.Intn(40000))) // a large value, now and then
		}
		return rtLitBin(rtBytes(r, max))
	}}
}

func rtBitCol(r *rand.Rand) *rtCol {
	n := 1 + r.Intn(64)
	if r.Intn(4) == 0 {
		n = 64
	}
	return &rtCol{sqlType: fmt.Sprintf("BIT(%d)", n), mysqlType: "bit", kind: rtBit, gen: func(r *rand.Rand) string {
		max := uint64(math.MaxUint64) >> (64 - n)
		v := r.Uint64() >> (64 - n)
		switch r.Intn(8) {
		case 0:
			v = 0
		case 1:
			v = max
		}
		return "b'" + strconv.FormatUint(v, 2) + "'"
	}}
}

// rtTypes builds a random column of each kind the test knows.
var rtTypes = map[string]func(r *rand.Rand) *rtCol{
	"tinyint":   func(r *rand.Rand) *rtCol { return rtIntCol(8, r.Intn(3) == 0, false) },
	"smallint":  func(r *rand.Rand) *rtCol { return rtIntCol(16, r.Intn(3) == 0, false) },
	"mediumint": func(r *rand.Rand) *rtCol { return rtIntCol(24, r.Intn(3) == 0, false) },
	"int":       func(r *rand.Rand) *rtCol { return rtIntCol(32, r.Intn(2) == 0, r.Intn(6) == 0) },
	"bigint":    func(r *rand.Rand) *rtCol { return rtIntCol(64, r.Intn(2) == 0, false) },
	"decimal":   rtDecimalCol,
	"double": func(r *rand.Rand) *rtCol {
		return &rtCol{sqlType: "DOUBLE", mysqlType: "double", kind: rtDouble, gen: func(r *rand.Rand) string {
			return strconv.FormatFloat(rtDoubleValue(r), 'e', -1, 64)
		}}
	},
	"float": func(r *rand.Rand) *rtCol {
		return &rtCol{sqlType: "FLOAT", mysqlType: "float", kind: rtFloat, gen: func(r *rand.Rand) string {
			// The exact decimal of the float32: no double rounding on the way in.
			return strconv.FormatFloat(float64(rtFloat32(r)), 'e', -1, 64)
		}}
	},
	"date":       func(r *rand.Rand) *rtCol { return rtDateTimeCol(r, "date") },
	"datetime":   func(r *rand.Rand) *rtCol { return rtDateTimeCol(r, "datetime") },
	"timestamp":  func(r *rand.Rand) *rtCol { return rtDateTimeCol(r, "timestamp") },
	"time":       func(r *rand.Rand) *rtCol { return rtDateTimeCol(r, "time") },
	"year":       func(r *rand.Rand) *rtCol { return rtDateTimeCol(r, "year") },
	"char":       func(r *rand.Rand) *rtCol { return rtTextCol(r, "char") },
	"varchar":    func(r *rand.Rand) *rtCol { return rtTextCol(r, "varchar") },
	"varchar2":   func(r *rand.Rand) *rtCol { return rtTextCol(r, "varchar") },
	"tinytext":   func(r *rand.Rand) *rtCol { return rtTextCol(r, "tinytext") },
	"text":       func(r *rand.Rand) *rtCol { return rtTextCol(r, "text") },
	"mediumtext": func(r *rand.Rand) *rtCol { return rtTextCol(r, "mediumtext") },
	"longtext":   func(r *rand.Rand) *rtCol { return rtTextCol(r, "longtext") },
	"mediumblob": func(r *rand.Rand) *rtCol { return rtBinaryCol(r, "mediumblob") },
	"longblob":   func(r *rand.Rand) *rtCol { return rtBinaryCol(r, "longblob") },
	"enum":       func(r *rand.Rand) *rtCol { return rtEnumSetCol(r, false) },
	"set":        func(r *rand.Rand) *rtCol { return rtEnumSetCol(r, true) },
	"binary":     func(r *rand.Rand) *rtCol { return rtBinaryCol(r, "binary") },
	"varbinary":  func(r *rand.Rand) *rtCol { return rtBinaryCol(r, "varbinary") },
	"tinyblob":   func(r *rand.Rand) *rtCol { return rtBinaryCol(r, "tinyblob") },
	"blob":       func(r *rand.Rand) *rtCol { return rtBinaryCol(r, "blob") },
	"json": func(r *rand.Rand) *rtCol {
		return &rtCol{sqlType: "JSON", mysqlType: "json", kind: rtJSON, gen: func(r *rand.Rand) string {
			return rtLitText(rtJSONText(r))
		}}
	},
	"bit": rtBitCol,
}

var rtTypeNames = func() []string {
	var out []string
	for n := range rtTypes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}()

// ---------------------------------------------------------------------------------------------
// Names

var (
	rtColNames = []string{"order", "Mixed Case", "with-dash", "sp ace", "prénom", "select", "a.b", "we`ird",
		"it's", "Value", "desc", "group", "c#1", "знач", "KEY2", "from", "Größe", "data", "type", "table",
		"0lead", "dollar$", `back\slash`, "naïve col", "UPPER", "lower", "CamelCase", "x", "y", "z", "old",
		"pkNames", "NULL", "id"}
	rtTableNames = []string{"Big Table", "order", "MixedCase", "with-dash", "ünï_tbl", "select", "tick`it's",
		"t-ÿ", "Empty One", "plain_t", `back\slash`, "Key"}
	rtDatabases = []string{"rnd", "Rnd-Mixed DB"}

	// rtKeyBases and rtKeySuffixes make key strings that differ in case, accents, trailing
	// characters and spaces: many collate next to (or equal to) each other.
	rtKeyBases    = []string{"k", "K", "key", "Key", "KEY", "kéy", "kèy", "KÉY", "a", "A", "ä", "Ä", "ss", "ß", "o", "ö", "straße", "STRASSE", "x", "X", "ab", "aB", "Ab", ""}
	rtKeySuffixes = []string{"", "", " ", "  ", "\t", "!", "_", "~", "-", ".", "0", "00", "1", "a", "A", "é", "É", "\u00a0", "ÿ", "€", "'", "\\", "\u0081", "\x00"}
	rtKeyUTF8Only = []string{"😀", "😁", "\u0301", "日", "\u200b", "Ω"}
)

func rtNearKey(r *rand.Rand, maxRunes, numbers int, latin1 bool) string {
	suf := func() string {
		if !latin1 && r.Intn(6) == 0 {
			return rtKeyUTF8Only[r.Intn(len(rtKeyUTF8Only))]
		}
		return rtKeySuffixes[r.Intn(len(rtKeySuffixes))]
	}
	s := rtKeyBases[r.Intn(len(rtKeyBases))] + suf()
	if r.Intn(8) > 0 {
		s += strconv.Itoa(r.Intn(numbers))
	}
	s += suf()
	if rs := []rune(s); len(rs) > maxRunes {
		s = string(rs[:maxRunes])
	}
	return s
}

// ---------------------------------------------------------------------------------------------
// Tables

func rtGenerate(r *rand.Rand) []*rtTable {
	tnames := slices.Clone(rtTableNames)
	r.Shuffle(len(tnames), func(i, j int) { tnames[i], tnames[j] = tnames[j], tnames[i] })
	shapes := []string{"int-pk", "ubig-pk", "composite-pk", "varchar-pk", "unique-only", "no-key", "odd-pk", "empty"}
	var out []*rtTable
	for i, shape := range shapes {
		tb := &rtTable{shape: shape, db: rtDatabases[r.Intn(len(rtDatabases))], name: tnames[i],
			topic: fmt.Sprintf("rnd-t%d", i)}
		rtShape(r, tb)
		out = append(out, tb)
	}
	return out
}

// rtShape fills a table's columns, keys and row count for its shape.
func rtShape(r *rand.Rand, tb *rtTable) {
	cnames := slices.Clone(rtColNames)
	r.Shuffle(len(cnames), func(i, j int) { cnames[i], cnames[j] = cnames[j], cnames[i] })
	next := 0
	name := func() string { next++; return cnames[next-1] }
	var keyCols []*rtCol
	shape := tb.shape
	if shape == "empty" {
		shape = []string{"int-pk", "composite-pk", "varchar-pk", "unique-only"}[r.Intn(4)]
	}
	switch shape {
	case "int-pk":
		// An integer key with gaps (mostly small, some huge), starting below zero (unsigned: near
		// zero), sometimes with the extreme values of the type at both ends.
		tb.rows = 20000 + r.Intn(10001)
		c := &rtCol{name: name(), sqlType: "INT", mysqlType: "int", kind: rtInt}
		lo, hi := strconv.Itoa(math.MinInt32), strconv.Itoa(math.MaxInt32)
		cur := -int64(1 + r.Intn(1000000))
		switch r.Intn(4) {
		case 0:
			c.sqlType, c.mysqlType = "BIGINT", "bigint"
			lo, hi = strconv.FormatInt(math.MinInt64, 10), strconv.FormatInt(math.MaxInt64, 10)
		case 1:
			c.sqlType, c.mysqlType = "INT UNSIGNED", "int unsigned"
			lo, hi = "0", strconv.FormatUint(math.MaxUint32, 10)
			cur = int64(r.Intn(1000))
		}
		keyCols = append(keyCols, c)
		tb.pk = []string{c.name}
		tb.keyType = c.sqlType
		tb.extremes = r.Intn(2) == 0
		tb.keyGen = func(r *rand.Rand, i int) []string {
			if tb.extremes && i == 0 {
				return []string{lo}
			}
			if tb.extremes && i == tb.rows-1 {
				return []string{hi}
			}
			switch p := r.Intn(100); {
			case p < 70:
				cur++
			case p < 95:
				cur += 1 + int64(r.Intn(50))
			case p < 99:
				cur += 1 + int64(r.Intn(10000))
			default:
				cur += 1 + int64(r.Intn(1000000))
			}
			return []string{strconv.FormatInt(cur, 10)}
		}
	case "ubig-pk":
		tb.rows = 2000 + r.Intn(4000)
		c := &rtCol{name: name(), sqlType: "BIGINT UNSIGNED", mysqlType: "bigint unsigned", kind: rtInt}
		keyCols = append(keyCols, c)
		tb.pk = []string{c.name}
		edges := []uint64{0, 1, math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64 + 1, math.MaxInt64 + 2, math.MaxUint64 - 1, math.MaxUint64}
		tb.keyGen = func(r *rand.Rand, i int) []string {
			var v uint64
			switch {
			case i < len(edges):
				v = edges[i]
			case r.Intn(3) == 0:
				v = uint64(r.Intn(1000000))
			case r.Intn(2) == 0:
				v = math.MaxInt64 - 500000 + uint64(r.Intn(1000000))
			default:
				v = r.Uint64()
			}
			return []string{strconv.FormatUint(v, 10)}
		}
	case "composite-pk":
		tb.rows = 1000 + r.Intn(3000)
		cs, latin1 := rtCharset(r)
		s := &rtCol{name: name(), sqlType: "VARCHAR(24)" + cs, mysqlType: "varchar", kind: rtText}
		n := &rtCol{name: name(), sqlType: "INT", mysqlType: "int", kind: rtInt}
		keyCols = append(keyCols, s, n)
		tb.pk = []string{s.name, n.name}
		if r.Intn(3) == 0 {
			tb.pk = []string{n.name, s.name}
		}
		tb.keyGen = func(r *rand.Rand, i int) []string {
			return []string{rtLitText(rtNearKey(r, 24, 40, latin1)), strconv.Itoa(r.Intn(61) - 30)}
		}
	case "varchar-pk":
		tb.rows = 1000 + r.Intn(3000)
		variants := []struct {
			sqlType, mysqlType string
			latin1, binary     bool
		}{
			{"VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", "varchar", false, false},
			{"VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", "varchar", false, false},
			{"VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci", "varchar", false, false},
			{"VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", "varchar", false, false},
			{"VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_nopad_ci", "varchar", false, false},
			{"VARCHAR(32) CHARACTER SET latin1", "varchar", true, false},
			{"VARCHAR(32) CHARACTER SET latin1 COLLATE latin1_bin", "varchar", true, false},
			{"CHAR(12) CHARACTER SET utf8mb4", "char", false, false},
			{"VARBINARY(32)", "varbinary", false, true},
			{"BINARY(6)", "binary", false, true},
		}
		v := variants[r.Intn(len(variants))]
		kind := rtText
		if v.binary {
			kind = rtBinary
		}
		c := &rtCol{name: name(), sqlType: v.sqlType, mysqlType: v.mysqlType, kind: kind}
		keyCols = append(keyCols, c)
		tb.pk = []string{c.name}
		max := 32
		switch v.mysqlType {
		case "char":
			max = 12
		case "binary":
			max = 6
		}
		tb.keyGen = func(r *rand.Rand, i int) []string {
			if v.binary {
				if r.Intn(5) == 0 {
					return []string{rtLitBin(rtBytes(r, max))}
				}
				b := []byte(rtNearKey(r, max, 300, false))
				return []string{rtLitBin(b[:min(len(b), max)])}
			}
			return []string{rtLitText(rtNearKey(r, max, 300, v.latin1))}
		}
	case "unique-only":
		// No primary key: a NOT NULL UNIQUE key over a random type and a SMALLINT, sometimes
		// preceded (by index name) by a nullable UNIQUE key that cannot identify rows.
		tb.rows = 1000 + r.Intn(3000)
		var u1 *rtCol
		switch r.Intn(9) {
		case 0:
			u1 = rtDateTimeCol(r, "date")
		case 1:
			u1 = rtDateTimeCol(r, "datetime")
		case 2:
			u1 = rtDateTimeCol(r, "timestamp")
		case 3:
			u1 = rtDateTimeCol(r, "time")
		case 4:
			u1 = rtDecimalCol(r)
		case 5:
			u1 = rtDateTimeCol(r, "year")
		case 6:
			u1 = &rtCol{sqlType: "CHAR(8) CHARACTER SET latin1", mysqlType: "char", kind: rtText, gen: func(r *rand.Rand) string {
				return rtLitText(rtNearKey(r, 8, 50, true))
			}}
		case 7:
			u1 = rtIntCol(64, false, false)
		default:
			u1 = &rtCol{sqlType: "VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", mysqlType: "varchar", kind: rtText, gen: func(r *rand.Rand) string {
				return rtLitText(rtNearKey(r, 10, 50, false))
			}}
		}
		u1.name = name()
		u2 := &rtCol{name: name(), sqlType: "SMALLINT", mysqlType: "smallint", kind: rtInt}
		keyCols = append(keyCols, u1, u2)
		tb.unique = []string{u1.name, u2.name}
		if r.Intn(2) == 0 {
			tb.unique = []string{u2.name, u1.name}
		}
		withNullable := r.Intn(2) == 0
		var nu *rtCol
		if withNullable {
			nu = &rtCol{name: name(), sqlType: "INT", mysqlType: "int", kind: rtInt, nullable: true}
			keyCols = append(keyCols, nu)
			tb.keys = append(tb.keys, "UNIQUE KEY `a_nullable` ("+rtQN(nu.name)+")")
		}
		var used []string
		tb.keyGen = func(r *rand.Rand, i int) []string {
			v := u1.gen(r)
			if len(used) > 0 && r.Intn(2) == 0 {
				v = used[r.Intn(len(used))]
			} else if len(used) < 200 {
				used = append(used, v)
			}
			out := []string{v, strconv.Itoa(r.Intn(20) - 10)}
			if withNullable {
				if r.Intn(3) == 0 {
					out = append(out, "NULL")
				} else {
					out = append(out, strconv.Itoa(i*7-5000))
				}
			}
			return out
		}
	case "odd-pk":
		// A primary key the snapshot cannot page through (FLOAT, DOUBLE, BIT, ENUM, a TEXT
		// prefix: read in one pass), or a composite key of temporal and decimal columns.
		tb.rows = 300 + r.Intn(2000)
		var kc []*rtCol
		switch r.Intn(6) {
		case 0:
			kc = []*rtCol{rtTypes["double"](r)}
		case 1:
			kc = []*rtCol{rtTypes["float"](r)}
		case 2:
			kc = []*rtCol{rtBitCol(r)}
		case 3:
			kc = []*rtCol{rtEnumSetCol(r, false), rtIntCol(16, false, false)}
		case 4:
			t := &rtCol{sqlType: "TEXT CHARACTER SET utf8mb4", mysqlType: "text", kind: rtText, gen: func(r *rand.Rand) string {
				return rtLitText(rtNearKey(r, 20, 1000, false) + rtString(r, 30, false))
			}}
			kc = []*rtCol{t}
			tb.prefix = 6
		default:
			kc = []*rtCol{rtDateTimeCol(r, "datetime"), rtDecimalCol(r)}
		}
		for _, c := range kc {
			c.name = name()
			keyCols = append(keyCols, c)
			tb.pk = append(tb.pk, c.name)
		}
		tb.keyGen = func(r *rand.Rand, i int) []string {
			out := make([]string, len(kc))
			for j, c := range kc {
				out[j] = c.gen(r)
			}
			return out
		}
	case "no-key":
		tb.rows = 200 + r.Intn(2800)
	}
	if tb.shape == "empty" {
		tb.rows = 0
	}
	for _, c := range keyCols {
		tb.keyCols = append(tb.keyCols, c.name)
	}
	total := max(5+r.Intn(11), len(keyCols)+1)
	cols := slices.Clone(keyCols)
	for len(cols) < total {
		c := rtTypes[rtTypeNames[r.Intn(len(rtTypeNames))]](r)
		c.name = name()
		c.nullable = r.Intn(10) < 7
		cols = append(cols, c)
	}
	if r.Intn(3) == 0 {
		// A generated column over another column (any type: MD5 reads its text).
		src := cols[r.Intn(len(cols))]
		cols = append(cols, &rtCol{name: name(), sqlType: "VARCHAR(32) CHARACTER SET utf8mb4", mysqlType: "varchar",
			kind: rtText, nullable: true, generated: "MD5(" + rtQN(src.name) + ")"})
	}
	if r.Intn(3) == 0 {
		for _, c := range cols[len(keyCols):] {
			if c.nullable && c.generated == "" {
				c.invisible = true
				break
			}
		}
	}
	r.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	tb.cols = cols
	if tb.prefix > 0 {
		tb.keys = append(tb.keys, fmt.Sprintf("PRIMARY KEY (%s(%d))", rtQN(tb.pk[0]), tb.prefix))
	} else if len(tb.pk) > 0 {
		tb.keys = append(tb.keys, "PRIMARY KEY ("+rtQNList(tb.pk)+")")
	}
	if len(tb.unique) > 0 {
		tb.keys = append(tb.keys, "UNIQUE KEY `uk_main` ("+rtQNList(tb.unique)+")")
	}
}

func rtQNList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = rtQN(n)
	}
	return strings.Join(q, ",")
}

// rtCreate creates and fills a table; it returns the statements' total size.
func rtCreate(t *testing.T, db *testenv.MariaDB, r *rand.Rand, tb *rtTable) int {
	var defs []string
	for _, c := range tb.cols {
		null := " NOT NULL"
		switch {
		case c.generated != "":
			null = " AS (" + c.generated + ") VIRTUAL"
		case c.nullable:
			null = " NULL"
		}
		if c.invisible {
			null += " INVISIBLE"
		}
		defs = append(defs, rtQN(c.name)+" "+c.sqlType+null)
	}
	defs = append(defs, tb.keys...)
	stmts := []string{
		"SET NAMES utf8mb4",
		"SET time_zone = '+05:30'",
		"CREATE DATABASE IF NOT EXISTS " + rtQN(tb.db),
		"CREATE TABLE " + rtQN(tb.db) + "." + rtQN(tb.name) + " (\n  " + strings.Join(defs, ",\n  ") + "\n) ENGINE=InnoDB",
	}
	var names []string
	var insCols []*rtCol
	for _, c := range tb.cols {
		if c.generated == "" {
			names = append(names, rtQN(c.name))
			insCols = append(insCols, c)
		}
	}
	head := "INSERT INTO " + rtQN(tb.db) + "." + rtQN(tb.name) + " (" + strings.Join(names, ",") + ") VALUES "
	tail := ""
	if len(tb.keyCols) > 0 {
		// Keys that collide (also under the column's collation) keep the first row.
		k := rtQN(tb.keyCols[0])
		tail = " ON DUPLICATE KEY UPDATE " + k + " = " + k
	}
	keyIdx := map[string]int{}
	for i, n := range tb.keyCols {
		keyIdx[n] = i
	}
	var b strings.Builder
	size := 0
	flush := func() {
		if b.Len() > 0 {
			stmts = append(stmts, head+b.String()+tail)
			size += b.Len()
			b.Reset()
		}
	}
	vals := make([]string, len(insCols))
	for i := 0; i < tb.rows; i++ {
		var kv []string
		if tb.keyGen != nil {
			kv = tb.keyGen(r, i)
		}
		for j, c := range insCols {
			if ki, ok := keyIdx[c.name]; ok {
				vals[j] = kv[ki]
			} else if c.nullable && r.Intn(10) == 0 {
				vals[j] = "NULL"
			} else {
				vals[j] = c.gen(r)
			}
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(" + strings.Join(vals, ",") + ")")
		if b.Len() > 256<<10 {
			flush()
		}
	}
	flush()
	stmts = append(stmts, "ANALYZE TABLE "+rtQN(tb.db)+"."+rtQN(tb.name))
	db.Exec(t, stmts...)
	return size
}

// ---------------------------------------------------------------------------------------------
// Expected rows, as MariaDB reports them

// rtExpr is the SELECT expression that gives a column's value as comparable text: integers and
// BIT as decimal (ZEROFILL dropped), FLOAT widened to DOUBLE, binary as HEX, text converted to
// UTF-8; temporal values as the server prints them (the session is in UTC).
func rtExpr(c *rtCol) string {
	q := rtQN(c.name)
	switch c.kind {
	case rtInt, rtBit:
		return "CAST(" + q + " + 0 AS CHAR)"
	case rtFloat:
		return "CAST(" + q + " + 0E0 AS CHAR)"
	case rtBinary:
		return "HEX(" + q + ")"
	case rtDecimal, rtDouble, rtTemporal:
		return "CAST(" + q + " AS CHAR)"
	}
	return "CONVERT(" + q + " USING utf8mb4)"
}

// rtQueryRows runs a SELECT on its own connection in UTC with UTF-8 results; NULL is nil.
func rtQueryRows(t *testing.T, db *testenv.MariaDB, q string) [][]*string {
	t.Helper()
	c, err := db.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, s := range []string{"SET NAMES utf8mb4", "SET time_zone = '+00:00'"} {
		if _, err := c.Execute(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	res, err := c.Execute(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer res.Close()
	out := make([][]*string, res.RowNumber())
	for i := range out {
		row := make([]*string, res.ColumnNumber())
		for j := range row {
			if null, _ := res.IsNull(i, j); null {
				continue
			}
			s, err := res.GetString(i, j)
			if err != nil {
				t.Fatal(err)
			}
			s = strings.Clone(s)
			row[j] = &s
		}
		out[i] = row
	}
	return out
}

// rtCanon puts a value in the form both sides are compared in. Kafka values are decoded first:
// binary values are ISO-8859-1 (or Base64) text of the bytes. A value that does not parse gets
// a form that matches nothing.
func rtCanon(c *rtCol, v *string, kafka, base64Bin bool) string {
	if v == nil {
		return "\x00NULL"
	}
	s := *v
	side := "mariadb"
	if kafka {
		side = "kafka"
	}
	bad := func(why string) string { return "\x01unparsable " + side + " value (" + why + "): " + strconv.Quote(s) }
	switch c.kind {
	case rtBinary:
		if !kafka {
			return s
		}
		if base64Bin {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return bad(err.Error())
			}
			return strings.ToUpper(hex.EncodeToString(b))
		}
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xFF {
				return bad("rune above U+00FF in ISO-8859-1 text")
			}
			b = append(b, byte(r))
		}
		return strings.ToUpper(hex.EncodeToString(b))
	case rtFloat, rtDouble:
		bits := 64
		if c.kind == rtFloat {
			bits = 32
		}
		f, err := strconv.ParseFloat(s, bits)
		if err != nil {
			return bad(err.Error())
		}
		if f == 0 {
			f = 0 // -0 and 0 are the same value
		}
		return strconv.FormatFloat(f, 'g', -1, bits)
	case rtJSON:
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err != nil {
			return bad(err.Error())
		}
		b, err := json.Marshal(x)
		if err != nil {
			return bad(err.Error())
		}
		return "json:" + string(b)
	}
	return s
}

// rtShow renders a canonical value for messages.
func rtShow(s string) string {
	if s == "\x00NULL" {
		return "NULL"
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}

type rtMessage struct {
	Data      []map[string]*string `json:"data"`
	Database  string               `json:"database"`
	Table     string               `json:"table"`
	Type      string               `json:"type"`
	IsDdl     bool                 `json:"isDdl"`
	PKNames   []string             `json:"pkNames"`
	MySQLType map[string]string    `json:"mysqlType"`
	Old       json.RawMessage      `json:"old"`
}

// troubles returns the logs that say a run went wrong: a retry, a failure, an error.
func (o *ktObserver) troubles() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, l := range o.logs {
		if strings.HasPrefix(l, "state Retrying") || strings.HasPrefix(l, "state Failed") || strings.HasPrefix(l, "error: ") {
			out = append(out, l)
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// Setup shared by the tests

// rtSeed returns the test's seed (def, or TRIBUTARY_RANDOM_SEED) and logs how to replay it.
func rtSeed(t *testing.T, def int64) int64 {
	t.Helper()
	seed := def
	if s := os.Getenv("TRIBUTARY_RANDOM_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("TRIBUTARY_RANDOM_SEED=%q is not an integer", s)
		}
		seed = n
	}
	t.Logf("seed %d (replay: TRIBUTARY_RANDOM_SEED=%d go test -count=1 -run '%s$' ./tests)", seed, seed, t.Name())
	return seed
}

// rtSetup starts MariaDB and Kafka, then creates and fills the random tables drawn from r.
func rtSetup(t *testing.T, r *rand.Rand, opts ...func([]*rtTable) []testenv.MariaDBOption) (*testenv.MariaDB, *testenv.Kafka, []*rtTable) {
	t.Helper()
	tables := rtGenerate(r)
	var dbOpts []testenv.MariaDBOption
	for _, o := range opts {
		dbOpts = append(dbOpts, o(tables)...)
	}
	db := testenv.StartMariaDB(t, dbOpts...)
	k := testenv.StartKafka(t)
	for _, tb := range tables {
		size := rtCreate(t, db, r, tb)
		var types []string
		for _, c := range tb.cols {
			s := fmt.Sprintf("%q %s", c.name, c.sqlType)
			if c.generated != "" {
				s += " AS " + c.generated
			}
			if c.invisible {
				s += " INVISIBLE"
			}
			types = append(types, s)
		}
		t.Logf("%s %q.%q: %d rows generated (%d KB of SQL), key %v unique %v; columns: %s",
			tb.shape, tb.db, tb.name, tb.rows, size>>10, tb.pk, tb.unique, strings.Join(types, ", "))
	}
	return db, k, tables
}

// rtNewTask builds the full-migration task of the tables: 3 workers, the chunk size drawn from
// chunks, compression and binary encoding drawn from r. It reports whether binary values are
// Base64.
func rtNewTask(t *testing.T, r *rand.Rand, db *testenv.MariaDB, k *testenv.Kafka, tables []*rtTable, name string, chunks []int) (*task.Task, bool) {
	t.Helper()
	chunk := chunks[r.Intn(len(chunks))]
	tk := &task.Task{Version: task.Version, Name: name, MigrationTypes: task.MigrationTypes{Full: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: "rnd-default"},
		Compression: []string{"lz4", "gzip", "snappy", "zstd", "none"}[r.Intn(5)],
		Advanced:    task.Advanced{ChunkRows: chunk, FullWorkers: 3}}
	if r.Intn(4) == 0 {
		tk.FormatOptions.BinaryEncoding = "base64"
	}
	for _, tb := range tables {
		tk.Objects = append(tk.Objects, task.Object{Database: tb.db, Table: tb.name, Topic: tb.topic})
	}
	tk.Defaults()
	if err := tk.Validate(); err != nil {
		t.Fatalf("task with the random tables does not validate: %v", err)
	}
	t.Logf("chunk rows %d, 3 workers, compression %s, binary encoding %s", chunk, tk.Compression, tk.FormatOptions.BinaryEncoding)
	return tk, tk.FormatOptions.BinaryEncoding == "base64"
}

// rtCheckSegments checks that the big integer-key table was split into one segment per worker
// (its key spans far more than 2 × 3 values, up to the whole BIGINT range), so that parallel
// segments were really exercised.
func rtCheckSegments(t *testing.T, cp *testenv.Checkpoints, tb *rtTable, chunk int) {
	t.Helper()
	plan := string(cp.Get("full/" + tb.db + "." + tb.name + "/plan"))
	t.Logf("%q.%q (key %s, extremes %v) was read in %s segment(s)", tb.db, tb.name, tb.keyType, tb.extremes, plan)
	if plan != "3" {
		t.Errorf("%q.%q (%d rows, chunks of %d) was planned in %s segments, want 3", tb.db, tb.name, tb.rows, chunk, plan)
	}
}

// ---------------------------------------------------------------------------------------------

func TestRandomTables(t *testing.T) {
	seed := rtSeed(t, rtDefaultSeed)
	r := rand.New(rand.NewSource(seed))
	began := time.Now()

	db, k, tables := rtSetup(t, r)
	loaded := time.Now()

	tk, base64Bin := rtNewTask(t, r, db, k, tables, "random-tables", []int{100, 250, 500, 777})

	cp := &testenv.Checkpoints{}
	obs := newKtObserver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := pipeline.NewRunner(tk, cp, obs).Run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
	migrated := time.Now()

	total := 0
	for _, tb := range tables {
		total += rtCheckTable(t, db, k, tb, base64Bin, 0).rows
		if tb.shape == "int-pk" {
			rtCheckSegments(t, cp, tb, tk.Advanced.ChunkRows)
		}
	}
	t.Logf("%d rows in %d tables compared; setup and load %v, migration %v, check %v", total, len(tables),
		loaded.Sub(began).Round(time.Millisecond), migrated.Sub(loaded).Round(time.Millisecond), time.Since(migrated).Round(time.Millisecond))
}

// ---------------------------------------------------------------------------------------------
// Interrupted migration

const rtInterruptedSeed = 20240502

// rtChunksInFlight is how many chunks of one segment the runner may have read but not
// committed (pipeline.chunksInFlight): what a stop may make it send again, per segment.
const rtChunksInFlight = 2

// rtResumable says whether full migration reads the table in resumable key-ordered chunks: it
// has a primary key, or else a NOT NULL UNIQUE key, made of integer, DECIMAL, temporal, CHAR,
// VARCHAR, BINARY or VARBINARY columns (whole columns, no prefix). Other tables (no key, FLOAT,
// DOUBLE, BIT, ENUM or TEXT keys) are read in one pass and restart from the beginning.
func rtResumable(tb *rtTable) bool {
	ident := tb.ident()
	if len(ident) == 0 || tb.prefix > 0 {
		return false
	}
	for _, n := range ident {
		for _, c := range tb.cols {
			if c.name != n {
				continue
			}
			switch strings.TrimSuffix(c.mysqlType, " unsigned") {
			case "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "date", "datetime", "timestamp",
				"time", "year", "char", "varchar", "binary", "varbinary":
			default:
				return false
			}
		}
	}
	return true
}

// rtCommitted is a table's committed full-migration state, read from the checkpoints.
type rtCommitted struct {
	segs int   // segments planned
	rows int64 // rows committed, over all segments
	done bool  // every segment is done
}

func rtCommittedState(t *testing.T, cp *testenv.Checkpoints, tb *rtTable) rtCommitted {
	t.Helper()
	prefix := "full/" + tb.db + "." + tb.name + "/"
	plan := cp.Get(prefix + "plan")
	if len(plan) == 0 {
		return rtCommitted{}
	}
	n, err := strconv.Atoi(string(plan))
	if err != nil || n < 1 {
		t.Fatalf("%q.%q: checkpointed plan %q is not a segment count", tb.db, tb.name, plan)
	}
	st := rtCommitted{segs: n, done: true}
	for i := 0; i < n; i++ {
		var seg struct {
			Done bool  `json:"done"`
			Rows int64 `json:"rows"`
		}
		if b := cp.Get(prefix + strconv.Itoa(i)); len(b) > 0 {
			if err := json.Unmarshal(b, &seg); err != nil {
				t.Fatalf("%q.%q: checkpointed segment %d %q: %v", tb.db, tb.name, i, b, err)
			}
		}
		st.rows += seg.Rows
		st.done = st.done && seg.Done
	}
	return st
}

// rtStopper is the checkpoint store of the interrupted runs: it can stop the current run right
// after its n-th save that commits progress (rows or a finished segment).
type rtStopper struct {
	*testenv.Checkpoints
	mu     sync.Mutex
	ctx    context.Context // the current run's
	cancel context.CancelFunc
	left   int
	fired  bool
}

func (s *rtStopper) arm(ctx context.Context, cancel context.CancelFunc, n int, final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx, s.cancel, s.left, s.fired = ctx, cancel, n, false
	if final {
		s.cancel = nil
	}
}

// disarm reports whether the run was stopped by a save.
func (s *rtStopper) disarm() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel = nil
	return s.fired
}

func (s *rtStopper) Save(ctx context.Context, kv map[string][]byte) error {
	err := s.Checkpoints.Save(ctx, kv)
	progress := false
	for k, v := range kv {
		var seg struct {
			Done bool  `json:"done"`
			Rows int64 `json:"rows"`
		}
		if strings.HasPrefix(k, "full/") && !strings.HasSuffix(k, "/plan") && json.Unmarshal(v, &seg) == nil && (seg.Done || seg.Rows > 0) {
			progress = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if progress && s.cancel != nil && !s.fired && s.ctx.Err() == nil {
		if s.left--; s.left <= 0 {
			s.fired = true
			s.cancel()
		}
	}
	return err
}

// TestRandomTablesInterrupted migrates the random tables of TestRandomTables in several runs
// that share one checkpoint store: each run but the last is stopped (its context cancelled) a
// few milliseconds in, so that runs stop in the middle of chunks and segments of every key
// shape and the next run resumes after the last committed chunk. The topics must then hold
// every source row at least once with equal values, nothing else, and few rows twice: for a
// resumable table at most the chunks in flight at each stop (segments × 2 chunks), for a
// one-pass table (no key, or a key the snapshot cannot page by) at most the whole table again
// per stop that found it unfinished.
func TestRandomTablesInterrupted(t *testing.T) {
	seed := rtSeed(t, rtInterruptedSeed)
	r := rand.New(rand.NewSource(seed))
	began := time.Now()

	db, k, tables := rtSetup(t, r)
	loaded := time.Now()

	tk, base64Bin := rtNewTask(t, r, db, k, tables, "random-tables-interrupted", []int{100, 150, 200, 300})
	chunk := tk.Advanced.ChunkRows
	stops := 6 + r.Intn(5)
	t.Logf("%d stopped runs, then one to completion (stop times drawn from the seed; where in the migration they land varies from run to run)", stops)

	cp := &testenv.Checkpoints{}
	stopper := &rtStopper{Checkpoints: cp}
	obs := newKtObserver(t)
	hits := map[*rtTable]int{}    // stopped runs that began with the table unfinished
	resumed := map[*rtTable]int{} // runs that began with part of the table committed
	canceled, midRun := 0, 0
	resentDone := map[*rtTable][]string{} // messages sent by runs that began with the table done
	var schedule []string
	for run := 1; ; run++ {
		before := map[*rtTable]rtCommitted{}
		var rowsBefore int64
		for _, tb := range tables {
			st := rtCommittedState(t, cp, tb)
			before[tb] = st
			rowsBefore += st.rows
			if st.rows > 0 && !st.done {
				resumed[tb]++
			}
		}
		sentBefore := map[*rtTable]int{}
		for _, tb := range tables {
			sentBefore[tb] = k.Count(t, tb.topic)
		}
		final := run > stops
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		// A stop after a random delay, or at the latest right after the run's saves-th
		// checkpoint with progress in it: a long delay must not let the run finish the whole
		// migration (which takes a few hundred milliseconds), however fast this machine is.
		delay := time.Duration(5+r.Intn(146)) * time.Millisecond
		saves := 1 + r.Intn(3+4*run) // early runs stop sooner: inside the small tables, read first
		stopper.arm(ctx, cancel, saves, final)
		if !final {
			time.AfterFunc(delay, cancel)
		}
		if final {
			obs.Log("test", fmt.Sprintf("run %d, to completion", run))
		} else {
			obs.Log("test", fmt.Sprintf("run %d, stopped after %v or %d saves", run, delay, saves))
		}
		start := time.Now()
		err := pipeline.NewRunner(tk, stopper, obs).Run(ctx)
		took := time.Since(start)
		cancel()
		how := fmt.Sprintf("after %v", delay)
		if stopper.disarm() {
			how = fmt.Sprintf("at its %d. checkpoint save with progress", saves)
		}
		var rowsAfter int64
		doneBefore, doneAfter := 0, 0
		for _, tb := range tables {
			if sent := k.Count(t, tb.topic) - sentBefore[tb]; before[tb].done && sent > 0 {
				// A table the checkpoints already hold as done must not be read again.
				resentDone[tb] = append(resentDone[tb], fmt.Sprintf("run %d: %d", run, sent))
			}
			st := rtCommittedState(t, cp, tb)
			rowsAfter += st.rows
			if st.done {
				doneAfter++
			}
			if before[tb].done {
				doneBefore++
			}
		}
		if err == nil {
			schedule = append(schedule, fmt.Sprintf("run %d completed in %v", run, took.Round(time.Millisecond)))
			break
		}
		if final || !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d (final %v, stop after %v): %v", run, final, delay, err)
		}
		canceled++
		for _, tb := range tables {
			if !before[tb].done {
				hits[tb]++
			}
		}
		progressed := rowsAfter > rowsBefore || doneAfter > doneBefore
		if progressed {
			midRun++
		}
		schedule = append(schedule, fmt.Sprintf("run %d stopped %s (returned after %v): committed rows %d → %d, tables done %d → %d",
			run, how, took.Round(time.Millisecond), rowsBefore, rowsAfter, doneBefore, doneAfter))
	}
	migrated := time.Now()
	for _, s := range schedule {
		t.Log(s)
	}
	t.Logf("%d runs stopped before completion, %d of them after committing part of the migration (mid-migration)", canceled, midRun)
	var resumes []string
	for _, tb := range tables {
		if rtResumable(tb) {
			resumes = append(resumes, fmt.Sprintf("%s %d", tb.shape, resumed[tb]))
		}
	}
	t.Logf("runs that resumed a table from the middle: %s", strings.Join(resumes, ", "))
	if tr := obs.troubles(); len(tr) > 0 {
		t.Errorf("the runs reported %d problems, first: %s", len(tr), tr[0])
	}
	if canceled < 3 || midRun < 2 {
		t.Errorf("only %d runs were stopped before completion, %d of them mid-migration: the test proves little (want at least 3 and 2)", canceled, midRun)
	}

	// A run after completion sends nothing.
	counts := map[string]int{}
	for _, tb := range tables {
		counts[tb.topic] = k.Count(t, tb.topic)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pipeline.NewRunner(tk, stopper, obs).Run(ctx); err != nil {
		t.Fatalf("run after completion: %v", err)
	}

	total, totalExtra, totalResent, totalAllowed := 0, 0, 0, 0
	for _, tb := range tables {
		if n := k.Count(t, tb.topic); n != counts[tb.topic] {
			t.Errorf("%s %q.%q: a run after completion sent %d more messages", tb.shape, tb.db, tb.name, n-counts[tb.topic])
		}
		st := rtCommittedState(t, cp, tb)
		if !st.done {
			t.Errorf("%s %q.%q: not done in the checkpoints after the migration completed", tb.shape, tb.db, tb.name)
		}
		if r := resentDone[tb]; len(r) > 0 {
			t.Errorf("%s %q.%q (%s): the checkpoints held it as done, yet %d later run(s) sent it again (messages per run: %s)",
				tb.shape, tb.db, tb.name, map[bool]string{true: "resumable", false: "one pass"}[rtResumable(tb)], len(r), strings.Join(r, ", "))
		}
		rows, _ := strconv.Atoi(db.Query(t, "SELECT COUNT(*) FROM "+rtQN(tb.db)+"."+rtQN(tb.name))[0][0])
		res := rtResumable(tb)
		allowed := hits[tb] * rows // a one-pass table: sent whole again after each stop that found it unfinished
		how := "one pass"
		if res {
			allowed = hits[tb] * st.segs * rtChunksInFlight * chunk
			how = fmt.Sprintf("resumable, %d segment(s)", st.segs)
		}
		d := rtCheckTable(t, db, k, tb, base64Bin, allowed)
		t.Logf("%s %q.%q (%s): %d rows, %d messages: %d resent (%d distinct rows), allowed %d; %d stops hit it, %d runs resumed it mid-table",
			tb.shape, tb.db, tb.name, how, d.rows, d.messages, d.resent, d.resentRows, allowed, hits[tb], resumed[tb])
		if tb.shape == "int-pk" {
			rtCheckSegments(t, cp, tb, chunk)
		}
		total += d.rows
		totalExtra += d.resent
		totalResent += d.resentRows
		totalAllowed += allowed
	}
	t.Logf("%d rows in %d tables compared: %d messages resent (%d distinct rows; allowed %d); setup and load %v, migration %v, check %v",
		total, len(tables), totalExtra, totalResent, totalAllowed, loaded.Sub(began).Round(time.Millisecond),
		migrated.Sub(loaded).Round(time.Millisecond), time.Since(migrated).Round(time.Millisecond))
}

// ---------------------------------------------------------------------------------------------
// Comparison

// rtDelivery is what rtCheckTable found in a table's topic.
type rtDelivery struct {
	rows       int // rows in MariaDB
	messages   int // messages in the topic
	resent     int // messages that repeat a row already delivered
	resentRows int // distinct rows delivered more than once
}

// rtCheckTable compares one table's topic with the table. Every row must be there with equal
// values, nothing else, and every message of a row must carry the same values; at most
// maxResent messages may repeat a row already delivered (0: every row exactly once).
func rtCheckTable(t *testing.T, db *testenv.MariaDB, k *testenv.Kafka, tb *rtTable, base64Bin bool, maxResent int) rtDelivery {
	t.Helper()
	label := fmt.Sprintf("%s %q.%q", tb.shape, tb.db, tb.name)
	exprs := make([]string, len(tb.cols))
	colIdx := map[string]int{}
	for i, c := range tb.cols {
		exprs[i] = rtExpr(c)
		colIdx[c.name] = i
	}
	want := rtQueryRows(t, db, "SELECT "+strings.Join(exprs, ", ")+" FROM "+rtQN(tb.db)+"."+rtQN(tb.name))
	if tb.shape == "empty" && len(want) != 0 {
		t.Fatalf("%s: %d rows, want an empty table", label, len(want))
	}
	if tb.shape != "empty" && len(want) == 0 {
		t.Fatalf("%s: the generated table is empty", label)
	}
	var identIdx []int
	for _, n := range tb.ident() {
		identIdx = append(identIdx, colIdx[n])
	}
	ident := func(canon []string) string {
		if identIdx == nil {
			return strings.Join(canon, "\x1e")
		}
		parts := make([]string, len(identIdx))
		for i, j := range identIdx {
			parts[i] = canon[j]
		}
		return strings.Join(parts, "\x1e")
	}
	expected := map[string][]string{}
	copies := map[string]int{} // rows of the table with this identity (a table without a key may repeat rows)
	for _, row := range want {
		canon := make([]string, len(tb.cols))
		for i, c := range tb.cols {
			canon[i] = rtCanon(c, row[i], false, false)
		}
		id := ident(canon)
		if identIdx != nil && copies[id] > 0 {
			t.Fatalf("%s: two source rows share the key %q: the test's key comparison is wrong", label, id)
		}
		expected[id] = canon
		copies[id]++
	}

	recs := k.ReadAll(t, tb.topic, max(len(want), k.Count(t, tb.topic)), 60*time.Second)
	var problems []string
	problem := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	lost, extra, resent, mismatched, inconsistent, badMeta := 0, 0, 0, 0, 0, 0
	var extras [][]string
	delivered := map[string]int{}
	first := map[string][]string{} // the first message's values of each row
	for _, rec := range recs {
		var m rtMessage
		if err := json.Unmarshal(rec.Value, &m); err != nil {
			problem("offset %d: not JSON (%v): %q", rec.Offset, err, rec.Value)
			badMeta++
			continue
		}
		var meta []string
		if m.Type != "INIT" {
			meta = append(meta, fmt.Sprintf("type %q, want INIT", m.Type))
		}
		if m.IsDdl {
			meta = append(meta, "isDdl true")
		}
		if m.Database != tb.db || m.Table != tb.name {
			meta = append(meta, fmt.Sprintf("database.table %q.%q, want %q.%q", m.Database, m.Table, tb.db, tb.name))
		}
		if !slices.Equal(m.PKNames, tb.pk) || (m.PKNames == nil) != (tb.pk == nil) {
			meta = append(meta, fmt.Sprintf("pkNames %q, want %q", m.PKNames, tb.pk))
		}
		if string(m.Old) != "null" {
			meta = append(meta, fmt.Sprintf("old %s, want null", m.Old))
		}
		for _, c := range tb.cols {
			if got := m.MySQLType[c.name]; got != c.mysqlType {
				meta = append(meta, fmt.Sprintf("mysqlType[%q] = %q, want %q", c.name, got, c.mysqlType))
			}
		}
		if len(m.MySQLType) != len(tb.cols) {
			meta = append(meta, fmt.Sprintf("mysqlType has %d columns, want %d", len(m.MySQLType), len(tb.cols)))
		}
		if len(m.Data) != 1 {
			meta = append(meta, fmt.Sprintf("%d rows in data, want 1", len(m.Data)))
		} else if len(m.Data[0]) != len(tb.cols) {
			var keys []string
			for k := range m.Data[0] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			meta = append(meta, fmt.Sprintf("data has columns %q, want %d columns", keys, len(tb.cols)))
		}
		if len(meta) > 0 {
			badMeta++
			if badMeta <= 3 {
				problem("offset %d: %s", rec.Offset, strings.Join(meta, "; "))
			}
		}
		if len(m.Data) == 0 {
			continue
		}
		canon := make([]string, len(tb.cols))
		for i, c := range tb.cols {
			v, ok := m.Data[0][c.name]
			if !ok {
				canon[i] = "\x01missing column"
				continue
			}
			canon[i] = rtCanon(c, v, true, base64Bin)
		}
		id := ident(canon)
		exp, ok := expected[id]
		if !ok {
			extra++
			extras = append(extras, canon)
			continue
		}
		delivered[id]++
		if delivered[id] > copies[id] {
			extra++
			resent++
			if maxResent == 0 {
				problem("offset %d: row %s sent again", rec.Offset, rtShow(id))
			}
		}
		var diffs []string
		for i, c := range tb.cols {
			if canon[i] != exp[i] {
				diffs = append(diffs, fmt.Sprintf("%q (%s): kafka %s, mariadb %s", c.name, c.sqlType, rtShow(canon[i]), rtShow(exp[i])))
			}
		}
		if len(diffs) > 0 {
			mismatched++
			problem("offset %d, row %s: %s", rec.Offset, rtShow(id), strings.Join(diffs, "; "))
		}
		if prev, ok := first[id]; !ok {
			first[id] = canon
		} else if !slices.Equal(prev, canon) {
			inconsistent++
			var diffs []string
			for i, c := range tb.cols {
				if canon[i] != prev[i] {
					diffs = append(diffs, fmt.Sprintf("%q: %s, earlier %s", c.name, rtShow(canon[i]), rtShow(prev[i])))
				}
			}
			problem("offset %d, row %s differs from an earlier message of the row: %s", rec.Offset, rtShow(id), strings.Join(diffs, "; "))
		}
	}
	resentRows := 0
	var missing [][]string
	for id, n := range copies {
		switch d := delivered[id]; {
		case d < n:
			lost += n - d
			missing = append(missing, expected[id])
		case d > n:
			resentRows++
		}
	}
	if maxResent > 0 && resent > maxResent {
		problem("%d messages (%d distinct rows) repeat rows already delivered, more than the %d the stops allow", resent, resentRows, maxResent)
	}
	sort.Slice(missing, func(i, j int) bool { return ident(missing[i]) < ident(missing[j]) })
	describe := func(canon []string) string {
		parts := make([]string, len(canon))
		for i, c := range tb.cols {
			parts[i] = fmt.Sprintf("%q=%s", c.name, rtShow(canon[i]))
		}
		return strings.Join(parts, ", ")
	}
	for i, row := range missing {
		if i == 5 {
			break
		}
		problem("row never reached Kafka: %s", describe(row))
	}
	for i, row := range extras {
		if i == 5 {
			break
		}
		problem("Kafka has a row the table does not: %s", describe(row))
	}
	if n := k.Count(t, tb.topic); n != len(recs) {
		extra += n - len(recs)
		problem("the topic holds %d records, %d were read", n, len(recs))
	}
	if len(problems) > 0 {
		for i, p := range problems {
			if i == 20 {
				t.Errorf("%s: … %d more problems", label, len(problems)-i)
				break
			}
			t.Errorf("%s: %s", label, p)
		}
		t.Errorf("%s: %d rows in MariaDB, %d messages in %s: %d lost, %d extra (%d resent, %d allowed), %d with wrong values, %d unlike an earlier message of their row, %d with wrong metadata",
			label, len(want), len(recs), tb.topic, lost, extra, resent, maxResent, mismatched, inconsistent, badMeta)
	} else if maxResent == 0 {
		t.Logf("%s: %d rows, all in %s exactly once with equal values", label, len(want), tb.topic)
	} else {
		t.Logf("%s: %d rows, all in %s with equal values, %d messages repeat a row (%d allowed)", label, len(want), tb.topic, resent, maxResent)
	}
	return rtDelivery{rows: len(want), messages: len(recs), resent: resent, resentRows: resentRows}
}
