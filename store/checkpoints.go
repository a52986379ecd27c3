package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// SaveCheckpoints upserts a task's checkpoint entries in one transaction: after a crash either
// all of kv is stored or none of it is. A nil value deletes its key (a finished chunk's entry,
// say, removed in the same commit that records the position past it); an empty non-nil value
// is stored as empty. The commit is durable when SaveCheckpoints returns (WAL with
// synchronous=FULL).
func (s *Store) SaveCheckpoints(taskID int64, kv map[string][]byte) error {
	if len(kv) == 0 {
		return nil
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ctx := context.Background()
	now := ms(s.now())
	err := s.tx(ctx, func(tx *sql.Tx) error {
		up, err := tx.PrepareContext(ctx, `INSERT INTO checkpoints(task_id, key, value, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT(task_id, key) DO UPDATE SET value = excluded.value, updated = excluded.updated`)
		if err != nil {
			return err
		}
		defer up.Close()
		del, err := tx.PrepareContext(ctx, "DELETE FROM checkpoints WHERE task_id = ? AND key = ?")
		if err != nil {
			return err
		}
		defer del.Close()
		for _, k := range keys {
			v := kv[k]
			if v == nil {
				_, err = del.ExecContext(ctx, taskID, k)
			} else {
				_, err = up.ExecContext(ctx, taskID, k, append([]byte{}, v...), now)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save checkpoints of task %d: %w", taskID, missingTask(err, taskID))
	}
	return nil
}

// Checkpoints returns a task's checkpoint entries (empty, not nil, when there are none).
func (s *Store) Checkpoints(taskID int64) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(context.Background(), "SELECT key, value FROM checkpoints WHERE task_id = ?", taskID)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints of task %d: %w", taskID, err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read checkpoints of task %d: %w", taskID, err)
		}
		if v == nil {
			v = []byte{}
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checkpoints of task %d: %w", taskID, err)
	}
	return out, nil
}

// ClearCheckpoints deletes a task's checkpoint entries, so its next run starts from scratch.
func (s *Store) ClearCheckpoints(taskID int64) error {
	if _, err := s.db.ExecContext(context.Background(), "DELETE FROM checkpoints WHERE task_id = ?", taskID); err != nil {
		return fmt.Errorf("clear checkpoints of task %d: %w", taskID, err)
	}
	return nil
}
