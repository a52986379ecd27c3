package kafka

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// legacyProducer sends through sarama's AsyncProducer: the path for Kafka before 0.11, whose
// message sets the batch producer does not build. Each message takes several channel hops
// inside sarama, which costs about a quarter of the CPU of a full migration.
type legacyProducer struct {
	p      sarama.AsyncProducer
	h      Handler
	done   chan struct{}
	pool   sync.Pool
	closed atomic.Bool
	hmu    sync.RWMutex // held (read) around handler calls; Close takes it to set quiet
	quiet  bool
}

func newLegacyProducer(client sarama.Client, h Handler) (Producer, error) {
	ap, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		return nil, err
	}
	l := &legacyProducer{p: ap, h: h, done: make(chan struct{})}
	l.pool.New = func() any { return new(sarama.ProducerMessage) }
	go l.readAcks()
	return l, nil
}

// Send must not be called concurrently with Close (the sink closes the producer after its
// writers stopped).
func (l *legacyProducer) Send(ctx context.Context, r Record) error {
	if l.closed.Load() {
		return errors.New("the producer is closed")
	}
	msg := l.pool.Get().(*sarama.ProducerMessage)
	msg.Topic, msg.Partition, msg.Value, msg.Metadata, msg.Timestamp = r.Topic, r.Partition, sarama.ByteEncoder(r.Value), r.Meta, r.Timestamp
	if r.Key != nil {
		msg.Key = sarama.ByteEncoder(r.Key)
	}
	select {
	case l.p.Input() <- msg:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// readAcks drains acknowledgements and errors, each in its own goroutine (a plain receive per
// message is cheaper than a select over both).
func (l *legacyProducer) readAcks() {
	defer close(l.done)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m := range l.p.Successes() {
			l.hmu.RLock()
			if !l.quiet {
				l.h.Acked(m.Metadata, m.Value.Length())
			}
			l.hmu.RUnlock()
			*m = sarama.ProducerMessage{}
			l.pool.Put(m)
		}
	}()
	go func() {
		defer wg.Done()
		for pe := range l.p.Errors() {
			var key []byte
			if pe.Msg.Key != nil {
				key, _ = pe.Msg.Key.Encode()
			}
			l.hmu.RLock()
			if !l.quiet && !l.closed.Load() { // failures while closing (ErrShuttingDown) stop nothing
				l.h.Failed(&SendError{Topic: pe.Msg.Topic, Partition: pe.Msg.Partition, Key: key, ValueLen: pe.Msg.Value.Length(), Meta: pe.Msg.Metadata, Records: 1, Err: pe.Err})
			}
			l.hmu.RUnlock()
		}
	}()
	wg.Wait()
}

// Close lets sarama flush for up to closeGrace; after that it stops listening (sarama goes on
// retrying in the background until the client is closed).
func (l *legacyProducer) Close() {
	if !l.closed.CompareAndSwap(false, true) {
		return
	}
	l.p.AsyncClose()
	select {
	case <-l.done:
	case <-time.After(closeGrace):
	}
	l.hmu.Lock()
	l.quiet = true
	l.hmu.Unlock()
}
