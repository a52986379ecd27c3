package pipeline

import (
	"context"
	"testing"
	"time"

	"tributary/engine/task"
	"tributary/internal/testenv"
)

func TestBucketRate(t *testing.T) {
	var b Bucket
	b.SetRate(20000)
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < 10000; i++ {
		if err := b.Take(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	rate := 10000 / time.Since(start).Seconds()
	if rate < 18000 || rate > 22000 {
		t.Fatalf("measured %.0f/s with a limit of 20000/s: more than 10%% off", rate)
	}
}

// TestFullThrottleRows runs a full migration with an RPS limit, changes the limit while it
// runs, and checks the measured rate stays within 10% of each limit.
func TestFullThrottleRows(t *testing.T) {
	db := testenv.StartMariaDB(t)
	k := testenv.StartKafka(t)
	db.Exec(t,
		"CREATE DATABASE th",
		"CREATE TABLE th.t (id INT PRIMARY KEY, v VARCHAR(32))",
		"USE th",
		"INSERT INTO th.t SELECT seq, MD5(seq) FROM seq_1_to_85000",
	)
	tk := baseTask(db, k, "th", task.Object{Database: "th", Table: "t"})
	tk.Advanced.ChunkRows = 1000
	tk.Advanced.FullThrottle = task.Throttle{Enabled: true, RPS: 8000}
	obs := &rateObserver{}
	r := NewRunner(tk, &testenv.Checkpoints{}, obs)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- r.Run(ctx) }()

	// Phase 1: 8000 rows/s for 2 s.
	time.Sleep(500 * time.Millisecond)
	r1, t1 := obs.rows(), time.Now()
	time.Sleep(2 * time.Second)
	r2, t2 := obs.rows(), time.Now()
	rate1 := float64(r2-r1) / t2.Sub(t1).Seconds()
	// Phase 2: raised to 16000 rows/s while running.
	r.SetThrottle(task.Throttle{Enabled: true, RPS: 16000}, task.Throttle{})
	time.Sleep(300 * time.Millisecond)
	r3, t3 := obs.rows(), time.Now()
	time.Sleep(2500 * time.Millisecond)
	r4, t4 := obs.rows(), time.Now()
	rate2 := float64(r4-r3) / t4.Sub(t3).Seconds()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("measured %.0f rows/s at 8000, %.0f rows/s at 16000; total %s", rate1, rate2, time.Since(start).Round(time.Millisecond))
	if rate1 < 7200 || rate1 > 8800 {
		t.Errorf("rate %.0f rows/s is more than 10%% off the limit of 8000", rate1)
	}
	if rate2 < 14400 || rate2 > 17600 {
		t.Errorf("rate %.0f rows/s is more than 10%% off the limit of 16000 set while running", rate2)
	}
}

type rateObserver struct {
	testObserver
}

func (o *rateObserver) rows() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last.RowsDone
}

func (o *rateObserver) Log(level, msg string) {}
