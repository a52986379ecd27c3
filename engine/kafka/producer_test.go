package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"tributary/engine/task"
	"tributary/internal/testenv"
)

// ackLog records what a producer's handler heard.
type ackLog struct {
	mu     sync.Mutex
	acks   map[int32][]int // partition → sequence numbers in ack order
	bytes  int
	n      atomic.Int64
	failed []*SendError
}

type meta struct {
	part int32
	seq  int
}

func newAckLog() *ackLog { return &ackLog{acks: map[int32][]int{}} }

func (l *ackLog) handler() Handler {
	return Handler{
		Acked: func(m any, n int) {
			mm := m.(meta)
			l.mu.Lock()
			l.acks[mm.part] = append(l.acks[mm.part], mm.seq)
			l.bytes += n
			l.mu.Unlock()
			l.n.Add(1)
		},
		Failed: func(se *SendError) {
			l.mu.Lock()
			l.failed = append(l.failed, se)
			l.mu.Unlock()
		},
	}
}

func (l *ackLog) waitFor(t *testing.T, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for l.n.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records acknowledged after %s", l.n.Load(), n, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func producerFor(t *testing.T, k *testenv.Kafka, topics map[string]int, h Handler) (Producer, sarama.Client) {
	t.Helper()
	ctx := context.Background()
	c, err := NewClient(ctx, &task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Settings{Acks: "all", Compression: "lz4", Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := PrepareTopics(c, topics)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]int32{}
	for tp, n := range counts {
		parts[tp] = int32(n)
	}
	p, err := NewProducer(c, parts, h)
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

// TestProducerOrder sends from several goroutines at once to many partitions, through both
// producer paths, and checks with an independent reader that every record landed once, in
// the order of its partition, with its key, value and timestamp; and that acknowledgements
// come in that order too.
func TestProducerOrder(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		name := "batch"
		if legacy {
			name = "legacy AsyncProducer"
		}
		t.Run(name, func(t *testing.T) {
			ForceLegacyProducer(legacy)
			defer ForceLegacyProducer(false)
			k := testenv.StartKafka(t)
			const parts, senders, each = 6, 3, 20000
			log := newAckLog()
			p, c := producerFor(t, k, map[string]int{"order": parts}, log.handler())
			defer c.Close()
			ts := time.UnixMilli(1_700_000_000_123)
			// Each sender owns two partitions, so that a partition's order is its sender's.
			var wg sync.WaitGroup
			for s := 0; s < senders; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						part := int32(s*2 + i%2)
						seq := i
						key := []byte(fmt.Sprintf("k-%d-%d", part, seq))
						val := []byte(strings.Repeat("v", i%300) + strconv.Itoa(seq))
						if err := p.Send(context.Background(), Record{Topic: "order", Partition: part, Key: key, Value: val,
							Timestamp: ts.Add(time.Duration(i) * time.Millisecond), Meta: meta{part, seq}}); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			log.waitFor(t, senders*each, 30*time.Second)
			p.Close()
			if len(log.failed) > 0 {
				t.Fatalf("failed: %v", log.failed[0])
			}
			for part, seqs := range log.acks {
				for i := 1; i < len(seqs); i++ {
					if seqs[i] != seqs[i-1]+2 {
						t.Fatalf("partition %d: ack %d is seq %d after %d", part, i, seqs[i], seqs[i-1])
					}
				}
			}
			recs := k.ReadAll(t, "order", senders*each, 30*time.Second)
			if len(recs) != senders*each {
				t.Fatalf("read %d records, want %d", len(recs), senders*each)
			}
			next := map[int32]int{}
			for _, r := range recs {
				parts := strings.SplitN(string(r.Key), "-", 3)
				part, _ := strconv.Atoi(parts[1])
				seq, _ := strconv.Atoi(parts[2])
				if int32(part) != r.Partition {
					t.Fatalf("key %s landed in partition %d", r.Key, r.Partition)
				}
				want, ok := next[r.Partition]
				if !ok {
					want = int(r.Partition) % 2
				}
				if seq != want {
					t.Fatalf("partition %d: offset %d holds seq %d, want %d", r.Partition, r.Offset, seq, want)
				}
				next[r.Partition] = seq + 2
				if !strings.HasSuffix(string(r.Value), strconv.Itoa(seq)) || len(r.Value) != seq%300+len(strconv.Itoa(seq)) {
					t.Fatalf("seq %d: value %q", seq, r.Value)
				}
				if want := ts.Add(time.Duration(seq) * time.Millisecond); !r.Timestamp.Equal(want) {
					t.Fatalf("seq %d: timestamp %s, want %s", seq, r.Timestamp, want)
				}
			}
		})
	}
}

// TestProducerLinger checks that a lone record is sent after the linger time, not held until
// a batch fills.
func TestProducerLinger(t *testing.T) {
	k := testenv.StartKafka(t)
	log := newAckLog()
	p, c := producerFor(t, k, map[string]int{"linger": 1}, log.handler())
	defer c.Close()
	defer p.Close()
	for i := 0; i < 20; i++ {
		start := time.Now()
		if err := p.Send(context.Background(), Record{Topic: "linger", Value: []byte("x"), Timestamp: time.Now(), Meta: meta{0, i}}); err != nil {
			t.Fatal(err)
		}
		log.waitFor(t, int64(i+1), 2*time.Second)
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("record %d acknowledged after %s", i, d)
		}
	}
}

