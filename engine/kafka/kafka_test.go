package kafka

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"tributary/engine/task"
	"tributary/internal/testenv"
)

func TestTooLarge(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{sarama.ErrMessageSizeTooLarge, true},
		{sarama.ErrMessageSetSizeTooLarge, true},
		{sarama.ConfigurationError("Attempt to produce message larger than configured Producer.MaxMessageBytes: 5289 > 1939"), true},
		{sarama.ConfigurationError("Producing headers requires Kafka at least v0.11"), false},
		{sarama.ErrNotLeaderForPartition, false},
		{errors.New("EOF"), false},
	} {
		if got := TooLarge(tc.err); got != tc.want {
			t.Errorf("TooLarge(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestMessageLimit checks that PrepareTopics sizes the producer under the destination's limit:
// Kafka's default, the broker's message.max.bytes, and a topic's own max.message.bytes.
func TestMessageLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	limit := func(k *testenv.Kafka, want map[string]int) int {
		t.Helper()
		c, err := NewClient(ctx, &task.Kafka{Brokers: k.Addrs, Version: "2.8.0"}, Settings{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := PrepareTopics(c, want); err != nil {
			t.Fatal(err)
		}
		if got := c.Config().Producer.MaxMessageBytes; got != MessageLimit(c)-RecordBatchOverhead {
			t.Errorf("Producer.MaxMessageBytes = %d for limit %d", got, MessageLimit(c))
		}
		return MessageLimit(c)
	}

	def := testenv.StartKafka(t)
	if got := limit(def, map[string]int{"a": 0}); got != DefaultMessageLimit {
		t.Errorf("default limit %d, want %d", got, DefaultMessageLimit)
	}

	k := testenv.StartKafka(t, kfake.BrokerConfigs(map[string]string{"message.max.bytes": "2000"}))
	if got := limit(k, map[string]int{"a": 0, "b": 3}); got != 2000 {
		t.Errorf("limit %d with message.max.bytes 2000, want 2000", got)
	}
	cl, err := k.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	set := func(topic, v string) {
		resps, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, topic)
		if err == nil {
			_, err = resps.On(topic, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	set("b", "1500")
	if got := limit(k, map[string]int{"a": 0, "b": 3}); got != 1500 {
		t.Errorf("limit %d with topic b at 1500, want the smallest, 1500", got)
	}
	set("a", "90000")
	set("b", "100000")
	if got := limit(k, map[string]int{"a": 0, "b": 3}); got != 90000 {
		t.Errorf("limit %d with topics above the broker's limit, want 90000", got)
	}
}

// TestExplainLogin checks that a failed SASL login is named as such, although the broker (kfake)
// only closes the connection. tests/kafka_test.go covers TLS.
func TestExplainLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		k := testenv.StartKafka(t, kfake.EnableSASL(), kfake.Superuser(mech, "alice", "right"))
		kt := &task.Kafka{Brokers: k.Addrs, Version: "2.8.0", SASL: task.SASL{Mechanism: mech, User: "alice", Password: "wrong"}}
		_, err := NewClient(ctx, kt, Settings{})
		var ce *ConnError
		if !errors.As(err, &ce) || ce.Kind != "authentication" {
			t.Fatalf("%s: %v (%#v), want an authentication ConnError", mech, err, err)
		}
		for _, want := range []string{"SASL authentication failed", `"alice"`, mech} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not say %s", mech, err, want)
			}
		}
		kt.SASL.Password = "right"
		c, err := NewClient(ctx, kt, Settings{})
		if err != nil {
			t.Fatalf("%s with the right password: %v", mech, err)
		}
		c.Close()
	}

}
