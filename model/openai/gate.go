package openai

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultConcurrency is how many requests a client sends at once when the
// profile does not say.
const DefaultConcurrency = 4

// MaxConcurrency bounds a profile's concurrency.
const MaxConcurrency = 256

// gate limits a client's requests in flight and pauses them all when the
// server rate-limits one: a 429 stops new requests (and retries) until the
// wait the server asked for has passed, and halves the limit (once per
// burst of 429s); every limit successful answers since then raise it by
// one again, up to the configured maximum (additive increase,
// multiplicative decrease).
type gate struct {
	mu       sync.Mutex
	max      int
	limit    int
	inFlight int
	wins     int       // successful answers since the limit last changed
	until    time.Time // no request starts before this
	epoch    int       // bumped at each decrease
	changed  chan struct{}
}

func newGate(max int) *gate {
	if max < 1 {
		max = 1
	}
	return &gate{max: max, limit: max, changed: make(chan struct{})}
}

// ticket is what a request holds of the gate: the epoch it started in, so
// that a burst of 429s to requests sent together lowers the limit once.
type ticket struct{ epoch int }

type ticketKey struct{}

// broadcast wakes every waiter; the caller holds mu.
func (g *gate) broadcast() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// wait blocks until ready (called with mu held) says yes, a change
// happens or the pause ends, or ctx ends.
func (g *gate) wait(ctx context.Context, ready func(now time.Time) bool) error {
	for {
		g.mu.Lock()
		now := time.Now()
		if ready(now) {
			g.mu.Unlock()
			return nil
		}
		ch, pause := g.changed, g.until.Sub(now)
		g.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if pause > 0 {
			timer = time.NewTimer(pause)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return context.Cause(ctx)
		case <-ch:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// acquire takes a slot: it waits for a pause to end and for fewer than
// limit requests in flight.
func (g *gate) acquire(ctx context.Context) (*ticket, error) {
	var t *ticket
	err := g.wait(ctx, func(now time.Time) bool {
		if now.Before(g.until) || g.inFlight >= g.limit {
			return false
		}
		g.inFlight++
		t = &ticket{epoch: g.epoch}
		return true
	})
	return t, err
}

// release gives a slot back.
func (g *gate) release() {
	g.mu.Lock()
	g.inFlight--
	g.broadcast()
	g.mu.Unlock()
}

// waitPause waits for a pause (a 429 to any request) to end.
func (g *gate) waitPause(ctx context.Context) error {
	if err := g.wait(ctx, func(now time.Time) bool { return !now.Before(g.until) }); err != nil {
		return fmt.Errorf("waiting out the rate limit: %w", err)
	}
	return nil
}

// throttled records a 429 to a request holding t (nil for a request sent
// outside the gate): no request starts for d, and the limit halves unless
// it already did for a 429 to a request sent after this one.
func (g *gate) throttled(t *ticket, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if u := time.Now().Add(d); u.After(g.until) {
		g.until = u
	}
	if t == nil || t.epoch == g.epoch {
		g.limit = max(1, g.limit/2)
		g.wins = 0
		g.epoch++
	}
	g.broadcast()
}

// succeeded records an answer that was not a 429: after limit of them the
// limit rises by one.
func (g *gate) succeeded() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limit >= g.max {
		return
	}
	g.wins++
	if g.wins >= g.limit {
		g.limit++
		g.wins = 0
		g.broadcast()
	}
}

// state returns the current limit and requests in flight (tests).
func (g *gate) state() (limit, inFlight int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit, g.inFlight
}
