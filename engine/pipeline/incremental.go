package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"tributary/engine/event"
	"tributary/engine/mysql"
)

// Incremental migration reads the binlog from the committed position and sends every row
// change and DDL of the selected tables, transaction after transaction. A position is committed
// to the store only when Kafka acknowledged every event before it, and only at a transaction
// boundary: after a crash the stream restarts there, so nothing is lost (at-least-once; the
// events of the transactions in flight may be sent again).

const (
	keySchema = "schema"       // the schema history (mysql.SchemaHistory snapshot)
	keyFull   = "full-done"    // full migration finished
	hbDB      = "tributary_hb" // heartbeat database on the source
	hbTable   = "heartbeat"
)

// txnToken is one transaction batch in flight.
type txnToken struct {
	commit     bool
	pos        event.Position
	commitTime time.Time
	rows       int64
	pending    atomic.Int64
	fired      atomic.Bool
	done       chan<- *txnToken
	bytes      *atomic.Int64
	acked      *atomic.Int64
}

func (t *txnToken) ack(bytes int) {
	t.bytes.Add(int64(bytes))
	t.acked.Add(1)
	if t.pending.Add(-1) == 0 {
		t.fire()
	}
}

func (t *txnToken) release() {
	if t.pending.Add(-1) == 0 {
		t.fire()
	}
}

func (t *txnToken) fire() {
	if t.fired.CompareAndSwap(false, true) {
		t.done <- t
	}
}

func (t *txnToken) describe() string { return "a change at " + t.pos.String() }

// startPosition returns where incremental migration starts: the committed position, else the
// current one (recorded with the schema before full migration reads anything, so that the
// changes made while it runs are sent afterwards).
func (r *Runner) startPosition(ctx context.Context, conn *client.Conn, flavor string, refs []mysql.Ref, saved map[string][]byte) (event.Position, *mysql.SchemaHistory, error) {
	if b, ok := saved[keyBinlog]; ok {
		var pos event.Position
		if err := json.Unmarshal(b, &pos); err != nil {
			return pos, nil, &Permanent{fmt.Errorf("the saved binlog position is damaged (%v): restart the task from the beginning", err)}
		}
		var h *mysql.SchemaHistory
		if sb, ok := saved[keySchema]; ok {
			var err error
			if h, err = mysql.LoadSchemaHistory(sb); err != nil {
				return pos, nil, &Permanent{fmt.Errorf("the saved schema history is damaged (%v): restart the task from the beginning", err)}
			}
			h.Truncate(pos)
		} else {
			var err error
			if h, err = mysql.SeedSchemaHistory(ctx, conn, flavor, refs, pos); err != nil {
				return pos, nil, err
			}
		}
		return pos, h, nil
	}
	pos, err := mysql.CurrentPosition(conn, flavor)
	if err != nil {
		return pos, nil, &Permanent{err}
	}
	h, err := mysql.SeedSchemaHistory(ctx, conn, flavor, refs, pos)
	if err != nil {
		return pos, nil, err
	}
	snap, err := h.Snapshot()
	if err != nil {
		return pos, nil, err
	}
	pb, _ := json.Marshal(pos)
	if err := r.Checkpoints.Save(ctx, map[string][]byte{keyBinlog: pb, keySchema: snap}); err != nil {
		return pos, nil, &Permanent{fmt.Errorf("save checkpoint: %w", err)}
	}
	r.Observer.Log("info", "incremental migration will start at binlog position "+pos.String())
	return pos, h, nil
}

type incPhase struct {
	r       *Runner
	sink    *sink
	server  mysql.ServerInfo
	filters map[string]*mysql.Filter // routeKey → compiled filter
	handoff *handoff                 // what full migration's snapshots already hold
	dbs     map[string]bool          // selected databases (lower case)

	acked, bytes atomic.Int64
	meter        meter

	mu         sync.Mutex
	committed  event.Position
	commitTime time.Time
	dirty      bool
	schemaSeen bool
}

