package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"tributary/engine/task"
	"tributary/internal/testenv"
)

type canalMsg struct {
	Data     []map[string]*string `json:"data"`
	Old      []map[string]*string `json:"old"`
	Database string               `json:"database"`
	Table    string               `json:"table"`
	Type     string               `json:"type"`
	IsDdl    bool                 `json:"isDdl"`
	SQL      string               `json:"sql"`
}

func decode(t *testing.T, recs []*kgo.Record) []canalMsg {
	out := make([]canalMsg, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.Value, &out[i]); err != nil {
			t.Fatalf("not JSON: %s", r.Value)
		}
	}
	return out
}

// replay applies Canal JSON messages to a map keyed by the key column, as an idempotent
// consumer would (upsert / delete).
func replay(msgs []canalMsg, key string) map[string]map[string]*string {
	state := map[string]map[string]*string{}
	for _, m := range msgs {
		if m.IsDdl {
			continue
		}
		row := m.Data[0]
		k := *row[key]
		switch m.Type {
		case "INIT", "INSERT", "UPDATE":
			state[k] = row
		case "DELETE":
			delete(state, k)
		}
	}
	return state
}

// replayStrict applies the messages like a consumer that trusts the stream: an INIT or INSERT
// of a key that exists, an UPDATE whose "old" values are not the current ones, or a DELETE of
// a row that is not there is an error. It proves the hand-off neither misses nor double-applies
// a change.
func replayStrict(msgs []canalMsg, key string) (map[string]map[string]*string, error) {
	state := map[string]map[string]*string{}
	eq := func(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	for i, m := range msgs {
		if m.IsDdl {
			continue
		}
		row := m.Data[0]
		k := *row[key]
		cur, exists := state[k]
		switch m.Type {
		case "INIT", "INSERT":
			if exists {
				return nil, fmt.Errorf("message %d: %s of key %s, which already exists", i, m.Type, k)
			}
			state[k] = row
		case "UPDATE":
			if !exists {
				return nil, fmt.Errorf("message %d: UPDATE of key %s, which does not exist", i, k)
			}
			for col, v := range m.Old[0] {
				if !eq(cur[col], v) {
					return nil, fmt.Errorf("message %d: UPDATE of key %s expects %s=%v, the stream so far says %v (applied twice or missed)", i, k, col, deref(v), deref(cur[col]))
				}
			}
			state[k] = row
		case "DELETE":
			if !exists {
				return nil, fmt.Errorf("message %d: DELETE of key %s, which does not exist", i, k)
			}
			delete(state, k)
		}
	}
	return state, nil
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

func tableState(t *testing.T, db *testenv.MariaDB, q string) map[string]string {
	out := map[string]string{}
	for _, r := range db.Query(t, q) {
		out[r[0]] = strings.Join(r[1:], "|")
	}
	return out
}

func stateString(s map[string]map[string]*string, cols ...string) map[string]string {
	out := map[string]string{}
	for k, row := range s {
		var parts []string
		for _, c := range cols {
			if row[c] == nil {
				parts = append(parts, testenv.Null)
			} else {
				parts = append(parts, *row[c])
			}
		}
		out[k] = strings.Join(parts, "|")
	}
	return out
}

// TestFullThenIncremental writes concurrently (inserts, updates, deletes, including rows of
// chunks being read) while full migration runs, keeps writing during incremental migration,
// and checks that replaying INIT rows followed by the binlog changes gives exactly the table.
func TestFullThenIncremental(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	db.Exec(t,
		"CREATE DATABASE inc", "USE inc",
		"CREATE TABLE inc.t (id INT PRIMARY KEY, v VARCHAR(40), n INT)",
		"INSERT INTO inc.t SELECT seq, MD5(seq), seq FROM seq_1_to_20000",
	)
	tk := baseTask(db, k, "inc", task.Object{Database: "inc", Table: "t"})
	tk.MigrationTypes.Incremental = true
	tk.Advanced.ChunkRows = 500
	tk.Advanced.FullThrottle = task.Throttle{Enabled: true, RPS: 20000} // ~1 s of full migration
	cp := &testenv.Checkpoints{}
	obs := &testObserver{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewRunner(tk, cp, obs).Run(ctx) }()

	writer := func(from, to int) {
		for i := from; i < to; i++ {
			db.Exec(t,
				fmt.Sprintf("UPDATE inc.t SET v = 'u%d', n = n + 1 WHERE id = %d", i, (i*37)%20000+1),
				fmt.Sprintf("DELETE FROM inc.t WHERE id = %d", (i*91)%20000+1),
				fmt.Sprintf("INSERT INTO inc.t VALUES (%d, 'new', %d) ON DUPLICATE KEY UPDATE v = 'dup'", 20000+i, i),
				fmt.Sprintf("UPDATE inc.t SET n = n * 2 WHERE id BETWEEN %d AND %d", i*10, i*10+5),
			)
		}
	}
	writer(0, 150) // during full migration
	deadline := time.Now().Add(30 * time.Second)
	for {
		obs.mu.Lock()
		phase := obs.last.Phase
		obs.mu.Unlock()
		if phase == "incremental" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	writer(150, 250) // during incremental migration
	db.Exec(t, "BEGIN", "INSERT INTO inc.t VALUES (99999, 'txn', 1)", "UPDATE inc.t SET v = 'txn2' WHERE id = 99999", "COMMIT")

	want := tableState(t, db, "SELECT id, v, n FROM inc.t")
	var got map[string]string
	for time.Now().Before(deadline.Add(30 * time.Second)) {
		recs, _ := k.ReadAllErr("inc", 0, time.Second)
		got = stateString(replay(decode(t, recs), "id"), "v", "n")
		if len(got) == len(want) && fmt.Sprint(sorted(got)) == fmt.Sprint(sorted(want)) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("run ended with %v, want context.Canceled", err)
	}
	if len(got) != len(want) {
		t.Fatalf("replayed state has %d rows, the table %d", len(got), len(want))
	}
	all, _ := k.ReadAllErr("inc", 0, time.Second)
	strict, err := replayStrict(decode(t, all), "id")
	if err != nil {
		t.Fatalf("the hand-off from full to incremental is not exact: %v", err)
	}
	if s := stateString(strict, "v", "n"); fmt.Sprint(sorted(s)) != fmt.Sprint(sorted(want)) {
		t.Fatalf("strict replay differs from the table")
	}
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("row %s: replayed %q, table %q", id, got[id], w)
		}
	}
	if obs.last.LatencyMs < 0 {
		t.Errorf("latency unknown after incremental changes")
	}

	// A restart resumes at the committed position: new changes arrive, nothing before is lost.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() { done <- NewRunner(tk, cp, obs).Run(ctx2) }()
	db.Exec(t, "INSERT INTO inc.t VALUES (123456, 'after restart', 7)")
	recs := k.ReadAll(t, "inc", 1, 10*time.Second)
	found := false
	for time.Now().Before(deadline.Add(60 * time.Second)) {
		recs, _ = k.ReadAllErr("inc", 0, time.Second)
		for _, m := range decode(t, recs) {
			if m.Type == "INSERT" && *m.Data[0]["id"] == "123456" {
				found = true
			}
		}
		if found {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel2()
	<-done
	if !found {
		t.Fatal("the change made after the restart never arrived")
	}
}

func sorted(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// TestIncrementalFilterAndDDL checks DTS filter semantics on updates, DML selection and DDL
// messages in the DDL topic.
func TestIncrementalFilterAndDDL(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	db.Exec(t,
		"CREATE DATABASE f", "USE f",
		"CREATE TABLE f.t (id INT PRIMARY KEY, enabled TINYINT, name VARCHAR(20))",
		"INSERT INTO f.t VALUES (1, 1, 'a'), (2, 0, 'b')",
	)
	tk := baseTask(db, k, "f", task.Object{Database: "f", Table: "t", Filter: "enabled = 1"})
	tk.MigrationTypes = task.MigrationTypes{Incremental: true}
	tk.Destination.DDLTopic = "f_ddl"
	cp := &testenv.Checkpoints{}
	obs := &testObserver{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- NewRunner(tk, cp, obs).Run(ctx) }()
	// Wait until the stream has started (the start position is saved).
	for i := 0; i < 100; i++ {
		if b, _ := cp.Load(ctx); b[keyBinlog] != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	db.Exec(t,
		"UPDATE f.t SET name = 'a2' WHERE id = 1",         // matches before and after: UPDATE
		"UPDATE f.t SET enabled = 0 WHERE id = 1",         // matched before, not after: DELETE
		"UPDATE f.t SET enabled = 1 WHERE id = 2",         // did not match before: not sent
		"INSERT INTO f.t VALUES (3, 1, 'c'), (4, 0, 'd')", // only 3
		"ALTER TABLE f.t ADD COLUMN extra INT",
		"INSERT INTO f.t VALUES (5, 1, 'e', 42)",
	)
	recs := k.ReadAll(t, "f", 4, 20*time.Second)
	msgs := decode(t, recs)
	var got []string
	for _, m := range msgs {
		s := m.Type + ":" + *m.Data[0]["id"]
		if m.Type == "INSERT" && *m.Data[0]["id"] == "5" {
			if v := m.Data[0]["extra"]; v == nil || *v != "42" {
				t.Errorf("the row after ALTER TABLE lacks extra=42: %v", m.Data[0])
			}
		}
		got = append(got, s)
	}
	want := []string{"UPDATE:1", "DELETE:1", "INSERT:3", "INSERT:5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("messages %v, want %v", got, want)
	}
	ddl := decode(t, k.ReadAll(t, "f_ddl", 1, 10*time.Second))
	if !ddl[0].IsDdl || ddl[0].Type != "DDL" || !strings.Contains(ddl[0].SQL, "ADD COLUMN extra") {
		t.Fatalf("DDL message %+v", ddl[0])
	}
	cancel()
	<-done
}
