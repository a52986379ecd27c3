package testenv

import (
	"context"
	"sync"
)

// Checkpoints is an in-memory pipeline.Checkpoints for tests. Get reads one key.
type Checkpoints struct {
	mu    sync.Mutex
	kv    map[string][]byte
	Saves int // how many times Save was called
}

// Load returns a copy of every checkpoint.
func (m *Checkpoints) Load(ctx context.Context) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range m.kv {
		out[k] = append([]byte(nil), v...)
	}
	return out, nil
}

// Save stores the given checkpoints.
func (m *Checkpoints) Save(ctx context.Context, kv map[string][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.kv == nil {
		m.kv = map[string][]byte{}
	}
	for k, v := range kv {
		m.kv[k] = append([]byte(nil), v...)
	}
	m.Saves++
	return nil
}

// Get returns one checkpoint (nil if absent).
func (m *Checkpoints) Get(k string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.kv[k]...)
}