func (r *Runner) runIncremental(ctx context.Context, cancel context.CancelCauseFunc, s *sink, server mysql.ServerInfo, pos event.Position, hist *mysql.SchemaHistory, ho *handoff) error {
	p := &incPhase{r: r, sink: s, server: server, handoff: ho, filters: map[string]*mysql.Filter{}, dbs: map[string]bool{}, committed: pos}
	for _, o := range r.Task.Objects {
		p.dbs[strings.ToLower(o.Database)] = true
		if o.Filter != "" {
			f, err := mysql.CompileFilter(o.Filter)
			if err != nil {
				return &Permanent{fmt.Errorf("filter of %s.%s: %w", o.Database, o.Table, err)}
			}
			p.filters[routeKey(o.Database, o.Table)] = f
		}
	}
	flavor := "mysql"
	if server.MariaDB {
		flavor = "mariadb"
	}
	stream, err := mysql.OpenStream(ctx, mysql.StreamConfig{
		Source: &r.Task.Source.MySQL, ServerID: r.Task.Source.ServerID, Start: pos, Flavor: flavor,
		Tables:        p.selected,
		History:       hist,
		SourceVersion: server.Version,
		Warn:          func(msg string) { r.Observer.Log("warn", msg) },
	})
	if err != nil {
		return err
	}
	// The reader goroutine below owns the stream until it returns: stop it, wait, then close.
	readCtx, stopReader := context.WithCancel(ctx)
	readerDone := make(chan struct{})
	defer func() {
		stopReader()
		<-readerDone
		stream.Close()
	}()
	r.Observer.Log("info", "reading the binlog from "+pos.String())

	if r.Task.Advanced.Heartbeat {
		go p.heartbeat(ctx)
	}

	doneCh := make(chan *txnToken, 4096)
	var queue []*txnToken
	var qmu sync.Mutex
	readErr := make(chan error, 1)
	go func() {
		defer close(readerDone)
		ctx := readCtx
		w := &writer{s: s}
		lim := &r.incremental
		for {
			txn, err := stream.Next(ctx)
			if err != nil {
				readErr <- err
				return
			}
			tok := &txnToken{commit: txn.Commit, pos: txn.Pos, commitTime: txn.CommitTime, done: doneCh, bytes: &p.bytes, acked: &p.acked}
			tok.pending.Store(1)
			qmu.Lock()
			queue = append(queue, tok)
			qmu.Unlock()
			for _, ev := range txn.Events {
				out, ok := p.transform(ev)
				if !ok {
					continue
				}
				if out.Kind == event.DDL {
					p.mu.Lock()
					p.schemaSeen = true
					p.mu.Unlock()
				}
				out.Seq = r.nextSeq()
				tok.pending.Add(1)
				size, err := w.send(ctx, out, tok)
				if err != nil {
					readErr <- err
					return
				}
				if lim.active() {
					if err := lim.Rows.Take(ctx, 1); err != nil {
						readErr <- err
						return
					}
					if err := lim.Bytes.Take(ctx, float64(size)); err != nil {
						readErr <- err
						return
					}
				}
			}
			tok.release()
		}
	}()

	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-doneCh:
			// Advance the frontier over every acknowledged transaction batch, in order.
			for more := true; more; {
				select {
				case <-doneCh:
				default:
					more = false
				}
			}
			qmu.Lock()
			for len(queue) > 0 && queue[0].fired.Load() {
				head := queue[0]
				queue = queue[1:]
				if head.commit {
					p.mu.Lock()
					p.committed = head.pos
					p.commitTime = head.commitTime
					p.dirty = true
					p.mu.Unlock()
				}
			}
			qmu.Unlock()
		case <-tick.C:
			if err := p.flush(ctx, hist); err != nil {
				return err
			}
			if err := r.checkStall(s); err != nil {
				cancel(err)
				p.flushQuiet(hist)
				return err
			}
			p.report()
		case err := <-s.Err():
			cancel(err)
			p.flushQuiet(hist)
			return err
		case err := <-readErr:
			p.flushQuiet(hist)
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		case <-ctx.Done():
			p.flushQuiet(hist)
			return context.Cause(ctx)
		}
	}
}

// selected tells the stream which tables to decode: the selected ones, and (table "") the DDL
// of the selected databases that names no table.
func (p *incPhase) selected(db, table string) bool {
	if table == "" {
		return p.dbs[strings.ToLower(db)]
	}
	return p.sink.route(db, table) != nil
}

// transform applies the object's DML/DDL selection and its filter with DTS semantics: an
// UPDATE whose before image matches and after image does not becomes a DELETE; one whose
// before image does not match is not sent.
func (p *incPhase) transform(ev *event.Event) (*event.Event, bool) {
	if ev.Kind == event.DDL {
		return ev, p.ddlAllowed(ev)
	}
	if ev.Table == nil {
		return nil, false
	}
	r := p.sink.route(ev.Table.Database, ev.Table.Name)
	if r == nil {
		return nil, false
	}
	ev, ok := p.handoff.filter(ev)
	if !ok {
		return nil, false
	}
	f := p.filters[routeKey(ev.Table.Database, ev.Table.Name)]
	match := func(row event.Row) bool {
		ok, err := f.Match(ev.Table, row)
		if err != nil {
			p.r.Observer.Log("warn", err.Error())
			return false
		}
		return ok
	}
	switch ev.Kind {
	case event.Insert:
		if f != nil && !match(ev.After) {
			return nil, false
		}
		return ev, r.object.Allows("insert")
	case event.Delete:
		if f != nil && !match(ev.Before) {
			return nil, false
		}
		return ev, r.object.Allows("delete")
	case event.Update:
		if f != nil {
			if !match(ev.Before) {
				return nil, false
			}
			if !match(ev.After) {
				del := *ev
				del.Kind = event.Delete
				del.After = nil
				return &del, r.object.Allows("delete")
			}
		}
		return ev, r.object.Allows("update")
	}
	return nil, false
}

