package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one numbered schema step. Steps are append-only: never edit a released step,
// add a new one. Migration i (0-based) brings the schema from version i to version i+1; the
// version is kept in PRAGMA user_version, which lives in the database header and changes
// atomically with the step's transaction.
type migration struct {
	name string
	sql  string
}

var migrations = []migration{
	{name: "core tables", sql: `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;

CREATE TABLE profiles (
	id       INTEGER PRIMARY KEY,
	name     TEXT NOT NULL COLLATE NOCASE UNIQUE,
	kind     TEXT NOT NULL CHECK (kind IN ('mysql', 'kafka')),
	config   TEXT NOT NULL,             -- JSON, password stripped
	secret   BLOB,                      -- sealed password, NULL = none
	created  INTEGER NOT NULL,          -- Unix ms
	updated  INTEGER NOT NULL
) STRICT;

CREATE TABLE tasks (
	id               INTEGER PRIMARY KEY,
	name             TEXT NOT NULL,
	spec             TEXT NOT NULL,     -- task.Task JSON, passwords stripped
	source_secret    BLOB,              -- sealed Source.Password
	dest_secret      BLOB,              -- sealed Destination.SASL.Password
	state            TEXT NOT NULL,
	last_error       TEXT NOT NULL DEFAULT '',
	ignored_warnings TEXT NOT NULL DEFAULT '[]',
	progress         TEXT,
	created          INTEGER NOT NULL,
	updated          INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
	id       INTEGER PRIMARY KEY,
	task_id  INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	started  INTEGER NOT NULL,
	ended    INTEGER,
	state    TEXT NOT NULL,
	error    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX runs_task ON runs(task_id, id);

CREATE TABLE checkpoints (
	task_id  INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	key      TEXT NOT NULL,
	value    BLOB NOT NULL,
	updated  INTEGER NOT NULL,
	PRIMARY KEY (task_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
	id       INTEGER PRIMARY KEY,
	task_id  INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	time     INTEGER NOT NULL,
	level    TEXT NOT NULL,
	message  TEXT NOT NULL
) STRICT;
CREATE INDEX events_task ON events(task_id, id);

CREATE TABLE prechecks (
	task_id  INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
	report   TEXT NOT NULL,
	created  INTEGER NOT NULL
) STRICT;
`},
	{name: "metric samples and settings", sql: `
CREATE TABLE metric_samples (
	id            INTEGER PRIMARY KEY,
	task_id       INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	time          INTEGER NOT NULL,
	rows_per_sec  REAL NOT NULL,
	mb_per_sec    REAL NOT NULL,
	latency_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX metric_samples_task ON metric_samples(task_id, id);
CREATE INDEX metric_samples_time ON metric_samples(task_id, time);

CREATE TABLE settings (
	key    TEXT PRIMARY KEY,
	value  TEXT NOT NULL
) STRICT;
`},
}

// migrate applies the migrations the database lacks, up to version target, each in its own
// transaction. The version is re-read inside each transaction (which holds the write lock), so
// two processes opening the same file at once do not apply a step twice.
func migrate(ctx context.Context, db *sql.DB, path string, target int) error {
	if target > len(migrations) {
		return fmt.Errorf("migrate %s: no schema version %d", path, target)
	}
	for {
		done, err := migrateStep(ctx, db, path, target)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

func migrateStep(ctx context.Context, db *sql.DB, path string, target int) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate %s: %w", path, err)
	}
	defer tx.Rollback()
	v, err := userVersion(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("migrate %s: read schema version: %w", path, err)
	}
	if err := checkVersion(path, v); err != nil {
		return false, err
	}
	if v >= target {
		return true, nil
	}
	m := migrations[v]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate %s to schema version %d (%s): %w", path, v+1, m.name, err)
	}
	// PRAGMA does not take bound parameters; v+1 is an int we computed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("migrate %s to schema version %d: set version: %w", path, v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %s to schema version %d (%s): commit: %w", path, v+1, m.name, err)
	}
	return v+1 >= target, nil
}
