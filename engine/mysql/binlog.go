package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"tributary/engine/event"
	"tributary/engine/task"
)

// The binlog stream.
//
// A Stream reads the source's binlog as a replica (go-mysql's BinlogSyncer) and returns it as
// a sequence of Txn batches: the row changes of the selected tables and the DDL statements, one
// committed transaction after the other, in binlog (= commit) order.
//
// Batching and commits: memory stays flat whatever the size of a transaction. Next returns at
// most MaxBatch events (and about MaxBatchBytes of values) at a time; a transaction larger
// than that comes as several batches with the same SafePos and GTID and increasing Part, and
// only its last batch has Commit=true. Only a Commit batch carries a resume point (Txn.Pos,
// the position after the commit event); the pipeline must not checkpoint a position from a
// partial batch, and after a crash it restarts from the last committed Pos, re-reading the
// whole interrupted transaction (its partial batches may then be delivered twice: at-least-
// once, as for every event between two checkpoints). A transaction without events for the
// selected tables still returns one empty Commit batch, so that the checkpoint advances.
// go-mysql decodes ahead of Next into a queue of at most 256 binlog events (each ~8 KB of rows
// for MariaDB's and MySQL's default binlog_row_event_max_size).
//
// A DDL statement outside a transaction is its own Commit batch (one DDL event). DDL inside a
// transaction (MariaDB's CREATE TABLE … SELECT) is an event of that transaction.
//
// Events: row events carry the schema their row was written with (see SchemaHistory); all
// events of one table version share one *event.Table, so encoders may cache by pointer. Pos is
// the start of the binlog event that holds the row (several rows share it), with the GTID set
// executed before the transaction; SafePos the start of the transaction. UPDATE rows carry
// Before and After, DELETE Before, INSERT After, all in the canonical text of conn.go, equal
// byte for byte to what the snapshot reads (types_test.go proves it for every type).
//
// Reconnection is the caller's: on any error the Stream is done (Next keeps returning the
// error); Close it and open a new one at the last committed position. A ctx that ends only
// interrupts Next.

// Batch limits of a Stream.
const (
	DefaultMaxBatch      = 1024
	DefaultMaxBatchBytes = 4 << 20
)

// StreamConfig configures OpenStream.
type StreamConfig struct {
	Source *task.MySQL
	// ServerID is the replica server_id announced to the source; it must differ from every
	// other replica's. 0 = Source.ServerID, else a random id.
	ServerID uint32
	// Start is where to start: a Txn.Pos of an earlier stream, or CurrentPosition. By default
	// the stream starts at Start.File:Start.Offset when it has a file, else after Start.GTID
	// (the GTID set executed so far).
	Start event.Position
	// UseGTID starts after Start.GTID even when Start has a file (survives binlog purges and
	// renamed files, e.g. after a failover).
	UseGTID bool
	// Flavor is "mysql" or "mariadb" (ServerInfo.MariaDB).
	Flavor string
	// Tables says whether a table is selected; nil selects all (system databases never are).
	// It is also called with table "" for DDL that names no table (CREATE/DROP DATABASE,
	// CREATE PROCEDURE …, "other"). It is called from the decoding goroutine too: it must be
	// safe for concurrent use.
	Tables func(db, table string) bool
	// History is the schema history to decode with (see SchemaHistory); nil starts an empty
	// one that learns tables from the catalog when first seen.
	History *SchemaHistory
	// MaxBatch and MaxBatchBytes bound one Txn batch (0 = the defaults).
	MaxBatch      int
	MaxBatchBytes int
	// SourceVersion is copied into every event.
	SourceVersion string
	// Warn receives warnings (schema reloaded from the catalog, statement-based events); nil
	// discards them.
	Warn func(msg string)
}

// Txn is one batch of a committed transaction.
type Txn struct {
	Events []*event.Event
	// Commit is true on the last batch of a transaction. Only then is Pos a resume point.
	Commit bool
	// Pos is, when Commit, the position right after the transaction's commit, with the GTID
	// set executed including it: where a new stream resumes with nothing lost or repeated.
	// Otherwise it is the position of the last event read (not a resume point).
	Pos event.Position
	// SafePos is the start of the transaction: resuming there replays it whole.
	SafePos event.Position
	// CommitTime is the time of the commit event (or of the last event read, when !Commit).
	CommitTime time.Time
	// GTID is the transaction's GTID ("0-1-10", "uuid:42"); empty without GTIDs.
	GTID string
	// Part numbers the batches of one transaction from 0.
	Part int
}

