package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"tributary/engine/event"
	"tributary/engine/mysql"
)

// Full data migration reads every selected table in key-ordered chunks. A table is split into
// segments (key ranges; several for a big table with one integer key, so workers read it in
// parallel); each segment is read chunk after chunk with keyset pagination. A chunk is
// committed — its last key saved as the segment's resume point — once Kafka acknowledged every
// row of it and of all chunks before it in the segment. A crash resends at most the chunks in
// flight. Tables without a usable key are read in one pass and restart from the beginning.

const defaultChunkRows = 8192

// segmentState is the checkpointed state of one segment.
type segmentState struct {
	Lo    []event.Value `json:"lo,omitempty"`    // exclusive lower bound of the segment (nil = none)
	After []event.Value `json:"after,omitempty"` // resume after this key (nil = from the start)
	UpTo  []event.Value `json:"upTo,omitempty"`  // inclusive upper bound (nil = none)
	Done  bool          `json:"done,omitempty"`
	Rows  int64         `json:"rows"`
	// Pieces are the consistent snapshots the segment was read in (one per start or resume),
	// for the hand-off to incremental migration.
	Pieces []piece `json:"pieces,omitempty"`
}

// piece is a part of a segment read in one consistent snapshot: the rows with a key above From
// (nil = from the segment's start) as of binlog position H. A binlog transaction that started
// before H is already in those rows; one that started at or after H is not.
type piece struct {
	From []event.Value  `json:"from,omitempty"`
	H    event.Position `json:"h"`
}

type tableRun struct {
	t         *event.Table
	ref       mysql.Ref
	filter    string
	key       []int // nil = not resumable
	estimated int64
	acked     atomic.Int64
	bytes     atomic.Int64
	segments  []*segment
	pending   atomic.Int32 // segments not done
	failed    atomic.Bool
	meter     meter
}

type segment struct {
	tr    *tableRun
	idx   int
	state segmentState // committed state; guarded by fullPhase.mu

	mu     sync.Mutex
	queue  []*chunk // chunks read, in order, not yet committed
	cursor []event.Value
	// window holds a token per chunk in flight: a reader waits for a free one before it reads
	// the next chunk, which bounds both memory and what a crash can make us send again.
	window chan struct{}
}

// chunksInFlight is how many chunks of one segment may be read but not yet committed.
const chunksInFlight = 2

type chunk struct {
	seg     *segment
	last    []event.Value
	rows    int64
	final   bool
	pending atomic.Int64
	sealed  atomic.Bool
	fired   atomic.Bool
	done    chan<- *chunk
}

func (c *chunk) ack(bytes int) {
	c.seg.tr.acked.Add(1)
	c.seg.tr.bytes.Add(int64(bytes))
	if c.pending.Add(-1) == 0 && c.sealed.Load() {
		c.fire()
	}
}

func (c *chunk) seal() {
	c.sealed.Store(true)
	if c.pending.Load() == 0 {
		c.fire()
	}
}

func (c *chunk) fire() {
	if c.fired.CompareAndSwap(false, true) {
		c.done <- c
	}
}

func (c *chunk) describe() string { return "a row of " + c.seg.tr.ref.String() }

type fullPhase struct {
	r      *Runner
	sink   *sink
	tables map[mysql.Ref]*event.Table
	refs   []mysql.Ref
	server mysql.ServerInfo

	runs  []*tableRun
	mu    sync.Mutex
	dirty map[*segment]bool
	// snapshots reads each segment in a consistent snapshot (incremental migration selected).
	snapshots bool
}

func segKey(ref mysql.Ref, i int) string { return "full/" + ref.String() + "/" + strconv.Itoa(i) }
func planKey(ref mysql.Ref) string       { return "full/" + ref.String() + "/plan" }

func (f *fullPhase) workers() int {
	if n := f.r.Task.Advanced.FullWorkers; n > 0 {
		return n
	}
	return max(2, runtime.NumCPU())
}

func (f *fullPhase) chunkRows() int {
	if n := f.r.Task.Advanced.ChunkRows; n > 0 {
		return n
	}
	return defaultChunkRows
}

