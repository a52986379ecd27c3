package tests

// Incremental migration end to end: crash safety under a steady write load (SIGKILL of the
// built binary), outages of the broker and of MariaDB, heartbeat and latency, and throttling.
// Every test reads Kafka back with an independent kgo client and checks the changes against
// the writer's own log of what it committed.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/twmb/franz-go/pkg/kgo"

	"tributary/engine/kafka"
	"tributary/engine/pipeline"
	"tributary/engine/task"
	"tributary/internal/testenv"
)

// ---------------------------------------------------------------------------------------------
// The load: single-statement transactions on a few hundred keys, each with a version counter.

// loadWriter runs INSERT/UPDATE/DELETE on keys 0..keys-1 of wload.kv, one statement per
// transaction, at a steady rate. Every key has a version that grows with each INSERT and
// UPDATE; a change is numbered seq = 2*ver (INSERT, UPDATE) or 2*ver+1 (DELETE, which carries
// the row's last version), so that per key the seqs of committed changes are strictly
// increasing in commit order. want records them: the source of truth the Kafka side is checked
// against.
type loadWriter struct {
	t    *testing.T
	db   *testenv.MariaDB
	keys int
	rate int // statements per second
	rng  *rand.Rand

	gate      sync.Mutex // held during each statement; Pause takes it
	reconnect bool       // guarded by gate

	mu     sync.Mutex
	ver    []int
	exists []bool
	want   map[string][]int
	total  int
	errs   int

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	ended    atomic.Bool // the test is over: stop quietly
}

func createLoadTable(t *testing.T, db *testenv.MariaDB) {
	db.Exec(t, "CREATE DATABASE wload",
		"CREATE TABLE wload.kv (id INT PRIMARY KEY, ver INT NOT NULL, note VARCHAR(32))")
}

