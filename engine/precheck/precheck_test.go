package precheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"tributary/engine/event"
	"tributary/engine/task"
	"tributary/internal/testenv"
)

// goodFlags make a MariaDB server on which every source item passes.
var goodFlags = testenv.WithFlags("--binlog-row-metadata=FULL")

func newTask(m *testenv.MariaDB, brokers []string, topic string, objs ...task.Object) *task.Task {
	t := &task.Task{
		Name:           "precheck-test",
		Source:         task.Source{MySQL: task.MySQL{Host: m.Host, Port: m.Port, User: m.User, Password: m.Password}},
		Destination:    task.Destination{Kafka: task.Kafka{Brokers: brokers, Version: "2.8.0"}, Topic: topic},
		MigrationTypes: task.MigrationTypes{Full: true, Incremental: true},
		Objects:        objs,
	}
	t.Defaults()
	return t
}

func obj(db, table string) task.Object { return task.Object{Database: db, Table: table} }

// run runs the precheck and checks the emit contract: every code once, one call at a time.
func run(t *testing.T, tk *task.Task, opts Options) map[string]Item {
	t.Helper()
	var mu sync.Mutex
	busy := false
	var emitted []string
	items := Run(context.Background(), tk, opts, func(it Item) {
		mu.Lock()
		if busy {
			t.Error("emit called concurrently")
		}
		busy = true
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		busy = false
		emitted = append(emitted, it.Code)
		mu.Unlock()
	})
	if os.Getenv("PRECHECK_DUMP") != "" {
		for _, it := range items {
			if it.Result != ResultPassed || os.Getenv("PRECHECK_DUMP") == "all" {
				t.Logf("%s %s\n  %s\n  fix: %s", it.Code, it.Result, strings.Join(it.Details, "\n  "), it.Fix)
			}
		}
	}
	codes := Codes(tk)
	got := make([]string, len(items))
	out := map[string]Item{}
	for i, it := range items {
		got[i] = it.Code
		out[it.Code] = it
		if it.Name == "" || it.Details == nil {
			t.Errorf("%s: incomplete item %+v", it.Code, it)
		}
		if it.Result != ResultPassed && it.Fix == "" {
			t.Errorf("%s: %s without a fix", it.Code, it.Result)
		}
	}
	if !slices.Equal(got, codes) {
		t.Errorf("Run returned %v, want %v", got, codes)
	}
	slices.Sort(emitted)
	sorted := slices.Clone(codes)
	slices.Sort(sorted)
	if !slices.Equal(emitted, sorted) {
		t.Errorf("emitted %v, want each of %v once", emitted, codes)
	}
	return out
}

// expect asserts the results of the named items and that every other item passed.
func expect(t *testing.T, items map[string]Item, want map[string]string) {
	t.Helper()
	for code, it := range items {
		w := want[code]
		if w == "" {
			w = ResultPassed
		}
		if it.Result != w {
			t.Errorf("%s = %s, want %s\n  details: %s\n  fix: %s", code, it.Result, w, strings.Join(it.Details, "\n    "), it.Fix)
		}
	}
	for code := range want {
		if _, ok := items[code]; !ok {
			t.Errorf("%s not reported", code)
		}
	}
}

// mentions asserts that an item's details or fix contain every string.
func mentions(t *testing.T, it Item, subs ...string) {
	t.Helper()
	all := strings.Join(it.Details, "\n") + "\n" + it.Fix
	for _, s := range subs {
		if !strings.Contains(all, s) {
			t.Errorf("%s does not mention %q:\n%s", it.Code, s, all)
		}
	}
}