// plan builds each table's segments, from the checkpoint when there is one.
func (f *fullPhase) plan(conn *client.Conn, saved map[string][]byte) error {
	for _, ref := range f.refs {
		t := f.tables[ref]
		o := f.r.Task.Lookup(ref.Database, ref.Table)
		tr := &tableRun{t: t, ref: ref, filter: o.Filter, key: mysql.ChunkKey(t)}
		tr.estimated = mysql.CountEstimate(conn, t)
		var states []segmentState
		// A table read in one pass has a saved plan only once it is done (flush): it is then
		// not read again.
		if raw, ok := saved[planKey(ref)]; ok {
			n, _ := strconv.Atoi(string(raw))
			for i := 0; i < n; i++ {
				var st segmentState
				if b, ok := saved[segKey(ref, i)]; ok {
					if err := json.Unmarshal(b, &st); err != nil {
						return fmt.Errorf("checkpoint of %s is damaged (%v): clear the task's progress to start it over", ref, err)
					}
				}
				states = append(states, st)
			}
		} else {
			var err error
			states, err = f.split(conn, tr)
			if err != nil {
				return err
			}
			if tr.key != nil {
				kv := map[string][]byte{planKey(ref): []byte(strconv.Itoa(len(states)))}
				for i, st := range states {
					b, _ := json.Marshal(st)
					kv[segKey(ref, i)] = b
				}
				if err := f.r.Checkpoints.Save(context.Background(), kv); err != nil {
					return fmt.Errorf("save checkpoint: %w", err)
				}
			}
		}
		for i, st := range states {
			sg := &segment{tr: tr, idx: i, state: st, cursor: st.After, window: make(chan struct{}, chunksInFlight)}
			tr.segments = append(tr.segments, sg)
			tr.acked.Add(st.Rows)
			if !st.Done {
				tr.pending.Add(1)
			}
		}
		if tr.estimated < tr.acked.Load() {
			tr.estimated = tr.acked.Load()
		}
		f.runs = append(f.runs, tr)
	}
	return nil
}

// split divides a table into segments: one per worker for a big table with one integer key.
func (f *fullPhase) split(conn *client.Conn, tr *tableRun) ([]segmentState, error) {
	w := f.workers()
	if tr.key == nil || !mysql.IsIntegerKey(tr.t, tr.key) || w < 2 || tr.estimated < int64(4*f.chunkRows()) {
		return []segmentState{{}}, nil
	}
	lo, hi, ok, err := mysql.MinMax(conn, tr.t, tr.key[0])
	if err != nil {
		return nil, err
	}
	if !ok || hi-lo < uint64(w)*2 {
		return []segmentState{{}}, nil
	}
	unsigned := tr.t.Columns[tr.key[0]].Unsigned
	step := (hi - lo) / uint64(w)
	var out []segmentState
	var prev []event.Value
	for i := 0; i < w; i++ {
		var upTo []event.Value
		if i < w-1 {
			upTo = []event.Value{mysql.KeyValue(lo+step*uint64(i+1), unsigned)}
		}
		out = append(out, segmentState{Lo: prev, After: prev, UpTo: upTo})
		prev = upTo
	}
	return out, nil
}