// Stream reads the binlog. It is not safe for concurrent use.
type Stream struct {
	cfg      StreamConfig
	mariadb  bool
	maxBatch int
	maxBytes int
	syncer   *replication.BinlogSyncer
	events   *replication.BinlogStreamer
	hist     *SchemaHistory
	catalog  *client.Conn
	err      error

	file   string
	offset uint64
	gset   gmysql.GTIDSet

	// The transaction being read.
	inTxn      bool
	explicit   bool // ends at XID/COMMIT (else at its DDL statement)
	txnStart   event.Position
	txnGTID    string
	pending    string // the GTID to add to gset at commit
	part       int
	batch      []*event.Event
	batchBytes int

	// A rows event partly emitted.
	rows     *replication.RowsEvent
	rowsHdr  *replication.EventHeader
	rowsIdx  int
	rowsBind *binding
	rowsPos  event.Position

	// Events of a compressed transaction payload still to handle, and its start.
	inner        []*replication.BinlogEvent
	payloadStart uint64
	// An event to handle again (it began a transaction while the previous one was open).
	requeue *replication.BinlogEvent

	bindings map[uint64]*binding
	scratch  []byte
	ends     []int
	warned   map[string]bool
}

// binding is a table id of the binlog bound to the schema its rows are decoded with.
type binding struct {
	db, name string
	skip     bool
	table    *event.Table
	convs    []colConv
}

var systemDBs = map[string]bool{"mysql": true, "information_schema": true, "performance_schema": true, "sys": true}

// OpenStream connects to the source as a replica and starts reading at cfg.Start.
func OpenStream(ctx context.Context, cfg StreamConfig) (*Stream, error) {
	if cfg.Source == nil {
		return nil, errors.New("open binlog stream: no source connection settings")
	}
	if cfg.Start.IsZero() {
		return nil, errors.New("open binlog stream: no start position (read one with CurrentPosition)")
	}
	flavor := strings.ToLower(cfg.Flavor)
	if flavor != gmysql.MariaDBFlavor {
		flavor = gmysql.MySQLFlavor
	}
	cfg.Flavor = flavor
	pw, err := Password(cfg.Source)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := TLSConfig(cfg.Source.TLS, cfg.Source.Encryption == "ssl", cfg.Source.Host)
	if err != nil {
		return nil, err
	}
	serverID := cfg.ServerID
	if serverID == 0 {
		serverID = cfg.Source.ServerID
	}
	if serverID == 0 {
		serverID = 1<<30 + rand.Uint32N(1<<30)
	}
	port := cfg.Source.Port
	if port == 0 {
		port = 3306
	}
	s := &Stream{
		cfg:      cfg,
		mariadb:  flavor == gmysql.MariaDBFlavor,
		maxBatch: cfg.MaxBatch,
		maxBytes: cfg.MaxBatchBytes,
		hist:     cfg.History,
		bindings: map[uint64]*binding{},
		warned:   map[string]bool{},
	}
	if s.maxBatch <= 0 {
		s.maxBatch = DefaultMaxBatch
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxBatchBytes
	}
	if s.hist == nil {
		s.hist = NewSchemaHistory(flavor)
	}
	s.hist.Truncate(cfg.Start)

	useGTID := cfg.Start.File == "" || cfg.UseGTID
	if cfg.Start.GTID != "" {
		if s.gset, err = gmysql.ParseGTIDSet(flavor, cfg.Start.GTID); err != nil {
			return nil, fmt.Errorf("open binlog stream: the start GTID set %q is not valid: %w", cfg.Start.GTID, err)
		}
	} else if useGTID {
		if s.gset, err = gmysql.ParseGTIDSet(flavor, ""); err != nil {
			return nil, err
		}
	} else if s.mariadb {
		// The GTID state at a file position, so that commit positions carry GTIDs.
		if conn, err := s.catalogConn(ctx); err == nil {
			if res, err := conn.Execute("SELECT BINLOG_GTID_POS(" + QuoteString(cfg.Start.File) + ", " + strconv.FormatUint(cfg.Start.Offset, 10) + ")"); err == nil {
				if res.RowNumber() > 0 {
					s.gset, _ = gmysql.ParseMariadbGTIDSet(cell(res, 0, 0))
				}
				res.Close()
			}
		}
	}

	scfg := replication.BinlogSyncerConfig{
		ServerID:                serverID,
		Flavor:                  flavor,
		Host:                    cfg.Source.Host,
		Port:                    uint16(port),
		User:                    cfg.Source.User,
		Password:                pw,
		TLSConfig:               tlsCfg,
		ParseTime:               false,
		TimestampStringLocation: time.UTC,
		UseDecimal:              false,
		RenderJSONAsMySQLText:   true,
		HeartbeatPeriod:         10 * time.Second,
		ReadTimeout:             60 * time.Second,
		DisableRetrySync:        true,
		VerifyChecksum:          true,
		EventCacheCount:         256,
		FillZeroLogPos:          flavor == gmysql.MariaDBFlavor,
		Logger:                  slog.New(slog.DiscardHandler),
		RowsEventDecodeFunc:     s.decodeRows,
	}
	s.syncer = replication.NewBinlogSyncer(scfg)
	if useGTID {
		s.events, err = s.syncer.StartSyncGTID(s.gset.Clone())
	} else {
		s.file, s.offset = cfg.Start.File, cfg.Start.Offset
		s.events, err = s.syncer.StartSync(gmysql.Position{Name: cfg.Start.File, Pos: uint32(cfg.Start.Offset)})
	}
	if err != nil {
		s.Close()
		if IsConnError(err) || errors.As(err, new(*gmysql.MyError)) {
			return nil, Explain(err, cfg.Source)
		}
		return nil, fmt.Errorf("start reading the binlog at %s: %w", cfg.Start, err)
	}
	return s, nil
}

