package tests

// TestRandomTablesFullThenIncremental: the random tables of TestRandomTables (same generator,
// same key shapes, column types and odd names) migrated with full AND incremental migration
// while they are being changed, then replayed like a strict consumer.
//
// A task with MigrationTypes{Full, Incremental} (chunks of 100–300 rows, 3 workers, the full
// phase throttled to last about four seconds) runs while two writers (each on half of the
// tables, started a moment before the task) make random INSERTs (plain, IGNORE, ON DUPLICATE
// KEY UPDATE, REPLACE, several rows at once), UPDATEs of other columns, UPDATEs that change key
// values (integer keys shifted across segment bounds or into gaps, character keys turned into
// their case, accent and trailing-space twins, new keys), DELETEs and small multi-statement
// transactions (some held open a few milliseconds, some rolled back), with values of every
// column type from the generator. Half of the statements go to tables full migration has not
// finished; their rows are picked, more often than not, right after the committed cursor of a
// segment being read (the chunks in flight) or around the bounds between the parallel segments
// of the integer-key tables. The writers go on for two seconds after full migration ended,
// stop, and the task streams the binlog up to the server's position after the last write.
//
// Each table's topic (all in partition 0, the default policy, so offset order is the order to
// apply) is then replayed strictly: INIT rows build the initial state and all come before any
// change; an INSERT must not find its key; an UPDATE's before image (its data with the "old"
// columns put back) must be the current row — on the columns "old" carries and on the others —
// and its new key must be free; a DELETE must find the row as it carries it. The final state
// must equal the table in MariaDB row for row (rtCanon's normalisation). A change the hand-off
// dropped, or one sent although the snapshot held it, breaks one of these rules.
//
// Shapes: all eight of TestRandomTables are kept. Rows are identified by their key's exact
// values (bytes for text): the server keeps no two rows whose keys are equal under the
// collation, so exact values never merge two rows, and a key changed into its collation twin
// ("Key" → "KEY ") is an UPDATE of the same row whose "old" carries the former bytes. The
// no-key table cannot be replayed by key: it is replayed as a multiset of whole rows (INIT and
// INSERT add a row, DELETE removes one equal row, which must exist, UPDATE replaces one row
// equal to its before image), and compared with the table as a multiset. Tables read in one
// pass (no key, FLOAT/DOUBLE/BIT/ENUM/TEXT-prefix keys) have one snapshot for the whole table.
//
// The run is never interrupted: a resumed segment re-sends the chunks that were in flight and,
// for a character key, every change after its earliest snapshot (pipeline/handoff.go, by
// design at-least-once), which a strict replay must reject. In one uninterrupted run each
// segment has one snapshot (piece), so mysql.CompareKey only places binlog rows between the
// integer bounds of parallel segments; a VARCHAR key's table is one segment and its collation
// order is never approximated. rincCheckKeyOrder still compares CompareKey with the server's
// order over every final key: an error for the key types it claims to order exactly (what a
// resumed hand-off relies on), a log line for character keys.
//
// The seed is fixed (rincDefaultSeed) and logged; TRIBUTARY_RANDOM_SEED=<n> replays or varies
// the tables, the task and the writers' choices (the interleaving with the migration varies
// from run to run).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"

	"tributary/engine/event"
	"tributary/engine/mysql"
	"tributary/engine/pipeline"
	"tributary/engine/task"
	"tributary/internal/testenv"
)

const rincDefaultSeed = 20240503

// rincAllowedErrors are the errors the writer's random statements may meet; a statement that
// fails changes nothing (and writes nothing to the binlog). Any other error stops the test.
var rincAllowedErrors = map[uint16]string{
	1062: "duplicate key",
	1690: "key shifted out of the type's range",
	1264: "value out of range",
	1406: "key variant too long",
	1265: "value not allowed (ENUM key variant)",
	1213: "deadlock",
	1205: "lock wait timeout",
}

// ---------------------------------------------------------------------------------------------
// The writer

// rincSegment is a segment's checkpointed state (pipeline.segmentState).
type rincSegment struct {
	Lo     [][]byte `json:"lo"`
	After  [][]byte `json:"after"`
	UpTo   [][]byte `json:"upTo"`
	Done   bool     `json:"done"`
	Rows   int64    `json:"rows"`
	Pieces []struct {
		From [][]byte       `json:"from"`
		H    event.Position `json:"h"`
	} `json:"pieces"`
}

func rincSegments(cp *testenv.Checkpoints, tb *rtTable) []rincSegment {
	prefix := "full/" + tb.db + "." + tb.name + "/"
	n, err := strconv.Atoi(string(cp.Get(prefix + "plan")))
	if err != nil {
		return nil
	}
	out := make([]rincSegment, n)
	for i := range out {
		_ = json.Unmarshal(cp.Get(prefix+strconv.Itoa(i)), &out[i])
	}
	return out
}

