package kafka

import (
	"errors"
	"strconv"
	"strings"

	"github.com/IBM/sarama"
)

// Message size limits. A broker measures every record batch it receives (after compression,
// with its 61-byte header) against the topic's max.message.bytes, which defaults to the broker's
// message.max.bytes (1048588 in Kafka). The producer is told the limit minus that header, so
// that its batches always fit, and a single row that cannot fit fails before it is sent.

// DefaultMessageLimit is Kafka's default message.max.bytes, assumed until PrepareTopics reads
// the destination's own limit.
const DefaultMessageLimit = 1048588

// RecordBatchOverhead is the size of a record batch header (magic v2), which sarama does not
// count against Producer.MaxMessageBytes.
const RecordBatchOverhead = 61

// MessageLimit returns the largest record batch the destination accepts for the topics the
// client was prepared for (the smallest max.message.bytes among them; Kafka's default when it
// could not be read): the limit to name when a row does not fit.
func MessageLimit(c sarama.Client) int {
	return c.Config().Producer.MaxMessageBytes + RecordBatchOverhead
}

// TooLarge reports whether a produce error means that a message exceeds the size limit: the
// broker's MESSAGE_TOO_LARGE or RECORD_LIST_TOO_LARGE, or sarama's own check against
// Producer.MaxMessageBytes (a ConfigurationError raised before sending).
func TooLarge(err error) bool {
	if errors.Is(err, sarama.ErrMessageSizeTooLarge) || errors.Is(err, sarama.ErrMessageSetSizeTooLarge) {
		return true
	}
	var ce sarama.ConfigurationError
	return errors.As(err, &ce) && strings.Contains(string(ce), "larger than configured Producer.MaxMessageBytes")
}

// fitMessageLimit reads the smallest max.message.bytes of topics and sizes the producer's
// batches under it. Failures to read it (an account without DescribeConfigs) keep the default.
func fitMessageLimit(c sarama.Client, admin sarama.ClusterAdmin, topics []string) {
	if !c.Config().Version.IsAtLeast(sarama.V0_11_0_0) {
		return // DescribeConfigs does not exist before Kafka 0.11
	}
	if admin == nil {
		var err error
		if admin, err = sarama.NewClusterAdminFromClient(c); err != nil {
			return
		}
	}
	limit := 0
	brokerLimit := -1 // not read yet
	for _, t := range topics {
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: t, ConfigNames: []string{"max.message.bytes"}})
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Name != "max.message.bytes" {
				continue
			}
			n, err := strconv.Atoi(e.Value)
			if err != nil || n <= 0 {
				continue
			}
			// A topic without its own value inherits the broker's message.max.bytes; some
			// brokers (kfake) report Kafka's default here instead of the broker's value.
			if e.Source == sarama.SourceDefault || (e.Source == sarama.SourceUnknown && e.Default) {
				if brokerLimit < 0 {
					brokerLimit = readBrokerLimit(c, admin)
				}
				if brokerLimit > 0 {
					n = brokerLimit
				}
			}
			if limit == 0 || n < limit {
				limit = n
			}
		}
	}
	if limit <= 0 {
		return
	}
	max := limit - RecordBatchOverhead
	if max < 1 {
		max = 1
	}
	if max >= int(sarama.MaxRequestSize) {
		max = int(sarama.MaxRequestSize) - 1
	}
	c.Config().Producer.MaxMessageBytes = max
}

// readBrokerLimit returns a broker's message.max.bytes, or 0.
func readBrokerLimit(c sarama.Client, admin sarama.ClusterAdmin) int {
	for _, b := range c.Brokers() {
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.BrokerResource, Name: strconv.Itoa(int(b.ID())), ConfigNames: []string{"message.max.bytes"}})
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Name == "message.max.bytes" {
				if n, err := strconv.Atoi(e.Value); err == nil && n > 0 {
					return n
				}
			}
		}
	}
	return 0
}
