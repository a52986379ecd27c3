package tests

// End-to-end tests of the Kafka destination: pipeline.Runner against a real MariaDB (testenv)
// and kfake, read back only with franz-go (kgo). Partition placement and message keys are
// recomputed here from the documented formula (README "Partitions"), never with engine/kafka.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"tributary/engine/pipeline"
	"tributary/engine/task"
	"tributary/internal/testenv"
)

// ---------------------------------------------------------------------------------------------
// Harness

// ktObserver records states and logs; the logs are printed only when the test fails (runner
// goroutines may still log while a test ends, where t.Logf would panic).
type ktObserver struct {
	mu      sync.Mutex
	phase   string
	states  []string
	reasons []string
	logs    []string
}

func newKtObserver(t *testing.T) *ktObserver {
	o := &ktObserver{}
	t.Cleanup(func() {
		if t.Failed() {
			o.mu.Lock()
			defer o.mu.Unlock()
			for _, l := range o.logs {
				t.Log(l)
			}
		}
	})
	return o
}

func (o *ktObserver) Progress(p pipeline.Progress) { o.mu.Lock(); o.phase = p.Phase; o.mu.Unlock() }
func (o *ktObserver) Log(level, msg string) {
	o.mu.Lock()
	o.logs = append(o.logs, level+": "+msg)
	o.mu.Unlock()
}
func (o *ktObserver) State(s, reason string) {
	o.mu.Lock()
	o.states = append(o.states, s)
	o.reasons = append(o.reasons, reason)
	o.logs = append(o.logs, "state "+s+": "+reason)
	o.mu.Unlock()
}

func (o *ktObserver) currentPhase() string { o.mu.Lock(); defer o.mu.Unlock(); return o.phase }

// firstState returns the reason of the first report of state s.
func (o *ktObserver) firstState(s string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, st := range o.states {
		if st == s {
			return o.reasons[i], true
		}
	}
	return "", false
}

func ktTask(db *testenv.MariaDB, brokers []string, topic string, objects ...task.Object) *task.Task {
	t := &task.Task{Version: 1, Name: "kafka-test", MigrationTypes: task.MigrationTypes{Full: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: brokers, Version: "2.8.0"}, Topic: topic},
		Objects:     objects}
	t.Defaults()
	return t
}

// ktRunFull runs a full-migration task to its end.
func ktRunFull(t *testing.T, tk *task.Task) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pipeline.NewRunner(tk, &testenv.Checkpoints{}, newKtObserver(t)).Run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// ktRead consumes topic from the start with kgo until it holds at least atLeast records (then
// whatever else is immediately there), sorted by partition and offset.
func ktRead(t *testing.T, addrs []string, topic string, atLeast int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	var lastErr error
	poll := func(d time.Duration) int {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		fs := cl.PollFetches(ctx)
		fs.EachError(func(tp string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				lastErr = fmt.Errorf("%s/%d: %w", tp, p, err)
			}
		})
		n := 0
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r); n++ })
		return n
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(recs) < atLeast && time.Now().Before(deadline) {
		poll(time.Until(deadline))
	}
	if len(recs) < atLeast {
		t.Fatalf("read %d of at least %d records from %s (last fetch error: %v)", len(recs), atLeast, topic, lastErr)
	}
	for poll(300*time.Millisecond) > 0 {
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
	return recs
}

type ktCanal struct {
	ID       int64                `json:"id"`
	Data     []map[string]*string `json:"data"`
	Database string               `json:"database"`
	Table    string               `json:"table"`
	Type     string               `json:"type"`
	IsDdl    bool                 `json:"isDdl"`
	SQL      string               `json:"sql"`
}

func ktDecodeCanal(t *testing.T, r *kgo.Record) ktCanal {
	t.Helper()
	var m ktCanal
	if err := json.Unmarshal(r.Value, &m); err != nil {
		t.Fatalf("record %s/%d@%d is not Canal JSON: %v: %q", r.Topic, r.Partition, r.Offset, err, r.Value)
	}
	if !m.IsDdl && len(m.Data) != 1 {
		t.Fatalf("record %s/%d@%d: %d rows in data, want 1", r.Topic, r.Partition, r.Offset, len(m.Data))
	}
	return m
}

// ---------------------------------------------------------------------------------------------
// The documented placement formula, recomputed independently (README, "Partitions").

