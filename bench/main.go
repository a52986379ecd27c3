// Command bench measures Tributary end to end on this machine and prints a table next to the
// raw limits measured in the same run: a throwaway MariaDB, a Kafka-protocol broker (kfake,
// in this process), a 1,000,000-row table of ~300-byte rows, and `tributary run` as a child
// process so that its peak memory is its own.
//
// Full migration: the table migrated end to end, next to a streaming SELECT of it and a raw
// sarama producer. Incremental migration: a backlog of -changes row changes written into the
// binlog after the task recorded its start position, caught up end to end, next to the rate
// at which go-mysql alone decodes the same binlog; then a steady write load (-rate changes/s)
// whose rows carry their commit-side time in microseconds, read back by a kgo consumer: the
// latency from source commit to the change being readable in Kafka (p50, p99). -flat-rows N
// adds a full migration of an N-row table, to compare its peak memory with the first one.
//
//	go run ./bench [-rows 1000000] [-changes 1000000] [-rate 5000] [-skip-raw] [-flat-rows 10000000]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"tributary/engine/task"
	"tributary/internal/testenv"
)

type row struct {
	what, rows, mbs, latency, mem, note string
}

type options struct {
	rows, changes, rate, flatRows int
	partitions                    int
	latencyFor                    time.Duration
	skipRaw                       bool
}

