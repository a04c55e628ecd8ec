package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// retryTransport retries a request answered with 429 or 5xx, honouring
// Retry-After (seconds or an HTTP date) and retry-after-ms, with
// exponential backoff and jitter otherwise. It also retries a connection
// reset before any answer. Retries happen before the stream starts, so no
// text is ever duplicated. With a gate, a 429 pauses the whole client (see
// gate) and every try waits for such a pause to end.
type retryTransport struct {
	gate    *gate // nil: no client-wide pause
	base    http.RoundTripper
	max     int           // retries after the first try
	backoff time.Duration // first backoff
	maxWait time.Duration // cap on one wait
	notify  func(attempt int, wait time.Duration, why string)
	sleep   func(ctx context.Context, d time.Duration) error
}

// attemptsKey marks a request context with an *int that receives the
// number of tries made, for error messages.
type attemptsKey struct{}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(req.Context())
			if req.GetBody != nil {
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = b
			}
		}
		if n, ok := req.Context().Value(attemptsKey{}).(*int); ok {
			*n = attempt + 1
		}
		if t.gate != nil {
			if err := t.gate.waitPause(req.Context()); err != nil {
				return nil, err
			}
		}
		resp, err := t.base.RoundTrip(r)
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			if !retryableNetErr(err) || req.Context().Err() != nil {
				return nil, err
			}
			why = err.Error()
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			why = resp.Status
			wait = retryAfter(resp.Header, time.Now())
		default:
			if t.gate != nil && resp.StatusCode < 400 {
				t.gate.succeeded()
			}
			return resp, nil
		}
		if wait == 0 {
			wait = t.backoff << attempt
			wait += time.Duration(rand.Int64N(int64(wait)/4 + 1))
		}
		if t.gate != nil && resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			// Every request of the client waits, not only this one.
			tk, _ := req.Context().Value(ticketKey{}).(*ticket)
			t.gate.throttled(tk, min(wait, t.maxWait))
		}
		if attempt >= t.max || req.GetBody == nil && req.Body != nil {
			return resp, err
		}
		if wait > t.maxWait {
			if resp != nil && resp.Header.Get("Retry-After") != "" {
				// The server wants more patience than allowed: give its answer back.
				return resp, nil
			}
			wait = t.maxWait
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if t.notify != nil {
			t.notify(attempt+1, wait, why)
		}
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

func retryableNetErr(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// retryAfter reads retry-after-ms or Retry-After (seconds or HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting to retry: %w", context.Cause(ctx))
	case <-t.C:
		return nil
	}
}