// javaHashCode is Java's String.hashCode: s[0]*31^(n-1) + … + s[n-1] over the UTF-16 code units,
// in 32-bit two's complement arithmetic.
func javaHashCode(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// javaFloorMod is Java's Math.floorMod(int, int).
func javaFloorMod(x, n int32) int32 { return ((x % n) + n) % n }

func TestKafkaJavaHashCodeReference(t *testing.T) {
	// Values printed by Java (String.hashCode / Math.floorMod).
	for s, want := range map[string]int32{
		"": 0, "hello": 99162322, "Aa": 2112, "BB": 2112,
		"polygenelubricants": -2147483648, // Integer.MIN_VALUE: Math.abs would break here
		"😀":                  1772899,     // "\uD83D\uDE00"
	} {
		if got := javaHashCode(s); got != want {
			t.Errorf("javaHashCode(%q) = %d, want %d", s, got, want)
		}
	}
	if got := javaFloorMod(-2147483648, 6); got != 4 {
		t.Errorf("floorMod(MIN_VALUE, 6) = %d, want 4", got)
	}
	if got := javaFloorMod(-7, 6); got != 5 {
		t.Errorf("floorMod(-7, 6) = %d, want 5", got)
	}
}

// ---------------------------------------------------------------------------------------------
// 1. Partition policies

const ktParts = 6

// ktPartTables creates the four tables of the partition test in database s.
func ktPartTables(t *testing.T, db *testenv.MariaDB, s string) {
	db.Exec(t,
		"CREATE DATABASE "+s+" CHARACTER SET utf8mb4",
		"CREATE TABLE "+s+".pk (k VARCHAR(40) NOT NULL PRIMARY KEY, grp VARCHAR(20) NOT NULL, n INT) DEFAULT CHARSET=utf8mb4",
		// Key order (region, id) differs from column order; region is latin1.
		"CREATE TABLE "+s+".comp (id INT NOT NULL, region VARCHAR(10) CHARACTER SET latin1 NOT NULL, v VARCHAR(20), PRIMARY KEY (region, id)) DEFAULT CHARSET=utf8mb4",
		// No primary key: a nullable unique key and a NOT NULL one; the NOT NULL one is the key.
		"CREATE TABLE "+s+".uk (a INT NULL, code VARCHAR(20) NOT NULL, v INT, UNIQUE KEY u0 (a), UNIQUE KEY u1 (code)) DEFAULT CHARSET=utf8mb4",
		"CREATE TABLE "+s+".nokey (v VARCHAR(20), n INT) DEFAULT CHARSET=utf8mb4",
		"INSERT INTO "+s+".pk VALUES ('a','g1',1),('b','g1',2),('hello','组2',3),('polygenelubricants','🚀',4),"+
			"('Aa','g1',5),('BB','组2',6),('😀','🚀',7),('𝄞 clef','g3',8),('中文键','g3',9),('é','g1',10),"+
			"('x😀y😀z','𝄞',11),('k-0123456789-0123456789','g1',12),('Ωmega','组2',13),('-1','g1',14)",
		"INSERT INTO "+s+".comp VALUES (1,'café','a'),(2,'café','b'),(3,'naïve','c'),(1,'x','d'),(-5,'ÿ','e'),"+
			"(10,'über','f'),(7,'x','g'),(123456,'',NULL)",
		"INSERT INTO "+s+".uk VALUES (1,'c1',1),(NULL,'码',2),(NULL,'🎉',3),(4,'code-4',4),(5,'Zürich',5),(NULL,'c6',6)",
		"INSERT INTO "+s+".nokey VALUES ('v1',1),('v😀',2),('v1',3),('ä',4),(NULL,5)",
	)
}

// ktPartChanges runs the incremental part: row changes and two DDL statements.
var ktPartChanges = []string{
	"INSERT INTO %[1]s.pk VALUES ('new😀','g🚀',100),('new2','g1',101)",
	"UPDATE %[1]s.pk SET n = n + 1 WHERE k = 'hello'",
	"UPDATE %[1]s.pk SET k = 'moved→😀' WHERE k = 'a'", // a key change goes with its new key
	"DELETE FROM %[1]s.pk WHERE k = 'b'",              // a delete goes with its before image
	"INSERT INTO %[1]s.comp VALUES (7,'über','x')",
	"DELETE FROM %[1]s.comp WHERE id = 3",
	"UPDATE %[1]s.uk SET v = v + 1 WHERE code = '码'",
	"INSERT INTO %[1]s.nokey VALUES ('inc😀',9)",
	"ALTER TABLE %[1]s.pk ADD COLUMN extra INT",
	"ALTER TABLE %[1]s.uk ADD COLUMN note VARCHAR(5)",
	"INSERT INTO %[1]s.pk VALUES ('after-ddl','g1',1,2)",
}

const (
	ktInitRows = 14 + 8 + 6 + 5
	ktIncMsgs  = 12 // 10 row changes + 2 DDL
)

// ktKeyCols are the key columns the README documents: the primary key in key order, else the
// (NOT NULL) unique key, else none.
var ktKeyCols = map[string][]string{"pk": {"k"}, "comp": {"region", "id"}, "uk": {"code"}, "nokey": nil}

func ktJoin(t *testing.T, row map[string]*string, cols []string) (string, bool) {
	if len(cols) == 0 {
		return "", false
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		v, ok := row[c]
		if !ok {
			t.Fatalf("column %s missing from %v", c, row)
		}
		if v != nil {
			parts[i] = *v
		}
	}
	return strings.Join(parts, ","), true
}

func TestKafkaPartitionPolicies(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	cases := []struct {
		name, policy string
		override     map[string][]string // "Partition Key" columns per table
	}{
		{"partition-0", "partition-0", nil},
		{"hash-db-table", "hash-db-table", nil},
		{"hash-primary-key", "hash-primary-key", nil},
		{"hash-primary-key-partition-key", "hash-primary-key", map[string][]string{
			"pk": {"grp"}, "comp": {"id", "region"}, "nokey": {"v"}}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := fmt.Sprintf("pp%d", i)
			ktPartTables(t, db, s)
			topic := "pp-" + c.name
			k.CreateTopic(t, topic, ktParts)
			var objs []task.Object
			for _, tb := range []string{"pk", "comp", "uk", "nokey"} {
				objs = append(objs, task.Object{Database: s, Table: tb, Partitions: ktParts, PartitionKey: c.override[tb]})
			}
			tk := ktTask(db, k.Addrs, topic, objs...)
			tk.PartitionPolicy = c.policy
			tk.MigrationTypes.Incremental = true
			tk.Advanced.ChunkRows = 3
			obs := newKtObserver(t)
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- pipeline.NewRunner(tk, &testenv.Checkpoints{}, obs).Run(ctx) }()
			for obs.currentPhase() != "incremental" {
				select {
				case err := <-done:
					t.Fatalf("run ended before incremental migration: %v", err)
				case <-time.After(50 * time.Millisecond):
				}
				if ctx.Err() != nil {
					t.Fatal("incremental migration did not start")
				}
			}
			for _, q := range ktPartChanges {
				db.Exec(t, fmt.Sprintf(q, s))
			}
			recs := ktRead(t, k.Addrs, topic, ktInitRows+ktIncMsgs)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("run ended with %v", err)
			}
			if len(recs) != ktInitRows+ktIncMsgs {
				t.Errorf("%d records, want %d", len(recs), ktInitRows+ktIncMsgs)
			}

			types := map[string]int{}
			used := map[int32]bool{}
			ddlTables := map[string]int32{}
			// Order: in each partition every INIT precedes the changes, and the changes keep
			// the source order (Canal "id" grows with the offset); all together, sorted by
			// id, they are the statements in the order they ran.
			lastID := map[int32]int64{}
			sawChange := map[int32]bool{}
			type change struct {
				id   int64
				what string
			}
			var changes []change
			for _, r := range recs {
				m := ktDecodeCanal(t, r)
				if m.Type == "INIT" {
					if sawChange[r.Partition] {
						t.Errorf("partition %d: INIT record at offset %d after an incremental change", r.Partition, r.Offset)
					}
				} else {
					if sawChange[r.Partition] && m.ID <= lastID[r.Partition] {
						t.Errorf("partition %d: change id %d at offset %d after id %d: source order broken", r.Partition, m.ID, r.Offset, lastID[r.Partition])
					}
					sawChange[r.Partition] = true
					lastID[r.Partition] = m.ID
					what := m.Table + " DDL"
					if !m.IsDdl {
						key, _ := ktJoin(t, m.Data[0], ktKeyCols[m.Table])
						what = m.Table + " " + m.Type + " " + key
					}
					changes = append(changes, change{m.ID, what})
				}
				if m.Database != s {
					t.Fatalf("record of database %q in %s", m.Database, s)
				}
				if _, ok := ktKeyCols[m.Table]; !ok {
					t.Fatalf("record of unexpected table %q: %s", m.Table, r.Value)
				}
				used[r.Partition] = true
				var want int32
				if m.IsDdl {
					types["DDL"]++
					// DDL: partition 0, or its table's partition with the db/table policy.
					if c.policy == "hash-db-table" {
						want = javaFloorMod(javaHashCode(s+"."+m.Table), ktParts)
					}
					ddlTables[m.Table] = r.Partition
					if r.Key != nil {
						t.Errorf("DDL %q has message key %q, want none", m.SQL, r.Key)
					}
				} else {
					types[m.Type]++
					row := m.Data[0]
					key, hasKey := ktJoin(t, row, ktKeyCols[m.Table])
					switch {
					case !hasKey && r.Key != nil:
						t.Errorf("%s.%s row %v (no key) has message key %q, want none", s, m.Table, ktRow(row), r.Key)
					case hasKey && string(r.Key) != key:
						t.Errorf("%s.%s row %v: message key %q, want %q", s, m.Table, ktRow(row), r.Key, key)
					}
					switch c.policy {
					case "hash-db-table":
						want = javaFloorMod(javaHashCode(s+"."+m.Table), ktParts)
					case "hash-primary-key":
						cols := ktKeyCols[m.Table]
						if o := c.override[m.Table]; o != nil {
							cols = o
						}
						if hk, ok := ktJoin(t, row, cols); ok {
							want = javaFloorMod(javaHashCode(hk), ktParts)
						}
					}
				}
				if r.Partition != want {
					t.Errorf("%s record of %s.%s (%s) is in partition %d, the formula says %d",
						m.Type, s, m.Table, ktDescribe(m), r.Partition, want)
				}
			}
			sort.Slice(changes, func(i, j int) bool { return changes[i].id < changes[j].id })
			var order []string
			for _, c := range changes {
				order = append(order, c.what)
			}
			wantOrder := []string{"pk INSERT new😀", "pk INSERT new2", "pk UPDATE hello", "pk UPDATE moved→😀", "pk DELETE b",
				"comp INSERT über,7", "comp DELETE naïve,3", "uk UPDATE 码", "nokey INSERT ", "pk DDL", "uk DDL", "pk INSERT after-ddl"}
			if strings.Join(order, "|") != strings.Join(wantOrder, "|") {
				t.Errorf("changes in id order:\n %q\nwant\n %q", order, wantOrder)
			}
			if len(ddlTables) != 2 {
				t.Errorf("DDL arrived for tables %v, want pk and uk", ddlTables)
			}
			wantTypes := map[string]int{"INIT": ktInitRows, "INSERT": 5, "UPDATE": 3, "DELETE": 2, "DDL": 2}
			if fmt.Sprint(types) != fmt.Sprint(wantTypes) {
				t.Errorf("record types %v, want %v", types, wantTypes)
			}
			if c.policy == "hash-primary-key" && len(used) < 4 {
				t.Errorf("only partitions %v used: the keys should spread", used)
			}
			if c.policy == "hash-db-table" && len(used) < 2 {
				t.Errorf("only partitions %v used", used)
			}
		})
	}
}

