package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskbot/engine/textgen"
	"deskbot/model/gpt2"
	"deskbot/model/hub/hubtest"
	"deskbot/model/openai/openaitest"
	"deskbot/store"
)

// tinyModel is a real Hugging Face GPT-2 folder with random weights.
const tinyModel = "../model/gpt2/testdata/hf-fake-gpt2"

// runEnv runs the binary with extra environment and standard input.
func runEnv(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(deskbot(t), args...)
	cmd.Env = append(append(os.Environ(), "DESKBOT_NO_KEYRING=1", "OPENAI_API_KEY="), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestCLIGenerateAgainstFakeAPI(t *testing.T) {
	const key = "sk-cli-secret-42"
	srv := openaitest.New(key)
	defer srv.Close()
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data, "DESKBOT_API_KEY_FAKE=" + key, "DESKBOT_API_KEY_CUTTER=" + key}

	r := runEnv(t, env, "", "model", "provider", "add", "fake", "--url", srv.APIURL(), "--model", "echo", "--org", "org-7")
	if r.code != 0 || !strings.Contains(r.stdout, "api:fake") {
		t.Fatalf("provider add: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	runEnv(t, env, "", "model", "provider", "add", "cutter", "--url", srv.APIURL(), "--model", "cut")
	r = runEnv(t, env, "", "model", "provider", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "api:fake") || !strings.Contains(r.stdout, "env DESKBOT_API_KEY_FAKE") || strings.Contains(r.stdout, key) {
		t.Fatalf("provider list: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = runEnv(t, env, "", "generate", "--model", "api:fake", "--prompt", "hello there", "--max-tokens", "10", "--temperature", "0")
	if r.code != 0 || r.stdout != "You said: hello there\n" {
		t.Fatalf("generate: %d\n%q\n%s", r.code, r.stdout, r.stderr)
	}
	if reqs := srv.Requests("echo"); len(reqs) != 1 || reqs[0].Org != "org-7" {
		t.Fatalf("requests %+v", reqs)
	}

	r = runEnv(t, env, "", "generate", "--model", "api:fake", "--prompt", "a b c", "--max-tokens", "3", "--json")
	var obj struct {
		Text         string         `json:"text"`
		OutputTokens int            `json:"output_tokens"`
		Finish       string         `json:"finish_reason"`
		Timings      map[string]any `json:"timings"`
		PromptIDs    []int          `json:"prompt_ids"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil || r.code != 0 {
		t.Fatalf("json: %v %d\n%s%s", err, r.code, r.stdout, r.stderr)
	}
	if obj.Text != "You said: a" || obj.OutputTokens != 3 || obj.Finish != "length" || obj.Timings["total_ms"] == nil || obj.PromptIDs == nil {
		t.Fatalf("json %+v", obj)
	}

	// A stream cut off mid-way: the partial text is printed, the error says so.
	r = runEnv(t, env, "", "generate", "--model", "api:cutter", "--prompt", "one two three four", "--max-tokens", "20")
	if r.code != 1 || r.stdout != "You said: one\n" || !strings.Contains(r.stderr, "cut off") {
		t.Fatalf("cut: %d\n%q\n%s", r.code, r.stdout, r.stderr)
	}

	// A wrong key says what to fix and never shows a key.
	bad := []string{"DESKBOT_DATA=" + data, "DESKBOT_API_KEY_FAKE=sk-wrong-key"}
	r = runEnv(t, bad, "", "generate", "--model", "api:fake", "--prompt", "x")
	if r.code != 1 || !strings.Contains(r.stderr, "API key was rejected") || !strings.Contains(r.stderr, "DESKBOT_API_KEY_FAKE") || strings.Contains(r.stderr, "sk-wrong") {
		t.Fatalf("wrong key: %d\n%s", r.code, r.stderr)
	}
	r = runEnv(t, env, "", "generate", "--model", "api:nope", "--prompt", "x")
	if r.code != 1 || !strings.Contains(r.stderr, "provider add nope") {
		t.Fatalf("unknown profile: %d\n%s", r.code, r.stderr)
	}
	// Keys never reach the profiles file.
	b, _ := os.ReadFile(filepath.Join(data, "providers.json"))
	if !strings.Contains(string(b), "echo") || strings.Contains(string(b), "sk-") {
		t.Fatalf("providers.json:\n%s", b)
	}
	// Without a keyring, storing a key points at the variable.
	r = runEnv(t, env, key+"\n", "model", "provider", "key", "fake")
	if r.code != 1 || !strings.Contains(r.stderr, "DESKBOT_API_KEY_FAKE") {
		t.Fatalf("key: %d\n%s", r.code, r.stderr)
	}
	r = runEnv(t, env, "", "model", "provider", "remove", "cutter")
	if r.code != 0 {
		t.Fatalf("remove: %d %s", r.code, r.stderr)
	}
}

type genJSON struct {
	Model     string         `json:"model"`
	PromptIDs []int          `json:"prompt_ids"`
	IDs       []int          `json:"ids"`
	Text      string         `json:"text"`
	Timings   map[string]any `json:"timings"`
	Threads   int            `json:"threads"`
	Finish    string         `json:"finish_reason"`
	Cache     string         `json:"cache"`
}

func genLocal(t *testing.T, env []string, args ...string) genJSON {
	t.Helper()
	r := runEnv(t, env, "", append([]string{"generate", "--json"}, args...)...)
	var g genJSON
	if err := json.Unmarshal([]byte(r.stdout), &g); err != nil || r.code != 0 {
		t.Fatalf("generate %v: %v %d\n%s%s", args, err, r.code, r.stdout, r.stderr)
	}
	return g
}

func TestCLIGenerateLocal(t *testing.T) {
	cache := t.TempDir()
	env := []string{"DESKBOT_DATA=" + t.TempDir(), "DESKBOT_MODELS=" + t.TempDir(), "DESKBOT_CACHE=" + cache}
	g := genLocal(t, env, "--model", tinyModel, "--prompt", "Hello world", "--max-tokens", "6", "--temperature", "0")
	if len(g.PromptIDs) != 2 || g.PromptIDs[0] != 15496 || g.PromptIDs[1] != 995 || len(g.IDs) != 6 || g.Text == "" {
		t.Fatalf("%+v", g)
	}
	// The converted weights are cached: written by the first load, mapped
	// by the next; deskbot model cache shows and clears them.
	if g.Cache != "miss" {
		t.Fatalf("first load: cache %q", g.Cache)
	}
	for _, k := range []string{"load_ms", "first_token_ms", "total_ms", "tokens_per_second"} {
		if _, ok := g.Timings[k]; !ok {
			t.Fatalf("timings lack %s: %v", k, g.Timings)
		}
	}
	// Greedy is deterministic, and token ids give the same as the text.
	g2 := genLocal(t, env, "--model", tinyModel, "--prompt-ids", "15496,995", "--max-tokens", "6", "--temperature", "0")
	if g2.Text != g.Text || len(g2.IDs) != 6 || g2.IDs[5] != g.IDs[5] {
		t.Fatalf("prompt ids gave %+v, text gave %+v", g2, g)
	}
	if g2.Cache != "hit" {
		t.Fatalf("second load: cache %q", g2.Cache)
	}
	if r := runEnv(t, env, "", "model", "cache"); r.code != 0 || !strings.Contains(r.stdout, cache+": 1 files") {
		t.Fatalf("model cache: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := runEnv(t, env, "", "model", "cache", "clear"); r.code != 0 || !strings.Contains(r.stdout, "removed 1 files") {
		t.Fatalf("model cache clear: %d %q %s", r.code, r.stdout, r.stderr)
	}
	// A cache folder that cannot be made: the model loads all the same,
	// and says why once.
	notDir := filepath.Join(cache, "file")
	os.WriteFile(notDir, nil, 0o644)
	bad := append(slices.Clone(env), "DESKBOT_CACHE="+filepath.Join(notDir, "cache"))
	r0 := runEnv(t, bad, "", "generate", "--model", tinyModel, "--prompt", "Hello world", "--max-tokens", "6", "--temperature", "0")
	if r0.code != 0 || r0.stdout != g.Text+"\n" || strings.Count(r0.stderr, "weights cache:") != 1 || !strings.Contains(r0.stderr, "kept in memory") {
		t.Fatalf("unwritable cache: %d %q\n%s", r0.code, r0.stdout, r0.stderr)
	}
	// Streaming prints the same text; loading progress goes to stderr.
	r := runEnv(t, env, "", "generate", "--model", tinyModel, "--prompt", "Hello world", "--max-tokens", "6", "--temperature", "0")
	if r.code != 0 || r.stdout != g.Text+"\n" || !strings.Contains(r.stderr, "loading") || !strings.Contains(r.stderr, "100%") {
		t.Fatalf("stream: %d\n%q\n%s", r.code, r.stdout, r.stderr)
	}
	// --max-tokens 0 only tokenizes.
	r = runEnv(t, env, "", "generate", "--model", tinyModel, "--prompt", "Hello world", "--max-tokens", "0")
	if r.code != 0 || r.stdout != "15496,995\n" {
		t.Fatalf("tokenize: %d %q %s", r.code, r.stdout, r.stderr)
	}
	g3 := genLocal(t, env, "--model", tinyModel, "--prompt", "Hello world", "--max-tokens", "0")
	if len(g3.PromptIDs) != 2 || len(g3.IDs) != 0 || g3.Text != "" {
		t.Fatalf("tokenize json %+v", g3)
	}
	// q8 loads and generates.
	g4 := genLocal(t, env, "--model", tinyModel, "--prompt", "Hello", "--max-tokens", "3", "--temperature", "0", "--quant", "q8", "--threads", "1")
	if len(g4.IDs) != 3 || !strings.Contains(g4.Model, "q8") {
		t.Fatalf("q8 %+v", g4)
	}
	// q4 too, at 1 and 2 threads (the per-matrix and the fused one-token step).
	for _, th := range []string{"1", "2"} {
		g := genLocal(t, env, "--model", tinyModel, "--prompt", "Hello", "--max-tokens", "3", "--temperature", "0", "--quant", "q4", "--threads", th)
		if len(g.IDs) != 3 || !strings.Contains(g.Model, "q4") || fmt.Sprint(g.Threads) != th {
			t.Fatalf("q4, %s threads: %+v", th, g)
		}
	}
	// The thread count defaults to the physical cores, is shown and can be
	// changed; --ignore-eos gives exactly --max-tokens tokens.
	if g.Threads != gpt2.PhysicalCores() || g4.Threads != 1 {
		t.Fatalf("threads: default %d (physical cores %d), --threads 1 gave %d", g.Threads, gpt2.PhysicalCores(), g4.Threads)
	}
	if want := fmt.Sprintf("%d threads", gpt2.PhysicalCores()); !strings.Contains(r.stderr, want) {
		t.Fatalf("stream mode does not say %q on stderr:\n%s", want, r.stderr)
	}
	g5 := genLocal(t, env, "--model", tinyModel, "--prompt", "Hello", "--max-tokens", "40", "--temperature", "0", "--ignore-eos")
	if len(g5.IDs) != 40 || g5.Finish != "length" || slices.Contains(g5.IDs, 50256) {
		t.Fatalf("--ignore-eos: %d ids, finish %q: %v", len(g5.IDs), g5.Finish, g5.IDs)
	}
	r = runEnv(t, env, "", "generate", "--model", tinyModel, "--prompt", "x", "--threads", "-1")
	if r.code != 2 || !strings.Contains(r.stderr, "--threads") {
		t.Fatalf("negative threads: %d %s", r.code, r.stderr)
	}
	r = runEnv(t, env, "", "generate", "--model", "gpt2", "--prompt", "x")
	if r.code != 1 || !strings.Contains(r.stderr, "deskbot model pull gpt2") {
		t.Fatalf("missing model: %d %s", r.code, r.stderr)
	}
	r = runEnv(t, env, "", "generate", "--model", tinyModel)
	if r.code != 2 || !strings.Contains(r.stderr, "no prompt") {
		t.Fatalf("no prompt: %d %s", r.code, r.stderr)
	}
}

func TestCLIModelPullListImport(t *testing.T) {
	files := map[string][]byte{}
	for _, f := range []string{"config.json", "vocab.json", "merges.txt", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(tinyModel, f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	srv := hubtest.New("openai-community/gpt2", files)
	defer srv.Close()
	// Under the server's lock: the deskbot process's requests reach the
	// server over TCP, which gives the race detector no order between this
	// write and the handler's read.
	srv.Lock()
	srv.DropAfter, srv.Drops = 100000, 1
	srv.Unlock()
	models := t.TempDir()
	env := []string{"DESKBOT_DATA=" + t.TempDir(), "DESKBOT_MODELS=" + models, "DESKBOT_HF_ENDPOINT=" + srv.URL}

	r := runEnv(t, env, "", "model", "pull", "gpt2")
	if r.code != 0 || !strings.Contains(r.stdout, "gpt2 installed") || !strings.Contains(r.stderr, "model.safetensors") || !strings.Contains(r.stderr, "100%") {
		t.Fatalf("pull: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if gets := srv.Requests("GET", "model.safetensors"); !strings.HasSuffix(gets[len(gets)-1], "bytes=100000-") {
		t.Fatalf("no resume after the drop: %q", gets)
	}
	r = runEnv(t, env, "", "model", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "gpt2") || !strings.Contains(r.stdout, "1.6 MB") || !strings.Contains(r.stdout, " ok ") {
		t.Fatalf("list: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The pulled model generates, by name.
	g := genLocal(t, env, "--model", "gpt2", "--prompt", "Hello world", "--max-tokens", "4", "--temperature", "0")
	if len(g.IDs) != 4 || g.Model != "gpt2 (local)" {
		t.Fatalf("%+v", g)
	}

	// A bad checksum: clear error, nothing installed.
	os.RemoveAll(filepath.Join(models, "gpt2"))
	srv.Lock()
	srv.BadSHA = true
	srv.Unlock()
	r = runEnv(t, env, "", "model", "pull", "gpt2")
	if r.code != 1 || !strings.Contains(r.stderr, "checksum mismatch") || !strings.Contains(r.stderr, "model.safetensors") {
		t.Fatalf("bad sha: %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(models, "gpt2", "model.safetensors")); err == nil {
		t.Fatal("bad file kept as the model")
	}
	r = runEnv(t, env, "", "generate", "--model", "gpt2", "--prompt", "x")
	if r.code != 1 || !strings.Contains(r.stderr, "pull") {
		t.Fatalf("generate with a failed pull: %d %s", r.code, r.stderr)
	}

	r = runEnv(t, env, "", "model", "import", tinyModel, "--name", "tiny")
	if r.code != 0 || !strings.Contains(r.stdout, "imported") {
		t.Fatalf("import: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runEnv(t, env, "", "model", "list")
	if !strings.Contains(r.stdout, "tiny") || !strings.Contains(r.stdout, "import:") || !strings.Contains(r.stdout, "incomplete") {
		t.Fatalf("list after import:\n%s", r.stdout)
	}
	r = runEnv(t, env, "", "model", "import", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, "missing config.json") {
		t.Fatalf("import empty folder: %d %s", r.code, r.stderr)
	}
	r = runEnv(t, env, "", "model", "pull", "gpt7")
	if r.code != 1 || !strings.Contains(r.stderr, "known: distilgpt2") {
		t.Fatalf("unknown: %d %s", r.code, r.stderr)
	}
}

// A flow run from the command line writes a generated letter per CSV row
// through an API profile.
func TestCLIRunFlowWithTextGenerate(t *testing.T) {
	const key = "sk-run-1"
	srv := openaitest.New(key)
	defer srv.Close()
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data, "DESKBOT_API_KEY_FAKE=" + key}
	if r := runEnv(t, env, "", "model", "provider", "add", "fake", "--url", srv.APIURL(), "--model", "echo"); r.code != 0 {
		t.Fatalf("provider add: %s", r.stderr)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "customers.csv"), []byte("id,name\n1,Anna\n2,Bram\n"), 0o644)
	flow := `{"format":"deskbot.flow","version":1,"name":"AI letters","variables":[{"name":"out","type":"string","input":true}],
	"nodes":[{"id":"start","type":"control.start"},
	 {"id":"read","type":"file.read_csv","params":{"path":"customers.csv","output":"customers"}},
	 {"id":"each","type":"control.for_each","params":{"items":"customers","item":"c"}},
	 {"id":"write","type":"text.generate","params":{"provider":"api:fake","prompt":"Dear {{ c.name }}","max_tokens":10,"temperature":0,"output":"body"}},
	 {"id":"save","type":"file.write_text","params":{"path":"{{ out }}/letter-{{ c.id }}.txt","text":"{{ body }}"}}],
	"edges":[{"from":"start","port":"next","to":"read"},{"from":"read","port":"next","to":"each"},
	 {"from":"each","port":"each","to":"write"},{"from":"write","port":"next","to":"save"},{"from":"save","port":"next","to":"each"}]}`
	path := filepath.Join(dir, "letters.json")
	os.WriteFile(path, []byte(flow), 0o644)
	out := t.TempDir()
	r := runEnv(t, env, "", "run", path, "--var", "out="+out)
	if r.code != 0 {
		t.Fatalf("run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for id, name := range map[string]string{"1": "Anna", "2": "Bram"} {
		b, err := os.ReadFile(filepath.Join(out, "letter-"+id+".txt"))
		if err != nil || string(b) != "You said: Dear "+name {
			t.Fatalf("letter %s: %q %v", id, b, err)
		}
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Fatal("the API key was printed")
	}
	// Both generations are in the history under the run's id.
	runID := strings.TrimSuffix(strings.Fields(r.stdout)[1], ":")
	h := runEnv(t, env, "", "model", "history", "--run", runID)
	if h.code != 0 || strings.Count(h.stdout, runID) != 2 || !strings.Contains(h.stdout, "api:fake") {
		t.Fatalf("history of run %s: %d\n%s%s", runID, h.code, h.stdout, h.stderr)
	}
	// A dry run calls no API.
	n := len(srv.Requests(""))
	r = runEnv(t, env, "", "run", "--dry-run", path, "--var", "out="+t.TempDir())
	if r.code != 0 || !strings.Contains(r.stdout, "would generate up to 10 tokens with api:fake") || len(srv.Requests("")) != n {
		t.Fatalf("dry run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestCLIModelHistory(t *testing.T) {
	data := t.TempDir()
	db, err := store.OpenDir(data)
	if err != nil {
		t.Fatal(err)
	}
	err = db.SaveGeneration(context.Background(), textgen.Generation{RunID: "run-7", NodeID: "write", Provider: "gpt2", Model: "gpt2 (local)",
		Prompt: "Dear Anna", Output: ", thanks", Params: json.RawMessage(`{"max_tokens":5}`), PromptTokens: 2, OutputTokens: 5,
		FirstToken: 30 * time.Millisecond, Total: 130 * time.Millisecond, TokensPerSec: 40, FinishReason: "length"})
	db.SaveGeneration(context.Background(), textgen.Generation{RunID: "run-8", Provider: "api:x", Model: "api:x/m", Prompt: "p", Error: "the stream was cut off"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"DESKBOT_DATA=" + data}
	r := runEnv(t, env, "", "model", "history")
	if r.code != 0 || !strings.Contains(r.stdout, "run-7") || !strings.Contains(r.stdout, "2+5") || !strings.Contains(r.stdout, "error: the stream was cut off") {
		t.Fatalf("history: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runEnv(t, env, "", "model", "history", "--run", "run-7", "--json")
	var g map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &g); err != nil || g["output"] != ", thanks" || g["first_token_ms"] != 30.0 || g["params"].(map[string]any)["max_tokens"] != 5.0 {
		t.Fatalf("json: %v\n%s%s", err, r.stdout, r.stderr)
	}
}

// `deskbot run --quant q8 --threads 1` loads the flow's local model that
// way: the history names the quantised model; a bad --quant is refused.
func TestCLIRunLocalModelSettings(t *testing.T) {
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data, "DESKBOT_MODELS=" + t.TempDir()}
	model, err := filepath.Abs(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	flow := `{"format":"deskbot.flow","version":1,"name":"local","nodes":[{"id":"start","type":"control.start"},
	 {"id":"write","type":"text.generate","params":{"provider":` + strconv.Quote(model) + `,"prompt":"Dear","max_tokens":3,"temperature":0,"output":"body"}}],
	"edges":[{"from":"start","port":"next","to":"write"}]}`
	path := filepath.Join(t.TempDir(), "local.json")
	os.WriteFile(path, []byte(flow), 0o644)
	r := runEnv(t, env, "", "run", path, "--quant", "q8", "--threads", "1")
	if r.code != 0 {
		t.Fatalf("run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	runID := strings.TrimSuffix(strings.Fields(r.stdout)[1], ":")
	h := runEnv(t, env, "", "model", "history", "--run", runID)
	if h.code != 0 || !strings.Contains(h.stdout, "q8") {
		t.Fatalf("history of run %s does not name the q8 model: %d\n%s%s", runID, h.code, h.stdout, h.stderr)
	}
	r = runEnv(t, env, "", "run", path, "--quant", "q9")
	if r.code != 2 || !strings.Contains(r.stderr, "--quant") {
		t.Fatalf("bad quant: %d %s", r.code, r.stderr)
	}
}
