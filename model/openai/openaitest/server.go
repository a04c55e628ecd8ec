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
//
// Any other model gets 404 model_not_found; a wrong key gets 401.
package openaitest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
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

	mu    sync.Mutex
	count map[string]int
	reqs  []Request
	stop  chan struct{}
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
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Time: time.Now(), Authorization: r.Header.Get("Authorization"), Org: r.Header.Get("OpenAI-Organization"), Body: body})
	s.count[model]++
	n := s.count[model]
	s.mu.Unlock()
	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		apiError(w, http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided.")
		return
	}
	switch model {
	case "echo":
	case "flaky-429":
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached, retry after 1s.")
			return
		}
	case "flaky-500":
		if n <= 2 {
			apiError(w, http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
			return
		}
	case "always-500":
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
		apiError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model))
		return
	}
	prompt := ""
	if msgs, ok := body["messages"].([]any); ok && len(msgs) > 0 {
		if m, ok := msgs[len(msgs)-1].(map[string]any); ok {
			prompt, _ = m["content"].(string)
		}
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