func ktRow(row map[string]*string) map[string]string {
	out := map[string]string{}
	for k, v := range row {
		if v == nil {
			out[k] = "NULL"
		} else {
			out[k] = *v
		}
	}
	return out
}

func ktDescribe(m ktCanal) string {
	if m.IsDdl {
		return m.SQL
	}
	return fmt.Sprint(ktRow(m.Data[0]))
}

// TestKafkaTopicPreparation: a missing topic is created with the mapped partition count; a topic
// with fewer partitions than mapped stops the task before it sends anything.
func TestKafkaTopicPreparation(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t) // auto-created topics would get 1 partition
	ktSmallTable(t, db, "prep", 20)

	tk := ktTask(db, k.Addrs, "prep-new", task.Object{Database: "prep", Table: "t", Partitions: 4})
	tk.PartitionPolicy = "hash-primary-key"
	ktRunFull(t, tk)
	cl, err := k.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	td, err := kadm.NewClient(cl).ListTopics(ctx, "prep-new")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(td["prep-new"].Partitions); n != 4 {
		t.Errorf("prep-new was created with %d partitions, want the 4 mapped", n)
	}
	ktCheckRows(t, ktRead(t, k.Addrs, "prep-new", 20), 20)

	k.CreateTopic(t, "prep-small", 2)
	tk = ktTask(db, k.Addrs, "prep-small", task.Object{Database: "prep", Table: "t", Partitions: 6})
	obs := newKtObserver(t)
	err = pipeline.NewRunner(tk, &testenv.Checkpoints{}, obs).Run(ctx)
	var perm *pipeline.Permanent
	if !errors.As(err, &perm) {
		t.Fatalf("run with a 2-partition topic mapped to 6: %v, want a Permanent error", err)
	}
	for _, want := range []string{`"prep-small"`, "2 partitions", "6"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	if _, ok := obs.firstState("Retrying"); ok {
		t.Errorf("retried a partition-count mismatch")
	}
	if n := k.Count(t, "prep-small"); n != 0 {
		t.Errorf("%d records sent to prep-small before the error", n)
	}
}

