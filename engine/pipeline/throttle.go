package pipeline

import (
	"context"
	"sync"
	"time"
)

// Bucket is a token bucket whose rate can change while it is used. Take never refuses: it
// takes what it is asked for and sleeps off any debt, so the long-run rate equals the limit
// however large each take is. A rate of 0 means unlimited.
type Bucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	tokens float64
	last   time.Time
}

// SetRate changes the limit (0 = unlimited).
func (b *Bucket) SetRate(perSecond float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if perSecond != b.rate {
		b.rate = perSecond
		b.tokens = 0
		b.last = time.Now()
	}
}

// Rate returns the current limit.
func (b *Bucket) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate
}

// Take takes n tokens, sleeping while the bucket is in debt.
func (b *Bucket) Take(ctx context.Context, n float64) error {
	b.mu.Lock()
	if b.rate <= 0 {
		b.mu.Unlock()
		return nil
	}
	now := time.Now()
	if b.last.IsZero() {
		b.last = now
	}
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	// At most 50 ms of burst, so a change of rate shows at once.
	if max := b.rate * 0.05; b.tokens > max {
		b.tokens = max
	}
	b.last = now
	b.tokens -= n
	debt := -b.tokens
	rate := b.rate
	b.mu.Unlock()
	if debt <= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(debt / rate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Limits are the throttles of one phase: queries, rows and bytes per second.
type Limits struct {
	Queries Bucket
	Rows    Bucket
	Bytes   Bucket
}

// Set applies a task's throttle values (disabled = unlimited).
func (l *Limits) Set(enabled bool, qps, rps int, mbps float64) {
	if !enabled {
		qps, rps, mbps = 0, 0, 0
	}
	l.Queries.SetRate(float64(qps))
	l.Rows.SetRate(float64(rps))
	l.Bytes.SetRate(mbps * 1e6)
}

// active is true when any limit is set (the hot path skips the buckets otherwise).
func (l *Limits) active() bool {
	return l.Rows.Rate() > 0 || l.Bytes.Rate() > 0
}
