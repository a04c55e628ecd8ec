// Package openaitest runs a fake OpenAI-compatible chat server on the
// loopback interface for tests, with faults chosen by the model name.
//
// Models:
//   - "echo": streams "You said: " and the prompt's words, one word a
//     chunk, up to max_tokens chunks, then usage.
//   - "flaky-429": answers 429 with Retry-After: 1 to the first request,
//     then behaves like echo.
//   - "flaky-500": answers 500 to the first two requests, then echo.
//   - "always-500": always 500.
//   - "slow": sends no headers for 5 seconds (a slow first byte).
//   - "cut": streams three chunks, then drops the connection.
//   - "stall": streams two chunks, then goes quiet for 5 seconds.
//   - "busy": like echo, with a pause of BusyDelay before each chunk, so
//     that requests overlap (MaxInFlight tells how many did at most).
//   - "burst-429": like busy, except that the fourth request opens a
//     rate-limit window of BurstWindow: every request that arrives in it
//     gets 429 with Retry-After (whole seconds, rounded up) and
//     retry-after-ms saying when it ends.
//
// With echo, busy and burst-429, a prompt that contains "[fail-500]"
// always gets 500.
//
// Any other model gets 404 model_not_found; a wrong key gets 401.
package openaitest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is what the server saw of one request.
type Request struct {
	Time          time.Time
	Authorization string
	Org           string
	Body          map[string]any
}

// Server is the fake API.
type Server struct {
	*httptest.Server
	Key string // the API key it accepts; "" accepts any
	// BusyDelay is the pause before each chunk of "busy" and "burst-429"
	// (default 20ms); BurstWindow the rate-limit window of "burst-429"
	// (default 1s). Set them before the first request.
	BusyDelay   time.Duration
	BurstWindow time.Duration

	mu       sync.Mutex
	count    map[string]int
	reqs     []Request
	stop     chan struct{}
	inFlight int
	maxIn    int
	burstEnd time.Time
	limited  []time.Time // arrival of each request answered 429 by burst-429
}

// New starts a server on 127.0.0.1. Close it when done.
func New(key string) *Server {
	s := &Server{Key: key, count: map[string]int{}, stop: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s.Server.Listener = l
	s.Server.Start()
	return s
}

// URL of the API root, ending in /v1.
func (s *Server) APIURL() string { return s.Server.URL + "/v1" }

// Close stops the server, ending stalled handlers first.
func (s *Server) Close() {
	close(s.stop)
	s.Server.CloseClientConnections()
	s.Server.Close()
}

// MaxInFlight is the most requests the server was answering at once. A
// request counts from its arrival until just before the last byte of its
// answer is written, so a client that waits for the whole answer before
// sending another is never counted twice.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

// Burst returns when the "burst-429" window ended (zero if it never
// opened) and the arrival times of the requests answered 429 in it.
func (s *Server) Burst() (end time.Time, limited []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.burstEnd, append([]time.Time(nil), s.limited...)
}

// enter counts a request in flight; the returned func (safe to call more
// than once) counts it out.
func (s *Server) enter() func() {
	s.mu.Lock()
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		})
	}
}

// Requests returns the requests seen so far for model (all when "").
func (s *Server) Requests(model string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqs {
		if model == "" || r.Body["model"] == model {
			out = append(out, r)
		}
	}
	return out
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "code": code}})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		apiError(w, http.StatusNotFound, "unknown_url", "Unknown request URL: "+r.Method+" "+r.URL.Path)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "bad_json", "bad JSON body: "+err.Error())
		return
	}
	model, _ := body["model"].(string)
	out := s.enter()
	defer out()
	now := time.Now()
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Time: now, Authorization: r.Header.Get("Authorization"), Org: r.Header.Get("OpenAI-Organization"), Body: body})
	s.count[model]++
	n := s.count[model]
	var limitedFor time.Duration
	if model == "burst-429" {
		if n == 4 {
			s.burstEnd = now.Add(cmp.Or(s.BurstWindow, time.Second))
		}
		if now.Before(s.burstEnd) {
			limitedFor = s.burstEnd.Sub(now)
			s.limited = append(s.limited, now)
		}
	}
	delay := cmp.Or(s.BusyDelay, 20*time.Millisecond)
	s.mu.Unlock()
	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		out()
		apiError(w, http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided.")
		return
	}
	prompt := ""
	if msgs, ok := body["messages"].([]any); ok && len(msgs) > 0 {
		if m, ok := msgs[len(msgs)-1].(map[string]any); ok {
			prompt, _ = m["content"].(string)
		}
	}
	if (model == "echo" || model == "busy" || model == "burst-429") && strings.Contains(prompt, "[fail-500]") {
		out()
		apiError(w, http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
		return
	}
	switch model {
	case "echo":
	case "busy":
	case "burst-429":
		if limitedFor > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((limitedFor+time.Second-1)/time.Second)))
			w.Header().Set("Retry-After-Ms", strconv.FormatInt(limitedFor.Milliseconds()+1, 10))
			out()
			apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached.")
			return
		}
	case "flaky-429":
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			out()
			apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached, retry after 1s.")
			return
		}
	case "flaky-500":
		if n <= 2 {
			out()
			apiError(w, http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
			return
		}
	case "always-500":
		out()
		apiError(w, http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
		return
	case "slow":
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		}
	case "cut", "stall":
	default:
		out()
		apiError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model))
		return
	}
	words := append([]string{"You", " said:"}, splitWords(prompt)...)
	max := len(words)
	if mt, ok := body["max_tokens"].(float64); ok && int(mt) < max {
		max = int(mt)
	}
	finish := "stop"
	if max < len(words) {
		finish = "length"
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		fl.Flush()
	}
	chunk := func(content string, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": content}, "finish_reason": finish}}}
	}
	for i := 0; i < max; i++ {
		if model == "cut" && i == 3 {
			panic(http.ErrAbortHandler) // drops the connection mid-stream
		}
		if model == "busy" || model == "burst-429" {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			case <-s.stop:
				return
			}
		}
		if model == "stall" && i == 2 {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
				return
			case <-s.stop:
				return
			}
		}
		send(chunk(words[i], nil))
	}
	send(chunk("", finish))
	send(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": []any{},
		"usage": map[string]any{"prompt_tokens": len(splitWords(prompt)), "completion_tokens": max, "total_tokens": len(splitWords(prompt)) + max}})
	out()
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

// splitWords splits text into words that keep their leading space.
func splitWords(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		out = append(out, " "+f)
	}
	return out
}
