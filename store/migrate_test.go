package store

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// A schema upgrade must keep every row. For each version k, the test builds a database the way
// version k of Tributary left it: apply migration 1, insert the data version 1 wrote, apply
// migration 2, insert the data version 2 wrote, ... up to k. Then Open (which migrates to the
// latest version) must find all of it.
//
// When adding migration N: add seeds[N] inserting what version N writes with version N's
// schema (including rows in tables N changed), and checks[N] reading it back through the API.
// Never edit an older seed: it is what old files really hold.

var seedTime = time.UnixMilli(1_700_000_000_000)

var seeds = map[int]func(t *testing.T, db *sql.DB, sl *sealer){
	1: func(t *testing.T, db *sql.DB, sl *sealer) {
		pw, _ := sl.seal(purposeProfile, "v1-mysql-pw")
		kpw, _ := sl.seal(purposeProfile, "v1-kafka-pw")
		spw, _ := sl.seal(purposeSource, "v1-inline-pw")
		at := seedTime.UnixMilli()
		mustExec(t, db, `INSERT INTO profiles(id, name, kind, config, secret, created, updated) VALUES
			(1, 'Prod MySQL', 'mysql', '{"host":"db.example","port":3306,"user":"repl","tls":{}}', ?, ?, ?),
			(2, 'Prod Kafka', 'kafka', '{"brokers":["k1:9092"],"kafkaVersion":"2.8.0","sasl":{"mechanism":"PLAIN","user":"u"},"tls":{},"topic":"t1"}', ?, ?, ?)`,
			pw, at, at, kpw, at, at)
		mustExec(t, db, `INSERT INTO tasks(id, name, spec, source_secret, dest_secret, state, last_error, ignored_warnings, progress, created, updated)
			VALUES (1, 'orders', '{"version":1,"name":"orders","source":{"host":"h","port":3306,"user":"root","tls":{}},"destination":{"profile":"Prod Kafka","sasl":{},"tls":{},"topic":"orders","schemaRegistry":{}},"migrationTypes":{"full":true,"incremental":true},"objects":[{"database":"shop","table":"orders"}]}',
			?, NULL, 'failed', 'broker down', '["W1"]', '{"rows":42}', ?, ?)`, spw, at, at)
		mustExec(t, db, `INSERT INTO checkpoints(task_id, key, value, updated) VALUES (1, 'binlog', X'0102FF', ?)`, at)
		mustExec(t, db, `INSERT INTO events(task_id, time, level, message) VALUES (1, ?, 'error', 'broker down')`, at)
		mustExec(t, db, `INSERT INTO runs(task_id, started, ended, state, error) VALUES (1, ?, ?, 'failed', 'broker down')`, at, at+1000)
		mustExec(t, db, `INSERT INTO prechecks(task_id, report, created) VALUES (1, '{"items":[]}', ?)`, at)
	},
	2: func(t *testing.T, db *sql.DB, sl *sealer) {
		mustExec(t, db, `INSERT INTO metric_samples(task_id, time, rows_per_sec, mb_per_sec, latency_ms) VALUES (1, ?, 1500.5, 2.25, 300)`,
			seedTime.UnixMilli())
		mustExec(t, db, `INSERT INTO settings(key, value) VALUES ('theme', 'dark')`)
	},
}

