package textgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"deskbot/engine"
	"deskbot/engine/redact"
	"deskbot/engine/textgen/providers"
	"deskbot/model"
	"deskbot/model/openai"
	"deskbot/model/openai/openaitest"
)

// fakeGen is a tiny model.Generator: it answers "Dear " followed by the
// prompt's last word, one word a token.
type fakeGen struct {
	mu     sync.Mutex
	reqs   []model.Request
	closed int
	fail   error
}

func (f *fakeGen) Generate(ctx context.Context, req model.Request, emit func(model.Token) error) (*model.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	words := strings.Fields(req.Prompt)
	out := []string{"Dear", " " + words[len(words)-1]}
	res := &model.Result{PromptTokens: len(words)}
	for i, w := range out {
		if f.fail != nil && i == 1 {
			res.FinishReason = "error"
			return res, f.fail
		}
		res.Text += w
		res.OutputTokens++
		if emit != nil {
			emit(model.Token{ID: i, Text: w})
		}
	}
	res.FinishReason = "stop"
	return res, nil
}
func (f *fakeGen) Name() string { return "fake (test)" }
func (f *fakeGen) Close() error { f.closed++; return nil }

type memLog struct {
	mu   sync.Mutex
	gens []Generation
}

func (l *memLog) SaveGeneration(ctx context.Context, g Generation) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gens = append(l.gens, g)
	return nil
}

func genFlow(params map[string]any) *engine.Flow {
	f := engine.NewFlow("t")
	f.Variables = []engine.Variable{{Name: "name", Type: engine.TypeString, Default: "Ada", Input: true}}
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "gen", Type: "text.generate", Params: params},
		&engine.Node{ID: "end", Type: "control.end"})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "gen"}, {From: "gen", Port: "next", To: "end"}}
	return f
}

