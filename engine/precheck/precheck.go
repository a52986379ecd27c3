// Package precheck is the DTS "precheck" step: before a task starts, every item below is checked
// against the real source and destination and reported as passed, warning or failed, with the
// values found and the concrete fix. Failed items block the start; warnings block it until the
// user ignores them (DTS "Confirm Alert Details → Ignore").
//
// The checks run concurrently. Source items share a handful of bulk catalog queries (one query
// for all selected tables, never one per table); destination items share one metadata request.
// Nothing is ever written to the source or to a topic: topic creation is tested with
// CreateTopics validateOnly, write access with the broker's authorized operations or its ACLs.
package precheck

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"tributary/engine/event"
	"tributary/engine/task"
)

// Item results.
const (
	ResultPassed  = "passed"
	ResultWarning = "warning"
	ResultFailed  = "failed"
)

// Item is one precheck item as the window and the reports show it.
type Item struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Result    string   `json:"result"` // "passed" | "warning" | "failed"
	Details   []string `json:"details"`
	Fix       string   `json:"fix"`
	Ignorable bool     `json:"ignorable"`
	Ignored   bool     `json:"ignored"`
}

// Options tune a precheck run.
type Options struct {
	// ResumePosition is the binlog position a stopped task would resume from
	// (CHECK_BINLOG_EXIST); zero if none.
	ResumePosition event.Position
	// Resuming is true when the task has checkpoints (a stopped, paused or crashed task): the
	// messages already in its topics are its own (CHECK_SAME_OBJ passes).
	Resuming bool
	// EstimatedFullDuration is how long full migration is expected to take (CHECK_BINLOG_RETENTION);
	// 0 = estimate from the tables' row counts at ~100,000 rows/s.
	EstimatedFullDuration time.Duration
	// Ignored are the codes the user chose to ignore: those warnings get Ignored=true.
	Ignored []string
}

// Item codes.
const (
	CodeConnSrc          = "CHECK_CONN_SRC"
	CodeConnDest         = "CHECK_CONN_DEST"
	CodeSrc              = "CHECK_SRC"
	CodeAuthSrc          = "CHECK_AUTH_SRC"
	CodeBinlogOn         = "CHECK_BINLOG_ON"
	CodeBinlogMode       = "CHECK_BINLOG_MODE"
	CodeBinlogRowImage   = "CHECK_BINLOG_ROW_IMAGE"
	CodeBinlogMetadata   = "CHECK_BINLOG_METADATA"
	CodeBinlogRetention  = "CHECK_BINLOG_RETENTION"
	CodeBinlogExist      = "CHECK_BINLOG_EXIST"
	CodeServerID         = "CHECK_SERVER_ID"
	CodeLogSlaveUpdates  = "CHECK_LOG_SLAVE_UPDATES"
	CodeTableExist       = "CHECK_TABLE_EXIST"
	CodeTableCount       = "CHECK_TABLE_COUNT"
	CodeEngine           = "CHECK_ENGINE"
	CodePrimaryKey       = "CHECK_PRIMARY_KEY"
	CodeInvisibleColumn  = "CHECK_INVISIBLE_COLUMN"
	CodeFilter           = "CHECK_FILTER"
	CodeDestVersion      = "CHECK_DEST_VERSION"
	CodeAuthDest         = "CHECK_AUTH_DEST"
	CodeDestTopic        = "CHECK_DEST_TOPIC"
	CodeDDLTopic         = "CHECK_DDL_TOPIC"
	CodeMsgSize          = "CHECK_MSG_SIZE"
	CodeSameObj          = "CHECK_SAME_OBJ"
	CodeSettings         = "CHECK_SETTINGS"
	skippedSourceMessage = "skipped: the source cannot be reached"
	skippedDestMessage   = "skipped: the destination cannot be reached"
)

type needs uint8

const (
	needSrc needs = 1 << iota
	needDest
)