// ddlAllowed reports whether a DDL is selected: for a table's DDL, by that table's DDL list;
// for DDL that names no table, when any object of its database selects that kind.
func (p *incPhase) ddlAllowed(ev *event.Event) bool {
	kind := ev.DDLKind
	if kind == "" || kind == "other" || kind == "create database" || kind == "drop database" {
		// Not in DTS's list of migratable DDL.
		return false
	}
	if ev.TableName != "" {
		if r := p.sink.route(ev.Database, ev.TableName); r != nil {
			return r.object.Allows(kind)
		}
	}
	for i := range p.r.Task.Objects {
		o := &p.r.Task.Objects[i]
		if strings.EqualFold(o.Database, ev.Database) && o.Allows(kind) {
			return true
		}
	}
	return false
}

// flush saves the committed position (and the schema history when a DDL went by).
func (p *incPhase) flush(ctx context.Context, hist *mysql.SchemaHistory) error {
	p.mu.Lock()
	if !p.dirty {
		p.mu.Unlock()
		return nil
	}
	pos := p.committed
	schema := p.schemaSeen
	p.dirty, p.schemaSeen = false, false
	p.mu.Unlock()
	pb, _ := json.Marshal(pos)
	kv := map[string][]byte{keyBinlog: pb}
	if schema {
		hist.Prune(pos)
		snap, err := hist.Snapshot()
		if err != nil {
			return &Permanent{fmt.Errorf("save the schema history: %w", err)}
		}
		kv[keySchema] = snap
	}
	if err := p.r.Checkpoints.Save(ctx, kv); err != nil {
		return &Permanent{fmt.Errorf("save checkpoint: %w", err)}
	}
	p.r.saves.Add(1)
	return nil
}

func (p *incPhase) flushQuiet(hist *mysql.SchemaHistory) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.flush(ctx, hist); err != nil {
		p.r.Observer.Log("error", err.Error())
	}
}

// report sends incremental progress: latency is now − the source commit time of the last
// change Kafka acknowledged (it grows while the source is idle, as in DTS, unless the
// heartbeat is on).
func (p *incPhase) report() {
	p.mu.Lock()
	pos, ct := p.committed, p.commitTime
	p.mu.Unlock()
	rps, bps := p.meter.update(p.acked.Load(), p.bytes.Load())
	pr := Progress{Phase: "incremental", Percent: 100, LatencyMs: -1, Position: pos.String(), IncrementalRowsPerSec: rps, MBPerSec: bps / 1e6}
	if !ct.IsZero() {
		pr.LatencyMs = max(0, time.Since(ct).Milliseconds())
	}
	if full := p.r.fullSummary.Load(); full != nil {
		pr.Tables = full.Tables
		pr.RowsDone, pr.RowsEstimated = full.RowsDone, full.RowsEstimated
	}
	p.r.Observer.Progress(pr)
}

// heartbeat updates a heartbeat table on the source every second so that latency stays true
// while the source is idle (DTS "Whether to delete SQL operations on heartbeat tables" = No).
// Its changes are not sent to user topics: the table is not selected.
func (p *incPhase) heartbeat(ctx context.Context) {
	conn, err := mysql.Connect(ctx, &p.r.Task.Source.MySQL)
	if err != nil {
		p.r.Observer.Log("warn", "heartbeat: "+err.Error())
		return
	}
	defer conn.Close()
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + hbDB,
		"CREATE TABLE IF NOT EXISTS " + hbDB + "." + hbTable + " (task VARCHAR(128) PRIMARY KEY, ts DATETIME(6) NOT NULL)",
	} {
		if _, err := conn.Execute(q); err != nil {
			p.r.Observer.Log("warn", "heartbeat table: "+err.Error()+" (latency grows while the source is idle)")
			return
		}
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := conn.Execute("REPLACE INTO "+hbDB+"."+hbTable+" VALUES (?, UTC_TIMESTAMP(6))", p.r.Task.Name); err != nil {
				p.r.Observer.Log("warn", "heartbeat: "+err.Error())
				return
			}
		}
	}
}
