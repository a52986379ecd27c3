package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"tributary/engine/task"
)

func inlineTask(name string) task.Task {
	t := task.Task{Name: name,
		Source: task.Source{MySQL: *newMySQL("src-pw")},
		Destination: task.Destination{Kafka: task.Kafka{Brokers: []string{"b:9092"},
			SASL: task.SASL{Mechanism: "PLAIN", User: "u", Password: "dst-pw"}}, Topic: "topic"},
		MigrationTypes: task.MigrationTypes{Full: true, Incremental: true},
		Objects:        []task.Object{{Database: "shop", Table: "orders", Filter: "id > 10"}},
	}
	t.Defaults()
	return t
}

func TestTaskLifecycle(t *testing.T) {
	s := openTest(t)
	clock := time.UnixMilli(1_700_000_000_000)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }

	a := &TaskRecord{Spec: inlineTask("a")}
	b := &TaskRecord{Spec: inlineTask("b"), State: "paused", IgnoredWarnings: []string{"W1"}, Progress: json.RawMessage(`{"p":1}`)}
	for _, r := range []*TaskRecord{a, b} {
		if err := s.SaveTask(r); err != nil {
			t.Fatal(err)
		}
	}
	if a.ID == 0 || a.State != DefaultTaskState || a.IgnoredWarnings == nil || a.Progress != nil || a.Created.IsZero() {
		t.Errorf("after insert: %+v", a)
	}
	if a.Spec.Source.Password != "src-pw" {
		t.Error("SaveTask cleared the caller's password")
	}
	if b.State != "paused" || !reflect.DeepEqual(b.IgnoredWarnings, []string{"W1"}) || string(b.Progress) != `{"p":1}` {
		t.Errorf("insert did not keep the record's fields: %+v", b)
	}

	// Without secrets for the UI, with them for the engine; the rest round-trips exactly.
	ui, err := s.Task(a.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ui.Spec, inlineTask("a").Redacted()) {
		t.Errorf("spec round trip:\n got %+v\nwant %+v", ui.Spec, inlineTask("a").Redacted())
	}
	eng, err := s.Task(a.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(eng.Spec, inlineTask("a")) {
		t.Errorf("spec with secrets:\n got %+v\nwant %+v", eng.Spec, inlineTask("a"))
	}

	list, err := s.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("Tasks not newest first: %+v", list)
	}
	for _, r := range list {
		if r.Spec.Source.Password != "" || r.Spec.Destination.SASL.Password != "" {
			t.Error("Tasks returned a password")
		}
	}

	// Updating from what the UI holds (no passwords) keeps the stored ones, and only the spec.
	if err := s.SetTaskState(a.ID, "running", ""); err != nil {
		t.Fatal(err)
	}
	ui.Spec.Objects = append(ui.Spec.Objects, task.Object{Database: "shop", Table: "items"})
	ui.State = "stale"
	if err := s.SaveTask(ui); err != nil {
		t.Fatal(err)
	}
	eng, _ = s.Task(a.ID, true)
	if len(eng.Spec.Objects) != 2 || eng.Spec.Source.Password != "src-pw" || eng.Spec.Destination.SASL.Password != "dst-pw" {
		t.Errorf("after UI update: %+v", eng.Spec)
	}
	if eng.State != "running" || ui.State != "running" {
		t.Errorf("update changed state: stored %q, record %q", eng.State, ui.State)
	}
	if !eng.Updated.After(eng.Created) {
		t.Errorf("Updated %v not after Created %v", eng.Updated, eng.Created)
	}
	// Switching the source to a profile and the destination to PasswordEnv drops the stored ones.
	ui.Spec.Source = task.Source{Profile: "p"}
	ui.Spec.Destination.SASL.PasswordEnv = "KAFKA_PW"
	if err := s.SaveTask(ui); err != nil {
		t.Fatal(err)
	}
	eng, _ = s.Task(a.ID, true)
	if eng.Spec.Source.Password != "" || eng.Spec.Destination.SASL.Password != "" {
		t.Errorf("stale secrets kept: %q %q", eng.Spec.Source.Password, eng.Spec.Destination.SASL.Password)
	}

	// Setters.
	if err := s.SetTaskState(a.ID, "failed", "broker down"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTaskProgress(a.ID, json.RawMessage(`{"rows":5}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIgnoredWarnings(a.ID, []string{"NO_PK", "BINLOG_ROW_IMAGE"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Task(a.ID, false)
	if got.State != "failed" || got.LastError != "broker down" || string(got.Progress) != `{"rows":5}` ||
		!reflect.DeepEqual(got.IgnoredWarnings, []string{"NO_PK", "BINLOG_ROW_IMAGE"}) {
		t.Errorf("after setters: %+v", got)
	}
	if err := s.SetTaskProgress(a.ID, json.RawMessage(`{bad`)); err == nil {
		t.Error("invalid progress JSON accepted")
	}
	if err := s.SetTaskProgress(a.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIgnoredWarnings(a.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Task(a.ID, false)
	if got.Progress != nil || got.IgnoredWarnings == nil || len(got.IgnoredWarnings) != 0 {
		t.Errorf("after clearing: progress %s warnings %#v", got.Progress, got.IgnoredWarnings)
	}

	// Missing tasks.
	const missing = 424242
	for name, err := range map[string]error{
		"Task":               func() error { _, err := s.Task(missing, false); return err }(),
		"SaveTask":           s.SaveTask(&TaskRecord{ID: missing, Spec: inlineTask("x")}),
		"DeleteTask":         s.DeleteTask(missing),
		"SetTaskState":       s.SetTaskState(missing, "x", ""),
		"SetTaskProgress":    s.SetTaskProgress(missing, nil),
		"SetIgnoredWarnings": s.SetIgnoredWarnings(missing, nil),
		"StartRun":           func() error { _, err := s.StartRun(missing); return err }(),
		"EndRun":             s.EndRun(missing, "x", ""),
		"SaveCheckpoints":    s.SaveCheckpoints(missing, map[string][]byte{"k": {1}}),
		"AddEvent":           s.AddEvent(missing, "info", "x"),
		"AddSample":          s.AddSample(missing, Sample{}),
		"SavePrecheck":       s.SavePrecheck(missing, json.RawMessage(`{}`)),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on a missing task = %v, want ErrNotFound", name, err)
		}
	}
}

func TestRunsAndPrecheck(t *testing.T) {
	s := openTest(t)
	r := &TaskRecord{Spec: inlineTask("t")}
	if err := s.SaveTask(r); err != nil {
		t.Fatal(err)
	}
	run1, err := s.StartRun(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EndRun(run1, "failed", "boom"); err != nil {
		t.Fatal(err)
	}
	run2, _ := s.StartRun(r.ID)
	runs, err := s.Runs(r.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != run2 || runs[0].State != RunStateRunning || !runs[0].Ended.IsZero() ||
		runs[1].ID != run1 || runs[1].State != "failed" || runs[1].Error != "boom" || runs[1].Ended.IsZero() {
		t.Errorf("runs = %+v", runs)
	}
	if runs, _ := s.Runs(r.ID, 1); len(runs) != 1 {
		t.Errorf("Runs limit 1 = %d", len(runs))
	}

	if pc, err := s.Precheck(r.ID); pc != nil || err != nil {
		t.Errorf("no precheck yet: %s, %v", pc, err)
	}
	for _, rep := range []string{`{"items":[{"code":"A","status":"warning"}]}`, `{"items":[]}`} {
		if err := s.SavePrecheck(r.ID, json.RawMessage(rep)); err != nil {
			t.Fatal(err)
		}
		if pc, err := s.Precheck(r.ID); string(pc) != rep || err != nil {
			t.Errorf("Precheck = %s, %v, want %s", pc, err, rep)
		}
	}
	if err := s.SavePrecheck(r.ID, json.RawMessage(`nope`)); err == nil {
		t.Error("invalid report accepted")
	}
}

func TestDeleteTaskCascades(t *testing.T) {
	s := openTest(t)
	keep := &TaskRecord{Spec: inlineTask("keep")}
	gone := &TaskRecord{Spec: inlineTask("gone")}
	for _, r := range []*TaskRecord{keep, gone} {
		if err := s.SaveTask(r); err != nil {
			t.Fatal(err)
		}
		run, _ := s.StartRun(r.ID)
		s.EndRun(run, "stopped", "")
		must(t, s.SaveCheckpoints(r.ID, map[string][]byte{"pos": []byte("mysql-bin.000001:4")}))
		must(t, s.AddEvent(r.ID, "info", "started"))
		must(t, s.SavePrecheck(r.ID, json.RawMessage(`{}`)))
		must(t, s.AddSample(r.ID, Sample{RowsPerSec: 1}))
	}
	must(t, s.DeleteTask(gone.ID))
	tables := []string{"runs", "checkpoints", "events", "prechecks", "metric_samples"}
	for _, table := range tables {
		for id, want := range map[int64]int{gone.ID: 0, keep.ID: 1} {
			var n int
			if err := s.db.QueryRow("SELECT count(*) FROM "+table+" WHERE task_id = ?", id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s rows of task %d = %d, want %d", table, id, n, want)
			}
		}
	}
	if _, err := s.Task(gone.ID, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted task: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
