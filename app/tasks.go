package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"tributary/engine/mysql"
	"tributary/engine/pipeline"
	"tributary/engine/task"
	"tributary/store"
)

// Tasks manages migration tasks: the task list, the wizard's saves, files, and runs.
type Tasks struct{ a *App }

// Options lists every allowed value with the console's words.
type Options struct {
	ConflictModes     []task.Choice `json:"conflictModes"`
	Formats           []task.Choice `json:"formats"`
	Compressions      []task.Choice `json:"compressions"`
	PartitionPolicies []task.Choice `json:"partitionPolicies"`
	Acks              []task.Choice `json:"acks"`
	Capitalizations   []task.Choice `json:"capitalizations"`
	DMLOps            []string      `json:"dmlOps"`
	DDLOps            []string      `json:"ddlOps"`
	SASLMechanisms    []string      `json:"saslMechanisms"`
	KafkaVersions     []string      `json:"kafkaVersions"`
	TaskStates        []string      `json:"taskStates"`
}

// Options returns the allowed values.
func (t *Tasks) Options() Options {
	return Options{
		ConflictModes: task.ConflictModes, Formats: task.Formats, Compressions: task.Compressions,
		PartitionPolicies: task.PartitionPolicies, Acks: task.AcksChoices, Capitalizations: task.Capitalizations,
		DMLOps: task.DMLOps, DDLOps: task.DDLOps, SASLMechanisms: task.SASLMechanisms, KafkaVersions: task.KafkaVersions,
		TaskStates: States,
	}
}

// Defaults returns a new task with a generated name and DTS's defaults.
func (t *Tasks) Defaults() task.Task {
	spec := task.Task{Name: "mysql-to-kafka-" + time.Now().Format("20060102-150405"), MigrationTypes: task.MigrationTypes{Full: true, Incremental: true}}
	spec.Defaults()
	spec.Source.Port = 3306
	spec.Objects = []task.Object{}
	return spec
}

// Validate returns every problem of a task (empty = valid).
func (t *Tasks) Validate(spec task.Task) []task.FieldError {
	spec.Defaults()
	errs := append(task.AsErrors(spec.Validate()), filterErrors(&spec)...)
	if errs == nil {
		return []task.FieldError{}
	}
	return errs
}

// filterErrors parses every filter condition: one expression, no ';', no subquery. (Whether
// its columns exist is checked against the source by Catalog.VerifyFilter and the precheck.)
func filterErrors(spec *task.Task) task.Errors {
	var es task.Errors
	for i, o := range spec.Objects {
		var err error
		if spec.MigrationTypes.Incremental {
			// Incremental migration evaluates the filter on every row change: it must be made
			// only of what the evaluator understands.
			_, err = mysql.CompileFilter(o.Filter)
		} else {
			_, err = mysql.ParseFilter(o.Filter)
		}
		if err != nil {
			es = append(es, task.FieldError{Path: fmt.Sprintf("$.objects[%d].filter", i), Message: err.Error()})
		}
	}
	return es
}

// Preview returns the exact task file (secrets removed), as "Preview API parameters".
func (t *Tasks) Preview(spec task.Task) (string, error) {
	spec.Defaults()
	r := spec.Redacted()
	b, err := task.Marshal(&r)
	return string(b), err
}

// TaskSummary is a row of the task list.
type TaskSummary struct {
	ID             int64               `json:"id"`
	Name           string              `json:"name"`
	State          string              `json:"state"`
	LastError      string              `json:"lastError"`
	Source         string              `json:"source"`
	Destination    string              `json:"destination"`
	EnvironmentTag string              `json:"environmentTag"`
	Created        time.Time           `json:"created"`
	Updated        time.Time           `json:"updated"`
	MigrationTypes task.MigrationTypes `json:"migrationTypes"`
	Progress       *pipeline.Progress  `json:"progress"`
}

// TaskDetail is a task with its spec.
type TaskDetail struct {
	TaskSummary
	Spec            task.Task `json:"spec"`
	IgnoredWarnings []string  `json:"ignoredWarnings"`
}

func summarize(r *store.TaskRecord) TaskSummary {
	s := TaskSummary{ID: r.ID, Name: r.Spec.Name, State: r.State, LastError: r.LastError, Source: describeSource(&r.Spec),
		Destination: describeDestination(&r.Spec), EnvironmentTag: r.Spec.Advanced.EnvironmentTag, Created: r.Created, Updated: r.Updated,
		MigrationTypes: r.Spec.MigrationTypes}
	if s.State == store.DefaultTaskState || s.State == "" {
		s.State = StateNotStarted
	}
	if len(r.Progress) > 0 {
		var p pipeline.Progress
		if json.Unmarshal(r.Progress, &p) == nil {
			s.Progress = &p
		}
	}
	return s
}