// ---------------------------------------------------------------------------------------------
// 2. SASL and TLS

// ktCerts makes a self-signed CA and a server certificate for 127.0.0.1 signed by it. It
// returns the server TLS config, the CA file and the CA pool.
func ktCerts(t *testing.T, cn string) (*tls.Config, string, *x509.CertPool) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	srv := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER, caDER}, PrivateKey: srvKey}}, MinVersion: tls.VersionTLS12}
	return srv, caFile, pool
}

func TestKafkaSASLAndTLS(t *testing.T) {
	db := testenv.StartMariaDB(t)
	db.Exec(t, "CREATE DATABASE sec", "USE sec", "CREATE TABLE sec.t (id INT PRIMARY KEY, v VARCHAR(20))",
		"INSERT INTO sec.t SELECT seq, CONCAT('v', seq) FROM seq_1_to_50")
	srvTLS, caFile, pool := ktCerts(t, "tributary test CA")
	const user = "dts-user"
	cases := []struct {
		name, mech string
		tls        bool
	}{
		{"scram-sha-256+tls", "SCRAM-SHA-256", true},
		{"scram-sha-512", "SCRAM-SHA-512", false},
		{"plain+tls", "PLAIN", true},
		{"tls-only", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pw := "pw-" + c.mech + "-ok"
			var opts []kfake.Opt
			var read []kgo.Opt
			if c.mech != "" {
				opts = append(opts, kfake.EnableSASL(), kfake.Superuser(c.mech, user, pw))
				switch c.mech {
				case "PLAIN":
					read = append(read, kgo.SASL(plain.Auth{User: user, Pass: pw}.AsMechanism()))
				case "SCRAM-SHA-256":
					read = append(read, kgo.SASL(scram.Auth{User: user, Pass: pw}.AsSha256Mechanism()))
				case "SCRAM-SHA-512":
					read = append(read, kgo.SASL(scram.Auth{User: user, Pass: pw}.AsSha512Mechanism()))
				}
			}
			if c.tls {
				opts = append(opts, kfake.TLS(srvTLS))
				read = append(read, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
			}
			k := testenv.StartKafka(t, opts...)
			tk := ktTask(db, k.Addrs, "sec", task.Object{Database: "sec", Table: "t"})
			if c.mech != "" {
				tk.Destination.SASL = task.SASL{Mechanism: c.mech, User: user, Password: pw}
			}
			tk.Destination.TLS = task.TLS{Enabled: c.tls, CAFile: caFile}
			ktRunFull(t, tk)
			recs := ktRead(t, k.Addrs, "sec", 50, read...)
			ids := map[string]bool{}
			for _, r := range recs {
				ids[*ktDecodeCanal(t, r).Data[0]["id"]] = true
			}
			if len(recs) != 50 || len(ids) != 50 {
				t.Errorf("%d records, %d distinct ids; want 50", len(recs), len(ids))
			}

			if c.mech != "" {
				// A wrong password: the runner retries (connection failure) and says why.
				bad := *tk
				bad.Destination.SASL.Password = "wrong-password"
				bad.Advanced.RetryConnectionMinutes = 10
				bad.Advanced.RetryOtherMinutes = 1
				reason := ktRetryReason(t, &bad)
				low := strings.ToLower(reason)
				if !strings.Contains(low, "authentication") || !strings.Contains(reason, user) || !strings.Contains(reason, c.mech) {
					t.Errorf("retry reason %q does not say that authentication of %s (%s) failed", reason, user, c.mech)
				}
			}
			if c.tls {
				// A CA that did not sign the broker's certificate.
				_, otherCA, _ := ktCerts(t, "another CA")
				bad := *tk
				bad.Destination.TLS.CAFile = otherCA
				bad.Advanced.RetryConnectionMinutes = 10
				bad.Advanced.RetryOtherMinutes = 1
				reason := ktRetryReason(t, &bad)
				if !strings.Contains(strings.ToLower(reason), "certificate") {
					t.Errorf("retry reason %q does not name the certificate", reason)
				}
			}
		})
	}
}

