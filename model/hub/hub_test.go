package hub

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"deskbot/model/hub/hubtest"
)

// makeSafetensors builds a valid safetensors file with one F32 tensor of n
// floats.
func makeSafetensors(n int) []byte {
	hdr, _ := json.Marshal(map[string]any{
		"__metadata__": map[string]string{"format": "pt"},
		"wte.weight":   map[string]any{"dtype": "F32", "shape": []int{n}, "data_offsets": []int{0, 4 * n}},
	})
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(hdr)))
	b.Write(hdr)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		binary.Write(&b, binary.LittleEndian, r.Float32())
	}
	return b.Bytes()
}

func checkpoint() map[string][]byte {
	return map[string][]byte{
		"config.json":       []byte(`{"model_type":"gpt2","n_layer":2,"n_head":2,"n_embd":8,"vocab_size":10,"n_positions":16}`),
		"vocab.json":        []byte(`{"a":0,"b":1}`),
		"merges.txt":        []byte("#version: 0.2\na b\n"),
		"model.safetensors": makeSafetensors(50000),
	}
}

func setup(t *testing.T) (*hubtest.Server, *Puller) {
	t.Helper()
	srv := hubtest.New("openai-community/gpt2", checkpoint())
	t.Cleanup(srv.Close)
	t.Setenv("DESKBOT_MODELS", filepath.Join(t.TempDir(), "models"))
	t.Setenv("DESKBOT_HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "")
	return srv, &Puller{Backoff: time.Millisecond}
}

func TestPullResumesAfterDrop(t *testing.T) {
	srv, p := setup(t)
	srv.DropAfter, srv.Drops = 70000, 2 // two drops on the weights
	var mu sync.Mutex
	last := map[string][2]int64{}
	p.Progress = func(f string, done, total int64) {
		mu.Lock()
		last[f] = [2]int64{done, total}
		mu.Unlock()
	}
	dir, err := p.Pull(context.Background(), "gpt2")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range srv.Files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: differs after pull (%v)", name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, name+".part")); err == nil {
			t.Fatalf("%s.part left behind", name)
		}
	}
	gets := srv.Requests("GET", "cdn/model.safetensors")
	if len(gets) != 3 || !strings.HasSuffix(gets[1], "bytes=70000-") || !strings.HasSuffix(gets[2], "bytes=140000-") {
		t.Fatalf("want a first GET and two resumed GETs, got %q", gets)
	}
	size := int64(len(srv.Files["model.safetensors"]))
	if last["model.safetensors"] != [2]int64{size, size} {
		t.Fatalf("progress ended at %v", last["model.safetensors"])
	}
	m, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{}
	for _, f := range m.Files {
		checks[f.Name] = f.Check
	}
	if checks["model.safetensors"] != "sha256" || checks["vocab.json"] != "git-sha1" || m.Revision == "" {
		t.Fatalf("manifest %+v", m)
	}
	if d, err := Resolve("gpt2"); err != nil || d != dir {
		t.Fatal(d, err)
	}
	l, err := List()
	if err != nil || len(l) != 1 || !l[0].Complete || l[0].Size < size {
		t.Fatalf("list %+v %v", l, err)
	}
	// Pulling again downloads nothing.
	n := len(srv.Requests("GET", ""))
	if _, err := p.Pull(context.Background(), "gpt2"); err != nil {
		t.Fatal(err)
	}
	if m := len(srv.Requests("GET", "")); m != n {
		t.Fatalf("second pull made %d GETs", m-n)
	}
}

func TestPullInterruptedThenResumedLater(t *testing.T) {
	srv, p := setup(t)
	// The connection drops and this pull gives up at once.
	srv.DropAfter, srv.Drops = 30000, 1
	p.Attempts = 1
	_, err := p.Pull(context.Background(), "gpt2")
	if err == nil || !strings.Contains(err.Error(), "pull again to resume") {
		t.Fatalf("err %v", err)
	}
	root, _ := ModelsDir()
	part := filepath.Join(root, "gpt2", "model.safetensors.part")
	st, err := os.Stat(part)
	if err != nil || st.Size() != 30000 {
		t.Fatalf("partial file: %v %v", st, err)
	}
	if _, err := Resolve("gpt2"); err == nil || !strings.Contains(err.Error(), "not completely installed") {
		t.Fatalf("resolve of a half-pulled model: %v", err)
	}
	dir, err := p.Pull(context.Background(), "gpt2")
	if err != nil {
		t.Fatal(err)
	}
	gets := srv.Requests("GET", "cdn/model.safetensors")
	if want := fmt.Sprintf("bytes=%d-", st.Size()); !strings.HasSuffix(gets[len(gets)-1], want) {
		t.Fatalf("the next pull did not resume with %s: %q", want, gets)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if !bytes.Equal(got, srv.Files["model.safetensors"]) {
		t.Fatal("resumed file differs")
	}
}

func TestPullRenamedRepository(t *testing.T) {
	_, p := setup(t)
	srv := hubtest.New("openai-community/gpt2-renamed", checkpoint())
	defer srv.Close()
	srv.Renamed = "openai-community/gpt2"
	p.Endpoint = srv.URL
	dir, err := p.Pull(context.Background(), "gpt2")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := readManifest(dir)
	for _, f := range m.Files {
		if f.Check != "sha256" && f.Check != "git-sha1" {
			t.Fatalf("%s verified only by %q after a redirect", f.Name, f.Check)
		}
	}
}

func TestPullBadChecksum(t *testing.T) {
	srv, p := setup(t)
	srv.BadSHA = true
	_, err := p.Pull(context.Background(), "gpt2")
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "model.safetensors") || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("err %v", err)
	}
	root, _ := ModelsDir()
	for _, f := range []string{"model.safetensors", "model.safetensors.part", ManifestName} {
		if _, err := os.Stat(filepath.Join(root, "gpt2", f)); err == nil {
			t.Fatalf("%s kept after a bad checksum", f)
		}
	}
	if _, err := Resolve("gpt2"); err == nil {
		t.Fatal("a model with a bad file resolves")
	}
	l, _ := List()
	if len(l) != 1 || l[0].Complete {
		t.Fatalf("list %+v", l)
	}
}

