package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"tributary/internal/testenv"
)

// sourceWriter inserts a row into e2e.t1 every 200 ms and remembers the ids that committed.
// While skew is on, the rows are written with a commit time two minutes in the past, so that
// the task's incremental latency passes its alert threshold.
type sourceWriter struct {
	mu        sync.Mutex
	ids       []int
	paused    []int // ids written between "E2E-PHASE paused" and "E2E-PHASE resuming"
	inPause   bool
	skewUntil time.Time
	errs      int
	lastErr   error
}

func (w *sourceWriter) run(ctx context.Context, t *testing.T, db *testenv.MariaDB, done chan<- struct{}) {
	defer close(done)
	conn, err := db.Conn()
	if err != nil {
		t.Errorf("writer: connect: %v", err)
		return
	}
	defer conn.Close()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for id := 1_000_001; ; id++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w.mu.Lock()
		skew := time.Now().Before(w.skewUntil)
		w.mu.Unlock()
		if skew {
			_, err = conn.Execute("SET timestamp = UNIX_TIMESTAMP() - 120")
		}
		if err == nil {
			_, err = conn.Execute(fmt.Sprintf("INSERT INTO e2e.t1 VALUES (%d, 'live-%d', %d.25, NOW(3))", id, id, id%1000))
		}
		if skew {
			if _, e := conn.Execute("SET timestamp = DEFAULT"); e != nil && err == nil {
				err = e
			}
		}
		w.mu.Lock()
		if err != nil {
			w.errs++
			w.lastErr = err
		} else {
			w.ids = append(w.ids, id)
			if w.inPause {
				w.paused = append(w.paused, id)
			}
		}
		w.mu.Unlock()
		err = nil
	}
}

// signal reacts to the marker lines of incremental.spec.mjs.
func (w *sourceWriter) signal(line string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch strings.TrimSpace(line) {
	case "E2E-SIGNAL latency-spike":
		w.skewUntil = time.Now().Add(6 * time.Second)
	case "E2E-PHASE paused":
		w.inPause = true
	case "E2E-PHASE resuming":
		w.inPause = false
	}
}

// TestE2EIncrementalBrowserFlow drives a full + incremental task in Chromium against `tributary
// serve` while rows keep arriving at the source: the precheck's CHECK_PRIMARY_KEY warning
// ignored, progress to 100 %, latency in the list and the detail, a latency alert shown as a
// notification, Pause and Resume, export and import. Then every row written to the source,
// those written while the task was paused included, must be in Kafka.
func TestE2EIncrementalBrowserFlow(t *testing.T) {
	root := repoRoot(t)
	e2eDir := filepath.Join(root, "tests", "e2e")
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed in tests/e2e: run `make setup` (or `make test`, which runs it)")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("/usr/bin/chromium is missing: run `make setup`")
	}
	bin := buildBinary(t)
	// binlog_row_metadata=FULL: otherwise the precheck rightly warns about it too, and this
	// flow ignores exactly one warning.
	db := testenv.StartMariaDB(t, testenv.WithFlags("--binlog-row-metadata=FULL"))
	k := testenv.StartKafka(t)
	const rows1, rows2, nokeyRows = 1200, 700, 5
	seed(t, db, rows1, rows2)
	db.Exec(t, "INSERT INTO e2e.nokey VALUES (1), (2), (3), (4), (5)")
	storePath := filepath.Join(t.TempDir(), "store.db")
	if p := os.Getenv("E2E_STORE"); p != "" {
		storePath = p // kept after the test, e.g. for the README screenshots of the window
	}
	url := startServe(t, bin, storePath)

	w := &sourceWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	writerDone := make(chan struct{})
	go w.run(ctx, t, db, writerDone)
	stopWriter := func() { cancel(); <-writerDone }
	defer stopWriter()

	shots := os.Getenv("E2E_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(t.TempDir(), "shots")
	}
	const topic = "inc"
	cmd := exec.Command("node", "incremental.spec.mjs")
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(),
		"TRIBUTARY_URL="+url,
		"MYSQL_HOST="+db.Host, fmt.Sprintf("MYSQL_PORT=%d", db.Port), "MYSQL_USER="+db.User, "MYSQL_PASSWORD="+db.Password,
		"KAFKA_BROKERS="+strings.Join(k.Addrs, ","), "TOPIC="+topic, "DB=e2e", "SCREENSHOT_DIR="+shots)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var out strings.Builder
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			out.WriteString(line + "\n")
			if strings.HasPrefix(line, "E2E-") {
				w.signal(line)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	pw.Close()
	<-scanned
	t.Logf("playwright:\n%s", out.String())
	if err != nil {
		t.Fatalf("the browser flow failed: %v", err)
	}

	// The task still runs: what was written until now must arrive.
	stopWriter()
	w.mu.Lock()
	ids, paused, errs, lastErr := append([]int(nil), w.ids...), append([]int(nil), w.paused...), w.errs, w.lastErr
	w.mu.Unlock()
	if errs > 0 {
		t.Logf("writer: %d inserts failed (last: %v); only committed rows are checked", errs, lastErr)
	}
	if len(ids) < 20 {
		t.Fatalf("the writer committed only %d rows", len(ids))
	}
	if len(paused) < 5 {
		t.Fatalf("only %d rows were written while the task was paused (want at least 5)", len(paused))
	}
	t.Logf("writer: %d rows written while the browser flow ran, %d of them while the task was paused", len(ids), len(paused))

	missing := map[int]bool{}
	var seen map[int]int
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs, _ := k.ReadAllErr(topic, rows1+nokeyRows+len(ids), 10*time.Second)
		seen = map[int]int{}
		for _, r := range recs {
			var m struct {
				Table string               `json:"table"`
				Type  string               `json:"type"`
				Data  []map[string]*string `json:"data"`
			}
			if err := json.Unmarshal(r.Value, &m); err != nil {
				t.Fatalf("topic %s: not JSON: %s", topic, r.Value)
			}
			if m.Table != "t1" {
				continue
			}
			for _, row := range m.Data {
				if v := row["id"]; v != nil {
					var id int
					fmt.Sscan(*v, &id)
					seen[id]++
				}
			}
		}
		clear(missing)
		for _, id := range ids {
			if seen[id] == 0 {
				missing[id] = true
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(missing) > 0 {
		var list []int
		for id := range missing {
			list = append(list, id)
		}
		sort.Ints(list)
		var pausedMissing int
		for _, id := range paused {
			if missing[id] {
				pausedMissing++
			}
		}
		t.Fatalf("%d of %d rows written to e2e.t1 are not in topic %s (%d of them written while paused): %v", len(list), len(ids), topic, pausedMissing, list)
	}
	for id := 1; id <= rows1; id++ {
		if seen[id] == 0 {
			t.Fatalf("seeded row t1 id %d is not in topic %s", id, topic)
		}
	}
	// t2 went to its edited mapping, by full migration.
	if r2 := k.ReadAll(t, topic+"_t2", rows2, 30*time.Second); len(r2) != rows2 {
		t.Fatalf("topic %s_t2: %d messages, want %d", topic, len(r2), rows2)
	}
}
