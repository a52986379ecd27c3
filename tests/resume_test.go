package tests

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"tributary/engine/task"
	"tributary/internal/testenv"
)

// TestFullMigrationSurvivesKills kills `tributary run` with SIGKILL at random moments of a
// full migration, many times, restarts it each time, and proves with an independent reader
// that every source row reached Kafka at least once, and that rows sent more than once are
// limited to the chunks that were in flight at each kill.
func TestFullMigrationSurvivesKills(t *testing.T) {
	bin := buildBinary(t)
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	const rows = 120000
	const chunk = 1000
	db.Exec(t,
		"CREATE DATABASE crash",
		"USE crash",
		"CREATE TABLE crash.a (id BIGINT PRIMARY KEY, v VARCHAR(64), n INT)",
		fmt.Sprintf("INSERT INTO crash.a SELECT seq, MD5(seq), seq %% 1000 FROM seq_1_to_%d", rows),
		"CREATE TABLE crash.b (k VARCHAR(20) PRIMARY KEY, v INT)",
		"INSERT INTO crash.b SELECT CONCAT('key-', LPAD(seq, 8, '0')), seq FROM seq_1_to_30000",
		"ANALYZE TABLE crash.a, crash.b",
	)
	tk := &task.Task{Version: 1, Name: "kill", MigrationTypes: task.MigrationTypes{Full: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, PasswordEnv: "SRC_PW"}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: "kill"},
		Objects:     []task.Object{{Database: "crash", Table: "a"}, {Database: "crash", Table: "b", Topic: "kill_b"}},
		Advanced:    task.Advanced{ChunkRows: chunk, FullWorkers: 3, FullThrottle: task.Throttle{Enabled: true, RPS: 60000}}}
	tk.Defaults()
	b, _ := task.Marshal(tk)
	dir := t.TempDir()
	taskFile := filepath.Join(dir, "task.json")
	if err := os.WriteFile(taskFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, "store.db")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	seed := rng.Int63()
	t.Logf("kill schedule seed %d", seed)
	rng = rand.New(rand.NewSource(seed))

	kills := 0
	for attempt := 0; attempt < 40; attempt++ {
		cmd := exec.Command(bin, "run", "--task", taskFile, "--store", storePath, "--skip-precheck")
		cmd.Env = append(os.Environ(), "SRC_PW="+db.Password)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		wait := time.Duration(50+rng.Intn(400)) * time.Millisecond
		if kills >= 8 {
			wait = time.Minute // enough kills: let it finish
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("tributary run failed: %v", err)
			}
			attempt = 1000
		case <-time.After(wait):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
	if kills < 3 {
		t.Fatalf("only %d kills happened before the migration finished: the test proves nothing", kills)
	}
	t.Logf("%d kills", kills)

	countKeys := func(topic, key string, want int) (map[string]int, int) {
		recs := k.ReadAll(t, topic, want, 60*time.Second)
		seen := map[string]int{}
		for _, r := range recs {
			var m struct {
				Data []map[string]*string `json:"data"`
			}
			if err := json.Unmarshal(r.Value, &m); err != nil {
				t.Fatal(err)
			}
			seen[*m.Data[0][key]]++
		}
		return seen, len(recs)
	}
	a, na := countKeys("kill", "id", rows)
	for i := 1; i <= rows; i++ {
		if a[strconv.Itoa(i)] == 0 {
			t.Fatalf("row crash.a id=%d never reached Kafka", i)
		}
	}
	bb, nb := countKeys("kill_b", "k", 30000)
	if len(bb) != 30000 {
		t.Fatalf("crash.b: %d distinct rows reached Kafka, want 30000", len(bb))
	}
	// Each kill may resend only what was in flight: per worker (3) at most two chunks read but
	// not yet committed (pipeline.chunksInFlight).
	dups := (na - rows) + (nb - 30000)
	limit := kills * 3 * 2 * chunk
	t.Logf("%d messages for %d rows: %d resent over %d kills (limit %d)", na+nb, rows+30000, dups, kills, limit)
	if dups > limit {
		t.Fatalf("%d rows were sent again over %d kills, more than the in-flight chunks allow (%d)", dups, kills, limit)
	}
}
