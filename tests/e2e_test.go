// Package tests holds the end-to-end tests: the browser flow against `tributary serve`
// (Playwright, headless Debian Chromium) and the headless `tributary run` of the same task,
// both against a throwaway MariaDB and a Kafka-protocol broker, read back with kgo.
package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"tributary/internal/testenv"
)

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// buildBinary builds tributary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tributary")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServe runs `tributary serve` and waits until it answers.
func startServe(t *testing.T, bin, storePath string) string {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "serve", "--addr", addr, "--store", storePath)
	logf, _ := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("serve log:\n%s", b)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tributary serve did not listen on %s", addr)
	return ""
}

func seed(t *testing.T, db *testenv.MariaDB, rows1, rows2 int) {
	db.Exec(t,
		"CREATE DATABASE e2e",
		"USE e2e",
		"CREATE TABLE e2e.t1 (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(10,2), at DATETIME(3))",
		"CREATE TABLE e2e.t2 (code CHAR(6) PRIMARY KEY, qty BIGINT UNSIGNED, note TEXT)",
		fmt.Sprintf("INSERT INTO e2e.t1 SELECT seq, CONCAT('name-', seq), seq / 4, FROM_UNIXTIME(1700000000 + seq, '%%Y-%%m-%%d %%H:%%i:%%s.250') FROM seq_1_to_%d", rows1),
		fmt.Sprintf("INSERT INTO e2e.t2 SELECT LPAD(seq, 6, '0'), seq * 1000, IF(seq %% 5 = 0, NULL, REPEAT('n', seq %% 30)) FROM seq_1_to_%d", rows2),
		// A table without a key: the precheck warns about it (the e2e flow does not select it).
		"CREATE TABLE e2e.nokey (v INT)",
	)
}

// dataOf returns the Canal JSON "data" row of each message, keyed by the given column.
func dataOf(t *testing.T, values [][]byte, key string) map[string][]map[string]*string {
	out := map[string][]map[string]*string{}
	for _, v := range values {
		var m struct {
			Data []map[string]*string `json:"data"`
			Type string               `json:"type"`
		}
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatalf("not JSON: %s", v)
		}
		if m.Type != "INIT" || len(m.Data) != 1 {
			t.Fatalf("unexpected message %s", v)
		}
		k := *m.Data[0][key]
		out[k] = append(out[k], m.Data[0])
	}
	return out
}

// TestBrowserFlowAndHeadlessRun clicks through the whole thin slice in Chromium against
// `tributary serve`, checks what landed in Kafka, then exports the task and runs the file with
// `tributary run`, which must produce the same messages.
func TestBrowserFlowAndHeadlessRun(t *testing.T) {
	root := repoRoot(t)
	e2eDir := filepath.Join(root, "tests", "e2e")
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed in tests/e2e: run `make setup` (or `make test`, which runs it)")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("/usr/bin/chromium is missing: run `make setup`")
	}
	bin := buildBinary(t)
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	const rows1, rows2 = 1200, 700
	seed(t, db, rows1, rows2)
	storePath := filepath.Join(t.TempDir(), "store.db")
	if p := os.Getenv("E2E_STORE"); p != "" {
		storePath = p // kept after the test, e.g. for the README screenshots of the window
	}
	url := startServe(t, bin, storePath)

	shots := os.Getenv("E2E_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(t.TempDir(), "shots")
	}
	cmd := exec.Command("node", "flow.spec.mjs")
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(),
		"TRIBUTARY_URL="+url,
		"MYSQL_HOST="+db.Host, fmt.Sprintf("MYSQL_PORT=%d", db.Port), "MYSQL_USER="+db.User, "MYSQL_PASSWORD="+db.Password,
		"KAFKA_BROKERS="+strings.Join(k.Addrs, ","), "TOPIC=e2e", "DB=e2e", "SCREENSHOT_DIR="+shots)
	out, err := cmd.CombinedOutput()
	t.Logf("playwright:\n%s", out)
	if err != nil {
		t.Fatalf("the browser flow failed: %v", err)
	}

	// What the UI's task wrote: t1 to the task topic, t2 to its edited mapping.
	r1 := k.ReadAll(t, "e2e", rows1, 30*time.Second)
	r2 := k.ReadAll(t, "e2e_t2", rows2, 30*time.Second)
	var v1, v2 [][]byte
	for _, r := range r1 {
		v1 = append(v1, r.Value)
	}
	for _, r := range r2 {
		v2 = append(v2, r.Value)
	}
	d1, d2 := dataOf(t, v1, "id"), dataOf(t, v2, "code")
	if len(d1) != rows1 || len(v1) != rows1 {
		t.Fatalf("topic e2e: %d messages for %d ids, want exactly %d", len(v1), len(d1), rows1)
	}
	if len(d2) != rows2 || len(v2) != rows2 {
		t.Fatalf("topic e2e_t2: %d messages for %d codes, want exactly %d", len(v2), len(d2), rows2)
	}
	if got := *d1["7"][0]["amount"]; got != "1.75" {
		t.Errorf("t1 id 7 amount = %q, want 1.75", got)
	}

	// The same task, exported and run headless, produces the same messages.
	exp := exec.Command(bin, "task", "export", "1", "--store", storePath)
	file, err := exp.Output()
	if err != nil {
		t.Fatalf("task export: %v", err)
	}
	if strings.Contains(string(file), db.Password) {
		t.Fatalf("the exported task file contains the MySQL password")
	}
	taskFile := filepath.Join(t.TempDir(), "task.json")
	if err := os.WriteFile(taskFile, file, 0o600); err != nil {
		t.Fatal(err)
	}
	// --skip-precheck: the topics already hold the first run's messages, which the precheck
	// rightly reports under "Precheck and Report Errors" (CHECK_SAME_OBJ).
	run := exec.Command(bin, "run", "--task", taskFile, "--store", storePath, "--skip-precheck")
	stderr, _ := run.StderrPipe()
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var log []string
	for sc.Scan() {
		log = append(log, sc.Text())
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("tributary run: %v\n%s", err, strings.Join(log, "\n"))
	}
	r1 = k.ReadAll(t, "e2e", 2*rows1, 30*time.Second)
	r2 = k.ReadAll(t, "e2e_t2", 2*rows2, 30*time.Second)
	v1, v2 = v1[:0], v2[:0]
	for _, r := range r1 {
		v1 = append(v1, r.Value)
	}
	for _, r := range r2 {
		v2 = append(v2, r.Value)
	}
	for name, d := range map[string]map[string][]map[string]*string{"e2e": dataOf(t, v1, "id"), "e2e_t2": dataOf(t, v2, "code")} {
		for key, rows := range d {
			if len(rows) != 2 {
				t.Fatalf("%s key %s: %d messages after the headless run, want 2 (one per run)", name, key, len(rows))
			}
			if !reflect.DeepEqual(rows[0], rows[1]) {
				t.Fatalf("%s key %s: the headless run wrote different data than the UI run", name, key)
			}
		}
	}
}