func newLoadWriter(t *testing.T, db *testenv.MariaDB, keys, rate int, seed int64) *loadWriter {
	return &loadWriter{t: t, db: db, keys: keys, rate: rate, rng: rand.New(rand.NewSource(seed)),
		ver: make([]int, keys), exists: make([]bool, keys), want: map[string][]int{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

func (w *loadWriter) start() {
	go w.run()
	// A test that fails early must not leave the writer reporting into a finished test.
	w.t.Cleanup(func() {
		w.ended.Store(true)
		w.stopOnce.Do(func() { close(w.stop) })
	})
}

// finish stops writing and waits for the statement in progress.
func (w *loadWriter) finish() {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
}

// pause waits for the statement in progress and holds the writer.
func (w *loadWriter) pause() { w.gate.Lock() }

// resume lets it go on; reconnect makes it open a new connection first (after a restart).
func (w *loadWriter) resume(reconnect bool) {
	w.reconnect = reconnect
	w.gate.Unlock()
}

func (w *loadWriter) snapshot() (map[string][]int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string][]int, len(w.want))
	for k, v := range w.want {
		out[k] = append([]int(nil), v...)
	}
	return out, w.total
}

func (w *loadWriter) connect() *client.Conn {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := w.db.Conn()
		if err == nil {
			return c
		}
		if w.ended.Load() {
			return nil
		}
		if time.Now().After(deadline) {
			w.t.Errorf("writer: cannot reconnect: %v", err)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *loadWriter) run() {
	defer close(w.done)
	conn := w.connect()
	if conn == nil {
		return
	}
	defer func() { conn.Close() }()
	interval := time.Second / time.Duration(w.rate)
	next := time.Now()
	for {
		select {
		case <-w.stop:
			return
		case <-time.After(time.Until(next)):
		}
		w.gate.Lock()
		if w.reconnect {
			conn.Close()
			if conn = w.connect(); conn == nil {
				w.gate.Unlock()
				return
			}
			w.reconnect = false
		}
		var ok bool
		conn, ok = w.step(conn)
		w.gate.Unlock()
		if !ok {
			return
		}
		next = next.Add(interval)
		if now := time.Now(); now.Sub(next) > 100*time.Millisecond {
			next = now // fell behind (paused): no burst to catch up
		}
	}
}

// step runs one statement. When it fails, whether it committed is read back from the table, so
// the log holds exactly the committed changes even across a server restart.
func (w *loadWriter) step(conn *client.Conn) (*client.Conn, bool) {
	id := w.rng.Intn(w.keys)
	var q string
	var v, seq int
	var after bool
	switch {
	case !w.exists[id]:
		v, after = w.ver[id]+1, true
		q, seq = fmt.Sprintf("INSERT INTO wload.kv VALUES (%d, %d, 'i')", id, v), 2*v
	case w.rng.Intn(10) < 7:
		v, after = w.ver[id]+1, true
		q, seq = fmt.Sprintf("UPDATE wload.kv SET ver = %d, note = 'u' WHERE id = %d", v, id), 2*v
	default:
		v, after = w.ver[id], false
		q, seq = fmt.Sprintf("DELETE FROM wload.kv WHERE id = %d", id), 2*v+1
	}
	committed := true
	if r, err := conn.Execute(q); err != nil {
		w.mu.Lock()
		w.errs++
		w.mu.Unlock()
		conn.Close()
		if conn = w.connect(); conn == nil {
			return nil, false
		}
		res, err := conn.Execute(fmt.Sprintf("SELECT ver FROM wload.kv WHERE id = %d", id))
		if err != nil {
			w.t.Errorf("writer: %s failed and reading it back failed too: %v", q, err)
			return conn, false
		}
		if after {
			got, _ := res.GetInt(0, 0)
			committed = res.RowNumber() == 1 && int(got) == v
		} else {
			committed = res.RowNumber() == 0
		}
		res.Close()
	} else {
		if r.AffectedRows != 1 {
			w.t.Errorf("writer: %s affected %d rows", q, r.AffectedRows)
		}
		r.Close()
	}
	if committed {
		w.mu.Lock()
		w.ver[id], w.exists[id] = v, after
		k := strconv.Itoa(id)
		w.want[k] = append(w.want[k], seq)
		w.total++
		w.mu.Unlock()
	}
	return conn, true
}

// ---------------------------------------------------------------------------------------------
// The check: every committed change arrived at least once and, per key, in source order, with
// replays only as a re-sent suffix after a restart.

type delivery struct {
	records, dups, maxReplays, missing int
	orderBroken                        int // messages that came before an earlier change of their key (gaps)
	problems                           []string
}

func (d delivery) complete() bool { return d.missing == 0 }

// checkDelivery walks each key's messages in partition order against the writer's log. A
// message must be the next change of its key, or — the start of a replay — a change already
// delivered, after which the key's changes must follow again one by one. A change that arrives
// before an earlier one of its key has (a gap) breaks source order.
func checkDelivery(recs []*kgo.Record, want map[string][]int, partitions int32) delivery {
	d := delivery{records: len(recs)}
	byKey := map[string][]keyedChange{}
	for _, r := range recs {
		var m struct {
			Data  []map[string]*string `json:"data"`
			Type  string               `json:"type"`
			IsDdl bool                 `json:"isDdl"`
			Table string               `json:"table"`
		}
		if err := json.Unmarshal(r.Value, &m); err != nil {
			d.problems = append(d.problems, fmt.Sprintf("partition %d offset %d: not JSON: %.80s", r.Partition, r.Offset, r.Value))
			continue
		}
		if m.IsDdl || len(m.Data) != 1 || m.Data[0]["id"] == nil || m.Data[0]["ver"] == nil {
			d.problems = append(d.problems, fmt.Sprintf("partition %d offset %d: unexpected message %.200s", r.Partition, r.Offset, r.Value))
			continue
		}
		id, ver := *m.Data[0]["id"], *m.Data[0]["ver"]
		v, _ := strconv.Atoi(ver)
		seq := 2 * v
		if m.Type == "DELETE" {
			seq++
		}
		if string(r.Key) != id {
			d.problems = append(d.problems, fmt.Sprintf("key %s: message key %q", id, r.Key))
		}
		if p := floorMod(kafka.JavaHash(id), partitions); p != r.Partition {
			d.problems = append(d.problems, fmt.Sprintf("key %s: in partition %d, the hash-primary-key policy says %d", id, r.Partition, p))
		}
		byKey[id] = append(byKey[id], keyedChange{r.Partition, seq})
	}
	for key, exp := range want {
		pos := make(map[int]int, len(exp))
		for j, s := range exp {
			pos[s] = j
		}
		got := byKey[key]
		next, replays, broken := 0, 0, false
		seen := make([]bool, len(exp))
		for i, it := range got {
			if i > 0 && it.part != got[0].part {
				d.problems = append(d.problems, fmt.Sprintf("key %s: messages in partitions %d and %d", key, got[0].part, it.part))
			}
			j, ok := pos[it.seq]
			switch {
			case !ok:
				d.problems = append(d.problems, fmt.Sprintf("key %s: a change (seq %d) the source never committed", key, it.seq))
				continue
			case j == next:
				next = j + 1
			case j < next && seen[j]:
				replays++ // a re-sent suffix starts here
				next = j + 1
			case j < next:
				// A change skipped by an earlier gap arrives late (the gap is the error).
			default:
				if !broken { // one report per key
					d.problems = append(d.problems, fmt.Sprintf("key %s (partition %d): change #%d (seq %d) arrived while #%d (seq %d) was next, i.e. before an earlier change of its key: source order broken (seqs in partition order %v, committed %v)", key, it.part, j, it.seq, next, exp[next], seqsOf(got), exp))
				}
				broken = true
				d.orderBroken++
				next = j + 1
			}
			if seen[j] {
				d.dups++
			}
			seen[j] = true
		}
		for j := range exp {
			if !seen[j] {
				d.missing++
			}
		}
		d.maxReplays = max(d.maxReplays, replays)
		delete(byKey, key)
	}
	for key := range byKey {
		d.problems = append(d.problems, fmt.Sprintf("key %s: messages for a key the writer never changed", key))
	}
	return d
}

// keyedChange is one message of a key: its partition and change number.
type keyedChange struct {
	part int32
	seq  int
}

func seqsOf(items []keyedChange) string {
	seqs := make([]int, len(items))
	for i, it := range items {
		seqs[i] = it.seq
	}
	b, _ := json.Marshal(seqs)
	if len(b) > 300 {
		b = append(b[:300], "…"...)
	}
	return string(b)
}

func floorMod(h, n int32) int32 {
	m := h % n
	if m < 0 {
		m += n
	}
	return m
}

// awaitDelivery reads the topic until every change of want arrived (or the deadline), then
// returns the last check.
func awaitDelivery(t *testing.T, k *testenv.Kafka, topic string, want map[string][]int, total int, partitions int32, timeout time.Duration) delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var d delivery
	for {
		left := time.Until(deadline)
		recs, _ := k.ReadAllErr(topic, total, max(left, time.Second))
		d = checkDelivery(recs, want, partitions)
		if d.complete() || time.Now().After(deadline) {
			return d
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func reportDelivery(t *testing.T, d delivery, total, restarts int) {
	t.Helper()
	t.Logf("%d committed changes, %d messages: %d re-sent, %d missing, %d out of source order; at most %d replays of one key over %d restarts",
		total, d.records, d.dups, d.missing, d.orderBroken, d.maxReplays, restarts)
	for i, p := range d.problems {
		if i == 20 {
			t.Errorf("… and %d more problems", len(d.problems)-20)
			break
		}
		t.Error(p)
	}
	if d.missing > 0 {
		t.Errorf("%d committed changes never reached Kafka", d.missing)
	}
	if d.maxReplays > restarts {
		t.Errorf("a key was replayed %d times over %d restarts: replays happen only after a restart", d.maxReplays, restarts)
	}
}

// ---------------------------------------------------------------------------------------------
// Running the binary.

// lineLog collects a child's stderr lines and signals when a line holds a marker.
type lineLog struct {
	mu     sync.Mutex
	buf    []byte
	lines  []string
	marker string
	hit    chan struct{}
	once   sync.Once
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		l.lines = append(l.lines, line)
		if l.marker != "" && strings.Contains(line, l.marker) {
			l.once.Do(func() { close(l.hit) })
		}
	}
	return len(p), nil
}

func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}

type runProc struct {
	cmd  *exec.Cmd
	log  *lineLog
	done chan error
}

func startRun(t *testing.T, bin, taskFile, storePath string, env ...string) *runProc {
	t.Helper()
	cmd := exec.Command(bin, "run", "--task", taskFile, "--store", storePath, "--skip-precheck")
	cmd.Env = append(os.Environ(), env...)
	l := &lineLog{marker: "reading the binlog from", hit: make(chan struct{})}
	cmd.Stderr = l
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &runProc{cmd: cmd, log: l, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return p
}

func writeTaskFile(t *testing.T, tk *task.Task) string {
	t.Helper()
	tk.Defaults()
	if err := tk.Validate(); err != nil {
		t.Fatalf("task: %v", err)
	}
	b, err := task.Marshal(tk)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "task.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func loadTask(name, topic string, db *testenv.MariaDB, brokers []string) *task.Task {
	return &task.Task{Version: 1, Name: name, MigrationTypes: task.MigrationTypes{Incremental: true},
		Source:          task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination:     task.Destination{Kafka: task.Kafka{Brokers: brokers, Version: "2.8.0"}, Topic: topic},
		PartitionPolicy: "hash-primary-key", Format: "canal-json", Compression: "lz4", Acks: "leader",
		Objects: []task.Object{{Database: "wload", Table: "kv"}}}
}

// ---------------------------------------------------------------------------------------------
// a. SIGKILL under a steady write load.

// TestIncrementalSurvivesKills runs an incremental task with `tributary run`, kills it with
// SIGKILL at random moments while a writer commits ~300 single-statement transactions a second,
// restarts it each time, and proves with an independent reader that every committed change
// reached Kafka at least once and, per key, in source order, re-sent only as a suffix after a
// restart.
func TestIncrementalSurvivesKills(t *testing.T) {
	bin := buildBinary(t)
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	createLoadTable(t, db)
	const topic, parts = "inc_kill", 4
	k.CreateTopic(t, topic, parts)
	tk := loadTask("inc-kill", topic, db, k.Addrs)
	tk.Source.Password, tk.Source.PasswordEnv = "", "SRC_PW"
	taskFile := writeTaskFile(t, tk)
	storePath := filepath.Join(t.TempDir(), "store.db")
	env := "SRC_PW=" + db.Password

	seed := time.Now().UnixNano()
	if s := os.Getenv("KILL_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("kill schedule seed %d (rerun with KILL_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	// The first run records the start position; the load starts once it streams.
	p := startRun(t, bin, taskFile, storePath, env)
	select {
	case <-p.log.hit:
	case err := <-p.done:
		t.Fatalf("tributary run ended before streaming: %v\n%s", err, p.log.tail(20))
	case <-time.After(30 * time.Second):
		t.Fatalf("tributary run did not start streaming:\n%s", p.log.tail(20))
	}
	w := newLoadWriter(t, db, 300, 300, seed)
	w.start()

	// Kill at random moments — some while the run is still starting, most while it streams —
	// until at least 6 kills hit a streaming run.
	kills, streaming := 0, 0
	for i := 0; streaming < 6 && kills < 20; i++ {
		if i > 0 {
			p = startRun(t, bin, taskFile, storePath, env)
		}
		wait := time.Duration(50+rng.Intn(1450)) * time.Millisecond
		select {
		case err := <-p.done:
			w.finish()
			t.Fatalf("tributary run ended by itself (%v):\n%s", err, p.log.tail(30))
		case <-time.After(wait):
		}
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		kills++
		select {
		case <-p.log.hit:
			streaming++
		default:
		}
	}
	w.finish()
	want, total := w.snapshot()
	t.Logf("%d kills (%d while streaming, %d while starting); %d changes committed by the writer", kills, streaming, kills-streaming, total)

	// The last run catches up; then it is stopped the normal way.
	p = startRun(t, bin, taskFile, storePath, env)
	d := awaitDelivery(t, k, topic, want, total, parts, 40*time.Second)
	_ = p.cmd.Process.Signal(os.Interrupt)
	if err := <-p.done; err != nil {
		t.Errorf("the last run, stopped with SIGINT, exited with %v:\n%s", err, p.log.tail(20))
	}
	reportDelivery(t, d, total, kills)
	if t.Failed() {
		t.Logf("last run:\n%s", p.log.tail(30))
	}
}

// ---------------------------------------------------------------------------------------------
// b. Outages of the broker and of MariaDB.

// stateObserver records what a runner reports.
type stateObserver struct {
	t       *testing.T
	mu      sync.Mutex
	states  []stateAt
	last    pipeline.Progress
	streams int // "reading the binlog from" logs: one per attempt that reached the binlog
	quiet   bool
}

type stateAt struct {
	at            time.Time
	state, reason string
}

func (o *stateObserver) Progress(p pipeline.Progress) {
	o.mu.Lock()
	o.last = p
	o.mu.Unlock()
}

func (o *stateObserver) Log(level, msg string) {
	o.mu.Lock()
	if strings.HasPrefix(msg, "reading the binlog from") {
		o.streams++
	}
	quiet := o.quiet
	o.mu.Unlock()
	if !quiet || level != "info" {
		o.t.Logf("%s %s: %s", time.Now().Format("15:04:05.000"), level, msg)
	}
}

func (o *stateObserver) State(state, reason string) {
	o.mu.Lock()
	o.states = append(o.states, stateAt{time.Now(), state, reason})
	o.mu.Unlock()
}

func (o *stateObserver) streamCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.streams
}

func (o *stateObserver) progress() pipeline.Progress {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// retryingSince returns the first Retrying state reported after at.
func (o *stateObserver) retryingSince(at time.Time) (stateAt, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.states {
		if s.state == "Retrying" && s.at.After(at) {
			return s, true
		}
	}
	return stateAt{}, false
}

// runningAfter reports whether a Running state came after a Retrying one reported after at:
// the task got over the outage (by reconnecting, or by the producer riding it out).
func (o *stateObserver) runningAfter(at time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	retried := false
	for _, s := range o.states {
		if !s.at.After(at) {
			continue
		}
		if s.state == "Retrying" {
			retried = true
		} else if s.state == "Running" && retried {
			return true
		}
	}
	return false
}

func (o *stateObserver) failed() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.states {
		if s.state == "Failed" {
			return s.reason
		}
	}
	return ""
}

// kfakeServer is the kfake-server command, a broker that survives restarts (--data-dir).
type kfakeServer struct {
	bin, dataDir string
	port         int
	cmd          *exec.Cmd
	done         chan struct{}
}

func buildKfakeServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kfake-server")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/testenv/cmd/kfake-server")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build kfake-server: %v\n%s", err, out)
	}
	return bin
}

func (s *kfakeServer) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--data-dir", s.dataDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	s.cmd, s.done = cmd, make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready") {
				ready <- sc.Text()
			}
		}
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case <-ready:
	case <-s.done:
		t.Fatalf("kfake-server exited before it was ready")
	case <-time.After(20 * time.Second):
		t.Fatalf("kfake-server not ready within 20 s")
	}
}