var checks = map[int]func(t *testing.T, s *Store){
	1: func(t *testing.T, s *Store) {
		p, err := s.ProfileWithSecret("prod mysql")
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != 1 || p.MySQL.Host != "db.example" || p.MySQL.Password != "v1-mysql-pw" || !p.HasPassword {
			t.Errorf("mysql profile = %+v %+v", p, p.MySQL)
		}
		k, err := s.ProfileWithSecret("Prod Kafka")
		if err != nil {
			t.Fatal(err)
		}
		if k.Kafka.Topic != "t1" || k.Kafka.SASL.Password != "v1-kafka-pw" || k.Kafka.Brokers[0] != "k1:9092" {
			t.Errorf("kafka profile = %+v", k.Kafka)
		}
		r, err := s.Task(1, true)
		if err != nil {
			t.Fatal(err)
		}
		if r.Spec.Name != "orders" || r.Spec.Source.Password != "v1-inline-pw" || r.State != "failed" ||
			r.LastError != "broker down" || len(r.IgnoredWarnings) != 1 || string(r.Progress) != `{"rows":42}` ||
			!r.Created.Equal(seedTime) || r.Spec.Destination.Profile != "Prod Kafka" {
			t.Errorf("task = %+v", r)
		}
		cp, err := s.Checkpoints(1)
		if err != nil || !bytes.Equal(cp["binlog"], []byte{1, 2, 0xff}) {
			t.Errorf("checkpoints = %v, %v", cp, err)
		}
		ev, err := s.Events(1, 10)
		if err != nil || len(ev) != 1 || ev[0].Message != "broker down" {
			t.Errorf("events = %v, %v", ev, err)
		}
		runs, err := s.Runs(1, 0)
		if err != nil || len(runs) != 1 || runs[0].State != "failed" {
			t.Errorf("runs = %v, %v", runs, err)
		}
		pc, err := s.Precheck(1)
		if err != nil || string(pc) != `{"items":[]}` {
			t.Errorf("precheck = %s, %v", pc, err)
		}
	},
	2: func(t *testing.T, s *Store) {
		smp, err := s.Samples(1, time.Time{})
		if err != nil || len(smp) != 1 || smp[0].RowsPerSec != 1500.5 || smp[0].LatencyMs != 300 || !smp[0].Time.Equal(seedTime) {
			t.Errorf("samples = %v, %v", smp, err)
		}
		if v, err := s.Setting("theme"); err != nil || v != "dark" {
			t.Errorf("setting = %q, %v", v, err)
		}
	},
}

func TestMigrateFromEveryVersion(t *testing.T) {
	if len(seeds) != len(migrations) || len(checks) != len(migrations) {
		t.Fatalf("%d migrations but %d seeds and %d checks: add both for the new version", len(migrations), len(seeds), len(checks))
	}
	ctx := context.Background()
	for k := 0; k <= len(migrations); k++ {
		t.Run(fmtVersion(k), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tributary.db")
			db, err := openDB(path)
			if err != nil {
				t.Fatal(err)
			}
			if k > 0 {
				mustExec(t, db, "PRAGMA journal_mode = WAL")
			}
			var sl *sealer
			for v := 1; v <= k; v++ {
				if err := migrate(ctx, db, path, v); err != nil {
					t.Fatal(err)
				}
				if got, _ := userVersion(ctx, db); got != v {
					t.Fatalf("after migrate to %d: user_version %d", v, got)
				}
				if sl == nil { // the key check lives in meta (version 1)
					if sl, err = loadSealer(ctx, db, filepath.Join(filepath.Dir(path), KeyFileName)); err != nil {
						t.Fatal(err)
					}
				}
				seeds[v](t, db, sl)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got, _ := userVersion(ctx, s.db); got != SchemaVersion() {
				t.Fatalf("after Open: user_version %d, want %d", got, SchemaVersion())
			}
			for v := 1; v <= k; v++ {
				checks[v](t, s)
			}
			// The upgraded file works like a new one.
			p := &Profile{Name: "new", Kind: KindMySQL, MySQL: newMySQL("new-pw")}
			if err := s.SaveProfile(p); err != nil {
				t.Fatal(err)
			}
			if err := s.SetSetting("x", "y"); err != nil {
				t.Fatal(err)
			}
			var fkErrors int
			rows, err := s.db.Query("PRAGMA foreign_key_check")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				fkErrors++
			}
			rows.Close()
			var ok string
			if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" || fkErrors != 0 {
				t.Errorf("integrity_check = %q, %v; foreign key errors %d", ok, err, fkErrors)
			}
		})
	}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	s := openTest(t)
	if err := migrate(context.Background(), s.db, s.path, SchemaVersion()); err != nil {
		t.Fatal(err)
	}
	if got, _ := userVersion(context.Background(), s.db); got != SchemaVersion() {
		t.Fatalf("user_version %d", got)
	}
}

func fmtVersion(k int) string { return "from_v" + strconv.Itoa(k) }

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
