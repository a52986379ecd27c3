package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Per-task caps: the oldest rows beyond them are pruned on insert, so a task that runs for
// months keeps a bounded log and chart history.
const (
	MaxEventsPerTask  = 20000
	MaxSamplesPerTask = 10000
)

// EventRecord is one entry of a task's event log.
type EventRecord struct {
	ID      int64     `json:"id"`
	TaskID  int64     `json:"taskId"`
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// AddEvent appends to a task's event log. Messages must not contain secrets.
func (s *Store) AddEvent(taskID int64, level, message string) error {
	ctx := context.Background()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO events(task_id, time, level, message) VALUES (?, ?, ?, ?)",
			taskID, ms(s.now()), level, message); err != nil {
			return err
		}
		return prune(ctx, tx, "events", taskID, MaxEventsPerTask)
	})
	if err != nil {
		return fmt.Errorf("add event to task %d: %w", taskID, missingTask(err, taskID))
	}
	return nil
}

// Events returns a task's newest events, newest first; limit <= 0 means all.
func (s *Store) Events(taskID int64, limit int) ([]EventRecord, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(context.Background(),
		"SELECT id, task_id, time, level, message FROM events WHERE task_id = ? ORDER BY id DESC LIMIT ?", taskID, limit)
	if err != nil {
		return nil, fmt.Errorf("read events of task %d: %w", taskID, err)
	}
	defer rows.Close()
	out := []EventRecord{}
	for rows.Next() {
		var e EventRecord
		var t int64
		if err := rows.Scan(&e.ID, &e.TaskID, &t, &e.Level, &e.Message); err != nil {
			return nil, fmt.Errorf("read events of task %d: %w", taskID, err)
		}
		e.Time = fromMS(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events of task %d: %w", taskID, err)
	}
	return out, nil
}

// Sample is one point of a task's throughput and latency charts.
type Sample struct {
	Time       time.Time `json:"time"`
	RowsPerSec float64   `json:"rowsPerSec"`
	MBPerSec   float64   `json:"mbPerSec"`
	LatencyMs  int64     `json:"latencyMs"`
}

// AddSample appends a metric sample to a task, keeping its newest MaxSamplesPerTask. Samples
// are expected in time order; "newest" is the most recently added.
func (s *Store) AddSample(taskID int64, smp Sample) error {
	ctx := context.Background()
	if smp.Time.IsZero() {
		smp.Time = s.now()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO metric_samples(task_id, time, rows_per_sec, mb_per_sec, latency_ms) VALUES (?, ?, ?, ?, ?)",
			taskID, ms(smp.Time), smp.RowsPerSec, smp.MBPerSec, smp.LatencyMs); err != nil {
			return err
		}
		return prune(ctx, tx, "metric_samples", taskID, MaxSamplesPerTask)
	})
	if err != nil {
		return fmt.Errorf("add sample to task %d: %w", taskID, missingTask(err, taskID))
	}
	return nil
}

// Samples returns a task's samples at or after since, oldest first (zero since = all).
func (s *Store) Samples(taskID int64, since time.Time) ([]Sample, error) {
	var from int64
	if !since.IsZero() {
		from = ms(since)
	}
	rows, err := s.db.QueryContext(context.Background(),
		`SELECT time, rows_per_sec, mb_per_sec, latency_ms FROM metric_samples
		 WHERE task_id = ? AND time >= ? ORDER BY time, id`, taskID, from)
	if err != nil {
		return nil, fmt.Errorf("read samples of task %d: %w", taskID, err)
	}
	defer rows.Close()
	out := []Sample{}
	for rows.Next() {
		var smp Sample
		var t int64
		if err := rows.Scan(&t, &smp.RowsPerSec, &smp.MBPerSec, &smp.LatencyMs); err != nil {
			return nil, fmt.Errorf("read samples of task %d: %w", taskID, err)
		}
		smp.Time = fromMS(t)
		out = append(out, smp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read samples of task %d: %w", taskID, err)
	}
	return out, nil
}

// prune deletes a task's rows of table beyond the newest keep (by id). The (task_id, id) index
// makes this a short range delete; it is a no-op until the cap is reached.
func prune(ctx context.Context, tx *sql.Tx, table string, taskID int64, keep int) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE task_id = ?1 AND id <= (
		SELECT id FROM `+table+` WHERE task_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)`, taskID, keep)
	return err
}
