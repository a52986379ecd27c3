// Command bench measures Tributary end to end on this machine and prints a table next to the
// raw limits measured in the same run: a throwaway MariaDB, a Kafka-protocol broker (kfake,
// in this process), a 1,000,000-row table of ~300-byte rows, and `tributary run` as a child
// process so that its peak memory is its own.
//
//	go run ./bench [-rows 1000000] [-skip-raw]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/twmb/franz-go/pkg/kfake"

	"tributary/engine/task"
	"tributary/internal/testenv"
)

type row struct {
	what, rows, mbs, latency, mem, note string
}

func main() {
	rows := flag.Int("rows", 1000000, "rows in the benchmark table")
	skipRaw := flag.Bool("skip-raw", false, "skip the raw-limit measurements")
	flag.Parse()
	if err := run(*rows, *skipRaw); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n int, skipRaw bool) error {
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
	if err := fill(db, n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  filled in %s\n", time.Since(start).Round(time.Millisecond))

	var table []row
	var rawRead float64
	if !skipRaw {
		rps, mbs, err := rawSelect(db, n)
		if err != nil {
			return err
		}
		rawRead = rps
		table = append(table, row{"raw: go-mysql streaming SELECT * (same table)", f0(rps), f1(mbs), "", "", "read limit"})
		prps, pmbs, err := rawProduce(k, n)
		if err != nil {
			return err
		}
		table = append(table, row{"raw: sarama async → kfake, 300 B, LZ4, acks=1", f0(prps), f1(pmbs), "", "", "produce limit"})
	}

	t := &task.Task{Version: 1, Name: "bench", MigrationTypes: task.MigrationTypes{Full: true},
		Source:      task.Source{MySQL: task.MySQL{Host: db.Host, Port: db.Port, User: db.User, Password: db.Password}},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Topic: "bench"},
		Compression: "lz4", Acks: "leader", Format: "canal-json",
		Objects: []task.Object{{Database: "bench", Table: "t"}}}
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
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("tributary run: %w", err)
	}
	el := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	got, bytes := landed(k, "bench", n)
	rps := float64(n) / el.Seconds()
	note := fmt.Sprintf("%d messages landed", got)
	if rawRead > 0 {
		note += fmt.Sprintf("; %.2f× the raw read rate", rps/rawRead)
	}
	table = append(table, row{"tributary: full migration end to end", f0(rps), f1(float64(bytes) / 1e6 / el.Seconds()), "", fmt.Sprintf("%.0f MB", float64(ru.Maxrss)/1024), note})

	fmt.Printf("\nTributary benchmark — %d rows × ~300 B, MariaDB → kfake, %s\n\n", n, time.Now().Format("2006-01-02 15:04"))
	fmt.Printf("| %-48s | %12s | %8s | %12s | %10s | %s\n", "what", "rows/s", "MB/s", "latency", "peak RSS", "note")
	fmt.Printf("|%s|%s|%s|%s|%s|%s\n", strings.Repeat("-", 50), strings.Repeat("-", 14), strings.Repeat("-", 10), strings.Repeat("-", 14), strings.Repeat("-", 12), strings.Repeat("-", 20))
	for _, r := range table {
		fmt.Printf("| %-48s | %12s | %8s | %12s | %10s | %s\n", r.what, r.rows, r.mbs, r.latency, r.mem, r.note)
	}
	fmt.Println("\nIncremental (binlog) catch-up and commit-to-ack latency: not measured yet — incremental migration is not implemented in this build.")
	return nil
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// fill creates bench.t with n rows of about 300 bytes in 10 columns.
func fill(db *testenv.MariaDB, n int) error {
	stmts := []string{
		"CREATE DATABASE bench",
		"USE bench",
		`CREATE TABLE bench.t (id BIGINT PRIMARY KEY, a INT NOT NULL, b BIGINT, c VARCHAR(64), d VARCHAR(120),
		  e DECIMAL(12,2), f DATETIME(3), g DOUBLE, h CHAR(32), i VARCHAR(64))`,
		"SET SESSION sql_log_bin = 0",
		fmt.Sprintf(`INSERT INTO bench.t SELECT seq, seq %% 100000, seq * 7919, CONCAT('customer-', seq, '-', MD5(seq)),
		  CONCAT(REPEAT('x', 40), '-', SHA1(seq), '-', seq), seq / 7, FROM_UNIXTIME(1700000000 + seq, '%%Y-%%m-%%d %%H:%%i:%%s.123'),
		  seq * 1.25, MD5(seq * 3), CONCAT('tag-', seq %% 977) FROM seq_1_to_%d`, n),
	}
	conn, err := db.Conn()
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.Execute(s); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(s)[0], err)
		}
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