// List returns every task, newest first, with live progress for running ones.
func (t *Tasks) List() ([]TaskSummary, error) {
	recs, err := t.a.store.Tasks()
	if err != nil {
		return nil, err
	}
	out := make([]TaskSummary, 0, len(recs))
	for i := range recs {
		s := summarize(&recs[i])
		if p := t.a.runs.progress(s.ID); p != nil {
			s.Progress = p
		}
		out = append(out, s)
	}
	return out, nil
}

// Get returns one task.
func (t *Tasks) Get(id int64) (TaskDetail, error) {
	r, err := t.a.store.Task(id, false)
	if err != nil {
		return TaskDetail{}, err
	}
	s := summarize(r)
	if p := t.a.runs.progress(id); p != nil {
		s.Progress = p
	}
	ign := r.IgnoredWarnings
	if ign == nil {
		ign = []string{}
	}
	return TaskDetail{TaskSummary: s, Spec: r.Spec, IgnoredWarnings: ign}, nil
}

func (t *Tasks) check(spec *task.Task) error {
	spec.Defaults()
	if spec.Objects == nil {
		spec.Objects = []task.Object{}
	}
	es := append(task.AsErrors(spec.Validate()), filterErrors(spec)...)
	if len(es) > 0 {
		return es
	}
	return nil
}

// Create saves a new task (state Not Started).
func (t *Tasks) Create(spec task.Task) (TaskSummary, error) {
	if err := t.check(&spec); err != nil {
		return TaskSummary{}, err
	}
	r := &store.TaskRecord{Spec: spec, State: StateNotStarted}
	if err := t.a.store.SaveTask(r); err != nil {
		return TaskSummary{}, err
	}
	s := summarize(r)
	t.a.emit.Emit("task:update", s)
	return s, nil
}

// Update replaces a task's settings (not while it runs).
func (t *Tasks) Update(id int64, spec task.Task) (TaskSummary, error) {
	if t.a.runs.running(id) {
		return TaskSummary{}, fmt.Errorf("the task is running: pause or stop it before changing its settings (throttles can be changed while it runs)")
	}
	if err := t.check(&spec); err != nil {
		return TaskSummary{}, err
	}
	r, err := t.a.store.Task(id, false)
	if err != nil {
		return TaskSummary{}, err
	}
	r.Spec = spec
	if err := t.a.store.SaveTask(r); err != nil {
		return TaskSummary{}, err
	}
	s := summarize(r)
	t.a.emit.Emit("task:update", s)
	return s, nil
}

// Delete removes a task and everything recorded about it.
func (t *Tasks) Delete(id int64) error {
	if t.a.runs.running(id) {
		t.a.runs.stop(id, StateStopped)
	}
	if err := t.a.store.DeleteTask(id); err != nil {
		return err
	}
	t.a.emit.Emit("task:update", map[string]any{"id": id, "deleted": true})
	return nil
}

// Clone copies a task's settings into a new, not started task.
func (t *Tasks) Clone(id int64) (TaskSummary, error) {
	r, err := t.a.store.Task(id, true)
	if err != nil {
		return TaskSummary{}, err
	}
	spec := r.Spec
	spec.Name = spec.Name + "-copy"
	return t.Create(spec)
}

// Export writes the task file. Passwords are included only with includeSecrets; otherwise the
// file refers to the saved connections by name (or to passwordEnv variables).
func (t *Tasks) Export(id int64, includeSecrets bool) (string, error) {
	r, err := t.a.store.Task(id, includeSecrets)
	if err != nil {
		return "", err
	}
	spec := r.Spec
	if includeSecrets {
		full, err := t.a.Resolve(spec)
		if err != nil {
			return "", err
		}
		full.Source.Profile, full.Destination.Profile = "", ""
		spec = *full
	} else {
		spec = spec.Redacted()
	}
	b, err := task.Marshal(&spec)
	return string(b), err
}

// ImportResult reports a task import: the task, or every problem with its JSON path.
type ImportResult struct {
	Task   *TaskSummary      `json:"task"`
	Errors []task.FieldError `json:"errors"`
}

// Import reads a task file into a new task.
func (t *Tasks) Import(text string) (ImportResult, error) {
	spec, err := task.Parse([]byte(text))
	if err != nil {
		errs := task.AsErrors(err)
		if errs == nil {
			errs = task.Errors{{Path: "$", Message: err.Error()}}
		}
		return ImportResult{Errors: errs}, nil
	}
	s, err := t.Create(*spec)
	if err != nil {
		errs := task.AsErrors(err)
		if errs == nil {
			errs = task.Errors{{Path: "$", Message: err.Error()}}
		}
		return ImportResult{Errors: errs}, nil
	}
	return ImportResult{Task: &s, Errors: []task.FieldError{}}, nil
}

