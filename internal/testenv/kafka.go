package testenv

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka is an in-process kfake cluster.
type Kafka struct {
	Addrs   []string // broker host:port list
	Cluster *kfake.Cluster
}

// StartKafka starts a kfake cluster (1 broker, auto topic creation, 1
// partition per auto-created topic, then opts) and closes it at cleanup.
func StartKafka(tb testing.TB, opts ...kfake.Opt) *Kafka {
	tb.Helper()
	k, err := StartKafkaNoTest(opts...)
	if err != nil {
		tb.Fatalf("testenv: start kfake: %v", err)
	}
	tb.Cleanup(k.Close)
	return k
}

// StartKafkaNoTest is StartKafka for benchmarks and tools; call Close.
func StartKafkaNoTest(opts ...kfake.Opt) (*Kafka, error) {
	all := append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1)}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		return nil, err
	}
	return &Kafka{Addrs: c.ListenAddrs(), Cluster: c}, nil
}

// Close shuts the cluster down.
func (k *Kafka) Close() { k.Cluster.Close() }

// Client returns a kgo client seeded with the brokers, plus opts.
func (k *Kafka) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.Addrs...)}, opts...)...)
}

func (k *Kafka) admin(tb testing.TB) (*kadm.Client, func()) {
	tb.Helper()
	cl, err := k.Client()
	if err != nil {
		tb.Fatalf("testenv: kafka client: %v", err)
	}
	return kadm.NewClient(cl), cl.Close
}

// CreateTopic creates a topic with the given partitions (replication 1).
func (k *Kafka) CreateTopic(tb testing.TB, topic string, partitions int) {
	tb.Helper()
	adm, done := k.admin(tb)
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, int32(partitions), 1, nil, topic); err != nil {
		tb.Fatalf("testenv: create topic %s: %v", topic, err)
	}
}

// Count is the sum of the topic's end offsets (high watermarks) over its
// partitions: the number of records produced, barring deletes and
// transaction markers. A missing topic counts 0.
func (k *Kafka) Count(tb testing.TB, topic string) int {
	tb.Helper()
	adm, done := k.admin(tb)
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		tb.Fatalf("testenv: list end offsets %s: %v", topic, err)
	}
	n := 0
	offs.Each(func(o kadm.ListedOffset) {
		switch {
		case errors.Is(o.Err, kerr.UnknownTopicOrPartition):
		case o.Err != nil:
			tb.Errorf("testenv: end offset %s/%d: %v", o.Topic, o.Partition, o.Err)
		default:
			n += int(o.Offset)
		}
	})
	return n
}

// ReadAll consumes topic from the start with an independent client (no
// group) until it has at least atLeast records, then keeps whatever else
// arrives within a short grace poll. Records are sorted by partition, then
// offset. Fails the test if atLeast is not reached within timeout.
func (k *Kafka) ReadAll(tb testing.TB, topic string, atLeast int, timeout time.Duration) []*kgo.Record {
	tb.Helper()
	recs, err := k.ReadAllErr(topic, atLeast, timeout)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return recs
}

// ReadAllErr is ReadAll returning an error (with the records read so far)
// instead of failing a test.
func (k *Kafka) ReadAllErr(topic string, atLeast int, timeout time.Duration) ([]*kgo.Record, error) {
	cl, err := k.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var recs []*kgo.Record
	var lastErr error
	poll := func(ctx context.Context) int {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				lastErr = fmt.Errorf("%s/%d: %w", t, p, err)
			}
		})
		n := 0
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r); n++ })
		return n
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	for len(recs) < atLeast && ctx.Err() == nil {
		poll(ctx)
	}
	cancel()
	if len(recs) < atLeast {
		err := fmt.Errorf("read %d of at least %d records from %s within %v", len(recs), atLeast, topic, timeout)
		if lastErr != nil {
			err = fmt.Errorf("%w (last fetch error: %v)", err, lastErr)
		}
		return sortRecords(recs), err
	}
	for { // drain what is immediately available
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		n := poll(ctx)
		cancel()
		if n == 0 {
			break
		}
	}
	return sortRecords(recs), nil
}

func sortRecords(recs []*kgo.Record) []*kgo.Record {
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
	return recs
}
