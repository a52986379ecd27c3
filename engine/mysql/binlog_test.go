package mysql

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"tributary/engine/event"
	"tributary/engine/task"
	"tributary/internal/testenv"
)

// source is a MariaDB test server with the task settings to reach it.
type source struct {
	m   *testenv.MariaDB
	cfg *task.MySQL
}

func startSource(t *testing.T, full bool) *source {
	t.Helper()
	var opts []testenv.MariaDBOption
	if full {
		opts = append(opts, testenv.WithFlags("--binlog-row-metadata=FULL"))
	}
	m := testenv.StartMariaDB(t, opts...)
	return &source{m: m, cfg: &task.MySQL{Host: m.Host, Port: m.Port, User: m.User, Password: m.Password}}
}

func (s *source) conn(t *testing.T) *client.Conn {
	t.Helper()
	c, err := Connect(context.Background(), s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (s *source) position(t *testing.T) event.Position {
	t.Helper()
	c := s.conn(t)
	p, err := CurrentPosition(c, "mariadb")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// open starts a stream; the warnings it reports are logged.
func (s *source) open(t *testing.T, cfg StreamConfig) *Stream {
	t.Helper()
	cfg.Source = s.cfg
	cfg.Flavor = "mariadb"
	if cfg.Warn == nil {
		cfg.Warn = func(msg string) { t.Logf("warning: %s", msg) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := OpenStream(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// next reads one batch with a timeout.
func next(t *testing.T, st *Stream) *Txn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	txn, err := st.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return txn
}

// readTxns reads batches until n committed transactions that hold events have been read
// (empty transactions are skipped) and returns them merged (one Txn per transaction).
func readTxns(t *testing.T, st *Stream, n int) []*Txn {
	t.Helper()
	var out []*Txn
	var cur *Txn
	for len(out) < n {
		b := next(t, st)
		if cur == nil {
			cur = &Txn{SafePos: b.SafePos, GTID: b.GTID}
		}
		cur.Events = append(cur.Events, b.Events...)
		if b.Commit {
			cur.Commit, cur.Pos, cur.CommitTime = true, b.Pos, b.CommitTime
			if len(cur.Events) > 0 {
				out = append(out, cur)
			}
			cur = nil
		}
	}
	return out
}

func only(db, table string) func(string, string) bool {
	return func(d, tb string) bool { return d == db && (tb == table || tb == "") }
}

func rowString(r event.Row) string {
	parts := make([]string, len(r))
	for i, v := range r {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = string(v)
		}
	}
	return strings.Join(parts, ",")
}

func TestBinlogTransactions(t *testing.T) {
	t.Parallel()
	src := startSource(t, false)
	src.m.Exec(t, "CREATE DATABASE shop", "USE shop",
		"CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), qty INT UNSIGNED)",
		"CREATE TABLE other (id INT PRIMARY KEY)")
	start := src.position(t)
	hist, err := SeedSchemaHistory(context.Background(), src.conn(t), "mariadb", []Ref{{"shop", "items"}}, start)
	if err != nil {
		t.Fatal(err)
	}
	src.m.Exec(t, "USE shop",
		"INSERT INTO items VALUES (1, 'apple', 10)",
		"BEGIN", "INSERT INTO items VALUES (2, 'pear', 5), (3, 'fig', 4294967295)", "UPDATE items SET qty = qty + 1 WHERE id = 1",
		"INSERT INTO other VALUES (1)", "COMMIT",
		"INSERT INTO other VALUES (2)",
		"BEGIN", "DELETE FROM items WHERE id = 2", "UPDATE items SET name = NULL WHERE id = 3", "COMMIT",
		// Not selected: an empty transaction. Account statements: never forwarded.
		"ALTER TABLE other ADD COLUMN x INT",
		"CREATE USER spy IDENTIFIED BY 'secret'", "GRANT SELECT ON shop.* TO spy",
		"ALTER TABLE items ADD COLUMN note TEXT",
		"INSERT INTO items VALUES (4, 'kiwi', 1, 'green')",
		// MariaDB logs CREATE TABLE … SELECT as one transaction: the DDL, then the rows.
		"CREATE TABLE copy SELECT * FROM items WHERE id > 2")

	selected := func(db, table string) bool { return db == "shop" && table != "other" }
	st := src.open(t, StreamConfig{Start: start, Tables: selected, History: hist, SourceVersion: "v1"})
	var batches []*Txn
	for nonEmpty := 0; nonEmpty < 6; {
		b := next(t, st)
		if !b.Commit {
			t.Fatalf("a small transaction came in parts: %+v", b)
		}
		batches = append(batches, b)
		if len(b.Events) > 0 {
			nonEmpty++
		}
	}
	type want struct {
		kind          event.Kind
		before, after string
	}
	var got [][]want
	prev := start
	for _, b := range batches {
		if comparePos(b.Pos, prev) <= 0 {
			t.Errorf("commit position %v does not advance past %v", b.Pos, prev)
		}
		if b.GTID == "" || !strings.Contains(b.Pos.GTID, b.GTID) {
			t.Errorf("txn GTID %q, position %v", b.GTID, b.Pos)
		}
		if b.SafePos != prev {
			t.Errorf("SafePos %v, want the previous commit %v", b.SafePos, prev)
		}
		prev = b.Pos
		if len(b.Events) == 0 {
			continue // the transaction on `other`
		}
		var w []want
		for _, e := range b.Events {
			if e.Pos.File != b.Pos.File || e.Pos.Offset <= b.SafePos.Offset || e.Pos.Offset >= b.Pos.Offset {
				t.Errorf("event position %v outside its transaction %v..%v", e.Pos, b.SafePos, b.Pos)
			}
			if e.SafePos != b.SafePos || e.CommitTime.IsZero() || e.ServerID != 1 || e.SourceVersion != "v1" {
				t.Errorf("event %v: SafePos %v CommitTime %v ServerID %d", e.Kind, e.SafePos, e.CommitTime, e.ServerID)
			}
			if e.Kind == event.DDL {
				sql := e.SQL
				if e.TableName == "copy" {
					sql = "…" // the server writes the full table definition
				}
				w = append(w, want{e.Kind, e.DDLKind, sql})
				if e.Table == nil || len(e.Table.Columns) != 4 || e.Database != "shop" {
					t.Errorf("DDL event: %+v", e)
				}
				continue
			}
			w = append(w, want{e.Kind, rowString(e.Before), rowString(e.After)})
			if e.Table.Name == "copy" && rowString(e.After) != "" {
				w[len(w)-1].before = "copy"
			}
		}
		got = append(got, w)
	}
	expect := [][]want{
		{{event.Insert, "", "1,apple,10"}},
		{{event.Insert, "", "2,pear,5"}, {event.Insert, "", "3,fig,4294967295"}, {event.Update, "1,apple,10", "1,apple,11"}},
		{{event.Delete, "2,pear,5", ""}, {event.Update, "3,fig,4294967295", "3,NULL,4294967295"}},
		{{event.DDL, "alter table", "ALTER TABLE items ADD COLUMN note TEXT"}},
		{{event.Insert, "", "4,kiwi,1,green"}},
		{{event.DDL, "create table", "…"}, {event.Insert, "copy", "3,NULL,4294967295,NULL"}, {event.Insert, "copy", "4,kiwi,1,green"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(expect) {
		t.Fatalf("transactions:\n got %v\nwant %v", got, expect)
	}

	// A context that ends leaves the stream usable.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if _, err := st.Next(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Next with an idle source: %v, want the context's deadline", err)
	}
	cancel()
	src.m.Exec(t, "INSERT INTO shop.items VALUES (5, 'plum', 2, NULL)")
	if b := next(t, st); len(b.Events) != 1 || rowString(b.Events[0].After) != "5,plum,2,NULL" || !b.Commit {
		t.Fatalf("after a timeout: %+v", b)
	}
}

// TestBinlogResume restarts a stream from each commit position, by file/offset and by GTID,
// and checks that it continues exactly with the next transaction.
func TestBinlogResume(t *testing.T) {
	t.Parallel()
	src := startSource(t, false)
	src.m.Exec(t, "CREATE DATABASE d", "USE d", "CREATE TABLE t (id INT PRIMARY KEY)")
	start := src.position(t)
	var stmts []string
	for i := 1; i <= 6; i++ {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO t VALUES (%d)", i))
		if i == 3 {
			stmts = append(stmts, "FLUSH BINARY LOGS") // a rotation in the middle
		}
	}
	src.m.Exec(t, append([]string{"USE d"}, stmts...)...)
	all := readTxns(t, src.open(t, StreamConfig{Start: start, Tables: only("d", "t")}), 6)
	for i, txn := range all {
		if got := rowString(txn.Events[0].After); got != fmt.Sprint(i+1) {
			t.Fatalf("txn %d holds %s", i, got)
		}
	}
	if all[5].Pos.File == all[0].Pos.File {
		t.Fatalf("no rotation seen: %v .. %v", all[0].Pos, all[5].Pos)
	}
	for i := 0; i < 5; i++ {
		for _, byGTID := range []bool{false, true} {
			st := src.open(t, StreamConfig{Start: all[i].Pos, UseGTID: byGTID, Tables: only("d", "t")})
			got := readTxns(t, st, 1)[0]
			if v := rowString(got.Events[0].After); v != fmt.Sprint(i+2) {
				t.Errorf("resume after txn %d (gtid=%v, at %v): first row %s, want %d", i+1, byGTID, all[i].Pos, v, i+2)
			}
			if got.Pos != all[i+1].Pos {
				t.Errorf("resume after txn %d (gtid=%v): commit position %v, want %v", i+1, byGTID, got.Pos, all[i+1].Pos)
			}
			st.Close()
		}
	}
	// A GTID-only start position (what a failover leaves) resumes the same way.
	st := src.open(t, StreamConfig{Start: event.Position{GTID: all[2].Pos.GTID}, Tables: only("d", "t")})
	if v := rowString(readTxns(t, st, 1)[0].Events[0].After); v != "4" {
		t.Errorf("resume from GTID %s: first row %s, want 4", all[2].Pos.GTID, v)
	}
}

// TestBinlogLargeTransaction streams a 200k-row INSERT and a 200k-row UPDATE in bounded
// batches and checks that the heap does not grow with the transaction.
func TestBinlogLargeTransaction(t *testing.T) {
	t.Parallel()
	const rows = 200000
	src := startSource(t, false)
	src.m.Exec(t, "CREATE DATABASE big", "USE big",
		"CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(200))")
	start := src.position(t)
	src.m.Exec(t, "USE big",
		fmt.Sprintf("INSERT INTO t SELECT seq, REPEAT('x', 150) FROM seq_1_to_%d", rows),
		"UPDATE t SET pad = REPEAT('y', 150)")

	const maxBatch = 500
	st := src.open(t, StreamConfig{Start: start, Tables: only("big", "t"), MaxBatch: maxBatch})
	var (
		mu      sync.Mutex
		peak    uint64
		stop    = make(chan struct{})
		sampled = make(chan struct{})
	)
	go func() { // sample the heap while streaming
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapAlloc)
			mu.Unlock()
		}
	}()
	began := time.Now()
	for _, want := range []event.Kind{event.Insert, event.Update} {
		var n, parts int
		var safe event.Position
		for {
			b := next(t, st)
			if len(b.Events) > maxBatch {
				t.Fatalf("batch of %d events, max %d", len(b.Events), maxBatch)
			}
			if parts == 0 {
				safe = b.SafePos
			} else if b.SafePos != safe || b.Part != parts {
				t.Fatalf("batch %d: SafePos %v part %d, want %v part %d", parts, b.SafePos, b.Part, safe, parts)
			}
			if !b.Commit && (b.Pos.File == "" || b.Pos == safe) {
				t.Fatalf("partial batch position %v", b.Pos)
			}
			for _, e := range b.Events {
				if e.Kind != want {
					t.Fatalf("event %v, want %v", e.Kind, want)
				}
			}
			n += len(b.Events)
			parts++
			if b.Commit {
				break
			}
		}
		if n != rows || parts < rows/maxBatch {
			t.Fatalf("%v: %d events in %d batches, want %d in ≥ %d", want, n, parts, rows, rows/maxBatch)
		}
	}
	elapsed := time.Since(began)
	close(stop)
	<-sampled
	t.Logf("streamed %d row events in %v (%.0f/s)", 2*rows, elapsed.Round(time.Millisecond), float64(2*rows)/elapsed.Seconds())
	// Holding a whole transaction would take far more: 200k events with 150-byte values
	// and go-mysql's decoded rows.
	if peak > 96<<20 {
		t.Errorf("peak heap %d MiB while streaming", peak>>20)
	}
	t.Logf("peak heap %d MiB", peak>>20)
}

func TestBinlogErrors(t *testing.T) {
	t.Parallel()
	src := startSource(t, false)
	// A purged (here: never existing) binlog file.
	st := src.open(t, StreamConfig{Start: event.Position{File: "binlog.000099", Offset: 4}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := st.Next(ctx)
	if err == nil || !strings.Contains(err.Error(), "purged") {
		t.Fatalf("Next from a missing binlog: %v", err)
	}
	if _, err2 := st.Next(ctx); err2 != err {
		t.Fatalf("the error is not sticky: %v", err2)
	}
	// A wrong password says so.
	bad := *src.cfg
	bad.Password = "wrong"
	_, err = OpenStream(ctx, StreamConfig{Source: &bad, Flavor: "mariadb", Start: src.position(t)})
	var ce *ConnError
	if !errors.As(err, &ce) || ce.Kind != "authentication" {
		t.Fatalf("OpenStream with a wrong password: %v", err)
	}
	if _, err := OpenStream(ctx, StreamConfig{Source: src.cfg, Flavor: "mariadb"}); err == nil {
		t.Fatal("OpenStream without a start position: no error")
	}
}