// ktRetryReason runs a task that cannot connect until the runner reports Retrying, and returns
// the reason.
func ktRetryReason(t *testing.T, tk *task.Task) string {
	t.Helper()
	obs := newKtObserver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- pipeline.NewRunner(tk, &testenv.Checkpoints{}, obs).Run(ctx) }()
	for {
		if reason, ok := obs.firstState("Retrying"); ok {
			cancel()
			<-done
			return reason
		}
		select {
		case err := <-done:
			t.Fatalf("run ended (%v) without reporting Retrying", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ---------------------------------------------------------------------------------------------
// 3. A row larger than the broker accepts

func TestKafkaRowTooLarge(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t, kfake.BrokerConfigs(map[string]string{"message.max.bytes": "2000"}))
	const rows, bigID = 40, 23
	db.Exec(t, "CREATE DATABASE big", "USE big", "CREATE TABLE big.t (id INT PRIMARY KEY, payload TEXT)",
		fmt.Sprintf("INSERT INTO big.t SELECT seq, CONCAT('small-', seq) FROM seq_1_to_%d", rows))
	// Incompressible text, so that no codec can squeeze it under the limit.
	rng := mrand.New(mrand.NewSource(1))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	payload := make([]byte, 5000)
	for i := range payload {
		payload[i] = alphabet[rng.Intn(len(alphabet))]
	}
	db.Exec(t, fmt.Sprintf("UPDATE big.t SET payload = '%s' WHERE id = %d", payload, bigID))

	tk := ktTask(db, k.Addrs, "big", task.Object{Database: "big", Table: "t"})
	tk.Advanced.ChunkRows = 10
	tk.Advanced.FullWorkers = 1
	tk.Advanced.RetryOtherMinutes = 1
	tk.Advanced.RetryConnectionMinutes = 10
	cp := &testenv.Checkpoints{}
	obs := newKtObserver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- pipeline.NewRunner(tk, cp, obs).Run(ctx) }()
	var err error
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case <-time.After(20 * time.Millisecond):
			if reason, ok := obs.firstState("Retrying"); ok {
				cancel()
				<-done
				t.Fatalf("the runner retries a row that can never fit instead of failing: %s", reason)
			}
		}
	}
	if err == nil || ctx.Err() != nil {
		t.Fatalf("run ended with %v, want a failure", err)
	}
	var perm *pipeline.Permanent
	if !errors.As(err, &perm) {
		t.Errorf("error %v is not Permanent", err)
	}
	if _, ok := obs.firstState("Failed"); !ok {
		t.Errorf("no Failed state reported")
	}
	msg := err.Error()
	for _, want := range []string{"big.t", strconv.Quote(strconv.Itoa(bigID)), "2000"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	// The checkpoint stops before the chunk of the big row (ids 21-30).
	var seg struct {
		After [][]byte `json:"after"`
		Done  bool     `json:"done"`
	}
	if b := cp.Get("full/big.t/0"); b != nil {
		if err := json.Unmarshal(b, &seg); err != nil {
			t.Fatalf("checkpoint %s: %v", b, err)
		}
	}
	if seg.Done {
		t.Fatalf("the table is checkpointed as done although row %d was not delivered", bigID)
	}
	if len(seg.After) > 0 {
		if n, _ := strconv.Atoi(string(seg.After[0])); n >= bigID {
			t.Fatalf("checkpoint resumes after id %d, past the undelivered row %d", n, bigID)
		}
	}
	for _, r := range ktRead(t, k.Addrs, "big", 0) {
		if *ktDecodeCanal(t, r).Data[0]["id"] == strconv.Itoa(bigID) {
			t.Fatalf("the big row is in the topic although the broker limit is 2000 bytes")
		}
	}

	// Raise the topic's limit: the task resumes from its checkpoint and delivers the row and
	// every row after it.
	cl, err := k.Client()
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	v := "100000"
	resps, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, "big")
	if err == nil {
		_, err = resps.On("big", nil)
	}
	cl.Close()
	if err != nil {
		t.Fatalf("alter topic config: %v", err)
	}
	if err := pipeline.NewRunner(tk, cp, newKtObserver(t)).Run(ctx); err != nil {
		t.Fatalf("rerun after raising the limit: %v", err)
	}
	seen := map[string]bool{}
	for _, r := range ktRead(t, k.Addrs, "big", rows) {
		m := ktDecodeCanal(t, r)
		id := *m.Data[0]["id"]
		seen[id] = true
		if id == strconv.Itoa(bigID) && *m.Data[0]["payload"] != string(payload) {
			t.Errorf("the big row arrived with a different payload")
		}
	}
	for i := 1; i <= rows; i++ {
		if !seen[strconv.Itoa(i)] {
			t.Errorf("row %d never arrived", i)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// 4. Compression and 6. acks

func ktSmallTable(t *testing.T, db *testenv.MariaDB, s string, rows int) {
	db.Exec(t, "CREATE DATABASE "+s, "USE "+s, "CREATE TABLE "+s+".t (id INT PRIMARY KEY, v VARCHAR(100))",
		fmt.Sprintf("INSERT INTO %s.t SELECT seq, REPEAT(CONCAT('value-', seq, ' '), 5) FROM seq_1_to_%d", s, rows))
}

func ktCheckRows(t *testing.T, recs []*kgo.Record, rows int) {
	t.Helper()
	seen := map[int]bool{}
	for _, r := range recs {
		m := ktDecodeCanal(t, r)
		id, _ := strconv.Atoi(*m.Data[0]["id"])
		want := strings.Repeat(fmt.Sprintf("value-%d ", id), 5)
		if got := *m.Data[0]["v"]; got != want {
			t.Errorf("row %d: v = %q, want %q", id, got, want)
		}
		seen[id] = true
	}
	if len(recs) != rows || len(seen) != rows {
		t.Errorf("%d records, %d distinct rows; want %d", len(recs), len(seen), rows)
	}
}

func TestKafkaCompression(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	const rows = 300
	ktSmallTable(t, db, "cmp", rows)
	// Codec numbers of the record batch attributes (Kafka protocol).
	codecs := map[string]uint8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
	for _, name := range []string{"lz4", "gzip", "snappy", "zstd", "none"} {
		t.Run(name, func(t *testing.T) {
			topic := "cmp-" + name
			tk := ktTask(db, k.Addrs, topic, task.Object{Database: "cmp", Table: "t"})
			tk.Compression = name
			ktRunFull(t, tk)
			recs := ktRead(t, k.Addrs, topic, rows)
			ktCheckRows(t, recs, rows)
			for _, r := range recs {
				if got := r.Attrs.CompressionType(); got != codecs[name] {
					t.Fatalf("record batch codec %d, want %d (%s)", got, codecs[name], name)
				}
			}
		})
	}
}

func TestKafkaAcks(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	const rows = 200
	ktSmallTable(t, db, "ack", rows)
	for _, acks := range []string{"none", "leader", "all"} {
		t.Run(acks, func(t *testing.T) {
			topic := "ack-" + acks
			tk := ktTask(db, k.Addrs, topic, task.Object{Database: "ack", Table: "t"})
			tk.Acks = acks
			ktRunFull(t, tk)
			ktCheckRows(t, ktRead(t, k.Addrs, topic, rows), rows)
		})
	}
}

// ---------------------------------------------------------------------------------------------
// 5. DTS Avro

func ktAvroSchema(t *testing.T) avro.Schema {
	t.Helper()
	file := filepath.Join(repoRoot(t), "engine", "format", "dtsavro", "schema", "Record.avsc")
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cache := &avro.SchemaCache{}
	if _, err := avro.ParseWithCache(string(text), "", cache); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	s := cache.Get("com.alibaba.dts.formats.avro.Record")
	if s == nil {
		t.Fatalf("%s has no com.alibaba.dts.formats.avro.Record", file)
	}
	if ref, ok := s.(*avro.RefSchema); ok {
		s = ref.Schema()
	}
	return s
}

// ktAvroRecord is the part of the DTS Record a consumer reads here.
type ktAvroRecord struct {
	Operation   string         `avro:"operation"`
	ObjectName  *string        `avro:"objectName"`
	Fields      any            `avro:"fields"`
	AfterImages any            `avro:"afterImages"`
	Tags        map[string]any `avro:"tags"`
}

// ktAvroDecode decodes a DTS Avro payload; it returns the operation, objectName, the field
// names and the after image as name → (value union as decoded by hamba).
func ktAvroDecode(t *testing.T, schema avro.Schema, payload []byte) (string, string, []string, map[string]any) {
	t.Helper()
	var rec map[string]any
	if err := avro.Unmarshal(schema, payload, &rec); err != nil {
		t.Fatalf("hamba/avro cannot decode the record with Record.avsc: %v", err)
	}
	op, _ := rec["operation"].(string)
	obj, _ := rec["objectName"].(string)
	var names []string
	fields, ok := rec["fields"].(map[string]any)["array"].([]any)
	if !ok {
		t.Fatalf("fields = %#v, want an array", rec["fields"])
	}
	for _, f := range fields {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	after := map[string]any{}
	img, ok := rec["afterImages"].(map[string]any)["array"].([]any)
	if !ok {
		t.Fatalf("afterImages = %#v, want an array", rec["afterImages"])
	}
	if len(img) != len(names) {
		t.Fatalf("%d values for %d fields", len(img), len(names))
	}
	for i, v := range img {
		after[names[i]] = v
	}
	return op, obj, names, after
}

// ktAvroValue returns the branch name and the record of a value union (nil for null).
func ktAvroValue(t *testing.T, v any) (string, map[string]any) {
	t.Helper()
	if v == nil {
		return "null", nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		t.Fatalf("value %#v is not a union branch", v)
	}
	for k, inner := range m {
		rec, _ := inner.(map[string]any)
		return strings.TrimPrefix(k, "com.alibaba.dts.formats.avro."), rec
	}
	return "", nil
}

func TestKafkaDTSAvro(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	db.Exec(t, "CREATE DATABASE av",
		"CREATE TABLE av.items (id INT PRIMARY KEY, name VARCHAR(30) CHARACTER SET utf8mb4, price DECIMAL(10,2), note TEXT NULL, qty BIGINT UNSIGNED)",
		"INSERT INTO av.items VALUES (1,'widget',12.50,NULL,18000000000000000000),(2,'gadget 😀',0.99,'fragile',0),(3,'ünïcode',-3.00,'x',7)")
	schema := ktAvroSchema(t)
	want := map[string]struct{ name, price, qty string }{
		"1": {"widget", "12.50", "18000000000000000000"}, "2": {"gadget 😀", "0.99", "0"}, "3": {"ünïcode", "-3.00", "7"}}

	check := func(t *testing.T, payloads [][]byte) {
		if len(payloads) != 3 {
			t.Fatalf("%d records, want 3", len(payloads))
		}
		seen := map[string]bool{}
		for _, p := range payloads {
			op, obj, names, after := ktAvroDecode(t, schema, p)
			if op != "INIT" {
				t.Errorf("operation %q, want INIT", op)
			}
			if obj != "av.items" {
				t.Errorf("objectName %q, want av.items", obj)
			}
			if fmt.Sprint(names) != "[id name price note qty]" {
				t.Errorf("fields %v", names)
			}
			br, id := ktAvroValue(t, after["id"])
			if br != "Integer" {
				t.Fatalf("id is a %s, want Integer", br)
			}
			key := id["value"].(string)
			w, ok := want[key]
			if !ok || seen[key] {
				t.Fatalf("unexpected or repeated id %q", key)
			}
			seen[key] = true
			if br, v := ktAvroValue(t, after["name"]); br != "Character" || string(v["value"].([]byte)) != w.name {
				t.Errorf("id %s: name = %s %v, want Character %q", key, br, v, w.name)
			} else if cs := v["charset"].(string); !strings.HasPrefix(cs, "utf8") {
				t.Errorf("id %s: name charset %q", key, cs)
			}
			if br, v := ktAvroValue(t, after["price"]); br != "Decimal" || v["value"] != w.price || v["scale"] != 2 || v["precision"] != 10 {
				t.Errorf("id %s: price = %s %v, want Decimal %s (10,2)", key, br, v, w.price)
			}
			if br, v := ktAvroValue(t, after["qty"]); br != "Integer" || v["value"] != w.qty {
				t.Errorf("id %s: qty = %s %v, want Integer %s", key, br, v, w.qty)
			}
			br, note := ktAvroValue(t, after["note"])
			switch key {
			case "1":
				if br != "null" {
					t.Errorf("id 1: note = %s %v, want null", br, note)
				}
			case "2":
				if br != "BinaryObject" || string(note["value"].([]byte)) != "fragile" {
					t.Errorf("id 2: note = %s %v, want the TEXT as BinaryObject", br, note)
				}
			}
		}
	}

	t.Run("plain", func(t *testing.T) {
		tk := ktTask(db, k.Addrs, "avro", task.Object{Database: "av", Table: "items"})
		tk.Format = "dts-avro"
		ktRunFull(t, tk)
		var payloads [][]byte
		for _, r := range ktRead(t, k.Addrs, "avro", 3) {
			payloads = append(payloads, r.Value)
		}
		check(t, payloads)
	})

	t.Run("schema-registry", func(t *testing.T) {
		var mu sync.Mutex
		ids := map[string]int32{}
		next := int32(41)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rest, ok := strings.CutPrefix(r.URL.Path, "/subjects/")
			subject, ok2 := strings.CutSuffix(rest, "/versions")
			if r.Method != http.MethodPost || !ok || !ok2 {
				http.Error(w, `{"error_code":404,"message":"not found"}`, http.StatusNotFound)
				return
			}
			var body struct {
				Schema string `json:"schema"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, `{"error_code":422,"message":"bad body"}`, 422)
				return
			}
			if _, err := avro.Parse(body.Schema); err != nil {
				http.Error(w, `{"error_code":42201,"message":"invalid schema"}`, 422)
				return
			}
			mu.Lock()
			id, ok := ids[subject]
			if !ok {
				next++
				id = next
				ids[subject] = id
			}
			mu.Unlock()
			w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
			fmt.Fprintf(w, `{"id":%d}`, id)
		}))
		defer srv.Close()
		tk := ktTask(db, k.Addrs, "avro-reg", task.Object{Database: "av", Table: "items"})
		tk.Format = "dts-avro"
		tk.Destination.SchemaRegistry = task.SchemaRegistry{Enabled: true, URL: srv.URL}
		ktRunFull(t, tk)
		mu.Lock()
		id, ok := ids["avro-reg-value"]
		mu.Unlock()
		if !ok {
			t.Fatalf("no schema registered under avro-reg-value (registered: %v)", ids)
		}
		var payloads [][]byte
		for _, r := range ktRead(t, k.Addrs, "avro-reg", 3) {
			if len(r.Value) < 5 || r.Value[0] != 0 || int32(binary.BigEndian.Uint32(r.Value[1:5])) != id {
				t.Fatalf("payload does not start with 0x00 and schema id %d: % x", id, r.Value[:min(8, len(r.Value))])
			}
			payloads = append(payloads, r.Value[5:])
		}
		check(t, payloads)
	})
}