func (f *fullPhase) run(ctx context.Context, cancel context.CancelCauseFunc, saved map[string][]byte) error {
	conn, err := mysql.Connect(ctx, &f.r.Task.Source.MySQL)
	if err != nil {
		return err
	}
	err = f.plan(conn, saved)
	conn.Close()
	if err != nil {
		return err
	}
	f.dirty = map[*segment]bool{}

	// Work list: unfinished segments, small tables first so they complete early.
	var work []*segment
	for _, tr := range f.runs {
		for _, sg := range tr.segments {
			if !sg.state.Done {
				work = append(work, sg)
			}
		}
	}
	sort.SliceStable(work, func(i, j int) bool { return work[i].tr.estimated < work[j].tr.estimated })

	doneCh := make(chan *chunk, 1024)
	var wg sync.WaitGroup
	queue := make(chan *segment, len(work))
	for _, sg := range work {
		queue <- sg
	}
	close(queue)
	readErr := make(chan error, 1)
	for i := 0; i < min(f.workers(), max(1, len(work))); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var conn *client.Conn
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			w := &writer{s: f.sink}
			for sg := range queue {
				if conn == nil {
					c, err := mysql.Connect(ctx, &f.r.Task.Source.MySQL)
					if err != nil {
						select {
						case readErr <- err:
						default:
						}
						cancel(err)
						return
					}
					conn = c
				}
				if err := f.readSegment(ctx, conn, w, sg, doneCh); err != nil {
					select {
					case readErr <- err:
					default:
					}
					cancel(err)
					return
				}
			}
		}()
	}
	readersDone := make(chan struct{})
	go func() { wg.Wait(); close(readersDone) }()

	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	remaining := 0
	for _, tr := range f.runs {
		remaining += int(tr.pending.Load())
	}
	f.report()
	for remaining > 0 {
		select {
		case c := <-doneCh:
			// Commit every chunk acknowledged so far, then make it durable at once: a crash
			// then resends only what was really in flight.
			for more := true; more; {
				if f.complete(c) {
					remaining--
				}
				select {
				case c = <-doneCh:
				default:
					more = false
				}
			}
			if err := f.flush(ctx); err != nil {
				return err
			}
		case <-tick.C:
			if err := f.flush(ctx); err != nil {
				return err
			}
			if err := f.r.checkStall(f.sink); err != nil {
				return err
			}
			f.report()
		case err := <-f.sink.Err():
			cancel(err)
			<-readersDone
			f.flushQuiet()
			return err
		case err := <-readErr:
			<-readersDone
			f.flushQuiet()
			return err
		case <-ctx.Done():
			<-readersDone
			f.flushQuiet()
			return context.Cause(ctx)
		}
	}
	<-readersDone
	if err := f.flush(ctx); err != nil {
		return err
	}
	f.report()
	return nil
}