// decodeRows decodes a rows event, skipping the rows of tables that are not selected.
func (s *Stream) decodeRows(e *replication.RowsEvent, data []byte) error {
	pos, err := e.DecodeHeader(data)
	if err != nil {
		return err
	}
	if e.Table != nil && !s.selected(string(e.Table.Schema), string(e.Table.Table)) {
		return nil
	}
	return e.DecodeData(pos, data)
}

func (s *Stream) selected(db, table string) bool {
	if systemDBs[strings.ToLower(db)] {
		return false
	}
	return s.cfg.Tables == nil || s.cfg.Tables(db, table)
}

func (s *Stream) catalogConn(ctx context.Context) (*client.Conn, error) {
	if s.catalog != nil {
		if err := s.catalog.Ping(); err == nil {
			return s.catalog, nil
		}
		s.catalog.Close()
		s.catalog = nil
	}
	c, err := Connect(ctx, s.cfg.Source)
	if err != nil {
		return nil, err
	}
	s.catalog = c
	return c, nil
}

func (s *Stream) warn(msg string) {
	if s.cfg.Warn != nil {
		s.cfg.Warn(msg)
	}
}

// Close stops reading and closes the connections.
func (s *Stream) Close() {
	if s.syncer != nil {
		s.syncer.Close()
		s.syncer = nil
	}
	if s.catalog != nil {
		s.catalog.Close()
		s.catalog = nil
	}
	if s.err == nil {
		s.err = errors.New("the binlog stream is closed")
	}
}

// Position is the position after the last event read (inside a transaction: not a resume
// point).
func (s *Stream) Position() event.Position { return s.pos(s.offset) }

func (s *Stream) pos(offset uint64) event.Position {
	p := event.Position{File: s.file, Offset: offset}
	if s.gset != nil {
		p.GTID = s.gset.String()
	}
	return p
}

// Next returns the next batch (see the package notes on batching). It blocks until there is
// one or ctx ends; a ctx error leaves the stream usable.
func (s *Stream) Next(ctx context.Context) (*Txn, error) {
	if s.err != nil {
		return nil, s.err
	}
	for {
		if s.rows != nil {
			full, err := s.emitRows()
			if err != nil {
				s.err = err
				return nil, err
			}
			if full {
				return s.partial(), nil
			}
		}
		var ev *replication.BinlogEvent
		inner := false
		if s.requeue != nil {
			ev, s.requeue = s.requeue, nil
		} else if len(s.inner) > 0 {
			ev, s.inner, inner = s.inner[0], s.inner[1:], true
		} else {
			var err error
			ev, err = s.events.GetEvent(ctx)
			if err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
					return nil, err
				}
				s.err = s.readError(err)
				return nil, s.err
			}
		}
		txn, err := s.handle(ctx, ev, inner)
		if err != nil {
			s.err = err
			return nil, err
		}
		if txn != nil {
			return txn, nil
		}
	}
}

