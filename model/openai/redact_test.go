package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"deskbot/model"
)

// echoServer answers every request with status and a body that echoes the
// request's bearer token, as some APIs and proxies do.
func echoServer(t *testing.T, status int, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, body, key, key)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// An API that echoes the key in its error answers: the client's errors and
// retry notes never carry it, and still say what happened.
func TestErrorsNeverCarryTheKey(t *testing.T) {
	for _, key := range []string{"sk-echoed-key-0123456789", "plain-private-key-abcdefgh"} {
		for _, c := range []struct {
			status int
			body   string
			is     error
		}{
			{401, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error","code":"invalid_api_key","param":"%s"}}`, ErrUnauthorized},
			{400, `not json: Authorization: Bearer %s (%s)`, ErrRejected},
			{503, `{"error":{"message":"upstream refused key %s / %s"}}`, ErrServer},
		} {
			srv := echoServer(t, c.status, c.body)
			var notes atomic.Value
			notes.Store("")
			cl, err := New(Profile{Name: "echo", BaseURL: srv.URL + "/v1", Model: "m"}, key, "env DESKBOT_API_KEY_ECHO",
				Options{MaxRetries: 1, Backoff: time.Millisecond, Notify: func(_ int, _ time.Duration, why string) { notes.Store(notes.Load().(string) + why) }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.Generate(context.Background(), model.Request{Prompt: "hi", MaxTokens: 3}, nil)
			if err == nil || !errors.Is(err, c.is) {
				t.Fatalf("HTTP %d: %v, want %v", c.status, err, c.is)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(notes.Load().(string), key) {
				t.Errorf("HTTP %d: the key is in %q / %q", c.status, err, notes.Load())
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("HTTP %d", c.status)) {
				t.Errorf("HTTP %d: the error no longer says what happened: %v", c.status, err)
			}
			cl.Close()
		}
	}
}