func TestPrecheck(t *testing.T) {
	m := testenv.StartMariaDB(t, goodFlags)
	k := testenv.StartKafka(t)

	// 200 tables must be checked in well under 5 s: every catalog read is one bulk query.
	t.Run("200 tables", func(t *testing.T) {
		stmts := []string{"CREATE DATABASE many", "USE many"}
		var objs []task.Object
		for i := range 200 {
			stmts = append(stmts, fmt.Sprintf("CREATE TABLE t%03d (id INT PRIMARY KEY, v VARCHAR(40), n BIGINT NOT NULL, UNIQUE KEY (n))", i))
			objs = append(objs, obj("many", fmt.Sprintf("t%03d", i)))
		}
		start := time.Now()
		m.Exec(t, stmts...)
		t.Logf("created 200 tables in %v", time.Since(start))
		objs[7].Filter = "id > 10"
		k.CreateTopic(t, "many", 4)
		tk := newTask(m, k.Addrs, "many", objs...)
		start = time.Now()
		items := run(t, tk, Options{})
		took := time.Since(start)
		t.Logf("precheck of 200 tables took %v", took)
		if took > 5*time.Second {
			t.Errorf("precheck of 200 tables took %v, want < 5 s", took)
		}
		expect(t, items, nil)
		mentions(t, items[CodeTableExist], "all 200 selected tables exist")
	})

	t.Run("baseline", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE base", "USE base",
			"CREATE TABLE t1 (id INT PRIMARY KEY, name VARCHAR(20))",
			"CREATE TABLE t2 (a INT NOT NULL, b TEXT, UNIQUE KEY (a))",
			"INSERT INTO t1 VALUES (1, 'x'), (2, 'y')")
		k.CreateTopic(t, "base", 2)
		tk := newTask(m, k.Addrs, "base", obj("base", "t1"), task.Object{Database: "base", Table: "t2", Filter: "a > 1", Partitions: 2})
		tk.Destination.DDLTopic = "base-ddl"
		items := run(t, tk, Options{ResumePosition: event.Position{File: "binlog.000001", Offset: 4}})
		expect(t, items, nil)
		mentions(t, items[CodeSrc], "MariaDB 10.")
		mentions(t, items[CodeBinlogOn], "log_bin = ON")
		mentions(t, items[CodeBinlogMode], "binlog_format = ROW")
		mentions(t, items[CodeBinlogRowImage], "binlog_row_image = FULL")
		mentions(t, items[CodeBinlogMetadata], "binlog_row_metadata = FULL")
		mentions(t, items[CodeBinlogRetention], "never purged")
		mentions(t, items[CodeBinlogExist], "binlog.000001 is still on the server")
		mentions(t, items[CodeServerID], "server_id = 1")
		mentions(t, items[CodeAuthSrc], "ALL PRIVILEGES ON *.*", "BINLOG MONITOR")
		mentions(t, items[CodeFilter], "base.t2")
		mentions(t, items[CodeDestTopic], "base (tables base.t1, base.t2): exists with 2 partitions")
		mentions(t, items[CodeDDLTopic], "base-ddl: does not exist; Tributary creates it")
		mentions(t, items[CodeAuthDest], "WRITE allowed")
		mentions(t, items[CodeMsgSize], "largest estimated message")
		mentions(t, items[CodeSameObj], "base is empty")
		// Nothing was created or written.
		adm := admin(t, k)
		td, err := adm.ListTopics(context.Background(), "base-ddl")
		if err != nil {
			t.Fatal(err)
		}
		if td.Has("base-ddl") {
			t.Error("the precheck created the DDL topic")
		}
		if n := k.Count(t, "base"); n != 0 {
			t.Errorf("the precheck wrote %d records to the topic", n)
		}
	})

	t.Run("missing binlog to resume from", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE resume", "CREATE TABLE resume.t (id INT PRIMARY KEY)")
		tk := newTask(m, k.Addrs, "resume", obj("resume", "t"))
		items := run(t, tk, Options{ResumePosition: event.Position{File: "binlog.000000", Offset: 4}})
		expect(t, items, map[string]string{CodeBinlogExist: ResultFailed})
		mentions(t, items[CodeBinlogExist], "binlog.000000", "binlog.000001", "full migration")
	})

	t.Run("table without keys", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE nokey", "USE nokey",
			"CREATE TABLE bare (a INT, b VARCHAR(10))",
			"CREATE TABLE nullable_uk (a INT NULL, UNIQUE KEY (a))",
			"CREATE TABLE notnull_uk (a INT NOT NULL, UNIQUE KEY (a))")
		tk := newTask(m, k.Addrs, "nokey", obj("nokey", "bare"), obj("nokey", "nullable_uk"), obj("nokey", "notnull_uk"))
		tk.PartitionPolicy = "hash-primary-key"
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodePrimaryKey: ResultWarning})
		it := items[CodePrimaryKey]
		mentions(t, it, "nokey.bare", "nokey.nullable_uk", "duplicates possible", "not resumable", "partition 0", "ALTER TABLE `nokey`.`bare` ADD PRIMARY KEY")
		if strings.Contains(strings.Join(it.Details, " "), "notnull_uk") {
			t.Error("a NOT NULL unique key counts as a key")
		}
		if !it.Ignorable || it.Ignored || Passed(mapItems(items)) {
			t.Errorf("warning not ignorable or passed: %+v", it)
		}
		items = run(t, tk, Options{Ignored: []string{CodePrimaryKey}})
		if it := items[CodePrimaryKey]; !it.Ignored || !Passed(mapItems(items)) {
			t.Errorf("ignored warning still blocks: %+v", it)
		}
	})

	t.Run("unsupported engine", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE eng", "USE eng",
			"CREATE TABLE part1 (id INT NOT NULL PRIMARY KEY) ENGINE=MyISAM",
			"CREATE TABLE m (id INT NOT NULL, PRIMARY KEY (id)) ENGINE=MRG_MYISAM UNION=(part1)")
		tk := newTask(m, k.Addrs, "eng", obj("eng", "m"))
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeEngine: ResultFailed})
		mentions(t, items[CodeEngine], "eng.m (ENGINE=MRG_MyISAM)")
		tk.MigrationTypes.Incremental = false
		items = run(t, tk, Options{})
		expect(t, items, map[string]string{CodeEngine: ResultWarning})
	})

	t.Run("invisible columns", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE inv", "USE inv",
			"CREATE TABLE t (id INT PRIMARY KEY, secret VARCHAR(20) CHARACTER SET latin1 NOT NULL DEFAULT 'x''y' COMMENT 'hidden' INVISIBLE, "+
				"seen TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP INVISIBLE)")
		tk := newTask(m, k.Addrs, "inv", obj("inv", "t"))
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeInvisibleColumn: ResultWarning})
		it := items[CodeInvisibleColumn]
		mentions(t, it, "inv.t.secret", "inv.t.seen", "ALTER TABLE `inv`.`t` MODIFY `secret` varchar(20)")
		// The fix really makes the columns visible, and keeps their definitions.
		before := m.Query(t, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, CHARACTER_SET_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='inv' ORDER BY ORDINAL_POSITION")
		var stmts []string
		for _, l := range strings.Split(it.Fix, "\n") {
			if strings.HasPrefix(l, "ALTER TABLE") {
				stmts = append(stmts, l)
			}
		}
		if len(stmts) != 2 {
			t.Fatalf("fix statements: %q", stmts)
		}
		m.Exec(t, stmts...)
		after := m.Query(t, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, CHARACTER_SET_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='inv' ORDER BY ORDINAL_POSITION")
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("the fix changed the columns:\n%q\n%q", before, after)
		}
		items = run(t, tk, Options{})
		expect(t, items, nil)
	})

	t.Run("bad filters", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE flt", "USE flt",
			"CREATE TABLE a (id INT PRIMARY KEY, v INT)", "CREATE TABLE b (id INT PRIMARY KEY, v INT)", "CREATE TABLE c (id INT PRIMARY KEY, v INT)")
		tk := newTask(m, k.Addrs, "flt",
			task.Object{Database: "flt", Table: "a", Filter: "nosuch > 1"},
			task.Object{Database: "flt", Table: "b", Filter: "v = nosuchfunc(1)"},
			task.Object{Database: "flt", Table: "c", Filter: "v IN (1, 2)"})
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeFilter: ResultFailed})
		mentions(t, items[CodeFilter], "flt.a", "nosuch", "flt.b", "nosuchfunc", `flt.c: "v IN (1, 2)" parses and runs`)
	})

	t.Run("missing table", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE mt", "CREATE TABLE mt.here (id INT PRIMARY KEY)")
		tk := newTask(m, k.Addrs, "mt", obj("mt", "here"), obj("mt", "gone"), obj("nodb", "t"))
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeTableExist: ResultFailed})
		mentions(t, items[CodeTableExist], "mt.gone", "nodb.t")
	})

	t.Run("too many tables", func(t *testing.T) {
		t.Parallel()
		var objs []task.Object
		for i := range task.MaxMappedTables + 1 {
			objs = append(objs, obj("toomany", fmt.Sprintf("t%d", i)))
		}
		tk := newTask(m, k.Addrs, "toomany", objs...)
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeTableCount: ResultFailed, CodeTableExist: ResultFailed})
		mentions(t, items[CodeTableCount], "1001 tables")
	})

	t.Run("settings out of range", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE st", "CREATE TABLE st.t (id INT PRIMARY KEY)")
		tk := newTask(m, k.Addrs, "st", obj("st", "t"))
		tk.Advanced.RetryOtherMinutes = 800
		tk.Advanced.FullThrottle = task.Throttle{Enabled: true}
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeSettings: ResultFailed})
		mentions(t, items[CodeSettings], "$.advanced.retryOtherMinutes", "$.advanced.fullThrottle")
	})

	t.Run("source privileges", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE auth", "USE auth",
			"CREATE TABLE t1 (id INT PRIMARY KEY)", "CREATE TABLE t2 (id INT PRIMARY KEY)",
			"CREATE USER u_norepl IDENTIFIED BY 'pw'", "GRANT SELECT, SHOW VIEW ON auth.* TO u_norepl",
			"CREATE USER u_noslave IDENTIFIED BY 'pw'", "GRANT SELECT, SHOW VIEW ON auth.* TO u_noslave", "GRANT REPLICATION CLIENT ON *.* TO u_noslave",
			"CREATE USER u_noclient IDENTIFIED BY 'pw'", "GRANT SELECT, SHOW VIEW ON auth.* TO u_noclient", "GRANT REPLICATION SLAVE ON *.* TO u_noclient",
			"CREATE USER u_nosel IDENTIFIED BY 'pw'", "GRANT SHOW VIEW ON auth.* TO u_nosel", "GRANT SELECT ON auth.t1 TO u_nosel", "GRANT INSERT ON auth.t2 TO u_nosel",
			"GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO u_nosel",
			"CREATE USER u_noview IDENTIFIED BY 'pw'", "GRANT SELECT ON auth.* TO u_noview", "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO u_noview",
			"CREATE USER u_ok IDENTIFIED BY 'pw'", "GRANT SELECT, SHOW VIEW ON auth.* TO u_ok", "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO u_ok",
		)
		for _, c := range []struct {
			user     string
			fullOnly bool
			result   string
			mention  []string
			absent   []string
		}{
			{"u_norepl", false, ResultFailed, []string{"REPLICATION SLAVE and BINLOG MONITOR", "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'u_norepl'@'%';"}, nil},
			{"u_noslave", false, ResultFailed, []string{"REPLICATION SLAVE is missing", "GRANT REPLICATION SLAVE ON *.* TO 'u_noslave'@'%';"}, []string{"BINLOG MONITOR ON"}},
			{"u_noclient", false, ResultFailed, []string{"BINLOG MONITOR (formerly REPLICATION CLIENT) is missing", "GRANT BINLOG MONITOR ON *.* TO 'u_noclient'@'%';"}, []string{"GRANT REPLICATION SLAVE"}},
			{"u_nosel", false, ResultFailed, []string{"SELECT is missing on `auth`.`t2`", "GRANT SELECT ON `auth`.`t2` TO 'u_nosel'@'%';"}, []string{"`auth`.`t1` TO"}},
			{"u_noview", false, ResultWarning, []string{"SHOW VIEW is missing on auth", "GRANT SHOW VIEW ON `auth`.* TO 'u_noview'@'%';"}, nil},
			{"u_norepl", true, ResultPassed, []string{"not needed (full migration only)"}, nil},
			{"u_ok", false, ResultPassed, nil, nil},
		} {
			t.Run(fmt.Sprintf("%s full-only=%v", c.user, c.fullOnly), func(t *testing.T) {
				tk := newTask(m, k.Addrs, "auth", obj("auth", "t1"), obj("auth", "t2"))
				tk.Source.User, tk.Source.Password = c.user, "pw"
				tk.MigrationTypes.Incremental = !c.fullOnly
				items := run(t, tk, Options{})
				expect(t, items, map[string]string{CodeAuthSrc: c.result})
				mentions(t, items[CodeAuthSrc], c.mention...)
				for _, a := range c.absent {
					if strings.Contains(items[CodeAuthSrc].Fix, a) {
						t.Errorf("fix mentions %q: %s", a, items[CodeAuthSrc].Fix)
					}
				}
			})
		}
	})

	t.Run("wrong source password", func(t *testing.T) {
		t.Parallel()
		tk := newTask(m, k.Addrs, "x", obj("base", "t1"))
		tk.Source.Password = "wrong"
		items := run(t, tk, Options{})
		want := map[string]string{}
		for _, d := range defs {
			if d.needs&needSrc != 0 || d.code == CodeConnSrc {
				want[d.code] = ResultFailed
			}
		}
		expect(t, items, want)
		mentions(t, items[CodeConnSrc], "authentication", "Access denied")
		mentions(t, items[CodeEngine], skippedSourceMessage)
		mentions(t, items[CodeMsgSize], skippedSourceMessage)
	})

	t.Run("too few partitions", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE few", "CREATE TABLE few.t (id INT PRIMARY KEY)")
		k.CreateTopic(t, "few", 1)
		tk := newTask(m, k.Addrs, "few", task.Object{Database: "few", Table: "t", Partitions: 3})
		tk.Destination.DDLTopic = "few-ddl"
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeDestTopic: ResultFailed})
		mentions(t, items[CodeDestTopic], "has 1 partition, fewer than the 3 mapped", "--partitions 3")
	})

	t.Run("topic holds data", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE full", "CREATE TABLE full.t (id INT PRIMARY KEY)")
		k.CreateTopic(t, "full", 2)
		cl, err := k.Client(kgo.DefaultProduceTopic("full"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := cl.ProduceSync(context.Background(), kgo.StringRecord(fmt.Sprint(i))).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		cl.Close()
		tk := newTask(m, k.Addrs, "full", obj("full", "t"))
		tk.Destination.DDLTopic = "full-ddl"
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeSameObj: ResultFailed})
		mentions(t, items[CodeSameObj], "full holds 3 messages", "Precheck and Report Errors")

		tk.ConflictMode = "ignore-and-proceed"
		items = run(t, tk, Options{})
		expect(t, items, map[string]string{CodeSameObj: ResultWarning})
		mentions(t, items[CodeSameObj], "Ignore Errors and Proceed", "appended")
		if Passed(mapItems(items)) {
			t.Error("an unignored warning passes")
		}
		items = run(t, tk, Options{Ignored: []string{CodeSameObj}})
		if !items[CodeSameObj].Ignored || !Passed(mapItems(items)) {
			t.Errorf("ignored: %+v", items[CodeSameObj])
		}
		// A task that resumes owns the data in its topic.
		tk.ConflictMode = "precheck-and-report"
		items = run(t, tk, Options{ResumePosition: event.Position{File: "binlog.000001", Offset: 4}})
		expect(t, items, nil)
	})

	t.Run("message size", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE wide", "CREATE TABLE wide.t (id INT PRIMARY KEY, v VARCHAR(1000)) CHARACTER SET utf8mb4", "CREATE TABLE wide.small (id INT PRIMARY KEY)")
		adm := admin(t, k)
		if _, err := adm.CreateTopic(context.Background(), 1, 1, map[string]*string{"max.message.bytes": kadm.StringPtr("2000")}, "wide"); err != nil {
			t.Fatal(err)
		}
		tk := newTask(m, k.Addrs, "wide", obj("wide", "t"), obj("wide", "small"))
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeMsgSize: ResultWarning})
		mentions(t, items[CodeMsgSize], "wide.t → wide", "topic max.message.bytes 2000", "--entity-name wide --add-config max.message.bytes=")
	})

	t.Run("kafka version", func(t *testing.T) {
		t.Parallel()
		m.Exec(t, "CREATE DATABASE kv", "CREATE TABLE kv.t (id INT PRIMARY KEY)")
		k.CreateTopic(t, "kv", 1)
		tk := newTask(m, k.Addrs, "kv", obj("kv", "t"))
		tk.Compression = "zstd"
		items := run(t, tk, Options{})
		expect(t, items, nil)
		mentions(t, items[CodeDestVersion], "ZSTD compression: supported")

		// kfake, like Kafka 4.0, no longer accepts the pre-0.11 message format.
		tk.Compression = "lz4"
		tk.Destination.Version = "0.10.2.0"
		items = run(t, tk, Options{})
		if it := items[CodeDestVersion]; it.Result != ResultFailed {
			t.Errorf("0.10.2.0: %+v", it)
		}
		mentions(t, items[CodeDestVersion], "no longer accepts Produce v2")
	})

	t.Run("stopped broker", func(t *testing.T) {
		t.Parallel()
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		addrs := c.ListenAddrs()
		c.Close()
		m.Exec(t, "CREATE DATABASE stopped", "CREATE TABLE stopped.t (id INT PRIMARY KEY)")
		tk := newTask(m, addrs, "x", obj("stopped", "t"))
		items := run(t, tk, Options{})
		want := map[string]string{}
		for _, d := range defs {
			if d.needs&needDest != 0 || d.code == CodeConnDest {
				want[d.code] = ResultFailed
			}
		}
		expect(t, items, want)
		mentions(t, items[CodeConnDest], addrs[0], "refused", "start the broker")
		mentions(t, items[CodeDestTopic], skippedDestMessage)
	})

	t.Run("one of two bootstrap brokers down", func(t *testing.T) {
		t.Parallel()
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		dead := c.ListenAddrs()[0]
		c.Close()
		m.Exec(t, "CREATE DATABASE boot", "CREATE TABLE boot.t (id INT PRIMARY KEY)")
		tk := newTask(m, append([]string{dead}, k.Addrs...), "boot", obj("boot", "t"))
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeConnDest: ResultWarning})
		mentions(t, items[CodeConnDest], dead+": connection refused", k.Addrs[0]+": connected")
	})

	t.Run("SASL", func(t *testing.T) {
		t.Parallel()
		sk := testenv.StartKafka(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "admin", "right"))
		m.Exec(t, "CREATE DATABASE sasl", "CREATE TABLE sasl.t (id INT PRIMARY KEY)")
		tk := newTask(m, sk.Addrs, "sasl", obj("sasl", "t"))
		tk.Destination.SASL = task.SASL{Mechanism: "SCRAM-SHA-256", User: "admin", Password: "wrong"}
		items := run(t, tk, Options{})
		want := map[string]string{}
		for _, d := range defs {
			if d.needs&needDest != 0 || d.code == CodeConnDest {
				want[d.code] = ResultFailed
			}
		}
		expect(t, items, want)
		mentions(t, items[CodeConnDest], "SASL authentication of \"admin\" with SCRAM-SHA-256 failed", "--entity-name admin")

		tk.Destination.SASL.Password = "right"
		items = run(t, tk, Options{})
		expect(t, items, nil)
		mentions(t, items[CodeConnDest], "SASL SCRAM-SHA-256 as \"admin\"")
	})

	t.Run("ACLs", func(t *testing.T) {
		t.Parallel()
		const pw = "pw"
		acl := func(res kmsg.ACLResourceType, name string, pat kmsg.ACLResourcePatternType, op kmsg.ACLOperation) kfake.ACL {
			return kfake.ACL{Resource: res, Name: name, Pattern: pat, Operation: op, Allow: true}
		}
		lit, pre := kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed
		topic := kmsg.ACLResourceTypeTopic
		ak := testenv.StartKafka(t, kfake.EnableSASL(), kfake.EnableACLs(), kfake.Superuser("SCRAM-SHA-256", "admin", "admin"),
			kfake.SeedTopics(1, "acl-main"),
			// writer: may write to and describe every acl-* topic and list ACLs, but not create topics.
			kfake.User("SCRAM-SHA-256", "writer", pw,
				acl(topic, "acl-", pre, kmsg.ACLOperationWrite), acl(topic, "acl-", pre, kmsg.ACLOperationDescribe),
				acl(kmsg.ACLResourceTypeCluster, "kafka-cluster", lit, kmsg.ACLOperationDescribe)),
			// reader: may only read acl-main.
			kfake.User("SCRAM-SHA-256", "reader", pw,
				acl(topic, "acl-main", lit, kmsg.ACLOperationRead), acl(topic, "acl-main", lit, kmsg.ACLOperationDescribe)),
		)
		m.Exec(t, "CREATE DATABASE acl", "CREATE TABLE acl.t (id INT PRIMARY KEY)", "CREATE TABLE acl.u (id INT PRIMARY KEY)")

		// The writer cannot create the missing topic; WRITE on it follows from the prefixed ACL.
		tk := newTask(m, ak.Addrs, "acl-main", obj("acl", "t"), task.Object{Database: "acl", Table: "u", Topic: "acl-new"})
		tk.Destination.SASL = task.SASL{Mechanism: "SCRAM-SHA-256", User: "writer", Password: pw}
		items := run(t, tk, Options{})
		expect(t, items, map[string]string{CodeDestTopic: ResultFailed})
		mentions(t, items[CodeDestTopic], "acl-new", "cannot be created", "--operation Create --topic acl-new", "acl-main (tables acl.t): exists")
		mentions(t, items[CodeAuthDest], "acl-main: WRITE allowed", "acl-new: an ACL allows WRITE for User:writer")

		// The reader may not write.
		tk = newTask(m, ak.Addrs, "acl-main", obj("acl", "t"))
		tk.Destination.SASL = task.SASL{Mechanism: "SCRAM-SHA-256", User: "reader", Password: pw}
		items = run(t, tk, Options{})
		expect(t, items, map[string]string{CodeAuthDest: ResultFailed})
		mentions(t, items[CodeAuthDest], "acl-main: WRITE is not allowed for User:reader", "READ", "--allow-principal User:reader --operation Write --operation Describe --topic acl-main")
	})

	t.Run("missing topic without auto-creation", func(t *testing.T) {
		t.Parallel()
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		m.Exec(t, "CREATE DATABASE noauto", "CREATE TABLE noauto.t (id INT PRIMARY KEY)")
		tk := newTask(m, c.ListenAddrs(), "noauto", task.Object{Database: "noauto", Table: "t", Partitions: 3})
		items := run(t, tk, Options{})
		expect(t, items, nil)
		mentions(t, items[CodeDestTopic], "noauto (tables noauto.t): does not exist; Tributary creates it with 3 partitions")
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		td, err := kadm.NewClient(cl).ListTopics(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if td.Has("noauto") {
			t.Error("the precheck created the topic")
		}
	})
}