type checkDef struct {
	code, name string
	incrOnly   bool
	needs      needs
	// run is nil for the two connectivity items, which the connection steps report.
	run func(r *runner) Item
}

// defs is every item in display order.
var defs = []checkDef{
	{code: CodeConnSrc, name: "Source database connectivity"},
	{code: CodeConnDest, name: "Destination database connectivity"},
	{code: CodeSrc, name: "Source database version", needs: needSrc, run: (*runner).checkSrcVersion},
	{code: CodeAuthSrc, name: "Source database permissions", needs: needSrc, run: (*runner).checkAuthSrc},
	{code: CodeBinlogOn, name: "Whether binary logging is enabled for the source database", needs: needSrc, run: (*runner).checkBinlogOn},
	{code: CodeBinlogMode, name: "Binary log format of the source database", needs: needSrc, run: (*runner).checkBinlogMode},
	{code: CodeBinlogRowImage, name: "Value of binlog_row_image of the source database", needs: needSrc, run: (*runner).checkBinlogRowImage},
	{code: CodeBinlogMetadata, name: "Value of binlog_row_metadata of the source database", needs: needSrc, run: (*runner).checkBinlogMetadata},
	{code: CodeBinlogRetention, name: "Retention period of the source database's binary logs", needs: needSrc, run: (*runner).checkBinlogRetention},
	{code: CodeBinlogExist, name: "Existence of the binary logs to resume from", incrOnly: true, needs: needSrc, run: (*runner).checkBinlogExist},
	{code: CodeServerID, name: "Value of server_id of the source database", needs: needSrc, run: (*runner).checkServerID},
	{code: CodeLogSlaveUpdates, name: "Value of log_slave_updates of the source database", needs: needSrc, run: (*runner).checkLogSlaveUpdates},
	{code: CodeTableExist, name: "Existence of the objects to migrate", needs: needSrc, run: (*runner).checkTableExist},
	{code: CodeTableCount, name: "Number of tables with object name mapping", run: (*runner).checkTableCount},
	{code: CodeEngine, name: "Storage engines of the source tables", needs: needSrc, run: (*runner).checkEngine},
	{code: CodePrimaryKey, name: "Tables without a primary key or unique key", needs: needSrc, run: (*runner).checkPrimaryKey},
	{code: CodeInvisibleColumn, name: "Invisible columns in the source tables", needs: needSrc, run: (*runner).checkInvisibleColumns},
	{code: CodeFilter, name: "Filter conditions", needs: needSrc, run: (*runner).checkFilters},
	{code: CodeDestVersion, name: "Destination Kafka version", needs: needDest, run: (*runner).checkDestVersion},
	{code: CodeAuthDest, name: "Destination permissions", needs: needDest, run: (*runner).checkAuthDest},
	{code: CodeDestTopic, name: "Existence of the destination topics", needs: needDest, run: (*runner).checkDestTopics},
	{code: CodeDDLTopic, name: "Topic that stores DDL information", incrOnly: true, needs: needDest, run: (*runner).checkDDLTopic},
	{code: CodeMsgSize, name: "Size of the messages compared with the topics' limits", needs: needSrc | needDest, run: (*runner).checkMsgSize},
	{code: CodeSameObj, name: "Processing Mode of Conflicting Tables (topics that already hold data)", needs: needDest, run: (*runner).checkSameObj},
	{code: CodeSettings, name: "Task settings (retry windows and throttling)", run: (*runner).checkSettings},
}

func defFor(code string) *checkDef {
	for i := range defs {
		if defs[i].code == code {
			return &defs[i]
		}
	}
	return nil
}

// Codes returns the item codes Run will report for this task, in display order.
func Codes(t *task.Task) []string {
	out := make([]string, 0, len(defs))
	for _, d := range defs {
		if d.incrOnly && !t.MigrationTypes.Incremental {
			continue
		}
		out = append(out, d.code)
	}
	return out
}

// Name returns the display name of an item code ("" if unknown).
func Name(code string) string {
	if d := defFor(code); d != nil {
		return d.name
	}
	return ""
}