type rincWriter struct {
	db     *testenv.MariaDB
	r      *rand.Rand
	tables []*rtTable
	cp     *testenv.Checkpoints
	chunk  int
	conn   *client.Conn
	next   int               // index passed to keyGen
	rows   map[*rtTable]int  // approximate row counts
	ints   map[*rtTable]bool // the key is one integer column

	// Statistics, read once the writer stopped.
	tried, ok  map[string]int // statements by kind
	picks      map[string]int // how rows were picked: hot (chunks in flight), boundary, random
	txns, rbs  int            // transactions committed, rolled back
	errs       map[uint16]int
	errSample  map[uint16]string
	duringFull int    // statements that succeeded while full migration ran
	failure    string // an unexpected error: the writer stopped
}

func newRincWriter(t *testing.T, db *testenv.MariaDB, r *rand.Rand, tables []*rtTable, cp *testenv.Checkpoints, chunk int) *rincWriter {
	t.Helper()
	conn, err := db.Conn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// TIMESTAMP literals of the generator are local to +05:30, as when the tables were filled.
	for _, s := range []string{"SET NAMES utf8mb4", "SET time_zone = '+05:30'"} {
		if _, err := conn.Execute(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	w := &rincWriter{db: db, r: r, tables: tables, cp: cp, chunk: chunk, conn: conn, next: 1 << 20,
		rows: map[*rtTable]int{}, ints: map[*rtTable]bool{}, tried: map[string]int{}, ok: map[string]int{},
		picks: map[string]int{}, errs: map[uint16]int{}, errSample: map[uint16]string{}}
	for _, tb := range tables {
		n, _ := strconv.Atoi(db.Query(t, "SELECT COUNT(*) FROM "+rtQN(tb.db)+"."+rtQN(tb.name))[0][0])
		w.rows[tb] = n
		if id := tb.ident(); len(id) == 1 {
			w.ints[tb] = rincColumn(tb, id[0]).kind == rtInt
		}
	}
	return w
}

func rincColumn(tb *rtTable, name string) *rtCol {
	for _, c := range tb.cols {
		if c.name == name {
			return c
		}
	}
	panic("no column " + name)
}

func rincTrunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// exec runs one statement; it reports the rows affected and whether it succeeded.
func (w *rincWriter) exec(kind, q string) (int, bool) {
	w.tried[kind]++
	res, err := w.conn.Execute(q)
	if err != nil {
		var me *gmysql.MyError
		if errors.As(err, &me) {
			if _, ok := rincAllowedErrors[me.Code]; ok {
				w.errs[me.Code]++
				if w.errSample[me.Code] == "" {
					w.errSample[me.Code] = rincTrunc(q) + ": " + me.Message
				}
				return 0, false
			}
		}
		if w.failure == "" {
			w.failure = fmt.Sprintf("%s: %v", rincTrunc(q), err)
		}
		return 0, false
	}
	n := int(res.AffectedRows)
	res.Close()
	w.ok[kind]++
	if kind != "begin" && kind != "commit" && kind != "rollback" && w.cp.Get("full-done") == nil {
		w.duringFull++
	}
	return n, true
}

func (w *rincWriter) run(stop <-chan struct{}) {
	for w.failure == "" {
		select {
		case <-stop:
			return
		default:
		}
		w.step()
	}
}

// step makes one statement, or a small transaction.
func (w *rincWriter) step() {
	if w.r.Intn(8) > 0 {
		w.statement(w.pickTable())
		return
	}
	if _, ok := w.exec("begin", "BEGIN"); !ok {
		return
	}
	tb := w.pickTable()
	for i := 2 + w.r.Intn(4); i > 0; i-- {
		if w.r.Intn(3) == 0 {
			tb = w.pickTable()
		}
		w.statement(tb)
		if w.r.Intn(3) == 0 {
			// Keep the transaction open a little: snapshots may begin while it is.
			time.Sleep(time.Duration(5+w.r.Intn(30)) * time.Millisecond)
		}
	}
	if w.r.Intn(8) == 0 {
		w.exec("rollback", "ROLLBACK")
		w.rbs++
		return
	}
	if _, ok := w.exec("commit", "COMMIT"); ok {
		w.txns++
	}
}

// pickTable prefers (half of the time) a table full migration has not finished: being read,
// or not yet (a table read in one pass has no checkpointed plan until it is done).
func (w *rincWriter) pickTable() *rtTable {
	if w.r.Intn(2) == 0 && w.cp.Get("full-done") == nil {
		var busy []*rtTable
		for _, tb := range w.tables {
			segs := rincSegments(w.cp, tb)
			if segs == nil {
				busy = append(busy, tb)
			}
			for _, s := range segs {
				if !s.Done {
					busy = append(busy, tb)
					break
				}
			}
		}
		if len(busy) > 0 {
			return busy[w.r.Intn(len(busy))]
		}
	}
	return w.tables[w.r.Intn(len(w.tables))]
}

// pickQuery returns a SELECT of the identifying columns of up to n existing rows: right after
// the committed cursor of a segment being read (the chunks in flight), around the bound
// between two segments, or anywhere.
func (w *rincWriter) pickQuery(tb *rtTable, n int) string {
	ident := tb.ident()
	cols := rtQNList(ident)
	q0 := rtQN(ident[0])
	cond, order := "", cols
	off := w.r.Intn(max(1, w.rows[tb]))
	how := "random"
	segs := rincSegments(w.cp, tb)
	var open []int
	for i, s := range segs {
		if !s.Done {
			open = append(open, i)
		}
	}
	switch {
	case len(open) > 0 && w.r.Intn(3) > 0:
		s := segs[open[w.r.Intn(len(open))]]
		if len(s.Lo) > 0 {
			cond = " WHERE " + q0 + " > " + string(s.Lo[0])
		}
		off = int(s.Rows) + w.r.Intn(2*w.chunk+1)
		how = "hot"
	case len(segs) > 1 && w.r.Intn(3) == 0:
		s := segs[w.r.Intn(len(segs)-1)]
		if len(s.UpTo) > 0 {
			bound := string(s.UpTo[0])
			if w.r.Intn(2) == 0 {
				cond, order = " WHERE "+q0+" <= "+bound, q0+" DESC"
			} else {
				cond = " WHERE " + q0 + " > " + bound
			}
			off = w.r.Intn(3)
			how = "boundary"
		}
	}
	w.picks[how]++
	return "SELECT " + cols + " FROM " + rtQN(tb.db) + "." + rtQN(tb.name) + cond + " ORDER BY " + order +
		" LIMIT " + strconv.Itoa(n) + " OFFSET " + strconv.Itoa(off)
}

// where returns the clause that picks up to n existing rows of a statement.
func (w *rincWriter) where(tb *rtTable, n int) string {
	if len(tb.ident()) == 0 {
		return " ORDER BY RAND() LIMIT " + strconv.Itoa(n)
	}
	return " WHERE (" + rtQNList(tb.ident()) + ") IN (SELECT * FROM (" + w.pickQuery(tb, n) + ") AS rinc_pick)"
}

// nearKey returns a value next to an existing integer key (in a gap, often inside the chunks
// being read), or "" when none was found.
func (w *rincWriter) nearKey(tb *rtTable) string {
	res, err := w.conn.Execute("SELECT CAST(" + rtQN(tb.ident()[0]) + " AS CHAR) FROM (" + w.pickQuery(tb, 1) + ") AS rinc_near")
	if err != nil {
		if w.failure == "" {
			w.failure = "near key: " + err.Error()
		}
		return ""
	}
	defer res.Close()
	if res.RowNumber() == 0 {
		return ""
	}
	s, _ := res.GetString(0, 0)
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return ""
	}
	d := int64(1 + w.r.Intn(3))
	if w.r.Intn(4) == 0 {
		d = int64(1 + w.r.Intn(60))
	}
	if w.r.Intn(2) == 0 {
		d = -d
	}
	return v.Add(v, big.NewInt(d)).String()
}

func (w *rincWriter) insertCols(tb *rtTable) []*rtCol {
	var out []*rtCol
	for _, c := range tb.cols {
		if c.generated == "" {
			out = append(out, c)
		}
	}
	return out
}

// newRow returns the SQL literals of a new row (insertCols order).
func (w *rincWriter) newRow(tb *rtTable) []string {
	var kv []string
	if tb.keyGen != nil {
		w.next++
		kv = tb.keyGen(w.r, w.next)
		if w.ints[tb] && w.r.Intn(2) == 0 {
			if k := w.nearKey(tb); k != "" {
				kv = slices.Clone(kv)
				kv[slices.Index(tb.keyCols, tb.ident()[0])] = k
			}
		}
	}
	var vals []string
	for _, c := range w.insertCols(tb) {
		if ki := slices.Index(tb.keyCols, c.name); ki >= 0 {
			vals = append(vals, kv[ki])
		} else {
			vals = append(vals, w.value(c))
		}
	}
	return vals
}

func (w *rincWriter) value(c *rtCol) string {
	if c.nullable && w.r.Intn(8) == 0 {
		return "NULL"
	}
	return c.gen(w.r)
}

// otherCols are the columns an UPDATE may set without touching a key.
func (w *rincWriter) otherCols(tb *rtTable) []*rtCol {
	var out []*rtCol
	for _, c := range w.insertCols(tb) {
		if !slices.Contains(tb.keyCols, c.name) {
			out = append(out, c)
		}
	}
	return out
}

// keyExpr returns a new value (an expression) for key column c of the picked rows.
func (w *rincWriter) keyExpr(tb *rtTable, c *rtCol) string {
	q := rtQN(c.name)
	literal := func() string {
		if c.gen != nil && w.r.Intn(2) == 0 {
			return c.gen(w.r)
		}
		w.next++
		kv := tb.keyGen(w.r, w.next)
		return kv[slices.Index(tb.keyCols, c.name)]
	}
	switch c.kind {
	case rtInt:
		if c.nullable && w.r.Intn(5) == 0 {
			return "NULL"
		}
		if w.ints[tb] && w.r.Intn(3) == 0 {
			if k := w.nearKey(tb); k != "" {
				return k
			}
		}
		d := 1 + w.r.Intn(3)
		if w.r.Intn(3) == 0 {
			d = 1 + w.r.Intn(40)
		}
		if w.r.Intn(2) == 0 {
			return fmt.Sprintf("%s - %d", q, d)
		}
		return fmt.Sprintf("%s + %d", q, d)
	case rtText:
		// Collation twins: case, accents, trailing spaces and characters.
		switch w.r.Intn(9) {
		case 0:
			return "UPPER(" + q + ")"
		case 1:
			return "LOWER(" + q + ")"
		case 2:
			return "CONCAT(" + q + ", ' ')"
		case 3:
			return "RTRIM(" + q + ")"
		case 4:
			return "CONCAT(" + q + ", " + rtLitText("é") + ")"
		case 5:
			return "REPLACE(REPLACE(" + q + ", 'e', " + rtLitText("é") + "), 'a', " + rtLitText("ä") + ")"
		}
		return literal()
	case rtBinary:
		switch w.r.Intn(4) {
		case 0:
			return "CONCAT(" + q + ", X'00')"
		case 1:
			return "REVERSE(" + q + ")"
		}
		return literal()
	}
	return literal()
}

// statement makes one random change of a table.
func (w *rincWriter) statement(tb *rtTable) {
	table := rtQN(tb.db) + "." + rtQN(tb.name)
	cols := w.insertCols(tb)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = rtQN(c.name)
	}
	p := w.r.Intn(100)
	if w.rows[tb] == 0 {
		p = 0 // an empty table: insert
	}
	switch {
	case p < 30:
		n := 1
		if w.r.Intn(4) == 0 {
			n = 2 + w.r.Intn(3)
		}
		var rows []string
		for i := 0; i < n; i++ {
			rows = append(rows, "("+strings.Join(w.newRow(tb), ",")+")")
		}
		verb, kind, tail := "INSERT INTO ", "insert", ""
		switch w.r.Intn(6) {
		case 0:
			verb, kind = "INSERT IGNORE INTO ", "insert-ignore"
		case 1:
			verb, kind = "REPLACE INTO ", "replace"
		case 2:
			if other := w.otherCols(tb); len(other) > 0 && len(tb.keyCols) > 0 {
				kind = "upsert"
				c := other[w.r.Intn(len(other))]
				tail = " ON DUPLICATE KEY UPDATE " + rtQN(c.name) + " = VALUES(" + rtQN(c.name) + ")"
			}
		}
		if n, ok := w.exec(kind, verb+table+" ("+strings.Join(names, ",")+") VALUES "+strings.Join(rows, ",")+tail); ok && kind != "upsert" && kind != "replace" {
			w.rows[tb] += n
		}
	case p < 62:
		other := w.otherCols(tb)
		if len(other) == 0 {
			other = cols
		}
		var sets []string
		for _, i := range w.r.Perm(len(other))[:1+w.r.Intn(min(3, len(other)))] {
			c := other[i]
			v := w.value(c)
			if w.r.Intn(12) == 0 {
				v = rtQN(c.name) // no change
			}
			sets = append(sets, rtQN(c.name)+" = "+v)
		}
		n := 1
		if w.r.Intn(5) == 0 {
			n = 2 + w.r.Intn(4)
		}
		w.exec("update", "UPDATE "+table+" SET "+strings.Join(sets, ", ")+w.where(tb, n))
	case p < 82 && len(tb.keyCols) > 0:
		// A key change, with another column now and then.
		c := rincColumn(tb, tb.keyCols[w.r.Intn(len(tb.keyCols))])
		expr := w.keyExpr(tb, c)
		sets := []string{rtQN(c.name) + " = " + expr}
		if other := w.otherCols(tb); len(other) > 0 && w.r.Intn(3) == 0 {
			o := other[w.r.Intn(len(other))]
			sets = append(sets, rtQN(o.name)+" = "+w.value(o))
		}
		n := 1
		order := ""
		if strings.HasPrefix(expr, rtQN(c.name)+" ") && w.ints[tb] {
			// A shift of several rows of an integer key, in the order that frees each target.
			n = 1 + w.r.Intn(6)
			order = " ORDER BY " + rtQN(c.name)
			if strings.Contains(expr, " + ") {
				order += " DESC"
			}
		}
		w.exec("update-key", "UPDATE "+table+" SET "+strings.Join(sets, ", ")+w.where(tb, n)+order)
	default:
		n := 1
		if w.r.Intn(4) == 0 {
			n = 2 + w.r.Intn(3)
		}
		if d, ok := w.exec("delete", "DELETE FROM "+table+w.where(tb, n)); ok {
			w.rows[tb] -= d
		}
	}
}