// readError explains a failure to read the binlog.
func (s *Stream) readError(err error) error {
	var myErr *gmysql.MyError
	if errors.As(err, &myErr) && myErr.Code == gmysql.ER_MASTER_FATAL_ERROR_READING_BINLOG {
		return fmt.Errorf("the source cannot send its binlog from %s: %s. The binlog there was probably purged: keep binlogs longer on the source (binlog_expire_logs_seconds / expire_logs_days) and restart the task with a full migration", s.Position(), myErr.Message)
	}
	return fmt.Errorf("read the binlog after %s: %w", s.Position(), err)
}

func (s *Stream) handle(ctx context.Context, ev *replication.BinlogEvent, inner bool) (*Txn, error) {
	h := ev.Header
	if _, ok := ev.Event.(*replication.HeartbeatEvent); ok {
		return nil, nil // its position is the source's, not one of the stream
	}
	start := s.offset
	if inner {
		start = s.payloadStart
	} else if h.LogPos > 0 {
		if h.LogPos >= h.EventSize {
			start = uint64(h.LogPos - h.EventSize)
		}
		s.offset = uint64(h.LogPos)
	}
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		s.file, s.offset = string(e.NextLogName), e.Position
	case *replication.MariadbGTIDEvent:
		if s.inTxn {
			return s.interrupted(ev), nil
		}
		g := e.GTID
		s.begin(start)
		s.txnGTID = g.String()
		s.pending = s.txnGTID
		s.explicit = !e.IsStandalone()
	case *replication.GTIDEvent:
		if s.inTxn {
			return s.interrupted(ev), nil
		}
		s.begin(start)
		s.explicit = false
		if !allZero(e.SID) {
			if next, err := e.GTIDNext(); err == nil {
				s.txnGTID = next.String()
				s.pending = s.txnGTID
			}
		}
	case *replication.GtidTaggedLogEvent:
		if s.inTxn {
			return s.interrupted(ev), nil
		}
		s.begin(start)
		s.explicit = false
		if next, err := e.GTIDNext(); err == nil {
			s.txnGTID = next.String()
			s.pending = s.txnGTID
		}
	case *replication.QueryEvent:
		return s.query(ctx, e, h, start)
	case *replication.XIDEvent:
		return s.commit(h), nil
	case *replication.TableMapEvent:
		return nil, s.bind(ctx, e, start)
	case *replication.RowsEvent:
		if !s.inTxn {
			s.begin(start)
			s.explicit = true
		}
		b := s.bindings[e.TableID]
		if b == nil {
			return nil, fmt.Errorf("binlog at %s:%d: a row event for table id %d without its table map event", s.file, start, e.TableID)
		}
		if b.skip || len(e.Rows) == 0 {
			return nil, nil
		}
		for _, sk := range e.SkippedColumns {
			if len(sk) > 0 {
				return nil, fmt.Errorf("binlog at %s:%d: a row event of %s.%s lacks columns: set binlog_row_image=FULL on the source", s.file, start, b.db, b.name)
			}
		}
		s.rows, s.rowsHdr, s.rowsIdx, s.rowsBind = e, h, 0, b
		s.rowsPos = event.Position{File: s.file, Offset: start, GTID: s.txnStart.GTID}
	case *replication.GenericEvent:
		if h.EventType == replication.XA_PREPARE_LOG_EVENT && s.inTxn {
			// The rows of an XA transaction are logged at its PREPARE; they are delivered
			// then (an XA ROLLBACK later does not take them back).
			return s.commit(h), nil
		}
	case *replication.TransactionPayloadEvent:
		s.payloadStart = start
		s.inner = append(append([]*replication.BinlogEvent(nil), e.Events...), s.inner...)
	case *replication.PreviousGTIDsEvent:
		if s.gset == nil && !s.mariadb {
			s.gset, _ = gmysql.ParseMysqlGTIDSet(e.GTIDSets)
		}
	case *replication.MariadbGTIDListEvent:
		if s.gset == nil && s.mariadb {
			set := &gmysql.MariadbGTIDSet{Sets: map[uint32]*gmysql.MariadbGTID{}}
			for i := range e.GTIDs {
				g := e.GTIDs[i]
				_ = set.AddSet(&g)
			}
			s.gset = set
		}
	}
	return nil, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// interrupted ends a transaction whose end the stream did not see (a GTID event arrived
