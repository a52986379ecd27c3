package pipeline

import (
	"context"
	"fmt"

	"tributary/engine/format"
	"tributary/engine/format/canaljson"
	"tributary/engine/task"
)

// newEncoder builds the encoder of the task's data format.
func newEncoder(ctx context.Context, t *task.Task, serverVersion string) (format.Encoder, error) {
	switch t.Format {
	case "canal-json":
		return canaljson.New(canaljson.OptionsFromTask(t))
	}
	return nil, fmt.Errorf("data format %q is not available in this build", t.Format)
}
