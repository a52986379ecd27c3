package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// Producer writes records to Kafka. Each record names its partition; the handler hears of
// every record Kafka acknowledged, in the order of its partition, or of the error that stops
// the task.
type Producer interface {
	// Send queues one record. It blocks while too much is waiting for Kafka, and returns a
	// *SendError for a record that can never be written (larger than the destination's
	// limit) or ctx's error.
	Send(ctx context.Context, r Record) error
	// Close sends what is queued (giving up on a destination that does not answer within a
	// few seconds) and stops; the handler hears nothing after it returns.
	Close()
}

// Record is one Kafka message to send.
type Record struct {
	Topic     string
	Partition int32
	Key       []byte // nil: no key
	Value     []byte
	Timestamp time.Time
	Meta      any // handed back to the handler
}

// Handler receives the outcome of sends. Acked is called once per record, in partition order,
// from the producer's goroutines; Failed once per record batch that could not be written.
type Handler struct {
	Acked  func(meta any, valueLen int)
	Failed func(*SendError)
}

// SendError is a write that failed for good. Meta, Key and ValueLen describe the first record
// of the batch; Records is how many records the batch held.
type SendError struct {
	Topic     string
	Partition int32
	Key       []byte
	ValueLen  int
	Meta      any
	Records   int
	Err       error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("write to topic %q partition %d: %v", e.Topic, e.Partition, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// recordOverhead is the most a record's framing adds to its key and value (sarama's
// maximumRecordOverhead): batches are sized with it, so they never exceed the limit.
const recordOverhead = 5*10 + 10 + 1

// bufferLimit bounds the record bytes queued and not yet acknowledged: past it, Send waits.
const bufferLimit = 24 << 20

// closeGrace is how long Close lets queued batches reach a destination that is not answering.
var closeGrace = 5 * time.Second

// NewProducer builds the producer for a client (made with NewClient and Persistent settings)
// and the partition counts of the topics it will write. Kafka 0.11 and later gets the batch
// producer; older versions, which need message sets, go through sarama's AsyncProducer.
func NewProducer(client sarama.Client, topics map[string]int32, h Handler) (Producer, error) {
	if !client.Config().Version.IsAtLeast(sarama.V0_11_0_0) || forceLegacy.Load() {
		return newLegacyProducer(client, h)
	}
	return newBatchProducer(client, topics, h), nil
}

// forceLegacy makes NewProducer use the AsyncProducer path whatever the version, so that tests
// (whose broker speaks only Produce v3+) exercise it too.
var forceLegacy atomic.Bool

// ForceLegacyProducer is for tests: true makes NewProducer use sarama's AsyncProducer.
func ForceLegacyProducer(on bool) { forceLegacy.Store(on) }

// batchProducer writes record batches to partition leaders with sarama's Broker.Produce. A
// sender's goroutine appends a record straight to its partition's open batch (no channel hop
// per message); the batch is sealed when full or after the linger time, and each partition's
// own goroutine sends its sealed batches one at a time, retrying one until it is written
// before sending the next, so a partition's records land in order whatever fails.
type batchProducer struct {
	client     sarama.Client
	conf       *sarama.Config
	h          Handler
	version    int16
	maxRecords int // record bytes a batch may hold (the destination's limit minus the header)
	flushBytes int
	linger     time.Duration
	topics     map[string][]*partition
	budget     budget
	closing    atomic.Bool
	closed     chan struct{} // closed by Close: Sends waiting for the budget stop waiting
	hmu        sync.RWMutex  // held (read) around handler calls; Close takes it to set quiet
	quiet      bool          // Close returned: no more handler calls
	giveUp     chan struct{} // closed when Close stops waiting for the destination
	wg         sync.WaitGroup
	muxMu      sync.Mutex
	muxes      map[*sarama.Broker]*mux
	muxStop    chan struct{} // closed when Close is done: the muxes stop
	batches    sync.Pool
}

type partition struct {
	p     *batchProducer
	topic string
	id    int32
	mu    sync.Mutex
	open  *batch
	ready []*batch
	wake  chan struct{}
	done  bool // Close sealed the last batch
	busy  bool // the goroutine is writing a batch
	due   bool // the open batch has lingered long enough: seal it when not busy
	// failed is set (by the partition's goroutine only) once a batch could not be written:
	// the batches after it are dropped unsent.
	failed bool
}

type batch struct {
	rb    sarama.RecordBatch
	slabs [][]sarama.Record
	metas []any
	bytes int
	maxTS time.Duration
	timer *time.Timer
	gen   uint64 // counts the batch's uses (it is recycled)
}

const slabRecords = 512

func newBatchProducer(client sarama.Client, topics map[string]int32, h Handler) *batchProducer {
	conf := client.Config()
	p := &batchProducer{client: client, conf: conf, h: h, version: ProduceVersion(conf.Version),
		maxRecords: conf.Producer.MaxMessageBytes, flushBytes: min(conf.Producer.Flush.Bytes, conf.Producer.MaxMessageBytes),
		linger: conf.Producer.Flush.Frequency, topics: map[string][]*partition{},
		giveUp: make(chan struct{}), closed: make(chan struct{}), muxes: map[*sarama.Broker]*mux{}, muxStop: make(chan struct{})}
	if p.flushBytes <= 0 {
		p.flushBytes = conf.Producer.MaxMessageBytes
	}
	if p.linger <= 0 {
		p.linger = 2 * time.Millisecond
	}
	p.budget.limit = bufferLimit
	p.budget.wait = make(chan struct{})
	p.batches.New = func() any { return new(batch) }
	for topic, n := range topics {
		parts := make([]*partition, n)
		for i := range parts {
			parts[i] = &partition{p: p, topic: topic, id: int32(i), wake: make(chan struct{}, 1)}
			p.wg.Add(1)
			go parts[i].run()
		}
		p.topics[topic] = parts
	}
	return p
}

// ProduceVersion is the Produce request version sarama's own producer sends for a configured
// Kafka version (3 and up carry record batches; below, message sets).
func ProduceVersion(v sarama.KafkaVersion) int16 {
	for _, pv := range produceVersions {
		if v.IsAtLeast(pv.kafka) {
			return pv.produce
		}
	}
	return 0
}

var produceVersions = []struct {
	kafka   sarama.KafkaVersion
	produce int16
}{
	{sarama.V3_7_0_0, 10}, {sarama.V2_8_0_0, 9}, {sarama.V2_4_0_0, 8}, {sarama.V2_1_0_0, 7},
	{sarama.V2_0_0_0, 6}, {sarama.V1_0_0_0, 5}, {sarama.V0_11_0_0, 3}, {sarama.V0_10_0_0, 2},
}

func (p *batchProducer) Send(ctx context.Context, r Record) error {
	size := len(r.Key) + len(r.Value) + recordOverhead
	if size > p.maxRecords {
		return &SendError{Topic: r.Topic, Partition: r.Partition, Key: r.Key, ValueLen: len(r.Value), Meta: r.Meta, Records: 1,
			Err: fmt.Errorf("%w (the record takes %d bytes, at most %d fit in a batch)", sarama.ErrMessageSizeTooLarge, size, p.maxRecords)}
	}
	parts := p.topics[r.Topic]
	if r.Partition < 0 || int(r.Partition) >= len(parts) {
		return fmt.Errorf("internal error: topic %q has no partition %d (the producer knows %d)", r.Topic, r.Partition, len(parts))
	}
	if p.closing.Load() {
		return errors.New("the producer is closed")
	}
	if err := p.budget.acquire(ctx, p.closed, size); err != nil {
		return err
	}
	part := parts[r.Partition]
	ts := r.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	ts = ts.Truncate(time.Millisecond)
	part.mu.Lock()
	if part.done {
		part.mu.Unlock()
		p.budget.release(size)
		return errors.New("the producer is closed")
	}
	b := part.open
	if b != nil && b.bytes+size > p.flushBytes {
		part.sealLocked()
		b = nil
	}
	if b == nil {
		b = p.newBatch(ts)
		part.open = b
		gen := b.gen
		b.timer = time.AfterFunc(p.linger, func() { part.lingered(b, gen) })
	}
	b.add(r, ts, size)
	part.mu.Unlock()
	return nil
}

func (p *batchProducer) newBatch(first time.Time) *batch {
	b := p.batches.Get().(*batch)
	b.rb = sarama.RecordBatch{FirstTimestamp: first, Version: 2, Codec: p.conf.Producer.Compression,
		CompressionLevel: p.conf.Producer.CompressionLevel, ProducerID: -1, ProducerEpoch: -1, Records: b.rb.Records[:0]}
	b.metas = b.metas[:0]
	b.bytes, b.maxTS = 0, 0
	b.gen++
	return b
}

func (b *batch) add(r Record, ts time.Time, size int) {
	n := len(b.rb.Records)
	if n/slabRecords == len(b.slabs) {
		b.slabs = append(b.slabs, make([]sarama.Record, slabRecords))
	}
	rec := &b.slabs[n/slabRecords][n%slabRecords]
	delta := ts.Sub(b.rb.FirstTimestamp)
	*rec = sarama.Record{Key: r.Key, Value: r.Value, TimestampDelta: delta, OffsetDelta: int64(n)}
	b.maxTS = max(b.maxTS, delta)
	b.rb.Records = append(b.rb.Records, rec)
	b.metas = append(b.metas, r.Meta)
	b.bytes += size
}

// lingered seals a batch that has waited the linger time, if it is still open (and still the
// same use of the recycled batch).
//
// While the partition's goroutine is busy writing an earlier batch, the open one is only
// marked due: it goes on filling and is sealed the moment the goroutine is free. Batches so
// grow with the destination's round trip (several partitions on one broker take turns on its
// connection) instead of going out as many small requests.
func (part *partition) lingered(b *batch, gen uint64) {
	part.mu.Lock()
	if part.open == b && b.gen == gen {
		if part.busy {
			part.due = true
		} else {
			part.sealLocked()
		}
	}
	part.mu.Unlock()
}

// sealLocked closes the open batch and hands it to the partition's sender.
func (part *partition) sealLocked() {
	b := part.open
	part.open = nil
	if b == nil {
		return
	}
	b.timer.Stop()
	part.due = false
	part.ready = append(part.ready, b)
	select {
	case part.wake <- struct{}{}:
	default:
	}
}

// run sends the partition's sealed batches in order.
func (part *partition) run() {
	defer part.p.wg.Done()
	for {
		part.mu.Lock()
		if len(part.ready) == 0 && part.due {
			part.sealLocked()
		}
		for len(part.ready) == 0 {
			if part.done {
				part.mu.Unlock()
				return
			}
			part.busy = false
			part.mu.Unlock()
			<-part.wake
			part.mu.Lock()
		}
		part.busy = true
		b := part.ready[0]
		part.ready[0] = nil
		part.ready = part.ready[1:]
		part.mu.Unlock()
		part.deliver(b)
	}
}

// deliver writes one batch, retrying until it is written, the error is one that retrying
// cannot fix, the retries are used up, or Close gave up.
func (part *partition) deliver(b *batch) {
	p := part.p
	rb := &b.rb
	rb.LastOffsetDelta = int32(len(rb.Records) - 1)
	rb.MaxTimestamp = rb.FirstTimestamp.Add(b.maxTS)
	// After a batch of the partition failed for good, the ones behind it are dropped unsent:
	// written after the gap (which the next run fills), they would land out of order. The
	// task is stopping anyway.
	dropped := part.failed
	var err error
	abandoned := false // the batch may still be in a request being written: not recycled
	if dropped {
		err = errors.New("an earlier batch of the partition failed")
	}
	for attempt := 0; !dropped; attempt++ {
		if closedCh(p.giveUp) {
			err = fmt.Errorf("gave up at close (last error: %v)", err)
			break
		}
		if abandoned, err = part.produce(b); err == nil || abandoned || !retriable(err) || attempt >= p.conf.Producer.Retry.Max {
			break
		}
		t := time.NewTimer(p.retryBackoff(attempt))
		select {
		case <-t.C:
		case <-p.giveUp:
			t.Stop()
		}
	}
	p.hmu.RLock()
	if !p.quiet {
		if err == nil {
			for i, m := range b.metas {
				p.h.Acked(m, len(rb.Records[i].Value))
			}
		} else if !dropped && !p.closing.Load() {
			first := rb.Records[0]
			p.h.Failed(&SendError{Topic: part.topic, Partition: part.id, Key: first.Key, ValueLen: len(first.Value), Meta: b.metas[0], Records: len(rb.Records), Err: err})
		}
	}
	p.hmu.RUnlock()
	if err != nil {
		part.failed = true
	}
	p.budget.release(b.bytes)
	if !abandoned {
		p.recycle(b)
	}
}

func closedCh(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (p *batchProducer) recycle(b *batch) {
	for _, s := range b.slabs {
		clear(s)
	}
	clear(b.metas)
	b.rb = sarama.RecordBatch{Records: b.rb.Records[:0]}
	clear(b.rb.Records[:cap(b.rb.Records)])
	b.timer = nil
	p.batches.Put(b)
}

func (p *batchProducer) retryBackoff(attempt int) time.Duration {
	if f := p.conf.Producer.Retry.BackoffFunc; f != nil {
		return f(attempt, p.conf.Producer.Retry.Max)
	}
	return p.conf.Producer.Retry.Backoff
}

// produce sends one request to the partition's leader and reads the partition's result.
func (part *partition) produce(b *batch) (abandoned bool, err error) {
	p := part.p
	broker, err := p.client.Leader(part.topic, part.id) // refreshes the metadata when it has no leader
	if err != nil {
		return false, err
	}
	m := p.muxFor(broker)
	sub := &submission{topic: part.topic, part: part.id, rb: &b.rb, bytes: b.bytes, res: make(chan error, 1)}
	select {
	case m.in <- sub:
	case <-p.giveUp:
		return false, errors.New("gave up at close")
	}
	select {
	case err = <-sub.res:
	case <-p.giveUp:
		return true, errors.New("gave up at close while the batch was being written")
	}
	if err != nil {
		var ke sarama.KError
		if !errors.As(err, &ke) || ke == sarama.ErrUnknownTopicOrPartition || ke == sarama.ErrLeaderNotAvailable || ke == sarama.ErrNotLeaderForPartition {
			// A broken connection (sarama closed it; Leader opens it again) or a leader that
			// moved: look the leader up again.
			_ = p.client.RefreshMetadata(part.topic)
		}
	}
	return false, err
}

// A mux writes the batches of every partition led by one broker: what the partitions handed
// it while its previous request was on the wire goes in one request. Partitions that share a
// broker so take one round trip together, as with Kafka's own producer, instead of queueing
// for the connection one after another.
type mux struct {
	p      *batchProducer
	broker *sarama.Broker
	in     chan *submission
}

type submission struct {
	topic string
	part  int32
	rb    *sarama.RecordBatch
	bytes int
	res   chan error // the partition's result
}

// maxRequestBytes bounds the record bytes of one merged request (brokers refuse requests over
// socket.request.max.bytes, 100 MiB by default).
const maxRequestBytes = 16 << 20

func (p *batchProducer) muxFor(b *sarama.Broker) *mux {
	p.muxMu.Lock()
	defer p.muxMu.Unlock()
	m := p.muxes[b]
	if m == nil {
		m = &mux{p: p, broker: b, in: make(chan *submission, 256)}
		p.muxes[b] = m
		go m.run()
	}
	return m
}

func (m *mux) run() {
	p := m.p
	var subs []*submission
	for {
		var first *submission
		select {
		case first = <-m.in:
		case <-p.muxStop:
			return
		}
		subs = append(subs[:0], first)
		size := first.bytes
	more:
		for size < maxRequestBytes {
			select {
			case s := <-m.in:
				subs = append(subs, s)
				size += s.bytes
			default:
				break more
			}
		}
		req := &sarama.ProduceRequest{RequiredAcks: p.conf.Producer.RequiredAcks,
			Timeout: int32(p.conf.Producer.Timeout / time.Millisecond), Version: p.version}
		for _, s := range subs {
			req.AddBatch(s.topic, s.part, s.rb)
		}
		resp, err := m.broker.Produce(req)
		for i, s := range subs {
			s.res <- partitionResult(resp, err, s.topic, s.part)
			subs[i] = nil
		}
	}
}

// partitionResult is one partition's outcome of a produce request.
func partitionResult(resp *sarama.ProduceResponse, err error, topic string, part int32) error {
	if err != nil {
		return err
	}
	if resp == nil {
		return nil // acks=none: written once sent
	}
	block := resp.GetBlock(topic, part)
	if block == nil {
		return sarama.ErrIncompleteResponse
	}
	if block.Err == sarama.ErrNoError {
		return nil
	}
	if block.ErrorMessage != nil && *block.ErrorMessage != "" {
		return fmt.Errorf("%w: %s", block.Err, *block.ErrorMessage)
	}
	return block.Err
}

// retriable reports whether a failed write may succeed if sent again: a broken connection or
// one of the broker errors sarama's producer retries.
func retriable(err error) bool {
	var ke sarama.KError
	if !errors.As(err, &ke) {
		var ce sarama.ConfigurationError
		var pe sarama.PacketEncodingError
		return !errors.As(err, &ce) && !errors.As(err, &pe) && !errors.Is(err, sarama.ErrClosedClient)
	}
	switch ke {
	case sarama.ErrInvalidMessage, sarama.ErrUnknownTopicOrPartition, sarama.ErrLeaderNotAvailable, sarama.ErrNotLeaderForPartition,
		sarama.ErrRequestTimedOut, sarama.ErrNotEnoughReplicas, sarama.ErrNotEnoughReplicasAfterAppend, sarama.ErrKafkaStorageError,
		sarama.ErrNetworkException, sarama.ErrBrokerNotAvailable, sarama.ErrNotController:
		return true
	}
	return false
}

func (p *batchProducer) Close() {
	if !p.closing.CompareAndSwap(false, true) {
		return
	}
	for _, parts := range p.topics {
		for _, part := range parts {
			part.mu.Lock()
			part.sealLocked()
			part.done = true
			part.mu.Unlock()
			select {
			case part.wake <- struct{}{}:
			default:
			}
		}
	}
	close(p.closed)
	finished := make(chan struct{})
	go func() { p.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(closeGrace):
		close(p.giveUp)
	}
	p.hmu.Lock()
	p.quiet = true
	p.hmu.Unlock()
	close(p.muxStop)
}

// budget bounds the bytes queued and not yet acknowledged. Taking is a compare-and-swap in
// the common case; a sender over the limit waits for a release.
type budget struct {
	used    atomic.Int64
	limit   int64
	waiters atomic.Int32
	mu      sync.Mutex
	wait    chan struct{} // closed (and replaced) by a release while someone waits
}

func (b *budget) acquire(ctx context.Context, closed <-chan struct{}, n int) error {
	if b.tryTake(n) {
		return nil
	}
	b.waiters.Add(1)
	defer b.waiters.Add(-1)
	for {
		b.mu.Lock()
		ch := b.wait
		b.mu.Unlock()
		if b.tryTake(n) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-closed:
			return errors.New("the producer is closed")
		}
	}
}

// tryTake takes n bytes if they fit (or if nothing is taken: one record larger than the limit
// still goes, alone).
func (b *budget) tryTake(n int) bool {
	for {
		v := b.used.Load()
		if v != 0 && v+int64(n) > b.limit {
			return false
		}
		if b.used.CompareAndSwap(v, v+int64(n)) {
			return true
		}
	}
}

func (b *budget) release(n int) {
	b.used.Add(-int64(n))
	if b.waiters.Load() > 0 {
		b.mu.Lock()
		close(b.wait)
		b.wait = make(chan struct{})
		b.mu.Unlock()
	}
}
