package openai

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"deskbot/model"
)

// FuzzStream feeds arbitrary server-sent-event bodies to Generate: it must
// never panic, must finish, and on success must have streamed exactly the
// result's text.
func FuzzStream(f *testing.F) {
	f.Add("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	f.Add("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n")
	f.Add("data: {\"error\":{\"message\":\"boom\"}}\n\n")
	f.Add("data: not json\n\n")
	f.Add(": keep-alive\n\n\n\ndata: [DONE]\n\n")
	f.Add("data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"length\"}],\"usage\":{\"completion_tokens\":-5}}\n\n")
	var body atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(body.Load().(string)))
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	c, err := New(Profile{Name: "fuzz", BaseURL: srv.URL + "/v1", Model: "m"}, "", "", Options{MaxRetries: -1, Timeout: 5 * time.Second, IdleTimeout: 2 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		body.Store(s)
		var streamed strings.Builder
		res, err := c.Generate(context.Background(), model.Request{Prompt: "x", MaxTokens: 5}, func(tok model.Token) error {
			streamed.WriteString(tok.Text)
			return nil
		})
		if err == nil {
			if res == nil || res.Text != streamed.String() {
				t.Fatalf("result %+v, streamed %q", res, streamed.String())
			}
			return
		}
		if errors.Is(err, ErrStreamCut) && (res == nil || res.Text != streamed.String()) {
			t.Fatalf("cut stream lost its partial text: %+v vs %q", res, streamed.String())
		}
	})
}
