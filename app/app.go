// Package app is what the UI calls: one service per console area, plain structs in and out,
// events through one Emitter. The services are bound to Wails in the window and served over
// HTTP+JSON with server-sent events by `tributary serve` (see API.md). No migration logic
// lives here: it resolves profiles, stores state and drives the engine.
package app

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"tributary/engine/task"
	"tributary/store"
)

// Version is set by main from the build.
var Version = "dev"

// Emitter delivers events to the UI (Wails runtime events or server-sent events).
type Emitter interface {
	Emit(name string, data any)
}

// EmitterFunc adapts a function.
type EmitterFunc func(name string, data any)

// Emit calls f.
func (f EmitterFunc) Emit(name string, data any) { f(name, data) }

// Fanout is an Emitter with late-bound subscribers (the Wails runtime is only known at start-up).
type Fanout struct {
	mu   sync.RWMutex
	subs []Emitter
}

// Add subscribes e.
func (f *Fanout) Add(e Emitter) {
	f.mu.Lock()
	f.subs = append(f.subs, e)
	f.mu.Unlock()
}

// Emit sends to every subscriber.
func (f *Fanout) Emit(name string, data any) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, s := range f.subs {
		s.Emit(name, data)
	}
}

// App holds the services.
type App struct {
	store *store.Store
	emit  Emitter
	runs  *runs
	// latencyAlerted holds, per task id, when its last latency alert went out.
	latencyAlerted sync.Map

	Connections *Connections
	Catalog     *Catalog
	Tasks       *Tasks
	Precheck    *Precheck
	Settings    *Settings
	System      *System
}

// New builds the services over a store.
func New(st *store.Store, em Emitter) *App {
	a := &App{store: st, emit: em}
	a.runs = &runs{app: a, active: map[int64]*activeRun{}}
	a.Connections = &Connections{a}
	a.Catalog = &Catalog{a}
	a.Tasks = &Tasks{a}
	a.Precheck = &Precheck{a: a}
	a.Settings = &Settings{a}
	a.System = &System{}
	return a
}

// Services lists the bound services (Wails Bind and the HTTP transport).
func (a *App) Services() []any {
	return []any{a.Connections, a.Catalog, a.Tasks, a.Precheck, a.Settings, a.System}
}

// Shutdown pauses every running task and waits for them to save their checkpoints.
func (a *App) Shutdown() { a.runs.stopAll("Paused") }

// RecoverInterrupted marks tasks left Running by a crash or kill as Paused, so the user (or
// --resume) can resume them from their checkpoints.
func (a *App) RecoverInterrupted() {
	recs, err := a.store.Tasks()
	if err != nil {
		return
	}
	for _, r := range recs {
		switch r.State {
		case StateRunning, StateRetrying, StatePrechecking:
			next := StatePaused
			if r.State == StatePrechecking {
				next = StateNotStarted
			}
			_ = a.store.SetTaskState(r.ID, next, "")
			_ = a.store.AddEvent(r.ID, "warn", "Tributary stopped while the task was "+r.State+"; it is now "+next+" and resumes from its last checkpoint")
		}
	}
}

// Resolve fills a task's profile references with the saved connections, secrets included, for
// the engine. The result is never returned to the UI.
func (a *App) Resolve(spec task.Task) (*task.Task, error) {
	return Resolve(a.store, spec)
}

// Resolve is App.Resolve over any store (used by `tributary run`).
func Resolve(st *store.Store, spec task.Task) (*task.Task, error) {
	t := spec
	t.Objects = append([]task.Object(nil), spec.Objects...)
	if name := t.Source.Profile; name != "" {
		p, err := st.ProfileWithSecret(name)
		if err != nil {
			return nil, profileErr("$.source.profile", name, "mysql", err)
		}
		if p.Kind != store.KindMySQL || p.MySQL == nil {
			return nil, fmt.Errorf("$.source.profile: %q is a %s connection, not a MySQL one", name, p.Kind)
		}
		t.Source.MySQL = *p.MySQL
	}
	if name := t.Destination.Profile; name != "" {
		p, err := st.ProfileWithSecret(name)
		if err != nil {
			return nil, profileErr("$.destination.profile", name, "kafka", err)
		}
		if p.Kind != store.KindKafka || p.Kafka == nil {
			return nil, fmt.Errorf("$.destination.profile: %q is a %s connection, not a Kafka one", name, p.Kind)
		}
		t.Destination.Kafka = p.Kafka.Kafka
		if t.Destination.Topic == "" {
			t.Destination.Topic = p.Kafka.Topic
		}
		if t.Destination.DDLTopic == "" {
			t.Destination.DDLTopic = p.Kafka.DDLTopic
		}
		if t.Destination.SchemaRegistry.URL == "" {
			t.Destination.SchemaRegistry.URL = p.Kafka.SchemaRegistryURL
		}
	}
	if t.Destination.Version == "" {
		t.Destination.Version = "2.8.0"
	}
	return &t, nil
}

func profileErr(path, name, kind string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s: no saved %s connection is named %q: create it under Connections (or import it), or give the connection inline", path, kind, name)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Task states (API.md).
const (
	StateNotStarted     = "NotStarted"
	StatePrechecking    = "Prechecking"
	StatePrecheckFailed = "PrecheckFailed"
	StateRunning        = "Running"
	StateRetrying       = "Retrying"
	StatePaused         = "Paused"
	StateFailed         = "Failed"
	StateCompleted      = "Completed"
	StateStopped        = "Stopped"
)

// States lists every task state.
var States = []string{StateNotStarted, StatePrechecking, StatePrecheckFailed, StateRunning, StateRetrying, StatePaused, StateFailed, StateCompleted, StateStopped}

// System reports facts about the build.
type System struct{}

// Version returns the version of Tributary.
func (s *System) Version() string { return Version }

// Settings are the user's preferences.
type Settings struct{ a *App }

// SettingsValue is what Settings.Get returns.
type SettingsValue struct {
	Language string `json:"language"`
	Theme    string `json:"theme"`
}

// Get returns the preferences (English and the system theme by default).
func (s *Settings) Get() (SettingsValue, error) {
	lang, err := s.a.store.Setting("language")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return SettingsValue{}, err
	}
	theme, err := s.a.store.Setting("theme")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return SettingsValue{}, err
	}
	if lang == "" {
		lang = "en"
	}
	if theme == "" {
		theme = "system"
	}
	return SettingsValue{Language: lang, Theme: theme}, nil
}

// Save stores the preferences.
func (s *Settings) Save(v SettingsValue) error {
	if v.Language != "en" && v.Language != "zh" {
		return fmt.Errorf("language: %q is not offered; use en or zh", v.Language)
	}
	if v.Theme != "system" && v.Theme != "light" && v.Theme != "dark" {
		return fmt.Errorf("theme: %q is not offered; use system, light or dark", v.Theme)
	}
	if err := s.a.store.SetSetting("language", v.Language); err != nil {
		return err
	}
	return s.a.store.SetSetting("theme", v.Theme)
}

// describeSource renders "user@host:port" or the profile name for lists.
func describeSource(t *task.Task) string {
	if t.Source.Profile != "" {
		return t.Source.Profile
	}
	return fmt.Sprintf("%s@%s:%d", t.Source.User, t.Source.Host, t.Source.Port)
}

func describeDestination(t *task.Task) string {
	name := t.Destination.Profile
	if name == "" {
		name = strings.Join(t.Destination.Brokers, ",")
	}
	return name + " / " + t.Destination.Topic
}