// TestProducerTooLarge checks that a record that can never fit is refused at once, naming the
// limit, and that the ones around it still go.
func TestProducerTooLarge(t *testing.T) {
	k := testenv.StartKafka(t, kfake.BrokerConfigs(map[string]string{"message.max.bytes": "2000"}))
	log := newAckLog()
	p, c := producerFor(t, k, map[string]int{"big": 1}, log.handler())
	defer c.Close()
	send := func(seq, n int) error {
		return p.Send(context.Background(), Record{Topic: "big", Key: []byte("k"), Value: make([]byte, n), Timestamp: time.Now(), Meta: meta{0, seq}})
	}
	if err := send(0, 100); err != nil {
		t.Fatal(err)
	}
	err := send(1, 5000)
	var se *SendError
	if !errors.As(err, &se) || !TooLarge(err) || se.Meta.(meta).seq != 1 || string(se.Key) != "k" || se.ValueLen != 5000 {
		t.Fatalf("oversized record: %v", err)
	}
	for i := 2; i < 40; i++ { // 38 × ~1 KB: several batches under the 2000-byte limit
		if err := send(i, 900); err != nil {
			t.Fatal(err)
		}
	}
	log.waitFor(t, 39, 10*time.Second)
	p.Close()
	if len(log.failed) > 0 {
		t.Fatalf("failed: %v", log.failed[0])
	}
	if n := len(k.ReadAll(t, "big", 39, 10*time.Second)); n != 39 {
		t.Fatalf("read %d records, want 39", n)
	}
}

// TestProducerRetries has the broker refuse produce requests with retriable errors (the
// partition's leader moved, a broken connection) and then a permanent one: retried batches
// land once and in order; the permanent error fails the batch without an acknowledgement.
func TestProducerRetries(t *testing.T) {
	k := testenv.StartKafka(t)
	log := newAckLog()
	p, c := producerFor(t, k, map[string]int{"retry": 1}, log.handler())
	defer c.Close()
	var refused atomic.Int32
	errCode := func(code int16) func(kmsg.Request) (kmsg.Response, error, bool) {
		return func(req kmsg.Request) (kmsg.Response, error, bool) {
			refused.Add(1)
			r := req.(*kmsg.ProduceRequest)
			resp := r.ResponseKind().(*kmsg.ProduceResponse)
			for _, tp := range r.Topics {
				rt := kmsg.NewProduceResponseTopic()
				rt.Topic = tp.Topic
				for _, pp := range tp.Partitions {
					rp := kmsg.NewProduceResponseTopicPartition()
					rp.Partition = pp.Partition
					rp.ErrorCode = code
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
			return resp, nil, true
		}
	}
	k.Cluster.ControlKey(int16(kmsg.Produce), errCode(6)) // NOT_LEADER_OR_FOLLOWER
	k.Cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		refused.Add(1)
		return nil, errors.New("connection dropped by the test"), true
	})
	k.Cluster.ControlKey(int16(kmsg.Produce), errCode(7)) // REQUEST_TIMED_OUT
	const n = 3000
	for i := 0; i < n; i++ {
		if err := p.Send(context.Background(), Record{Topic: "retry", Key: []byte(strconv.Itoa(i)), Value: []byte("value-" + strconv.Itoa(i)), Timestamp: time.Now(), Meta: meta{0, i}}); err != nil {
			t.Fatal(err)
		}
	}
	log.waitFor(t, n, 30*time.Second)
	if refused.Load() != 3 {
		t.Errorf("the broker refused %d requests, want 3", refused.Load())
	}
	seqs := log.acks[0]
	for i, s := range seqs {
		if s != i {
			t.Fatalf("ack %d is seq %d", i, s)
		}
	}
	recs := k.ReadAll(t, "retry", n, 10*time.Second)
	if len(recs) != n {
		t.Fatalf("read %d records, want %d (nothing lost, nothing twice)", len(recs), n)
	}
	for i, r := range recs {
		if string(r.Key) != strconv.Itoa(i) {
			t.Fatalf("offset %d holds key %s", i, r.Key)
		}
	}

	// A permanent error: the batch fails, once, and is not acknowledged.
	k.Cluster.ControlKey(int16(kmsg.Produce), errCode(29)) // TOPIC_AUTHORIZATION_FAILED
	if err := p.Send(context.Background(), Record{Topic: "retry", Key: []byte("last"), Value: []byte("v"), Timestamp: time.Now(), Meta: meta{0, n}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		log.mu.Lock()
		f := len(log.failed)
		log.mu.Unlock()
		if f > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The partition's later batches are dropped, not written after the gap.
	if err := p.Send(context.Background(), Record{Topic: "retry", Key: []byte("after"), Value: []byte("v"), Timestamp: time.Now(), Meta: meta{0, n + 1}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	p.Close()
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.failed) != 1 || !errors.Is(log.failed[0], sarama.ErrTopicAuthorizationFailed) || string(log.failed[0].Key) != "last" {
		t.Fatalf("failures %v, want one TOPIC_AUTHORIZATION_FAILED for key last", log.failed)
	}
	if log.n.Load() != n {
		t.Errorf("%d acknowledgements, want %d", log.n.Load(), n)
	}
	if got := k.Count(t, "retry"); got != n {
		t.Errorf("the topic holds %d records, want %d (nothing after the failed batch)", got, n)
	}
}

// TestProducerCloseGivesUp has the broker drop every produce request: Close returns within its
// grace period, and the handler hears nothing after it.
func TestProducerCloseGivesUp(t *testing.T) {
	defer func(d time.Duration) { closeGrace = d }(closeGrace)
	closeGrace = time.Second
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			ForceLegacyProducer(legacy)
			defer ForceLegacyProducer(false)
			k := testenv.StartKafka(t)
			log := newAckLog()
			p, c := producerFor(t, k, map[string]int{"down": 1}, log.handler())
			defer c.Close()
			k.Cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
				k.Cluster.KeepControl()
				return nil, errors.New("down"), true
			})
			for i := 0; i < 100; i++ {
				if err := p.Send(context.Background(), Record{Topic: "down", Value: []byte("v"), Timestamp: time.Now(), Meta: meta{0, i}}); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(300 * time.Millisecond)
			start := time.Now()
			p.Close()
			if d := time.Since(start); d > closeGrace+2*time.Second {
				t.Errorf("Close took %s", d)
			}
			time.Sleep(500 * time.Millisecond)
			log.mu.Lock()
			if log.n.Load() != 0 || len(log.failed) != 0 {
				t.Errorf("after Close: %d acks, %d failures, want none", log.n.Load(), len(log.failed))
			}
			log.mu.Unlock()
			if err := p.Send(context.Background(), Record{Topic: "down", Value: []byte("v")}); err == nil {
				t.Errorf("Send after Close succeeded")
			}
		})
	}
}

