package testenv

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMariaDB(t *testing.T) {
	t.Parallel()
	start := time.Now()
	m := StartMariaDB(t)
	t.Logf("MariaDB up on %s in %v", m.Addr(), time.Since(start))

	m.Exec(t, "CREATE DATABASE shop",
		"USE shop",
		"CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), note TEXT)",
		"INSERT INTO items VALUES (1, 'ä€😀', NULL), (2, '', 'x')")
	want := [][]string{{"1", "ä€😀", Null}, {"2", "", "x"}}
	if got := m.Query(t, "SELECT id, name, note FROM shop.items ORDER BY id"); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	if got := m.Query(t, "SHOW VARIABLES LIKE 'binlog_format'"); len(got) != 1 || got[0][1] != "ROW" {
		t.Fatalf("binlog_format = %q", got)
	}
	if got := m.Query(t, "SHOW VARIABLES LIKE 'log_bin'"); len(got) != 1 || got[0][1] != "ON" {
		t.Fatalf("log_bin = %q", got)
	}
	if err := m.ExecErr("SELECT * FROM nope.nope"); err == nil {
		t.Fatal("ExecErr: want an error")
	}

	// The application account works over TCP and may read the binlog.
	c, err := client.Connect(m.Addr(), m.User, m.Password, "shop")
	if err != nil {
		t.Fatalf("connect as %s: %v", m.User, err)
	}
	r, err := c.Execute("SHOW GRANTS")
	if err != nil {
		t.Fatal(err)
	}
	g, _ := r.GetString(0, 0)
	if !strings.Contains(g, "GRANT ALL PRIVILEGES ON *.*") {
		t.Fatalf("grants: %s", g)
	}
	if _, err := c.Execute("SHOW BINARY LOGS"); err != nil {
		t.Fatalf("SHOW BINARY LOGS as %s: %v", m.User, err)
	}
	c.Close()

	// Restart keeps port and data; Kill then Restart recovers.
	port := m.Port
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	m.Kill()
	if m.Running() {
		t.Fatal("running after Kill")
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	if m.Port != port {
		t.Fatalf("port changed %d -> %d", port, m.Port)
	}
	if got := m.Query(t, "SELECT COUNT(*) FROM shop.items"); got[0][0] != "2" {
		t.Fatalf("count after restart = %q", got)
	}
}

func TestMariaDBWithoutBinlog(t *testing.T) {
	t.Parallel()
	m := StartMariaDB(t, WithoutBinlog(), WithFlags("--max-connections=42"))
	if got := m.Query(t, "SHOW VARIABLES LIKE 'log_bin'"); len(got) != 1 || got[0][1] != "OFF" {
		t.Fatalf("log_bin = %q", got)
	}
	if got := m.Query(t, "SELECT @@max_connections"); got[0][0] != "42" {
		t.Fatalf("max_connections = %q", got)
	}
}

func TestKafka(t *testing.T) {
	t.Parallel()
	k := StartKafka(t)
	// kgo producers ask for auto-creation only with this option.
	cl, err := k.Client(kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range 3 {
		recs = append(recs, &kgo.Record{Topic: "events", Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := k.ReadAll(t, "events", 3, 10*time.Second)
	if len(got) != 3 {
		t.Fatalf("read %d records, want 3", len(got))
	}
	for i, r := range got {
		if string(r.Value) != fmt.Sprintf("v%d", i) || r.Offset != int64(i) {
			t.Fatalf("record %d: offset %d value %q", i, r.Offset, r.Value)
		}
	}
	if n := k.Count(t, "events"); n != 3 {
		t.Fatalf("Count = %d", n)
	}
	if n := k.Count(t, "missing"); n != 0 {
		t.Fatalf("Count(missing) = %d", n)
	}

	k.CreateTopic(t, "multi", 3)
	for p := range int32(3) {
		r := &kgo.Record{Topic: "multi", Partition: p, Value: []byte("x")}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if n := k.Count(t, "multi"); n != 3 {
		t.Fatalf("Count(multi) = %d", n)
	}
	if _, err := k.ReadAllErr("multi", 4, 500*time.Millisecond); err == nil {
		t.Fatal("ReadAllErr: want a timeout error")
	}
}