// stop shuts the broker down cleanly (it writes its state to the data dir).
func (s *kfakeServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// TestIncrementalOutages stops the broker (a separate kfake-server process keeping its data on
// disk) and then MariaDB for about 3 s each while a writer goes on; the task shows Retrying
// with the reason, resumes by itself, and in the end every committed change is in Kafka, in
// source order per key.
func TestIncrementalOutages(t *testing.T) {
	ks := &kfakeServer{bin: buildKfakeServer(t), dataDir: t.TempDir(), port: freePort(t)}
	ks.start(t)
	defer ks.stop()
	addr := fmt.Sprintf("127.0.0.1:%d", ks.port)
	k := &testenv.Kafka{Addrs: []string{addr}}
	const topic, parts = "outage", 4
	k.CreateTopic(t, topic, parts)

	db := testenv.StartMariaDB(t)
	createLoadTable(t, db)
	tk := loadTask("outage", topic, db, k.Addrs)
	tk.Defaults() // RetryConnectionMinutes stays the default (720)
	obs := &stateObserver{t: t}
	r := pipeline.NewRunner(tk, &testenv.Checkpoints{}, obs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(ctx) }()
	waitFor(t, 30*time.Second, "the task streams the binlog", func() bool { return obs.streamCount() >= 1 })

	w := newLoadWriter(t, db, 200, 200, time.Now().UnixNano())
	w.start()
	time.Sleep(1500 * time.Millisecond)

	// The broker goes away for 3 s and comes back on the same port and data directory.
	mark := time.Now()
	ks.stop()
	time.Sleep(3 * time.Second)
	ks.start(t)
	back := time.Now()
	waitFor(t, 60*time.Second, "the task resumes after the broker outage", func() bool {
		return obs.runningAfter(mark)
	})
	s, _ := obs.retryingSince(mark)
	t.Logf("broker outage: Retrying at +%s: %s", s.at.Sub(mark).Round(time.Millisecond), s.reason)
	t.Logf("broker outage: streaming again %s after the broker came back", time.Since(back).Round(time.Millisecond))
	if s.reason == "" {
		t.Errorf("Retrying without a reason")
	}
	time.Sleep(1500 * time.Millisecond)

	// MariaDB stops (cleanly) for 3 s and starts again on the same port and data directory.
	w.pause()
	mark = time.Now()
	streams := obs.streamCount()
	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := db.Restart(); err != nil {
		t.Fatal(err)
	}
	back = time.Now()
	w.resume(true)
	waitFor(t, 60*time.Second, "the task resumes after the MariaDB outage", func() bool {
		_, retried := obs.retryingSince(mark)
		return retried && obs.streamCount() > streams
	})
	s, _ = obs.retryingSince(mark)
	t.Logf("MariaDB outage: Retrying at +%s: %s", s.at.Sub(mark).Round(time.Millisecond), s.reason)
	t.Logf("MariaDB outage: streaming again %s after MariaDB came back", time.Since(back).Round(time.Millisecond))
	if s.reason == "" {
		t.Errorf("Retrying without a reason")
	}
	time.Sleep(1500 * time.Millisecond)
	w.finish()
	want, total := w.snapshot()
	t.Logf("the writer committed %d changes (%d statements failed during the outages and were checked)", total, w.errs)

	d := awaitDelivery(t, k, topic, want, total, parts, 40*time.Second)
	cancel()
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if f := obs.failed(); f != "" {
		t.Errorf("the task failed: %s", f)
	}
	// Replays: one per restart of the stream, plus one for the batches in flight when the
	// broker went away (a producer that rides out the outage re-sends them).
	reportDelivery(t, d, total, obs.streamCount()-1+1)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------------------------
// c. Heartbeat and latency.

// TestIncrementalHeartbeatLatency checks that with the heartbeat on the latency of an idle
// task stays small, that without it the latency grows as the source stays idle, and that
// heartbeat changes never reach the user topic.
func TestIncrementalHeartbeatLatency(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	db.Exec(t, "CREATE DATABASE hb", "CREATE TABLE hb.t (id INT PRIMARY KEY, v INT)")
	newTask := func(name, topic string, heartbeat bool) *task.Task {
		tk := &task.Task{Version: 1, Name: name, MigrationTypes: task.MigrationTypes{Incremental: true},
			Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
			Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: topic},
			Objects:     []task.Object{{Database: "hb", Table: "t"}}}
		tk.Advanced.Heartbeat = heartbeat
		tk.Defaults()
		return tk
	}
	run := func(tk *task.Task) (*stateObserver, func()) {
		obs := &stateObserver{t: t, quiet: true}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- pipeline.NewRunner(tk, &testenv.Checkpoints{}, obs).Run(ctx) }()
		waitFor(t, 30*time.Second, "the task streams the binlog", func() bool { return obs.streamCount() >= 1 })
		return obs, func() { cancel(); <-done }
	}
	// latencies samples the reported latency every 100 ms for d.
	latencies := func(obs *stateObserver, d time.Duration) []int64 {
		var out []int64
		for end := time.Now().Add(d); time.Now().Before(end); {
			time.Sleep(100 * time.Millisecond)
			out = append(out, obs.progress().LatencyMs)
		}
		return out
	}

	// Heartbeat on, source idle: the latency stays true (small).
	obs, stop := run(newTask("hb-on", "hb_on", true))
	waitFor(t, 5*time.Second, "a latency is known (the first heartbeat)", func() bool { return obs.progress().LatencyMs >= 0 })
	on := latencies(obs, 4*time.Second)
	stop()
	mx := slicesMax(on)
	t.Logf("heartbeat on, idle source: latency over 4 s: max %d ms (%d samples)", mx, len(on))
	if mx >= 3000 || slicesMin(on) < 0 {
		t.Errorf("with the heartbeat on the latency of an idle task should stay under 3 s: %v", on)
	}

	// Heartbeat off: after one change the source stays idle and the latency grows.
	obs, stop = run(newTask("hb-off", "hb_off", false))
	db.Exec(t, "INSERT INTO hb.t VALUES (1, 1)")
	waitFor(t, 10*time.Second, "the change is acknowledged", func() bool { return obs.progress().LatencyMs >= 0 })
	off := latencies(obs, 4*time.Second)
	stop()
	t.Logf("heartbeat off, idle source: latency from %d ms to %d ms over 4 s", off[0], off[len(off)-1])
	if off[len(off)-1] < 3000 || off[len(off)-1]-off[0] < 3000 {
		t.Errorf("with the heartbeat off the latency should grow while the source is idle: %v", off)
	}

	// Heartbeat rows exist on the source, yet no heartbeat change reached a user topic.
	if rows := db.Query(t, "SELECT COUNT(*) FROM tributary_hb.heartbeat"); rows[0][0] == "0" {
		t.Errorf("the heartbeat table is empty")
	}
	onRecs, _ := k.ReadAllErr("hb_on", 0, 2*time.Second)
	offRecs, _ := k.ReadAllErr("hb_off", 1, 5*time.Second)
	for _, r := range append(onRecs, offRecs...) {
		if strings.Contains(string(r.Value), "tributary_hb") || strings.Contains(string(r.Value), "heartbeat") {
			t.Errorf("a heartbeat change in user topic %s: %s", r.Topic, r.Value)
		}
	}
	if len(onRecs) != 0 {
		t.Errorf("the idle task with heartbeat wrote %d messages to its topic, want 0", len(onRecs))
	}
	if len(offRecs) != 1 {
		t.Errorf("topic hb_off holds %d messages, want the 1 insert", len(offRecs))
	}
}