// inside it) as committed at the start of the new one, and handles the new event next.
func (s *Stream) interrupted(ev *replication.BinlogEvent) *Txn {
	s.warn(fmt.Sprintf("binlog at %s: transaction %s has no commit event before the next transaction; treating it as committed", s.txnStart, s.txnGTID))
	h := ev.Header
	if h.LogPos >= h.EventSize {
		s.offset = uint64(h.LogPos - h.EventSize) // the commit is where the new one starts
	}
	s.requeue = ev
	return s.commit(h)
}

func (s *Stream) begin(start uint64) {
	s.inTxn = true
	s.explicit = false
	s.txnStart = s.pos(start)
	s.txnGTID, s.pending = "", ""
	s.part = 0
}

// commit ends the transaction at the current position.
func (s *Stream) commit(h *replication.EventHeader) *Txn {
	if !s.inTxn {
		s.txnStart = s.pos(s.offset)
	}
	s.addPending()
	t := &Txn{
		Events:     s.batch,
		Commit:     true,
		Pos:        s.pos(s.offset),
		SafePos:    s.txnStart,
		CommitTime: time.Unix(int64(h.Timestamp), 0),
		GTID:       s.txnGTID,
		Part:       s.part,
	}
	s.inTxn, s.explicit = false, false
	s.txnGTID, s.pending = "", ""
	s.batch, s.batchBytes, s.part = nil, 0, 0
	return t
}

// addPending adds the transaction's GTID to the executed set. While that set is unknown (a
// MySQL stream started at a file offset, until the next file's Previous_gtids event) it stays
// unknown: a partial set would be a wrong resume point.
func (s *Stream) addPending() {
	if s.pending != "" && s.gset != nil {
		if s.mariadb {
			if g, err := gmysql.ParseMariadbGTID(s.pending); err == nil {
				_ = s.gset.(*gmysql.MariadbGTIDSet).AddSet(g)
			}
		} else {
			_ = s.gset.Update(s.pending)
		}
	}
	s.pending = ""
}

// partial returns the batch read so far of a transaction that continues.
func (s *Stream) partial() *Txn {
	t := &Txn{
		Events:  s.batch,
		Pos:     s.rowsPos,
		SafePos: s.txnStart,
		GTID:    s.txnGTID,
		Part:    s.part,
	}
	if s.rowsHdr != nil {
		t.CommitTime = time.Unix(int64(s.rowsHdr.Timestamp), 0)
	}
	s.part++
	s.batch, s.batchBytes = nil, 0
	return t
}

