package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tributary/engine/task"
)

// DefaultTaskState is the state a task is saved with when none is given.
const DefaultTaskState = "created"

// TaskRecord is a stored task: its spec (the task file) and what the app tracks about it.
type TaskRecord struct {
	ID        int64
	Spec      task.Task
	State     string
	LastError string
	Created   time.Time
	Updated   time.Time
	// IgnoredWarnings are the precheck warning codes the user chose to ignore.
	IgnoredWarnings []string
	// Progress is the last progress snapshot the engine reported (opaque JSON), or nil.
	Progress json.RawMessage
}

// SaveTask inserts a task (ID 0) or updates the task with r.ID.
//
// Inline passwords (Spec.Source.Password, Spec.Destination.SASL.Password) are sealed into their
// own columns and stripped from the stored spec. On update an empty inline password keeps the
// stored one, unless that side now uses a profile or a PasswordEnv, which drops it.
//
// An insert stores every field of r (State defaults to DefaultTaskState). An update replaces
// the spec only: state, error, progress and ignored warnings change through their own setters,
// so that saving an edited spec cannot race with the engine reporting state. On success r is
// refreshed from the database, without secrets; r.Spec keeps the passwords it was given.
func (s *Store) SaveTask(r *TaskRecord) error {
	if r == nil {
		return errors.New("save task: nil task")
	}
	name := r.Spec.Name
	fail := func(err error) error {
		if r.ID != 0 {
			return fmt.Errorf("save task %d %q: %w", r.ID, name, err)
		}
		return fmt.Errorf("save task %q: %w", name, err)
	}
	spec, err := json.Marshal(r.Spec.Redacted())
	if err != nil {
		return fail(err)
	}
	srcSecret, err := s.sealer.seal(purposeSource, r.Spec.Source.Password)
	if err != nil {
		return fail(err)
	}
	dstSecret, err := s.sealer.seal(purposeDest, r.Spec.Destination.SASL.Password)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	now := ms(s.now())
	id := r.ID
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if id == 0 {
			state := r.State
			if state == "" {
				state = DefaultTaskState
			}
			ignored, err := marshalCodes(r.IgnoredWarnings)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO tasks(name, spec, source_secret, dest_secret, state,
				last_error, ignored_warnings, progress, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				name, string(spec), srcSecret, dstSecret, state, r.LastError, ignored, rawOrNull(r.Progress), now, now)
			if err != nil {
				return err
			}
			id, err = res.LastInsertId()
			return err
		}
		var oldSrc, oldDst []byte
		err := tx.QueryRowContext(ctx, "SELECT source_secret, dest_secret FROM tasks WHERE id = ?", id).Scan(&oldSrc, &oldDst)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		src, dst := r.Spec.Source, r.Spec.Destination
		if srcSecret == nil && src.Profile == "" && src.PasswordEnv == "" {
			srcSecret = oldSrc
		}
		if dstSecret == nil && dst.Profile == "" && dst.SASL.PasswordEnv == "" {
			dstSecret = oldDst
		}
		_, err = tx.ExecContext(ctx,
			"UPDATE tasks SET name = ?, spec = ?, source_secret = ?, dest_secret = ?, updated = ? WHERE id = ?",
			name, string(spec), srcSecret, dstSecret, now, id)
		return err
	})
	if err != nil {
		return fail(err)
	}
	got, err := s.Task(id, false)
	if err != nil {
		return fail(err)
	}
	spec0 := r.Spec
	*r = *got
	r.Spec.Source.Password = spec0.Source.Password
	r.Spec.Destination.SASL.Password = spec0.Destination.SASL.Password
	return nil
}

const taskCols = "id, spec, source_secret, dest_secret, state, last_error, ignored_warnings, progress, created, updated"

func (s *Store) scanTask(row interface{ Scan(...any) error }, withSecrets bool) (*TaskRecord, error) {
	var r TaskRecord
	var spec, ignored string
	var srcSecret, dstSecret []byte
	var progress sql.NullString
	var created, updated int64
	if err := row.Scan(&r.ID, &spec, &srcSecret, &dstSecret, &r.State, &r.LastError, &ignored, &progress,
		&created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &r.Spec); err != nil {
		return nil, fmt.Errorf("stored spec of task %d is damaged: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(ignored), &r.IgnoredWarnings); err != nil {
		return nil, fmt.Errorf("stored ignored warnings of task %d are damaged: %w", r.ID, err)
	}
	if progress.Valid {
		r.Progress = json.RawMessage(progress.String)
	}
	r.Created, r.Updated = fromMS(created), fromMS(updated)
	if withSecrets {
		var err error
		if r.Spec.Source.Password, err = s.sealer.open(purposeSource, srcSecret); err != nil {
			return nil, fmt.Errorf("source password of task %d: %w", r.ID, err)
		}
		if r.Spec.Destination.SASL.Password, err = s.sealer.open(purposeDest, dstSecret); err != nil {
			return nil, fmt.Errorf("destination password of task %d: %w", r.ID, err)
		}
	}
	return &r, nil
}

// Task returns a task. withSecrets fills in its inline passwords (for the engine); without,
// they are empty (for the UI).
func (s *Store) Task(id int64, withSecrets bool) (*TaskRecord, error) {
	row := s.db.QueryRowContext(context.Background(), "SELECT "+taskCols+" FROM tasks WHERE id = ?", id)
	r, err := s.scanTask(row, withSecrets)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("task %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read task %d: %w", id, err)
	}
	return r, nil
}

