package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"tributary/engine/task"
	"tributary/internal/testenv"
)

type testObserver struct {
	t      testing.TB
	mu     sync.Mutex
	last   Progress
	states []string
}

func (o *testObserver) Progress(p Progress)   { o.mu.Lock(); o.last = p; o.mu.Unlock() }
func (o *testObserver) Log(level, msg string) { o.t.Logf("%s: %s", level, msg) }
func (o *testObserver) State(s, reason string) {
	o.mu.Lock()
	o.states = append(o.states, s)
	o.mu.Unlock()
	if reason != "" {
		o.t.Logf("state %s: %s", s, reason)
	}
}

func baseTask(db *testenv.MariaDB, k *testenv.Kafka, topic string, objects ...task.Object) *task.Task {
	t := &task.Task{Version: 1, Name: "test", MigrationTypes: task.MigrationTypes{Full: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: topic},
		Objects:     objects}
	t.Defaults()
	return t
}

// TestFullMigrationTwoTables is the thin slice: two tables, one message per row in Canal JSON
// INIT, every row exactly once with the right values, read back by an independent client.
func TestFullMigrationTwoTables(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	db.Exec(t,
		"CREATE DATABASE shop",
		"CREATE TABLE shop.customer (id BIGINT PRIMARY KEY, name VARCHAR(50), balance DECIMAL(10,2), created_at DATETIME, note TEXT)",
		"CREATE TABLE shop.orders (id INT UNSIGNED NOT NULL, line SMALLINT NOT NULL, sku CHAR(8), qty INT, PRIMARY KEY (id, line))",
	)
	const customers, orders = 3000, 2500
	for i := 0; i < customers; i += 500 {
		q := "INSERT INTO shop.customer VALUES "
		for j := i; j < i+500; j++ {
			if j > i {
				q += ","
			}
			note := fmt.Sprintf("'note %d'", j)
			if j%7 == 0 {
				note = "NULL"
			}
			q += fmt.Sprintf("(%d, 'name-%d', %d.%02d, '2024-05-01 12:%02d:%02d', %s)", j+1, j, j, j%100, (j/60)%60, j%60, note)
		}
		db.Exec(t, q)
	}
	for i := 0; i < orders; i += 500 {
		q := "INSERT INTO shop.orders VALUES "
		for j := i; j < i+500; j++ {
			if j > i {
				q += ","
			}
			q += fmt.Sprintf("(%d, %d, 'SKU%05d', %d)", j/3+1, j%3, j, j*2)
		}
		db.Exec(t, q)
	}
	tk := baseTask(db, k, "shop-all", task.Object{Database: "shop", Table: "customer"}, task.Object{Database: "shop", Table: "orders", Topic: "shop-orders"})
	tk.Advanced.ChunkRows = 500
	cp := &testenv.Checkpoints{}
	obs := &testObserver{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := NewRunner(tk, cp, obs).Run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
	recs := k.ReadAll(t, "shop-all", customers, 20*time.Second)
	if len(recs) != customers {
		t.Fatalf("shop-all has %d messages, want %d", len(recs), customers)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		var m struct {
			Data     []map[string]*string `json:"data"`
			Database string               `json:"database"`
			Table    string               `json:"table"`
			Type     string               `json:"type"`
			PKNames  []string             `json:"pkNames"`
		}
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatalf("message is not JSON: %v: %s", err, r.Value)
		}
		if m.Type != "INIT" || m.Database != "shop" || m.Table != "customer" || len(m.Data) != 1 {
			t.Fatalf("unexpected message %s", r.Value)
		}
		row := m.Data[0]
		id := *row["id"]
		if seen[id] {
			t.Fatalf("row %s arrived twice", id)
		}
		seen[id] = true
		j, _ := strconv.Atoi(id)
		j--
		if got, want := *row["name"], fmt.Sprintf("name-%d", j); got != want {
			t.Errorf("row %s name = %q, want %q", id, got, want)
		}
		if got, want := *row["balance"], fmt.Sprintf("%d.%02d", j, j%100); got != want {
			t.Errorf("row %s balance = %q, want %q", id, got, want)
		}
		if got, want := *row["created_at"], fmt.Sprintf("2024-05-01 12:%02d:%02d", (j/60)%60, j%60); got != want {
			t.Errorf("row %s created_at = %q, want %q", id, got, want)
		}
		if j%7 == 0 {
			if row["note"] != nil {
				t.Errorf("row %s note = %q, want null", id, *row["note"])
			}
		} else if row["note"] == nil || *row["note"] != fmt.Sprintf("note %d", j) {
			t.Errorf("row %s note wrong: %v", id, row["note"])
		}
		if string(r.Key) == "" {
			t.Errorf("row %s has no message key", id)
		}
	}
	orecs := k.ReadAll(t, "shop-orders", orders, 20*time.Second)
	if len(orecs) != orders {
		t.Fatalf("shop-orders has %d messages, want %d", len(orecs), orders)
	}
	oseen := map[string]bool{}
	for _, r := range orecs {
		var m struct {
			Data []map[string]*string `json:"data"`
		}
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatal(err)
		}
		key := *m.Data[0]["id"] + "/" + *m.Data[0]["line"]
		if oseen[key] {
			t.Fatalf("order %s arrived twice", key)
		}
		oseen[key] = true
	}
	if obs.last.Percent != 100 || obs.last.RowsDone != customers+orders {
		t.Errorf("final progress = %.1f%% %d rows, want 100%% %d", obs.last.Percent, obs.last.RowsDone, customers+orders)
	}
	// A second run finds the task done and sends nothing more.
	if err := NewRunner(tk, cp, obs).Run(ctx); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if n := k.Count(t, "shop-all"); n != customers {
		t.Errorf("after a second run shop-all has %d messages, want %d", n, customers)
	}
}