func main() {
	// The Kafka-protocol broker runs in this process and holds everything written to it: a
	// lazier collector keeps it from taking CPU away from what is measured.
	debug.SetGCPercent(400)
	var o options
	flag.IntVar(&o.rows, "rows", 1000000, "rows in the full-migration table")
	flag.IntVar(&o.changes, "changes", 1000000, "row changes in the binlog backlog caught up by incremental migration")
	flag.IntVar(&o.rate, "rate", 5000, "changes per second of the steady write load for the latency measurement")
	flag.DurationVar(&o.latencyFor, "latency-for", 10*time.Second, "how long the steady write load runs")
	flag.IntVar(&o.flatRows, "flat-rows", 0, "also run a full migration of a table this large (e.g. 10000000) to compare peak memory (0: skip)")
	flag.BoolVar(&o.skipRaw, "skip-raw", false, "skip the raw-limit measurements")
	flag.IntVar(&o.partitions, "partitions", 1, "partitions of the full-migration topic (more than 1: rows spread by primary-key hash)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	n, skipRaw := o.rows, o.skipRaw
	work, err := os.MkdirTemp("", "tributary-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Fprintf(os.Stderr, "building tributary...\n")
	bin := filepath.Join(work, "tributary")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	db, err := testenv.StartMariaDBDir(filepath.Join(work, "db"), testenv.WithFlags("--innodb-buffer-pool-size=1G"))
	if err != nil {
		return err
	}
	defer db.Kill()
	k, err := testenv.StartKafkaNoTest(kfake.BrokerConfigs(map[string]string{"message.max.bytes": "10485760"}))
	if err != nil {
		return err
	}
	defer k.Close()

	fmt.Fprintf(os.Stderr, "creating a %d-row table...\n", n)
	start := time.Now()
	if err := fill(db, "t", n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  filled in %s\n", time.Since(start).Round(time.Millisecond))

	var table []row
	var rawRead float64
	if !skipRaw {
		// The best of two reads (the first one also warms the server's caches), so the ratio
		// below is measured against the faster raw figure.
		var rps, mbs float64
		var cpuNote string
		for i := 0; i < 2; i++ {
			cpu := startCPU(db)
			r, m, err := rawSelect(db, n)
			if err != nil {
				return err
			}
			if r > rps {
				rps, mbs, cpuNote = r, m, cpu.stop(nil, n)
			}
		}
		rawRead = rps
		table = append(table, row{"raw: go-mysql streaming SELECT * (same table)", f0(rps), f1(mbs), "", "", "read limit (best of 2); " + cpuNote})
		// The raw producer writes to a broker of its own, closed afterwards, so that the one
		// tributary writes to does not carry its data (and its garbage collection).
		rk, err := testenv.StartKafkaNoTest()
		if err != nil {
			return err
		}
		prps, pmbs, err := rawProduce(rk, n)
		rk.Close()
		if err != nil {
			return err
		}
		runtime.GC()
		table = append(table, row{"raw: sarama async → kfake, 300 B, LZ4, acks=1", f0(prps), f1(pmbs), "", "", "produce limit"})
	}

	t := &task.Task{Version: 1, Name: "bench", MigrationTypes: task.MigrationTypes{Full: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: "bench"},
		Compression: "lz4", Acks: "leader", Format: "canal-json",
		Objects: []task.Object{{Database: "bench", Table: "t"}}}
	if o.partitions > 1 {
		t.PartitionPolicy = "hash-primary-key"
		t.Objects[0].Partitions = o.partitions
	}
	t.Defaults()
	b, _ := task.Marshal(t)
	taskFile := filepath.Join(work, "task.json")
	if err := os.WriteFile(taskFile, b, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "running tributary run (full migration, Canal JSON, LZ4, acks=1)...\n")
	cmd := exec.Command(bin, "run", "--task", taskFile, "--skip-precheck", "--store", filepath.Join(work, "store.db"))
	cmd.Stderr = os.Stderr
	cmd.Env = os.Environ()
	if p := os.Getenv("BENCH_CPUPROFILE"); p != "" {
		cmd.Env = append(cmd.Env, "TRIBUTARY_CPUPROFILE="+p)
	}
	start = time.Now()
	cpu := startCPU(db)
	peak, err := runWatched(cmd)
	if err != nil {
		return fmt.Errorf("tributary run: %w", err)
	}
	el := time.Since(start)
	cpuNote := cpu.stop(cmd.ProcessState, n)
	got, bytes := landed(k, "bench", n)
	rps := float64(n) / el.Seconds()
	note := fmt.Sprintf("%d messages landed", got)
	if rawRead > 0 {
		note += fmt.Sprintf("; %.2f× the raw read rate (targets ≥ 200,000/s, ≥ 0.3×, < 300 MB: %s)", rps/rawRead, passFail(rps >= 200000 && rps >= 0.3*rawRead && peak < 300))
	}
	note += "; " + cpuNote
	table = append(table, row{"tributary: full migration end to end", f0(rps), f1(float64(bytes) / 1e6 / el.Seconds()), "", fmt.Sprintf("%.0f MB", peak), note})

	incRows, err := incremental(o, bin, work, db, k)
	if err != nil {
		return err
	}
	table = append(table, incRows...)

	if o.flatRows > 0 {
		r, err := flatMemory(o.flatRows, peak, n, bin, work, db, k)
		if err != nil {
			return err
		}
		table = append(table, r)
	}

	fmt.Printf("\nTributary benchmark — %d rows × ~300 B, %d binlog row changes, MariaDB → kfake, %s\n\n", n, o.changes, time.Now().Format("2006-01-02 15:04"))
	fmt.Printf("| %-52s | %14s | %8s | %22s | %10s | %s\n", "what", "rows/s", "MB/s", "latency", "peak RSS", "note")
	fmt.Printf("|%s|%s|%s|%s|%s|%s\n", strings.Repeat("-", 54), strings.Repeat("-", 16), strings.Repeat("-", 10), strings.Repeat("-", 24), strings.Repeat("-", 12), strings.Repeat("-", 20))
	for _, r := range table {
		fmt.Printf("| %-52s | %14s | %8s | %22s | %10s | %s\n", r.what, r.rows, r.mbs, r.latency, r.mem, r.note)
	}
	fmt.Println("\nTargets (make bench): full migration ≥ 200,000 rows/s end to end, ≥ 0.3× the raw read rate, peak RSS under 300 MB, and the 10M-row run within 1.2× the 1M run's memory (-flat-rows 10000000);")
	fmt.Println("binlog catch-up ≥ 200,000 changes/s end to end and ≥ 0.3× go-mysql's own decode rate; commit → Kafka latency p50 ≤ 50 ms and p99 ≤ 500 ms at 5,000 changes/s.")
	return nil
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// cpuMeter measures the CPU time the parts of one measurement spend: MariaDB (its process),
// this process (the broker and, for the raw rows, the client) and a tributary child.
type cpuMeter struct {
	dbPid     int
	db0, own0 time.Duration
}

func startCPU(db *testenv.MariaDB) *cpuMeter {
	m := &cpuMeter{dbPid: db.Pid()}
	m.db0, m.own0 = procCPU(m.dbPid), ownCPU()
	return m
}

// stop renders the CPU each part spent per row since the start, in microseconds (child nil:
// no tributary).
func (m *cpuMeter) stop(child *os.ProcessState, rows int) string {
	per := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/float64(rows)) }
	dbc, own := procCPU(m.dbPid)-m.db0, ownCPU()-m.own0
	if child == nil {
		return fmt.Sprintf("CPU µs/row: MariaDB %s, client %s", per(dbc), per(own))
	}
	tc := child.UserTime() + child.SystemTime()
	return fmt.Sprintf("CPU µs/row: tributary %s, MariaDB %s, broker %s", per(tc), per(dbc), per(own))
}

// procCPU is a process's user+system CPU time from /proc/<pid>/stat (0 if unreadable).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil || pid == 0 {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

func ownCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// tableDDL is the benchmark table: rows of about 300 bytes in 10 columns.
const tableDDL = `(id BIGINT PRIMARY KEY, a INT NOT NULL, b BIGINT, c VARCHAR(64), d VARCHAR(120),
  e DECIMAL(12,2), f DATETIME(3), g DOUBLE, h CHAR(32), i VARCHAR(64))`

// rowsSelect selects benchmark rows seq from..to (inclusive) for INSERT … SELECT.
func rowsSelect(from, to int) string {
	return fmt.Sprintf(`SELECT seq, seq %% 100000, seq * 7919, CONCAT('customer-', seq, '-', MD5(seq)),
	  CONCAT(REPEAT('x', 40), '-', SHA1(seq), '-', seq), seq / 7, FROM_UNIXTIME(1700000000 + seq, '%%Y-%%m-%%d %%H:%%i:%%s.123'),
	  seq * 1.25, MD5(seq * 3), CONCAT('tag-', seq %% 977) FROM seq_%d_to_%d`, from, to)
}

// fill creates bench.<name> with n rows, without writing them to the binlog.
func fill(db *testenv.MariaDB, name string, n int) error {
	stmts := []string{
		"CREATE DATABASE IF NOT EXISTS bench",
		"USE bench",
		"CREATE TABLE bench." + name + " " + tableDDL,
		"SET SESSION sql_log_bin = 0",
		"INSERT INTO bench." + name + " " + rowsSelect(1, n),
	}
	// Big tables in statements of at most a million rows (smaller transactions).
	stmts = stmts[:len(stmts)-1]
	for from := 1; from <= n; from += 1000000 {
		stmts = append(stmts, "INSERT INTO bench."+name+" "+rowsSelect(from, min(from+999999, n)))
	}
	return execAll(db, stmts...)
}

func execAll(db *testenv.MariaDB, stmts ...string) error {
	conn, err := db.Conn()
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range stmts {
		r, err := conn.Execute(s)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(s)[0], err)
		}
		r.Close()
	}
	return nil
}

