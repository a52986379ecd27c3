package store

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"tributary/engine/task"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, keySize)
	s, err := newSealer(key, "k")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.seal(purposeProfile, "pw")
	b, _ := s.seal(purposeProfile, "pw")
	if bytes.Equal(a, b) {
		t.Error("two seals of one secret are equal: nonce not random")
	}
	if bytes.Contains(a, []byte("pw")) || a[0] != sealFormatV1 {
		t.Errorf("sealed blob %x", a)
	}
	if got, err := s.open(purposeProfile, a); err != nil || got != "pw" {
		t.Errorf("open = %q, %v", got, err)
	}
	if _, err := s.open(purposeSource, a); err == nil {
		t.Error("a profile secret opened as a task secret")
	}
	a[len(a)-1] ^= 1
	if _, err := s.open(purposeProfile, a); err == nil {
		t.Error("a tampered secret opened")
	}
	if blob, _ := s.seal(purposeProfile, ""); blob != nil {
		t.Error("empty secret sealed to non-nil")
	}
	if got, err := s.open(purposeProfile, nil); got != "" || err != nil {
		t.Error("nil blob did not open to empty")
	}
}

func TestKeyFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tributary.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	keyPath := filepath.Join(dir, KeyFileName)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(keyPath, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil || !strings.Contains(err.Error(), keyPath) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: Open = %v, want an error naming the key file and chmod 600", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		os.Chmod(keyPath, mode)
		s, err := Open(path)
		if err != nil {
			t.Errorf("mode %04o: %v", mode, err)
			continue
		}
		s.Close()
	}
}

func TestKeyFileMissingOrReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tributary.db")
	keyPath := filepath.Join(dir, KeyFileName)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveProfile(&Profile{Name: "m", Kind: KindMySQL, MySQL: newMySQL("pw")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	key, _ := os.ReadFile(keyPath)

	os.Remove(keyPath)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), keyPath) {
		t.Errorf("Open without key file = %v", err)
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Error("Open created a new key for a database whose secrets need the old one")
	}
	os.WriteFile(keyPath, bytes.Repeat([]byte{1}, keySize), 0o600)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "not the key") {
		t.Errorf("Open with another key = %v", err)
	}
	os.WriteFile(keyPath, []byte("short"), 0o600)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("Open with a short key = %v", err)
	}
	os.WriteFile(keyPath, key, 0o600)
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, err := s.ProfileWithSecret("m"); err != nil || p.MySQL.Password != "pw" {
		t.Errorf("after restoring the key: %v, %v", p, err)
	}
}

// The passwords must not be anywhere in the database, its WAL or its shared-memory file: not
// as plain text, not base64-encoded, not hex-encoded.
func TestNoPlaintextSecretsOnDisk(t *testing.T) {
	secrets := []string{"S3cr3t-Mysql-pw", "Kafka-Sasl-pw-42", "Inline-Src-pw-7", "Inline-Dst-pw-8", "Updated-Mysql-pw-9"}
	dir := t.TempDir()
	path := filepath.Join(dir, "tributary.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m := &Profile{Name: "mysql", Kind: KindMySQL, MySQL: newMySQL(secrets[0])}
	k := &Profile{Name: "kafka", Kind: KindKafka, Kafka: newKafka(secrets[1])}
	for _, p := range []*Profile{m, k} {
		if err := s.SaveProfile(p); err != nil {
			t.Fatal(err)
		}
	}
	m.MySQL.Password = secrets[4]
	if err := s.SaveProfile(m); err != nil {
		t.Fatal(err)
	}
	byProfile := TaskRecord{Spec: task.Task{Name: "by-profile",
		Source:      task.Source{Profile: "mysql"},
		Destination: task.Destination{Profile: "kafka", Topic: "t"}}}
	inline := TaskRecord{Spec: task.Task{Name: "inline",
		Source: task.Source{MySQL: *newMySQL(secrets[2])},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: []string{"b:9092"},
			SASL: task.SASL{Mechanism: "PLAIN", User: "u", Password: secrets[3]}}, Topic: "t"}}}
	for _, r := range []*TaskRecord{&byProfile, &inline} {
		if err := s.SaveTask(r); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveTask(r); err != nil { // update path too
			t.Fatal(err)
		}
	}
	// The engine gets them back.
	if p, _ := s.ProfileWithSecret("mysql"); p.MySQL.Password != secrets[4] {
		t.Errorf("ProfileWithSecret password %q", p.MySQL.Password)
	}
	if r, _ := s.Task(inline.ID, true); r.Spec.Source.Password != secrets[2] || r.Spec.Destination.SASL.Password != secrets[3] {
		t.Errorf("Task(withSecrets) passwords %q %q", r.Spec.Source.Password, r.Spec.Destination.SASL.Password)
	}
	// The UI does not.
	ps, _ := s.Profiles("")
	ts, _ := s.Tasks()
	p1, _ := s.Profile("mysql")
	t1, _ := s.Task(inline.ID, false)
	ui, _ := json.Marshal([]any{ps, ts, p1, t1})
	assertNoSecrets(t, "UI values", ui, secrets)

	assertNoSecrets(t, "open database files", readDBFiles(t, path), secrets)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, "closed database files", readDBFiles(t, path), secrets)
}

func readDBFiles(t *testing.T, path string) []byte {
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) < 4096 {
		t.Fatalf("database files hold only %d bytes", len(all))
	}
	return all
}

func assertNoSecrets(t *testing.T, where string, data []byte, secrets []string) {
	t.Helper()
	for _, found := range findSecrets(data, secrets) {
		t.Errorf("%s contain %s", where, found)
	}
}

// findSecrets returns the secrets found in data, with the form they were found in.
func findSecrets(data []byte, secrets []string) []string {
	var found []string
	lower := bytes.ToLower(data)
	for _, sec := range secrets {
		forms := map[string]string{
			"plain":      sec,
			"base64":     base64.StdEncoding.EncodeToString([]byte(sec)),
			"base64 url": base64.RawURLEncoding.EncodeToString([]byte(sec)),
			"hex":        hex.EncodeToString([]byte(sec)),
			"utf-16":     string(bytes.Join(bytes.Split([]byte(sec), nil), []byte{0})),
		}
		// base64 of the secret at the other two alignments, without the edges that depend on
		// the neighbouring bytes.
		for shift := 1; shift <= 2; shift++ {
			enc := base64.StdEncoding.EncodeToString(append(make([]byte, shift), sec...))
			forms["base64 shifted "+strings.Repeat("+", shift)] = enc[4 : len(enc)-4]
		}
		for name, form := range forms {
			if bytes.Contains(lower, bytes.ToLower([]byte(form))) {
				found = append(found, fmt.Sprintf("secret %q (%s form)", sec, name))
			}
		}
	}
	return found
}

func TestFindSecretsDetects(t *testing.T) {
	sec := "S3cr3t-Mysql-pw"
	for _, planted := range []string{
		sec,
		base64.StdEncoding.EncodeToString([]byte(sec)),
		base64.StdEncoding.EncodeToString([]byte("x" + sec + "y")),
		base64.StdEncoding.EncodeToString([]byte("xy" + sec)),
		hex.EncodeToString([]byte(sec)),
	} {
		if len(findSecrets([]byte("...."+planted+"...."), []string{sec})) == 0 {
			t.Errorf("planted %q not found", planted)
		}
	}
	if f := findSecrets([]byte("nothing here"), []string{sec}); len(f) != 0 {
		t.Errorf("found %v in clean data", f)
	}
}
