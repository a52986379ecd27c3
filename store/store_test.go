package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state", "tributary.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "tributary.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
	var v int
	var mode, fk, sync, busy string
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion() || v < 2 {
		t.Errorf("user_version = %d, want %d (>= 2)", v, SchemaVersion())
	}
	for _, c := range []struct {
		pragma string
		dst    *string
		want   string
	}{
		{"journal_mode", &mode, "wal"},
		{"foreign_keys", &fk, "1"},
		{"synchronous", &sync, "2"}, // FULL
		{"busy_timeout", &busy, "10000"},
	} {
		if err := s.db.QueryRow("PRAGMA " + c.pragma).Scan(c.dst); err != nil {
			t.Fatal(err)
		}
		if *c.dst != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, *c.dst, c.want)
		}
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, filepath.Join(dir, KeyFileName): 0o600} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("mode of %s = %04o, want %04o", p, got, want)
			}
		}
	}
	// Reopening an up-to-date file is a no-op.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

func TestOpenNewerVersionUntouched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tributary.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Make it a rollback-journal file so that Open's WAL switch would show in the header.
	raw, err := openDB(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA journal_mode = DELETE"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi0, _ := os.Stat(path)

	_, err = Open(path)
	if !errors.Is(err, ErrNewerVersion) {
		t.Fatalf("Open = %v, want ErrNewerVersion", err)
	}
	for _, want := range []string{path, "999", "newer", "untouched"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	after, _ := os.ReadFile(path)
	fi1, _ := os.Stat(path)
	if !bytes.Equal(before, after) || !fi0.ModTime().Equal(fi1.ModTime()) {
		t.Error("Open changed a database from a newer version")
	}
	if v := binary.BigEndian.Uint32(after[60:64]); v != 999 {
		t.Errorf("user_version now %d", v)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("Open left %s behind", path+suffix)
		}
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tributary.db")
	junk := []byte(strings.Repeat("this is not sqlite\n", 20))
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "not a SQLite database") {
		t.Fatalf("Open = %v, want a not-a-database error", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, junk) {
		t.Error("Open changed a file that is not a database")
	}
}
