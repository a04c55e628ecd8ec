package openai

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/model"
	"deskbot/model/openai/openaitest"
)

const testKey = "sk-test-secret-0123456789"

func testClient(t *testing.T, srv *openaitest.Server, modelName string, o Options) *Client {
	t.Helper()
	if o.Backoff == 0 {
		o.Backoff = 5 * time.Millisecond
	}
	c, err := New(Profile{Name: "fake", BaseURL: srv.APIURL(), Model: modelName, Organization: "org-1"}, testKey, "test", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func collect(t *testing.T, c *Client, req model.Request) (string, *model.Result, error) {
	t.Helper()
	var b strings.Builder
	res, err := c.Generate(context.Background(), req, func(tok model.Token) error {
		b.WriteString(tok.Text)
		return nil
	})
	return b.String(), res, err
}

func TestStream(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c := testClient(t, srv, "echo", Options{})
	streamed, res, err := collect(t, c, model.Request{Prompt: "dear customer thanks", MaxTokens: 50, Temperature: 0, TopP: 0.9, Seed: 7, Stop: []string{"\n"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "You said: dear customer thanks"
	if streamed != want || res.Text != want {
		t.Fatalf("streamed %q, result %q, want %q", streamed, res.Text, want)
	}
	if res.FinishReason != "stop" || res.OutputTokens != 5 || res.PromptTokens != 3 {
		t.Fatalf("result %+v", res)
	}
	if res.FirstToken <= 0 || res.Total < res.FirstToken {
		t.Fatalf("timings %v %v", res.FirstToken, res.Total)
	}
	if c.Name() != "api:fake/echo" {
		t.Fatalf("name %q", c.Name())
	}
	reqs := srv.Requests("echo")
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Authorization != "Bearer "+testKey || r.Org != "org-1" {
		t.Fatalf("headers %q %q", r.Authorization, r.Org)
	}
	temp, ok := r.Body["temperature"].(float64)
	if !ok || temp > 1e-6 {
		t.Fatalf("temperature 0 must be sent as (nearly) zero, got %v", r.Body["temperature"])
	}
	if r.Body["seed"] != 7.0 || r.Body["max_tokens"] != 50.0 || r.Body["stream"] != true {
		t.Fatalf("body %v", r.Body)
	}
	if tp := r.Body["top_p"].(float64); tp < 0.89 || tp > 0.91 {
		t.Fatalf("top_p %v", tp)
	}
}

func TestMaxTokensLength(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c := testClient(t, srv, "echo", Options{})
	_, res, err := collect(t, c, model.Request{Prompt: "a b c d e f", MaxTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "You said: a" || res.FinishReason != "length" {
		t.Fatalf("%+v", res)
	}
}

func TestRetryAfter429(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	var notes []string
	c := testClient(t, srv, "flaky-429", Options{Notify: func(a int, w time.Duration, why string) {
		notes = append(notes, fmt.Sprintf("%d %s %s", a, w, why))
	}})
	_, res, err := collect(t, c, model.Request{Prompt: "hello", MaxTokens: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "You said: hello" {
		t.Fatalf("text %q", res.Text)
	}
	reqs := srv.Requests("flaky-429")
	if len(reqs) != 2 {
		t.Fatalf("want 2 requests, got %d", len(reqs))
	}
	// Retry-After: 1 must be honoured (a lower bound, not a speed check).
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 950*time.Millisecond {
		t.Fatalf("retried after %v, before the server's Retry-After of 1s", gap)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "429") || !strings.HasPrefix(notes[0], "1 1s") {
		t.Fatalf("notes %q", notes)
	}
}

func TestRetry500(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c := testClient(t, srv, "flaky-500", Options{})
	_, res, err := collect(t, c, model.Request{Prompt: "hi", MaxTokens: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "You said: hi" || len(srv.Requests("flaky-500")) != 3 {
		t.Fatalf("%q after %d requests", res.Text, len(srv.Requests("flaky-500")))
	}

	c = testClient(t, srv, "always-500", Options{MaxRetries: 2})
	_, _, err = collect(t, c, model.Request{Prompt: "hi", MaxTokens: 10})
	if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "after 3 tries") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("err %v", err)
	}
	if n := len(srv.Requests("always-500")); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}

func TestSlowFirstByte(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c := testClient(t, srv, "slow", Options{FirstByteTimeout: 200 * time.Millisecond})
	_, _, err := collect(t, c, model.Request{Prompt: "hi", MaxTokens: 10})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "first-byte timeout") {
		t.Fatalf("err %v", err)
	}
	// The total timeout also bounds a slow server.
	c = testClient(t, srv, "slow", Options{Timeout: 300 * time.Millisecond})
	_, _, err = collect(t, c, model.Request{Prompt: "hi", MaxTokens: 10})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "within 300ms") {
		t.Fatalf("err %v", err)
	}
}

func TestStreamCut(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c := testClient(t, srv, "cut", Options{})
	streamed, res, err := collect(t, c, model.Request{Prompt: "one two three four five", MaxTokens: 20})
	if !errors.Is(err, ErrStreamCut) || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("err %v", err)
	}
	if res == nil || res.Text != "You said: one" || streamed != res.Text {
		t.Fatalf("partial text lost: res %+v streamed %q", res, streamed)
	}
	if n := len(srv.Requests("cut")); n != 1 {
		t.Fatalf("a cut stream must not be retried (text would repeat); %d requests", n)
	}
}

func TestStreamStall(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c := testClient(t, srv, "stall", Options{IdleTimeout: 200 * time.Millisecond})
	_, res, err := collect(t, c, model.Request{Prompt: "one two three", MaxTokens: 20})
	if !errors.Is(err, ErrStreamCut) || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "idle timeout") {
		t.Fatalf("err %v", err)
	}
	if res.Text != "You said:" {
		t.Fatalf("partial %q", res.Text)
	}
}

func TestErrorsSayWhatToFix(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()

	c, _ := New(Profile{Name: "work", BaseURL: srv.APIURL(), Model: "echo"}, "sk-wrong", "env DESKBOT_API_KEY_WORK", Options{})
	_, err := c.Generate(context.Background(), model.Request{Prompt: "x", MaxTokens: 5}, nil)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "DESKBOT_API_KEY_WORK") || strings.Contains(err.Error(), "sk-wrong") {
		t.Fatalf("401: %v", err)
	}
	if len(srv.Requests("echo")) != 1 {
		t.Fatal("401 must not be retried")
	}

	c = testClient(t, srv, "gpt-9", Options{})
	_, _, err = collect(t, c, model.Request{Prompt: "x", MaxTokens: 5})
	if !errors.Is(err, ErrModelNotFound) || !strings.Contains(err.Error(), `"gpt-9"`) || !strings.Contains(err.Error(), "model name") {
		t.Fatalf("404: %v", err)
	}

	// A port nobody listens on.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c, _ = New(Profile{Name: "down", BaseURL: "http://" + addr + "/v1", Model: "echo"}, "", "", Options{})
	_, err = c.Generate(context.Background(), model.Request{Prompt: "x", MaxTokens: 5}, nil)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "is the server running") {
		t.Fatalf("unreachable: %v", err)
	}

	_, err = c.Generate(context.Background(), model.Request{PromptIDs: []int{1, 2}, MaxTokens: 5}, nil)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("prompt ids: %v", err)
	}
}

func TestCancelByEmit(t *testing.T) {
	srv := openaitest.New(testKey)
	defer srv.Close()
	c := testClient(t, srv, "echo", Options{})
	stop := errors.New("enough")
	n := 0
	res, err := c.Generate(context.Background(), model.Request{Prompt: "a b c d", MaxTokens: 10}, func(model.Token) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || res.FinishReason != "cancelled" || res.Text != "You said:" {
		t.Fatalf("%v %+v", err, res)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := map[string][]string{"Retry-After": {"2"}}
	if d := retryAfter(h, now); d != 2*time.Second {
		t.Fatal(d)
	}
	h = map[string][]string{"Retry-After": {now.Add(3 * time.Second).Format(timeFormat)}}
	if d := retryAfter(h, now); d != 3*time.Second {
		t.Fatal(d)
	}
	h = map[string][]string{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}
	if d := retryAfter(h, now); d != 250*time.Millisecond {
		t.Fatal(d)
	}
	if d := retryAfter(map[string][]string{"Retry-After": {"soon"}}, now); d != 0 {
		t.Fatal(d)
	}
}

const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestProfilesAndKeys(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DESKBOT_DATA", dir)
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("DESKBOT_NO_KEYRING", "")
	path, err := ProfilesPath()
	if err != nil || path != filepath.Join(dir, "providers.json") {
		t.Fatal(path, err)
	}
	ps, _ := LoadProfiles(path)
	if err := ps.Set(Profile{Name: "bad name", BaseURL: "http://x", Model: "m"}); err == nil {
		t.Fatal("bad name accepted")
	}
	if err := ps.Set(Profile{Name: "p", BaseURL: "ftp://x", Model: "m"}); err == nil {
		t.Fatal("ftp accepted")
	}
	if err := ps.Set(Profile{Name: "p", BaseURL: "http://user:sk@x/v1", Model: "m"}); err == nil {
		t.Fatal("credentials in URL accepted")
	}
	if err := ps.Set(Profile{Name: "work-1", BaseURL: "http://127.0.0.1:1/v1", Model: "m", Timeout: Duration(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := ps.Save(path); err != nil {
		t.Fatal(err)
	}
	ps2, err := LoadProfiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := ps2.Get("work-1"); !ok || time.Duration(p.Timeout) != time.Minute {
		t.Fatalf("%+v", p)
	}

	// Keys: env for the profile, then keyring, then OPENAI_API_KEY.
	store := map[string]string{}
	keyringGet = func(s, u string) (string, error) {
		if k, ok := store[s+"/"+u]; ok {
			return k, nil
		}
		return "", errors.New("not found")
	}
	keyringSet = func(s, u, k string) error { store[s+"/"+u] = k; return nil }
	defer func() { keyringGet, keyringSet = realGet, realSet }()
	if EnvName("work-1") != "DESKBOT_API_KEY_WORK_1" {
		t.Fatal(EnvName("work-1"))
	}
	if k, src := APIKey("work-1"); k != "" || src != "none" {
		t.Fatal(k, src)
	}
	t.Setenv("OPENAI_API_KEY", "sk-global")
	if k, src := APIKey("work-1"); k != "sk-global" || src != "env OPENAI_API_KEY" {
		t.Fatal(k, src)
	}
	if err := SetAPIKey("work-1", "sk-ring"); err != nil {
		t.Fatal(err)
	}
	if k, src := APIKey("work-1"); k != "sk-ring" || src != "keyring" {
		t.Fatal(k, src)
	}
	t.Setenv("DESKBOT_API_KEY_WORK_1", "sk-env")
	if k, src := APIKey("work-1"); k != "sk-env" || src != "env DESKBOT_API_KEY_WORK_1" {
		t.Fatal(k, src)
	}
	// The key never reaches the profiles file.
	ps2.Save(path)
	if b, _ := readFile(path); strings.Contains(b, "sk-") {
		t.Fatalf("key in profiles file: %s", b)
	}
	t.Setenv("DESKBOT_NO_KEYRING", "1")
	if err := SetAPIKey("work-1", "x"); err == nil || !strings.Contains(err.Error(), "DESKBOT_API_KEY_WORK_1") {
		t.Fatal(err)
	}
}

func TestOpenUnknownProfile(t *testing.T) {
	t.Setenv("DESKBOT_DATA", t.TempDir())
	_, err := Open("nope", Options{})
	if err == nil || !strings.Contains(err.Error(), "deskbot model provider add nope") {
		t.Fatal(err)
	}
}
