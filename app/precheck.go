package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"tributary/engine/pipeline"
	"tributary/engine/precheck"
	"tributary/store"
)

// Precheck runs DTS's precheck for a task and keeps its report.
type Precheck struct {
	a       *App
	mu      sync.Mutex
	running map[int64]bool
}

// Report is a stored precheck run.
type Report struct {
	TaskID   int64           `json:"taskId"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished"`
	Items    []precheck.Item `json:"items"`
	Total    int             `json:"total"`
	Passed   bool            `json:"passed"`
}

// Run starts a precheck; items arrive as precheck:item events and the report as precheck:done.
func (p *Precheck) Run(id int64) error {
	r, err := p.a.store.Task(id, true)
	if err != nil {
		return err
	}
	if p.a.runs.running(id) {
		return errors.New("the task is running: pause or stop it before running the precheck again")
	}
	spec, err := p.a.Resolve(r.Spec)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.running == nil {
		p.running = map[int64]bool{}
	}
	if p.running[id] {
		p.mu.Unlock()
		return errors.New("a precheck of this task is already running")
	}
	p.running[id] = true
	p.mu.Unlock()

	prev := r.State
	_ = p.a.runs.setState(id, StatePrechecking, "")
	opts := precheck.Options{Ignored: r.IgnoredWarnings}
	if cp, err := p.a.store.Checkpoints(id); err == nil {
		opts.ResumePosition = pipeline.SavedPosition(cp)
		opts.Resuming = len(cp) > 0
	}
	total := len(precheck.Codes(spec))
	rep := Report{TaskID: id, Started: time.Now(), Total: total, Items: []precheck.Item{}}
	go func() {
		defer func() {
			p.mu.Lock()
			delete(p.running, id)
			p.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		done := 0
		items := precheck.Run(ctx, spec, opts, func(it precheck.Item) {
			done++
			p.a.emit.Emit("precheck:item", map[string]any{"taskId": id, "item": it, "done": done, "total": total})
		})
		rep.Items = items
		rep.Finished = time.Now()
		rep.Passed = precheck.Passed(items)
		b, _ := json.Marshal(rep)
		_ = p.a.store.SavePrecheck(id, b)
		next := StateNotStarted
		if !rep.Passed {
			next = StatePrecheckFailed
		} else if prev == StatePaused || prev == StateStopped || prev == StateFailed {
			next = prev
		}
		_ = p.a.runs.setState(id, next, "")
		failed, warned := 0, 0
		for _, it := range items {
			switch it.Result {
			case "failed":
				failed++
			case "warning":
				warned++
			}
		}
		p.a.runs.log(id, "info", fmt.Sprintf("precheck finished: %d items, %d failed, %d warnings", len(items), failed, warned))
		p.a.emit.Emit("precheck:done", rep)
	}()
	return nil
}

// Report returns the last precheck report of a task, or nil.
func (p *Precheck) Report(id int64) (*Report, error) {
	raw, err := p.a.store.Precheck(id)
	if err != nil || raw == nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("the stored precheck report is damaged: run the precheck again (%v)", err)
	}
	return &rep, nil
}

// Ignore records that the user accepts the risk of an ignorable warning ("Confirm Alert Details
// → Ignore"); the choice is kept with the task.
func (p *Precheck) Ignore(id int64, code string) error {
	r, err := p.a.store.Task(id, false)
	if err != nil {
		return err
	}
	rep, err := p.Report(id)
	if err != nil {
		return err
	}
	if rep == nil {
		return errors.New("run the precheck first")
	}
	found := false
	for i := range rep.Items {
		it := &rep.Items[i]
		if it.Code != code {
			continue
		}
		found = true
		if it.Result != "warning" || !it.Ignorable {
			return fmt.Errorf("%s (%s) is not an ignorable warning: fix it and precheck again", it.Name, code)
		}
		it.Ignored = true
	}
	if !found {
		return fmt.Errorf("the last precheck has no item %s", code)
	}
	if !slices.Contains(r.IgnoredWarnings, code) {
		if err := p.a.store.SetIgnoredWarnings(id, append(r.IgnoredWarnings, code)); err != nil {
			return err
		}
	}
	rep.Passed = precheck.Passed(rep.Items)
	b, _ := json.Marshal(rep)
	if err := p.a.store.SavePrecheck(id, b); err != nil {
		return err
	}
	if rep.Passed && r.State == StatePrecheckFailed {
		_ = p.a.runs.setState(id, StateNotStarted, "")
	}
	p.a.runs.log(id, "warn", "precheck warning "+code+" ignored by the user")
	p.a.emit.Emit("precheck:done", rep)
	return nil
}

// ExportReport renders the last report as Markdown or HTML.
func (p *Precheck) ExportReport(id int64, format string) (string, error) {
	rep, err := p.Report(id)
	if err != nil {
		return "", err
	}
	if rep == nil {
		return "", errors.New("run the precheck first")
	}
	r, err := p.a.store.Task(id, false)
	if err != nil {
		return "", err
	}
	switch format {
	case "markdown", "md":
		return precheck.Markdown(r.Spec.Name, rep.Finished, rep.Items), nil
	case "html":
		return precheck.HTML(r.Spec.Name, rep.Finished, rep.Items), nil
	}
	return "", fmt.Errorf("format: %q is not offered; use markdown or html", format)
}

// requirePassed refuses to start a task whose precheck has not passed, as DTS does.
func (p *Precheck) requirePassed(r *store.TaskRecord) error {
	rep, err := p.Report(r.ID)
	if err != nil {
		return err
	}
	if rep == nil {
		return errors.New("run the precheck first: a task starts only after its precheck passes")
	}
	if !rep.Passed {
		return errors.New("the precheck has failed items or warnings not ignored: fix them (or ignore the warnings) and precheck again")
	}
	return nil
}

// alert notifies about a task failure or latency by desktop notification and webhook, when the
// task's Monitoring and Alerting asks for it.
func (a *App) alert(id int64, kind, message string) {
	r, err := a.store.Task(id, false)
	if err != nil {
		return
	}
	al := r.Spec.Advanced.Alerting
	if !al.Enabled || (kind == "failed" && !al.OnFailure) {
		return
	}
	payload := map[string]any{"task": r.Spec.Name, "taskId": id, "kind": kind, "message": message, "time": time.Now().UTC(),
		"environmentTag": r.Spec.Advanced.EnvironmentTag}
	if al.Desktop {
		a.emit.Emit("alert", payload)
	}
	if al.Webhook != "" {
		go func() {
			b, _ := json.Marshal(payload)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, al.Webhook, bytes.NewReader(b))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				a.runs.log(id, "warn", "alert webhook failed: "+err.Error())
				return
			}
			resp.Body.Close()
			if resp.StatusCode >= 300 {
				a.runs.log(id, "warn", fmt.Sprintf("alert webhook answered %s", resp.Status))
			}
		}()
	}
}

func (a *App) checkLatency(id int64, p *pipeline.Progress) {
	r, err := a.store.Task(id, false)
	if err != nil {
		return
	}
	th := r.Spec.Advanced.Alerting.LatencySeconds
	if !r.Spec.Advanced.Alerting.Enabled || th <= 0 || p.LatencyMs < 0 || p.LatencyMs < int64(th)*1000 {
		return
	}
	if last, ok := a.latencyAlerted.Load(id); ok && time.Since(last.(time.Time)) < 5*time.Minute {
		return
	}
	a.latencyAlerted.Store(id, time.Now())
	a.alert(id, "latency", fmt.Sprintf("incremental latency is %.1f s, above the threshold of %d s", float64(p.LatencyMs)/1000, th))
}