// Run runs every check concurrently and calls emit as each item finishes, one call at a time.
// It returns the items in Codes order. The task must be resolved (inline connections with
// their secrets).
func Run(ctx context.Context, t *task.Task, opts Options, emit func(Item)) []Item {
	r := newRunner(ctx, t, opts, emit)
	codes := Codes(t)

	stop := make(chan struct{})
	go func() { // cancellation interrupts catalog queries in flight
		select {
		case <-ctx.Done():
			r.pool.closeAll()
		case <-stop:
		}
	}()

	var wg sync.WaitGroup
	wg.Go(r.connectSource)
	wg.Go(r.connectDest)
	for _, code := range codes {
		d := defFor(code)
		if d.run == nil {
			continue
		}
		wg.Go(func() { r.report(r.exec(d)) })
	}
	wg.Wait()
	close(stop)
	r.close()

	out := make([]Item, 0, len(codes))
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range codes {
		if it, ok := r.results[c]; ok {
			out = append(out, it)
		}
	}
	return out
}

// Passed reports whether a task may start: no failed item and every warning ignored.
func Passed(items []Item) bool {
	for _, it := range items {
		switch it.Result {
		case ResultFailed:
			return false
		case ResultWarning:
			if !it.Ignored {
				return false
			}
		case ResultPassed:
		default:
			return false
		}
	}
	return true
}

// runner holds one precheck run's shared state.
type runner struct {
	ctx     context.Context
	t       *task.Task
	opts    Options
	ignored map[string]bool

	mu      sync.Mutex // serialises emit and guards results
	emit    func(Item)
	results map[string]Item

	src  *srcState
	dest *destState
	pool *connPool
}

func newRunner(ctx context.Context, t *task.Task, opts Options, emit func(Item)) *runner {
	r := &runner{ctx: ctx, t: t, opts: opts, emit: emit, results: map[string]Item{}, ignored: map[string]bool{}}
	for _, c := range opts.Ignored {
		r.ignored[strings.TrimSpace(c)] = true
	}
	r.pool = &connPool{m: &t.Source.MySQL, sem: make(chan struct{}, poolSize)}
	r.src = newSrcState(r)
	r.dest = newDestState(r)
	return r
}

func (r *runner) close() {
	r.pool.closeAll()
	r.dest.close()
}

// exec waits for the sides an item needs and runs it (a panic becomes a failed item).
func (r *runner) exec(d *checkDef) (it Item) {
	it.Code = d.code
	defer func() {
		if p := recover(); p != nil {
			it = Item{Code: d.code, Result: ResultFailed,
				Details: []string{fmt.Sprintf("internal error in the check: %v", p), string(debug.Stack())},
				Fix:     "Report this as a Tributary bug, with the details above."}
		}
	}()
	if d.needs&needSrc != 0 {
		select {
		case <-r.src.ready:
		case <-r.ctx.Done():
			return canceled(d.code, r.ctx.Err())
		}
		if r.src.connErr != nil {
			return skipped(d.code, skippedSourceMessage, "Fix the source connectivity item first, then run the precheck again.")
		}
	}
	if d.needs&needDest != 0 {
		select {
		case <-r.dest.ready:
		case <-r.ctx.Done():
			return canceled(d.code, r.ctx.Err())
		}
		if r.dest.connErr != nil {
			return skipped(d.code, skippedDestMessage, "Fix the destination connectivity item first, then run the precheck again.")
		}
	}
	if err := r.ctx.Err(); err != nil {
		return canceled(d.code, err)
	}
	it = d.run(r)
	it.Code = d.code
	return it
}

func skipped(code, why, fix string) Item {
	return Item{Code: code, Result: ResultFailed, Details: []string{why}, Fix: fix}
}

func canceled(code string, err error) Item {
	return Item{Code: code, Result: ResultFailed, Details: []string{"the precheck was canceled: " + err.Error()}, Fix: "Run the precheck again."}
}

