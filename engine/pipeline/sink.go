package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"tributary/engine/event"
	"tributary/engine/format"
	"tributary/engine/kafka"
	"tributary/engine/mysql"
	"tributary/engine/task"
)

// acker is told when Kafka acknowledged one message it sent.
type acker interface {
	ack(bytes int)
}

// route is where one selected table's events go. Routes are found by name, because a schema
// change gives the table a new *event.Table; the key columns are resolved per table version.
type route struct {
	db, table  string // as they appear in messages (after capitalization), for hashing
	topic      string
	partitions int32
	object     *task.Object
	keyCols    sync.Map // *event.Table → []int
}

func routeKey(db, table string) string { return strings.ToLower(db) + "\x00" + strings.ToLower(table) }

// sink is the Router → Encoder → Producer part of the data path.
type sink struct {
	task     *task.Task
	client   sarama.Client
	producer kafka.Producer
	enc      format.Encoder
	framer   *registryFramer // schema registry framing, or nil
	routes   map[string]*route
	names    *format.Names
	ddlTopic string
	// topicParts are the partition counts of the topics written.
	topicParts map[string]int32
	maxBytes   int

	prodClient sarama.Client
	clock      *clock

	errOnce sync.Once
	errCh   chan error

	// inflight counts messages sent and not yet acknowledged, acks those acknowledged. The
	// stall watchdog (stalled, called from one phase goroutine) samples them; seenAcks and
	// seenAt are its memory of when the ack count last moved.
	inflight atomic.Int64
	acks     atomic.Uint64
	seenAcks uint64
	seenAt   time.Time
}

// stallAfter is how long Kafka may acknowledge nothing while messages wait before the task
// shows Retrying (a healthy broker acknowledges within milliseconds).
const stallAfter = 2 * time.Second

// stalled reports how long Kafka has acknowledged nothing while messages wait (0 if not).
func (s *sink) stalled() time.Duration {
	now := time.Now()
	if n := s.acks.Load(); n != s.seenAcks || s.inflight.Load() == 0 || s.seenAt.IsZero() {
		s.seenAcks, s.seenAt = n, now
		return 0
	}
	if d := now.Sub(s.seenAt); d >= stallAfter {
		return d
	}
	return 0
}

// newSink connects the producer, prepares the topics and starts the acknowledgement reader.
func newSink(ctx context.Context, t *task.Task, tables map[mysql.Ref]*event.Table, serverVersion string) (*sink, error) {
	clk := startClock()
	built := false
	defer func() {
		if !built {
			clk.Stop()
		}
	}()
	enc, err := newEncoder(ctx, t, clk.Now)
	if err != nil {
		return nil, &Permanent{err}
	}
	settings := kafka.Settings{Acks: t.Acks, Compression: t.Compression, ClientID: "tributary-" + t.Name}
	client, err := kafka.NewClient(ctx, &t.Destination.Kafka, settings)
	if err != nil {
		return nil, err
	}
	names, err := format.NewNames(t.Capitalization)
	if err != nil {
		return nil, &Permanent{err}
	}
	want := map[string]int{}
	s := &sink{clock: clk, task: t, client: client, enc: enc, routes: map[string]*route{}, names: names, errCh: make(chan error, 1)}
	for i := range t.Objects {
		o := &t.Objects[i]
		tbl := tables[mysql.Ref{Database: o.Database, Table: o.Table}]
		topic := t.TopicFor(o)
		if o.Partitions > want[topic] {
			want[topic] = o.Partitions
		} else if _, ok := want[topic]; !ok {
			want[topic] = 0
		}
		if _, err := partitionKey(o, tbl); err != nil {
			client.Close()
			return nil, &Permanent{err}
		}
		s.routes[routeKey(o.Database, o.Table)] = &route{db: names.Name(tbl.Database), table: names.Name(tbl.Name), topic: topic, object: o}
	}
	if t.MigrationTypes.Incremental {
		s.ddlTopic = t.DDLTopic()
		if _, ok := want[s.ddlTopic]; !ok {
			want[s.ddlTopic] = 0
		}
	}
	counts, err := kafka.PrepareTopics(client, want)
	if err != nil {
		client.Close()
		if kafka.IsConnError(err) {
			return nil, err
		}
		return nil, &Permanent{err}
	}
	s.topicParts = map[string]int32{}
	for tp, n := range counts {
		s.topicParts[tp] = int32(n)
	}
	for _, r := range s.routes {
		r.partitions = int32(counts[r.topic])
		if n := int32(r.object.Partitions); n > 0 && n < r.partitions {
			// "Number of Partitions" limits the partitions this table spreads over.
			r.partitions = n
		}
	}
	if t.Format == "dts-avro" && t.Destination.SchemaRegistry.Enabled {
		topics := make([]string, 0, len(want))
		for tp := range want {
			topics = append(topics, tp)
		}
		s.framer, err = newRegistryFramer(ctx, t.Destination.SchemaRegistry.URL, topics)
		if err != nil {
			client.Close()
			return nil, err
		}
	}
	// The producer gets its own client that retries through broker outages (the first one,
	// with short retries, has just shown the cluster is reachable).
	settings.Persistent = true
	pc, err := kafka.NewClient(ctx, &t.Destination.Kafka, settings)
	if err != nil {
		client.Close()
		return nil, err
	}
	// Batches stay under the limit PrepareTopics read from the topics and brokers.
	pc.Config().Producer.MaxMessageBytes = client.Config().Producer.MaxMessageBytes
	s.maxBytes = kafka.MessageLimit(client)
	prod, err := kafka.NewProducer(pc, s.topicParts, kafka.Handler{Acked: s.acked, Failed: s.failed})
	if err != nil {
		pc.Close()
		client.Close()
		return nil, kafka.Explain(err, &t.Destination.Kafka)
	}
	s.producer = prod
	s.prodClient = pc
	built = true
	return s, nil
}