// Tasks lists every task, newest first, without secrets.
func (s *Store) Tasks() ([]TaskRecord, error) {
	rows, err := s.db.QueryContext(context.Background(), "SELECT "+taskCols+" FROM tasks ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	out := []TaskRecord{}
	for rows.Next() {
		r, err := s.scanTask(rows, false)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return out, nil
}

// DeleteTask deletes a task with its runs, checkpoints, events, precheck report and samples.
func (s *Store) DeleteTask(id int64) error {
	res, err := s.db.ExecContext(context.Background(), "DELETE FROM tasks WHERE id = ?", id)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		return fmt.Errorf("delete task %d: %w", id, err)
	}
	return nil
}

// SetTaskState records a task's state and last error ("" clears it).
func (s *Store) SetTaskState(id int64, state, lastError string) error {
	res, err := s.db.ExecContext(context.Background(),
		"UPDATE tasks SET state = ?, last_error = ?, updated = ? WHERE id = ?", state, lastError, ms(s.now()), id)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		return fmt.Errorf("set state of task %d to %q: %w", id, state, err)
	}
	return nil
}

// SetTaskProgress records a task's last progress snapshot (nil clears it). It does not change
// Updated.
func (s *Store) SetTaskProgress(id int64, progress json.RawMessage) error {
	if progress != nil && !json.Valid(progress) {
		return fmt.Errorf("set progress of task %d: not valid JSON", id)
	}
	res, err := s.db.ExecContext(context.Background(), "UPDATE tasks SET progress = ? WHERE id = ?", rawOrNull(progress), id)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		return fmt.Errorf("set progress of task %d: %w", id, err)
	}
	return nil
}

// SetIgnoredWarnings records the precheck warning codes the user chose to ignore.
func (s *Store) SetIgnoredWarnings(id int64, codes []string) error {
	ignored, err := marshalCodes(codes)
	if err == nil {
		var res sql.Result
		res, err = s.db.ExecContext(context.Background(),
			"UPDATE tasks SET ignored_warnings = ?, updated = ? WHERE id = ?", ignored, ms(s.now()), id)
		if err == nil {
			err = oneRow(res)
		}
	}
	if err != nil {
		return fmt.Errorf("set ignored warnings of task %d: %w", id, err)
	}
	return nil
}

func marshalCodes(codes []string) (string, error) {
	if codes == nil {
		codes = []string{}
	}
	b, err := json.Marshal(codes)
	return string(b), err
}

func rawOrNull(m json.RawMessage) any {
	if m == nil {
		return nil
	}
	return string(m)
}

// oneRow turns "no row changed" into ErrNotFound.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// RunRecord is one run of a task: from start (or resume) to stop, failure or completion.
type RunRecord struct {
	ID      int64     `json:"id"`
	TaskID  int64     `json:"taskId"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"` // zero while running
	State   string    `json:"state"`
	Error   string    `json:"error,omitempty"`
}

// RunStateRunning is the state of a run that has not ended.
const RunStateRunning = "running"

// StartRun records that a task started running and returns the run's ID.
func (s *Store) StartRun(taskID int64) (int64, error) {
	res, err := s.db.ExecContext(context.Background(),
		"INSERT INTO runs(task_id, started, state) VALUES (?, ?, ?)", taskID, ms(s.now()), RunStateRunning)
	var id int64
	if err == nil {
		id, err = res.LastInsertId()
	}
	if err != nil {
		return 0, fmt.Errorf("start run of task %d: %w", taskID, missingTask(err, taskID))
	}
	return id, nil
}

// EndRun records how a run ended.
func (s *Store) EndRun(runID int64, state, errMsg string) error {
	res, err := s.db.ExecContext(context.Background(),
		"UPDATE runs SET ended = ?, state = ?, error = ? WHERE id = ?", ms(s.now()), state, errMsg, runID)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		return fmt.Errorf("end run %d: %w", runID, err)
	}
	return nil
}

// Runs lists a task's runs, newest first; limit <= 0 means all.
func (s *Store) Runs(taskID int64, limit int) ([]RunRecord, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(context.Background(),
		"SELECT id, task_id, started, ended, state, error FROM runs WHERE task_id = ? ORDER BY id DESC LIMIT ?",
		taskID, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs of task %d: %w", taskID, err)
	}
	defer rows.Close()
	out := []RunRecord{}
	for rows.Next() {
		var r RunRecord
		var started int64
		var ended sql.NullInt64
		if err := rows.Scan(&r.ID, &r.TaskID, &started, &ended, &r.State, &r.Error); err != nil {
			return nil, fmt.Errorf("list runs of task %d: %w", taskID, err)
		}
		r.Started = fromMS(started)
		if ended.Valid {
			r.Ended = fromMS(ended.Int64)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs of task %d: %w", taskID, err)
	}
	return out, nil
}

// SavePrecheck stores a task's latest precheck report (opaque JSON), replacing the previous one.
func (s *Store) SavePrecheck(taskID int64, report json.RawMessage) error {
	if !json.Valid(report) {
		return fmt.Errorf("save precheck of task %d: report is not valid JSON", taskID)
	}
	_, err := s.db.ExecContext(context.Background(),
		`INSERT INTO prechecks(task_id, report, created) VALUES (?, ?, ?)
		 ON CONFLICT(task_id) DO UPDATE SET report = excluded.report, created = excluded.created`,
		taskID, string(report), ms(s.now()))
	if err != nil {
		return fmt.Errorf("save precheck of task %d: %w", taskID, missingTask(err, taskID))
	}
	return nil
}

// Precheck returns a task's latest precheck report, or nil if it has none.
func (s *Store) Precheck(taskID int64) (json.RawMessage, error) {
	var report string
	err := s.db.QueryRowContext(context.Background(), "SELECT report FROM prechecks WHERE task_id = ?", taskID).Scan(&report)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read precheck of task %d: %w", taskID, err)
	}
	return json.RawMessage(report), nil
}