func rawSelect(db *testenv.MariaDB, n int) (float64, float64, error) {
	conn, err := db.Conn()
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	var res gmysql.Result
	var count, bytes int
	start := time.Now()
	err = conn.ExecuteSelectStreaming("SELECT * FROM bench.t", &res, func(r []gmysql.FieldValue) error {
		count++
		for i := range r {
			bytes += len(r[i].AsString()) + 8
		}
		return nil
	}, nil)
	if err != nil {
		return 0, 0, err
	}
	el := time.Since(start).Seconds()
	return float64(count) / el, float64(bytes) / 1e6 / el, nil
}

func rawProduce(k *testenv.Kafka, n int) (float64, float64, error) {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForLocal
	cfg.Producer.Compression = sarama.CompressionLZ4
	cfg.Producer.Flush.Bytes = 1 << 20
	cfg.Producer.Flush.Frequency = 2 * time.Millisecond
	cfg.Net.MaxOpenRequests = 1
	p, err := sarama.NewAsyncProducer(k.Addrs, cfg)
	if err != nil {
		return 0, 0, err
	}
	payload := []byte(strings.Repeat(`{"id":"12345","name":"customer-12345","v":"abcdef"}`, 6))[:300]
	done := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			select {
			case <-p.Successes():
			case e := <-p.Errors():
				fmt.Fprintln(os.Stderr, "raw produce:", e)
			}
		}
		close(done)
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		p.Input() <- &sarama.ProducerMessage{Topic: "raw", Value: sarama.ByteEncoder(payload)}
	}
	<-done
	el := time.Since(start).Seconds()
	p.Close()
	return float64(n) / el, float64(n*len(payload)) / 1e6 / el, nil
}