// report completes an item (name, ignore state) and emits it.
func (r *runner) report(it Item) {
	if d := defFor(it.Code); d != nil && it.Name == "" {
		it.Name = d.name
	}
	if it.Details == nil {
		it.Details = []string{}
	}
	if it.Result != ResultWarning {
		it.Ignorable = false
	}
	it.Ignored = it.Result == ResultWarning && it.Ignorable && r.ignored[it.Code]
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results[it.Code] = it
	if r.emit != nil {
		r.emit(it)
	}
}

// Helpers to build items.

func passed(details ...string) Item { return Item{Result: ResultPassed, Details: details} }

func warning(details []string, fix string) Item {
	return Item{Result: ResultWarning, Details: details, Fix: fix, Ignorable: true}
}

func failed(details []string, fix string) Item {
	return Item{Result: ResultFailed, Details: details, Fix: fix}
}

// listNames joins up to max names and says how many more there are.
func listNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s … and %d more", strings.Join(names[:max], ", "), len(names)-max)
}

// capLines keeps at most max lines and says how many more there are.
func capLines(lines []string, max int) []string {
	if len(lines) <= max {
		return lines
	}
	out := append([]string(nil), lines[:max]...)
	return append(out, fmt.Sprintf("… and %d more", len(lines)-max))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// humanDuration renders a duration in days, hours or minutes.
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= 2*time.Hour:
		return fmt.Sprintf("%.1f hours", d.Hours())
	case d >= time.Minute:
		return fmt.Sprintf("%.0f minutes", d.Minutes())
	}
	return fmt.Sprintf("%.0f seconds", d.Seconds())
}

// checkTableCount is DTS's limit on tables selected with name mapping.
func (r *runner) checkTableCount() Item {
	n := len(r.t.Objects)
	if n > task.MaxMappedTables {
		return failed([]string{fmt.Sprintf("%d tables are selected; at most %d tables with object name mapping fit in one task (as in DTS)", n, task.MaxMappedTables)},
			fmt.Sprintf("Split the task into %d tasks of at most %d tables each.", (n+task.MaxMappedTables-1)/task.MaxMappedTables, task.MaxMappedTables))
	}
	return passed(fmt.Sprintf("%s selected (limit %d)", plural(n, "table", "tables"), task.MaxMappedTables))
}

// checkSettings maps task validation errors on $.advanced.* into one item.
func (r *runner) checkSettings() Item {
	var details []string
	if err := r.t.Validate(); err != nil {
		for _, fe := range task.AsErrors(err) {
			if strings.HasPrefix(fe.Path, "$.advanced") {
				details = append(details, fe.Path+": "+fe.Message)
			}
		}
	}
	a := &r.t.Advanced
	if len(details) > 0 {
		return failed(details, "Correct the advanced settings named above (Retry Time for Failed Connections: 10–1440 minutes; Retry Time for Other Issues: 1–1440 minutes and smaller than the former; throttling limits within their ranges).")
	}
	out := []string{
		fmt.Sprintf("Retry Time for Failed Connections: %d minutes; Retry Time for Other Issues: %d minutes", a.RetryConnectionMinutes, a.RetryOtherMinutes),
		"full migration throttling: " + throttleText(a.FullThrottle, true),
		"incremental migration throttling: " + throttleText(a.IncrementalThrottle, false),
	}
	return passed(out...)
}

func throttleText(th task.Throttle, full bool) string {
	if !th.Enabled {
		return "off"
	}
	var parts []string
	if full && th.QPS > 0 {
		parts = append(parts, fmt.Sprintf("%d queries/s", th.QPS))
	}
	if th.RPS > 0 {
		parts = append(parts, fmt.Sprintf("%d rows/s", th.RPS))
	}
	if th.MBps > 0 {
		parts = append(parts, fmt.Sprintf("%g MB/s", th.MBps))
	}
	return strings.Join(parts, ", ")
}