// TestSourceSettings runs the binlog misconfiguration matrix, one server per setting.
func TestSourceSettings(t *testing.T) {
	k := testenv.StartKafka(t)
	for _, c := range []struct {
		name     string
		opts     []testenv.MariaDBOption
		setup    []string
		popts    Options
		fullOnly bool
		serverID uint32
		want     map[string]string
		mention  []string
	}{
		{name: "binlog off", opts: []testenv.MariaDBOption{testenv.WithoutBinlog(), testenv.WithFlags("--binlog-format=ROW", "--binlog-row-metadata=FULL")},
			want: map[string]string{CodeBinlogOn: ResultFailed}, mention: []string{"log_bin = OFF", "log_bin = mysql-bin"}},
		{name: "binlog off, full only", opts: []testenv.MariaDBOption{testenv.WithoutBinlog(), testenv.WithFlags("--binlog-format=ROW", "--binlog-row-metadata=FULL")},
			fullOnly: true, mention: []string{"log_bin = OFF", fullOnlyNote}},
		{name: "statement format", opts: []testenv.MariaDBOption{testenv.WithFlags("--binlog-format=STATEMENT", "--binlog-row-metadata=FULL")},
			want: map[string]string{CodeBinlogMode: ResultFailed}, mention: []string{"binlog_format = STATEMENT", "SET GLOBAL binlog_format = 'ROW';"}},
		{name: "minimal row image", opts: []testenv.MariaDBOption{testenv.WithFlags("--binlog-row-image=MINIMAL", "--binlog-row-metadata=FULL")},
			want: map[string]string{CodeBinlogRowImage: ResultFailed}, mention: []string{"binlog_row_image = MINIMAL", "SET GLOBAL binlog_row_image = 'FULL';"}},
		{name: "minimal row metadata", opts: nil,
			want: map[string]string{CodeBinlogMetadata: ResultWarning}, mention: []string{"binlog_row_metadata = NO_LOG", "rebuilt from the binlog's DDL", "SET GLOBAL binlog_row_metadata = 'FULL';"}},
		{name: "one day retention", opts: []testenv.MariaDBOption{testenv.WithFlags("--expire-logs-days=1", "--binlog-row-metadata=FULL")},
			want: map[string]string{CodeBinlogRetention: ResultWarning}, mention: []string{"expire_logs_days = 1", "kept 24.0 hours", "7 days", "binlog_expire_logs_seconds = 604800"}},
		{name: "retention shorter than full migration", opts: []testenv.MariaDBOption{testenv.WithFlags("--binlog-expire-logs-seconds=864000", "--binlog-row-metadata=FULL")},
			popts: Options{EstimatedFullDuration: 20 * 24 * time.Hour},
			want:  map[string]string{CodeBinlogRetention: ResultWarning}, mention: []string{"binlog_expire_logs_seconds = 864000", "shorter than the estimated full migration time", "binlog_expire_logs_seconds = 3456000"}},
		// MariaDB clamps server_id to at least 1, so server_id = 0 (a MySQL 5.7 default) cannot be
		// reproduced here; a task whose reader announces the source's own server_id fails too.
		{name: "reader serverId equals server_id", opts: []testenv.MariaDBOption{goodFlags}, serverID: 1,
			want: map[string]string{CodeServerID: ResultFailed}, mention: []string{"server_id = 1", "announces serverId 1", "$.source.serverId"}},
		{name: "replica without log_slave_updates", opts: []testenv.MariaDBOption{goodFlags},
			setup: []string{"CHANGE MASTER TO MASTER_HOST='192.0.2.1', MASTER_PORT=3307, MASTER_USER='repl'"},
			want:  map[string]string{CodeLogSlaveUpdates: ResultWarning}, mention: []string{"log_slave_updates = OFF", "replica of 192.0.2.1:3307", "log_slave_updates = ON"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := testenv.StartMariaDB(t, c.opts...)
			m.Exec(t, append([]string{"CREATE DATABASE s", "CREATE TABLE s.t (id INT PRIMARY KEY)"}, c.setup...)...)
			tk := newTask(m, k.Addrs, "src-"+strings.ReplaceAll(c.name, " ", "-"), obj("s", "t"))
			tk.Destination.Topic = strings.NewReplacer(",", "", "_", "-").Replace(tk.Destination.Topic)
			tk.MigrationTypes.Incremental = !c.fullOnly
			tk.Source.ServerID = c.serverID
			items := run(t, tk, c.popts)
			expect(t, items, c.want)
			code := CodeBinlogOn
			for cd := range c.want {
				code = cd
			}
			mentions(t, items[code], c.mention...)
		})
	}
}