// Events returns a task's event log, newest first.
func (t *Tasks) Events(id int64, limit int) ([]store.EventRecord, error) {
	if limit <= 0 {
		limit = 200
	}
	ev, err := t.a.store.Events(id, limit)
	if ev == nil {
		ev = []store.EventRecord{}
	}
	return ev, err
}

// Samples returns a task's chart points.
func (t *Tasks) Samples(id int64) ([]store.Sample, error) {
	s, err := t.a.store.Samples(id, time.Time{})
	if s == nil {
		s = []store.Sample{}
	}
	return s, err
}

// Start runs a task (resuming from its checkpoints). A task whose precheck has failed items or
// unignored warnings is refused, as in DTS.
func (t *Tasks) Start(id int64) error { return t.a.runs.start(id, false) }

// Resume continues a paused task from its checkpoints.
func (t *Tasks) Resume(id int64) error { return t.a.runs.start(id, true) }

// Pause stops a task keeping its checkpoints; Resume continues it.
func (t *Tasks) Pause(id int64) error {
	if !t.a.runs.running(id) {
		return errors.New("the task is not running")
	}
	t.a.runs.stop(id, StatePaused)
	return nil
}

// Stop ends a task; starting it again resumes from its checkpoints.
func (t *Tasks) Stop(id int64) error {
	if t.a.runs.running(id) {
		t.a.runs.stop(id, StateStopped)
		return nil
	}
	return t.a.runs.setState(id, StateStopped, "")
}

// SetThrottle changes the throttles of a task, applied at once when it runs, and saved.
func (t *Tasks) SetThrottle(id int64, full, incremental task.Throttle) error {
	r, err := t.a.store.Task(id, false)
	if err != nil {
		return err
	}
	spec := r.Spec
	spec.Advanced.FullThrottle = full
	spec.Advanced.IncrementalThrottle = incremental
	if err := spec.Validate(); err != nil {
		return err
	}
	r.Spec = spec
	if err := t.a.store.SaveTask(r); err != nil {
		return err
	}
	t.a.runs.throttle(id, full, incremental)
	_ = t.a.store.AddEvent(id, "info", fmt.Sprintf("transfer rate changed: full %s, incremental %s", describeThrottle(full), describeThrottle(incremental)))
	return nil
}

func describeThrottle(th task.Throttle) string {
	if !th.Enabled {
		return "unlimited"
	}
	return fmt.Sprintf("QPS %d, RPS %d, %.2f MB/s", th.QPS, th.RPS, th.MBps)
}

// runs tracks the tasks running in this process.
type runs struct {
	app    *App
	mu     sync.Mutex
	active map[int64]*activeRun
}

type activeRun struct {
	id       int64
	cancel   context.CancelFunc
	runner   *pipeline.Runner
	done     chan struct{}
	endState string // set by stop before cancelling

	mu       sync.Mutex
	progress *pipeline.Progress
	saved    time.Time
}

func (rs *runs) running(id int64) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.active[id] != nil
}

func (rs *runs) progress(id int64) *pipeline.Progress {
	rs.mu.Lock()
	ar := rs.active[id]
	rs.mu.Unlock()
	if ar == nil {
		return nil
	}
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return ar.progress
}

func (rs *runs) setState(id int64, state, lastErr string) error {
	if err := rs.app.store.SetTaskState(id, state, lastErr); err != nil {
		return err
	}
	if r, err := rs.app.store.Task(id, false); err == nil {
		s := summarize(r)
		if p := rs.progress(id); p != nil {
			s.Progress = p
		}
		rs.app.emit.Emit("task:update", s)
	}
	return nil
}

func (rs *runs) log(id int64, level, msg string) {
	_ = rs.app.store.AddEvent(id, level, msg)
	rs.app.emit.Emit("task:event", store.EventRecord{TaskID: id, Time: time.Now(), Level: level, Message: msg})
}