// query handles a query event: transaction control, or DDL.
func (s *Stream) query(ctx context.Context, e *replication.QueryEvent, h *replication.EventHeader, start uint64) (*Txn, error) {
	q := strings.TrimSpace(string(e.Query))
	upper := strings.ToUpper(q[:min(len(q), 20)])
	word := upper
	if i := strings.IndexAny(word, " \t\r\n;("); i >= 0 {
		word = word[:i]
	}
	switch {
	case word == "BEGIN" || strings.HasPrefix(upper, "START TRANSACTION"):
		if !s.inTxn {
			s.begin(start)
		}
		s.explicit = true
		return nil, nil
	case word == "COMMIT":
		return s.commit(h), nil
	case word == "ROLLBACK" && !strings.HasPrefix(upper, "ROLLBACK TO"):
		// Logged when a transaction that changed non-transactional tables rolls back: what
		// the binlog holds of it did happen.
		return s.commit(h), nil
	case word == "SAVEPOINT" || word == "RELEASE" || strings.HasPrefix(upper, "ROLLBACK TO"):
		return nil, nil
	case word == "XA":
		switch {
		case strings.HasPrefix(upper, "XA START") || strings.HasPrefix(upper, "XA BEGIN"):
			if !s.inTxn {
				s.begin(start)
			}
			s.explicit = true
		case strings.HasPrefix(upper, "XA END"):
		default: // XA COMMIT/ROLLBACK of a prepared transaction: its own transaction
			if s.inTxn && !s.explicit {
				return s.commit(h), nil
			}
		}
		return nil, nil
	}
	db := string(e.Schema)
	info := ClassifyDDL(q, db)
	if info.DML {
		key := "dml " + db
		if !s.warned[key] {
			s.warned[key] = true
			s.warn(fmt.Sprintf("binlog at %s:%d holds a statement-based change (%.60s…) that is not migrated: set binlog_format=ROW on the source", s.file, start, q))
		}
		if s.inTxn && !s.explicit {
			return s.commit(h), nil
		}
		return nil, nil
	}
	if !s.inTxn {
		s.begin(start)
	}
	// MySQL 8's atomic CREATE TABLE … SELECT is "CREATE TABLE … START TRANSACTION", then
	// the rows and an XID event.
	if strings.HasSuffix(strings.ToUpper(q), "START TRANSACTION") {
		s.explicit = true
	}
	commitNow := !s.explicit
	if commitNow {
		s.addPending()
	}
	res := s.hist.Apply(s.pos(s.offset), db, q, s.selected)
	for r, why := range res.Stale {
		s.warn(fmt.Sprintf("schema history: %s at %s:%d changed %s in a way the history cannot follow (%s); its schema will be read from the catalog at its next row event", res.Info.Kind, s.file, start, r, why))
	}
	// Table ids may be reused with another schema after DDL.
	s.bindings = map[uint64]*binding{}
	if s.ddlSelected(res.Info) {
		s.batch = append(s.batch, &event.Event{
			Kind:          event.DDL,
			Table:         res.Table,
			Database:      res.Info.Database,
			TableName:     res.Info.Object,
			DDLKind:       res.Info.Kind,
			SQL:           q,
			Pos:           event.Position{File: s.file, Offset: start, GTID: s.txnStart.GTID},
			SafePos:       s.txnStart,
			CommitTime:    time.Unix(int64(h.Timestamp), 0),
			ServerID:      h.ServerID,
			SourceVersion: s.cfg.SourceVersion,
		})
	}
	if commitNow {
		return s.commit(h), nil
	}
	return nil, nil
}

func (s *Stream) ddlSelected(info DDLInfo) bool {
	if info.Account {
		return false
	}
	if len(info.Tables) > 0 {
		for _, r := range info.Tables {
			if s.selected(r.Database, r.Table) {
				return true
			}
		}
		return false
	}
	return s.selected(info.Database, "")
}

// bind resolves the schema of a table map event.
func (s *Stream) bind(ctx context.Context, tme *replication.TableMapEvent, start uint64) error {
	db, name := string(tme.Schema), string(tme.Table)
	if !s.selected(db, name) {
		s.bindings[tme.TableID] = &binding{db: db, name: name, skip: true}
		return nil
	}
	if b := s.bindings[tme.TableID]; b != nil && !b.skip && b.db == db && b.name == name {
		if v := s.hist.Current(db, name); v != nil && v.Table == b.table && int(tme.ColumnCount) == len(b.table.Columns) {
			return nil
		}
	}
	t, err := s.resolve(ctx, tme, start)
	if err != nil {
		return err
	}
	s.bindings[tme.TableID] = &binding{db: db, name: name, table: t, convs: columnConvs(t)}
	return nil
}

// withBinlogMembers returns the table with the ENUM and SET members the table map carries
// (binlog_row_metadata=FULL) where they differ from the schema's, or the table itself. The
// server's metadata (information_schema, SHOW CREATE TABLE) is utf8mb3 and shows a member
// with a 4-byte character such as an emoji as '?'; the binlog has it right.
func withBinlogMembers(t *event.Table, tme *replication.TableMapEvent) *event.Table {
	enums, sets := tme.EnumStrValueMap(), tme.SetStrValueMap()
	if enums == nil && sets == nil {
		return t
	}
	var out *event.Table
	for i := range t.Columns {
		c := &t.Columns[i]
		raw, ok := enums[i]
		if c.DataType == "set" {
			raw, ok = sets[i]
		}
		if !ok || (c.DataType != "enum" && c.DataType != "set") {
			continue
		}
		m := decodeElements(raw, c.Charset)
		if slices.Equal(m, c.Elements) {
			continue
		}
		if out == nil {
			cp := *t
			cp.Columns = slices.Clone(t.Columns)
			out = &cp
		}
		out.Columns[i].Elements = m
	}
	if out == nil {
		return t
	}
	return out
}