// partitionKey resolves the columns hashed by the primary-key policy: the object's partition
// key, else the primary key, else the first unique key, else none (partition 0).
func partitionKey(o *task.Object, tbl *event.Table) ([]int, error) {
	if len(o.PartitionKey) > 0 {
		cols := make([]int, len(o.PartitionKey))
		for i, name := range o.PartitionKey {
			c := tbl.ColumnIndex(name)
			if c < 0 {
				return nil, fmt.Errorf("partition key column %q does not exist in %s", name, tbl.QualifiedName())
			}
			cols[i] = c
		}
		return cols, nil
	}
	return format.Key(tbl, nil), nil
}

func (s *sink) fail(err error) {
	s.errOnce.Do(func() { s.errCh <- err })
}

// Err is closed-over by the phases: the first producer failure.
func (s *sink) Err() <-chan error { return s.errCh }

// acked is told of each message Kafka acknowledged.
func (s *sink) acked(meta any, valueLen int) {
	s.inflight.Add(-1)
	s.acks.Add(1)
	meta.(acker).ack(valueLen)
}

// failed is told of a batch of messages Kafka did not take: the task stops.
func (s *sink) failed(se *kafka.SendError) {
	s.inflight.Add(-int64(se.Records))
	s.fail(s.explainProduce(se))
}

func (s *sink) explainProduce(se *kafka.SendError) error {
	what := "a message"
	if tok, ok := se.Meta.(interface{ describe() string }); ok {
		what = tok.describe()
	}
	key := ""
	if se.Key != nil {
		key = fmt.Sprintf(" with key %q", string(se.Key))
	}
	if se.Records > 1 {
		what = fmt.Sprintf("a batch of %d messages starting with %s", se.Records, what)
	}
	if kafka.TooLarge(se.Err) {
		return &Permanent{fmt.Errorf("%s%s encodes to %d bytes, more than the destination accepts (limit %d bytes, the topic's max.message.bytes / broker's message.max.bytes): the task stops here rather than skip it; raise the limit or exclude the column", what, key, se.ValueLen, s.maxBytes)}
	}
	err := fmt.Errorf("write %s%s to topic %q: %w", what, key, se.Topic, se.Err)
	if strings.Contains(se.Err.Error(), "authoriz") {
		return &Permanent{err}
	}
	return err
}

