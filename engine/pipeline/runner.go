// Package pipeline runs a task: it connects the readers (snapshot, binlog) to the router, the
// encoders and the producer, and owns checkpoints, throttling, retries and progress.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"tributary/engine/event"
	"tributary/engine/kafka"
	"tributary/engine/mysql"
	"tributary/engine/task"
)

// Checkpoints is where the runner keeps its resume state (the store in the app, a SQLite file
// for `tributary run`). Save must be atomic and durable: a crash after Save returns keeps the
// whole map, a crash before it keeps none of it.
type Checkpoints interface {
	Load(ctx context.Context) (map[string][]byte, error)
	Save(ctx context.Context, kv map[string][]byte) error
}

// Observer receives what the runner wants shown. Calls come from several goroutines.
type Observer interface {
	Progress(p Progress)
	Log(level, message string)
	// State reports Running, Retrying (with the reason), Completed or Failed (with the error).
	State(state, reason string)
}

// Runner runs one task until it completes, fails or its context ends.
type Runner struct {
	// Task must be resolved: inline connections, secrets filled in.
	Task        *task.Task
	Checkpoints Checkpoints
	Observer    Observer

	full        Limits
	incremental Limits
	seq         atomic.Uint64
	// fullSummary is the last full-migration progress, shown beside incremental progress.
	fullSummary atomic.Pointer[Progress]
	// saves counts checkpoints saved: an attempt that saved one made progress, so the retry
	// window starts afresh at its next failure.
	saves atomic.Uint64
	// stallShown is true while a destination stall is reported as Retrying.
	stallShown bool
}

// checkStall reports a destination that acknowledges nothing (a broker outage the producer is
// riding out) as Retrying, back to Running when acknowledgements resume, and fails the task
// once the stall outlasts "Retry Time for Failed Connections". Called from a phase's ticker.
func (r *Runner) checkStall(s *sink) error {
	d := s.stalled()
	if d == 0 {
		if r.stallShown {
			r.stallShown = false
			r.Observer.State("Running", "")
			r.Observer.Log("info", "the destination acknowledges messages again")
		}
		return nil
	}
	window := time.Duration(r.Task.Advanced.RetryConnectionMinutes) * time.Minute
	if d >= window {
		return &Permanent{fmt.Errorf("Kafka acknowledged nothing for %s (the retry time for failed connections): %v", d.Round(time.Second), kafka.Explain(sarama.ErrOutOfBrokers, &r.Task.Destination.Kafka))}
	}
	if !r.stallShown {
		r.stallShown = true
		reason := fmt.Sprintf("Kafka has acknowledged nothing for %s: %v — waiting for it (retry time for failed connections: %s)", d.Round(time.Second), kafka.Explain(sarama.ErrOutOfBrokers, &r.Task.Destination.Kafka), window)
		r.Observer.Log("warn", reason)
		r.Observer.State("Retrying", reason)
	}
	return nil
}

// NewRunner prepares a runner; its throttles start from the task settings.
func NewRunner(t *task.Task, cp Checkpoints, obs Observer) *Runner {
	r := &Runner{Task: t, Checkpoints: cp, Observer: obs}
	r.SetThrottle(t.Advanced.FullThrottle, t.Advanced.IncrementalThrottle)
	return r
}

// SetThrottle changes the limits while the task runs.
func (r *Runner) SetThrottle(full, inc task.Throttle) {
	r.full.Set(full.Enabled, full.QPS, full.RPS, full.MBps)
	r.incremental.Set(inc.Enabled, 0, inc.RPS, inc.MBps)
}

// Permanent marks an error that retrying cannot fix (the task fails at once).
type Permanent struct{ Err error }

func (e *Permanent) Error() string { return e.Err.Error() }
func (e *Permanent) Unwrap() error { return e.Err }