// readSegment reads one segment chunk by chunk from its resume point.
func (f *fullPhase) readSegment(ctx context.Context, conn *client.Conn, w *writer, sg *segment, doneCh chan<- *chunk) error {
	tr := sg.tr
	limit := f.chunkRows()
	if tr.key == nil {
		limit = 0 // one pass
	}
	lim := &f.r.full
	if f.snapshots {
		// Read the segment in one consistent snapshot whose binlog position is known, so that
		// incremental migration sends exactly the changes the snapshot does not hold.
		h, ok, err := mysql.BeginSnapshot(conn)
		if err != nil {
			return err
		}
		defer conn.Execute("ROLLBACK") //nolint:errcheck // read-only transaction
		if ok {
			sg.mu.Lock()
			from := sg.cursor
			sg.mu.Unlock()
			f.mu.Lock()
			sg.state.Pieces = append(sg.state.Pieces, piece{From: from, H: h})
			f.mu.Unlock()
		}
	}
	for {
		select {
		case sg.window <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if err := lim.Queries.Take(ctx, 1); err != nil {
			return err
		}
		ck := &chunk{seg: sg, done: doneCh}
		ck.pending.Add(1) // held until sealed, so acks cannot complete it early
		sg.mu.Lock()
		sg.queue = append(sg.queue, ck)
		after := sg.cursor
		sg.mu.Unlock()
		throttled := lim.active()
		// One Event for the whole chunk, refilled per row: the encoders and the router do not
		// keep it. INIT rows carry the time their chunk was read.
		ev := &event.Event{Kind: event.Init, Table: tr.t, Database: tr.t.Database, TableName: tr.t.Name,
			CommitTime: time.Now(), SourceVersion: f.server.Version}
		n, last, err := mysql.ReadChunk(ctx, conn, tr.t, tr.key, after, sg.state.UpTo, tr.filter, limit, func(row event.Row) error {
			ev.After, ev.Seq = row, f.r.nextSeq()
			ck.pending.Add(1)
			size, err := w.send(ctx, ev, ck)
			if err != nil {
				ck.pending.Add(-1)
				return err
			}
			if throttled {
				if err := lim.Rows.Take(ctx, 1); err != nil {
					return err
				}
				if err := lim.Bytes.Take(ctx, float64(size)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		ck.rows = int64(n)
		ck.last = last
		ck.final = limit == 0 || n < limit
		if last != nil {
			sg.mu.Lock()
			sg.cursor = last
			sg.mu.Unlock()
		}
		ck.pending.Add(-1)
		ck.seal()
		if ck.final {
			return nil
		}
	}
}

// complete records an acknowledged chunk and commits the segment's chunks in order. It
// reports whether the segment finished.
func (f *fullPhase) complete(c *chunk) bool {
	sg := c.seg
	sg.mu.Lock()
	defer sg.mu.Unlock()
	finished := false
	for len(sg.queue) > 0 && sg.queue[0].fired.Load() {
		head := sg.queue[0]
		sg.queue = sg.queue[1:]
		<-sg.window
		f.mu.Lock()
		if head.last != nil {
			sg.state.After = head.last
		}
		sg.state.Rows += head.rows
		if head.final {
			sg.state.Done = true
			finished = true
		}
		f.dirty[sg] = true
		f.mu.Unlock()
	}
	if finished {
		sg.tr.pending.Add(-1)
	}
	return finished
}

// flush saves the committed state of every segment that changed, in one transaction.
func (f *fullPhase) flush(ctx context.Context) error {
	f.mu.Lock()
	if len(f.dirty) == 0 {
		f.mu.Unlock()
		return nil
	}
	kv := make(map[string][]byte, len(f.dirty))
	for sg := range f.dirty {
		st := sg.state
		if sg.tr.key == nil {
			// A one-pass table is only worth recording when done.
			if !st.Done {
				continue
			}
		}
		b, _ := json.Marshal(st)
		kv[segKey(sg.tr.ref, sg.idx)] = b
		if sg.tr.key == nil {
			kv[planKey(sg.tr.ref)] = []byte("1")
		}
	}
	f.dirty = map[*segment]bool{}
	f.mu.Unlock()
	if len(kv) == 0 {
		return nil
	}
	if err := f.r.Checkpoints.Save(ctx, kv); err != nil {
		return &Permanent{fmt.Errorf("save checkpoint: %w", err)}
	}
	f.r.saves.Add(1)
	return nil
}

// flushQuiet saves what was committed before an error or a stop.
func (f *fullPhase) flushQuiet() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.flush(ctx); err != nil {
		f.r.Observer.Log("error", err.Error())
	}
}

// report sends progress to the observer.
func (f *fullPhase) report() {
	p := Progress{Phase: "full", LatencyMs: -1}
	for _, tr := range f.runs {
		rows, bytes := tr.acked.Load(), tr.bytes.Load()
		rps, bps := tr.meter.update(rows, bytes)
		tp := TableProgress{Database: tr.ref.Database, Table: tr.ref.Table, RowsDone: rows, RowsEstimated: max(tr.estimated, rows),
			RowsPerSec: rps, MBPerSec: bps / 1e6, Resumable: tr.key != nil}
		switch {
		case tr.pending.Load() == 0:
			tp.State = "Completed"
			tp.Percent = 100
			tp.RowsEstimated = rows
		case rows == 0 && rps == 0:
			tp.State = "Waiting"
		default:
			tp.State = "Migrating"
		}
		if tp.State != "Completed" && tp.RowsEstimated > 0 {
			tp.Percent = min(99.9, 100*float64(rows)/float64(tp.RowsEstimated))
			if rps > 0 {
				tp.ETASeconds = int64(float64(tp.RowsEstimated-rows) / rps)
			}
		}
		p.Tables = append(p.Tables, tp)
		p.RowsDone += tp.RowsDone
		p.RowsEstimated += tp.RowsEstimated
		p.RowsPerSec += rps
		p.MBPerSec += bps / 1e6
	}
	if p.RowsEstimated > 0 {
		p.Percent = 100 * float64(p.RowsDone) / float64(p.RowsEstimated)
	}
	allDone := true
	for _, tr := range f.runs {
		if tr.pending.Load() > 0 {
			allDone = false
		}
	}
	if allDone {
		p.Percent = 100
	} else if p.Percent > 99.9 {
		p.Percent = 99.9
	}
	f.r.fullSummary.Store(&p)
	f.r.Observer.Progress(p)
}
