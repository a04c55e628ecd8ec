package openai

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"deskbot/model"
	"deskbot/model/openai/openaitest"
)

func batchReqs(n int, mark func(i int) string) []model.Request {
	reqs := make([]model.Request, n)
	for i := range reqs {
		reqs[i] = model.Request{Prompt: fmt.Sprintf("row %d%s", i+1, mark(i)), MaxTokens: 20}
	}
	return reqs
}

func noMark(int) string { return "" }

// Requests go concurrently, never more than the profile's concurrency at
// once, and each result is its own request's answer.
func TestBatchConcurrencyLimit(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c, err := New(Profile{Name: "fake", BaseURL: srv.APIURL(), Model: "busy", Concurrency: 3}, testKey, "test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu sync.Mutex
	streamed := map[int]string{}
	res, errs := c.GenerateBatch(context.Background(), batchReqs(15, noMark), func(i int, tok model.Token) error {
		mu.Lock()
		streamed[i] += tok.Text
		mu.Unlock()
		return nil
	})
	for i := range res {
		want := fmt.Sprintf("You said: row %d", i+1)
		if errs[i] != nil || res[i].Text != want || streamed[i] != want {
			t.Fatalf("request %d: %v %+v streamed %q", i, errs[i], res[i], streamed[i])
		}
	}
	if n := len(srv.Requests("busy")); n != 15 {
		t.Fatalf("%d requests, want 15", n)
	}
	if m := srv.MaxInFlight(); m > 3 || m < 2 {
		t.Fatalf("at most %d requests in flight; want 2 or 3 (the limit is 3)", m)
	}
	if _, ok := model.Generator(c).(model.BatchGenerator); !ok {
		t.Fatal("the client is not a model.BatchGenerator")
	}
}

// A 429 with Retry-After pauses the whole client: requests that were not
// yet sent wait for the window to end too; then every request succeeds,
// once each, and the lowered concurrency rises back.
func TestBatchRateLimitBurst(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	srv.BurstWindow = 600 * time.Millisecond
	var notes []string
	var mu sync.Mutex
	c, err := New(Profile{Name: "fake", BaseURL: srv.APIURL(), Model: "burst-429", Concurrency: 4}, testKey, "test",
		Options{Backoff: 5 * time.Millisecond, Notify: func(a int, w time.Duration, why string) {
			mu.Lock()
			notes = append(notes, why)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, errs := c.GenerateBatch(context.Background(), batchReqs(12, noMark), nil)
	for i := range res {
		if want := fmt.Sprintf("You said: row %d", i+1); errs[i] != nil || res[i].Text != want {
			t.Fatalf("request %d: %v %+v", i, errs[i], res[i])
		}
	}
	end, limited := srv.Burst()
	if end.IsZero() {
		t.Fatal("the rate-limit window never opened")
	}
	// Only the request that opened the window met it: the others, sent or
	// retried later, waited for the pause.
	if len(limited) != 1 {
		t.Fatalf("%d requests answered 429, want 1 (the client must pause all requests)", len(limited))
	}
	reqs := srv.Requests("burst-429")
	if len(reqs) != 13 {
		t.Fatalf("%d requests, want 12 and one retry", len(reqs))
	}
	seen := map[string]int{}
	for _, r := range reqs {
		if r.Time.After(limited[0]) && r.Time.Before(end) {
			t.Fatalf("a request arrived at %v, inside the window (%v to %v)", r.Time, limited[0], end)
		}
		msgs := r.Body["messages"].([]any)
		seen[msgs[0].(map[string]any)["content"].(string)]++
	}
	twice := 0
	for p, n := range seen {
		switch n {
		case 1:
		case 2:
			twice++
		default:
			t.Fatalf("%q sent %d times", p, n)
		}
	}
	if len(seen) != 12 || twice != 1 {
		t.Fatalf("%d prompts sent, %d of them twice; want 12 and only the rate-limited one again", len(seen), twice)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "429") {
		t.Fatalf("retries noted: %q", notes)
	}
	// Lowered to 2 at the 429, back to 4 after enough answers.
	if limit, in := c.gate.state(); limit != 4 || in != 0 {
		t.Fatalf("limit %d with %d in flight after the batch, want 4 and 0", limit, in)
	}
}

// A request that keeps failing with 500 fails alone, after its retries.
func TestBatchOneServerError(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c := testClient(t, srv, "echo", Options{MaxRetries: 2})
	res, errs := c.GenerateBatch(context.Background(), batchReqs(6, func(i int) string {
		if i == 2 {
			return " [fail-500]"
		}
		return ""
	}), nil)
	for i := range res {
		if i == 2 {
			if !errors.Is(errs[i], ErrServer) || !strings.Contains(errs[i].Error(), "after 3 tries") {
				t.Fatalf("request 3: %v", errs[i])
			}
			continue
		}
		if want := fmt.Sprintf("You said: row %d", i+1); errs[i] != nil || res[i].Text != want {
			t.Fatalf("request %d: %v %+v", i, errs[i], res[i])
		}
	}
	if n := len(srv.Requests("echo")); n != 8 {
		t.Fatalf("%d requests, want 5 and 3 tries of the failing one", n)
	}
}

// Cancelling stops every request: those in flight end with the cause,
// those not sent are never sent.
func TestBatchCancel(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	srv.BusyDelay = 50 * time.Millisecond
	c := testClient(t, srv, "busy", Options{Concurrency: 2})
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stopped by the user")
	var once sync.Once
	res, errs := c.GenerateBatch(ctx, batchReqs(10, noMark), func(i int, tok model.Token) error {
		once.Do(func() { cancel(stop) })
		return nil
	})
	for i := range res {
		if !errors.Is(errs[i], stop) {
			t.Fatalf("request %d: %v, want the cancel cause", i, errs[i])
		}
	}
	n := len(srv.Requests("busy"))
	if n > 2 {
		t.Fatalf("%d requests sent after the cancel of a batch limited to 2", n)
	}
	if _, in := c.gate.state(); in != 0 {
		t.Fatalf("%d slots still held", in)
	}
}

// The limit halves once per burst of 429s, pauses new requests, and rises
// by one after limit successful answers.
func TestGateAIMD(t *testing.T) {
	g := newGate(4)
	ctx := context.Background()
	var ts []*ticket
	for range 4 {
		tk, err := g.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tk)
	}
	g.throttled(ts[0], 30*time.Millisecond)
	g.throttled(ts[1], 30*time.Millisecond) // the same burst
	if l, _ := g.state(); l != 2 {
		t.Fatalf("limit %d after one burst, want 2", l)
	}
	for range 4 {
		g.release()
	}
	start := time.Now()
	if _, err := g.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 25*time.Millisecond {
		t.Fatalf("a request started %v after a 30ms pause began", el)
	}
	g.release()
	g.succeeded()
	if l, _ := g.state(); l != 2 {
		t.Fatalf("limit %d after one success, want 2", l)
	}
	g.succeeded()
	if l, _ := g.state(); l != 3 {
		t.Fatalf("limit %d after two successes, want 3", l)
	}
	for range 10 {
		g.succeeded()
	}
	if l, _ := g.state(); l != 4 {
		t.Fatalf("limit %d, want the maximum 4", l)
	}
	// A later burst halves again; a full gate makes acquire wait for ctx.
	tk, _ := g.acquire(ctx)
	g.throttled(tk, 0)
	g.throttled(nil, 0)
	if l, _ := g.state(); l != 1 {
		t.Fatalf("limit %d, want 1", l)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := g.acquire(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire on a full gate: %v", err)
	}
}

func TestProfileConcurrency(t *testing.T) {
	p := Profile{Name: "p", BaseURL: "http://127.0.0.1:1/v1", Model: "m", Concurrency: -1}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "concurrency") {
		t.Fatalf("negative concurrency: %v", err)
	}
	p.Concurrency = 0
	c, err := New(p, "", "", Options{})
	if err != nil || c.opts.Concurrency != DefaultConcurrency {
		t.Fatalf("%v %d", err, c.opts.Concurrency)
	}
	p.Concurrency = 7
	if c, _ = New(p, "", "", Options{}); c.opts.Concurrency != 7 {
		t.Fatal(c.opts.Concurrency)
	}
	if c, _ = New(p, "", "", Options{Concurrency: 2}); c.opts.Concurrency != 2 {
		t.Fatal(c.opts.Concurrency)
	}
}

// BenchmarkBatch sends 16 requests to the local fake server (2ms a chunk,
// so the time is the server's, as with a real API) one at a time and 4 at
// a time: compare the two in the same run.
func BenchmarkBatch(b *testing.B) {
	srv := openaitest.New("")
	defer srv.Close()
	srv.BusyDelay = 2 * time.Millisecond
	reqs := batchReqs(16, noMark)
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			c, err := New(Profile{Name: "bench", BaseURL: srv.APIURL(), Model: "busy", Concurrency: conc}, "", "", Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			for b.Loop() {
				if _, errs := c.GenerateBatch(context.Background(), reqs, nil); errs[0] != nil {
					b.Fatal(errs[0])
				}
			}
		})
	}
}
