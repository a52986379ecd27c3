// Package store keeps all of Tributary's local state in one SQLite file: connection profiles,
// tasks, runs, checkpoints, precheck reports, the event log, metric samples and settings.
//
// The file is opened in WAL mode with synchronous=FULL (a committed checkpoint survives a crash
// or power loss), foreign keys on, and a busy timeout for the case where a second process (the
// window and `tributary run` on the same file) writes at the same time. Inside one process every
// statement goes through a single connection, so concurrent callers queue in database/sql
// instead of failing with SQLITE_BUSY.
//
// Passwords are never written in plain text: they are sealed with AES-256-GCM (see secrets.go)
// into their own columns and stripped from every stored JSON document.
package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
)

// ErrNotFound is returned (wrapped) when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned (wrapped) when a name is already taken.
var ErrExists = errors.New("already exists")

// ErrInUse is returned (wrapped) when a row cannot be deleted because something refers to it.
var ErrInUse = errors.New("in use")

// ErrNewerVersion is returned (wrapped) by Open when the file was written by a newer Tributary.
var ErrNewerVersion = errors.New("database is from a newer version of Tributary")

// busyTimeout is how long a statement waits for another process's write lock.
const busyTimeout = 10 * time.Second

// Store is the local database. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	path   string
	sealer *sealer
	now    func() time.Time
}

// Open opens (creating if needed) the database at path and brings its schema up to date. The
// parent directory is created with mode 0700 and the secrets key file lives next to the
// database (see secrets.go). A database written by a newer Tributary is refused untouched.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: no database path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	path = abs
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: create directory %s: %w", dir, err)
	}

	// Look at the header before SQLite does anything to the file (such as switching it to
	// WAL), so that a newer or foreign file is left exactly as it was.
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	// Create the file ourselves so it is private to the user: SQLite would use 0644. The
	// -wal and -shm files inherit the database file's mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("open store: create %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("open store: create %s: %w", path, err)
	}

	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, now: time.Now}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init checks the schema version, switches to WAL, migrates and loads the sealer.
func (s *Store) init() error {
	ctx := context.Background()
	// The header check above cannot see a version bump still sitting in a WAL file; ask
	// SQLite too, before anything writes.
	v, err := userVersion(ctx, s.db)
	if err != nil {
		return fmt.Errorf("open store %s: read schema version: %w (is it a Tributary database?)", s.path, err)
	}
	if err := checkVersion(s.path, v); err != nil {
		return err
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("open store %s: enable WAL: %w", s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("open store %s: enable WAL: journal mode is %q (is the directory on a network file system?)", s.path, mode)
	}
	if err := migrate(ctx, s.db, s.path, len(migrations)); err != nil {
		return err
	}
	sl, err := loadSealer(ctx, s.db, filepath.Join(filepath.Dir(s.path), KeyFileName))
	if err != nil {
		return err
	}
	s.sealer = sl
	return nil
}

// openDB opens the file with the per-connection settings in the DSN, so that a connection the
// pool opens again later gets them too.
func openDB(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// FULL: with WAL, NORMAL may lose the last commits on power loss; a checkpoint the engine
	// was told is committed must survive.
	q.Add("_pragma", "synchronous(FULL)")
	// Write transactions take the write lock at BEGIN, so a second process waits in the busy
	// handler instead of failing with SQLITE_BUSY when it upgrades a read lock.
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and a single connection means callers in
	// this process queue in database/sql rather than meet SQLITE_BUSY. Never keep it idle-closed:
	// closing the last connection checkpoints the WAL, which is needless work.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// Close closes the database. The last connection checkpoints and removes the WAL file.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

var sqliteMagic = []byte("SQLite format 3\x00")

// checkHeader reads the SQLite header of an existing file: it must be a SQLite database, and
// its user_version (the schema version, a big-endian uint32 at offset 60) must not be newer
// than this build's.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	defer f.Close()
	hdr := make([]byte, 100)
	n, err := io.ReadFull(f, hdr)
	if n == 0 && (err == io.EOF) {
		return nil // empty file: a new database
	}
	if err != nil || !bytes.Equal(hdr[:16], sqliteMagic) {
		return fmt.Errorf("open store %s: not a SQLite database; move it aside or choose another file", path)
	}
	return checkVersion(path, int(binary.BigEndian.Uint32(hdr[60:64])))
}

func checkVersion(path string, v int) error {
	if v > len(migrations) {
		return errorf(ErrNewerVersion, "open store %s: the database is from a newer version of Tributary "+
			"(schema version %d; this build knows up to %d); the file was left untouched — "+
			"use the newer Tributary that wrote it", path, v, len(migrations))
	}
	if v < 0 {
		return fmt.Errorf("open store %s: invalid schema version %d", path, v)
	}
	return nil
}

func userVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// sqliteCode returns the (extended) SQLite result code inside err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

const (
	codeConstraintForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	codeConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
)

// kindError is an error whose message is its own but which matches a sentinel with errors.Is,
// so messages do not end in a redundant ": already exists".
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// missingTask turns a foreign-key failure on task_id into ErrNotFound.
func missingTask(err error, id int64) error {
	if sqliteCode(err) == codeConstraintForeignKey {
		return fmt.Errorf("task %d: %w", id, ErrNotFound)
	}
	return err
}

// ms and fromMS store times as Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v) }

// tx runs fn in one write transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
