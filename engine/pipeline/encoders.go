package pipeline

import (
	"context"
	"fmt"
	"time"

	"tributary/engine/event"
	"tributary/engine/format"
	"tributary/engine/format/canaljson"
	"tributary/engine/format/dtsavro"
	"tributary/engine/task"
)

// newEncoder builds the encoder of the task's data format.
func newEncoder(ctx context.Context, t *task.Task, now func() time.Time) (format.Encoder, error) {
	switch t.Format {
	case "canal-json":
		o := canaljson.OptionsFromTask(t)
		o.Now = now
		return canaljson.New(o)
	case "dts-avro":
		o := dtsavro.OptionsFromTask(t)
		o.Now = now
		return dtsavro.New(o)
	}
	return nil, fmt.Errorf("data format %q is not one of canal-json, dts-avro", t.Format)
}

// registryFramer prefixes DTS Avro payloads with the Confluent framing (magic byte 0 and the
// 4-byte schema id) when "Use Kafka Schema Registry" is on: the schema is registered under
// "<topic>-value" for every topic the task writes.
type registryFramer struct {
	ids map[string]int32
}

func newRegistryFramer(ctx context.Context, url string, topics []string) (*registryFramer, error) {
	cl := dtsavro.NewRegistryClient(url)
	f := &registryFramer{ids: map[string]int32{}}
	for _, t := range topics {
		id, err := cl.Register(ctx, dtsavro.Subject(t))
		if err != nil {
			return nil, fmt.Errorf("register the DTS Avro schema under %q at %s: %w", dtsavro.Subject(t), url, err)
		}
		f.ids[t] = id
	}
	return f, nil
}

// encodeFramed encodes ev and frames it for topic.
func (f *registryFramer) encodeFramed(enc format.Encoder, dst []byte, topic string, ev *event.Event) ([]byte, error) {
	start := len(dst)
	dst = dtsavro.Frame(dst, f.ids[topic], nil)
	out, err := enc.Encode(dst, ev)
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}