// Close flushes and stops the producer (messages not yet acknowledged are not committed, so
// they are sent again on the next run).
func (s *sink) Close() {
	if s.producer != nil {
		s.producer.Close()
		s.prodClient.Close()
	}
	s.client.Close()
	s.clock.Stop()
}

// writer is one goroutine's encoder state: messages are encoded into a shared slab so that
// sending a row costs no allocation besides the sarama message.
type writer struct {
	s    *sink
	slab []byte
	// The route and key columns of the table written last: rows come in runs of one table.
	lastTable *event.Table
	lastRoute *route
	lastKeys  []int
}

const slabSize = 256 << 10

// keyColsFor returns the partition-key columns of one version of a table.
func (r *route) keyColsFor(t *event.Table) ([]int, error) {
	if v, ok := r.keyCols.Load(t); ok {
		return v.([]int), nil
	}
	cols, err := partitionKey(r.object, t)
	if err != nil {
		return nil, err
	}
	r.keyCols.Store(t, cols)
	return cols, nil
}

// route finds the route of a row event's table, or nil when the table is not selected.
func (s *sink) route(db, table string) *route { return s.routes[routeKey(db, table)] }

// send encodes and queues one event; tok is told when Kafka acknowledged it. A DDL event goes
// to the DDL topic.
func (w *writer) send(ctx context.Context, ev *event.Event, tok acker) (int, error) {
	if ev.Kind == event.DDL {
		return w.sendDDL(ctx, ev, tok)
	}
	if ev.Table != w.lastTable {
		r := w.s.route(ev.Table.Database, ev.Table.Name)
		if r == nil {
			return 0, &Permanent{fmt.Errorf("internal error: no route for %s", ev.Table.QualifiedName())}
		}
		keyCols, err := r.keyColsFor(ev.Table)
		if err != nil {
			return 0, &Permanent{err}
		}
		w.lastTable, w.lastRoute, w.lastKeys = ev.Table, r, keyCols
	}
	r := w.lastRoute
	return w.write(ctx, ev, tok, r.topic, kafka.Partition(w.s.task.PartitionPolicy, ev, r.db, r.table, r.partitions, w.lastKeys))
}

// sendDDL writes a DDL statement to the DDL topic: partition 0, or its table's partition with
// the database/table hash policy.
func (w *writer) sendDDL(ctx context.Context, ev *event.Event, tok acker) (int, error) {
	topic := w.s.ddlTopic
	parts := w.s.topicParts[topic]
	db, table := w.s.names.Name(ev.Database), w.s.names.Name(ev.TableName)
	return w.write(ctx, ev, tok, topic, kafka.Partition(w.s.task.PartitionPolicy, ev, db, table, parts, nil))
}

func (w *writer) write(ctx context.Context, ev *event.Event, tok acker, topic string, partition int32) (int, error) {
	if cap(w.slab)-len(w.slab) < 4096 {
		w.slab = make([]byte, 0, slabSize)
	}
	start := len(w.slab)
	var err error
	if w.s.framer != nil {
		w.slab, err = w.s.framer.encodeFramed(w.s.enc, w.slab, topic, ev)
	} else {
		w.slab, err = w.s.enc.Encode(w.slab, ev)
	}
	if err != nil {
		return 0, &Permanent{fmt.Errorf("encode %s.%s: %w", ev.Database, ev.TableName, err)}
	}
	value := w.slab[start:len(w.slab):len(w.slab)]
	keyStart := len(w.slab)
	w.slab = kafka.MessageKey(w.slab, ev, nil) // the message key is the primary key, whatever the partition key
	var key []byte
	if len(w.slab) > keyStart {
		key = w.slab[keyStart:len(w.slab):len(w.slab)]
	}
	w.s.inflight.Add(1)
	err = w.s.producer.Send(ctx, kafka.Record{Topic: topic, Partition: partition, Key: key, Value: value, Timestamp: w.s.clock.Now(), Meta: tok})
	if err != nil {
		w.s.inflight.Add(-1)
		var se *kafka.SendError
		if errors.As(err, &se) {
			return 0, w.s.explainProduce(se)
		}
		return 0, err
	}
	return len(value), nil
}