// TestProducerBackpressure checks that Send waits while the buffer is full and gives up with
// the context.
func TestProducerBackpressure(t *testing.T) {
	k := testenv.StartKafka(t)
	log := newAckLog()
	p, c := producerFor(t, k, map[string]int{"slow": 1}, log.handler())
	defer c.Close()
	defer p.Close()
	block := make(chan struct{})
	k.Cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.SleepControl(func() { <-block })
		return nil, nil, false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	val := make([]byte, 100<<10)
	var sent int
	var err error
	for sent = 0; sent < 1000; sent++ {
		if err = p.Send(ctx, Record{Topic: "slow", Value: val, Timestamp: time.Now(), Meta: meta{0, sent}}); err != nil {
			break
		}
	}
	close(block)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send into a full buffer: %v after %d records", err, sent)
	}
	if limit := bufferLimit / len(val); sent > limit+1 {
		t.Errorf("%d records of 100 KiB buffered, the limit holds %d", sent, limit)
	}
	log.waitFor(t, int64(sent), 20*time.Second)
}

// TestProducerMergesPartitions puts 20 ms on every produce round trip and sends a trickle to
// 12 partitions of one broker: the partitions' batches share requests, so a record waits
// about one round trip, not one per partition queued before it.
func TestProducerMergesPartitions(t *testing.T) {
	k := testenv.StartKafka(t)
	log := newAckLog()
	const parts = 12
	var mu sync.Mutex
	sent := map[int]time.Time{}
	var lat []time.Duration
	h := log.handler()
	acked := h.Acked
	h.Acked = func(m any, n int) {
		mu.Lock()
		lat = append(lat, time.Since(sent[m.(meta).seq]))
		mu.Unlock()
		acked(m, n)
	}
	p, c := producerFor(t, k, map[string]int{"rtt": parts}, h)
	defer c.Close()
	defer p.Close()
	var requests atomic.Int32
	k.Cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.KeepControl()
		requests.Add(1)
		k.Cluster.SleepControl(func() { time.Sleep(20 * time.Millisecond) })
		return nil, nil, false
	})
	const rounds = 50
	for r := 0; r < rounds; r++ {
		for i := 0; i < parts; i++ {
			seq := r*parts + i
			mu.Lock()
			sent[seq] = time.Now()
			mu.Unlock()
			if err := p.Send(context.Background(), Record{Topic: "rtt", Partition: int32(i), Value: []byte("v"), Timestamp: time.Now(), Meta: meta{int32(i), seq}}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	log.waitFor(t, rounds*parts, 30*time.Second)
	mu.Lock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[len(lat)*99/100]
	mu.Unlock()
	t.Logf("%d records to %d partitions in %d produce requests; latency p50 %s p99 %s", rounds*parts, parts, requests.Load(), lat[len(lat)/2], p99)
	if p99 > 120*time.Millisecond {
		t.Errorf("p99 latency %s with a 20 ms round trip: the partitions' batches queue one after another", p99)
	}
	if n := requests.Load(); n > rounds*parts/3 {
		t.Errorf("%d produce requests for %d one-record batches: partitions are not merged", n, rounds*parts)
	}
}