// landed reads the topic back with an independent client: message count and value bytes.
func landed(k *testenv.Kafka, topic string, want int) (int, int64) {
	recs, err := k.ReadAllErr(topic, want, 60*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read back:", err)
	}
	var b int64
	for _, r := range recs {
		b += int64(len(r.Value))
	}
	return len(recs), b
}

// ---------------------------------------------------------------------------------------------
// Incremental migration.

// child is one `tributary run` process.
type child struct {
	cmd       *exec.Cmd
	peak      *peakRSS
	started   time.Time
	streaming chan struct{} // closed when it logs that it reads the binlog
	done      chan error
}

// markWriter copies a child's stderr to ours, indented, and closes hit at the first line that
// holds marker.
type markWriter struct {
	mu     sync.Mutex
	buf    []byte
	marker string
	hit    chan struct{}
	seen   bool
}

func (w *markWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		fmt.Fprintln(os.Stderr, "    | "+line)
		if !w.seen && strings.Contains(line, w.marker) {
			w.seen = true
			close(w.hit)
		}
	}
}

func startChild(bin, taskFile, store string) (*child, error) {
	cmd := exec.Command(bin, "run", "--task", taskFile, "--skip-precheck", "--store", store)
	mw := &markWriter{marker: "reading the binlog from", hit: make(chan struct{})}
	cmd.Stderr, cmd.Stdout = mw, io.Discard
	cmd.Env = os.Environ()
	c := &child{cmd: cmd, streaming: mw.hit, done: make(chan error, 1), started: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c.peak = watchPeakRSS(cmd.Process.Pid)
	go func() { c.done <- cmd.Wait() }()
	return c, nil
}

// waitStreaming waits until the child reads the binlog.
func (c *child) waitStreaming(timeout time.Duration) error {
	select {
	case <-c.streaming:
		return nil
	case err := <-c.done:
		c.done <- err
		return fmt.Errorf("tributary run ended before reading the binlog: %v", err)
	case <-time.After(timeout):
		return fmt.Errorf("tributary run did not start reading the binlog within %s", timeout)
	}
}

// stop ends the child with SIGINT and returns its peak RSS in MB.
func (c *child) stop() (float64, error) {
	_ = c.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		err = <-c.done
		if err == nil {
			err = fmt.Errorf("did not stop within 30 s of SIGINT")
		}
	}
	peak := c.peak.finish()
	if err != nil {
		return 0, fmt.Errorf("tributary run: %w", err)
	}
	return peak, nil
}

// peakRSS follows a child's own peak resident memory (VmHWM in /proc/PID/status) while it runs.
// The child's rusage (ru_maxrss) cannot be used: Go starts children with vfork (CLONE_VM), and
// Linux then records the parent's peak RSS at exec as the child's, so a child of this process
// (which holds the kfake broker's data) would report this process's memory.
type peakRSS struct {
	mu   sync.Mutex
	kb   int64
	stop chan struct{}
	done chan struct{}
}

func watchPeakRSS(pid int) *peakRSS {
	p := &peakRSS{stop: make(chan struct{}), done: make(chan struct{})}
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		defer close(p.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
						if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
							p.mu.Lock()
							p.kb = max(p.kb, kb)
							p.mu.Unlock()
						}
					}
				}
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// finish stops following and returns the peak in MB.
func (p *peakRSS) finish() float64 {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return float64(p.kb) / 1024
}

// runWatched runs cmd to its end and returns its peak RSS in MB.
func runWatched(cmd *exec.Cmd) (float64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	p := watchPeakRSS(cmd.Process.Pid)
	err := cmd.Wait()
	return p.finish(), err
}

func writeTask(path string, t *task.Task) error {
	t.Defaults()
	if err := t.Validate(); err != nil {
		return err
	}
	b, err := task.Marshal(t)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// binlogPosition is the source's current binlog file and offset.
func binlogPosition(db *testenv.MariaDB) (string, uint64, error) {
	rows, err := db.QueryErr("SHOW MASTER STATUS")
	if err != nil {
		return "", 0, err
	}
	if len(rows) == 0 {
		return "", 0, fmt.Errorf("binary logging is off")
	}
	off, err := strconv.ParseUint(rows[0][1], 10, 64)
	return rows[0][0], off, err
}

// endOffsets is the number of records in a topic (the sum of its partitions' end offsets).
func endOffsets(ctx context.Context, adm *kadm.Client, topic string) (int64, error) {
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	var ferr error
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			ferr = o.Err
			return
		}
		n += o.Offset
	})
	return n, ferr
}