func (rs *runs) start(id int64, resume bool) error {
	r, err := rs.app.store.Task(id, true)
	if err != nil {
		return err
	}
	rs.mu.Lock()
	if rs.active[id] != nil {
		rs.mu.Unlock()
		return errors.New("the task is already running")
	}
	rs.mu.Unlock()
	if !resume {
		if err := rs.app.Precheck.requirePassed(r); err != nil {
			return err
		}
	}
	spec, err := rs.app.Resolve(r.Spec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ar := &activeRun{id: id, cancel: cancel, done: make(chan struct{})}
	obs := &runObserver{rs: rs, ar: ar}
	ar.runner = pipeline.NewRunner(spec, StoreCheckpoints{rs.app.store, id}, obs)
	rs.mu.Lock()
	if rs.active[id] != nil {
		rs.mu.Unlock()
		cancel()
		return errors.New("the task is already running")
	}
	rs.active[id] = ar
	rs.mu.Unlock()
	if r.State == StateCompleted || r.State == StateFailed || r.State == StateStopped {
		// Starting a finished task again starts it over when it had completed; a failed or
		// stopped one resumes from its checkpoints.
		if r.State == StateCompleted {
			_ = rs.app.store.ClearCheckpoints(id)
		}
	}
	runID, _ := rs.app.store.StartRun(id)
	verb := "started"
	if resume {
		verb = "resumed"
	}
	rs.log(id, "info", "task "+verb)
	go func() {
		defer close(ar.done)
		err := ar.runner.Run(ctx)
		rs.mu.Lock()
		delete(rs.active, id)
		end := ar.endState
		rs.mu.Unlock()
		obs.saveProgress(true)
		switch {
		case err == nil:
			_ = rs.app.store.EndRun(runID, StateCompleted, "")
			rs.log(id, "info", "task completed")
		case end != "":
			_ = rs.setState(id, end, "")
			_ = rs.app.store.EndRun(runID, end, "")
			rs.log(id, "info", "task "+map[string]string{StatePaused: "paused", StateStopped: "stopped"}[end])
		default:
			_ = rs.app.store.EndRun(runID, StateFailed, err.Error())
			rs.log(id, "error", "task failed: "+err.Error())
			rs.app.alert(id, "failed", err.Error())
		}
	}()
	return nil
}

func (rs *runs) stop(id int64, state string) {
	rs.mu.Lock()
	ar := rs.active[id]
	if ar != nil {
		ar.endState = state
	}
	rs.mu.Unlock()
	if ar == nil {
		return
	}
	ar.cancel()
	<-ar.done
}

func (rs *runs) stopAll(state string) {
	rs.mu.Lock()
	ids := make([]int64, 0, len(rs.active))
	for id := range rs.active {
		ids = append(ids, id)
	}
	rs.mu.Unlock()
	for _, id := range ids {
		rs.stop(id, state)
	}
}

func (rs *runs) throttle(id int64, full, inc task.Throttle) {
	rs.mu.Lock()
	ar := rs.active[id]
	rs.mu.Unlock()
	if ar != nil {
		ar.runner.SetThrottle(full, inc)
	}
}

// runObserver stores and emits what a runner reports.
type runObserver struct {
	rs *runs
	ar *activeRun
}

func (o *runObserver) Progress(p pipeline.Progress) {
	p.TaskID = o.ar.id
	o.ar.mu.Lock()
	o.ar.progress = &p
	o.ar.mu.Unlock()
	o.rs.app.emit.Emit("task:progress", p)
	o.saveProgress(false)
}

// saveProgress persists the last progress (at most once a second unless forced) and a sample.
func (o *runObserver) saveProgress(force bool) {
	o.ar.mu.Lock()
	p := o.ar.progress
	due := force || time.Since(o.ar.saved) >= time.Second
	if due {
		o.ar.saved = time.Now()
	}
	o.ar.mu.Unlock()
	if p == nil || !due {
		return
	}
	b, _ := json.Marshal(p)
	_ = o.rs.app.store.SetTaskProgress(o.ar.id, b)
	if !force {
		_ = o.rs.app.store.AddSample(o.ar.id, store.Sample{Time: time.Now(), RowsPerSec: p.RowsPerSec + p.IncrementalRowsPerSec, MBPerSec: p.MBPerSec, LatencyMs: p.LatencyMs})
	}
	o.rs.app.checkLatency(o.ar.id, p)
}

func (o *runObserver) Log(level, msg string) { o.rs.log(o.ar.id, level, msg) }

func (o *runObserver) State(state, reason string) {
	o.rs.mu.Lock()
	stopping := o.ar.endState != ""
	o.rs.mu.Unlock()
	if stopping && state != StateCompleted {
		return
	}
	lastErr := ""
	if state == StateFailed || state == StateRetrying {
		lastErr = reason
	}
	_ = o.rs.setState(o.ar.id, state, lastErr)
}

// StoreCheckpoints keeps a task's engine checkpoints in the store (pipeline.Checkpoints).
type StoreCheckpoints struct {
	Store  *store.Store
	TaskID int64
}

// Load returns the task's checkpoints.
func (c StoreCheckpoints) Load(ctx context.Context) (map[string][]byte, error) {
	return c.Store.Checkpoints(c.TaskID)
}

// Save stores checkpoints atomically and durably.
func (c StoreCheckpoints) Save(ctx context.Context, kv map[string][]byte) error {
	return c.Store.SaveCheckpoints(c.TaskID, kv)
}