// Run runs the task with DTS's retry windows: connection failures are retried for
// RetryConnectionMinutes, other failures for RetryOtherMinutes, with backoff; every attempt
// resumes from the last checkpoint. It returns nil when the task completed, ctx.Err() when it
// was stopped, and the error when it failed.
func (r *Runner) Run(ctx context.Context) error {
	var firstFail time.Time
	backoff := time.Second
	for {
		r.Observer.State("Running", "")
		savesBefore := r.saves.Load()
		err := r.attempt(ctx)
		if r.saves.Load() != savesBefore {
			// The attempt made progress: a new failure gets a whole retry window again.
			firstFail, backoff = time.Time{}, time.Second
		}
		if err == nil {
			r.Observer.State("Completed", "")
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var perm *Permanent
		if errors.As(err, &perm) {
			r.Observer.State("Failed", err.Error())
			return err
		}
		window := time.Duration(r.Task.Advanced.RetryOtherMinutes) * time.Minute
		kind := "other issues"
		if mysql.IsConnError(err) || kafka.IsConnError(err) {
			window = time.Duration(r.Task.Advanced.RetryConnectionMinutes) * time.Minute
			kind = "failed connections"
		}
		if firstFail.IsZero() {
			firstFail = time.Now()
		}
		if time.Since(firstFail) >= window {
			err = fmt.Errorf("%w (retried for %s, the retry time for %s)", err, window, kind)
			r.Observer.State("Failed", err.Error())
			return err
		}
		reason := fmt.Sprintf("%v — retrying in %s (retry time for %s: %s, %s left)", err, backoff, kind, window, (window - time.Since(firstFail)).Round(time.Second))
		r.Observer.Log("warn", reason)
		r.Observer.State("Retrying", reason)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
	}
}

// attempt runs once from the last checkpoint.
func (r *Runner) attempt(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	src, err := mysql.Connect(ctx, &r.Task.Source.MySQL)
	if err != nil {
		return err
	}
	defer src.Close()
	server := mysql.Server(src)

	refs := make([]mysql.Ref, len(r.Task.Objects))
	for i, o := range r.Task.Objects {
		refs[i] = mysql.Ref{Database: o.Database, Table: o.Table}
	}
	tables, err := mysql.LoadTables(ctx, src, refs)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if tables[ref] == nil {
			return &Permanent{fmt.Errorf("table %s does not exist on the source: remove it from the selected objects or create it", ref)}
		}
	}

	sink, err := newSink(ctx, r.Task, tables, server.Version)
	if err != nil {
		return err
	}
	defer sink.Close()

	saved, err := r.Checkpoints.Load(ctx)
	if err != nil {
		return &Permanent{fmt.Errorf("load checkpoints: %w", err)}
	}
	if string(saved[keyPhase]) == phaseDone {
		return nil
	}

	// Incremental migration starts where the binlog was before full migration read anything.
	var startPos event.Position
	var hist *mysql.SchemaHistory
	if r.Task.MigrationTypes.Incremental {
		flavor := "mysql"
		if server.MariaDB {
			flavor = "mariadb"
		}
		startPos, hist, err = r.startPosition(ctx, src, flavor, refs, saved)
		if err != nil {
			return err
		}
	}
	if b := saved[keyFull]; b != nil {
		// Full migration finished in an earlier run: keep showing its table progress.
		var p Progress
		if json.Unmarshal(b, &p) == nil {
			r.fullSummary.Store(&p)
		}
	}
	if r.Task.MigrationTypes.Full && saved[keyFull] == nil {
		f := &fullPhase{r: r, sink: sink, tables: tables, refs: refs, server: server, snapshots: r.Task.MigrationTypes.Incremental}
		if err := f.run(ctx, cancel, saved); err != nil {
			return err
		}
		summary := []byte("1")
		if p := r.fullSummary.Load(); p != nil {
			summary, _ = json.Marshal(p)
		}
		if err := r.Checkpoints.Save(ctx, map[string][]byte{keyFull: summary}); err != nil {
			return &Permanent{fmt.Errorf("save checkpoint: %w", err)}
		}
		r.Observer.Log("info", "full data migration completed")
	}
	if r.Task.MigrationTypes.Incremental {
		now, err := r.Checkpoints.Load(ctx)
		if err != nil {
			return &Permanent{fmt.Errorf("load checkpoints: %w", err)}
		}
		return r.runIncremental(ctx, cancel, sink, server, startPos, hist, loadHandoff(now, tables))
	}
	if err := r.Checkpoints.Save(ctx, map[string][]byte{keyPhase: []byte(phaseDone)}); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

const (
	keyPhase  = "phase"
	phaseDone = "done"
)

// nextSeq numbers events (Canal "id", Avro "id").
func (r *Runner) nextSeq() uint64 { return r.seq.Add(1) }

// Progress is what the UI shows of a running task.
type Progress struct {
	TaskID        int64           `json:"taskId"`
	State         string          `json:"state"`
	Phase         string          `json:"phase"`
	Tables        []TableProgress `json:"tables"`
	RowsDone      int64           `json:"rowsDone"`
	RowsEstimated int64           `json:"rowsEstimated"`
	Percent       float64         `json:"percent"`
	RowsPerSec    float64         `json:"rowsPerSec"`
	MBPerSec      float64         `json:"mbPerSec"`
	// LatencyMs is now − the source commit time of the last change Kafka acknowledged; -1 when
	// not known (no incremental phase yet).
	LatencyMs             int64   `json:"latencyMs"`
	Position              string  `json:"position"`
	IncrementalRowsPerSec float64 `json:"incrementalRowsPerSec"`
	RetryReason           string  `json:"retryReason"`
}

// TableProgress is one table's full-migration progress.
type TableProgress struct {
	Database      string  `json:"database"`
	Table         string  `json:"table"`
	RowsDone      int64   `json:"rowsDone"`
	RowsEstimated int64   `json:"rowsEstimated"`
	Percent       float64 `json:"percent"`
	RowsPerSec    float64 `json:"rowsPerSec"`
	MBPerSec      float64 `json:"mbPerSec"`
	ETASeconds    int64   `json:"etaSeconds"`
	State         string  `json:"state"`
	Resumable     bool    `json:"resumable"`
}

// meter turns counters into rates, smoothed over about a second.
type meter struct {
	mu       sync.Mutex
	lastAt   time.Time
	lastRows int64
	lastB    int64
	rps, bps float64
}

func (m *meter) update(rows, bytes int64) (float64, float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if !m.lastAt.IsZero() {
		dt := now.Sub(m.lastAt).Seconds()
		if dt > 0 {
			a := min(1, dt/1.0)
			m.rps = m.rps*(1-a) + a*float64(rows-m.lastRows)/dt
			m.bps = m.bps*(1-a) + a*float64(bytes-m.lastB)/dt
		}
	}
	m.lastAt, m.lastRows, m.lastB = now, rows, bytes
	return m.rps, m.bps
}

// keyBinlog holds the committed binlog position (JSON event.Position).
const keyBinlog = "binlog"

// SavedPosition returns the binlog position a task would resume from, or the zero position.
func SavedPosition(cp map[string][]byte) event.Position {
	var p event.Position
	if b, ok := cp[keyBinlog]; ok {
		_ = json.Unmarshal(b, &p)
	}
	return p
}
