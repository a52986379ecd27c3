package app

import (
	"path/filepath"
	"strings"
	"testing"

	"tributary/engine/task"
	"tributary/store"
)

func newApp(t *testing.T) *App {
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, EmitterFunc(func(string, any) {}))
}

func TestProfilesNeverReturnPasswords(t *testing.T) {
	a := newApp(t)
	p, err := a.Connections.Save(store.Profile{Name: "src", Kind: "mysql", MySQL: &task.MySQL{Host: "127.0.0.1", User: "u", Password: "Pw-in-profile-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.MySQL.Password != "" || !p.HasPassword {
		t.Fatalf("saved profile came back with password %q, hasPassword %v", p.MySQL.Password, p.HasPassword)
	}
	list, _ := a.Connections.List("")
	if len(list) != 1 || list[0].MySQL.Password != "" {
		t.Fatalf("list leaks the password: %+v", list)
	}
	// Editing without a password keeps the stored one.
	p.MySQL.Host = "localhost"
	if _, err := a.Connections.Save(p); err != nil {
		t.Fatal(err)
	}
	full, _ := a.store.ProfileWithSecret("src")
	if full.MySQL.Password != "Pw-in-profile-1" {
		t.Fatalf("the stored password was lost on edit")
	}
	out, _ := a.Connections.Export(nil, false)
	if strings.Contains(out, "Pw-in-profile-1") {
		t.Fatalf("export without secrets contains the password")
	}
	out, _ = a.Connections.Export(nil, true)
	if !strings.Contains(out, "Pw-in-profile-1") {
		t.Fatalf("export with secrets lacks the password")
	}
	// Importing it elsewhere restores the profile.
	b := newApp(t)
	res, _ := b.Connections.Import(out)
	if len(res.Imported) != 1 || len(res.Errors) != 0 {
		t.Fatalf("import: %+v", res)
	}
	// Bad input names the field.
	_, err = a.Connections.Save(store.Profile{Name: "k", Kind: "kafka", Kafka: &store.KafkaProfile{Kafka: task.Kafka{Brokers: []string{"nohostport"}}}})
	if err == nil || !strings.Contains(err.Error(), "kafka.brokers[0]") {
		t.Fatalf("bad broker accepted or not named: %v", err)
	}
}

func TestTaskExportImport(t *testing.T) {
	a := newApp(t)
	if _, err := a.Connections.Save(store.Profile{Name: "src", Kind: "mysql", MySQL: &task.MySQL{Host: "127.0.0.1", User: "u", Password: "Pw-in-profile-2"}}); err != nil {
		t.Fatal(err)
	}
	spec := a.Tasks.Defaults()
	spec.Source = task.Source{Profile: "src"}
	spec.Destination = task.Destination{Kafka: task.Kafka{Brokers: []string{"127.0.0.1:9092"}, SASL: task.SASL{Mechanism: "PLAIN", User: "k", Password: "Inline-sasl-pw"}}, Topic: "t"}
	spec.Objects = []task.Object{{Database: "d", Table: "t"}}
	s, err := a.Tasks.Create(spec)
	if err != nil {
		t.Fatal(err)
	}
	file, err := a.Tasks.Export(s.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(file, "Pw-in-profile-2") || strings.Contains(file, "Inline-sasl-pw") || !strings.Contains(file, `"profile": "src"`) {
		t.Fatalf("export without secrets:\n%s", file)
	}
	withSecrets, _ := a.Tasks.Export(s.ID, true)
	if !strings.Contains(withSecrets, "Pw-in-profile-2") || !strings.Contains(withSecrets, "Inline-sasl-pw") {
		t.Fatalf("export with secrets lacks them:\n%s", withSecrets)
	}
	res, _ := a.Tasks.Import(file)
	if res.Task == nil || len(res.Errors) > 0 {
		t.Fatalf("re-import failed: %+v", res)
	}
	bad, _ := a.Tasks.Import(strings.Replace(file, `"compression": "lz4"`, `"compression": "brotli"`, 1))
	if bad.Task != nil || len(bad.Errors) == 0 || bad.Errors[0].Path != "$.compression" {
		t.Fatalf("bad import: %+v", bad)
	}
	// Starting without a precheck is refused, as in DTS.
	if err := a.Tasks.Start(s.ID); err == nil || !strings.Contains(err.Error(), "precheck") {
		t.Fatalf("start without precheck: %v", err)
	}
	// A filter that incremental migration cannot evaluate is refused when saved.
	spec.Objects[0].Filter = "UPPER(name) = 'A'"
	if _, err := a.Tasks.Create(spec); err == nil || !strings.Contains(err.Error(), "$.objects[0].filter") {
		t.Fatalf("unevaluable filter accepted: %v", err)
	}
}