// resolve finds the schema to decode a table's rows with: the history's, checked against the
// table map; else (full row metadata) one built from the table map; else the catalog's.
func (s *Stream) resolve(ctx context.Context, tme *replication.TableMapEvent, start uint64) (*event.Table, error) {
	db, name := string(tme.Schema), string(tme.Table)
	at := event.Position{File: s.file, Offset: start}
	v := s.hist.Current(db, name)
	why := "the table is not in the schema history"
	var base *event.Table
	if v != nil {
		switch {
		case v.Stale:
			why = "the schema history lost track of it (" + v.Reason + ")"
		case v.Dropped || v.Table == nil:
			why = "the schema history has it dropped"
		default:
			base = v.Table
			if why = checkTableMap(v.Table, s.cfg.Flavor, tme); why == "" {
				if fixed := withBinlogMembers(v.Table, tme); fixed != v.Table {
					s.hist.Put(at, fixed, "")
					return fixed, nil
				}
				return v.Table, nil
			}
			why = "the schema history does not match the binlog: " + why
		}
	}
	if len(tme.ColumnName) == int(tme.ColumnCount) && tme.ColumnCount > 0 {
		// Full row metadata: the binlog names and types the columns.
		if base == nil {
			if ct, _, err := s.loadCatalog(ctx, db, name); err == nil {
				base = ct
			}
		}
		t := tableFromTableMap(tme, s.cfg.Flavor, base)
		if v != nil && !v.Stale {
			s.warn(fmt.Sprintf("%s.%s at %s:%d: %s; using the binlog's full row metadata", db, name, s.file, start, why))
		}
		s.hist.Put(at, t, "")
		return t, nil
	}
	ct, cs, err := s.loadCatalog(ctx, db, name)
	if err != nil {
		return nil, fmt.Errorf("decode rows of %s.%s at %s:%d: %s, and reading its schema from the catalog failed: %w", db, name, s.file, start, why, err)
	}
	if ct == nil {
		return nil, fmt.Errorf("decode rows of %s.%s at %s:%d: %s, and the table no longer exists on the source. Set binlog_row_metadata=FULL on the source so the binlog carries the schema, or restart the task with a full migration", db, name, s.file, start, why)
	}
	if why2 := checkTableMap(ct, s.cfg.Flavor, tme); why2 != "" {
		return nil, fmt.Errorf("decode rows of %s.%s at %s:%d: %s, and the catalog's current schema does not match the binlog either (%s): the table changed since. Set binlog_row_metadata=FULL on the source so the binlog carries the schema, or restart the task with a full migration", db, name, s.file, start, why, why2)
	}
	s.warn(fmt.Sprintf("%s.%s at %s:%d: %s; using its current schema from the catalog, which is right only if no later DDL changed the table (the reader is not lagging behind such DDL)", db, name, s.file, start, why))
	s.hist.Put(at, ct, cs)
	return ct, nil
}

func (s *Stream) loadCatalog(ctx context.Context, db, name string) (*event.Table, string, error) {
	conn, err := s.catalogConn(ctx)
	if err != nil {
		return nil, "", err
	}
	ref := Ref{db, name}
	ts, err := LoadTables(ctx, conn, []Ref{ref})
	if err != nil {
		return nil, "", err
	}
	cs, _ := tableCharsets(conn, []Ref{ref})
	return ts[ref], cs[historyKey(db, name)], nil
}

// emitRows turns the rows of the current rows event into events until the batch is full.
func (s *Stream) emitRows() (full bool, err error) {
	e, b := s.rows, s.rowsBind
	var kind event.Kind
	step := 1
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		kind = event.Insert
	case replication.EnumRowsEventTypeUpdate:
		kind, step = event.Update, 2
	case replication.EnumRowsEventTypeDelete:
		kind = event.Delete
	default:
		s.rows = nil
		return false, nil
	}
	commitTime := time.Unix(int64(s.rowsHdr.Timestamp), 0)
	for s.rowsIdx+step <= len(e.Rows) {
		if len(s.batch) >= s.maxBatch || s.batchBytes >= s.maxBytes {
			return true, nil
		}
		ev := &event.Event{
			Kind:          kind,
			Table:         b.table,
			Database:      b.table.Database,
			TableName:     b.table.Name,
			Pos:           s.rowsPos,
			SafePos:       s.txnStart,
			CommitTime:    commitTime,
			ServerID:      s.rowsHdr.ServerID,
			SourceVersion: s.cfg.SourceVersion,
		}
		rows, n, err := s.convert(b, e.Rows[s.rowsIdx:s.rowsIdx+step])
		if err != nil {
			return false, fmt.Errorf("decode a row of %s at %s: %w", b.table.QualifiedName(), s.rowsPos, err)
		}
		switch kind {
		case event.Insert:
			ev.After = rows[0]
		case event.Delete:
			ev.Before = rows[0]
		default:
			ev.Before, ev.After = rows[0], rows[1]
		}
		s.batch = append(s.batch, ev)
		s.batchBytes += n + 64*len(b.table.Columns)
		s.rowsIdx += step
	}
	s.rows, s.rowsHdr, s.rowsBind = nil, nil, nil
	return false, nil
}