func TestGenerateActivity(t *testing.T) {
	gen := &fakeGen{}
	opens := 0
	cache := NewCache(func(ctx context.Context, p string) (model.Generator, error) {
		opens++
		if p != "fake" {
			return nil, errors.New("unknown provider " + p)
		}
		return gen, nil
	})
	log := &memLog{}
	opts := engine.Options{RunID: "run-1"}
	WithProviders(&opts, cache)
	WithLog(&opts, log)
	f := genFlow(map[string]any{"provider": "fake", "prompt": "Write to {{ name }}", "max_tokens": 20.0,
		"temperature": 0.0, "seed": 42.0, "stop": []any{`\n\n`, "END"}, "output": "letter"})
	res, err := engine.Run(context.Background(), f, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["letter"] != "Dear Ada" {
		t.Fatalf("letter = %q", res.Vars["letter"])
	}
	r := gen.reqs[0]
	if r.Prompt != "Write to Ada" || r.MaxTokens != 20 || r.Temperature != 0 || r.Seed != 42 || r.TopK != 40 ||
		len(r.Stop) != 2 || r.Stop[0] != "\n\n" {
		t.Fatalf("request %+v", r)
	}
	if len(log.gens) != 1 {
		t.Fatalf("%d generations logged", len(log.gens))
	}
	g := log.gens[0]
	if g.RunID != "run-1" || g.NodeID != "gen" || g.Provider != "fake" || g.Model != "fake (test)" ||
		g.Prompt != "Write to Ada" || g.Output != "Dear Ada" || g.OutputTokens != 2 || g.PromptTokens != 3 || g.Error != "" {
		t.Fatalf("logged %+v", g)
	}
	var params map[string]any
	if err := json.Unmarshal(g.Params, &params); err != nil || params["max_tokens"] != 20.0 || params["seed"] != 42.0 {
		t.Fatalf("params %s %v", g.Params, err)
	}

	// A second run with the same cache does not reopen the model.
	if _, err := engine.Run(context.Background(), f, opts); err != nil {
		t.Fatal(err)
	}
	if opens != 1 {
		t.Fatalf("opened %d times", opens)
	}
	cache.Close()
	if gen.closed != 1 {
		t.Fatalf("closed %d times", gen.closed)
	}
}

func TestGenerateDryRun(t *testing.T) {
	gen := &fakeGen{}
	opts := engine.Options{DryRun: true}
	WithProviders(&opts, NewCache(func(context.Context, string) (model.Generator, error) { return gen, nil }))
	rec := &engine.Recorder{}
	opts.Observer = rec
	res, err := engine.Run(context.Background(), genFlow(map[string]any{"provider": "gpt2", "prompt": "Hi {{ name }}", "output": "x"}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.reqs) != 0 {
		t.Fatal("a dry run generated text")
	}
	if s, _ := res.Vars["x"].(string); !strings.Contains(s, "gpt2") {
		t.Fatalf("x = %q", res.Vars["x"])
	}
	found := false
	for _, e := range rec.Events() {
		if e.Kind == engine.EventLog && strings.Contains(e.Message, "would generate up to 100 tokens with gpt2") && strings.Contains(e.Message, "Hi Ada") {
			found = true
		}
	}
	if !found {
		t.Fatal("no dry-run description logged")
	}
}

func TestGenerateFailureIsRecorded(t *testing.T) {
	gen := &fakeGen{fail: errors.New("stream cut")}
	log := &memLog{}
	opts := engine.Options{}
	WithProviders(&opts, NewCache(func(context.Context, string) (model.Generator, error) { return gen, nil }))
	WithLog(&opts, log)
	_, err := engine.Run(context.Background(), genFlow(map[string]any{"provider": "fake", "prompt": "Hi {{ name }}"}), opts)
	var se *engine.StepError
	if !errors.As(err, &se) || se.NodeID != "gen" || !strings.Contains(err.Error(), "stream cut") {
		t.Fatalf("err %v", err)
	}
	if len(log.gens) != 1 || log.gens[0].Error == "" || log.gens[0].Output != "Dear" {
		t.Fatalf("logged %+v", log.gens)
	}
	// Caught by the error port, the partial text is in the variable.
	f := genFlow(map[string]any{"provider": "fake", "prompt": "Hi {{ name }}", "output": "reply"})
	f.Nodes = append(f.Nodes, &engine.Node{ID: "handled", Type: "control.end"})
	f.Edges = append(f.Edges, engine.Edge{From: "gen", Port: "error", To: "handled"})
	res, err := engine.Run(context.Background(), f, opts)
	if err != nil || res.Vars["reply"] != "Dear" || !strings.Contains(res.Vars["last_error"].(string), "stream cut") {
		t.Fatalf("caught: %v %v", err, res.Vars)
	}
}

func TestGenerateSetupErrors(t *testing.T) {
	_, err := engine.Run(context.Background(), genFlow(map[string]any{"provider": "fake", "prompt": "x"}), engine.Options{})
	if err == nil || !strings.Contains(err.Error(), "no model providers") {
		t.Fatalf("no providers: %v", err)
	}
	_, err = engine.Prepare(genFlow(map[string]any{"provider": "fake", "prompt": "x", "temperature": -1.0, "top_p": 2.0, "max_tokens": 0.0}), nil, "")
	for _, want := range []string{"temperature", "top_p", "max_tokens", `"gen"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("want %s in %v", want, err)
		}
	}
	_, err = engine.Prepare(genFlow(map[string]any{"provider": "fake"}), nil, "")
	if err == nil || !strings.Contains(err.Error(), "prompt") {
		t.Fatalf("missing prompt: %v", err)
	}
}

// The activity through Open to an OpenAI-compatible server.
func TestGenerateThroughAPI(t *testing.T) {
	srv := openaitest.New("sk-flow")
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("DESKBOT_DATA", dir)
	t.Setenv("DESKBOT_NO_KEYRING", "1")
	t.Setenv("DESKBOT_API_KEY_LOCAL", "sk-flow")
	ps := &openai.Profiles{}
	if err := ps.Set(openai.Profile{Name: "local", BaseURL: srv.APIURL(), Model: "echo"}); err != nil {
		t.Fatal(err)
	}
	if err := ps.Save(filepath.Join(dir, "providers.json")); err != nil {
		t.Fatal(err)
	}
	log := &memLog{}
	opts := engine.Options{}
	cache := NewCache(providers.Opener(providers.OpenOptions{}))
	defer cache.Close()
	WithProviders(&opts, cache)
	WithLog(&opts, log)
	res, err := engine.Run(context.Background(), genFlow(map[string]any{"provider": "api:local", "prompt": "thank {{ name }}", "output": "reply"}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["reply"] != "You said: thank Ada" {
		t.Fatalf("reply %q", res.Vars["reply"])
	}
	if g := log.gens[0]; g.Model != "api:local/echo" || g.OutputTokens != 4 {
		t.Fatalf("%+v", g)
	}
	// The key is nowhere in what was recorded.
	b, _ := json.Marshal(log.gens)
	if strings.Contains(string(b), "sk-flow") {
		t.Fatal("API key recorded")
	}
	// api:PROFILE/MODEL picks another model of the same server.
	if _, err := engine.Run(context.Background(), genFlow(map[string]any{"provider": "api:local/gpt-9", "prompt": "x"}), opts); err == nil ||
		!strings.Contains(err.Error(), `unknown model "gpt-9"`) {
		t.Fatalf("model override: %v", err)
	}
	_, err = engine.Run(context.Background(), genFlow(map[string]any{"provider": "api:nope", "prompt": "x"}), opts)
	if err == nil || !strings.Contains(err.Error(), "deskbot model provider add nope") {
		t.Fatalf("unknown profile: %v", err)
	}
	t.Setenv("DESKBOT_MODELS", t.TempDir())
	_, err = engine.Run(context.Background(), genFlow(map[string]any{"provider": "gpt2", "prompt": "x"}), opts)
	if err == nil || !strings.Contains(err.Error(), "deskbot model pull gpt2") {
		t.Fatalf("missing local model: %v", err)
	}
}

// A generator whose error echoes an API key (a 401 answer): the recorded
// generation and the run's error never hold it; known keys are masked in
// the prompt and the output too.
func TestGenerateRecordsNoSecret(t *testing.T) {
	const key = "textgen-known-key-0123456789"
	redact.Add(key)
	gen := &fakeGen{fail: errors.New(`HTTP 401: {"error":{"message":"Incorrect API key provided: ` + key + `, or Authorization: Bearer sk-other-0123456789"}}`)}
	log := &memLog{}
	opts := engine.Options{}
	WithProviders(&opts, NewCache(func(context.Context, string) (model.Generator, error) { return gen, nil }))
	WithLog(&opts, log)
	_, err := engine.Run(context.Background(), genFlow(map[string]any{"provider": "fake", "prompt": "Hi " + key + " {{ name }}"}), opts)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("err %v", err)
	}
	if len(log.gens) != 1 {
		t.Fatalf("logged %+v", log.gens)
	}
	all := fmt.Sprintf("%+v %v", log.gens[0], err)
	if strings.Contains(all, key) || strings.Contains(all, "sk-other") || !strings.Contains(log.gens[0].Error, "HTTP 401") {
		t.Fatalf("a secret was recorded: %s", all)
	}
}