func mapItems(m map[string]Item) []Item {
	out := make([]Item, 0, len(m))
	for _, it := range m {
		out = append(out, it)
	}
	return out
}

func admin(t *testing.T, k *testenv.Kafka) *kadm.Client {
	t.Helper()
	cl, err := k.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// selfSigned makes a certificate for 127.0.0.1 and returns the server TLS config and the CA
// file.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, ca
}

func TestDestinationTLS(t *testing.T) {
	m := testenv.StartMariaDB(t, goodFlags)
	m.Exec(t, "CREATE DATABASE tls", "CREATE TABLE tls.t (id INT PRIMARY KEY)")
	serverTLS, ca := selfSigned(t)
	tk := testenv.StartKafka(t, kfake.TLS(serverTLS))
	plain := testenv.StartKafka(t)
	connFailed := map[string]string{}
	for _, d := range defs {
		if d.needs&needDest != 0 || d.code == CodeConnDest {
			connFailed[d.code] = ResultFailed
		}
	}
	for _, c := range []struct {
		name    string
		brokers []string
		tls     task.TLS
		want    map[string]string
		mention []string
	}{
		{"CA given", tk.Addrs, task.TLS{Enabled: true, CAFile: ca}, nil, []string{"connected (TLS, no SASL)"}},
		{"unknown CA", tk.Addrs, task.TLS{Enabled: true}, connFailed, []string{"certificate", "tls.caFile"}},
		{"TLS off against a TLS listener", tk.Addrs, task.TLS{}, connFailed, []string{"expects TLS on this port"}},
		{"TLS on against a plaintext listener", plain.Addrs, task.TLS{Enabled: true, CAFile: ca}, connFailed, []string{"speaks plaintext Kafka on this port"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			task := newTask(m, c.brokers, "tls", obj("tls", "t"))
			task.Destination.TLS = c.tls
			items := run(t, task, Options{})
			expect(t, items, c.want)
			mentions(t, items[CodeConnDest], c.mention...)
		})
	}
}

func TestSourceUnreachableAndCanceled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	k := testenv.StartKafka(t)
	tk := &task.Task{Name: "x", Source: task.Source{MySQL: task.MySQL{Host: "127.0.0.1", Port: port, User: "u"}},
		Destination:    task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: "unreach"},
		MigrationTypes: task.MigrationTypes{Full: true, Incremental: true}, Objects: []task.Object{obj("d", "t")}}
	tk.Defaults()
	items := run(t, tk, Options{})
	if it := items[CodeConnSrc]; it.Result != ResultFailed {
		t.Fatalf("%+v", it)
	}
	mentions(t, items[CodeConnSrc], "refused", "start the MySQL server")
	mentions(t, items[CodeBinlogOn], skippedSourceMessage)
	if items[CodeConnDest].Result != ResultPassed || items[CodeDestTopic].Result != ResultPassed {
		t.Errorf("the destination items depend on the source: %+v", items[CodeDestTopic])
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	got := Run(ctx, tk, Options{}, nil)
	if len(got) != len(Codes(tk)) || time.Since(start) > 5*time.Second || Passed(got) {
		t.Errorf("canceled run: %d items in %v", len(got), time.Since(start))
	}
}