// ---------------------------------------------------------------------------------------------
// The strict replay

type rincMessage struct {
	Data     []map[string]*string `json:"data"`
	Old      []map[string]*string `json:"old"`
	Database string               `json:"database"`
	Table    string               `json:"table"`
	Type     string               `json:"type"`
	IsDdl    bool                 `json:"isDdl"`
}

type rincEntry struct {
	row []string
	n   int // copies (a table without a key may hold equal rows)
}

// rincReplayed is what the strict replay of a topic found.
type rincReplayed struct {
	messages   int
	byType     map[string]int
	keyUpdates int // UPDATEs that changed the row's identity
	violations int
	rows       int // rows in MariaDB at the end
}

func rincReplay(t *testing.T, db *testenv.MariaDB, k *testenv.Kafka, tb *rtTable, base64Bin bool, cp *testenv.Checkpoints) rincReplayed {
	t.Helper()
	label := fmt.Sprintf("%s %q.%q", tb.shape, tb.db, tb.name)
	keyed := len(tb.ident()) > 0
	colIdx := map[string]int{}
	for i, c := range tb.cols {
		colIdx[c.name] = i
	}
	var identIdx []int
	for _, n := range tb.ident() {
		identIdx = append(identIdx, colIdx[n])
	}
	ident := func(canon []string) string {
		if !keyed {
			return strings.Join(canon, "\x1e")
		}
		parts := make([]string, len(identIdx))
		for i, j := range identIdx {
			parts[i] = canon[j]
		}
		return strings.Join(parts, "\x1e")
	}
	describe := func(canon []string) string {
		parts := make([]string, len(canon))
		for i, c := range tb.cols {
			parts[i] = fmt.Sprintf("%q=%s", c.name, rtShow(canon[i]))
		}
		return strings.Join(parts, ", ")
	}
	diff := func(got, want []string, gotName, wantName string) string {
		var out []string
		for i, c := range tb.cols {
			if got[i] != want[i] {
				out = append(out, fmt.Sprintf("%q (%s): %s %s, %s %s", c.name, c.sqlType, gotName, rtShow(got[i]), wantName, rtShow(want[i])))
			}
		}
		return strings.Join(out, "; ")
	}

	res := rincReplayed{byType: map[string]int{}}
	recs := k.ReadAll(t, tb.topic, k.Count(t, tb.topic), 60*time.Second)
	res.messages = len(recs)
	var problems []string
	history := map[string][]string{} // identity → "offset TYPE" of the messages that touched it
	var firstBad string              // identity of the first violation
	violation := func(offset int64, id, format string, args ...any) {
		res.violations++
		if firstBad == "" {
			firstBad = id
		}
		problems = append(problems, fmt.Sprintf("offset %d: %s", offset, fmt.Sprintf(format, args...)))
	}
	state := map[string]*rincEntry{}
	add := func(id string, row []string) {
		if e := state[id]; e != nil && e.n > 0 {
			e.n++
			e.row = row
			return
		}
		state[id] = &rincEntry{row: row, n: 1}
	}
	remove := func(id string) {
		if e := state[id]; e != nil {
			if e.n--; e.n <= 0 {
				delete(state, id)
			}
		}
	}
	canonOf := func(vals map[string]*string) ([]string, []string) {
		canon := make([]string, len(tb.cols))
		var bad []string
		for i, c := range tb.cols {
			v, ok := vals[c.name]
			if !ok {
				canon[i] = "\x01missing column"
				bad = append(bad, c.name)
				continue
			}
			canon[i] = rtCanon(c, v, true, base64Bin)
		}
		return canon, bad
	}
	changes := false
	for _, rec := range recs {
		if rec.Partition != 0 {
			violation(rec.Offset, "", "message in partition %d: the replay order is only known within one partition", rec.Partition)
			continue
		}
		var m rincMessage
		if err := json.Unmarshal(rec.Value, &m); err != nil {
			violation(rec.Offset, "", "not JSON (%v): %q", err, rec.Value)
			continue
		}
		res.byType[m.Type]++
		if m.IsDdl || m.Database != tb.db || m.Table != tb.name || len(m.Data) != 1 {
			violation(rec.Offset, "", "unexpected message: type %q, isDdl %v, %q.%q, %d rows in data", m.Type, m.IsDdl, m.Database, m.Table, len(m.Data))
			continue
		}
		data, bad := canonOf(m.Data[0])
		if len(bad) > 0 || len(m.Data[0]) != len(tb.cols) {
			violation(rec.Offset, "", "%s data has %d columns, want %d (missing %q)", m.Type, len(m.Data[0]), len(tb.cols), bad)
		}
		id := ident(data)
		history[id] = append(history[id], fmt.Sprintf("%d %s", rec.Offset, m.Type))
		cur := state[id]
		switch m.Type {
		case "INIT", "INSERT":
			if m.Type == "INIT" && changes {
				violation(rec.Offset, id, "INIT of %s after binlog changes", rtShow(id))
			}
			if keyed && cur != nil {
				violation(rec.Offset, id, "%s of key %s, which is already present (%s)", m.Type, rtShow(id), diff(data, cur.row, "message", "present"))
			}
			add(id, data)
		case "UPDATE":
			before := slices.Clone(data)
			if len(m.Old) > 1 {
				violation(rec.Offset, id, "UPDATE with %d old images", len(m.Old))
			}
			var oldCols []string
			if len(m.Old) == 1 {
				for name, v := range m.Old[0] {
					i, ok := colIdx[name]
					if !ok {
						violation(rec.Offset, id, "UPDATE old names column %q, which the table lacks", name)
						continue
					}
					oldCols = append(oldCols, name)
					before[i] = rtCanon(tb.cols[i], v, true, base64Bin)
				}
			}
			sort.Strings(oldCols)
			idB := ident(before)
			if idB != id {
				res.keyUpdates++
				history[idB] = append(history[idB], fmt.Sprintf("%d UPDATE (key moved away to %s)", rec.Offset, rtShow(id)))
			}
			prev := state[idB]
			switch {
			case prev == nil:
				violation(rec.Offset, idB, "UPDATE of key %s (old columns %q), which is not present (missed INSERT or DELETE applied twice); new key %s present: %v",
					rtShow(idB), oldCols, rtShow(id), cur != nil)
			case keyed && !slices.Equal(prev.row, before):
				violation(rec.Offset, idB, "UPDATE of key %s (old columns %q): its before image is not the current row (a change missed or applied twice): %s",
					rtShow(idB), oldCols, diff(before, prev.row, "before image", "stream so far"))
			}
			if keyed && idB != id && cur != nil {
				violation(rec.Offset, id, "UPDATE moves key %s onto key %s, which is already present", rtShow(idB), rtShow(id))
			}
			remove(idB)
			add(id, data)
			changes = true
		case "DELETE":
			switch {
			case cur == nil:
				violation(rec.Offset, id, "DELETE of key %s, which is not present", rtShow(id))
			case keyed && !slices.Equal(cur.row, data):
				violation(rec.Offset, id, "DELETE of key %s: the deleted row is not the current one: %s", rtShow(id), diff(data, cur.row, "deleted", "stream so far"))
			}
			remove(id)
			changes = true
		default:
			violation(rec.Offset, id, "message type %q", m.Type)
		}
	}

	// The final state against the table.
	exprs := make([]string, len(tb.cols))
	for i, c := range tb.cols {
		exprs[i] = rtExpr(c)
	}
	want := rtQueryRows(t, db, "SELECT "+strings.Join(exprs, ", ")+" FROM "+rtQN(tb.db)+"."+rtQN(tb.name))
	res.rows = len(want)
	wantState := map[string]*rincEntry{}
	for _, row := range want {
		canon := make([]string, len(tb.cols))
		for i, c := range tb.cols {
			canon[i] = rtCanon(c, row[i], false, false)
		}
		id := ident(canon)
		if e := wantState[id]; e != nil {
			if keyed {
				t.Fatalf("%s: two rows of the table share the key %s: the test's key comparison is wrong", label, rtShow(id))
			}
			e.n++
			continue
		}
		wantState[id] = &rincEntry{row: canon, n: 1}
	}
	var finals []string
	var ids []string
	for id := range wantState {
		ids = append(ids, id)
	}
	for id := range state {
		if wantState[id] == nil {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	missing, extra, differ := 0, 0, 0
	for _, id := range ids {
		w, g := wantState[id], state[id]
		switch {
		case g == nil:
			missing += w.n
			finals = append(finals, fmt.Sprintf("row missing from the replayed state: %s (messages of its key: %q)", describe(w.row), history[id]))
		case w == nil:
			extra += g.n
			finals = append(finals, fmt.Sprintf("replayed state has a row the table does not: %s (messages of its key: %q)", describe(g.row), history[id]))
		case g.n != w.n:
			differ++
			finals = append(finals, fmt.Sprintf("row %s: %d copies replayed, %d in the table", rtShow(id), g.n, w.n))
		case !slices.Equal(g.row, w.row):
			differ++
			finals = append(finals, fmt.Sprintf("row %s differs: %s (messages of its key: %q)", rtShow(id), diff(g.row, w.row, "replayed", "mariadb"), history[id]))
		}
	}

	if len(problems) > 0 || len(finals) > 0 {
		for i, p := range problems {
			if i == 10 {
				t.Errorf("%s: … %d more violations", label, len(problems)-i)
				break
			}
			t.Errorf("%s: strict replay: %s", label, p)
		}
		if firstBad != "" {
			t.Errorf("%s: messages of the first violating key %s: %q", label, rtShow(firstBad), history[firstBad])
		}
		for i, f := range finals {
			if i == 10 {
				t.Errorf("%s: … %d more final-state differences", label, len(finals)-i)
				break
			}
			t.Errorf("%s: final state: %s", label, f)
		}
		for i, s := range rincSegments(cp, tb) {
			var pieces []string
			for _, p := range s.Pieces {
				pieces = append(pieces, fmt.Sprintf("from %q at %s", p.From, p.H))
			}
			t.Errorf("%s: segment %d: lo %q upTo %q, %d rows, pieces %s", label, i, s.Lo, s.UpTo, s.Rows, strings.Join(pieces, "; "))
		}
		t.Errorf("%s: %d messages in %s (%v): %d strict-replay violations; final state: %d rows missing, %d extra, %d differ (%d rows in MariaDB)",
			label, len(recs), tb.topic, res.byType, res.violations, missing, extra, differ, len(want))
	}
	return res
}

// rincCheckKeyOrder reads every table with a chunk key in the server's key order (the
// product's own snapshot reader) and checks that mysql.CompareKey, which the hand-off uses to
// place a binlog row in a segment or piece, orders each pair of neighbours the same way. In one
// uninterrupted run it only decides between the integer bounds of parallel segments; after a
// resume it decides between pieces for keys it claims to order exactly (mysql.ExactKeyOrder:
// numbers, temporal and binary values): a disagreement there is an error. For character keys
// the hand-off does not trust it (a resumed segment sends every change after its earliest
// snapshot), so disagreements are only reported.
func rincCheckKeyOrder(t *testing.T, tk *task.Task, tables []*rtTable) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := mysql.Connect(ctx, &tk.Source.MySQL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var refs []mysql.Ref
	for _, tb := range tables {
		refs = append(refs, mysql.Ref{Database: tb.db, Table: tb.name})
	}
	schemas, err := mysql.LoadTables(ctx, conn, refs)
	if err != nil {
		t.Fatal(err)
	}
	for i, tb := range tables {
		et := schemas[refs[i]]
		key := mysql.ChunkKey(et)
		if et == nil || key == nil {
			continue
		}
		var prev []event.Value
		var bad []string
		pairs := 0
		_, _, err := mysql.ReadChunk(ctx, conn, et, key, nil, nil, "", 0, func(row event.Row) error {
			k := mysql.KeyOf(row, key)
			if prev != nil {
				pairs++
				if c := mysql.CompareKey(et, key, prev, k); c >= 0 {
					bad = append(bad, fmt.Sprintf("%q then %q (CompareKey %d)", prev, k, c))
				}
			}
			prev = k
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, c := range key {
			types = append(types, et.Columns[c].ColumnType+" "+et.Columns[c].Charset)
		}
		switch {
		case len(bad) == 0:
			t.Logf("%s %q.%q: mysql.CompareKey agrees with the server's order of its %d neighbouring keys (%s)", tb.shape, tb.db, tb.name, pairs, strings.Join(types, ", "))
		case mysql.ExactKeyOrder(et, key):
			t.Errorf("%s %q.%q: mysql.CompareKey, which claims the exact order of this key (%s), disagrees with the server on %d of %d neighbouring keys, e.g. %s",
				tb.shape, tb.db, tb.name, strings.Join(types, ", "), len(bad), pairs, strings.Join(bad[:min(3, len(bad))], "; "))
		default:
			t.Logf("%s %q.%q: mysql.CompareKey approximates this character key's collation (%s): it disagrees with the server on %d of %d neighbouring keys, e.g. %s (not used by the hand-off of an uninterrupted run)",
				tb.shape, tb.db, tb.name, strings.Join(types, ", "), len(bad), pairs, strings.Join(bad[:min(3, len(bad))], "; "))
		}
	}
}

// ---------------------------------------------------------------------------------------------

// hasWideRune reports whether s holds a character outside the Basic Multilingual Plane.
func hasWideRune(s string) bool {
	for _, c := range s {
		if c > 0xFFFF {
			return true
		}
	}
	return false
}

func TestRandomTablesFullThenIncremental(t *testing.T) {
	seed := rtSeed(t, rincDefaultSeed)
	r := rand.New(rand.NewSource(seed))
	began := time.Now()

	// The server's metadata (information_schema, SHOW CREATE TABLE) is utf8mb3: an ENUM or
	// SET member with a 4-byte character reads as '?' there, and only the binlog's full row
	// metadata names it (the precheck warns when binlog_row_metadata is not FULL). Tables with
	// such members get a server with FULL; others one with FULL or the default, by the seed.
	fullMeta := r.Intn(2) == 0
	db, k, tables := rtSetup(t, r, func(tables []*rtTable) []testenv.MariaDBOption {
		for _, tb := range tables {
			for _, c := range tb.cols {
				up := strings.ToUpper(c.sqlType)
				if (strings.HasPrefix(up, "ENUM") || strings.HasPrefix(up, "SET")) && hasWideRune(c.sqlType) {
					fullMeta = true
				}
			}
		}
		if fullMeta {
			return []testenv.MariaDBOption{testenv.WithFlags("--binlog-row-metadata=FULL")}
		}
		return nil
	})
	t.Logf("binlog_row_metadata FULL: %v", fullMeta)
	loaded := time.Now()

	tk, base64Bin := rtNewTask(t, r, db, k, tables, "random-tables-incremental", []int{100, 150, 200, 300})
	tk.MigrationTypes.Incremental = true
	// Full migration throttled to last about four seconds, so that the writer changes rows of
	// every table while its chunks are being read.
	total := 0
	for _, tb := range tables {
		total += tb.rows
	}
	tk.Advanced.FullThrottle = task.Throttle{Enabled: true, RPS: max(2000, total/4)}
	if err := tk.Validate(); err != nil {
		t.Fatalf("task does not validate: %v", err)
	}
	t.Logf("full and incremental migration, full phase throttled to %d rows/s", tk.Advanced.FullThrottle.RPS)

	cp := &testenv.Checkpoints{}
	obs := newKtObserver(t)
	// Two writers, each on half of the tables (with its own connection and random choices).
	var writers []*rincWriter
	for i := 0; i < 2; i++ {
		var mine []*rtTable
		for j, tb := range tables {
			if j%2 == i {
				mine = append(mine, tb)
			}
		}
		writers = append(writers, newRincWriter(t, db, rand.New(rand.NewSource(seed+1+int64(i))), mine, cp, tk.Advanced.ChunkRows))
	}

	stop := make(chan struct{})
	failed := make(chan string, len(writers))
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(stop)
			if w.failure != "" {
				failed <- w.failure
			}
		}()
	}
	stopWriters := func() {
		close(stop)
		wg.Wait()
	}
	// The writers are at full speed when the task takes its start position: the changes
	// between it and each segment's snapshot are the ones the hand-off must sort out.
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- pipeline.NewRunner(tk, cp, obs).Run(ctx) }()

	// Write while full migration runs, then for a while after it ended.
	deadline := time.Now().Add(60 * time.Second)
	for cp.Get("full-done") == nil && time.Now().Before(deadline) {
		select {
		case err := <-runDone:
			stopWriters()
			t.Fatalf("the task ended during full migration: %v", err)
		case f := <-failed:
			stopWriters()
			t.Fatalf("a writer stopped on an unexpected error: %s", f)
		case <-time.After(20 * time.Millisecond):
		}
	}
	fullDone := time.Now()
	if cp.Get("full-done") == nil {
		stopWriters()
		t.Fatal("full migration did not end within 60 s")
	}
	time.Sleep(2 * time.Second)
	stopWriters()
	written := time.Now()
	for _, w := range writers {
		if w.failure != "" {
			t.Fatalf("a writer stopped on an unexpected error: %s", w.failure)
		}
	}

	// Wait until the task committed the binlog up to the server's position after the last write.
	ms := db.Query(t, "SHOW MASTER STATUS")
	off, _ := strconv.ParseUint(ms[0][1], 10, 64)
	target := event.Position{File: ms[0][0], Offset: off}
	var committed event.Position
	for wait := time.Now().Add(30 * time.Second); ; {
		_ = json.Unmarshal(cp.Get("binlog"), &committed)
		if committed.Compare(target) >= 0 && committed.File != "" {
			break
		}
		if time.Now().After(wait) {
			t.Fatalf("the task committed the binlog up to %s, the server is at %s", committed, target)
		}
		select {
		case err := <-runDone:
			t.Fatalf("the task ended during incremental migration: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-runDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("run ended with %v, want context.Canceled", err)
	}
	streamed := time.Now()
	if tr := obs.troubles(); len(tr) > 0 {
		t.Errorf("the run reported %d problems (a retry re-sends full migration: the replay cannot be strict), first: %s", len(tr), tr[0])
	}

	tried, ok, picks, errs := map[string]int{}, map[string]int{}, map[string]int{}, map[uint16]int{}
	errSample := map[uint16]string{}
	txns, rbs, duringFull := 0, 0, 0
	for _, w := range writers {
		for kd, n := range w.tried {
			tried[kd] += n
		}
		for kd, n := range w.ok {
			ok[kd] += n
		}
		for h, n := range w.picks {
			picks[h] += n
		}
		for code, n := range w.errs {
			errs[code] += n
			errSample[code] = w.errSample[code]
		}
		txns, rbs, duringFull = txns+w.txns, rbs+w.rbs, duringFull+w.duringFull
	}
	var kindList, errList, pickList []string
	for _, kd := range []string{"insert", "insert-ignore", "upsert", "replace", "update", "update-key", "delete"} {
		kindList = append(kindList, fmt.Sprintf("%s %d/%d", kd, ok[kd], tried[kd]))
	}
	for code, n := range errs {
		errList = append(errList, fmt.Sprintf("%d (%s) ×%d, e.g. %s", code, rincAllowedErrors[code], n, errSample[code]))
	}
	sort.Strings(errList)
	for _, h := range []string{"hot", "boundary", "random"} {
		pickList = append(pickList, fmt.Sprintf("%s %d", h, picks[h]))
	}
	t.Logf("writers: statements succeeded/tried: %s; %d transactions committed, %d rolled back; %d statements succeeded during full migration; rows picked: %s",
		strings.Join(kindList, ", "), txns, rbs, duringFull, strings.Join(pickList, ", "))
	for _, e := range errList {
		t.Logf("writers: expected error %s", e)
	}
	if duringFull < 200 {
		t.Errorf("only %d changes were made while full migration ran: the test proves little", duringFull)
	}

	var sum rincReplayed
	sum.byType = map[string]int{}
	for _, tb := range tables {
		d := rincReplay(t, db, k, tb, base64Bin, cp)
		segs := rincSegments(cp, tb)
		t.Logf("%s %q.%q: %d segment(s); %d messages %v, %d key-changing updates; %d violations; %d rows in MariaDB",
			tb.shape, tb.db, tb.name, len(segs), d.messages, d.byType, d.keyUpdates, d.violations, d.rows)
		if tb.shape == "int-pk" {
			rtCheckSegments(t, cp, tb, tk.Advanced.ChunkRows)
		}
		sum.messages += d.messages
		sum.keyUpdates += d.keyUpdates
		sum.violations += d.violations
		sum.rows += d.rows
		for ty, n := range d.byType {
			sum.byType[ty] += n
		}
	}
	rincCheckKeyOrder(t, tk, tables)
	t.Logf("%d messages replayed strictly (%v, %d key changes), %d violations, %d rows compared; setup and load %v, full migration %v, writing after it %v, catching up %v, replay %v",
		sum.messages, sum.byType, sum.keyUpdates, sum.violations, sum.rows, loaded.Sub(began).Round(time.Millisecond),
		fullDone.Sub(loaded).Round(time.Millisecond), written.Sub(fullDone).Round(time.Millisecond),
		streamed.Sub(written).Round(time.Millisecond), time.Since(streamed).Round(time.Millisecond))
}