func slicesMax(v []int64) int64 {
	m := int64(-1 << 62)
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func slicesMin(v []int64) int64 {
	m := int64(1 << 62)
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// ---------------------------------------------------------------------------------------------
// d. Incremental throttle.

// TestIncrementalThrottle writes a burst of 6000 changes while the task is limited to 1500
// rows/s, raises the limit to 3000 rows/s while it runs, and measures both rates from the
// records' produce timestamps.
func TestIncrementalThrottle(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	db.Exec(t, "CREATE DATABASE thr", "CREATE TABLE thr.t (id INT PRIMARY KEY, v VARCHAR(40))")
	const rps1, rps2, burst = 1500, 3000, 6000
	tk := &task.Task{Version: 1, Name: "throttle", MigrationTypes: task.MigrationTypes{Incremental: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: "thr"},
		Objects:     []task.Object{{Database: "thr", Table: "t"}}}
	tk.Advanced.IncrementalThrottle = task.Throttle{Enabled: true, RPS: rps1}
	tk.Defaults()
	if err := tk.Validate(); err != nil {
		t.Fatal(err)
	}
	obs := &stateObserver{t: t, quiet: true}
	r := pipeline.NewRunner(tk, &testenv.Checkpoints{}, obs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 30*time.Second, "the task streams the binlog", func() bool { return obs.streamCount() >= 1 })

	// The burst: six statements of 1000 rows, committed within a few milliseconds.
	stmts := []string{"USE thr"}
	for i := 0; i < burst; i += 1000 {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO thr.t SELECT seq, MD5(seq) FROM seq_%d_to_%d", i+1, i+1000))
	}
	db.Exec(t, stmts...)
	written := time.Now()
	time.Sleep(2 * time.Second)
	switched := time.Now()
	r.SetThrottle(tk.Advanced.FullThrottle, task.Throttle{Enabled: true, RPS: rps2})

	recs := k.ReadAll(t, "thr", burst, 30*time.Second)
	if len(recs) != burst {
		t.Fatalf("%d messages, want %d", len(recs), burst)
	}
	// rate over the records whose timestamps fall in [from, to).
	rate := func(from, to time.Time) (float64, int) {
		var first, last time.Time
		n := 0
		for _, rec := range recs {
			if rec.Timestamp.Before(from) || !rec.Timestamp.Before(to) {
				continue
			}
			if n == 0 {
				first = rec.Timestamp
			}
			last = rec.Timestamp
			n++
		}
		if n < 2 || !last.After(first) {
			return 0, n
		}
		return float64(n-1) / last.Sub(first).Seconds(), n
	}
	end := recs[len(recs)-1].Timestamp
	// Leave out the first 200 ms (the bucket's 50 ms burst, the stream starting) and 100 ms
	// around the change.
	r1, n1 := rate(written.Add(200*time.Millisecond), switched.Add(-100*time.Millisecond))
	r2, n2 := rate(switched.Add(100*time.Millisecond), end.Add(time.Millisecond))
	t.Logf("limit %d rows/s: measured %.0f rows/s over %d messages; raised to %d rows/s while running: measured %.0f rows/s over %d messages (the whole burst took %s)",
		rps1, r1, n1, rps2, r2, n2, end.Sub(written).Round(time.Millisecond))
	if r1 < rps1*0.9 || r1 > rps1*1.1 {
		t.Errorf("measured %.0f rows/s under a limit of %d rows/s: not within 10%%", r1, rps1)
	}
	if r2 < rps2*0.9 || r2 > rps2*1.1 {
		t.Errorf("measured %.0f rows/s after raising the limit to %d rows/s: not within 10%%", r2, rps2)
	}
	if n1 < 1000 || n2 < 1000 {
		t.Errorf("too few messages in a measuring window (%d, %d)", n1, n2)
	}
}

// TestCheckDelivery shows that the delivery check accepts re-sent suffixes and rejects gaps,
// reordering and losses.
func TestCheckDelivery(t *testing.T) {
	rec := func(id string, ver int, typ string) *kgo.Record {
		v := fmt.Sprintf(`{"data":[{"id":%q,"ver":"%d"}],"type":%q,"isDdl":false}`, id, ver, typ)
		return &kgo.Record{Key: []byte(id), Value: []byte(v), Partition: floorMod(kafka.JavaHash(id), 4)}
	}
	// Key 7: INSERT v1, UPDATE v2, DELETE (v2), INSERT v3 → seqs 2, 4, 5, 6.
	want := map[string][]int{"7": {2, 4, 5, 6}}
	i1, u2, d2, i3 := rec("7", 1, "INSERT"), rec("7", 2, "UPDATE"), rec("7", 2, "DELETE"), rec("7", 3, "INSERT")
	for _, c := range []struct {
		name                     string
		recs                     []*kgo.Record
		missing, broken, replays int
	}{
		{"in order", []*kgo.Record{i1, u2, d2, i3}, 0, 0, 0},
		{"a re-sent suffix", []*kgo.Record{i1, u2, d2, u2, d2, i3}, 0, 0, 1},
		{"two restarts", []*kgo.Record{i1, u2, i1, u2, d2, d2, i3}, 0, 0, 2},
		{"a gap, filled by a replay", []*kgo.Record{i1, d2, u2, d2, i3}, 0, 1, 1},
		{"reordered", []*kgo.Record{u2, i1, d2, i3}, 0, 1, 0},
		{"a lost change", []*kgo.Record{i1, u2, i3}, 1, 1, 0},
		{"the last change lost", []*kgo.Record{i1, u2, d2}, 1, 0, 0},
	} {
		d := checkDelivery(c.recs, want, 4)
		if d.missing != c.missing || d.orderBroken != c.broken || d.maxReplays != c.replays {
			t.Errorf("%s: missing %d, out of order %d, replays %d; want %d, %d, %d (%v)", c.name, d.missing, d.orderBroken, d.maxReplays, c.missing, c.broken, c.replays, d.problems)
		}
	}
	if d := checkDelivery([]*kgo.Record{i1, rec("8", 1, "INSERT")}, map[string][]int{"7": {2}}, 4); len(d.problems) != 1 {
		t.Errorf("a message of a key never written: problems %v", d.problems)
	}
}
