package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns an application setting. A setting never set returns ErrNotFound (wrapped),
// so callers can tell it from one set to "".
func (s *Store) Setting(key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(context.Background(), "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read setting %q: %w", key, err)
	}
	return v, nil
}

// SetSetting stores an application setting. Settings are not sealed: never store a secret here.
func (s *Store) SetSetting(key, value string) error {
	_, err := s.db.ExecContext(context.Background(),
		"INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
	if err != nil {
		return fmt.Errorf("save setting %q: %w", key, err)
	}
	return nil
}