func TestPullErrors(t *testing.T) {
	_, p := setup(t)
	if _, err := p.Pull(context.Background(), "gpt5"); err == nil || !strings.Contains(err.Error(), "known: distilgpt2, gpt2") {
		t.Fatal(err)
	}
	// distilgpt2 is not on the fake server.
	if _, err := p.Pull(context.Background(), "distilgpt2"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatal(err)
	}
	p2 := &Puller{Endpoint: "http://127.0.0.1:1"}
	if _, err := p2.Pull(context.Background(), "gpt2"); err == nil || !strings.Contains(err.Error(), "DESKBOT_HF_ENDPOINT") {
		t.Fatal(err)
	}
}

func writeCheckpoint(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestImportAndList(t *testing.T) {
	t.Setenv("DESKBOT_MODELS", filepath.Join(t.TempDir(), "models"))
	src := filepath.Join(t.TempDir(), "my-gpt2")
	files := checkpoint()
	writeCheckpoint(t, src, files)
	dir, err := Import(src, "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "my-gpt2" {
		t.Fatal(dir)
	}
	if d, err := Resolve("my-gpt2"); err != nil || d != dir {
		t.Fatal(d, err)
	}
	if _, err := Import(src, "", false, nil); err == nil || !strings.Contains(err.Error(), "already installed") {
		t.Fatal(err)
	}
	if _, err := Import(src, "", true, nil); err != nil {
		t.Fatal(err)
	}
	l, _ := List()
	if len(l) != 1 || !l[0].Complete || !strings.HasPrefix(l[0].Source, "import:") {
		t.Fatalf("%+v", l)
	}
	if err := Remove("my-gpt2"); err != nil {
		t.Fatal(err)
	}

	// Broken folders are refused with a reason.
	bad := filepath.Join(t.TempDir(), "bad")
	writeCheckpoint(t, bad, files)
	st := files["model.safetensors"]
	os.WriteFile(filepath.Join(bad, "model.safetensors"), st[:len(st)/2], 0o644)
	if _, err := Import(bad, "", false, nil); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated: %v", err)
	}
	os.Remove(filepath.Join(bad, "merges.txt"))
	if _, err := Import(bad, "", false, nil); err == nil || !strings.Contains(err.Error(), "missing merges.txt") {
		t.Fatalf("missing: %v", err)
	}
	os.WriteFile(filepath.Join(bad, "merges.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(bad, "config.json"), []byte(`{"model_type":"llama","n_layer":1,"n_head":1,"n_embd":1,"vocab_size":1}`), 0o644)
	if _, err := Import(bad, "", false, nil); err == nil || !strings.Contains(err.Error(), "llama") {
		t.Fatalf("llama: %v", err)
	}
	if l, _ := List(); len(l) != 0 {
		t.Fatalf("failed imports left %+v", l)
	}
}

func TestResolve(t *testing.T) {
	t.Setenv("DESKBOT_MODELS", filepath.Join(t.TempDir(), "models"))
	if _, err := Resolve("gpt2-xl"); err == nil || !strings.Contains(err.Error(), "deskbot model pull gpt2-xl") {
		t.Fatal(err)
	}
	if _, err := Resolve("mystery"); err == nil || !strings.Contains(err.Error(), "model import") {
		t.Fatal(err)
	}
	d := t.TempDir()
	if got, err := Resolve(d); err != nil || got != d {
		t.Fatal(got, err)
	}
	if _, err := Resolve(filepath.Join(d, "nope")); err == nil {
		t.Fatal("missing folder resolved")
	}
}

func FuzzCheckSafetensors(f *testing.F) {
	f.Add(makeSafetensors(4))
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}'})
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 255})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "m.safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Skip()
		}
		checkSafetensors(p) // must not panic or allocate wildly
	})
}