// incremental measures the binlog catch-up, go-mysql's own decode rate of the same binlog, and
// the commit-to-Kafka latency under a steady write load.
func incremental(o options, bin, work string, db *testenv.MariaDB, k *testenv.Kafka) ([]row, error) {
	if err := execAll(db, "USE bench",
		"CREATE TABLE bench.inc "+tableDDL,
		// ts: the commit-side time of the row in microseconds since the epoch.
		"CREATE TABLE bench.lat (id BIGINT AUTO_INCREMENT PRIMARY KEY, ts BIGINT NOT NULL, pad VARCHAR(200))",
	); err != nil {
		return nil, err
	}
	t := &task.Task{Version: 1, Name: "bench-incremental", MigrationTypes: task.MigrationTypes{Incremental: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: "bench_inc"},
		Compression: "lz4", Acks: "leader", Format: "canal-json",
		Objects: []task.Object{{Database: "bench", Table: "inc"}, {Database: "bench", Table: "lat", Topic: "bench_lat"}}}
	taskFile := filepath.Join(work, "incremental.json")
	if err := writeTask(taskFile, t); err != nil {
		return nil, err
	}
	store := filepath.Join(work, "incremental.db")

	// 1. The task records its start position, then stops.
	startFile, startPos, err := binlogPosition(db)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "recording the incremental task's start position (%s:%d)...\n", startFile, startPos)
	c, err := startChild(bin, taskFile, store)
	if err != nil {
		return nil, err
	}
	if err := c.waitStreaming(60 * time.Second); err != nil {
		return nil, err
	}
	if _, err := c.stop(); err != nil {
		return nil, err
	}

	// 2. The backlog: multi-row INSERTs of 100,000 rows each, into the binlog.
	fmt.Fprintf(os.Stderr, "writing a backlog of %d row changes into the binlog...\n", o.changes)
	start := time.Now()
	var stmts []string
	for from := 1; from <= o.changes; from += 100000 {
		stmts = append(stmts, "INSERT INTO bench.inc "+rowsSelect(from, min(from+99999, o.changes)))
	}
	if err := execAll(db, append([]string{"USE bench"}, stmts...)...); err != nil {
		return nil, err
	}
	endFile, endPos, err := binlogPosition(db)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "  written in %s, binlog now at %s:%d\n", time.Since(start).Round(time.Millisecond), endFile, endPos)

	// 3. go-mysql alone decodes the same binlog.
	var out []row
	var rawRate float64
	if !o.skipRaw {
		fmt.Fprintf(os.Stderr, "decoding the same binlog with go-mysql alone (best of 2)...\n")
		var n int
		var binlogBytes uint64
		var el time.Duration
		for i := 0; i < 2; i++ {
			dn, db2, del, err := rawDecode(db, startFile, startPos, endFile, endPos)
			if err != nil {
				return nil, err
			}
			if i == 0 || del < el {
				n, binlogBytes, el = dn, db2, del
			}
		}
		rawRate = float64(n) / el.Seconds()
		out = append(out, row{"raw: go-mysql BinlogSyncer decoding the same binlog", f0(rawRate), f1(float64(binlogBytes) / 1e6 / el.Seconds()), "", "",
			fmt.Sprintf("decode limit (best of 2): %d row changes in %s", n, el.Round(time.Millisecond))})
	}

	// 4. The task catches up the backlog end to end (until Kafka holds every change).
	fmt.Fprintf(os.Stderr, "catching up the backlog with tributary run (incremental, Canal JSON, LZ4, acks=1)...\n")
	cl, err := k.Client()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	c, err = startChild(bin, taskFile, store)
	if err != nil {
		return nil, err
	}
	var first time.Duration
	deadline := time.Now().Add(10 * time.Minute)
	for {
		n, _ := endOffsets(context.Background(), adm, "bench_inc")
		if n > 0 && first == 0 {
			first = time.Since(c.started)
		}
		if n >= int64(o.changes) {
			break
		}
		select {
		case err := <-c.done:
			return nil, fmt.Errorf("tributary run ended during the catch-up (%v) with %d of %d changes in Kafka", err, n, o.changes)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the catch-up did not finish within 10 minutes (%d of %d changes in Kafka)", n, o.changes)
		}
	}
	el := time.Since(c.started)
	catchRate := float64(o.changes) / el.Seconds()

	// 5. Latency under a steady write load, with the same process still running.
	fmt.Fprintf(os.Stderr, "steady write load of %d changes/s for %s, measuring commit → Kafka latency...\n", o.rate, o.latencyFor)
	lat, latErr := measureLatency(o, db, k)
	rss, err := c.stop()
	if err != nil {
		return nil, err
	}
	if latErr != nil {
		return nil, latErr
	}

	got, bytes := landed(k, "bench_inc", o.changes)
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	note := fmt.Sprintf("%d changes landed in %s (first after %s)", got, el.Round(time.Millisecond), first.Round(time.Millisecond))
	ok := catchRate >= 200000
	if rawRate > 0 {
		note += fmt.Sprintf("; %.2f× the raw decode rate", catchRate/rawRate)
		ok = ok && catchRate >= 0.3*rawRate
	}
	note += "; target ≥ 200,000/s and ≥ 0.3× raw: " + verdict(ok)
	out = append(out, row{"tributary: binlog backlog caught up end to end", f0(catchRate), f1(float64(bytes) / 1e6 / el.Seconds()), "",
		fmt.Sprintf("%.0f MB", rss), note})
	out = append(out, row{fmt.Sprintf("tributary: commit → Kafka, steady %d changes/s", o.rate), f0(lat.rate),
		"", fmt.Sprintf("p50 %s p99 %s", ms(lat.p50), ms(lat.p99)), "(same run)",
		fmt.Sprintf("%d changes measured (max %s); target p50 ≤ 50 ms, p99 ≤ 500 ms: %s", lat.n, ms(lat.max), verdict(lat.p50 <= 50*time.Millisecond && lat.p99 <= 500*time.Millisecond))})
	return out, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

