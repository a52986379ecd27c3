package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"tributary/engine/task"
)

func TestSaveProfileInvalid(t *testing.T) {
	s := openTest(t)
	for _, c := range []struct {
		name string
		p    Profile
		want string
	}{
		{"no name", Profile{Name: "  ", Kind: KindMySQL, MySQL: newMySQL("")}, "needs a name"},
		{"bad kind", Profile{Name: "x", Kind: "postgres", MySQL: newMySQL("")}, `kind is "postgres"`},
		{"mysql without settings", Profile{Name: "x", Kind: KindMySQL, Kafka: newKafka("")}, "mysql connection settings"},
		{"kafka without settings", Profile{Name: "x", Kind: KindKafka}, "kafka connection settings"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.p
			err := s.SaveProfile(&p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("SaveProfile = %v, want %q", err, c.want)
			}
		})
	}
	if ps, _ := s.Profiles(""); len(ps) != 0 {
		t.Errorf("invalid profiles were saved: %v", ps)
	}
}

func TestProfileLifecycle(t *testing.T) {
	s := openTest(t)
	m := &Profile{Name: "Prod MySQL", Kind: KindMySQL, MySQL: newMySQL("S3cr3t-Mysql-pw")}
	k := &Profile{Name: "prod kafka", Kind: KindKafka, Kafka: newKafka("Kafka-Sasl-pw-42")}
	nopw := &Profile{Name: "anon", Kind: KindKafka, Kafka: &KafkaProfile{Kafka: task.Kafka{Brokers: []string{"b:1"}}}}
	for _, p := range []*Profile{m, k, nopw} {
		if err := s.SaveProfile(p); err != nil {
			t.Fatal(err)
		}
		if p.ID == 0 || p.Created.IsZero() || p.Updated.IsZero() {
			t.Errorf("after insert: %+v", p)
		}
	}
	if !m.HasPassword || !k.HasPassword || nopw.HasPassword {
		t.Errorf("HasPassword = %v %v %v", m.HasPassword, k.HasPassword, nopw.HasPassword)
	}
	if m.MySQL.Password != "S3cr3t-Mysql-pw" {
		t.Error("SaveProfile changed the caller's password field")
	}

	// Reads for the UI carry no password; the engine's read does.
	got, err := s.Profile("PROD mysql")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != m.ID || got.MySQL.Password != "" || !got.HasPassword || got.MySQL.Host != "127.0.0.1" || got.Kafka != nil {
		t.Errorf("Profile = %+v %+v", got, got.MySQL)
	}
	withPw, err := s.ProfileWithSecret("Prod MySQL")
	if err != nil || withPw.MySQL.Password != "S3cr3t-Mysql-pw" {
		t.Errorf("ProfileWithSecret = %+v, %v", withPw, err)
	}
	kk, err := s.ProfileByID(k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if kk.Kafka.SASL.Password != "" || kk.Kafka.SASL.User != "tributary" || kk.Kafka.Topic != "dts" ||
		kk.Kafka.DDLTopic != "dts-ddl" || kk.Kafka.SchemaRegistryURL != "http://registry:8081" || kk.Kafka.Version != "2.8.0" {
		t.Errorf("ProfileByID = %+v", kk.Kafka)
	}
	b, _ := json.Marshal(kk)
	if !strings.Contains(string(b), `"hasPassword":true`) || !strings.Contains(string(b), `"schemaRegistryUrl"`) {
		t.Errorf("JSON %s", b)
	}

	// Listing.
	for _, c := range []struct {
		kind string
		want []string
	}{
		{"", []string{"anon", "prod kafka", "Prod MySQL"}}, // by name, case-insensitively
		{KindMySQL, []string{"Prod MySQL"}},
		{KindKafka, []string{"anon", "prod kafka"}},
		{"nothing", nil},
	} {
		ps, err := s.Profiles(c.kind)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
			if p.MySQL != nil && p.MySQL.Password != "" || p.Kafka != nil && p.Kafka.SASL.Password != "" {
				t.Errorf("Profiles returned a password for %q", p.Name)
			}
		}
		if strings.Join(names, ",") != strings.Join(c.want, ",") {
			t.Errorf("Profiles(%q) = %v, want %v", c.kind, names, c.want)
		}
	}

	// Names are unique, case-insensitively, on insert and on update.
	dup := &Profile{Name: "PROD MYSQL", Kind: KindMySQL, MySQL: newMySQL("")}
	if err := s.SaveProfile(dup); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate insert = %v", err)
	}
	ren := *k
	ren.Name = "prod mysql"
	if err := s.SaveProfile(&ren); !errors.Is(err, ErrExists) {
		t.Errorf("rename onto another profile = %v", err)
	}

	// Update with an empty password keeps the stored one.
	ui, _ := s.Profile("Prod MySQL")
	ui.MySQL.Port = 3307
	if err := s.SaveProfile(ui); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.ProfileWithSecret("Prod MySQL"); p.MySQL.Password != "S3cr3t-Mysql-pw" || p.MySQL.Port != 3307 || !p.Created.Equal(m.Created) {
		t.Errorf("after update without password: %+v %+v", p, p.MySQL)
	}
	// A new password replaces it.
	ui.MySQL.Password = "new-pw"
	if err := s.SaveProfile(ui); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.ProfileWithSecret("Prod MySQL"); p.MySQL.Password != "new-pw" {
		t.Errorf("after password change: %q", p.MySQL.Password)
	}
	// Switching to a password from the environment drops the stored one.
	ui.MySQL.Password, ui.MySQL.PasswordEnv = "", "MYSQL_PW"
	if err := s.SaveProfile(ui); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.ProfileWithSecret("Prod MySQL"); p.MySQL.Password != "" || p.HasPassword || p.MySQL.PasswordEnv != "MYSQL_PW" {
		t.Errorf("after PasswordEnv: %+v", p.MySQL)
	}

	// A kind cannot change; an unknown ID is not found.
	bad := &Profile{ID: m.ID, Name: "Prod MySQL", Kind: KindKafka, Kafka: newKafka("")}
	if err := s.SaveProfile(bad); err == nil || !strings.Contains(err.Error(), "cannot become") {
		t.Errorf("kind change = %v", err)
	}
	ghost := &Profile{ID: 999, Name: "ghost", Kind: KindMySQL, MySQL: newMySQL("")}
	if err := s.SaveProfile(ghost); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of missing profile = %v", err)
	}
	for _, err := range []error{
		func() error { _, err := s.Profile("nope"); return err }(),
		func() error { _, err := s.ProfileWithSecret("nope"); return err }(),
		func() error { _, err := s.ProfileByID(12345); return err }(),
		s.DeleteProfile(12345),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("missing profile: %v, want ErrNotFound", err)
		}
	}

	if err := s.DeleteProfile(nopw.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ProfileByID(nopw.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestProfileReferencedByTasks(t *testing.T) {
	s := openTest(t)
	m := &Profile{Name: "src", Kind: KindMySQL, MySQL: newMySQL("pw")}
	k := &Profile{Name: "dst", Kind: KindKafka, Kafka: newKafka("pw")}
	other := &Profile{Name: "other", Kind: KindKafka, Kafka: newKafka("")}
	for _, p := range []*Profile{m, k, other} {
		if err := s.SaveProfile(p); err != nil {
			t.Fatal(err)
		}
	}
	r := &TaskRecord{Spec: task.Task{Name: "orders",
		Source: task.Source{Profile: "SRC"}, Destination: task.Destination{Profile: "dst", Topic: "t"}}}
	if err := s.SaveTask(r); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Profile{m, k} {
		err := s.DeleteProfile(p.ID)
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), `"orders"`) || !strings.Contains(err.Error(), p.Name) {
			t.Errorf("delete %q = %v, want ErrInUse naming the task", p.Name, err)
		}
	}
	// A source reference does not hold a kafka profile of the same name, and vice versa.
	if err := s.DeleteProfile(other.ID); err != nil {
		t.Errorf("delete unreferenced profile: %v", err)
	}

	// Renaming a profile renames it in the tasks that use it.
	m.Name = "source-renamed"
	m.MySQL.Password = ""
	if err := s.SaveProfile(m); err != nil {
		t.Fatal(err)
	}
	got, err := s.Task(r.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Source.Profile != "source-renamed" || got.Spec.Destination.Profile != "dst" || got.Spec.Name != "orders" {
		t.Errorf("after rename: source %q destination %q", got.Spec.Source.Profile, got.Spec.Destination.Profile)
	}
	if p, _ := s.ProfileWithSecret("source-renamed"); p.MySQL.Password != "pw" {
		t.Error("rename lost the password")
	}

	if err := s.DeleteTask(r.ID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Profile{m, k} {
		if err := s.DeleteProfile(p.ID); err != nil {
			t.Errorf("delete %q after its task is gone: %v", p.Name, err)
		}
	}
}