// convert renders one or two row images in canonical text, in one allocation.
func (s *Stream) convert(b *binding, images [][]any) ([]event.Row, int, error) {
	ncol := len(b.table.Columns)
	s.scratch = s.scratch[:0]
	if cap(s.ends) < ncol*len(images) {
		s.ends = make([]int, ncol*len(images))
	}
	ends := s.ends[:ncol*len(images)]
	for k, img := range images {
		if len(img) != ncol {
			return nil, 0, fmt.Errorf("the row has %d columns, the schema %d", len(img), ncol)
		}
		for i, v := range img {
			if v == nil {
				ends[k*ncol+i] = -1
				continue
			}
			var err error
			s.scratch, err = appendBinlogValue(s.scratch, &b.table.Columns[i], &b.convs[i], v)
			if err != nil {
				return nil, 0, err
			}
			ends[k*ncol+i] = len(s.scratch)
		}
	}
	buf := make([]byte, len(s.scratch))
	copy(buf, s.scratch)
	out := make([]event.Row, len(images))
	vals := make([]event.Value, ncol*len(images))
	prev := 0
	for k := range images {
		row := vals[k*ncol : (k+1)*ncol : (k+1)*ncol]
		for i := range row {
			end := ends[k*ncol+i]
			if end < 0 {
				continue
			}
			row[i] = event.Value(buf[prev:end:end])
			prev = end
		}
		out[k] = row
	}
	return out, len(buf), nil
}

// CurrentPosition reads the source's current binlog position (file, offset and the GTID set
// executed there). flavor is "mysql" or "mariadb".
func CurrentPosition(conn *client.Conn, flavor string) (event.Position, error) {
	var res *gmysql.Result
	var err error
	if strings.EqualFold(flavor, gmysql.MariaDBFlavor) {
		res, err = conn.Execute("SHOW MASTER STATUS")
	} else {
		// MySQL 8.4 replaced SHOW MASTER STATUS with SHOW BINARY LOG STATUS.
		if res, err = conn.Execute("SHOW BINARY LOG STATUS"); err != nil {
			res, err = conn.Execute("SHOW MASTER STATUS")
		}
	}
	if err != nil {
		return event.Position{}, fmt.Errorf("read the binlog position: %w (the account needs the REPLICATION CLIENT / BINLOG MONITOR privilege)", err)
	}
	defer res.Close()
	if res.RowNumber() == 0 {
		return event.Position{}, errors.New("read the binlog position: binary logging is off on the source: start it with log_bin (and binlog_format=ROW)")
	}
	var p event.Position
	file := cell(res, 0, 0)
	p.File = strings.Clone(file)
	off := cell(res, 0, 1)
	if p.Offset, err = strconv.ParseUint(off, 10, 64); err != nil {
		return event.Position{}, fmt.Errorf("read the binlog position: offset %q: %w", off, err)
	}
	if strings.EqualFold(flavor, gmysql.MariaDBFlavor) {
		// The GTID state at exactly this file position (@@gtid_binlog_pos could be later).
		r, err := conn.Execute("SELECT BINLOG_GTID_POS(" + QuoteString(p.File) + ", " + strconv.FormatUint(p.Offset, 10) + ")")
		if err != nil {
			return event.Position{}, fmt.Errorf("read the GTID position: %w", err)
		}
		g := cell(r, 0, 0)
		p.GTID = strings.Clone(g)
		r.Close()
	} else if res.ColumnNumber() >= 5 {
		g := cell(res, 0, 4)
		p.GTID = strings.ReplaceAll(strings.ReplaceAll(g, "\n", ""), " ", "")
	}
	return p, nil
}