// rawDecode reads the binlog from start to end with go-mysql's BinlogSyncer (rows decoded as
// the stream decodes them) and counts the row changes.
func rawDecode(db *testenv.MariaDB, startFile string, startPos uint64, endFile string, endPos uint64) (int, uint64, time.Duration, error) {
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 3000000001, Flavor: gmysql.MariaDBFlavor, Host: db.Host, Port: uint16(db.Port),
		User: db.User, Password: db.Password, TimestampStringLocation: time.UTC,
		RenderJSONAsMySQLText: true, VerifyChecksum: true, FillZeroLogPos: true,
		Logger: slog.New(slog.DiscardHandler),
	})
	defer syncer.Close()
	start := time.Now()
	st, err := syncer.StartSync(gmysql.Position{Name: startFile, Pos: uint32(startPos)})
	if err != nil {
		return 0, 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	file, rows := startFile, 0
	var bytes uint64
	for {
		ev, err := st.GetEvent(ctx)
		if err != nil {
			return rows, bytes, 0, fmt.Errorf("go-mysql: %w", err)
		}
		bytes += uint64(ev.Header.EventSize)
		switch e := ev.Event.(type) {
		case *replication.RotateEvent:
			file = string(e.NextLogName)
		case *replication.RowsEvent:
			if e.Type() == replication.EnumRowsEventTypeUpdate {
				rows += len(e.Rows) / 2
			} else {
				rows += len(e.Rows)
			}
		}
		if file == endFile && uint64(ev.Header.LogPos) >= endPos {
			break
		}
	}
	return rows, bytes, time.Since(start), nil
}

type latencies struct {
	p50, p99, max time.Duration
	n             int
	rate          float64 // the write rate achieved
}

