package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// Secrets at rest.
//
// Every password (profile passwords, inline task passwords) is sealed with AES-256-GCM before
// it reaches SQLite, into its own BLOB column; the JSON documents stored beside it never hold
// a password. The 32-byte key is random and kept in a key file next to the database,
// <dbdir>/tributary.key, created with mode 0600 in a directory created 0700. The store refuses
// a key file that group or others can access.
//
// The OS keychain (macOS Keychain, Windows Credential Manager, Secret Service) is NOT used yet:
// the key file protects secrets from anyone who gets the database alone (a backup, a bug
// report, a copied file) but not from someone who can read the user's files. Moving the key
// into the keychain later only changes where loadSealer gets the 32 bytes; sealed blobs start
// with a format byte so that such a change can be told apart.
//
// Sealed blob layout: format byte 0x01 | 12-byte random nonce | AES-256-GCM ciphertext+tag.
// The additional data is "tributary/" + purpose (for example "profile"), so a blob copied into
// a column of another kind does not open.

// KeyFileName is the name of the key file in the database's directory.
const KeyFileName = "tributary.key"

const (
	keySize        = 32
	sealFormatV1   = 0x01
	keyCheckMeta   = "secrets.keycheck"
	keyCheckText   = "tributary key check"
	purposeCheck   = "keycheck"
	purposeProfile = "profile"
	purposeSource  = "task/source"
	purposeDest    = "task/destination"
)

type sealer struct {
	aead    cipher.AEAD
	keyPath string
}

func newSealer(key []byte, keyPath string) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, keyPath: keyPath}, nil
}

// seal encrypts a secret; an empty secret seals to nil (stored as NULL).
func (s *sealer) seal(purpose, plain string) ([]byte, error) {
	if plain == "" {
		return nil, nil
	}
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	out[0] = sealFormatV1
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return nil, fmt.Errorf("seal secret: random nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:1+ns], []byte(plain), []byte("tributary/"+purpose)), nil
}

// open decrypts a sealed secret; nil opens to "".
func (s *sealer) open(purpose string, blob []byte) (string, error) {
	if len(blob) == 0 {
		return "", nil
	}
	ns := s.aead.NonceSize()
	if blob[0] != sealFormatV1 || len(blob) < 1+ns+s.aead.Overhead() {
		return "", errors.New("stored secret has an unknown format")
	}
	plain, err := s.aead.Open(nil, blob[1:1+ns], blob[1+ns:], []byte("tributary/"+purpose))
	if err != nil {
		return "", fmt.Errorf("stored secret does not decrypt with key file %s (was the key file replaced?); re-enter the password", s.keyPath)
	}
	return string(plain), nil
}

// loadSealer reads the key file, or creates it when the database holds no sealed secret yet,
// and checks that the key is the one the database's secrets were sealed with.
func loadSealer(ctx context.Context, db *sql.DB, keyPath string) (*sealer, error) {
	var check []byte
	err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", keyCheckMeta).Scan(&check)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load secrets key: %w", err)
	}
	key, err := readKeyFile(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		if check != nil {
			return nil, fmt.Errorf("load secrets key: key file %s is missing, and the database's stored passwords "+
				"were sealed with it; restore the key file from a backup, or move the database aside to start afresh",
				keyPath)
		}
		key, err = createKeyFile(keyPath)
	}
	if err != nil {
		return nil, err
	}
	s, err := newSealer(key, keyPath)
	if err != nil {
		return nil, fmt.Errorf("load secrets key %s: %w", keyPath, err)
	}
	if check != nil {
		if got, err := s.open(purposeCheck, check); err != nil || got != keyCheckText {
			return nil, fmt.Errorf("load secrets key: key file %s is not the key this database's passwords were "+
				"sealed with; restore the matching key file", keyPath)
		}
		return s, nil
	}
	blob, err := s.seal(purposeCheck, keyCheckText)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", keyCheckMeta, blob); err != nil {
		return nil, fmt.Errorf("load secrets key: record key check: %w", err)
	}
	return s, nil
}

// readKeyFile reads a key file, refusing one that other users could read.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read key file %s: not a regular file", path)
	}
	// Windows has no Unix permission bits; the file sits in the user's profile directory.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %04o, which lets other users read the key that protects "+
			"stored passwords; run `chmod 600 %s` and try again", path, fi.Mode().Perm(), path)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("key file %s is damaged: it holds %d bytes, want %d; restore it from a backup",
			path, len(key), keySize)
	}
	return key, nil
}

// createKeyFile writes a new random key with mode 0600. The key is written to a temporary file
// and hard-linked into place, so no reader ever sees a half-written key file; if another
// process created the file first, its key is used.
func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, fmt.Errorf("create key file %s: random key: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tributary.key-*")
	if err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600) // CreateTemp uses 0600 already; be explicit
	if runtime.GOOS == "windows" {
		err = nil
	}
	if err == nil {
		_, err = f.Write(key)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, path)
		if errors.Is(err, os.ErrExist) {
			return readKeyFile(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // make the new directory entry durable; best effort
		d.Close()
	}
	return key, nil
}