// measureLatency writes o.rate changes per second into bench.lat (one multi-row INSERT every
// 10 ms, each row carrying the time of its statement in microseconds) and reads topic
// bench_lat with kgo: per change, the time it was received minus that time. The statement
// time is taken before the commit and the receive time after the broker's acknowledgement, so
// the figure is an upper bound of commit → acknowledgement. The first second is left out.
func measureLatency(o options, db *testenv.MariaDB, k *testenv.Kafka) (latencies, error) {
	var res latencies
	cl, err := k.Client(kgo.ConsumeTopics("bench_lat"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return res, err
	}
	defer cl.Close()
	type sample struct {
		ts  int64 // µs
		lat time.Duration
	}
	var mu sync.Mutex
	var samples []sample
	var bad error
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			now := time.Now()
			mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				var m struct {
					Data []struct {
						Ts string `json:"ts"`
					} `json:"data"`
				}
				if err := json.Unmarshal(r.Value, &m); err != nil || len(m.Data) != 1 {
					bad = fmt.Errorf("unexpected message in bench_lat: %.200s", r.Value)
					return
				}
				ts, err := strconv.ParseInt(m.Data[0].Ts, 10, 64)
				if err != nil {
					bad = fmt.Errorf("bad ts in bench_lat: %.200s", r.Value)
					return
				}
				samples = append(samples, sample{ts, now.Sub(time.UnixMicro(ts))})
			})
			mu.Unlock()
		}
	}()

	conn, err := db.Conn()
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if _, err := conn.Execute("USE bench"); err != nil {
		return res, err
	}
	perTick := max(1, o.rate/100)
	stmt := fmt.Sprintf("INSERT INTO bench.lat (ts, pad) SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), REPEAT('x', 200) FROM seq_1_to_%d", perTick)
	start := time.Now()
	next, written := start, 0
	for time.Since(start) < o.latencyFor {
		time.Sleep(time.Until(next))
		r, err := conn.Execute(stmt)
		if err != nil {
			return res, err
		}
		r.Close()
		written += perTick
		next = next.Add(10 * time.Millisecond)
	}
	res.rate = float64(written) / time.Since(start).Seconds()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		got := len(samples)
		mu.Unlock()
		if got >= written {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("only %d of %d changes of the write load reached Kafka within 2 minutes", got, written)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	if bad != nil {
		return res, bad
	}
	warm := start.Add(time.Second).UnixMicro()
	var lats []time.Duration
	for _, s := range samples {
		if s.ts >= warm {
			lats = append(lats, s.lat)
		}
	}
	if len(lats) == 0 {
		return res, fmt.Errorf("no latency samples after the first second")
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	res.n = len(lats)
	res.p50 = lats[len(lats)/2]
	res.p99 = lats[min(len(lats)-1, len(lats)*99/100)]
	res.max = lats[len(lats)-1]
	return res, nil
}

// flatMemory runs a full migration of an n-row table, to compare its peak memory with the
// -rows run: it should not grow with the table.
func flatMemory(n int, firstPeak float64, firstRows int, bin, work string, db *testenv.MariaDB, k *testenv.Kafka) (row, error) {
	fmt.Fprintf(os.Stderr, "creating a %d-row table for the memory comparison...\n", n)
	if err := fill(db, "big", n); err != nil {
		return row{}, err
	}
	t := &task.Task{Version: 1, Name: "bench-big", MigrationTypes: task.MigrationTypes{Full: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: "bench_big"},
		Compression: "lz4", Acks: "leader", Format: "canal-json",
		Objects: []task.Object{{Database: "bench", Table: "big"}}}
	taskFile := filepath.Join(work, "big.json")
	if err := writeTask(taskFile, t); err != nil {
		return row{}, err
	}
	fmt.Fprintf(os.Stderr, "running tributary run (full migration of %d rows)...\n", n)
	cmd := exec.Command(bin, "run", "--task", taskFile, "--skip-precheck", "--store", filepath.Join(work, "big.db"))
	cmd.Stderr = os.Stderr
	start := time.Now()
	peak, err := runWatched(cmd)
	if err != nil {
		return row{}, fmt.Errorf("tributary run: %w", err)
	}
	el := time.Since(start)
	cl, err := k.Client()
	if err != nil {
		return row{}, err
	}
	defer cl.Close()
	got, err := endOffsets(context.Background(), kadm.NewClient(cl), "bench_big")
	if err != nil {
		return row{}, err
	}
	return row{fmt.Sprintf("tributary: full migration of %d rows (memory)", n), f0(float64(n) / el.Seconds()), "", "",
		fmt.Sprintf("%.0f MB", peak), fmt.Sprintf("%d messages landed; %.2f× the peak RSS of the %d-row run (target ≤ 1.2×: %s)",
			got, peak/firstPeak, firstRows, passFail(peak <= 1.2*firstPeak))}, nil
}
